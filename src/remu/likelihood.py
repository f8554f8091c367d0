"""Likelihoods, fits and hypothesis tests for forward-folded predictions.

The public surface of ReMU's ``remu.likelihood``: data models (:class:`PoissonData`),
predictors that map parameters to expected reco counts (with systematic variations
as an array axis), :class:`LikelihoodCalculator`, maximisers and
:class:`HypothesisTester`.

``mapper`` (initially the builtin :func:`map`) is looked up on every toy
p-value computation; set ``likelihood.mapper = pool.map`` with a
``multiprocess.Pool`` to fit toys in parallel.
"""

from __future__ import annotations

import numpy as np
import scipy.special
from scipy import optimize, stats

from remu._likelihood.calculator import LikelihoodCalculator
from remu._likelihood.data import DataModel, JeffreysPrior, PoissonData
from remu._likelihood.derivative import derivative
from remu._likelihood.hypothesis import HypothesisTester
from remu._likelihood.maximizers import BasinHoppingMaximizer, LikelihoodMaximizer
from remu._likelihood.minuit import MinuitMaximizer
from remu._likelihood.predictors import (
    ComposedMatrixPredictor,
    ComposedPredictor,
    ConcatenatedPredictor,
    FixedParameterMatrixPredictor,
    FixedParameterPredictor,
    LinearEinsumPredictor,
    LinearizedPredictor,
    MatrixPredictor,
    Predictor,
    ResponseMatrixPredictor,
    SummedPredictor,
    TemplatePredictor,
)
from remu._likelihood.systematics import (
    MarginalLikelihoodSystematics,
    NoSystematics,
    ProfileLikelihoodSystematics,
    SystematicsConsumer,
)
from remu._likelihood.toy_result import ToyResult
from remu._state import expose

__all__ = [
    "BasinHoppingMaximizer",
    "ComposedMatrixPredictor",
    "ComposedPredictor",
    "ConcatenatedPredictor",
    "DataModel",
    "FixedParameterMatrixPredictor",
    "FixedParameterPredictor",
    "HypothesisTester",
    "JeffreysPrior",
    "LikelihoodCalculator",
    "LikelihoodMaximizer",
    "LinearEinsumPredictor",
    "LinearizedPredictor",
    "MarginalLikelihoodSystematics",
    "MatrixPredictor",
    "MinuitMaximizer",
    "NoSystematics",
    "PoissonData",
    "Predictor",
    "ProfileLikelihoodSystematics",
    "ResponseMatrixPredictor",
    "SummedPredictor",
    "SystematicsConsumer",
    "TemplatePredictor",
    "ToyResult",
    "derivative",
    "mapper",
]

# ``mapper``: the hook for parallel toy fits, called as ``mapper(function, items)``. It
# lives in remu._state; this makes it an attribute of the module.
mapper = map  # for static tools; expose() turns it into the property
expose(__name__, {"mapper": "likelihood"})

_SLICE = slice(None)

# Kept as module attributes like the reference (likelihood.np, .scipy, .optimize, .stats).
_ = (np, scipy.special, optimize, stats)
