"""Binnings and response matrices in the scikit-hep tool chain: UHI, hist, mplhep, uproot.

Every test uses the real package it connects to (installed by the ``hist`` and
``root`` extras); a missing package makes the test fail with the import error.
"""

from __future__ import annotations

import subprocess
import sys

import boost_histogram as bh
import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
import pytest
import uproot
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from uhi.typing.plottable import PlottableAxisGeneric, PlottableHistogram, PlottableTraits

from numeric_asserts import assert_allclose
from remu import binning, migration
from remu.errors import NotAGridError

INF = np.inf


def filled_linear() -> binning.LinearBinning:
    lb = binning.LinearBinning("x", [-INF, 0.0, 1.0, 2.5, INF])
    lb.fill({"x": [-1.0, 0.5, 0.7, 2.0, 9.0, 9.0]}, weight=[1.0, 2.0, 1.0, 1.0, 1.0, 3.0])
    return lb


def filled_rectilinear(rng: np.random.Generator) -> binning.RectilinearBinning:
    rl = binning.RectilinearBinning(
        ["x", "y", "z"], [[-INF, 0.0, 1.0, 3.0], [0.0, 0.5, 2.0], [0.0, 1.0, 2.0, 4.0, INF]]
    )
    n = 400
    rl.fill(
        {"x": rng.normal(1, 1.5, n), "y": rng.uniform(-0.5, 2.5, n), "z": rng.exponential(2, n)},
        weight=rng.uniform(0.5, 2.0, n),
    )
    return rl


@pytest.fixture
def figure():
    fig, ax = plt.subplots()
    yield fig, ax
    plt.close(fig)


# ---------------------------------------------------------------------------- the protocol
def test_linear_binning_is_a_plottable_histogram():
    lb = filled_linear()
    assert isinstance(lb, PlottableHistogram)
    assert lb.kind == "COUNT"
    (axis,) = lb.axes
    assert isinstance(axis, PlottableAxisGeneric)
    assert isinstance(axis.traits, PlottableTraits)
    assert not axis.traits.circular
    assert not axis.traits.discrete
    assert len(axis) == 2
    assert list(axis) == [(0.0, 1.0), (1.0, 2.5)]
    assert axis[-1] == (1.0, 2.5)
    with pytest.raises(IndexError, match="out of range"):
        axis[2]
    assert axis.name == axis.label == "x"
    # the open-ended bins are the flow bins
    assert_array_equal(lb.values(), [3.0, 1.0])
    assert_array_equal(lb.values(flow=True), [1.0, 3.0, 1.0, 4.0])
    assert_array_equal(lb.variances(), [5.0, 1.0])
    assert_array_equal(lb.variances(flow=True), [1.0, 5.0, 1.0, 10.0])


def test_counts_are_the_effective_entries():
    """UHI: counts of a weighted histogram are sum(w)^2 / sum(w^2), entries if unweighted."""
    lb = filled_linear()
    assert_allclose(lb.counts(flow=True), [1.0, 9.0 / 5.0, 1.0, 16.0 / 10.0])
    unweighted = binning.LinearBinning("x", [0, 1, 2, 3])
    unweighted.fill({"x": [0.5, 0.5, 0.5, 2.5]})
    assert_array_equal(unweighted.counts(), unweighted.get_entries_as_ndarray())
    empty = binning.LinearBinning("x", [0, 1])
    assert_array_equal(empty.counts(), [0.0])


def test_finite_outer_edges_have_empty_flow_slots():
    lb = binning.LinearBinning("x", [0, 1, 2])
    lb.fill({"x": [0.5, 1.5, 7.0]})
    assert_array_equal(lb.values(flow=True), [0.0, 1.0, 1.0, 0.0])
    assert lb.axes[0].edges.tolist() == [0.0, 1.0, 2.0]


