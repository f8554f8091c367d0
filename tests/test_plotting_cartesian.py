"""Corner plots: CartesianProductBinningPlotter and RectilinearBinningPlotter."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.colors import to_rgba

from numeric_asserts import assert_allclose
from remu import binning, plotting
from test_plotting_helpers import band_extent, bands, check_png, legend_texts


def meshes(ax):
    return [c for c in ax.collections if isinstance(c, QuadMesh)]


def scatters(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def mesh_values(mesh, shape):
    return np.asarray(mesh.get_array(), dtype=float).reshape(shape)


def centres(edges):
    edges = np.asarray(edges, dtype=float)
    return (edges[1:] + edges[:-1]) / 2


def test_worked_example_corner(tmp_path):
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    rb.set_values_from_ndarray(np.arange(6.0))
    p = plotting.get_plotter(rb, x_axis_binnings=["x"], y_axis_binnings=["y"])
    p.plot_values(density=False, margin_function=np.max, label="max")
    p.plot_values(density=False, margin_function=np.min, label="min", scatter=500, rng=5)
    p.legend()
    p.savefig(tmp_path / "corner.png")
    check_png(tmp_path / "corner.png")

    _fig, axes = p.figax
    assert axes.shape == (2, 2)
    grid = np.arange(6.0).reshape(3, 2)  # [ix, iy]
    assert not axes[0, 1].axison  # the legend slot
    assert legend_texts(axes[0, 1]) == ["max", "min"]
    assert axes[1, 0].get_xlabel() == "x"
    assert axes[1, 0].get_ylabel() == "y"
    # Top: x margins (max, then min over y); right: y margins drawn sideways.
    top = bands(axes[0, 0])
    assert_allclose(band_extent(top[0], [0.5, 1.5, 2.5])[1], grid.max(axis=1))
    assert_allclose(band_extent(top[1], [0.5, 1.5, 2.5])[1], grid.min(axis=1))
    right = bands(axes[1, 1])
    assert_allclose(band_extent(right[0], [0.5, 1.5], vertical=True)[1], grid.max(axis=0))
    assert_allclose(band_extent(right[1], [0.5, 1.5], vertical=True)[1], grid.min(axis=0))
    # 2-D panel: the first layer is a colour map (rows y, columns x) ...
    (mesh,) = meshes(axes[1, 0])
    assert_allclose(mesh_values(mesh, (2, 3)), grid.T)
    # ... the second 500 points in the second layer's colour, inside the cells with content.
    (points,) = scatters(axes[1, 0])
    xy = points.get_offsets()
    assert xy.shape == (500, 2)
    assert_allclose(points.get_facecolor()[0], to_rgba("C1"))
    assert np.all((xy >= 0) & (xy <= [3, 2]))
    assert not np.any((xy[:, 0] < 1) & (xy[:, 1] < 1))  # the empty cell (0, 0)


def test_figure_size_and_layout_two_binnings():
    bx = binning.LinearBinning("a", np.arange(6.0), dummy=True)
    by = binning.LinearBinning("b", np.arange(5.0), dummy=True)
    cp = binning.CartesianProductBinning([bx, by])
    cp.set_values_from_ndarray(np.ones(20))
    p = plotting.get_plotter(cp)
    p.plot_values()
    fig, axes = p.figax
    assert axes.shape == (2, 2)
    assert_allclose(fig.get_size_inches(), [5.5, 4.7])
    assert axes[1, 0].get_xlabel() == "Binning 0 Bin #"
    assert axes[1, 0].get_ylabel() == "Binning 1 Bin #"
    # Bin-number axes: integer-centred edges.
    assert_allclose(p.get_bin_edges(0, 3, 1), [-0.5, 0.5, 1.5, 2.5])


def test_three_variables_default_axes_and_density(tmp_path):
    edges = [[0.0, 1.0, 3.0], [-np.inf, 0.0, 2.0, 3.0], [0.0, 0.5, 2.0, 4.0, np.inf]]
    rb = binning.RectilinearBinning(["x", "y", "z"], edges)
    rng = np.random.default_rng(11)
    values = rng.uniform(1.0, 5.0, size=rb.bins_shape)
    rb.set_values_from_ndarray(values)
    p = plotting.get_plotter(rb)
    assert (p.x_axis_binnings, p.y_axis_binnings) == ([0, 1], [2])
    p.plot_values(label="values")
    p.legend()
    p.savefig(tmp_path / "corner3.png")
    check_png(tmp_path / "corner3.png")

    _fig, axes = p.figax
    assert axes.shape == (2, 3)
    assert [ax.get_xlabel() for ax in axes[1, :2]] == ["x", "y"]
    assert axes[1, 0].get_ylabel() == "z"
    assert legend_texts(axes[0, 2]) == ["values"]
    fx = [0.0, 1.0, 3.0]
    fy = [-2.0, 0.0, 2.0, 3.0]
    fz = [0.0, 0.5, 2.0, 4.0, 6.0]
    assert_allclose(p.get_bin_edges(0, 3, 1), fy)
    assert_allclose(p.get_bin_edges(0, 4, 2), fz)

    def factor(e):
        e = np.asarray(e)
        return (e[-1] - e[0]) / np.diff(e)

    # 1-D margins: sums over the other variables divided by relative widths.
    x_margin = values.sum(axis=(1, 2)) * factor(fx)
    assert_allclose(band_extent(bands(axes[0, 0])[0], centres(fx))[1], x_margin)
    y_margin = values.sum(axis=(0, 2)) * factor(fy)
    assert_allclose(band_extent(bands(axes[0, 1])[0], centres(fy))[1], y_margin)
    z_margin = values.sum(axis=(0, 1)) * factor(fz)
    right = bands(axes[1, 2])[0]
    assert_allclose(band_extent(right, centres(fz), vertical=True)[1], z_margin)
    # 2-D panel (y vs z): sum over x, divided by both relative widths.
    expected = values.sum(axis=0).T * factor(fy)[np.newaxis, :] * factor(fz)[:, np.newaxis]
    (mesh,) = meshes(axes[1, 1])
    assert_allclose(mesh_values(mesh, (4, 3)), expected)


def test_density_list_selects_binnings():
    rb = binning.RectilinearBinning(["x", "y"], [[0.0, 1.0, 4.0], [0.0, 2.0, 3.0]])
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    rb.set_values_from_ndarray(values)
    p = plotting.get_plotter(rb)
    p.plot_values(density=[0])
    axes = p.figax[1]
    assert_allclose(
        band_extent(bands(axes[0, 0])[0], [0.5, 2.5])[1], values.sum(axis=1) * [4.0, 4.0 / 3.0]
    )
    assert_allclose(
        band_extent(bands(axes[1, 1])[0], [1.0, 2.5], vertical=True)[1], values.sum(axis=0)
    )
    (mesh,) = meshes(axes[1, 0])
    assert_allclose(mesh_values(mesh, (2, 2)), values.T * [4.0, 4.0 / 3.0])


def test_single_variable_has_a_legend_panel():
    rb = binning.RectilinearBinning(["x"], [[0.0, 1.0, 2.0, 4.0]])
    rb.set_values_from_ndarray([1.0, 2.0, 3.0])
    p = plotting.get_plotter(rb)
    p.plot_values(density=False, label="only")
    p.legend()
    axes = p.figax[1]
    assert axes.shape == (1, 2)
    assert not axes[0, 1].axison
    assert axes[0, 0].get_xlabel() == "x"
    assert legend_texts(axes[0, 1]) == ["only"]
    assert_allclose(band_extent(bands(axes[0, 0])[0], [0.5, 1.5, 3.0])[1], [1, 2, 3])


def test_y_only_axes_legend_from_the_margin():
    rb = binning.RectilinearBinning(["x", "y"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    rb.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0])
    p = plotting.get_plotter(rb, [], ["x", "y"])
    p.plot_values(density=False, label="layer")
    p.legend()
    axes = p.figax[1]
    assert axes.shape == (3, 1)
    assert legend_texts(axes[0, 0]) == ["layer"]
    assert [axes[r, 0].get_ylabel() for r in (2, 1)] == ["x", "y"]  # bottom to top


def test_stack_band_margins_and_median_map():
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    rng = np.random.default_rng(2)
    samples = rng.poisson(50, size=(300, rb.data_size)).astype(float)
    p = plotting.get_plotter(rb)
    p.plot_array(samples, stack_function=np.median, label="median", hatch=None, density=False)
    p.plot_array(samples, stack_function=0.68, label="68%", scatter=0, density=False)
    p.legend()
    axes = p.figax[1]
    assert legend_texts(axes[0, 1]) == ["median", "68%"]
    grid = samples.reshape(300, 3, 2)
    x_sums = grid.sum(axis=2)
    lo, hi = band_extent(bands(axes[0, 0])[1], [0.5, 1.5, 2.5])
    assert_allclose(lo, np.percentile(x_sums, 16, axis=0))
    assert_allclose(hi, np.percentile(x_sums, 84, axis=0))
    # scatter=0 leaves the median's colour map as the only thing in the 2-D panel.
    assert [len(s.get_offsets()) for s in scatters(axes[1, 0])] == [0]
    (mesh,) = meshes(axes[1, 0])
    assert_allclose(mesh_values(mesh, (2, 3)), np.median(grid, axis=0).T)


@pytest.mark.parametrize("margin", [np.sum, np.max, np.min, np.mean, np.median])
def test_margin_functions_on_cartesian_product(margin):
    lin = binning.LinearBinning("a", [0.0, 1.0, 2.0], dummy=True)
    sub = binning.LinearBinning("s", [0.0, 1.0, 2.0, 3.0], dummy=True)
    with_sub = binning.LinearBinning("b", [0.0, 1.0, 2.0], subbinnings={0: sub}, dummy=True)
    third = binning.LinearBinning("c", [0.0, 1.0, 2.0, 3.0, 4.0], dummy=True)
    cp = binning.CartesianProductBinning([lin, with_sub, third])
    assert cp.bins_shape == (2, 4, 4)
    values = np.arange(32.0) ** 1.5
    cp.set_values_from_ndarray(values)
    p = plotting.get_plotter(cp)
    p.plot_values(density=False, margin_function=margin)
    axes = p.figax[1]
    grid = values.reshape(2, 4, 4)
    assert_allclose(band_extent(bands(axes[0, 0])[0], [0, 1])[1], margin(grid, axis=(1, 2)))
    assert_allclose(band_extent(bands(axes[0, 1])[0], [0, 1, 2, 3])[1], margin(grid, axis=(0, 2)))
    assert_allclose(
        band_extent(bands(axes[1, 2])[0], [0, 1, 2, 3], vertical=True)[1],
        margin(grid, axis=(0, 1)),
    )
    (mesh,) = meshes(axes[1, 1])
    assert_allclose(mesh_values(mesh, (4, 4)), margin(grid, axis=0).T)


def test_top_level_subbinnings_of_the_product_are_marginalised():
    bx = binning.LinearBinning("x", [0.0, 1.0, 2.0], dummy=True)
    by = binning.LinearBinning("y", [0.0, 1.0, 2.0], dummy=True)
    cp = binning.CartesianProductBinning(
        [bx, by], subbinnings={1: binning.LinearBinning("z", [0.0, 1.0, 2.0])}
    )
    assert (cp.nbins, cp.data_size) == (4, 5)
    cp.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0, 5.0])
    p = plotting.get_plotter(cp)
    p.plot_values(density=False)
    (mesh,) = meshes(p.figax[1][1, 0])
    assert_allclose(mesh_values(mesh, (2, 2)), np.array([[1.0, 5.0], [4.0, 5.0]]).T)


def test_grid_shaped_arrays_are_accepted():
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    grid = np.arange(6.0).reshape(3, 2)
    p = plotting.get_plotter(rb)
    p.plot_array(np.stack([grid, 2 * grid]), density=False, stack_function=np.max)
    (mesh,) = meshes(p.figax[1][1, 0])
    assert_allclose(mesh_values(mesh, (2, 3)), 2 * grid.T)


def test_scatter_reproducible_and_proportional():
    rb = binning.RectilinearBinning(["x", "y"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    rb.set_values_from_ndarray([0.0, 1.0, 3.0, 0.0])  # cells (x0,y1)=1, (x1,y0)=3

    def offsets(**kwargs):
        p = plotting.get_plotter(rb)
        p.plot_values(scatter=4000, **kwargs)
        return scatters(p.figax[1][1, 0])[0].get_offsets()

    a, b = offsets(rng=42), offsets(rng=42)
    assert_allclose(a, b)
    np.random.seed(3)
    c = offsets()
    np.random.seed(3)
    assert_allclose(c, offsets())
    in_x1_y0 = np.mean((a[:, 0] > 1) & (a[:, 1] < 1))
    in_x0_y1 = np.mean((a[:, 0] < 1) & (a[:, 1] > 1))
    assert in_x1_y0 + in_x0_y1 == 1.0
    assert in_x1_y0 == pytest.approx(0.75, abs=0.03)


def test_all_zero_projection():
    rb = binning.RectilinearBinning(["x", "y"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    p = plotting.get_plotter(rb)
    p.plot_values(scatter=100, label="scatter")  # all zero: draws nothing (0.8.0: IndexError)
    assert scatters(p.figax[1][1, 0]) == []
    p.plot_values(label="map")
    (mesh,) = meshes(p.figax[1][1, 0])
    assert_allclose(mesh_values(mesh, (2, 2)), 0.001)


def test_forced_constructor_options_and_figax():
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    p = plotting.RectilinearBinningPlotter(rb, bins_per_row=3, marginalize_subbinnings=False)
    assert p.bins_per_row == -1
    assert p.marginalize_subbinnings is True
    first = plotting.get_plotter(rb)
    first.plot_values()
    p2 = plotting.get_plotter(rb, figax=first.figax)
    p2.plot_values()
    assert p2.figax[0] is first.figax[0]
    assert len(bands(first.figax[1][0, 0])) == 2


def test_subclass_axis_labels_are_used():
    class ResponseLike(plotting.CartesianProductBinningPlotter):
        def get_axis_label(self, j_binning):
            return {0: "Reco Bin #", 1: "Truth Bin #"}.get(j_binning, "?")

    reco = binning.LinearBinning("r", [0.0, 1.0, 2.0, 3.0], dummy=True)
    truth = binning.LinearBinning("t", [0.0, 1.0, 2.0], dummy=True)
    cp = binning.CartesianProductBinning([reco, truth])
    p = ResponseLike(cp, x_axis_binnings=[1], y_axis_binnings=[0])
    p.plot_array(np.arange(6.0), hatch=None, density=False, margin_function=np.sum)
    axes = p.figax[1]
    assert axes[1, 0].get_xlabel() == "Truth Bin #"
    assert axes[1, 0].get_ylabel() == "Reco Bin #"
    (mesh,) = meshes(axes[1, 0])
    assert_allclose(mesh_values(mesh, (3, 2)), np.arange(6.0).reshape(3, 2))


def test_bad_axis_selections_and_arrays():
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError, match="no variable 'w'"):
        plotting.get_plotter(rb, ["w"], ["y"])
    with pytest.raises(ValueError, match="got 5"):
        plotting.get_plotter(rb, [5], ["y"])
    with pytest.raises(ValueError, match="both the x and the y axes"):
        plotting.get_plotter(rb, ["x"], ["x"])
    p = plotting.get_plotter(rb, "y", "x")  # a single name as a string
    assert (p.x_axis_binnings, p.y_axis_binnings) == ([1], [0])
    with pytest.raises(TypeError, match=r"expected shape \(4,\).*got \(5,\)"):
        p.plot_array(np.ones(5))
    with pytest.raises(TypeError, match="unknown stack_function"):
        p.plot_values(stack_function="mean")
    with pytest.raises(ValueError, match="margin_function"):
        # takes axis like a NumPy reduction, but reduces nothing
        p.plot_values(margin_function=lambda a, axis: a)  # noqa: ARG005


def test_two_y_variables_stack_bottom_to_top():
    rb = binning.RectilinearBinning(
        ["a", "b", "c"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0, 4.0]]
    )
    values = np.arange(24.0)
    rb.set_values_from_ndarray(values)
    p = plotting.get_plotter(rb, ["a"], ["b", "c"])
    p.plot_values(density=False)
    axes = p.figax[1]
    assert axes.shape == (3, 2)
    grid = values.reshape(2, 3, 4)
    assert [axes[r, 0].get_ylabel() for r in (2, 1)] == ["b", "c"]
    assert axes[2, 0].get_xlabel() == "a"
    (bottom,) = meshes(axes[2, 0])  # a vs b
    assert_allclose(mesh_values(bottom, (3, 2)), grid.sum(axis=2).T)
    (middle,) = meshes(axes[1, 0])  # a vs c
    assert_allclose(mesh_values(middle, (4, 2)), grid.sum(axis=1).T)
    c_margin = bands(axes[1, 1])[0]
    assert_allclose(
        band_extent(c_margin, [0.5, 1.5, 2.5, 3.5], vertical=True)[1], grid.sum(axis=(0, 1))
    )
    # The figure is taller than wide: two y variables, one x variable.
    width, height = p.figax[0].get_size_inches()
    assert height > width
