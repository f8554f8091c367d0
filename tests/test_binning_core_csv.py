"""Filling from CSV files (``fill_from_csv_file``)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib import recfunctions
from numpy.testing import assert_array_equal

from remu import binning as bn
from remu._formats.csv_events import read_csv_file


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "file.csv"
    path.write_text("x, y ,w\n0.5,10,2\n 1.5 , 10 ,1\n")
    return path


def test_weights_and_lists_of_files(csv_file):
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill_from_csv_file(str(csv_file), weightfield="w", weight=0.5)
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 0.5])
    lb.reset()
    lb.fill_from_csv_file([str(csv_file), str(csv_file)], weight=[1.0, 10.0])
    assert_array_equal(lb.get_values_as_ndarray(), [11.0, 11.0])
    lb.reset()
    lb.fill_from_csv_file([str(csv_file), str(csv_file)], weight=[1.0])
    # as in ReMU, files past the end of the weight list are skipped (zip stops there)
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])


def test_chunking_does_not_matter(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.uniform(0, 2, (1000, 2))
    path = tmp_path / "many.csv"
    path.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in data))
    for chunk in (1, 7, 10000):
        arr = read_csv_file(path, chunksize=chunk)
        assert arr.dtype.names == ("x", "y")
        assert_array_equal(arr["x"], data[:, 0])
        assert_array_equal(arr["y"], data[:, 1])


def test_rename_cut_and_multiple(csv_file):
    a = bn.LinearBinning("a", [0, 1, 2])
    y = bn.LinearBinning("y", [0, 20])

    def cut(data):
        data = data[data["a"] > 1]
        return recfunctions.append_fields(data, "double", data["a"] * 2, usemask=False)

    bn.Binning.fill_multiple_from_csv_file(
        [a, y], str(csv_file), weightfield="double", rename={"x": "a"}, cut_function=cut
    )
    assert_array_equal(a.get_values_as_ndarray(), [0.0, 3.0])
    assert_array_equal(y.get_values_as_ndarray(), [3.0])


def test_buffering(tmp_path):
    path = tmp_path / "buf.csv"
    path.write_text("x\n0.5\n")
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill_from_csv_file(str(path), buffer_csv_files=True)
    path.write_text("x\n1.5\n")
    lb.fill_from_csv_file(str(path), buffer_csv_files=True)  # the cached content
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 0])
    lb.fill_from_csv_file(str(path))  # no buffering: re-read
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 1])


def test_errors(tmp_path, csv_file):
    lb = bn.LinearBinning("x", [0, 1, 2])
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0.5,1\nabc,2\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 3: 'abc'"):
        lb.fill_from_csv_file(str(bad))
    blank = tmp_path / "blank.csv"
    blank.write_text("x\n0.5\n\n0.7\n")
    with pytest.raises(ValueError, match="line 3: empty line"):
        lb.fill_from_csv_file(str(blank))
    with pytest.raises(FileNotFoundError):
        lb.fill_from_csv_file(str(tmp_path / "nothere.csv"))
    with pytest.raises(KeyError, match="'q'"):
        lb.fill_from_csv_file(str(csv_file), weightfield="q")
    with pytest.raises(KeyError, match=r"file\.csv.*'z'"):
        bn.LinearBinning("z", [0, 1]).fill_from_csv_file(str(csv_file))
    with pytest.raises(ValueError, match="Event not part of binning"):
        bn.LinearBinning("x", [0, 1]).fill_from_csv_file(str(csv_file), raise_error=True)
    header_only = tmp_path / "header.csv"
    header_only.write_text("x\n")
    lb.fill_from_csv_file(str(header_only))
    assert lb.get_entries_as_ndarray().sum() == 0


def test_shared_test_data(shared_data):
    truth = bn.yaml.full_load(
        (shared_data / "upstream-testdata/test-truth-binning.yml").read_text()
    )
    truth.fill_from_csv_file(str(shared_data / "upstream-testdata/test-data.csv"), weightfield="w")
    data = read_csv_file(shared_data / "upstream-testdata/test-data.csv")
    assert truth.get_values_as_ndarray().sum() > 0
    inside = (data["x_truth"] >= 0) & (data["x_truth"] < 2) & (data["y_truth"] >= 0)
    inside &= data["y_truth"] < 2
    assert truth.get_values_as_ndarray().sum() == pytest.approx(data["w"][inside].sum())