def test_rectilinear_axes_and_layout():
    rl = filled_rectilinear(np.random.default_rng(1))
    assert isinstance(rl, PlottableHistogram)
    assert [a.name for a in rl.axes] == ["x", "y", "z"]
    assert [len(a) for a in rl.axes] == [2, 2, 3]
    grid = rl.get_values_as_ndarray(shape=rl.bins_shape)
    assert_array_equal(rl.values(), grid[1:, :, :-1])
    flow = rl.values(flow=True)
    assert flow.shape == (4, 4, 5)
    assert_array_equal(flow[:-1, 1:-1, 1:], grid)
    assert not flow[-1].any()
    assert not flow[:, 0].any()
    assert not flow[:, -1].any()
    assert not flow[:, :, 0].any()
    sumw2 = rl.get_sumw2_as_ndarray(shape=rl.bins_shape)
    assert_array_equal(rl.variances(flow=True)[:-1, 1:-1, 1:], sumw2)


def test_cartesian_product_of_grids():
    bx = binning.LinearBinning("x", [0, 1, 2], dummy=True)
    byz = binning.RectilinearBinning(["y", "z"], [[0, 1, 2, 3], [-INF, 0, 1]], dummy=True)
    cp = binning.CartesianProductBinning([bx, byz])
    cp.set_values_from_ndarray(np.arange(cp.data_size, dtype=float))
    assert isinstance(cp, PlottableHistogram)
    assert [a.name for a in cp.axes] == ["x", "y", "z"]
    native = np.arange(cp.data_size, dtype=float).reshape(2, 3, 2)
    assert_array_equal(cp.values(), native[:, :, 1:])
    # the layout agrees with the product's own numbering
    assert cp.values()[1, 2, 0] == cp.get_tuple_bin_index((1, byz.get_tuple_bin_index((2, 1))))


def test_structures_that_are_no_grid_raise_clear_errors():
    nested = binning.LinearBinning(
        "x", [0, 1, 2], subbinnings={1: binning.LinearBinning("y", [0, 1, 2])}
    )
    with pytest.raises(
        NotAGridError, match=r"subbinnings \(at bins \[1\]\).*marginalize_subbinnings"
    ):
        nested.values()
    with pytest.raises(TypeError, match="subbinnings"):
        nested.axes  # noqa: B018
    generic = binning.Binning([binning.RectangularBin(["x"], [(0, 1)])])
    product = binning.CartesianProductBinning([binning.LinearBinning("x", [0, 1]), generic])
    with pytest.raises(TypeError, match="constituent 1 of the CartesianProductBinning"):
        product.values()
    # a generic binning does not claim to follow the protocol
    assert not isinstance(generic, PlottableHistogram)
    with pytest.raises(ValueError, match="no bin between finite edges"):
        binning.LinearBinning("x", [-INF, 0, INF]).values()
    with pytest.raises(TypeError, match="dummy"):
        binning.LinearBinning("x", [0, 1], dummy=True).values()


