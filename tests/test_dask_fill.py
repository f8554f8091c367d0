"""Filling binnings and response matrices from Dask collections on a real LocalCluster.

The events are written as real Parquet files (pandas + pyarrow) and read back with
``dask.dataframe.read_parquet``; every Dask fill is compared with an in-memory fill
of the same events: entries exactly, values and sums of squared weights to rounding.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask.delayed import Delayed
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from dask_cluster import local_client
from numeric_asserts import assert_allclose
from remu import binning, migration
from remu.errors import InvalidEventError, MissingVariableError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    with local_client() as c:
        yield c


def events_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    true_x = rng.uniform(-0.5, 10.5, n)
    reco_x = true_x + rng.normal(0.0, 0.5, n)
    reco_x[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "true_x": true_x,
            "reco_x": reco_x,
            "y": rng.uniform(0.0, 1.1, n),
            "kind": rng.integers(0, 3, n).astype(float),
            "w": rng.uniform(0.5, 1.5, n),
        }
    )


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory) -> Path:
    """Five Parquet files of 4000 events each (one of them without any event in range)."""
    folder = tmp_path_factory.mktemp("parquet")
    for k in range(5):
        frame = events_frame(4000, seed=k)
        if k == 3:
            frame["true_x"] += 100.0  # a partition with no event inside the binnings
            frame["reco_x"] += 100.0
        frame.to_parquet(folder / f"part-{k}.parquet", engine="pyarrow", index=False)
    return folder


def in_memory(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def grid():
    return binning.RectilinearBinning(
        ["true_x", "y"], [np.linspace(0.0, 10.0, 21), [0.0, 0.25, 0.5, 1.0]]
    )


def nested():
    return binning.LinearBinning(
        "kind",
        [-0.5, 0.5, 1.5, 2.5],
        subbinnings={
            0: binning.LinearBinning("true_x", np.linspace(0, 10, 6)),
            1: binning.RectilinearBinning(["true_x", "y"], [[0, 5, 10], [0, 0.5, 1]]),
        },
    )


def assert_same_fill(a, b):
    assert_array_equal(a.get_entries_as_ndarray(), b.get_entries_as_ndarray())
    assert_allclose(a.get_values_as_ndarray(), b.get_values_as_ndarray(), rtol=1e-12, atol=1e-12)
    assert_allclose(a.get_sumw2_as_ndarray(), b.get_sumw2_as_ndarray(), rtol=1e-12, atol=1e-12)


def response_matrix():
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, 11))
    truth = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 6))
    return migration.ResponseMatrix(reco, truth, nuisance_indices=[0])


def assert_same_matrix(a, b):
    for name in ("truth", "reco", "response"):
        assert_same_fill(getattr(a, f"{name}_binning"), getattr(b, f"{name}_binning"))
    assert_array_equal(a.filled_truth_indices, b.filled_truth_indices)


# --------------------------------------------------------------------------- the extra
def test_dask_extra_makes_dataframe_and_distributed_importable():
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r"^dask = \[(.*)\]$", text, re.MULTILINE)  # tomllib needs Python 3.11
    assert match, "pyproject.toml declares no dask extra"
    dask_extra = match.group(1)
    assert "dask[" in dask_extra
    assert "dataframe" in dask_extra
    assert "distributed" in dask_extra
    # pyarrow comes with dask[dataframe]; dask.dataframe does not import without it
    import distributed
    import pyarrow

    assert dd.DataFrame is not None
    assert distributed.Client is not None
    assert pyarrow.__version__


def test_in_memory_fill_does_not_import_dask():
    code = (
        "import sys, numpy as np\n"
        "from remu import binning, migration\n"
        "b = binning.LinearBinning('x', [0, 1, 2]); b.fill({'x': np.array([0.5, 1.5])})\n"
        "r = migration.ResponseMatrix(b.clone(), b.clone()); r.fill({'x': [0.5]})\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
        "print(b.get_entries_as_ndarray().tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1, 1]"


# --------------------------------------------------------------------------- DataFrames
@pytest.mark.parametrize("make", [grid, nested], ids=["rectilinear", "subbinnings"])
@pytest.mark.usefixtures("client")
def test_parquet_dataframe_fill_equals_in_memory(parquet_dir, make):
    ddf = dd.read_parquet(str(parquet_dir))
    assert ddf.npartitions == 5
    ours, expected = make(), make()
    ours.fill(ddf, weight=ddf["w"])
    frame = in_memory(parquet_dir)
    expected.fill(frame, weight=frame["w"])
    assert_same_fill(ours, expected)
    assert ours.get_entries_as_ndarray().sum() > 10000


@pytest.mark.usefixtures("client")
def test_dataframe_fill_scalar_weight_rename_and_cut(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir)).rename(columns={"true_x": "tx"})
    cut = ddf[ddf["y"] < 0.5]  # a cut is a selection of the frame, as in memory
    ours, expected = grid(), grid()
    ours.fill(cut, weight=2.5, rename={"tx": "true_x"})
    frame = in_memory(parquet_dir).rename(columns={"true_x": "tx"})
    expected.fill(frame[frame["y"] < 0.5], weight=2.5, rename={"tx": "true_x"})
    assert_same_fill(ours, expected)
    # the old name is gone after renaming, as for an in-memory DataFrame
    with pytest.raises(MissingVariableError, match="no column 'x'"):
        grid().fill(ddf, rename={"x": "true_x"})
    with pytest.raises(MissingVariableError, match="'y' is renamed to 'other'"):
        grid().fill(ddf, rename={"tx": "true_x", "y": "other"})


@pytest.mark.usefixtures("client")
def test_empty_partitions_and_empty_frame(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir))
    none = ddf[ddf["true_x"] > 1e9]
    b = grid()
    b.fill(none, weight=none["w"])
    assert b.get_entries_as_ndarray().sum() == 0
    some = ddf[ddf["true_x"] > 9.0]  # most partitions keep a few events, one none
    ours, expected = grid(), grid()
    ours.fill(some, weight=some["w"] * 2.0)
    frame = in_memory(parquet_dir)
    frame = frame[frame["true_x"] > 9.0]
    expected.fill(frame, weight=frame["w"] * 2.0)
    assert_same_fill(ours, expected)


@pytest.mark.usefixtures("client")
def test_dataframe_errors_name_the_problem_and_fill_nothing(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir))
    b = grid()
    with pytest.raises(MissingVariableError, match=r"no column 'y'.*columns: true_x"):
        b.fill(ddf[["true_x", "w"]])
    with pytest.raises(TypeError, match="Dask collection aligned with the events"):
        b.fill(ddf, weight=np.ones(20000))
    with pytest.raises(ValueError, match="not part of binning"):
        b.fill(ddf, raise_error=True)
    assert b.get_entries_as_ndarray().sum() == 0  # atomic: nothing was added
    bad = ddf.assign(w=ddf["w"].where(ddf["true_x"] < 10.2))  # NaN weights in places
    with pytest.raises(ValueError, match=r"partition \d+: weight of event \d+ is NaN"):
        b.fill(bad, weight=bad["w"])
    assert b.get_entries_as_ndarray().sum() == 0
    with pytest.raises(InvalidEventError, match="Series"):
        b.fill(ddf["true_x"])
    with pytest.raises(TypeError, match="events are a DataFrame"):
        b.fill(in_memory(parquet_dir), weight=ddf["w"])


@pytest.mark.usefixtures("client")
def test_dummy_binning_is_not_filled(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir))
    with pytest.raises(TypeError, match="dummy"):
        grid().clone(dummy=True).fill(ddf)


# --------------------------------------------------------------------------- response matrix
@pytest.mark.usefixtures("client")
def test_response_matrix_fill_and_fill_up_truth(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir))
    ours, expected = response_matrix(), response_matrix()
    ours.fill(ddf, weight=ddf["w"])
    frame = in_memory(parquet_dir)
    expected.fill(frame, weight=frame["w"])
    assert_same_matrix(ours, expected)
    # a fuller truth sample (generated events stored apart), from Dask as well
    generated = pd.concat([frame, events_frame(3000, seed=99)], ignore_index=True)
    generated["reco_x"] = np.nan
    gen_ddf = dd.from_pandas(generated, npartitions=3)
    ours.fill_up_truth(gen_ddf, weight=gen_ddf["w"])
    expected.fill_up_truth(generated, weight=generated["w"])
    assert_same_matrix(ours, expected)


@pytest.mark.usefixtures("client")
def test_response_matrix_missing_reco_column_fills_nothing(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir), columns=["true_x", "w"])
    matrix = response_matrix()
    with pytest.raises(MissingVariableError, match="'reco_x'"):
        matrix.fill(ddf)
    assert matrix.get_truth_entries_as_ndarray().sum() == 0


@pytest.mark.usefixtures("client")
def test_response_matrix_raise_error_is_atomic_with_dask():
    frame = pd.DataFrame({"true_x": [1.0, 2.0], "reco_x": [1.0, 55.0]})
    matrix = response_matrix()
    with pytest.raises(ValueError, match="not part of binning"):
        matrix.fill(dd.from_pandas(frame, npartitions=2), raise_error=True)
    assert matrix.get_truth_entries_as_ndarray().sum() == 0


@pytest.mark.usefixtures("client")
def test_lazy_fills_compute_together(parquet_dir):
    ddf = dd.read_parquet(str(parquet_dir))
    b = grid()
    b.fill({"true_x": np.array([1.0]), "y": np.array([0.1])})
    lazy_b = b.fill(ddf, weight=ddf["w"], compute=False)
    matrix = response_matrix()
    lazy_m = matrix.fill(ddf, weight=ddf["w"], compute=False)
    assert isinstance(lazy_b, Delayed)
    assert b.get_entries_as_ndarray().sum() == 1  # nothing filled yet
    filled_b, filled_m = dask.compute(lazy_b, lazy_m)
    assert type(filled_b) is type(b)
    assert filled_b == b
    assert filled_m.nuisance_indices == [0]
    frame = in_memory(parquet_dir)
    expected_b, expected_m = grid(), response_matrix()
    expected_b.fill(frame, weight=frame["w"])
    expected_m.fill(frame, weight=frame["w"])
    assert_same_fill(filled_b, expected_b)
    assert_same_matrix(filled_m, expected_m)
    total = b + filled_b
    assert total.get_entries_as_ndarray().sum() == expected_b.get_entries_as_ndarray().sum() + 1
    with pytest.raises(TypeError, match="compute=False needs a Dask collection"):
        grid().fill(frame, compute=False)
    with pytest.raises(TypeError, match="compute=False is not supported"):
        matrix.fill_up_truth(ddf, compute=False)
    with pytest.raises(TypeError, match="compute=False is not supported"):
        matrix.fill_up_truth_from_root("any.root:events", compute=False)


# --------------------------------------------------------------------------- dask arrays
@pytest.mark.usefixtures("client")
def test_dict_of_dask_arrays():
    frame = events_frame(30000, seed=7)
    x = da.from_array(frame["true_x"].to_numpy(), chunks=7000)
    y = da.from_array(frame["y"].to_numpy(), chunks=11000)  # other chunks: rechunked
    w = frame["w"].to_numpy()  # an in-memory weight array is split like the events
    ours, expected = grid(), grid()
    ours.fill({"true_x": x, "y": y, "unused": "text"}, weight=w)
    expected.fill({"true_x": frame["true_x"].to_numpy(), "y": frame["y"].to_numpy()}, weight=w)
    assert_same_fill(ours, expected)
    # a scalar variable is the same for every event; dask weights work too
    ours, expected = grid(), grid()
    ours.fill({"true_x": x, "y": 0.3}, weight=da.from_array(w, chunks=5000))
    expected.fill({"true_x": frame["true_x"].to_numpy(), "y": 0.3}, weight=w)
    assert_same_fill(ours, expected)


@pytest.mark.usefixtures("client")
def test_dict_of_dask_arrays_errors():
    x = da.from_array(np.linspace(0, 10, 100), chunks=30)
    with pytest.raises(MissingVariableError, match="no variable 'y'"):
        grid().fill({"true_x": x})
    with pytest.raises(ValueError, match="different lengths"):
        grid().fill({"true_x": x, "y": da.zeros(99, chunks=30)})
    with pytest.raises(ValueError, match="must be a 1-D"):
        grid().fill({"true_x": da.zeros((10, 10), chunks=5), "y": 0.1})
    with pytest.raises(TypeError, match="events are in memory"):
        grid().fill({"true_x": [1.0], "y": [0.1]}, weight=da.ones(1, chunks=1))


@pytest.mark.usefixtures("client")
def test_unknown_chunk_sizes_from_a_cut():
    values = np.random.default_rng(3).uniform(-2, 12, 5000)
    x = da.from_array(values, chunks=1000)
    keep = x > 3.0
    ours, expected = grid(), grid()
    ours.fill({"true_x": x[keep], "y": 0.3})
    expected.fill({"true_x": values[values > 3.0], "y": 0.3})
    assert_same_fill(ours, expected)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 400),
    st.integers(1, 150),
    st.sampled_from(["scalar", "array"]),
    st.integers(0, 2**32 - 1),
)
@pytest.mark.usefixtures("client")
def test_dask_fill_equals_in_memory_random(n, chunk, weight_kind, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 11.0, n)
    y = rng.uniform(-0.1, 1.1, n)
    w = rng.normal(1.0, 1.0, n) if weight_kind == "array" else 0.7
    chunks = max(1, chunk)
    ours, expected = nested(), nested()
    kind = rng.integers(0, 3, n).astype(float)
    ours.fill(
        {
            "true_x": da.from_array(x, chunks=chunks),
            "y": da.from_array(y, chunks=chunks),
            "kind": da.from_array(kind, chunks=chunks),
        },
        weight=w,
    )
    expected.fill({"true_x": x, "y": y, "kind": kind}, weight=w)
    assert_same_fill(ours, expected)


# --------------------------------------------------------------------------- awkward
@pytest.mark.usefixtures("client")
def test_awkward_and_dask_awkward_fill():
    import awkward as ak
    import dask_awkward as dak

    frame = events_frame(5000, seed=11)
    records = ak.Array({"true_x": frame["true_x"].to_numpy(), "y": frame["y"].to_numpy()})
    direct, lazy, expected = grid(), grid(), grid()
    direct.fill(records, weight=0.5)
    lazy.fill(dak.from_awkward(records, npartitions=4), weight=0.5)
    expected.fill(frame, weight=0.5)
    assert_same_fill(direct, expected)
    assert_same_fill(lazy, expected)
