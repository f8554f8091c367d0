"""ArrayPlotter: layers, stack functions, density, figure handling, errors."""

from __future__ import annotations

import gc
import io
import sys

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from numeric_asserts import assert_allclose
from remu import plotting
from remu._plotting.array import get_stack_functions
from remu._plotting.base import new_subplots
from test_plotting_helpers import band_extent, bands, check_png, legend_texts

ARR = np.array([1.0, 3.0, 2.0, 5.0])


def test_worked_example_two_rows(tmp_path):
    p = plotting.ArrayPlotter(ARR, bins_per_row=3)
    p.plot_array(hatch=None, label="nominal")
    p.plot_array([ARR * 0.9, ARR, ARR * 1.1], stack_function=0.68, label="toys")
    p.legend()
    p.savefig(tmp_path / "array.png")
    check_png(tmp_path / "array.png")

    fig, axes = p.figax
    assert axes.shape == (2, 1)
    assert_allclose(fig.get_size_inches(), [6.4, 4.8])
    assert axes[-1, 0].get_xlabel() == "Bin #"
    assert axes[0, 0].get_xlabel() == ""
    assert legend_texts(axes[0, 0]) == ["nominal", "toys"]
    # Row 0 holds bins 0-2, row 1 bin 3; one band per layer and row.
    assert [len(bands(ax)) for ax in axes[:, 0]] == [2, 2]
    lo, hi = band_extent(bands(axes[0, 0])[0], [0, 1, 2])
    assert_allclose(hi, ARR[:3])
    assert_allclose(lo, 0.0)
    lo, hi = band_extent(bands(axes[1, 0])[1], [3])
    toys = np.array([ARR * 0.9, ARR, ARR * 1.1])
    assert_allclose(lo, np.percentile(toys[:, 3], 16))
    assert_allclose(hi, np.percentile(toys[:, 3], 84))


def test_bins_per_row_below_one_is_a_single_row():
    p = plotting.ArrayPlotter(np.arange(60.0), bins_per_row=0)
    p.plot_array()
    assert p.figax[1].shape == (1, 1)
    p = plotting.ArrayPlotter(np.arange(60.0))
    p.plot_array()
    axes = p.figax[1]
    assert axes.shape == (3, 1)
    assert_allclose(p.figax[0].get_size_inches(), [6.4, 7.2])
    _lo, hi = band_extent(bands(axes[2, 0])[0], np.arange(50, 60))
    assert_allclose(hi, np.arange(50.0, 60.0))


def test_bin_edges_centred_on_integers():
    p = plotting.ArrayPlotter(ARR)
    assert_allclose(p.get_bin_edges(2, 5), [1.5, 2.5, 3.5, 4.5])
    assert p.get_axis_label() == "Bin #"


@pytest.mark.parametrize("q", [0.68, 0.95, 0.5])
def test_quantile_band_matches_percentiles(q):
    rng = np.random.default_rng(3)
    toys = rng.normal(10.0, 2.0, size=(200, 7))
    p = plotting.ArrayPlotter(toys[0], bins_per_row=-1)
    p.plot_array(toys, stack_function=q)
    lo, hi = band_extent(bands(p.figax[1][0, 0])[0], np.arange(7))
    assert_allclose(lo, np.percentile(toys, 50 * (1 - q), axis=0), rtol=1e-12)
    assert_allclose(hi, np.percentile(toys, 100 - 50 * (1 - q), axis=0), rtol=1e-12)


def test_pair_and_single_stack_functions():
    rng = np.random.default_rng(4)
    toys = rng.poisson(20.0, size=(30, 5))
    p = plotting.ArrayPlotter(toys[0])
    p.plot_array(toys, stack_function=(np.min, np.max))
    p.plot_array(toys, stack_function=np.median)
    p.plot_array(list(toys))  # default np.mean, a list of arrays is a stack too
    ax = p.figax[1][0, 0]
    lo, hi = band_extent(bands(ax)[0], np.arange(5))
    assert_allclose(lo, toys.min(axis=0))
    assert_allclose(hi, toys.max(axis=0))
    lo, hi = band_extent(bands(ax)[1], np.arange(5))
    assert_allclose(lo, 0.0)
    assert_allclose(hi, np.median(toys, axis=0))
    lo, hi = band_extent(bands(ax)[2], np.arange(5))
    assert_allclose(hi, toys.mean(axis=0))


def test_density_divides_by_relative_width_per_row():
    values = np.array([2.0, 4.0, 6.0, 8.0])
    p = plotting.ArrayPlotter(values, bins_per_row=3)
    p.plot_array(density=True)
    axes = p.figax[1]
    _, hi = band_extent(bands(axes[0, 0])[0], [0, 1, 2])
    assert_allclose(hi, values[:3] * 3)  # three unit-width bins in the row
    _, hi = band_extent(bands(axes[1, 0])[0], [3])
    assert_allclose(hi, values[3:])  # the last row has one bin: relative width 1


def test_style_cycles_always_advance():
    p = plotting.ArrayPlotter(ARR)
    p.plot_array(color="red", label="filled")
    p.plot_array(label="second")
    p.plot_array(label="third")
    first, second, third = bands(p.figax[1][0, 0])
    # color= colours face and edge alike: a filled band.
    assert_allclose(first.get_facecolor()[0], to_rgba("red"))
    assert_allclose(first.get_edgecolor()[0], to_rgba("red"))
    assert first.get_hatch() == "//"
    # The cycles moved on although the first call set its colour itself.
    assert_allclose(second.get_edgecolor()[0], to_rgba("C1"))
    assert len(second.get_facecolor()) == 0  # facecolor "none": an unfilled outline
    assert second.get_hatch() == "\\\\"
    assert_allclose(third.get_edgecolor()[0], to_rgba("C2"))
    assert third.get_hatch() == "O"
    p.plot_array(hatch=None, edgecolor="k", linestyle="dashed", alpha=0.5)
    fourth = bands(p.figax[1][0, 0])[3]
    assert fourth.get_hatch() is None
    assert_allclose(fourth.get_edgecolor()[0][:3], [0, 0, 0])