def test_protocol_methods_do_not_import_hist():
    code = (
        "import sys\n"
        "from remu import binning\n"
        "b = binning.RectilinearBinning(['x', 'y'], [[0, 1, 2], [0, 1]])\n"
        "b.values(flow=True); b.variances(); b.counts(); b.axes; b.kind\n"
        "bad = [m for m in ('hist', 'boost_histogram', 'uhi', 'mplhep') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_to_hist_without_hist_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "hist", None)
    with pytest.raises(ImportError, match=r"remu\[hist\]"):
        filled_linear().to_hist()


# ------------------------------------------------------------------------------- mplhep
def test_mplhep_histplot_draws_a_linear_binning(figure):
    _, ax = figure
    lb = filled_linear()
    (artists,) = mplhep.histplot(lb, ax=ax, w2method="sqrt")
    drawn = artists.stairs.get_data()
    assert_array_equal(drawn.values, lb.values())
    assert_array_equal(drawn.edges, [0.0, 1.0, 2.5])
    # error bars: the square root of the sums of squared weights
    _, _caps, (bars,) = artists.errorbar.lines
    segments = bars.get_segments()
    half_lengths = [abs(s[1][1] - s[0][1]) / 2 for s in segments]
    assert_allclose(half_lengths, np.sqrt(lb.variances()))


def test_mplhep_histplot_of_a_projection_with_flow(figure):
    _, ax = figure
    rl = filled_rectilinear(np.random.default_rng(2))
    projection = rl.project("x")
    (artists,) = mplhep.histplot(projection, ax=ax, flow="sum")
    drawn = artists.stairs.get_data()
    native = projection.get_values_as_ndarray()
    # the underflow bin (x < 0) is added to the first drawn bin
    assert_allclose(drawn.values, [native[0] + native[1], native[2]])


def test_mplhep_hist2dplot_draws_a_rectilinear_binning(figure):
    _, ax = figure
    rl = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 4], [0, 1, 3]])
    rl.set_values_from_ndarray(np.arange(6.0) + 1)
    artists = mplhep.hist2dplot(rl, ax=ax)
    mesh = artists.pcolormesh
    # pcolormesh rows are y, columns x
    assert_array_equal(np.asarray(mesh.get_array()).reshape(2, 3), rl.values().T)
    corners = mesh.get_coordinates()
    assert_array_equal(corners[0, :, 0], [0, 1, 2, 4])
    assert_array_equal(corners[:, 0, 1], [0, 1, 3])


# ------------------------------------------------------------------------------- uproot
def _read_back(path, key):
    with uproot.open(path) as f:
        h = f[key]
        return (
            h.classname,
            h.values(flow=True),
            h.variances(flow=True),
            [h.axis(i).edges() for i in range(len(h.axes))],
        )


def test_uproot_writes_th1_th2_th3(tmp_path):
    rng = np.random.default_rng(3)
    lb = filled_linear()
    rl3 = filled_rectilinear(rng)
    rl2 = rl3.project(["x", "z"])
    path = tmp_path / "binnings.root"
    with uproot.recreate(path) as f:
        f["h1"] = lb
        f["h2"] = rl2
        f["h3"] = rl3
    for key, b, classname in (("h1", lb, "TH1D"), ("h2", rl2, "TH2D"), ("h3", rl3, "TH3D")):
        name, values, variances, edges = _read_back(path, key)
        assert name == classname
        assert_array_equal(values, b.values(flow=True))
        assert_array_equal(variances, b.variances(flow=True))
        for read, axis in zip(edges, b.axes, strict=True):
            assert_allclose(read, axis.edges, rtol=1e-12)
    # the flow bins hold the open-ended bins
    _, values, _, _ = _read_back(path, "h1")
    assert values[0] == 1.0
    assert values[-1] == 4.0
    assert values.sum() == lb.get_values_as_ndarray().sum()


def test_uproot_round_trip_through_from_hist(tmp_path):
    rl = filled_rectilinear(np.random.default_rng(4)).project(["x", "z"])
    path = tmp_path / "rl.root"
    with uproot.recreate(path) as f:
        f["rl"] = rl
    with uproot.open(path) as f:
        back = binning.RectilinearBinning.from_hist(f["rl"])
    assert back.variables == ("x", "z")  # from the ROOT axis titles
    # ROOT always has both flow bins: finite outer edges come back as empty open bins
    assert_array_equal(back.bin_edges[0], [-INF, 0.0, 1.0, 3.0, INF])
    assert_array_equal(back.bin_edges[1], [-INF, 0.0, 1.0, 2.0, 4.0, INF])
    grid = back.get_values_as_ndarray(shape=back.bins_shape)
    assert_array_equal(grid[:-1, 1:], rl.get_values_as_ndarray(shape=rl.bins_shape))
    assert not grid[-1].any()
    assert not grid[:, 0].any()
    sumw2 = back.get_sumw2_as_ndarray(shape=back.bins_shape)[:-1, 1:]
    assert_array_equal(sumw2, rl.get_sumw2_as_ndarray(shape=rl.bins_shape))


