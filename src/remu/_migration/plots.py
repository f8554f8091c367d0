"""Diagnostic plots of response matrices (``matrix_utils.plot_*``).

:mod:`remu.plotting` (and Matplotlib) are imported only when a plot is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from remu._rng import RNGLike

from .quality import _expected_distance_of, compatibility, mahalanobis_distance

__all__ = [
    "plot_compatibility",
    "plot_in_bin_variation",
    "plot_mahalanobis_distance",
    "plot_mean_efficiency",
    "plot_mean_response_matrix",
    "plot_relative_in_bin_variation",
    "plot_statistical_uncertainty",
    "response_plotter_class",
]

_PLOT_DEFAULTS: dict[str, Any] = {"hatch": None, "density": False}


def _plotting() -> Any:
    from remu import plotting

    return plotting


@cache
def response_plotter_class() -> type:
    """The ``_ResponsePlotter`` class: axis labels "Reco Bin #" and "Truth Bin #"."""
    plotting = _plotting()

    class _ResponsePlotter(plotting.CartesianProductBinningPlotter):
        """Plotter of a response binning: reco bin numbers (0) against truth bin numbers (1)."""

        def get_axis_label(self, j_binning: int) -> str:
            if j_binning == 0:
                return "Reco Bin #"
            if j_binning == 1:
                return "Truth Bin #"
            return f"Binning {j_binning} Bin #"

    _ResponsePlotter.__module__ = "remu.matrix_utils"
    return _ResponsePlotter


def _truth_plotter(truth_binning: Any) -> Any:
    plotting = _plotting()
    if truth_binning.subbinnings:
        # Marginalising sub-binnings would distort per-bin quantities: plot bin numbers.
        return plotting.BinningPlotter(truth_binning)
    return plotting.get_plotter(truth_binning)


def plot_mahalanobis_distance(
    first: Any,
    second: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    plot_expectation: bool = True,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the squared Mahalanobis distance per truth bin (and its rough expectation).

    Parameters
    ----------
    first, second : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there.
    plot_expectation : bool
        Also draw the expected distance (dashed) and a legend.
    rng : None, int, Generator, optional
        Randomness of the distance.
    **kwargs
        Plot arguments for ``plot_array`` (not distance arguments).

    Returns
    -------
    (Figure, ndarray of Axes)
        The plotter's ``figax``.
    """
    plotter = _truth_plotter(first.truth_binning)
    args = {**_PLOT_DEFAULTS, "margin_function": np.sum, **kwargs}
    distance = mahalanobis_distance(first, second, rng=rng)
    if plot_expectation:
        expected = _expected_distance_of(first, second)
        plotter.plot_array(expected, linestyle="dashed", label="expected", **args)
    plotter.plot_array(distance, label=r"$D_M^2$", **args)
    if plot_expectation:
        plotter.legend()
    if filename is not None:
        plotter.savefig(filename)
    return plotter.figax