def test_margin_function_scatter_and_rng_are_accepted_and_ignored():
    p = plotting.ArrayPlotter(ARR)
    p.plot_array(margin_function=np.max, scatter=500, rng=1, label="x")
    _, hi = band_extent(bands(p.figax[1][0, 0])[0], np.arange(4))
    assert_allclose(hi, ARR)


def test_integer_arrays_and_sticky_lower_edge():
    entries = np.array([3, 0, 7, 2])
    p = plotting.ArrayPlotter(entries)
    p.plot_array(stack_function=(np.min, np.max), array=[entries + 5, entries + 10])
    ax = p.figax[1][0, 0]
    assert ax.get_ylim()[0] == pytest.approx(5.0)


def test_wrong_shape_names_expected_and_got():
    p = plotting.ArrayPlotter(ARR)
    with pytest.raises(TypeError, match=r"expected shape \(4,\).*got \(3,\)"):
        p.plot_array(np.ones(3))
    with pytest.raises(TypeError, match=r"got \(2, 5\)"):
        p.plot_array(np.ones((2, 5)))
    with pytest.raises(TypeError, match=r"expected shape \(4,\).*got \(3,\)"):
        p.plot_array([np.ones(4), np.ones(3)])
    with pytest.raises(TypeError, match="numeric"):
        p.plot_array(np.array(["a", "b", "c", "d"]))
    assert p.figax is None  # nothing was drawn by failed calls


def test_bad_stack_functions():
    p = plotting.ArrayPlotter(ARR)
    with pytest.raises(TypeError, match="unknown stack_function"):
        p.plot_array(stack_function="median")
    with pytest.raises(TypeError, match="unknown stack_function"):
        p.plot_array(stack_function=(np.min, 3))
    with pytest.raises(ValueError, match=r"within \[0, 1\]"):
        p.plot_array(stack_function=1.5)
    with pytest.raises(ValueError, match="returned shape"):
        # takes axis like a NumPy reduction, but ignores it: the shape comes out wrong
        p.plot_array(stack_function=lambda x, axis=0: np.sum(x))  # noqa: ARG005
    assert plotting.ArrayPlotter._get_stack_functions is get_stack_functions
    _lo, hi = get_stack_functions(np.float64(0.9))
    assert_allclose(hi(np.arange(11.0), axis=0), 9.5)


def test_other_bad_input():
    with pytest.raises(TypeError, match="bins_per_row"):
        plotting.ArrayPlotter(ARR, bins_per_row=2.5)
    p = plotting.ArrayPlotter(np.zeros(0))
    with pytest.raises(ValueError, match="no bins"):
        p.plot_array()
    p = plotting.ArrayPlotter(ARR)
    with pytest.raises(TypeError, match="nothing has been plotted"):
        p.savefig(io.BytesIO())
    with pytest.raises(TypeError, match="nothing has been plotted"):
        p.legend()


def test_user_supplied_figax_is_used():
    fig, axes = new_subplots(nrows=1, squeeze=False)
    p = plotting.ArrayPlotter(ARR, figax=(fig, axes))
    p.plot_array(label="a")
    assert p.figax[0] is fig
    assert len(bands(axes[0, 0])) == 1


def test_existing_figure_is_reused():
    p = plotting.ArrayPlotter(ARR)
    fig1 = p.subplots(nrows=1, squeeze=False)[0]
    assert p.subplots(nrows=5)[0] is fig1


def test_savefig_formats_and_atomic_names(tmp_path):
    p = plotting.ArrayPlotter(ARR)
    p.plot_array(label="a")
    p.savefig(str(tmp_path / "plain"))  # bare name: default format appended
    check_png(tmp_path / "plain.png")
    p.savefig(tmp_path / "out.pdf")
    assert (tmp_path / "out.pdf").read_bytes()[:4] == b"%PDF"
    p.savefig(tmp_path / "out.svg", bbox_inches=None)
    assert b"<svg" in (tmp_path / "out.svg").read_bytes()[:1000]
    buffer = io.BytesIO()
    p.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="not supported"):
        p.savefig(tmp_path / "out.unknownformat")
    # No temporary files are left behind, failed or not.
    assert sorted(f.name for f in tmp_path.iterdir()) == ["out.pdf", "out.svg", "plain.png"]


def test_detached_figure_without_pyplot(monkeypatch):
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)
    p = plotting.ArrayPlotter(ARR)
    p.plot_array()
    fig = p.figax[0]
    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None  # not registered with any GUI/pyplot manager
    assert "matplotlib.pyplot" not in sys.modules
    del p
    gc.collect()
    fig.savefig(io.BytesIO(), format="png")


def test_pyplot_figures_are_closed_when_the_plotter_goes(monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()

    def no_show(*_args, **_kwargs):
        raise AssertionError("plotters must never call show()")

    monkeypatch.setattr(plt, "show", no_show)
    p = plotting.ArrayPlotter(ARR)
    p.plot_array(label="a")
    p.legend()
    fig = p.figax[0]
    number = fig.number
    assert plt.fignum_exists(number)
    p.savefig(io.BytesIO(), format="png")
    del p
    gc.collect()
    assert not plt.fignum_exists(number)
    fig.savefig(io.BytesIO(), format="png")  # the Figure object stays usable
    assert matplotlib.get_backend() == backend  # never switched