def test_uproot_keeps_a_one_sided_open_bin(tmp_path):
    lb = binning.LinearBinning("E", [0.0, 10.0, 20.0, INF])
    lb.fill({"E": [5.0, 15.0, 150.0, 250.0]})
    path = tmp_path / "E.root"
    with uproot.recreate(path) as f:
        f["E"] = lb
    _, values, variances, _ = _read_back(path, "E")
    assert values.tolist() == [0.0, 1.0, 1.0, 2.0]
    assert variances.tolist() == [0.0, 1.0, 1.0, 2.0]


def test_uproot_writes_the_hist_of_a_binning(tmp_path):
    lb = filled_linear()
    path = tmp_path / "h.root"
    with uproot.recreate(path) as f:
        f["h"] = lb.to_hist()
    _, values, variances, (edges,) = _read_back(path, "h")
    assert_array_equal(values, lb.values(flow=True))
    assert_array_equal(variances, lb.variances(flow=True))
    assert_allclose(edges, [0.0, 1.0, 2.5])


# -------------------------------------------------------------------------- hist round trip
def test_to_hist_has_weight_storage_and_flow_where_edges_are_infinite():
    lb = filled_linear()
    h = lb.to_hist()
    assert isinstance(h, hist.Hist)
    assert h.storage_type is bh.storage.Weight
    (axis,) = h.axes
    assert isinstance(axis, hist.axis.Variable)
    assert axis.name == "x"
    assert axis.traits.underflow
    assert axis.traits.overflow
    assert_array_equal(h.values(flow=True), lb.get_values_as_ndarray())
    assert_array_equal(h.variances(flow=True), lb.get_sumw2_as_ndarray())
    finite = binning.LinearBinning("x", [0, 1, 2]).to_hist()
    assert not finite.axes[0].traits.underflow
    assert not finite.axes[0].traits.overflow


def test_entries_survive_the_round_trip_of_an_unweighted_fill():
    rl = binning.RectilinearBinning(["x", "y"], [[-INF, 0, 1, 2], [0, 1, 2, INF]])
    rng = np.random.default_rng(5)
    rl.fill({"x": rng.normal(0.5, 1, 500), "y": rng.exponential(1, 500)})
    back = binning.RectilinearBinning.from_hist(rl.to_hist())
    assert back == rl
    assert_array_equal(back.get_entries_as_ndarray(), rl.get_entries_as_ndarray())
    assert_array_equal(back.get_values_as_ndarray(), rl.get_values_as_ndarray())


def test_weighted_entries_become_effective_entries():
    lb = filled_linear()
    back = binning.LinearBinning.from_hist(lb.to_hist())
    assert_array_equal(back.get_values_as_ndarray(), lb.get_values_as_ndarray())
    assert_array_equal(back.get_sumw2_as_ndarray(), lb.get_sumw2_as_ndarray())
    # bin [0, 1): weights 2 and 1 -> 9 / 5 = 1.8 effective entries -> 2
    assert back.get_entries_as_ndarray().tolist() == [1, 2, 1, 2]


finite_edges = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=8, unique=True
).map(sorted)


@st.composite
def edge_lists(draw):
    edges = draw(finite_edges)
    if draw(st.booleans()):
        edges = [-INF, *edges]
    if draw(st.booleans()):
        edges = [*edges, INF]
    return edges


@st.composite
def filled_grids(draw):
    edges = draw(st.lists(edge_lists(), min_size=1, max_size=3))
    n = int(np.prod([len(e) - 1 for e in edges]))
    values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
    sumw2 = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e8)), min_size=n, max_size=n))
    rl = binning.RectilinearBinning([f"v{k}" for k in range(len(edges))], edges)
    rl.set_values_from_ndarray(values)
    rl.set_sumw2_from_ndarray(sumw2)
    return rl


