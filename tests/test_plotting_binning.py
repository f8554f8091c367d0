"""get_plotter dispatch, BinningPlotter and LinearBinningPlotter."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning, plotting
from remu._plotting.array import _apply_density, density_factors
from remu._plotting.binning import finite_bin_edges, marginalize_top_subbinnings
from test_plotting_helpers import band_extent, bands, check_png, legend_texts


def _generic_binning_with_subbinnings():
    """Four rectangular bins in x; bin 1 refined by a 3-bin y binning, bin 2 by 2 bins."""
    bins = [
        binning.RectangularBin(variables=["x"], edges=[(float(a), float(a + 1))]) for a in range(4)
    ]
    subbinnings = {
        1: binning.LinearBinning("y", [0.0, 1.0, 2.0, 3.0], dummy=True),
        2: binning.LinearBinning("y", [0.0, 1.0, 2.0], dummy=True),
    }
    return binning.Binning(bins=bins, subbinnings=subbinnings)


# -- dispatch ---------------------------------------------------------------------


def test_get_plotter_dispatch_order():
    lin = binning.LinearBinning("x", [0.0, 1.0, 2.0])
    rect = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    cart = binning.CartesianProductBinning(
        [lin.clone(dummy=True), binning.LinearBinning("y", [0.0, 1.0], dummy=True)]
    )
    rb = binning.RectangularBinning(["x", "y"], [((0, 1), (0, 1)), ((1, 2), (0, 1))])
    generic = _generic_binning_with_subbinnings()
    assert type(plotting.get_plotter(rect)) is plotting.RectilinearBinningPlotter
    assert type(plotting.get_plotter(lin)) is plotting.LinearBinningPlotter
    assert type(plotting.get_plotter(cart)) is plotting.CartesianProductBinningPlotter
    assert type(plotting.get_plotter(rb)) is plotting.BinningPlotter
    assert type(plotting.get_plotter(generic)) is plotting.BinningPlotter
    assert type(plotting.get_plotter(np.zeros(3))) is plotting.ArrayPlotter
    with pytest.raises(TypeError, match="No known Plotter class for type <class 'list'>"):
        plotting.get_plotter([1.0, 2.0])


def test_get_plotter_subclasses_get_their_nearest_base_plotter():
    class MyLinear(binning.LinearBinning):
        pass

    class MyArray(np.ndarray):
        pass

    lin = MyLinear("x", [0.0, 1.0, 2.0])
    assert type(plotting.get_plotter(lin)) is plotting.LinearBinningPlotter
    assert type(plotting.get_plotter(np.zeros(3).view(MyArray))) is plotting.ArrayPlotter


def test_get_plotter_forwards_arguments():
    rect = binning.RectilinearBinning(["x", "y", "z"], [[0, 1, 2], [0, 1], [0, 1, 2, 3]])
    p = plotting.get_plotter(rect, ["y", "z"], ["x"])
    assert p.x_axis_binnings == [1, 2]
    assert p.y_axis_binnings == [0]
    p = plotting.get_plotter(np.zeros(10), bins_per_row=4)
    assert p.bins_per_row == 4


def test_public_names():
    assert sorted(plotting.__all__) == [
        "ArrayPlotter",
        "BinningPlotter",
        "CartesianProductBinningPlotter",
        "LinearBinningPlotter",
        "Plotter",
        "RectilinearBinningPlotter",
        "get_plotter",
    ]
    assert issubclass(plotting.RectilinearBinningPlotter, plotting.CartesianProductBinningPlotter)
    assert issubclass(plotting.CartesianProductBinningPlotter, plotting.BinningPlotter)
    assert issubclass(plotting.LinearBinningPlotter, plotting.BinningPlotter)
    assert issubclass(plotting.BinningPlotter, plotting.ArrayPlotter)
    assert issubclass(plotting.ArrayPlotter, plotting.Plotter)


# -- LinearBinningPlotter ---------------------------------------------------------


def test_linear_worked_example_density_read_back(tmp_path):
    lb = binning.LinearBinning("x", [0, 1, 5, 7, np.inf])
    values = np.array([1.0, 4.0, 2.0, 1.0])
    lb.set_values_from_ndarray(values)
    p = plotting.get_plotter(lb)
    p.plot_values(label="density")
    p.plot_values(density=False, hatch=None, label="absolute")
    p.legend()
    p.savefig(tmp_path / "linear.png")
    check_png(tmp_path / "linear.png")

    _fig, axes = p.figax
    assert axes.shape == (1, 1)
    ax = axes[0, 0]
    assert ax.get_xlabel() == "x"
    assert legend_texts(ax) == ["density", "absolute"]
    edges = np.array([0.0, 1.0, 5.0, 7.0, 9.0])  # the infinite edge mirrors its neighbour
    assert_allclose(p.get_bin_edges(0, 4), edges)
    centres = (edges[1:] + edges[:-1]) / 2
    widths = np.diff(edges)
    density, absolute = bands(ax)
    _, hi = band_extent(density, centres)
    assert_allclose(hi, values / (widths / 9.0))
    _, hi = band_extent(absolute, centres)
    assert_allclose(hi, values)
    assert density.get_hatch() == "//"
    assert absolute.get_hatch() is None
    assert ax.get_xlim()[0] <= 0.0
    assert ax.get_xlim()[1] >= 9.0


def test_linear_bins_per_row_can_be_overridden():
    lb = binning.LinearBinning("E", [0.0, 1.0, 3.0, 4.0, 8.0])
    lb.set_values_from_ndarray([2.0, 2.0, 3.0, 4.0])
    p = plotting.get_plotter(lb, bins_per_row=2)
    p.plot_values()
    axes = p.figax[1]
    assert axes.shape == (2, 1)
    assert axes[-1, 0].get_xlabel() == "E"
    _, hi = band_extent(bands(axes[0, 0])[0], [0.5, 2.0])
    assert_allclose(hi, [2.0 * 3.0 / 1.0, 2.0 * 3.0 / 2.0])  # row range 0..3
    _, hi = band_extent(bands(axes[1, 0])[0], [3.5, 6.0])
    assert_allclose(hi, [3.0 * 5.0 / 1.0, 4.0 * 5.0 / 4.0])  # row range 3..8


def test_linear_entries_sumw2_and_other_binning():
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0, 4.0])
    lb.fill([{"x": 0.5}, {"x": 0.5}, {"x": 3.0}], weight=2.0)
    p = plotting.get_plotter(lb)
    p.plot_entries(density=False, label="entries")
    p.plot_sumw2(density=False, label="sumw2")
    other = lb.clone()
    other.set_values_from_ndarray([5.0, 6.0, 7.0])
    p.plot_values(other, density=False, label="clone")
    ax = p.figax[1][0, 0]
    centres = [0.5, 1.5, 3.0]
    assert_allclose(band_extent(bands(ax)[0], centres)[1], [2, 0, 1])
    assert_allclose(band_extent(bands(ax)[1], centres)[1], [8.0, 0.0, 4.0])
    assert_allclose(band_extent(bands(ax)[2], centres)[1], [5.0, 6.0, 7.0])


def test_linear_subbinnings_are_marginalised():
    sub = binning.LinearBinning("y", [0.0, 1.0, 2.0, 3.0], dummy=True)
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0, 3.0], subbinnings={1: sub})
    assert lb.data_size == 5
    lb.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0, 5.0])
    p = plotting.get_plotter(lb)
    p.plot_values(density=False)
    p.plot_array(np.array([1.0, 1.0, 1.0]), density=False)  # already marginalised
    ax = p.figax[1][0, 0]
    assert_allclose(band_extent(bands(ax)[0], [0.5, 1.5, 2.5])[1], [1.0, 9.0, 5.0])
    assert_allclose(band_extent(bands(ax)[1], [0.5, 1.5, 2.5])[1], [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match=r"expected shape \(3,\) or \(5,\).*got \(4,\)"):
        p.plot_array(np.ones(4))


def test_linear_density_positional_is_rejected():
    lb = binning.LinearBinning("x", [0.0, 1.0, 2.0])
    p = plotting.get_plotter(lb)
    with pytest.raises(TypeError):
        p.plot_array(np.ones(2), False)  # as in ReMU: density is given twice


def test_zero_width_bins_give_inf_without_floating_point_errors():
    # Binnings reject repeated edges, but the density helper must not trip
    # np.seterr(all="raise") on a degenerate row either.
    factors = density_factors(np.array([0.0, 1.0, 1.0, 3.0]))
    assert_allclose(factors, [3.0, np.inf, 1.5])
    assert np.isnan(_apply_density(np.array([1.0, 0.0, 2.0]), factors)[1])


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([0, 1, 5, 7, np.inf], [0, 1, 5, 7, 9]),
        ([-np.inf, 0, 5, 10, np.inf], [-5, 0, 5, 10, 15]),
        ([-np.inf, 0, np.inf], [-1, 0, 1]),
        ([-np.inf, np.inf], [-0.5, 0.5]),
        ([2.0, np.inf], [2.0, 3.0]),
        ([-1, 0, 1], [-1, 0, 1]),
    ],
)
def test_finite_bin_edges(edges, expected):
    assert_allclose(finite_bin_edges(edges), expected)


# -- BinningPlotter ---------------------------------------------------------------


def test_generic_binning_bin_by_bin(tmp_path):
    b = _generic_binning_with_subbinnings()
    assert (b.nbins, b.data_size) == (4, 7)
    values = np.arange(1.0, 8.0)
    b.set_values_from_ndarray(values)
    p = plotting.get_plotter(b)
    p.plot_values(label="values")
    p.plot_entries(label="entries", hatch=None)
    p.legend()
    p.savefig(tmp_path / "generic.png")
    check_png(tmp_path / "generic.png")
    ax = p.figax[1][0, 0]
    assert ax.get_xlabel() == "Bin #"
    assert legend_texts(ax) == ["values", "entries"]
    assert_allclose(band_extent(bands(ax)[0], np.arange(7))[1], values)
    assert_allclose(band_extent(bands(ax)[1], np.arange(7))[1], 0.0)


def test_generic_binning_marginalised_stack():
    b = _generic_binning_with_subbinnings()
    rng = np.random.default_rng(7)
    toys = rng.uniform(0, 10, size=(40, b.data_size))
    p = plotting.BinningPlotter(b, marginalize_subbinnings=True)
    p.plot_array(toys, stack_function=0.68)
    expected = np.array([b.marginalize_subbinnings_on_ndarray(t) for t in toys])
    assert_allclose(marginalize_top_subbinnings(b, toys), expected)
    lo, hi = band_extent(bands(p.figax[1][0, 0])[0], np.arange(4))
    assert_allclose(lo, np.percentile(expected, 16, axis=0))
    assert_allclose(hi, np.percentile(expected, 84, axis=0))
    with pytest.raises(TypeError, match=r"\(4,\) or \(7,\).*got \(6,\)"):
        p.plot_array(np.ones(6))


def test_binning_plotter_rows_of_25():
    b = binning.LinearBinning("x", np.linspace(0.0, 1.0, 31))
    b.set_values_from_ndarray(np.arange(30.0))
    p = plotting.BinningPlotter(b)
    p.plot_values()
    axes = p.figax[1]
    assert axes.shape == (2, 1)
    assert axes[-1, 0].get_xlabel() == "Bin #"
    assert_allclose(band_extent(bands(axes[1, 0])[0], np.arange(25, 30))[1], np.arange(25, 30))


def test_dummy_binning_values_cannot_be_plotted_but_arrays_can():
    b = binning.LinearBinning("x", [0.0, 1.0, 2.0], dummy=True)
    p = plotting.get_plotter(b)
    with pytest.raises(TypeError, match="dummy"):
        p.plot_values()
    p.plot_array(np.array([1.0, 2.0]), density=False)
    assert_array_equal(band_extent(bands(p.figax[1][0, 0])[0], [0.5, 1.5])[1], [1.0, 2.0])


@settings(max_examples=15, deadline=None)
@given(
    widths=hnp.arrays(
        np.float64, st.integers(1, 6), elements=st.floats(0.1, 10.0, allow_subnormal=False)
    ),
    data=st.data(),
)
def test_linear_density_property(widths, data):
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    values = data.draw(
        hnp.arrays(np.float64, widths.size, elements=st.floats(0.0, 100.0, allow_subnormal=False))
    )
    lb = binning.LinearBinning("v", edges)
    lb.set_values_from_ndarray(values)
    p = plotting.get_plotter(lb)
    p.plot_values()
    ax = p.figax[1][0, 0]
    plotted = p.get_bin_edges(0, widths.size)
    _, hi = band_extent(bands(ax)[0], (plotted[1:] + plotted[:-1]) / 2)
    # values down to 1e-302 are drawn: the comparison's tolerance arithmetic underflows
    with np.errstate(under="ignore"):
        assert_allclose(hi, values / (np.diff(plotted) / (plotted[-1] - plotted[0])), rtol=1e-9)
    assert ax.get_xlabel() == "v"
