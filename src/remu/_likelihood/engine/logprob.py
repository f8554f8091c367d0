"""The log-likelihood of a calculator as a lean function of the parameters, for samplers.

An MCMC sampler such as emcee calls its log-probability once or twice per step
with a handful of points. :meth:`LikelihoodCalculator.log_likelihood` is general
(any predictor, data model and systematics treatment, extra predictor arguments,
any shape of parameters) and spends most of such a call on that generality.
When the engine has a linear model of the calculator (the same opt-in as the
fits), :class:`LogProbability` evaluates ``log L`` from that model directly.

With emcee's default walkers each call brings one point, and a call costs what
its NumPy calls cost (about a microsecond each), not what its arithmetic costs.
Everything that does not depend on the point is therefore folded into constants
when the object is made: the Poisson log-likelihood of variation ``s`` is
``k . log(mu_s) - sum_b mu_s`` minus ``sum_b log(k_b!)``, and with
``mu_s = A_s x + c_s`` the total ``sum_b mu_s`` is ``(sum_b A_s) x + sum_b c_s``,
so one call is a product for the predictions, a logarithm, a product with the
counts, a product for the totals, and the log-sum-exp over the variations (their
maximum for the profile treatment). Bins that count nothing need no logarithm.
Bounds of a few walkers are checked on Python floats. Rows whose result is not a
finite number (impossible predictions) are evaluated again by the fitting
engine's objective, bin by bin.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special
from numpy.typing import NDArray

from remu._likelihood.engine.batching import make_objective
from remu._likelihood.engine.eligibility import describe
from remu._likelihood.engine.objective import Objective

__all__ = ["LogProbability", "log_probability"]

#: up to this many coordinates (walkers x parameters) bounds are checked on Python floats
_FEW = 64


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
            self._folded = _Folded(model, counts[0])
        self._lower = model.lower
        self._upper = model.upper
        self._bounds = list(zip(model.lower.tolist(), model.upper.tolist(), strict=True))
        self._defaults = model.defaults
        self._shape = (model.n,)

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
        inside = self._inside(flat)
        if inside is not None:
            flat = np.where(inside[:, np.newaxis], flat, self._defaults)
        with np.errstate(all="ignore"):
            value = self._folded(flat)
            if not math.isfinite(value.sum()):
                bad = np.flatnonzero(~np.isfinite(value))
                value[bad] = objective.log_likelihood(flat[bad], np.zeros(len(bad), np.intp))
                value[np.isnan(value)] = -np.inf
        if inside is not None:
            value[~inside] = -np.inf
        return float(value[0]) if single else value

    def _inside(self, flat: NDArray[np.float64]) -> NDArray[np.bool_] | None:
        """Which points ``(m, n)`` are within the bounds; ``None`` if all are (or NaN)."""
        if flat.size <= _FEW:
            # a few walkers: comparisons of Python floats beat four NumPy calls
            rows = [
                all(lo <= v <= up for v, (lo, up) in zip(row, self._bounds, strict=True))
                for row in flat.tolist()
            ]
            return None if all(rows) else np.array(rows)
        inside: NDArray[np.bool_] = ((flat >= self._lower) & (flat <= self._upper)).all(axis=-1)
        return None if inside.all() else inside

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
    data, vector, predictor, systematics = parts
    current = calculator.data_model
    return (
        current is data
        and getattr(current, "data_vector", None) is vector
        and calculator.predictor is predictor
        and calculator.systematics is systematics
    )


class _Folded:
    """``log L`` of one data set at points ``(m, n)``, with every constant folded in.

    Bins that count nothing add only ``-mu`` (in the totals), so the logarithm is
    taken in the others only, whenever no prediction there can be negative inside
    the bounds (non-negative lower bounds, slopes and constants in those bins, as
    for templates). Otherwise every bin is kept: a negative prediction must make
    the point impossible even where nothing is counted. The numbers are right
    wherever every prediction the logarithm sees is positive; a zero there gives
    NaN (``0 * log 0``) or ``-inf``, a negative one NaN, and the caller evaluates
    such rows again. See the module docs for the rest of the algebra.
    """

    def __init__(self, model: Any, counts: NDArray[Any]) -> None:
        matrices, constants = model.linear
        constants = np.asarray(constants, dtype=float)
        all_counts = np.asarray(counts, dtype=float)
        n_syst, _, n = matrices.shape
        #: ``(n, S)``: ``-sum_b A_sb``, minus the slope of every variation's total prediction
        self.minus_total_slopes = np.ascontiguousarray(-matrices.sum(axis=1).T)
        # everything else that does not depend on the point, per variation
        shift = -(scipy.special.gammaln(all_counts + 1).sum() + constants.sum(axis=-1))
        weights = np.asarray(model.weights, dtype=float)
        self.single = model.kind == "profile" or len(weights) == 1
        if not self.single:
            shift = shift + np.log(weights / weights.sum())  # zero weight: -inf, no share
        self.shift = np.ascontiguousarray(shift, dtype=float)
        empty = all_counts == 0
        never_negative = bool(
            (np.asarray(model.lower) >= 0).all()
            and (matrices[:, empty, :] >= 0).all()
            and (constants[:, empty] >= 0).all()
        )
        if never_negative:
            matrices, constants = matrices[:, ~empty, :], constants[:, ~empty]
            all_counts = all_counts[~empty]
        self.n_syst, self.n_bins = n_syst, len(all_counts)
        self.counts = all_counts
        #: ``(n, S * B)`` over the bins kept: the predictions of all variations are one
        #: product (``None``: nothing is counted anywhere, and no prediction is negative)
        self.slopes = (
            np.ascontiguousarray(matrices.reshape(n_syst * self.n_bins, n).T)
            if self.n_bins
            else None
        )
        flat_constants = constants.reshape(n_syst * self.n_bins)
        self.constants = flat_constants if flat_constants.any() else None

    def __call__(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``log L`` ``(m,)``; NaN or infinite where the caller must look again."""
        terms = np.dot(x, self.minus_total_slopes)
        terms += self.shift
        if self.slopes is not None:
            mu = np.dot(x, self.slopes)
            if self.constants is not None:
                mu += self.constants
            counted = np.dot(np.log(mu, out=mu).reshape(-1, self.n_bins), self.counts)
            terms += counted.reshape(len(x), self.n_syst)
        top: NDArray[np.float64] = terms.max(axis=-1)
        if self.single:
            return top
        # log-sum-exp over the variations
        terms -= top[:, np.newaxis]
        np.exp(terms, out=terms)
        total: NDArray[np.float64] = np.log(terms.sum(axis=-1))
        total += top
        return total


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
