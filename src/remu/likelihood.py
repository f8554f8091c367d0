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

from remu import _facade
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

#: Names ReMU's ``likelihood`` module imported at its top (``likelihood.np``,
#: ``likelihood.stats``...); imported on first use.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    "np": "numpy",
    "scipy": "scipy",
    "optimize": "scipy.optimize",
    "stats": "scipy.stats",
    "_SLICE": "remu._likelihood.predictors_base:_SLICE",
}

#: The ``map``-like function of the toy fits of :class:`HypothesisTester`, called as
#: ``mapper(function, items)`` (default: the builtin :func:`map`); set
#: ``likelihood.mapper = pool.map`` to fit toys in parallel. The value lives in
#: remu._state; install() makes this a property of the module.
mapper = map  # for static tools; install() replaces it by the property
_facade.install(__name__, legacy=_LEGACY_NAMES, state={"mapper": "likelihood"})
