"""Quality checks, diagnostic plots and truth-bin merging for response matrices.

* :func:`mahalanobis_distance` and :func:`compatibility` test whether two
  response matrices (e.g. built from different physics models) describe the
  same detector response within their statistical uncertainties.
* :func:`improve_stats` merges the least populated truth bin with the
  neighbour whose response is most similar.
* The ``plot_*`` functions draw the mean matrix, efficiencies, uncertainties
  and in-bin variations (they need :mod:`remu.plotting`, imported on use).
"""

from __future__ import annotations

from typing import Any

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
    """Names of the reference module that need heavy imports, resolved on first use."""
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

    ``X`` (n, a, b), ``mu`` (a, b), ``inv_cov`` (a, b, b) -> (n, a).
    """
    return _block_mahalanobis2_impl(X, mu, inv_cov)


def _expected_mahalanobis_distance(first: Any, second: Any) -> NDArray[np.float64]:
    """Rough expected squared distance per truth bin, given the shared prior.

    ``N_reco * min(1, n_j / (2 * min(N_reco, 3**n_vars)))`` with ``n_j`` the
    smaller number of reconstructed entries of truth bin ``j`` in the two
    matrices.
    """
    return expected_distance_per_truth_bin(first, second)