@given(filled_grids())
def test_binning_hist_binning_round_trip_is_exact(rl):
    h = rl.to_hist()
    assert_array_equal(h.values(flow=True).reshape(-1), rl.get_values_as_ndarray())
    assert_array_equal(h.variances(flow=True).reshape(-1), rl.get_sumw2_as_ndarray())
    back = binning.RectilinearBinning.from_hist(h)
    assert back == rl
    for a, b in zip(back.bin_edges, rl.bin_edges, strict=True):
        assert_array_equal(a, b)
    assert_array_equal(back.get_values_as_ndarray(), rl.get_values_as_ndarray())
    assert_array_equal(back.get_sumw2_as_ndarray(), rl.get_sumw2_as_ndarray())
    assert_array_equal(
        back.get_entries_as_ndarray(),
        np.rint(
            rl.counts(flow=True)[
                tuple(
                    slice(0 if a.has_underflow_bin else 1, None if a.has_overflow_bin else -1)
                    for a in rl.axes
                )
            ].reshape(-1)
        ),
    )
    if len(rl.variables) == 1:
        single = binning.LinearBinning.from_hist(h)
        assert_array_equal(single.bin_edges, rl.bin_edges[0])
        assert_array_equal(single.get_values_as_ndarray(), rl.get_values_as_ndarray())


@given(
    st.integers(1, 6),
    st.booleans(),
    st.booleans(),
    st.lists(st.tuples(st.floats(-3, 3), st.floats(0.1, 5)), max_size=40),
)
def test_hist_binning_hist_round_trip_is_exact(n, underflow, overflow, events):
    h = hist.Hist(
        hist.axis.Regular(n, -1.0, 2.0, name="x", underflow=underflow, overflow=overflow),
        storage=hist.storage.Weight(),
    )
    if events:
        x, w = np.array(events).T
        h.fill(x, weight=w)
    back = binning.LinearBinning.from_hist(h).to_hist()
    assert_array_equal(back.axes[0].edges, h.axes[0].edges)
    assert back.axes[0].traits.underflow == underflow
    assert back.axes[0].traits.overflow == overflow
    assert_array_equal(back.values(flow=True), h.values(flow=True))
    assert_array_equal(back.variances(flow=True), h.variances(flow=True))


def test_from_hist_storages_and_options():
    h = hist.Hist.new.Reg(3, 0, 3, name="x").Int64()
    h.fill([0.5, 0.5, 1.5, 7.0])
    lb = binning.LinearBinning.from_hist(h, variable="energy", include_upper=True)
    assert lb.variable == "energy"
    assert lb.include_upper
    assert lb.get_entries_as_ndarray().tolist() == [0, 2, 1, 0, 1]
    assert lb.get_sumw2_as_ndarray().tolist() == [0, 2, 1, 0, 1]
    no_flow = binning.LinearBinning.from_hist(h, flow=False)
    assert no_flow.bin_edges.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert no_flow.get_values_as_ndarray().tolist() == [2.0, 1.0, 0.0]
    plain = bh.Histogram(bh.axis.Variable([0, 1, 4]), storage=bh.storage.Double())
    plain.fill([0.5, 2.0, 3.0])
    rl = binning.RectilinearBinning.from_hist(plain, variables=["x"])
    assert rl.get_values_as_ndarray().tolist() == [0.0, 1.0, 2.0, 0.0]
    assert rl.get_entries_as_ndarray().tolist() == [0, 1, 2, 0]


class _Traits:
    circular = False
    discrete = False


class _MinimalAxis:
    """Only what the UHI protocol promises: no edges, no name, no flow."""

    traits = _Traits()

    def __init__(self, pairs):
        self._pairs = pairs

    def __getitem__(self, i):
        return self._pairs[i]

    def __len__(self):
        return len(self._pairs)

    def __iter__(self):
        return iter(self._pairs)

    def __eq__(self, other):
        return isinstance(other, _MinimalAxis) and self._pairs == other._pairs


