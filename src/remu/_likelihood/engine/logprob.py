"""The log-likelihood of a calculator as a lean function of the parameters, for samplers.

An MCMC sampler such as emcee calls its log-probability once or twice per step
with a handful of points. :meth:`LikelihoodCalculator.log_likelihood` is general
(any predictor, data model and systematics treatment, extra predictor arguments,
any shape of parameters) and spends most of such a call on that generality.
When the engine has a linear model of the calculator (the same opt-in as the
fits), :class:`LogProbability` evaluates ``log L`` from that model directly:
bounds checked once, predictions from one product, the Poisson terms and the
systematics treatment of the fitting engine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._likelihood.engine.batching import make_objective
from remu._likelihood.engine.eligibility import describe
from remu._likelihood.engine.objective import Objective

__all__ = ["LogProbability", "log_probability"]


class LogProbability:
    """``log L`` of one data set at parameter points ``(n,)`` or ``(m, n)``.

    Points outside the predictor's (inclusive) bounds get ``-inf``, as from the
    calculator; so do points whose predictions make the data impossible or are not
    numbers (the calculator may give ``nan`` there, which emcee refuses), and
    floating-point errors never raise, whatever ``numpy.seterr`` says. Points of
    another length, and calls with further arguments for the predictor, are handed
    to the calculator itself.

    The engine's model is made from the calculator's data model, predictor and
    systematics when this object is made, and made again when one of them (or the
    data vector) is replaced by another object; where the engine then no longer
    applies, the calculator is called. Pickled, it is only the calculator:
    the model is made again where it is unpickled (e.g. in the workers of a pool).

    Parameters
    ----------
    calculator : LikelihoodCalculator
        The likelihood.
    model : Model
        The engine's linear model of ``calculator`` (see :func:`log_probability`).
    """

    def __init__(self, calculator: Any, model: Any) -> None:
        self.calculator = calculator
        self._parts = _parts(calculator)
        counts = np.asarray(calculator.data_model.data_vector)[np.newaxis]
        with np.errstate(all="ignore"):
            self._objective: Objective | None = make_objective(model, counts)
        self._lower = model.lower
        self._upper = model.upper
        self._defaults = model.defaults
        self._shape = (model.n,)
        self._rows = np.zeros(1, dtype=np.intp)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        """Pickle the calculator only; the model is made again when unpickled."""
        return (_remade, (self.calculator,))

    def __call__(self, parameters: Any, *args: Any, **kwargs: Any) -> Any:
        """Return ``log L`` at ``parameters``: a float for one point, else an array."""
        if args or kwargs:
            return self.calculator(parameters, *args, **kwargs)
        if not _same_parts(self._parts, self.calculator):
            self._refresh()
        objective = self._objective
        points = np.asarray(parameters, dtype=float)
        single = points.ndim == 1
        if objective is None or points.shape[-1:] != self._shape or points.ndim > 2:
            return self.calculator(parameters)
        flat = points[np.newaxis] if single else points
        inside = ((flat >= self._lower) & (flat <= self._upper)).all(axis=-1)
        everywhere = bool(inside.all())
        if not everywhere:
            flat = np.where(inside[:, np.newaxis], flat, self._defaults)
        rows = self._rows if len(flat) == 1 else np.zeros(len(flat), dtype=np.intp)
        with np.errstate(all="ignore"):
            value: NDArray[np.float64] = objective.log_likelihood(flat, rows)
        if not everywhere:
            value[~inside] = -np.inf
        if not math.isfinite(value.sum()):
            value[np.isnan(value)] = -np.inf
        return float(value[0]) if single else value

    def _refresh(self) -> None:
        """Make the model again from the calculator's new parts (or hand over to it)."""
        fresh = log_probability(self.calculator)
        if fresh is None:
            self._parts = _parts(self.calculator)
            self._objective = None
        else:
            self.__dict__.update(fresh.__dict__)


def _parts(calculator: Any) -> tuple[Any, ...]:
    """Return the objects the model is made from (compared by identity on every call)."""
    data = calculator.data_model
    return (data, getattr(data, "data_vector", None), calculator.predictor, calculator.systematics)


def _same_parts(parts: tuple[Any, ...], calculator: Any) -> bool:
    return all(a is b for a, b in zip(parts, _parts(calculator), strict=True))


def _remade(calculator: Any) -> Any:
    """Return the :class:`LogProbability` of ``calculator``, or the calculator itself."""
    return log_probability(calculator) or calculator


def log_probability(calculator: Any) -> LogProbability | None:
    """Return a :class:`LogProbability` of ``calculator``, or ``None`` if the engine cannot.

    The engine applies to calculators whose data model, predictor and systematics
    treatment opt in to it, with one data set and a linear predictor (the
    finite-difference path of other predictors would cost more than the
    calculator's own call).
    """
    model = describe(calculator)
    if model is None or model.linear is None or model.n == 0:
        return None
    return LogProbability(calculator, model)
