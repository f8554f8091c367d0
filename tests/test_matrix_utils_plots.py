"""matrix_utils plots: the tutorial's matrix-quality figures can be produced."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from remu import binning, matrix_utils, migration, plotting


def make(seed, truth=None, shift=0.0, n=3000, **kwargs):
    reco = binning.LinearBinning("reco_x", np.linspace(0, 4, 5))
    if truth is None:
        truth = binning.RectilinearBinning(["true_x", "true_y"], [[0, 1, 2, 3, 4], [0, 1, 2]])
    rm = migration.ResponseMatrix(reco, truth, **kwargs)
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 4, n)
    y = rng.uniform(0, 2, n)
    r = np.where(rng.random(n) < 0.7, t + shift + rng.normal(0, 0.5, n), np.nan)
    rm.fill(np.rec.fromarrays([t, y, r], names="true_x,true_y,reco_x"))
    return rm


@pytest.fixture(scope="module")
def pair():
    return make(1), make(2)


def _drawn_y(axes):
    """All y coordinates of the bands drawn (fill_between collections)."""
    return np.concatenate(
        [
            path.vertices[:, 1]
            for ax in np.ravel(axes)
            for coll in ax.collections
            for path in coll.get_paths()
        ]
    )


def test_plot_mahalanobis_distance(pair, tmp_path):
    a, b = pair
    fig, axes = matrix_utils.plot_mahalanobis_distance(a, b, tmp_path / "d2.png", rng=1)
    assert isinstance(fig, Figure)
    assert isinstance(axes, np.ndarray)
    assert (tmp_path / "d2.png").stat().st_size > 0
    labels = {
        t.get_text() for ax in axes.ravel() if ax.get_legend() for t in ax.get_legend().get_texts()
    }
    assert {"expected", r"$D_M^2$"} <= labels
    with pytest.raises(TypeError):
        matrix_utils.plot_mahalanobis_distance(a, b, label="x", rng=1)
    fig, axes = matrix_utils.plot_mahalanobis_distance(a, b, plot_expectation=False, rng=1)
    assert all(ax.get_legend() is None for ax in np.ravel(axes))


def test_plot_compatibility(pair, tmp_path):
    a, b = pair
    _fig, ax = matrix_utils.plot_compatibility(a, b, tmp_path / "comp.png", min_quality=0.5, rng=2)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == r"$D_M^2$"
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith(r"$\chi^2$ distribution, C=") for t in texts)
    assert any(t.startswith("actual distribution, C=") for t in texts)
    assert "null distance" in texts
    assert (tmp_path / "comp.png").stat().st_size > 0


def test_plot_mean_response_matrix(pair, tmp_path):
    a, _ = pair
    _fig, axes = matrix_utils.plot_mean_response_matrix(a, tmp_path / "resp.png")
    assert isinstance(axes, np.ndarray)
    assert (tmp_path / "resp.png").stat().st_size > 0
    plotter = matrix_utils._ResponsePlotter(a.response_binning)
    assert isinstance(plotter, plotting.CartesianProductBinningPlotter)
    assert plotter.get_axis_label(0) == "Reco Bin #"
    assert plotter.get_axis_label(1) == "Truth Bin #"
    assert plotter.get_axis_label(2) == "Binning 2 Bin #"
    xlabels = {ax.get_xlabel() for ax in np.ravel(axes)}
    assert "Truth Bin #" in xlabels


@pytest.mark.parametrize(
    "name",
    [
        "plot_mean_efficiency",
        "plot_in_bin_variation",
        "plot_relative_in_bin_variation",
        "plot_statistical_uncertainty",
    ],
)
def test_per_truth_bin_plots(pair, tmp_path, name):
    a, _ = pair
    out = tmp_path / f"{name}.png"
    fig, axes = getattr(matrix_utils, name)(a, out)
    assert isinstance(fig, Figure)
    assert out.stat().st_size > 0
    labels = {
        t.get_text()
        for ax in np.ravel(axes)
        if ax.get_legend()
        for t in ax.get_legend().get_texts()
    }
    assert labels == {"min", "max", "median"}


def test_mean_efficiency_values_in_1d_plot():
    rm = make(3, truth=binning.LinearBinning("true_x", [0, 1, 2, 3, 4]), nuisance_indices=[0])
    _fig, axes = matrix_utils.plot_mean_efficiency(rm, nuisance_value=-1.0, density=False)
    eff = rm.get_mean_response_matrix_as_ndarray().sum(axis=0)
    eff[0] = -1.0
    ys = _drawn_y(axes)
    for value in eff:
        assert np.any(np.isclose(ys, value))


def test_plots_with_subbinnings_use_bin_numbers(tmp_path):
    truth = binning.LinearBinning(
        "true_x", [0, 2, 4], subbinnings={0: binning.LinearBinning("true_y", [0, 1, 2])}
    )
    rm = make(4, truth=truth)
    _fig, axes = matrix_utils.plot_statistical_uncertainty(rm, tmp_path / "s.png")
    assert all(ax.get_legend() is None for ax in np.ravel(axes))
    sd = np.sqrt(rm.get_statistical_variance_as_ndarray()).max(axis=0)
    assert sd.shape == (3,)
    assert np.all(np.isfinite(sd))
