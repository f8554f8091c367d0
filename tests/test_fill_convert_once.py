"""The fast bin look-up along sorted edges, and ResponseMatrix.fill's single conversion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning, migration
from remu._binning.edge_lookup import bin_indices
from remu._binning.events import as_columns
from remu._migration.fill import ResponsePlan


def searchsorted_indices(edges, x, include_upper):
    k = np.searchsorted(edges, x, side="left" if include_upper else "right") - 1
    k[k >= len(edges) - 1] = -1
    return k


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def edges_and_values(draw):
    kind = draw(st.sampled_from(["uniform", "random", "infinite ends", "clustered"]))
    n = draw(st.integers(1, 80))
    if kind == "uniform":
        lo = draw(finite)
        width = draw(st.floats(1e-6, 1e3))
        edges = lo + width * np.arange(n + 1)
    elif kind == "clustered":
        base = np.sort(np.array(draw(st.lists(finite, min_size=2, max_size=n + 2))))
        edges = np.concatenate([base, base[-1] + 1e-9 * np.arange(1, 4)])
    else:
        edges = np.sort(np.array(draw(st.lists(finite, min_size=2, max_size=n + 2))))
        if kind == "infinite ends":
            edges = np.concatenate([[-np.inf], edges, [np.inf]])
    edges = np.unique(edges)
    if edges.size < 2:
        edges = np.array([0.0, 1.0])
    picks = np.array(draw(st.lists(st.integers(0, edges.size - 1), min_size=1, max_size=50)))
    at = edges[picks]
    with np.errstate(all="ignore"):
        near = np.concatenate([np.nextafter(at, np.inf), np.nextafter(at, -np.inf)])
    others = np.array(draw(st.lists(finite, max_size=300)))
    special = np.array([np.nan, np.inf, -np.inf, 1e308, -1e308, 0.0])
    # the fast path starts at 256 values: repeat to reach it
    base = np.concatenate([at, near, others, special])
    x = np.tile(base, -(-256 // base.size))
    return edges, x


@settings(max_examples=300, deadline=None)
@given(edges_and_values(), st.booleans())
def test_bin_indices_equal_searchsorted(case, include_upper):
    edges, x = case
    assert x.size >= 256
    assert_array_equal(
        bin_indices(edges, x, include_upper=include_upper),
        searchsorted_indices(edges, x, include_upper),
    )


def test_bin_indices_edges_far_from_zero():
    edges = 1e15 + np.arange(0.0, 11.0)  # spacing 1 at 1e15: x * scale rounds coarsely
    x = np.random.default_rng(3).uniform(1e15 - 2, 1e15 + 12, 4000)
    for upper in (False, True):
        assert_array_equal(
            bin_indices(edges, x, include_upper=upper), searchsorted_indices(edges, x, upper)
        )


def test_bin_indices_uneven_edges_fall_back_exactly():
    edges = np.concatenate([[0.0], np.geomspace(1e-12, 1e6, 60)])
    x = np.random.default_rng(1).uniform(-1, 2e6, 5000) ** np.random.default_rng(2).uniform(
        0, 1, 5000
    )
    for upper in (False, True):
        assert_array_equal(
            bin_indices(edges, x, include_upper=upper), searchsorted_indices(edges, x, upper)
        )


def _matrix(response_binning=None):
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, 21))
    truth = binning.RectilinearBinning(["true_x", "y"], [np.linspace(0, 10, 11), [0.0, 0.5, 1.0]])
    return migration.ResponseMatrix(reco, truth, response_binning=response_binning)


def _events(n, seed=5):
    rng = np.random.default_rng(seed)
    true_x = rng.uniform(-1.0, 11.0, n)
    reco_x = true_x + rng.normal(0.0, 0.5, n)
    reco_x[rng.random(n) < 0.2] = np.nan
    return {
        "true_x": true_x,
        "reco_x": reco_x,
        "y": rng.uniform(0, 1.1, n),
        "w": rng.uniform(0.5, 2, n),
    }


def _separate_fills(matrix, events, **kwargs):
    for b in (matrix.truth_binning, matrix.reco_binning, matrix.response_binning):
        b.fill(events, **kwargs)


def _assert_same(a, b):
    for name in ("truth", "reco", "response"):
        for what in ("values", "entries", "sumw2"):
            getter = f"get_{name}_{what}_as_ndarray"
            assert_array_equal(getattr(a, getter)(), getattr(b, getter)(), err_msg=f"{name} {what}")


@pytest.mark.parametrize("weight", ["per event", 0.7, 1])
def test_response_fill_equals_three_binning_fills_bit_for_bit(weight):
    events = _events(200_000)
    w = events["w"] if weight == "per event" else weight
    ours, separate = _matrix(), _matrix()
    ours.truth_binning.fill({"true_x": [1.0], "y": [0.2]}, weight=0.1)  # not empty before
    separate.truth_binning.fill({"true_x": [1.0], "y": [0.2]}, weight=0.1)
    ours.fill(events, weight=w)
    _separate_fills(separate, events, weight=w)
    _assert_same(ours, separate)
    assert_array_equal(
        ours.filled_truth_indices, np.flatnonzero(separate.get_truth_entries_as_ndarray())
    )
    assert ours.get_truth_entries_as_ndarray().sum() < 200_001  # some events are outside


def test_response_fill_other_response_binning_looks_events_up_itself():
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, 21))
    truth = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, 11))
    # same size as reco x truth, but truth first: the index does not follow from the parts
    swapped = binning.CartesianProductBinning([truth.clone(dummy=True), reco.clone(dummy=True)])
    matrix = migration.ResponseMatrix(reco, truth, response_binning=swapped)
    assert not ResponsePlan.of(matrix).from_parts
    events = _events(5000)
    matrix.fill(events, weight=events["w"])
    expected = swapped.clone()
    expected.reset()
    expected.fill(events, weight=events["w"])
    assert_array_equal(matrix.get_response_values_as_ndarray(), expected.get_values_as_ndarray())
    assert ResponsePlan.of(_matrix()).from_parts


def test_response_fill_converts_each_column_once(monkeypatch):
    from remu._binning import events as events_module

    calls: list[str] = []
    original = events_module._to_float

    def counting(values, name):
        calls.append(name)
        return original(values, name)

    monkeypatch.setattr(events_module, "_to_float", counting)
    events = _events(1000)
    _matrix().fill(events, weight=events["w"])
    assert sorted(calls) == ["reco_x", "true_x", "y"]


def test_response_fill_rename_and_structured_input():
    events = _events(3000)
    arr = np.empty(3000, dtype=[("t", float), ("r", float), ("y", float)])
    arr["t"], arr["r"], arr["y"] = events["true_x"], events["reco_x"], events["y"]
    ours, separate = _matrix(), _matrix()
    ours.fill(arr, weight=2.0, rename={"t": "true_x", "r": "reco_x"})
    _separate_fills(separate, arr, weight=2.0, rename={"t": "true_x", "r": "reco_x"})
    _assert_same(ours, separate)


def test_response_fill_raise_error_checks_in_order():
    inside = {"true_x": [1.0], "y": [0.2], "reco_x": [1.0]}
    outside_reco = {"true_x": [1.0, 2.0], "y": [0.2, 0.2], "reco_x": [1.0, 99.0]}
    matrix = _matrix()
    matrix.fill(inside, raise_error=True)
    with pytest.raises(ValueError, match="not part of binning"):
        matrix.fill({"true_x": [99.0], "y": [0.2], "reco_x": [1.0]}, raise_error=True)
    assert matrix.get_truth_entries_as_ndarray().sum() == 1  # the truth check runs first
    with pytest.raises(ValueError, match="not part of binning"):
        matrix.fill(outside_reco, raise_error=True)
    # as in ReMU: the truth histogram was filled before the reco check failed
    assert matrix.get_truth_entries_as_ndarray().sum() == 3
    assert matrix.get_reco_entries_as_ndarray().sum() == 1


def test_response_fill_weight_errors_fill_nothing():
    matrix = _matrix()
    with pytest.raises(ValueError, match="Different length"):
        matrix.fill({"true_x": [1.0, 2.0], "y": [0.2, 0.2], "reco_x": [1.0, 2.0]}, weight=[1.0])
    assert matrix.get_truth_entries_as_ndarray().sum() == 0


def test_response_fill_honours_mapper(monkeypatch):
    calls = []

    def recording_map(func, chunks):
        chunks = list(chunks)
        calls.append(len(chunks))
        return map(func, chunks)

    monkeypatch.setattr(binning, "mapper", recording_map)
    events = _events(1000)
    ours = _matrix()
    ours.fill(events)
    assert calls == [1, 1]  # truth and reco look-ups; the response index follows from them
    monkeypatch.setattr(binning, "mapper", map)
    separate = _matrix()
    _separate_fills(separate, events)
    _assert_same(ours, separate)


@pytest.mark.parametrize("n", [0, 1, 20000, 200_000])  # 200k: several count buffers
def test_response_plan_partial_equals_in_place_fill(n):
    events = _events(n)
    plan = ResponsePlan.of(_matrix())
    cols = as_columns(events)
    partial = plan.partial(cols, events["w"])
    assert sum(partial.outside) > 0 or n < 100
    filled = plan.filled_copy(partial)
    direct = _matrix()
    direct.fill(events, weight=events["w"])
    for name in ("truth", "reco", "response"):
        assert_array_equal(
            getattr(filled, f"get_{name}_entries_as_ndarray")(),
            getattr(direct, f"get_{name}_entries_as_ndarray")(),
        )
        assert_allclose(
            getattr(filled, f"get_{name}_values_as_ndarray")(),
            getattr(direct, f"get_{name}_values_as_ndarray")(),
            rtol=1e-12,
        )
