"""Quality checks, diagnostic plots and truth-bin merging for response matrices.

* :func:`mahalanobis_distance` and :func:`compatibility` test whether two
  response matrices (e.g. built from different physics models) describe the
  same detector response within their statistical uncertainties: the squared
  Mahalanobis distance measures their difference in units of its posterior
  uncertainty, truth bin by truth bin.
* :func:`improve_stats` merges the least populated truth bin with the
  neighbour whose response is most similar.
* The ``plot_*`` functions draw the mean matrix, efficiencies, uncertainties
  and in-bin variations (they need :mod:`remu.plotting`, imported on use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._migration.improve import improve_stats
from remu._migration.improve import merge_suggestions as _merge_suggestions  # noqa: F401
from remu._migration.plots import (
    plot_compatibility,
    plot_in_bin_variation,
    plot_mahalanobis_distance,
    plot_mean_efficiency,
    plot_mean_response_matrix,
    plot_relative_in_bin_variation,
    plot_statistical_uncertainty,
    response_plotter_class,
)
from remu._migration.quality import block_mahalanobis2 as _block_mahalanobis2_impl

if TYPE_CHECKING:
    from remu._migration.response import ResponseMatrix
from remu._migration.quality import (
    compatibility,
    expected_distance_per_truth_bin,
    mahalanobis_distance,
)

__all__ = [
    "compatibility",
    "improve_stats",
    "mahalanobis_distance",
    "plot_compatibility",
    "plot_in_bin_variation",
    "plot_mahalanobis_distance",
    "plot_mean_efficiency",
    "plot_mean_response_matrix",
    "plot_relative_in_bin_variation",
    "plot_statistical_uncertainty",
]


def __getattr__(name: str) -> Any:
    """Module names of ReMU's ``matrix_utils`` that need heavy imports, resolved on first use.

    ``_ResponsePlotter`` (the response-matrix plotter class), and the modules
    ReMU's version imports at the top (``plotting``, ``plt``, ``stats``,
    ``binning``, ``migration``), so that ``import remu.matrix_utils`` itself
    imports neither Matplotlib nor SciPy.
    """
    if name == "_ResponsePlotter":
        return response_plotter_class()
    if name == "plotting":
        from remu import plotting

        return plotting
    if name == "plt":
        from matplotlib import pyplot

        return pyplot
    if name == "stats":
        from scipy import stats

        return stats
    if name in ("binning", "migration"):
        import importlib

        return importlib.import_module(f"remu.{name}")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _block_mahalanobis2(X: ArrayLike, mu: ArrayLike, inv_cov: ArrayLike) -> NDArray[np.float64]:
    """Squared Mahalanobis distance per block of a block-diagonal covariance.

    ``X`` (n, a, b), ``mu`` (a, b), ``inv_cov`` (a, b, b) -> (n, a): ``D[n, a] =
    (X[n, a] - mu[a]) @ inv_cov[a] @ (X[n, a] - mu[a])``.

    Examples
    --------
    >>> import numpy as np
    >>> _block_mahalanobis2(np.ones((1, 2, 2)), np.zeros((2, 2)), np.stack([np.eye(2)] * 2))
    array([[2., 2.]])
    """
    return _block_mahalanobis2_impl(X, mu, inv_cov)


def _expected_mahalanobis_distance(
    first: ResponseMatrix, second: ResponseMatrix
) -> NDArray[np.float64]:
    """Rough expected squared distance per truth bin, given the shared prior.

    ``N_reco * min(1, n_j / (2 * min(N_reco, 3**n_vars)))`` with ``n_j`` the
    smaller number of reconstructed entries of truth bin ``j`` in the two
    matrices: ``N_reco`` (the degrees of freedom) for well-populated bins, less
    where the prior that both matrices share dominates.
    """
    return expected_distance_per_truth_bin(first, second)