def plot_compatibility(
    first: Any,
    second: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Histogram of the throw distances with the null distance and a chi-square curve.

    Parameters
    ----------
    first, second : ResponseMatrix
    filename : path-like or file object, optional
        Save the figure there (atomically for paths).
    rng : None, int, Generator, optional
    **kwargs
        Passed to :func:`compatibility` (``N``, ``truth_indices``, ``min_quality``).

    Returns
    -------
    (Figure, Axes)
    """
    from scipy import stats

    from remu._io import atomic_open
    from remu._plotting.base import _output_path_and_format, new_subplots

    count, chi2, null, distances, df = compatibility(
        first, second, return_all=True, rng=rng, **kwargs
    )
    fig, ax = new_subplots()
    ax.set_xlabel(r"$D_M^2$")
    nbins = max(min(distances.size // 100, 100), 5)
    ax.hist(
        distances,
        nbins,
        density=True,
        histtype="stepfilled",
        label=f"actual distribution, C={count:.3f}",
    )
    spread = np.sqrt(2 * df)
    x = np.linspace(df - 3 * spread, df + 5 * spread, 50)
    with np.errstate(under="ignore"):
        pdf = stats.chi2.pdf(x, df)
    ax.plot(x, pdf, label=rf"$\chi^2$ distribution, C={chi2:.3f}")
    ax.axvline(null, label="null distance", color="k", linestyle="dashed")
    ax.legend(loc="best", framealpha=0.5)
    if filename is not None:
        if hasattr(filename, "write"):
            fig.savefig(filename)
        else:
            path, fmt = _output_path_and_format(filename, None, fig)
            with atomic_open(path, "wb") as handle:
                fig.savefig(handle, format=fmt)
    return fig, ax


def plot_mean_response_matrix(
    response_matrix: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the posterior mean matrix: truth bins on x, reco bins on y, with projections.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
    **kwargs
        Plot arguments for ``plot_array``.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    resp = response_matrix.get_mean_response_matrix_as_ndarray().flatten()
    plotter = response_plotter_class()(
        response_matrix.response_binning, x_axis_binnings=[1], y_axis_binnings=[0]
    )
    args = {**_PLOT_DEFAULTS, "margin_function": np.sum, **kwargs}
    plotter.plot_array(resp, **args)
    if filename is not None:
        plotter.savefig(filename)
    return plotter.figax


def _plot_per_truth_bin(
    response_matrix: Any,
    values: NDArray[np.float64],
    filename: str | os.PathLike[str] | IO[bytes] | None,
    kwargs: dict[str, Any],
) -> tuple[Any, Any]:
    truth = response_matrix.truth_binning
    plotter = _truth_plotter(truth)
    curves: list[tuple[Callable[..., Any], str | None]]
    if truth.subbinnings:
        curves = [(np.median, None)]
    else:
        curves = [(np.min, "min"), (np.max, "max"), (np.median, "median")]
    for function, label in curves:
        args = {**_PLOT_DEFAULTS, "margin_function": function, "label": label, **kwargs}
        plotter.plot_array(values, **args)
    if not truth.subbinnings:
        plotter.legend()
    if filename is not None:
        plotter.savefig(filename)
    return plotter.figax


def _dims(response_matrix: Any) -> tuple[int, int]:
    return (response_matrix.reco_binning.data_size, response_matrix.truth_binning.data_size)


def plot_in_bin_variation(
    response_matrix: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the largest absolute in-bin variation of the response per truth bin.

    Min, max and median over the other truth variables are drawn for
    multi-dimensional binnings; see
    :meth:`ResponseMatrix.get_in_bin_variation_as_ndarray` (``normalize=False``).

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    var = response_matrix.get_in_bin_variation_as_ndarray(
        normalize=False, shape=_dims(response_matrix)
    )
    return _plot_per_truth_bin(response_matrix, var.max(axis=0), filename, kwargs)


def plot_relative_in_bin_variation(
    response_matrix: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the largest in-bin variation per truth bin in units of the statistical error.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    var = response_matrix.get_in_bin_variation_as_ndarray(
        normalize=True, shape=_dims(response_matrix)
    )
    return _plot_per_truth_bin(response_matrix, var.max(axis=0), filename, kwargs)


def plot_statistical_uncertainty(
    response_matrix: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the largest statistical standard deviation of the response per truth bin.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    var = response_matrix.get_statistical_variance_as_ndarray(shape=_dims(response_matrix))
    return _plot_per_truth_bin(response_matrix, np.sqrt(var).max(axis=0), filename, kwargs)


def plot_mean_efficiency(
    response_matrix: Any,
    filename: str | os.PathLike[str] | IO[bytes] | None = None,
    nuisance_value: float = 0.0,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Plot the posterior mean efficiency per truth bin.

    Parameters
    ----------
    response_matrix : ResponseMatrix
    filename : path-like or file object, optional
    nuisance_value : float
        Value shown for nuisance bins (their efficiency is 1 by definition).
    **kwargs
        Plot arguments for ``plot_array``.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    mean = response_matrix.get_mean_response_matrix_as_ndarray(shape=_dims(response_matrix))
    eff = mean.sum(axis=0)
    eff[response_matrix.nuisance_indices] = nuisance_value
    return _plot_per_truth_bin(response_matrix, eff, filename, kwargs)
