"""Progress bars (real tqdm) and log messages of fills and toy response matrices.

Bars are written to a ``io.StringIO`` given as tqdm's ``file``; without
``progress`` nothing is written anywhere. Log messages are checked with
``caplog``, the default silence of the ``remu`` loggers with ``capsys``. The Dask
fills run on a real two-process LocalCluster and on Dask's local scheduler.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import sys
import warnings
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import uproot
from numpy.testing import assert_array_equal

from dask_cluster import local_client
from numeric_asserts import assert_allclose
from remu import binning, migration
from remu._binning.fill import FillPlan
from remu._formats import csv_events
from remu._sources.parquet import fill_from_parquet


@pytest.fixture(scope="module")
def client():
    with local_client() as c:
        yield c


def bar_file() -> io.StringIO:
    return io.StringIO()


def bar(out: io.StringIO) -> dict:
    """tqdm options: write to ``out``, redraw on every update."""
    return {"file": out, "mininterval": 0, "miniters": 1}


def last_count(text: str) -> tuple[int, int]:
    """The ``n/total`` of the last state a tqdm bar drew."""
    counts = re.findall(r"(\d+)/(\d+)", text)
    assert counts, f"no tqdm bar in {text!r}"
    n, total = counts[-1]
    return int(n), int(total)


def response_matrix() -> migration.ResponseMatrix:
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, 11))
    truth = binning.LinearBinning("true_x", np.linspace(-1.0, 11.0, 7))
    return migration.ResponseMatrix(reco, truth)


def events(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_x = rng.uniform(-0.5, 10.5, n)
    reco_x = true_x + rng.normal(0.0, 0.5, n)
    return {"true_x": true_x, "reco_x": reco_x, "w": rng.uniform(0.5, 1.5, n)}


def filled_matrix() -> migration.ResponseMatrix:
    r = response_matrix()
    r.fill(events(2000, 1))
    return r


def write_csv(path: Path, data: dict[str, np.ndarray]) -> Path:
    pd.DataFrame(data).to_csv(path, index=False, na_rep="nan")
    return path


def write_tree(path: Path, data: dict[str, np.ndarray]) -> Path:
    with uproot.recreate(path) as f:
        tree = f.mktree("events", {k: v.dtype for k, v in data.items()})
        if len(next(iter(data.values()))):
            tree.extend(data)
    return path


# ------------------------------------------------------------------ toy response matrices
def test_toy_matrices_progress_counts_every_toy_and_changes_no_draw(capsys, monkeypatch):
    from remu._migration import posterior

    r = filled_matrix()
    # small batches, so that the bar advances several times
    monkeypatch.setattr(posterior, "_BATCH_ELEMENTS", 60 * 100)
    plain = r.generate_random_response_matrices(500, rng=7)
    out = bar_file()
    shown = r.generate_random_response_matrices(500, rng=7, progress=bar(out))
    assert_array_equal(shown, plain)
    text = out.getvalue()
    assert "toy matrices" in text
    assert last_count(text) == (500, 500)
    # 60 elements per toy, 100 toys per batch: five updates after the empty bar
    assert len(re.findall(r"\d+/500", text)) >= 5
    assert capsys.readouterr() == ("", "")


def test_toy_matrices_without_progress_write_nothing(capsys):
    r = filled_matrix()
    r.generate_random_response_matrices((3, 4), rng=1, progress=False)
    r.generate_random_response_matrices(5, rng=1)
    assert capsys.readouterr() == ("", "")


def test_builder_and_export_pass_progress_on(tmp_path):
    r = filled_matrix()
    out = bar_file()
    builder = migration.ResponseMatrixArrayBuilder(40)
    builder.add_matrix(r, rng=3, progress=bar(out))
    assert last_count(out.getvalue()) == (40, 40)
    plain = migration.ResponseMatrixArrayBuilder(40)
    plain.add_matrix(r, rng=3)
    assert_array_equal(
        builder.get_random_response_matrices_as_ndarray()[0],
        plain.get_random_response_matrices_as_ndarray()[0],
    )
    out = bar_file()
    r.export(tmp_path / "m.npz", nstat=25, rng=2, progress=bar(out))
    assert last_count(out.getvalue()) == (25, 25)
    with np.load(tmp_path / "m.npz") as f:
        assert f["matrices"].shape[0] == 25


def test_mahalanobis_distance_progress_over_truth_bins_changes_no_number(capsys, monkeypatch):
    from matplotlib import pyplot as plt

    from remu import matrix_utils
    from remu._migration import quality

    first, second = filled_matrix(), filled_matrix()
    # one truth bin per block, so that the bar advances once per truth bin
    monkeypatch.setattr(quality, "_BATCH_ELEMENTS", 1)
    plain = matrix_utils.mahalanobis_distance(first, second, N=50, rng=4)
    out = bar_file()
    shown = matrix_utils.mahalanobis_distance(first, second, N=50, rng=4, progress=bar(out))
    assert_array_equal(shown, plain)
    text = out.getvalue()
    assert "truth bins" in text
    assert last_count(text) == (6, 6)
    assert len(re.findall(r"\d+/6", text)) >= 6
    assert capsys.readouterr() == ("", "")
    # the plot passes it on to the distance, not to matplotlib
    out = bar_file()
    fig, _ = matrix_utils.plot_mahalanobis_distance(first, second, rng=4, progress=bar(out))
    plt.close(fig)
    assert last_count(out.getvalue()) == (6, 6)


def test_toy_matrices_are_logged(caplog):
    r = filled_matrix()
    with caplog.at_level(logging.INFO, logger="remu"):
        r.generate_random_response_matrices(12, rng=1)
    (record,) = [rec for rec in caplog.records if rec.name == "remu.migration"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "drew 12 toy response matrices of 10 reco x 6 truth bins"


# ----------------------------------------------------------------------------- CSV
def test_csv_progress_by_file_and_kwargs_reach_fill(tmp_path):
    files = [str(write_csv(tmp_path / f"e{k}.csv", events(300, k))) for k in range(3)]
    out = bar_file()
    r = response_matrix()
    r.fill_from_csv_file(files, weightfield="w", progress=bar(out), raise_error=False)
    assert "reading CSV" in out.getvalue()
    assert last_count(out.getvalue()) == (3, 3)
    plain = response_matrix()
    plain.fill_from_csv_file(files, weightfield="w")
    assert_array_equal(r.get_response_values_as_ndarray(), plain.get_response_values_as_ndarray())
    # the keyword is taken out before the others go to fill(), also through fill_up_truth
    response_matrix().fill_up_truth_from_csv_file(files[0], progress=False)
    lb = binning.LinearBinning("true_x", [0.0, 5.0, 10.0])
    out = bar_file()
    lb.fill_from_csv_file(files[1], progress=bar(out))
    assert last_count(out.getvalue()) == (1, 1)


def test_csv_fill_logs_events_outside_and_warns_when_none_landed(tmp_path, caplog):
    path = write_csv(tmp_path / "e.csv", {"x": np.array([0.5, 1.5, 7.0, np.nan])})
    far = write_csv(tmp_path / "far.csv", {"x": np.array([5.0, 6.0])})
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0])
    with caplog.at_level(logging.INFO, logger="remu"):
        lb.fill_from_csv_file(str(path))
        lb.fill_from_csv_file(str(far))
    info, warning = caplog.records
    assert (info.name, info.levelno) == ("remu.binning", logging.INFO)
    assert info.getMessage() == f"CSV file {path}: filled 4 events (2 outside the binning)"
    assert warning.levelno == logging.WARNING
    assert f"none of the 2 events of CSV file {far} landed in the binning" in (warning.getMessage())


def test_response_matrix_csv_fill_names_its_histograms(tmp_path, caplog):
    data = {"true_x": np.array([0.5, 20.0]), "reco_x": np.array([np.nan, 1.0])}
    path = write_csv(tmp_path / "e.csv", data)
    r = response_matrix()
    with caplog.at_level(logging.INFO, logger="remu.migration"):
        r.fill_from_csv_file(str(path))
    (record,) = caplog.records
    assert record.name == "remu.migration"
    assert record.levelno == logging.WARNING  # no event inside both: the response is empty
    assert "landed in the response binning" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="remu.migration"):
        r.fill_from_csv_file(str(write_csv(tmp_path / "f.csv", events(50, 3))))
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert "outside the truth binning" in record.getMessage()
    assert "outside the reco binning" in record.getMessage()


def test_pandas_missing_for_a_large_csv_file_is_logged(tmp_path, caplog, monkeypatch):
    path = write_csv(tmp_path / "big.csv", {"x": np.linspace(0.0, 1.0, 20)})
    monkeypatch.setattr(csv_events, "_pandas_module", None)
    monkeypatch.setattr(csv_events, "PANDAS_MIN_BYTES", 10)
    # as if pandas were not installed (the module object itself stays untouched)
    monkeypatch.delitem(sys.modules, "pandas", raising=False)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        csv_events.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pandas" else real_find_spec(name, *a),
    )
    with caplog.at_level(logging.INFO, logger="remu.binning"):
        data = csv_events.read_csv_file(path)
    assert len(data) == 20
    (record,) = caplog.records
    assert "pandas is not installed" in record.getMessage()
    assert "remu[pandas]" in record.getMessage()


def test_file_pandas_cannot_take_is_logged(tmp_path, caplog, monkeypatch):
    path = tmp_path / "tabs.csv"
    path.write_text("x,y\n1,\t2\n3,4\n")
    monkeypatch.setattr(csv_events, "READER", "pandas")
    with caplog.at_level(logging.INFO, logger="remu.binning"):
        data = csv_events.read_csv_file(path)
    assert_array_equal(data["y"], [2.0, 4.0])
    (record,) = caplog.records
    assert str(path) in record.getMessage()
    assert "NumPy's slower reader" in record.getMessage()


# ------------------------------------------------------------------------ in memory
def test_in_memory_fill_logs_only_at_debug(caplog):
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0])
    with caplog.at_level(logging.INFO, logger="remu"):
        lb.fill({"x": np.array([5.0, 6.0])})  # none inside: no warning for in-memory fills
        lb.fill({"x": 0.5})
    assert caplog.records == []
    with caplog.at_level(logging.DEBUG, logger="remu"):
        lb.fill({"x": np.array([0.5, 5.0, np.nan])})
        response_matrix().fill(events(10, 1) | {"reco_x": np.full(10, np.nan)})
    first, second = caplog.records
    assert first.levelno == logging.DEBUG
    assert first.getMessage() == "fill: filled 3 events (2 outside the binning)"
    assert second.name == "remu.migration"
    assert "10 outside the reco binning" in second.getMessage()


def test_uneven_edges_fall_back_to_binary_search_and_say_so(caplog):
    edges = np.concatenate([np.linspace(0.0, 1.0, 50), [1e9]])
    lb = binning.LinearBinning("x", edges)
    x = np.random.default_rng(1).uniform(0.0, 2.0, 1000)
    with caplog.at_level(logging.INFO, logger="remu.binning"):
        lb.fill({"x": x})
        lb.fill({"x": x})  # the decision is cached: said once
    (record,) = caplog.records
    assert "too uneven for the look-up table" in record.getMessage()
    assert "np.searchsorted" in record.getMessage()
    assert lb.get_entries_as_ndarray().sum() == 2000


def test_remu_is_silent_by_default(tmp_path, capsys):
    # Without logging configured, no warning reaches stderr (Python's last-resort
    # handler would print it if remu had no handler of its own).
    far = write_csv(tmp_path / "far.csv", {"x": np.array([5.0, 6.0])})
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0])
    lb.fill_from_csv_file(str(far))
    lb.fill_from_root(str(write_tree(tmp_path / "far.root", {"x": np.array([9.0])})) + ":events")
    assert capsys.readouterr() == ("", "")


# ------------------------------------------------------------------------------ ROOT
@pytest.fixture(scope="module")
def root_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("root")
    write_tree(folder / "a.root", events(3000, 1))
    write_tree(folder / "b.root", {k: v[:0] for k, v in events(1, 2).items()})
    write_tree(folder / "c.root", events(2000, 3))
    return folder


def test_root_progress_by_entries(root_folder):
    out = bar_file()
    lb = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    lb.fill_from_root(str(root_folder / "*.root") + ":events", step_size=700, progress=bar(out))
    text = out.getvalue()
    assert "reading ROOT" in text
    assert last_count(text) == (5000, 5000)
    assert len(re.findall(r"\d+/5000", text)) >= 8  # one update per chunk of 700
    assert lb.get_entries_as_ndarray().sum() > 0


def test_response_matrix_root_progress(root_folder):
    out = bar_file()
    r = response_matrix()
    r.fill_from_root(str(root_folder / "a.root") + ":events", weightfield="w", progress=bar(out))
    assert last_count(out.getvalue()) == (3000, 3000)
    plain = response_matrix()
    plain.fill_from_root(str(root_folder / "a.root") + ":events", weightfield="w")
    assert_array_equal(r.get_response_values_as_ndarray(), plain.get_response_values_as_ndarray())


def test_root_logs_empty_trees_and_events_outside(root_folder, caplog):
    lb = binning.LinearBinning("true_x", [0.0, 5.0])
    with caplog.at_level(logging.INFO, logger="remu"):
        lb.fill_from_root(str(root_folder / "*.root") + ":events")
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.endswith("b.root:events: the tree has no entries") and m.startswith("skipped ")
        for m in messages
    ), messages
    inside = int(lb.get_entries_as_ndarray().sum())
    assert messages[-1].endswith(f"filled 5000 events ({5000 - inside} outside the binning)")


def test_root_warns_when_no_entry_landed(root_folder, caplog):
    lb = binning.LinearBinning("true_x", [100.0, 200.0])
    with caplog.at_level(logging.WARNING, logger="remu"):
        lb.fill_from_root(str(root_folder / "c.root") + ":events", raise_error=False)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "none of the 2000 events of ROOT files" in record.getMessage()


def test_root_wildcard_matching_nothing_is_an_error(tmp_path):
    lb = binning.LinearBinning("x", [0.0, 1.0])
    with pytest.raises(FileNotFoundError, match="nothing"):
        lb.fill_from_root(str(tmp_path / "nothing*.root") + ":events")


@pytest.mark.usefixtures("client")
def test_root_dask_progress_by_partition(root_folder):
    out = bar_file()
    lb = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    lb.fill_from_root(
        str(root_folder / "*.root") + ":events", step_size=1000, dask=True, progress=bar(out)
    )
    plain = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    plain.fill_from_root(str(root_folder / "*.root") + ":events")
    assert_array_equal(lb.get_entries_as_ndarray(), plain.get_entries_as_ndarray())
    n, total = last_count(out.getvalue())
    assert n == total >= 5  # 3 + 2 chunks of 1000 (the empty tree may add one)


# ------------------------------------------------------------------------------ Dask
@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    data = events(4000, 5)
    data["true_x"][:500] = 50.0  # one partition entirely outside the truth binning
    return pd.DataFrame(data)


@pytest.mark.usefixtures("client")
def test_dask_fill_progress_on_the_cluster(frame):
    ddf = dd.from_pandas(frame, npartitions=8)
    out = bar_file()
    r = response_matrix()
    r.fill(ddf, weight=ddf["w"], progress=bar(out))
    text = out.getvalue()
    assert "filling" in text
    assert last_count(text) == (8, 8)
    plain = response_matrix()
    plain.fill(frame, weight=frame["w"].to_numpy())
    assert_array_equal(r.get_response_entries_as_ndarray(), plain.get_response_entries_as_ndarray())
    assert_allclose(
        r.get_response_values_as_ndarray(), plain.get_response_values_as_ndarray(), rtol=1e-12
    )


def test_dask_fill_progress_on_the_local_scheduler(frame):
    ddf = dd.from_pandas(frame, npartitions=5)
    out = bar_file()
    lb = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    with warnings.catch_warnings(), dask.config.set(scheduler="threads"):
        # the module's LocalCluster client may be active: distributed warns that
        # this computation bypasses it, which is the point here
        warnings.filterwarnings("ignore", "Running on a single-machine scheduler")
        lb.fill(ddf, progress=bar(out))
    assert last_count(out.getvalue()) == (5, 5)
    plain = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    plain.fill(frame)
    assert_array_equal(lb.get_entries_as_ndarray(), plain.get_entries_as_ndarray())


@pytest.mark.usefixtures("client")
def test_dask_fill_without_progress_writes_nothing_and_logs(frame, capsys, caplog):
    ddf = dd.from_pandas(frame, npartitions=4)
    lb = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    with caplog.at_level(logging.INFO, logger="remu"):
        lb.fill(ddf)
    assert capsys.readouterr() == ("", "")
    (record,) = caplog.records
    outside = 4000 - int(lb.get_entries_as_ndarray().sum())
    assert record.getMessage() == (
        f"Dask DataFrame (4 partitions): filled 4000 events ({outside} outside the binning)"
    )
    far = binning.LinearBinning("true_x", [100.0, 200.0])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="remu"):
        far.fill(ddf)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "none of the 4000 events" in record.getMessage()


@pytest.mark.usefixtures("client")
def test_fill_up_truth_takes_progress_out(frame):
    ddf = dd.from_pandas(frame, npartitions=3)
    r = response_matrix()
    out = bar_file()
    r.fill_up_truth(ddf, progress=bar(out))
    assert last_count(out.getvalue()) == (3, 3)


# --------------------------------------------------------------------------- Parquet
@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory, frame) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    frame.iloc[:1500].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[:0].to_parquet(folder / "part-1.parquet", index=False)
    frame.iloc[1500:].to_parquet(folder / "part-2.parquet", index=False)
    return folder


@pytest.mark.parametrize("use_dask", [False, True], ids=["in process", "dask"])
@pytest.mark.usefixtures("client")
def test_parquet_fill_progress_logging_and_result(frame, parquet_folder, caplog, use_dask):
    lb = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    out = bar_file()
    with caplog.at_level(logging.INFO, logger="remu"):
        fill_from_parquet(
            FillPlan(lb),
            parquet_folder,
            weightfield="w",
            weight=2.0,
            dask=use_dask,
            progress=bar(out),
            batch_rows=400,
        )
    assert last_count(out.getvalue()) == (3, 3)  # files, or Dask partitions (one per file)
    plain = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    plain.fill(frame, weight=frame["w"].to_numpy() * 2.0)
    assert_array_equal(lb.get_entries_as_ndarray(), plain.get_entries_as_ndarray())
    if use_dask:
        assert_allclose(lb.get_values_as_ndarray(), plain.get_values_as_ndarray(), rtol=1e-12)
    else:  # in order, batch after batch: bit for bit
        assert_array_equal(lb.get_values_as_ndarray(), plain.get_values_as_ndarray())
        assert_array_equal(lb.get_sumw2_as_ndarray(), plain.get_sumw2_as_ndarray())
    messages = [r.getMessage() for r in caplog.records]
    assert f"skipped {parquet_folder / 'part-1.parquet'}: the Parquet file has no rows" in messages
    assert messages[-1].startswith(f"Parquet {parquet_folder}: filled 4000 events")
