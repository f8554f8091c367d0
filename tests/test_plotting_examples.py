"""The usage examples of remu.plotting run as written."""

from __future__ import annotations

import numpy as np

from numeric_asserts import assert_allclose
from remu import binning, plotting
from test_plotting_helpers import check_png, legend_texts


def test_worked_usage_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    # plain arrays, with a stack of toys shown as a 68% band
    arr = np.array([1.0, 3.0, 2.0, 5.0])
    p = plotting.get_plotter(arr, bins_per_row=3)  # 2 rows of panels
    p.plot_array(hatch=None, label="nominal")
    p.plot_array([arr * 0.9, arr, arr * 1.1], stack_function=0.68, label="toys")
    p.legend()
    p.savefig("array.png")
    assert p.figax[1].shape == (2, 1)

    # 1-D binning: density by default
    lb = binning.LinearBinning("x", [0, 1, 5, 7, np.inf])
    lb.set_values_from_ndarray([1.0, 4.0, 2.0, 1.0])
    p = plotting.get_plotter(lb)
    p.plot_values(label="density")
    p.plot_values(density=False, hatch=None, label="absolute")
    p.legend()
    p.savefig("linear.png")
    assert legend_texts(p.figax[1][0, 0]) == ["density", "absolute"]

    # 2-D binning: corner plot, projections with different margin functions
    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    rb.set_values_from_ndarray(np.arange(6.0))
    p = plotting.get_plotter(rb, x_axis_binnings=["x"], y_axis_binnings=["y"])
    p.plot_values(density=False, margin_function=np.max, label="max")
    p.plot_values(density=False, margin_function=np.min, label="min", scatter=500)
    p.legend()
    fig, axes = p.figax  # axes.shape == (2, 2); axes[0, 1] is the legend slot
    assert axes.shape == (2, 2)
    assert fig is p.figax[0]
    assert not axes[0, 1].axison
    p.savefig("corner.png")

    for name in ("array.png", "linear.png", "corner.png"):
        check_png(tmp_path / name)


def test_typical_use_with_filled_binning(tmp_path):
    reco = binning.RectilinearBinning(["x", "y"], [np.linspace(-3, 3, 13), np.linspace(0, 2, 9)])
    rng = np.random.default_rng(0)
    events = np.zeros(5000, dtype=[("x", float), ("y", float)])
    events["x"] = rng.normal(0.0, 1.0, 5000)
    events["y"] = rng.exponential(0.6, 5000)
    reco.fill(events)
    pltr = plotting.get_plotter(reco)
    pltr.plot_values(label="values")
    pltr.plot_entries(density=False, label="entries", hatch=None)
    pltr.plot_sumw2(label="sumw2", scatter=300, rng=1)
    pltr.legend()
    pltr.savefig(tmp_path / "out.png")
    check_png(tmp_path / "out.png", min_bytes=10000)
    axes = pltr.figax[1]
    assert legend_texts(axes[0, -1]) == ["values", "entries", "sumw2"]
    assert (axes[1, 0].get_xlabel(), axes[1, 0].get_ylabel()) == ("x", "y")
    # The x margin of the entries layer holds the number of filled events per x bin.
    counts = np.histogram2d(
        events["x"], events["y"], [np.linspace(-3, 3, 13), np.linspace(0, 2, 9)]
    )[0]
    heights = axes[0, 0].collections[1].get_paths()[0].vertices[:, 1]
    assert_allclose(heights.max(), counts.sum(axis=1).max())
