"""Vectorised filling: input kinds, weights, errors, mapper and agreement with scalar look-ups."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from extras import require
from numeric_asserts import assert_allclose
from remu import binning as bn
from remu.errors import InvalidEventError, MissingFieldError, MissingVariableError


def _nested():
    return bn.LinearBinning(
        "kind",
        [-0.5, 0.5, 1.5, 2.5],
        subbinnings={
            0: bn.LinearBinning("x", [0, 1, 2, 3]),
            1: bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 5, 10]], include_upper=True),
        },
    )


def _generic():
    bins = [
        bn.RectangularBin(["x", "y"], [(0, 2), (0, 2)]),
        bn.RectangularBin(["x", "y"], [(0, 1), (1, 3)], include_upper=True),
        bn.RectangularBin(["x", "y"], [(1, 3), (2, 3)], include_lower=False),
    ]
    return bn.Binning(bins, subbinnings={2: bn.LinearBinning("x", [1, 2, 3])})


def _product():
    x = bn.LinearBinning("x", [0, 1, 2, 3])
    y = bn.LinearBinning("y", [0, 5, 10], subbinnings={1: bn.LinearBinning("x", [0, 1.5, 3])})
    return bn.CartesianProductBinning(
        [x.clone(dummy=True), y.clone(dummy=True)],
        subbinnings={4: bn.RectangularBinning(["kind"], [[(0, 1)], [(1, 3)]])},
    )


BINNINGS = [_nested, _generic, _product]

values = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 7.5, 10.0, np.nan, np.inf])


@pytest.mark.parametrize("make", BINNINGS)
@given(
    st.lists(st.tuples(values, values, st.sampled_from([0.0, 1.0, 2.0, 3.0])), max_size=30),
    st.lists(
        st.floats(-5, 5).filter(lambda w: w == 0 or abs(w) > 1e-100), min_size=30, max_size=30
    ),
)
def test_vectorised_fill_equals_one_at_a_time(make, rows, weights):
    events = [{"x": x, "y": y, "kind": k} for x, y, k in rows]
    w = weights[: len(events)]
    vec = make()
    vec.fill(events, weight=w)
    one = make()
    for event, wi in zip(events, w, strict=True):
        d = one.get_event_data_index(event)
        assert (d is not None) == (event in one)
        if d is not None:
            one.fill_data_index(d, wi)
    assert_array_equal(vec.get_entries_as_ndarray(), one.get_entries_as_ndarray())
    assert_allclose(vec.get_values_as_ndarray(), one.get_values_as_ndarray(), rtol=1e-12)
    assert_allclose(vec.get_sumw2_as_ndarray(), one.get_sumw2_as_ndarray(), rtol=1e-12)
    # the same events as a dict of arrays and as a structured array
    if events:
        cols = {k: np.array([e[k] for e in events]) for k in ("x", "y", "kind")}
        as_dict = make()
        as_dict.fill(cols, weight=np.array(w))
        assert_array_equal(as_dict.get_values_as_ndarray(), vec.get_values_as_ndarray())
        rec = np.zeros(len(events), dtype=[("x", float), ("y", float), ("kind", float)])
        for k in ("x", "y", "kind"):
            rec[k] = cols[k]
        as_rec = make()
        as_rec.fill(rec, weight=w)
        assert_array_equal(as_rec.get_entries_as_ndarray(), vec.get_entries_as_ndarray())


# As in ReMU: every comparison with NaN is false, so no edge of a RectangularBin
# excludes a NaN coordinate; the interval lookup of linear axes finds no bin for it.
def test_nan_inside_rectangular_bins_outside_linear():
    generic = bn.Binning([bn.RectangularBin(["x", "y"], [(0, 1), (0, 1)])])
    assert generic.get_event_bin_index({"x": np.nan, "y": 0.5}) == 0
    generic.fill({"x": [np.nan, 2.0], "y": [0.5, 0.5]})
    assert_array_equal(generic.get_entries_as_ndarray(), [1])
    rl = bn.RectilinearBinning(["x", "y"], [[0, 1], [0, 1]])
    assert rl.get_event_bin_index({"x": np.nan, "y": 0.5}) is None


def test_event_outside_subbinning_is_outside():  # None, not ReMU's TypeError (D22)
    top = _nested()
    event = {"kind": 0, "x": 7.0}
    assert top.get_event_bin_index(event) == 0
    assert top.get_event_data_index(event) is None
    assert event not in top
    top.fill(event)
    assert top.get_entries_as_ndarray().sum() == 0
    with pytest.raises(ValueError, match="Event not part of binning"):
        top.fill([{"kind": 2}, event], raise_error=True)
    assert top.get_entries_as_ndarray().sum() == 0  # atomic


def test_heterogeneous_events_only_need_their_variables():
    top = _nested()
    top.fill([{"kind": 2}, {"kind": 0, "x": 0.5}])
    assert_array_equal(top.get_entries_as_ndarray(), [1, 0, 0, 0, 0, 0, 0, 1])
    with pytest.raises(MissingVariableError, match="no variable 'x'"):
        top.fill([{"kind": 2}, {"kind": 0}])


def test_weights():
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill({"x": 0.5}, weight=[3.0])
    lb.fill({"x": [0.5, 1.5]}, weight=-2.0)  # negative weights are fine
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, -2.0])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [13.0, 4.0])
    with pytest.raises(ValueError, match="Different length of event and weight lists"):
        lb.fill({"x": 0.5}, weight=[1, 2])
    with pytest.raises(ValueError, match="NaN"):
        lb.fill({"x": [0.5, 1.5]}, weight=[1.0, np.nan])
    with pytest.raises(ValueError, match="NaN"):
        lb.fill({"x": 0.5}, weight=np.nan)
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 1])


def test_rename_variants():
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill({"t": 0.5}, rename={"t": "x"})  # a single dict works (ReMU raises TypeError)
    events = [{"t": 1.5}]
    lb.fill(events, rename={"t": "x"})
    assert events == [{"t": 1.5}]  # the caller's dicts are not modified
    rec = np.array([(0.5,)], dtype=[("t", float)])
    lb.fill(rec, rename={"t": "x", "nothere": "y"})
    assert rec.dtype.names == ("t",)
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 1])


def test_dataframe_columns_by_name():  # real column names; the index is no variable
    pd = require("pandas", "pandas")
    lb = bn.LinearBinning("my var", [0, 1, 2])
    df = pd.DataFrame({"my var": [0.5, 1.5, 1.7]}, index=[10, 20, 30])
    lb.fill(df, weight=df["my var"])
    assert_allclose(lb.get_values_as_ndarray(), [0.5, 3.2])
    with pytest.raises(KeyError, match="Index"):
        bn.LinearBinning("Index", [0, 100]).fill(df)


def test_missing_variables_and_bad_inputs():
    lb = bn.LinearBinning("y", [0, 1])
    with pytest.raises(MissingVariableError, match=r"'y'.*available: x") as err:
        lb.fill({"x": [1.0, 2.0]})
    assert isinstance(err.value, KeyError)
    rec = np.zeros(2, dtype=[("x", float)])
    with pytest.raises(ValueError, match="'y'") as err2:
        lb.fill(rec)
    assert isinstance(err2.value, MissingFieldError)
    assert isinstance(err2.value, KeyError)
    with pytest.raises(KeyError):
        lb.get_event_data_index({"x": 1.0})
    with pytest.raises(IndexError):
        lb.fill(np.array([0.5, 0.7]))
    with pytest.raises(TypeError):
        lb.fill([0.5, 0.7])
    assert issubclass(InvalidEventError, TypeError)
    with pytest.raises(TypeError):
        lb.fill({"y": v} for v in (0.5,))
    with pytest.raises(ValueError, match="different lengths"):
        bn.RectilinearBinning(["x", "y"], [[0, 1], [0, 1]]).fill({"x": [1, 2], "y": [1, 2, 3]})
    lb.fill([])  # empty input: nothing happens
    lb.fill({"y": np.array([])}, weight=[])
    assert lb.get_entries_as_ndarray().sum() == 0


def test_dummy_fill():  # as ReMU: only events that land in a bin raise
    dummy = bn.LinearBinning("x", [0, 1], dummy=True)
    dummy.fill({"x": 5.0})
    with pytest.raises(TypeError):
        dummy.fill({"x": 0.5})


def test_mapper_is_honoured(monkeypatch):
    calls = []

    def recording_map(func, iterable):
        chunks = list(iterable)
        calls.append(len(chunks))
        return map(func, chunks)

    rng = np.random.default_rng(3)
    n = 150_000
    events = {
        "x": rng.uniform(-1, 4, n),
        "y": rng.uniform(-1, 11, n),
        "kind": rng.integers(0, 3, n),
    }
    reference = _nested()
    reference.fill(events)
    monkeypatch.setattr(bn, "mapper", recording_map)
    mapped = _nested()
    mapped.fill(events)
    assert calls == [3]  # chunks of 2**16 events
    assert_array_equal(mapped.get_entries_as_ndarray(), reference.get_entries_as_ndarray())


# As in ReMU, + sums value, entries and sumw2, while -, * and / combine the values
# only and keep the left operand's entries and sumw2.
def test_bin_fill_and_arithmetic():
    ps = bn.PhaseSpace(["x"])
    b = bn.Bin(phasespace=ps)
    b.fill()
    b.fill(0.5)
    b.fill([0.5, 0.5, 0.5])
    assert (b.value, b.entries, b.sumw2) == (3.0, 5, 2.0)
    c = bn.Bin(phasespace=ps, value=2.0)
    assert c.sumw2 == 4.0
    assert (c - b).entries == 0
    assert (b - c).value == 1.0
    assert (b * c).value == 6.0
    assert (b / c).value == 1.5
    assert (b + c).sumw2 == 6.0
    b.entries = 2.7
    assert b.entries == 2
    with pytest.raises(NotImplementedError):
        {"x": 1} in b  # noqa: B015
    with pytest.raises(TypeError, match="Undefined phase space"):
        bn.Bin()
    with pytest.raises(TypeError, match="Unknown kwargs"):
        bn.Bin(phasespace=ps, dummy=True, value=3)


def test_pickling_mapper_gives_identical_results(monkeypatch):
    import pickle

    def pickling_map(func, iterable):
        func = pickle.loads(pickle.dumps(func))
        return [func(pickle.loads(pickle.dumps(chunk))) for chunk in iterable]

    events = [{"kind": 2}, {"kind": 0, "x": 0.5}, {"kind": 1, "x": 1.5, "y": 10.0}] * 30_000
    reference = _nested()
    reference.fill(events, weight=0.5)
    monkeypatch.setattr(bn, "mapper", pickling_map)
    mapped = _nested()
    mapped.fill(events, weight=0.5)
    assert_array_equal(mapped.get_values_as_ndarray(), reference.get_values_as_ndarray())
    assert mapped.get_entries_as_ndarray().sum() == 90_000
