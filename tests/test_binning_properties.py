"""Property tests of remu.binning: numbering, filling, projections, YAML and array round trips.

Every expectation is computed independently of remu where possible: plain NumPy
(``searchsorted`` + ``bincount``) for grids, or a different remu code path (one
event at a time versus a vectorised fill) where the structure is too general.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import yaml
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

import remu.binning
from extras import require
from numeric_asserts import assert_allclose
from remu.binning import (
    Binning,
    CartesianProductBinning,
    LinearBinning,
    RectangularBin,
    RectangularBinning,
    RectilinearBinning,
)

INF = float("inf")
VARS = ("a", "b", "c", "d", "e", "f")

# Edges are multiples of 0.5 and event values multiples of 0.25: events often sit
# exactly on an edge, which is where the include_upper rules matter.
EVENT_VALUES = [v / 4 for v in range(-48, 49)] + [INF, -INF, float("nan")]
FINITE_EVENT_VALUES = [v / 4 for v in range(-48, 49)]


@st.composite
def edges_st(draw, max_bins=4):
    ints = draw(st.lists(st.integers(-20, 20), min_size=2, max_size=max_bins + 1, unique=True))
    edges = sorted(i / 2 for i in ints)
    if draw(st.booleans()):
        edges[0] = -INF
    if draw(st.booleans()):
        edges[-1] = INF
    return edges


@st.composite
def linear_st(draw, pool, depth):
    var, rest = pool[0], pool[1:]
    edges = draw(edges_st())
    subbinnings = {}
    if depth > 0 and rest:
        nbins = len(edges) - 1
        keys = draw(st.sets(st.integers(0, nbins - 1), max_size=2))
        for k in sorted(keys):
            subbinnings[k] = draw(binning_st(rest, depth - 1))
    return LinearBinning(var, edges, include_upper=draw(st.booleans()), subbinnings=subbinnings)


@st.composite
def rectilinear_st(draw, pool, depth, max_vars=3):
    n = draw(st.integers(1, min(max_vars, len(pool))))
    variables, rest = pool[:n], pool[n:]
    edges = [draw(edges_st(max_bins=3)) for _ in variables]
    rl = RectilinearBinning(variables, edges, include_upper=draw(st.booleans()))
    if depth > 0 and rest and draw(st.booleans()):
        k = draw(st.integers(0, rl.nbins - 1))
        rl = RectilinearBinning(
            variables,
            edges,
            include_upper=rl.include_upper,
            subbinnings={k: draw(binning_st(rest, depth - 1))},
        )
    return rl


@st.composite
def rectangular_st(draw, pool, depth):
    n = draw(st.integers(1, min(2, len(pool))))
    variables, rest = pool[:n], pool[n:]
    boxes = []
    for _ in range(draw(st.integers(1, 4))):
        box = []
        for _ in variables:
            lo, hi = sorted(draw(st.lists(st.integers(-20, 20), min_size=2, max_size=2)))
            box.append((lo / 2, hi / 2))
        boxes.append(box)
    subbinnings = {}
    if depth > 0 and rest and draw(st.booleans()):
        subbinnings[draw(st.integers(0, len(boxes) - 1))] = draw(binning_st(rest, depth - 1))
    return RectangularBinning(
        variables, boxes, include_upper=draw(st.booleans()), subbinnings=subbinnings
    )


@st.composite
def product_st(draw, pool, depth):
    parts = []
    rest = pool
    for _ in range(draw(st.integers(1, 3))):
        if not rest:
            break
        kind = draw(st.sampled_from(["linear", "rectilinear", "rectangular"]))
        if kind == "linear":
            part = draw(linear_st(rest[:2], max(depth - 1, 0)))
            used = 2 if part.subbinnings else 1
        elif kind == "rectangular":
            part = draw(rectangular_st(rest, 0))
            used = len(part.variables)
        else:
            part = draw(rectilinear_st(rest, 0, max_vars=2))
            used = len(part.variables)
        parts.append(part.clone(dummy=True))
        rest = rest[used:]
    subbinnings = {}
    if depth > 0 and rest and draw(st.booleans()):
        nbins = int(np.prod([p.data_size for p in parts]))
        subbinnings[draw(st.integers(0, nbins - 1))] = draw(linear_st(rest, 0))
    return CartesianProductBinning(parts, subbinnings=subbinnings)


@st.composite
def generic_st(draw, pool, depth):
    """A plain ``Binning`` of RectangularBins over varying variables and include flags."""
    n = draw(st.integers(1, min(2, len(pool))))
    variables, rest = pool[:n], pool[n:]
    bins = []
    for _ in range(draw(st.integers(1, 3))):
        used = draw(st.lists(st.sampled_from(variables), min_size=1, unique=True))
        edges = []
        for _ in used:
            lo, hi = sorted(draw(st.lists(st.integers(-20, 20), min_size=2, max_size=2)))
            edges.append((lo / 2, hi / 2))
        bins.append(
            RectangularBin(
                used,
                edges,
                include_lower=draw(st.booleans()),
                include_upper=draw(st.booleans()),
            )
        )
    subbinnings = {}
    if depth > 0 and rest and draw(st.booleans()):
        subbinnings[draw(st.integers(0, len(bins) - 1))] = draw(binning_st(rest, depth - 1))
    return Binning(bins, subbinnings=subbinnings)


def binning_st(pool, depth=1):
    kinds = [
        linear_st(pool, depth),
        rectilinear_st(pool, depth),
        rectangular_st(pool, depth),
        generic_st(pool, depth),
    ]
    if len(pool) >= 2:
        kinds.append(product_st(pool, depth))
    return st.one_of(kinds)


any_binning = binning_st(VARS, depth=2)


def events_st(n_max=40, values=EVENT_VALUES):
    dtype = [(v, float) for v in VARS]
    return hnp.arrays(
        dtype=dtype,
        shape=st.integers(0, n_max),
        elements=st.tuples(*[st.sampled_from(values) for _ in VARS]),
    )


def weights_for(n):
    return hnp.arrays(float, n, elements=st.floats(0.125, 8.0, width=32))


def as_dicts(events):
    return [{name: float(e[name]) for name in events.dtype.names} for e in events]


def grid_reference(edges_list, include_upper, columns, weights):
    """Fill an N-D grid with plain NumPy: per-axis searchsorted, then bincount."""
    side = "left" if include_upper else "right"
    inside = np.ones(len(weights), dtype=bool)
    indices = []
    for edges, col in zip(edges_list, columns, strict=True):
        edges = np.asarray(edges, dtype=float)
        idx = np.searchsorted(edges, col, side=side) - 1
        ok = (idx >= 0) & (idx < len(edges) - 1) & ~np.isnan(col)
        inside &= ok
        indices.append(np.where(ok, idx, 0))
    shape = tuple(len(e) - 1 for e in edges_list)
    flat = np.ravel_multi_index(tuple(i[inside] for i in indices), shape)
    size = int(np.prod(shape))
    w = np.asarray(weights, dtype=float)[inside]
    return (
        np.bincount(flat, weights=w, minlength=size),
        np.bincount(flat, minlength=size),
        np.bincount(flat, weights=w**2, minlength=size),
        inside,
    )


def assert_same_arrays(a, b, rtol=1e-12):
    assert_allclose(a.get_values_as_ndarray(), b.get_values_as_ndarray(), rtol=rtol, atol=1e-9)
    assert_array_equal(a.get_entries_as_ndarray(), b.get_entries_as_ndarray())
    assert_allclose(a.get_sumw2_as_ndarray(), b.get_sumw2_as_ndarray(), rtol=rtol, atol=1e-9)


# ---------------------------------------------------------------------------
# numbering


@given(any_binning)
def test_bin_data_index_bijection(binning):
    n, size = binning.nbins, binning.data_size
    starts = [binning.get_bin_data_index(i) for i in range(n)]
    assert [binning.get_data_bin_index(d) for d in starts] == list(range(n))
    expected_size = n + sum(s.data_size - 1 for s in binning.subbinnings.values())
    assert size == expected_size
    back = [binning.get_data_bin_index(d) for d in range(size)]
    # Each bin owns one contiguous block: one slot, or a subbinning's whole block.
    widths = [binning.subbinnings[i].data_size if i in binning.subbinnings else 1 for i in range(n)]
    assert back == [i for i in range(n) for _ in range(widths[i])]
    assert starts == np.cumsum([0, *widths[:-1]]).tolist()
    assert len(list(binning.iter_subbins())) == size


@given(any_binning)
def test_subbins_chain_matches_data_index(binning):
    for d, chain in enumerate(binning.iter_subbins()):
        assert chain == binning.get_subbins(d)
        i = binning.get_data_bin_index(d)
        assert chain[0] == binning.bins[i]
        if i in binning.subbinnings:
            inner = d - binning.get_bin_data_index(i)
            assert chain[1:] == binning.subbinnings[i].get_subbins(inner)
        else:
            assert len(chain) == 1


@given(st.one_of(rectilinear_st(VARS, 1), product_st(VARS, 1)))
def test_tuple_index_bijection(binning):
    shape = binning.bins_shape
    assert binning.nbins == int(np.prod(shape))
    tuples = [binning.get_bin_index_tuple(i) for i in range(binning.nbins)]
    # C order over the constituents' data sizes, last one fastest
    assert tuples == list(itertools.product(*[range(s) for s in shape]))
    assert [binning.get_tuple_bin_index(t) for t in tuples] == list(range(binning.nbins))
    none = (None,) * len(shape)
    assert binning.get_bin_index_tuple(binning.nbins) == none
    assert binning.get_bin_index_tuple(-1) == none
    for i in (0, binning.nbins - 1):
        if isinstance(binning, RectilinearBinning):
            edges = tuple(
                (e[t], e[t + 1]) for e, t in zip(binning.bin_edges, tuples[i], strict=True)
            )
            assert binning.bins[i].edges == edges
        else:
            assert binning.bins[i].data_indices == tuples[i]


@given(any_binning, events_st(n_max=15))
def test_event_indices_consistent(binning, events):
    for e in events:
        d = binning.get_event_data_index(e)
        i = binning.get_event_bin_index(e)
        if i is None:
            assert d is None
            continue
        if d is None:
            # D22: inside a bin with a subbinning, but outside the subbinning
            assert i in binning.subbinnings
            assert binning.subbinnings[i].get_event_data_index(e) is None
            continue
        assert binning.get_data_bin_index(d) == i
        assert e in binning


# ---------------------------------------------------------------------------
# filling


@given(any_binning, st.data())
def test_vectorised_fill_equals_single_events(binning, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    vec = binning.clone()
    vec.fill(events, weight=weights)
    one = binning.clone()
    for e, w in zip(as_dicts(events), weights, strict=True):
        one.fill(e, weight=w)
    assert_same_arrays(vec, one)
    lst = binning.clone()
    lst.fill(as_dicts(events), weight=list(weights))
    assert_same_arrays(vec, lst)
    # The data index of each event, looked up one by one, tells where it went.
    idx = [binning.get_event_data_index(e) for e in events]
    inside = np.array([i is not None for i in idx], dtype=bool)
    hit = np.array([i for i in idx if i is not None], dtype=int)
    assert_allclose(
        vec.get_values_as_ndarray(),
        np.bincount(hit, weights=weights[inside], minlength=binning.data_size),
        rtol=1e-12,
    )
    assert vec.get_entries_as_ndarray().sum() == inside.sum()


@given(rectilinear_st(VARS, 0), st.data())
def test_rectilinear_fill_equals_numpy(rl, data):
    events = data.draw(events_st(n_max=60))
    weights = data.draw(weights_for(len(events)))
    columns = [events[v] for v in rl.variables]
    values, entries, sumw2, inside = grid_reference(
        rl.bin_edges, rl.include_upper, columns, weights
    )
    rl.fill(events, weight=weights)
    assert_allclose(rl.get_values_as_ndarray(), values, rtol=1e-12)
    assert_array_equal(rl.get_entries_as_ndarray(), entries)
    assert_allclose(rl.get_sumw2_as_ndarray(), sumw2, rtol=1e-12)
    # nothing outside the edges is counted anywhere: no overflow bins
    assert rl.get_entries_as_ndarray().sum() == inside.sum()
    assert_allclose(rl.get_values_as_ndarray().sum(), weights[inside].sum(), rtol=1e-12)
    assert rl.data_size == rl.nbins == values.size


@given(
    linear_st(VARS[:1], 0),
    hnp.arrays(float, st.integers(0, 50), elements=st.sampled_from(EVENT_VALUES)),
)
def test_linear_fill_unit_weight_equals_numpy(lb, x):
    values, entries, sumw2, inside = grid_reference(
        [lb.bin_edges], lb.include_upper, [x], np.ones(len(x))
    )
    lb.fill(np.rec.fromarrays([x], names=lb.variable))
    assert_array_equal(lb.get_entries_as_ndarray(), entries)
    assert_array_equal(lb.get_values_as_ndarray(), values)
    assert_array_equal(lb.get_sumw2_as_ndarray(), sumw2)
    assert lb.get_entries_as_ndarray().sum() == inside.sum()


@given(linear_st(VARS[:1], 0), st.data())
def test_weighted_fill_sums(lb, data):
    x = data.draw(
        hnp.arrays(float, st.integers(1, 30), elements=st.sampled_from(FINITE_EVENT_VALUES))
    )
    w = data.draw(hnp.arrays(float, len(x), elements=st.floats(-5, 5, width=32)))
    lb.fill(np.rec.fromarrays([x], names=lb.variable), weight=w)
    idx = np.array([lb.get_event_bin_index({lb.variable: v}) for v in x], dtype=object)
    for b in range(lb.nbins):
        sel = idx == b
        assert_allclose(lb.get_values_as_ndarray()[b], w[sel].sum(), rtol=1e-12, atol=1e-12)
        assert lb.get_entries_as_ndarray()[b] == sel.sum()
        assert_allclose(lb.get_sumw2_as_ndarray()[b], (w[sel] ** 2).sum(), rtol=1e-12, atol=1e-12)


@given(st.floats(-10, 10, width=32), st.integers(0, 20))
def test_scalar_weight_repeated(w, n):
    lb = LinearBinning("a", [0, 1])
    events = np.rec.fromarrays([np.full(n, 0.5)], names="a")
    lb.fill(events, weight=w)
    assert_allclose(lb.get_values_as_ndarray(), [n * w], rtol=1e-12, atol=1e-12)
    assert_array_equal(lb.get_entries_as_ndarray(), [n])
    assert_allclose(lb.get_sumw2_as_ndarray(), [n * w * w], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# projections and marginalizations


@given(rectilinear_st(VARS, 0), st.data())
def test_rectilinear_project_equals_direct_fill(rl, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    rl.fill(events, weight=weights)
    columns = [events[v] for v in rl.variables]
    _, _, _, inside = grid_reference(rl.bin_edges, rl.include_upper, columns, weights)
    k = data.draw(st.integers(0, len(rl.variables) - 1))
    direct = LinearBinning(rl.variables[k], rl.bin_edges[k], include_upper=rl.include_upper)
    direct.fill(events[inside], weight=weights[inside])
    for arg in (k, rl.variables[k]):
        p = rl.project(arg)
        assert type(p) is LinearBinning
        assert p == direct
        assert_same_arrays(p, direct)
    # marginalizing variable k away equals a direct fill of the remaining grid
    if len(rl.variables) > 1:
        rest = [v for i, v in enumerate(rl.variables) if i != k]
        rest_edges = [e for i, e in enumerate(rl.bin_edges) if i != k]
        direct_rest = RectilinearBinning(rest, rest_edges, include_upper=rl.include_upper)
        direct_rest.fill(events[inside], weight=weights[inside])
        m = rl.marginalize(k)
        assert m == direct_rest
        assert_same_arrays(m, direct_rest)
        assert_same_arrays(rl.project(rest), direct_rest)


@given(product_st(VARS, 2), st.data())
def test_product_project_equals_direct_fill(cp, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    cp.fill(events, weight=weights)
    k = data.draw(st.integers(0, len(cp.binnings) - 1))
    # inside every constituent and, where there is one, inside the top-level subbinning (D22)
    inside = np.array(
        [
            all(b.get_event_data_index(e) is not None for b in cp.binnings)
            and cp.get_event_data_index(e) is not None
            for e in events
        ],
        dtype=bool,
    )
    direct = cp.binnings[k].clone(dummy=False)
    direct.fill(events[inside], weight=weights[inside])
    p = cp.project(k)
    assert type(p) is type(cp.binnings[k])
    assert p == direct
    assert_same_arrays(p, direct)
    q = cp.project([k])
    assert type(q) is CartesianProductBinning
    assert_allclose(q.get_values_as_ndarray(), direct.get_values_as_ndarray(), rtol=1e-12)
    total = cp.marginalize(list(range(len(cp.binnings))))
    assert_allclose(total.get_values_as_ndarray(), [weights[inside].sum()], rtol=1e-12)
    assert_array_equal(total.get_entries_as_ndarray(), [inside.sum()])


@given(linear_st(VARS, 1), st.data())
def test_marginalize_subbinnings_equals_direct_fill(lb, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    lb.fill(events, weight=weights)
    # D22: events inside a parent bin but outside its subbinning are not counted
    counted = np.array([lb.get_event_data_index(e) is not None for e in events], dtype=bool)
    flat = LinearBinning(lb.variable, lb.bin_edges, include_upper=lb.include_upper)
    flat.fill(events[counted], weight=weights[counted])
    m = lb.marginalize_subbinnings()
    assert m == flat
    assert_same_arrays(m, flat)
    assert_allclose(
        lb.marginalize_subbinnings_on_ndarray(lb.get_values_as_ndarray()),
        flat.get_values_as_ndarray(),
        rtol=1e-12,
    )
    for k in lb.subbinnings:
        back = lb.marginalize_subbinnings([k]).insert_subbinning(k, lb.subbinnings[k].clone())
        assert back == lb
        assert_same_arrays(back, lb)


# ---------------------------------------------------------------------------
# round trips


@given(any_binning)
def test_yaml_round_trip(binning):
    text = yaml.dump(binning)
    assert "!!python" not in text
    loaded = remu.binning.yaml.full_load(text)
    assert type(loaded) is type(binning)
    assert loaded == binning
    assert loaded.data_size == binning.data_size
    assert loaded.nbins == binning.nbins
    assert not loaded.is_dummy()
    assert_array_equal(loaded.get_values_as_ndarray(), np.zeros(binning.data_size))
    dummy = yaml.full_load(yaml.dump(binning.clone(dummy=True)))
    assert dummy.is_dummy()
    assert dummy == binning


@given(any_binning)
def test_repr_round_trip(binning):
    ns = dict(vars(remu.binning))
    ns.update(vars(np))
    # large products would otherwise print their arrays summarised with "..."
    with np.printoptions(threshold=sys.maxsize):
        text = repr(binning)
    back = eval(text, ns)
    assert back == binning
    assert back.data_size == binning.data_size


@given(any_binning, st.data())
def test_set_get_arrays_identity(binning, data):
    events = data.draw(events_st(n_max=20))
    weights = data.draw(weights_for(len(events)))
    binning.fill(events, weight=weights)
    before = [
        binning.get_values_as_ndarray(),
        binning.get_entries_as_ndarray(),
        binning.get_sumw2_as_ndarray(),
    ]
    binning.set_values_from_ndarray(binning.get_values_as_ndarray())
    binning.set_entries_from_ndarray(binning.get_entries_as_ndarray())
    binning.set_sumw2_from_ndarray(binning.get_sumw2_as_ndarray())
    assert_array_equal(binning.get_values_as_ndarray(), before[0])
    assert_array_equal(binning.get_entries_as_ndarray(), before[1])
    assert_array_equal(binning.get_sumw2_as_ndarray(), before[2])
    other = binning.clone()
    other.reset()
    other.set_values_from_ndarray(before[0])
    other.set_entries_from_ndarray(before[1])
    other.set_sumw2_from_ndarray(before[2])
    assert_same_arrays(other, binning, rtol=0)
    if hasattr(binning, "bins_shape") and not binning.subbinnings:
        grid = binning.get_values_as_ndarray(shape=binning.bins_shape)
        other.reset()
        other.set_values_from_ndarray(grid)
        assert_array_equal(other.get_values_as_ndarray(), before[0])


@given(any_binning, st.data())
def test_clone_is_independent(binning, data):
    events = data.draw(events_st(n_max=10))
    c = binning.clone()
    c.fill(events)
    assert binning.get_entries_as_ndarray().sum() == 0
    assert c == binning


# ---------------------------------------------------------------------------
# the mapper hook


@given(any_binning, st.data())
def test_custom_mapper_gives_same_result(binning, data):
    events = data.draw(events_st(n_max=20))
    reference = binning.clone()
    reference.fill(events)
    calls = []

    def recording_map(func, iterable):
        calls.append(func)
        return [func(x) for x in iterable]

    saved = remu.binning.mapper
    remu.binning.mapper = recording_map
    try:
        mapped = binning.clone()
        mapped.fill(events)
    finally:
        remu.binning.mapper = saved
    if len(events):
        assert calls, "fill did not use remu.binning.mapper"
    assert_same_arrays(mapped, reference, rtol=0)


def test_multiprocess_pool_mapper():
    multiprocess = require("multiprocess", "all")
    rl = RectilinearBinning(["a", "b"], [[0, 1, 2, 3], [-INF, 0, INF]])
    rng = np.random.default_rng(7)
    events = np.rec.fromarrays([rng.uniform(-1, 4, 200), rng.normal(size=200)], names="a,b")
    weights = rng.uniform(0.5, 2.0, 200)
    reference = rl.clone()
    reference.fill(events, weight=weights)
    with multiprocess.Pool(2) as pool:
        saved = remu.binning.mapper
        remu.binning.mapper = pool.map
        try:
            rl.fill(events, weight=weights)
        finally:
            remu.binning.mapper = saved
    assert_same_arrays(rl, reference, rtol=0)
    values, entries, _, _ = grid_reference(rl.bin_edges, False, [events["a"], events["b"]], weights)
    assert_allclose(rl.get_values_as_ndarray(), values, rtol=1e-12)
    assert_array_equal(rl.get_entries_as_ndarray(), entries)


def test_generic_binning_types_are_covered():
    """The strategies above really produce every binning class, nested."""
    seen = set()

    @given(any_binning)
    def collect(binning):
        seen.add(type(binning))
        for sub in binning.subbinnings.values():
            seen.add(type(sub))

    collect()
    assert {
        Binning,
        LinearBinning,
        RectilinearBinning,
        RectangularBinning,
        CartesianProductBinning,
    } <= seen
    assert all(issubclass(t, Binning) for t in seen)


# ---------------------------------------------------------------------------
# adjacency


@given(rectilinear_st(VARS, 0))
def test_rectilinear_adjacency_is_grid_neighbourhood(rl):
    shape = rl.bins_shape
    coords = np.array(np.unravel_index(np.arange(rl.nbins), shape)).T
    distance = np.abs(coords[:, None, :] - coords[None, :, :]).sum(axis=2)
    adjacency = rl.get_adjacent_bin_indices()
    assert len(adjacency) == rl.nbins
    for i, neighbours in enumerate(adjacency):
        assert np.asarray(neighbours).tolist() == np.flatnonzero(distance[i] == 1).tolist()
    data = rl.get_adjacent_data_indices()
    assert [np.asarray(a).tolist() for a in data] == [np.asarray(a).tolist() for a in adjacency]


@given(any_binning)
def test_data_adjacency_is_symmetric_and_local(binning):
    data = binning.get_adjacent_data_indices()
    assert len(data) == binning.data_size
    pairs = {(i, int(j)) for i, a in enumerate(data) for j in a}
    assert all(0 <= j < binning.data_size and j != i for i, j in pairs)
    assert pairs == {(j, i) for i, j in pairs}
    # data indices inside a subbinning are only adjacent within that subbinning
    owner = [binning.get_data_bin_index(d) for d in range(binning.data_size)]
    for i, j in pairs:
        if owner[i] in binning.subbinnings or owner[j] in binning.subbinnings:
            assert owner[i] == owner[j]
    bins = binning.get_adjacent_bin_indices()
    assert len(bins) == binning.nbins
    for i, a in enumerate(bins):
        assert np.asarray(a, dtype=int).dtype.kind == "i"
        if isinstance(binning, LinearBinning):
            assert np.asarray(a).tolist() == [k for k in (i - 1, i + 1) if 0 <= k < binning.nbins]
        elif type(binning) in (Binning, RectangularBinning):
            assert len(a) == 0


# ---------------------------------------------------------------------------
# slices and merged bins equal a direct fill with the new edges


@given(rectilinear_st(VARS, 0), st.data())
def test_rectilinear_slice_and_remove_edges_equal_direct_fill(rl, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    rl.fill(events, weight=weights)
    var = data.draw(st.sampled_from(rl.variables))
    k = rl.variables.index(var)
    n = rl.bins_shape[k]
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    sliced_edges = list(rl.bin_edges)
    sliced_edges[k] = np.asarray(rl.bin_edges[k])[start : stop + 1]
    direct = RectilinearBinning(rl.variables, sliced_edges, include_upper=rl.include_upper)
    direct.fill(events, weight=weights)
    s = rl.slice({var: (start, stop)})
    assert s == direct
    assert_same_arrays(s, direct)

    n_edges = n + 1
    remove = data.draw(st.lists(st.integers(0, n_edges - 1), unique=True, max_size=n_edges - 2))
    merged_edges = list(rl.bin_edges)
    merged_edges[k] = np.delete(np.asarray(rl.bin_edges[k]), remove)
    direct = RectilinearBinning(rl.variables, merged_edges, include_upper=rl.include_upper)
    direct.fill(events, weight=weights)
    r = rl.remove_bin_edges({var: remove})
    assert r == direct
    assert_same_arrays(r, direct)


@given(linear_st(VARS, 1), st.data())
def test_linear_slice_and_remove_edges_equal_direct_fill(lb, data):
    events = data.draw(events_st())
    weights = data.draw(weights_for(len(events)))
    lb.fill(events, weight=weights)
    counted = np.array([lb.get_event_data_index(e) is not None for e in events], dtype=bool)
    events, weights = events[counted], weights[counted]
    n = lb.nbins
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    direct = LinearBinning(
        lb.variable, lb.bin_edges[start : stop + 1], include_upper=lb.include_upper
    )
    direct.fill(events, weight=weights)
    s = lb.slice(start, stop)
    assert s == direct
    assert_same_arrays(s, direct)

    remove = data.draw(st.lists(st.integers(0, n), unique=True, max_size=n - 1))
    direct = LinearBinning(
        lb.variable, np.delete(lb.bin_edges, remove), include_upper=lb.include_upper
    )
    direct.fill(events, weight=weights)
    r = lb.remove_bin_edges(remove)
    assert r == direct
    assert_same_arrays(r, direct)


# ---------------------------------------------------------------------------
# every input kind gives the same result


@given(any_binning, st.data())
def test_input_kinds_agree(binning, data):
    pd = require("pandas", "pandas")
    events = data.draw(events_st(n_max=20))
    weights = data.draw(weights_for(len(events)))
    reference = binning.clone()
    reference.fill(events, weight=weights)
    columns = {name: events[name].copy() for name in events.dtype.names}
    for kind in (pd.DataFrame(columns), columns, events.reshape(-1, 1), as_dicts(events)):
        other = binning.clone()
        other.fill(kind, weight=weights)
        assert_same_arrays(other, reference)
    renamed = binning.clone()
    frame = pd.DataFrame({"in_" + k: v for k, v in columns.items()})
    renamed.fill(frame, weight=pd.Series(weights), rename={"in_" + k: k for k in columns})
    assert_same_arrays(renamed, reference)
