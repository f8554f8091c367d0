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

from remu import _facade
from remu._migration.improve import improve_stats
from remu._migration.plots import (
    plot_compatibility,
    plot_in_bin_variation,
    plot_mahalanobis_distance,
    plot_mean_efficiency,
    plot_mean_response_matrix,
    plot_relative_in_bin_variation,
    plot_statistical_uncertainty,
)
from remu._migration.plots import response_plotter_class as _response_plotter_class
from remu._migration.quality import compatibility, mahalanobis_distance

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

#: Names of ReMU's ``matrix_utils`` module that scripts use: the modules it imported
#: at its top, its response plotter class and the helpers behind
#: :func:`improve_stats` and :func:`compatibility`. Imported on first use, so that
#: ``import remu.matrix_utils`` itself imports neither Matplotlib nor SciPy.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    "np": "numpy",
    "plt": "matplotlib.pyplot",
    "stats": "scipy.stats",
    "binning": "remu.binning",
    "migration": "remu.migration",
    "plotting": "remu.plotting",
    # the plotter class of response binnings: "Reco Bin #" against "Truth Bin #"
    "_ResponsePlotter": _response_plotter_class,
    # merge suggestions for the bin at a data index (default: fewest entries)
    "_merge_suggestions": "remu._migration.improve:merge_suggestions",
    # squared Mahalanobis distance per block of a block-diagonal covariance
    "_block_mahalanobis2": "remu._migration.quality:block_mahalanobis2",
    # rough expected squared distance per truth bin of two matrices
    "_expected_mahalanobis_distance": "remu._migration.quality:expected_distance_per_truth_bin",
}

_facade.install(__name__, legacy=_LEGACY_NAMES)