class _MinimalHistogram:
    kind = "COUNT"

    def __init__(self, pairs, values, variances):
        self.axes = (_MinimalAxis(pairs),)
        self._values = np.asarray(values, dtype=float)
        self._variances = np.asarray(variances, dtype=float)

    def values(self):
        return self._values

    def variances(self):
        return self._variances

    def counts(self):
        return self._values


def test_from_hist_reads_any_plottable_histogram():
    h = _MinimalHistogram([(0.0, 1.0), (1.0, 4.0)], [2.0, 3.0], [2.0, 9.0])
    assert isinstance(h, PlottableHistogram)
    lb = binning.LinearBinning.from_hist(h, variable="x")
    assert lb.bin_edges.tolist() == [0.0, 1.0, 4.0]
    assert lb.get_values_as_ndarray().tolist() == [2.0, 3.0]
    assert lb.get_entries_as_ndarray().tolist() == [2, 1]
    gap = _MinimalHistogram([(0.0, 1.0), (2.0, 4.0)], [2.0, 3.0], [2.0, 9.0])
    with pytest.raises(ValueError, match="not contiguous"):
        binning.LinearBinning.from_hist(gap, variable="x")
    with pytest.raises(ValueError, match="no name"):
        binning.LinearBinning.from_hist(h)
    negative = _MinimalHistogram([(0.0, 1.0)], [2.0], [-1.0])
    with pytest.raises(ValueError, match="variances must be finite"):
        binning.LinearBinning.from_hist(negative, variable="x")


@pytest.mark.parametrize(
    ("make", "function", "error", "match"),
    [
        (
            lambda: hist.Hist.new.StrCat(["a", "b"], name="c").Weight(),
            "linear",
            TypeError,
            "discrete",
        ),
        (lambda: hist.Hist.new.Integer(0, 3, name="i").Weight(), "linear", TypeError, "discrete"),
        (
            lambda: hist.Hist.new.Reg(4, 0, 6.28, name="phi", circular=True).Weight(),
            "linear",
            TypeError,
            "circular",
        ),
        (
            lambda: hist.Hist.new.Reg(2, 0, 1, name="x").Reg(2, 0, 1, name="y").Weight(),
            "linear",
            ValueError,
            "1 axis; got 2 axes",
        ),
        (lambda: hist.Hist.new.Reg(2, 0, 1, name="x").Mean(), "linear", ValueError, "MEAN"),
        (lambda: hist.Hist.new.Reg(2, 0, 1).Weight(), "rectilinear", ValueError, "no name"),
        (lambda: np.zeros(3), "linear", TypeError, "UHI PlottableHistogram.*ndarray"),
    ],
)
def test_from_hist_rejects_bad_input(make, function, error, match):
    cls = binning.LinearBinning if function == "linear" else binning.RectilinearBinning
    with pytest.raises(error, match=match):
        cls.from_hist(make())


def test_from_hist_rejects_missing_variances_and_bad_names():
    weighted = bh.Histogram(bh.axis.Regular(2, 0, 1), storage=bh.storage.Double())
    weighted.fill([0.2], weight=[2.0])
    with pytest.raises(ValueError, match="no variances"):
        binning.LinearBinning.from_hist(weighted, variable="x")
    two = hist.Hist.new.Reg(2, 0, 1, name="x").Reg(2, 0, 1, name="y").Weight()
    with pytest.raises(ValueError, match="names 1 variables for a histogram with 2 axes"):
        binning.RectilinearBinning.from_hist(two, variables=["x"])
    with pytest.raises(ValueError, match="distinct"):
        binning.RectilinearBinning.from_hist(two, variables=["x", "x"])


