"""Predictors: maps from model parameters to expected reco-bin counts.

The public names are re-exported by :mod:`remu.likelihood`. Generic composites live
in :mod:`.predictors_base`, the linear family in :mod:`.predictors_matrix` and the
archive reader in :mod:`.npz_response`.
"""

from __future__ import annotations

from remu._likelihood.npz_response import ResponseMatrixPredictor
from remu._likelihood.predictors_base import (
    _SLICE,  # noqa: F401 - the default systematics_index, re-exported for the facade
    ComposedPredictor,
    ConcatenatedPredictor,
    FixedParameterPredictor,
    Predictor,
    SummedPredictor,
)
from remu._likelihood.predictors_matrix import (
    ComposedMatrixPredictor,
    FixedParameterMatrixPredictor,
    LinearEinsumPredictor,
    LinearizedPredictor,
    MatrixPredictor,
    TemplatePredictor,
)

# In the reference's source order.
__all__ = [
    "ComposedMatrixPredictor",
    "ComposedPredictor",
    "ConcatenatedPredictor",
    "FixedParameterMatrixPredictor",
    "FixedParameterPredictor",
    "LinearEinsumPredictor",
    "LinearizedPredictor",
    "MatrixPredictor",
    "Predictor",
    "ResponseMatrixPredictor",
    "SummedPredictor",
    "TemplatePredictor",
]
