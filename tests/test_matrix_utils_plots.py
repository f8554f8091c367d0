"""matrix_utils plots: the tutorial's matrix-quality figures can be produced."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from numeric_asserts import assert_allclose
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


def _layer(axes, label, panel=0):
    """The band labelled ``label`` in panel ``panel`` (each call of plot_array adds one)."""
    (band,) = [c for c in np.ravel(axes)[panel].collections if c.get_label() == label]
    return band


def _step_heights(band, n_bins):
    """Bin heights of a step band, in bin order.

    The outline of ``fill_between(..., step="post")`` starts at the lower left
    corner and runs along the upper edge with two vertices per bin: vertex
    ``1 + 2 i`` is the upper left corner of bin ``i``.
    """
    return band.get_paths()[0].vertices[1 : 2 * n_bins : 2, 1]


def _truth_pair_1d(seed_a, seed_b, shift=0.0):
    truth = binning.LinearBinning("true_x", [0, 1, 2, 3, 4])
    return make(seed_a, truth=truth), make(seed_b, truth=truth, shift=shift)


def _independent_distance(first, second, seed):
    """m @ inv(cov) @ m per truth bin, from the draws the implementation makes."""
    gen = np.random.default_rng(seed)
    n_reco, n_truth = first.reco_binning.data_size, first.truth_binning.data_size
    cols = np.arange(n_truth)
    toys_a = first.generate_random_response_matrices(size=n_reco + 100, truth_indices=cols, rng=gen)
    toys_b = second.generate_random_response_matrices(
        size=n_reco + 100, truth_indices=cols, rng=gen
    )
    m = first.get_mean_response_matrix_as_ndarray() - second.get_mean_response_matrix_as_ndarray()
    out = []
    for j in cols:
        cov = np.cov(toys_a[:, :, j] - toys_b[:, :, j], rowvar=False)
        out.append(m[:, j] @ np.linalg.solve(cov, m[:, j]))
    return np.array(out)


def _independent_expectation(first, second):
    """N_reco * min(1, n / (2 * prior events)), n the fewer reconstructed entries."""
    n_reco = first.reco_binning.data_size
    n = np.minimum(
        first.get_response_entries_as_ndarray(shape=(n_reco, -1)).sum(axis=0),
        second.get_response_entries_as_ndarray(shape=(n_reco, -1)).sum(axis=0),
    )
    return n_reco * np.minimum(1.0, n / (2.0 * min(n_reco, 3)))


@pytest.mark.parametrize(("seeds", "shift"), [((1, 2), 0.0), ((3, 4), 0.4), ((5, 6), 1.0)])
def test_mahalanobis_plot_draws_distance_and_expectation(seeds, shift):
    a, b = _truth_pair_1d(*seeds, shift=shift)
    fig, axes = matrix_utils.plot_mahalanobis_distance(a, b, rng=7)
    assert isinstance(fig, Figure)
    expected = _layer(axes, "expected")
    distance = _layer(axes, r"$D_M^2$")
    # the expectation is drawn first: first colour of the cycle, dashed
    assert_allclose(expected.get_edgecolor()[0], to_rgba("C0"))
    assert_allclose(distance.get_edgecolor()[0], to_rgba("C1"))
    assert expected.get_linestyle()[0][1] is not None  # a dash pattern
    assert distance.get_linestyle()[0][1] is None  # solid
    assert_allclose(_step_heights(expected, 4), _independent_expectation(a, b))
    assert_allclose(_step_heights(distance, 4), _independent_distance(a, b, 7), rtol=1e-7)
    assert [t.get_text() for t in axes[0, 0].get_legend().get_texts()] == [
        "expected",
        r"$D_M^2$",
    ]


def test_mahalanobis_plot_without_expectation_and_with_plot_keywords():
    a, b = _truth_pair_1d(1, 2, shift=0.5)
    _fig, axes = matrix_utils.plot_mahalanobis_distance(
        a, b, plot_expectation=False, rng=3, color="red", linewidth=3
    )
    (band,) = np.ravel(axes)[0].collections
    assert band.get_label() == r"$D_M^2$"
    assert_allclose(band.get_facecolor()[0], to_rgba("red"))
    assert band.get_linewidth()[0] == 3
    assert_allclose(_step_heights(band, 4), _independent_distance(a, b, 3), rtol=1e-7)
    assert axes[0, 0].get_legend() is None
    with pytest.raises(TypeError, match="linestyle"):
        matrix_utils.plot_mahalanobis_distance(a, b, linestyle="dotted", rng=3)


def test_mahalanobis_plot_sums_distances_over_other_truth_variables(pair):
    a, b = pair  # truth: 4 x 2 rectilinear
    _fig, axes = matrix_utils.plot_mahalanobis_distance(a, b, rng=4)
    per_bin = _independent_distance(a, b, 4).reshape(4, 2)
    # top-left panel: true_x, each bin the sum over true_y (squared distances of
    # independent bins add up, as do their expectations)
    assert_allclose(_step_heights(_layer(axes, r"$D_M^2$"), 4), per_bin.sum(axis=1), rtol=1e-7)
    assert_allclose(
        _step_heights(_layer(axes, "expected"), 4),
        _independent_expectation(a, b).reshape(4, 2).sum(axis=1),
    )