# ----------------------------------------------------------------------- response matrices
def small_response() -> migration.ResponseMatrix:
    reco = binning.LinearBinning("reco_x", [-1.0, 0.0, 1.0, 2.0, 3.0])
    truth = binning.RectilinearBinning(["true_x", "true_y"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    resp = migration.ResponseMatrix(reco, truth)
    rng = np.random.default_rng(6)
    tx, ty = rng.uniform(0, 2, 800), rng.uniform(0, 2, 800)
    rx = np.where(rng.uniform(size=800) < 0.8, tx + rng.normal(0, 0.5, 800), np.nan)
    resp.fill({"true_x": tx, "true_y": ty, "reco_x": rx})
    return resp


def test_response_matrix_to_hist():
    resp = small_response()
    mean = resp.to_hist()
    assert mean.axes.name == ("reco", "truth")
    assert isinstance(mean.axes["reco"], hist.axis.Variable)
    assert mean.axes["reco"].label == "reco_x"
    assert_array_equal(mean.axes["reco"].edges, [-1, 0, 1, 2, 3])
    # a 2-D truth binning is numbered by its data indices
    assert isinstance(mean.axes["truth"], hist.axis.Integer)
    assert len(mean.axes["truth"]) == resp.truth_binning.data_size
    assert_array_equal(mean.values(flow=True), resp.get_mean_response_matrix_as_ndarray())
    assert_array_equal(mean.variances(flow=True), resp.get_statistical_variance_as_ndarray())
    entries = resp.to_hist("entries")
    assert entries.storage_type is bh.storage.Int64
    shape = (resp.reco_binning.data_size, resp.truth_binning.data_size)
    assert_array_equal(entries.values(flow=True), resp.get_response_entries_as_ndarray(shape=shape))
    values = resp.to_hist("values")
    assert_array_equal(values.values(flow=True), resp.get_response_values_as_ndarray(shape=shape))
    assert_array_equal(values.variances(flow=True), resp.get_response_sumw2_as_ndarray(shape=shape))
    weighted = resp.to_hist(expected_weight=2.0)
    assert_array_equal(
        weighted.values(flow=True), resp.get_mean_response_matrix_as_ndarray(expected_weight=2.0)
    )
    with pytest.raises(ValueError, match="content must be one of 'mean', 'values', 'entries'"):
        resp.to_hist("efficiency")


def test_response_matrix_with_open_bins_is_numbered():
    reco = binning.LinearBinning("reco_x", [-INF, 0.0, INF])
    truth = binning.LinearBinning("true_x", [0.0, 1.0, 2.0])
    resp = migration.ResponseMatrix(reco, truth)
    resp.fill({"true_x": [0.5, 1.5], "reco_x": [-3.0, 7.0]})
    h = resp.to_hist("entries")
    assert isinstance(h.axes["reco"], hist.axis.Integer)
    assert isinstance(h.axes["truth"], hist.axis.Variable)
    assert h.values().tolist() == [[1, 0], [0, 1]]


def test_response_matrix_written_with_uproot_and_plotted(tmp_path, figure):
    resp = small_response()
    mean = resp.get_mean_response_matrix_as_ndarray()
    path = tmp_path / "response.root"
    with uproot.recreate(path) as f:
        f["mean"] = resp.to_hist()
    with uproot.open(path) as f:
        th2 = f["mean"]
        assert th2.classname == "TH2D"
        assert_array_equal(th2.values(), mean)
        assert_array_equal(th2.variances(), resp.get_statistical_variance_as_ndarray())
        assert_array_equal(th2.axis(0).edges(), [-1, 0, 1, 2, 3])
        assert_array_equal(th2.axis(1).edges(), [0, 1, 2, 3, 4])
        assert not th2.values(flow=True)[[0, -1]].any()
    _, ax = figure
    artists = mplhep.hist2dplot(resp.to_hist(), ax=ax)
    drawn = np.asarray(artists.pcolormesh.get_array()).reshape(4, 4).T
    assert_array_equal(drawn, mean)
