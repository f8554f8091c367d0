"""The ``remu`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from remu._cli import main

BINNING = """!RectilinearBinning
variables: [x, y]
bin_edges:
- [0, 1, 2]
- [0, 5, 10]
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "b.yml").write_text(BINNING)
    (tmp_path / "ev.csv").write_text("x,y,w\n0.5,1,2\n1.5,7,1\n1.5,8,0.5\n3,1,1\n")
    return tmp_path


def test_info_binning_json(files, capsys):
    assert main(["info", "--json", str(files / "b.yml")]) == 0
    info = json.loads(capsys.readouterr().out)[str(files / "b.yml")]
    assert info["type"] == "RectilinearBinning"
    assert info["data_size"] == 4
    assert info["bins_shape"] == [2, 2]
    assert info["variables"] == ["x", "y"]


def test_fill_writes_npz(files, capsys):
    out = files / "h.npz"
    assert (
        main(
            [
                "fill",
                str(files / "b.yml"),
                str(files / "ev.csv"),
                "-o",
                str(out),
                "--weightfield",
                "w",
            ]
        )
        == 0
    )
    with np.load(out) as h:
        np.testing.assert_allclose(h["values"], [2.0, 0.0, 0.0, 1.5])
        np.testing.assert_array_equal(h["entries"], [1, 0, 0, 2])
        np.testing.assert_allclose(h["sumw2"], [4.0, 0.0, 0.0, 1.25])
    assert "filled 3 entries" in capsys.readouterr().out


def test_fill_with_rename_and_csv_output(files):
    (files / "ev2.csv").write_text("a,y\n0.5,6\n")
    out = files / "h.csv"
    assert (
        main(
            [
                "fill",
                str(files / "b.yml"),
                str(files / "ev2.csv"),
                "-o",
                str(out),
                "--rename",
                "a=x",
            ]
        )
        == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "data_index,value,entries,sumw2"
    assert lines[2].startswith("1,1.0,1,")


def test_missing_column_is_a_clear_error(files, capsys):
    (files / "bad.csv").write_text("x,z\n0.5,1\n")
    status = main(
        ["fill", str(files / "b.yml"), str(files / "bad.csv"), "-o", str(files / "o.npz")]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "'y'" in err
    assert not (files / "o.npz").exists()


def test_bad_rename_is_rejected(files, capsys):
    status = main(
        [
            "fill",
            str(files / "b.yml"),
            str(files / "ev.csv"),
            "-o",
            str(files / "o.npz"),
            "--rename",
            "novalue",
        ]
    )
    assert status == 2
    assert "OLD=NEW" in capsys.readouterr().err


def test_info_missing_file(files, capsys):
    assert main(["info", str(files / "nope.yml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_info_reference_response_matrix(shared_data, capsys):
    path = shared_data / "upstream-examples" / "01" / "response_matrix.npz"
    assert main(["info", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)[str(path)]
    assert info["variations"] >= 1
    assert info["reco_bins"] > 0
    low, high = info["mean_efficiency_range"]
    assert 0.0 <= low <= high <= 1.0


def test_python_dash_m_entry_point(files):
    out = subprocess.run(
        [sys.executable, "-m", "remu", "info", str(files / "b.yml")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "data_size: 4" in out.stdout
