"""Vectorised basin-hopping fits of many toy data sets at once.

Re-fitting every toy data set dominates the cost of the toy p-values. In the common
case -- Poisson data, the marginal or profile treatment of systematics and the
default :class:`BasinHoppingMaximizer` -- all toys are fitted together:

* one predictor call evaluates every toy's parameter point (and, for predictors
  that are not matrix predictors, the finite-difference steps of all of them);
* the local fits are bounded Newton iterations with a line search per toy, using the
  exact gradient and Hessian of the Poisson log-likelihood (and of its marginal or
  profile over the systematics) for a prediction that is linear in the parameters,
  or its Gauss-Newton form otherwise;
* scipy's basin-hopping loop -- random displacement, local fit, Metropolis
  acceptance, adaptive step size -- runs on all toys in lockstep, with the
  maximizer's ``niter``, ``T``, ``stepsize``, ... settings.

:func:`fit_toys` returns ``None`` whenever this does not apply (another data model,
systematics consumer or maximizer, or basin-hopping options it does not know); the
caller then fits the toys one by one.
"""

from __future__ import annotations

import builtins
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special
from numpy.typing import NDArray

from remu._likelihood.data import PoissonData, poisson_log_likelihood
from remu._likelihood.maximizers import BasinHoppingMaximizer, LikelihoodMaximizer
from remu._likelihood.predictors_matrix import MatrixPredictor, _is_full_slice
from remu._likelihood.systematics import (
    MarginalLikelihoodSystematics,
    ProfileLikelihoodSystematics,
)
from remu._threads import single_blas_thread

__all__ = ["fit_toys", "toy_log_likelihoods"]

# Largest (toys x systematics x bins x (parameters + 1)) array built at once.
_CHUNK_ELEMENTS = 2**22
# Basin-hopping options the vectorised loop reproduces.
_OPTIONS = {
    "niter",
    "T",
    "stepsize",
    "interval",
    "niter_success",
    "target_accept_rate",
    "stepwise_factor",
    "seed",
    "rng",
}
_MAX_NEWTON_STEPS = 200
_MAX_ROUNDS = 2000
_ARMIJO = 1e-4
_SQRT_EPS = math.sqrt(np.finfo(float).eps)
# g^T H^-1 g of a variation's Newton step: its maximum is about one standard deviation away.
_ONE_SIGMA = 1.0


@dataclass(frozen=True)
class _HopSettings:
    niter: int
    temperature: float
    stepsize: float
    interval: int
    niter_success: int | None
    target_accept_rate: float
    stepwise_factor: float
    seed: Any


def _hop_settings(maximizer: Any, n_free: int) -> _HopSettings | None:
    """The maximizer's basin-hopping settings, if the vectorised loop can honour them."""
    if not isinstance(maximizer, BasinHoppingMaximizer):
        return None
    cls = type(maximizer)
    if (
        cls.minimize is not BasinHoppingMaximizer.minimize
        or cls.maximize_log_likelihood is not LikelihoodMaximizer.maximize_log_likelihood
        or cls.__call__ is not LikelihoodMaximizer.__call__
    ):
        return None
    options = dict(getattr(maximizer, "kwargs", {}))
    if not set(options) <= _OPTIONS:
        return None
    try:
        settings = _HopSettings(
            niter=int(options.get("niter", 10)),
            temperature=float(options.get("T", n_free)),
            stepsize=float(options.get("stepsize", 0.5)),
            interval=int(options.get("interval", 50)),
            niter_success=None
            if options.get("niter_success") is None
            else int(options["niter_success"]),
            target_accept_rate=float(options.get("target_accept_rate", 0.5)),
            stepwise_factor=float(options.get("stepwise_factor", 0.9)),
            seed=options.get("rng", options.get("seed")),
        )
    except (TypeError, ValueError):
        # Let scipy report invalid options the usual way.
        return None
    if settings.niter < 0 or settings.temperature < 0 or settings.interval < 1:
        return None
    return settings


def _consumer_kind(systematics: Any) -> str | None:
    cls = systematics if isinstance(systematics, type) else type(systematics)
    consume = getattr(cls, "consume_axis", None)
    if consume is MarginalLikelihoodSystematics.consume_axis:
        return "marginal"
    if consume is ProfileLikelihoodSystematics.consume_axis:
        return "profile"
    return None


def _linear_form(predictor: Any, n_free: int) -> tuple[NDArray[Any], NDArray[Any]] | None:
    """``(A, c)`` with prediction ``A @ x + c`` (shapes ``(S, B, n)``, ``(S|1, B)``)."""
    if not isinstance(predictor, MatrixPredictor):
        return None
    cls = type(predictor)
    if cls.prediction is not MatrixPredictor.prediction or cls._columns is not (
        MatrixPredictor._columns
    ):
        return None
    matrices = np.asarray(predictor.coefficients, dtype=float)
    n_columns = matrices.shape[-1]
    if _is_full_slice(predictor.sparse_indices):
        if n_columns != n_free:
            return None
        return matrices, np.asarray(predictor.constants, dtype=float)
    columns = np.arange(n_free)[predictor.sparse_indices]
    if columns.shape != (n_columns,):
        return None
    # Scatter the sparse columns onto their parameters (repeated indices add up).
    onehot = np.zeros((n_columns, n_free))
    np.add.at(onehot, (np.arange(n_columns), columns), 1.0)
    return matrices @ onehot, np.asarray(predictor.constants, dtype=float)


def _non_negative(matrices: NDArray[Any], constants: NDArray[Any], bounds: Any) -> bool:
    """Whether ``matrices @ x + constants`` stays >= 0 (up to rounding) within the bounds."""
    lower = np.asarray(bounds, dtype=float).reshape(-1, 2)[:, 0]
    scale = max(float(np.max(np.abs(matrices), initial=0.0)), float(np.max(np.abs(constants))))
    tolerance = -1e-9 * scale
    return bool(
        np.all(matrices >= tolerance) and np.all(constants >= tolerance) and np.all(lower >= 0)
    )


class _ToyModel:
    """``F = -log L`` of every toy, with its gradient and Hessian, for batches of toys.

    Parameters
    ----------
    calculator : LikelihoodCalculator
        Supplies predictor and systematics treatment.
    counts : ndarray
        Toy data, shape ``(N, n_bins)``.
    kind : {"marginal", "profile"}
    """

    def __init__(self, calculator: Any, counts: NDArray[Any], kind: str) -> None:
        self.predictor = calculator.predictor
        self.n = len(self.predictor.defaults)
        bounds = np.asarray(self.predictor.bounds, dtype=float).reshape(self.n, 2)
        self.lower, self.upper = bounds[:, 0], bounds[:, 1]
        self._set_counts(np.asarray(counts))
        self.kind = kind
        defaults = np.asarray(self.predictor.defaults, dtype=float)
        _, weights = self.predictor.prediction(defaults)
        self._set_weights(np.asarray(weights, dtype=float).reshape(-1))
        linear = _linear_form(self.predictor, self.n)
        self.linear = None
        if linear is not None:
            matrices, constants = linear
            n_syst = max(len(matrices), len(constants))
            full = np.broadcast_to(matrices, (n_syst, *matrices.shape[1:]))
            self.linear = (full, full.reshape(-1, self.n), constants)

    def _set_weights(self, weights: NDArray[Any]) -> None:
        self.weights = weights
        with np.errstate(divide="ignore", under="ignore"):
            self.log_weights = np.log(weights / np.sum(weights))

    def _set_counts(self, counts: NDArray[Any]) -> None:
        self.k = counts[:, np.newaxis, :].astype(float)
        self.k0 = self.k == 0
        self.lnkf = scipy.special.gammaln(self.k + 1)

    # -- predictions -------------------------------------------------------------------

    def _predict(self, x: NDArray[Any], rows: NDArray[Any]) -> NDArray[Any]:
        """Predictions ``(m, S, B)`` for parameter points ``(m, n)`` of toys ``rows``."""
        if self.linear is not None:
            full, flat, constants = self.linear
            with np.errstate(under="ignore"):
                mu = (x @ flat.T).reshape(len(x), *full.shape[:2])
            return mu + constants
        prediction, _ = self.predictor.prediction(x)
        return np.asarray(prediction, dtype=float).reshape(len(x), -1, self.k.shape[-1])

    def _jacobian(self, x: NDArray[Any], mu: NDArray[Any], rows: NDArray[Any]) -> Any:
        """``d mu / d x`` ``(m, S, B, n)``, or ``None`` for the shared matrices.

        Forward differences for a general predictor, steps kept inside the bounds.
        """
        if self.linear is not None:
            return None
        step = _SQRT_EPS * np.maximum(np.abs(x), 1.0)
        step = np.where(x + step > self.upper, -step, step)
        shifted = x[:, np.newaxis, :] + step[:, :, np.newaxis] * np.eye(self.n)
        mu_shifted = self._predict(shifted.reshape(-1, self.n), np.repeat(rows, self.n))
        mu_shifted = mu_shifted.reshape(len(x), self.n, *mu.shape[1:])
        jac = (mu_shifted - mu[:, np.newaxis]) / step[:, :, np.newaxis, np.newaxis]
        return np.moveaxis(jac, 1, -1)

    def variations(self) -> _VariationModel:
        """Every toy against every single variation, as separate problems."""
        return _VariationModel(self)

    # -- likelihood --------------------------------------------------------------------

    def _per_systematic(self, rows: NDArray[Any], mu: NDArray[Any]) -> NDArray[Any]:
        return poisson_log_likelihood(self.k[rows], self.k0[rows], self.lnkf[rows], mu)

    def _consume(self, ll: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Log-likelihood ``(m,)`` and the weight of each variation in it ``(m, S)``."""
        if self.kind == "profile":
            best = np.argmax(ll, axis=-1)
            value = np.take_along_axis(ll, best[:, np.newaxis], axis=-1)[:, 0]
            share = np.zeros_like(ll)
            np.put_along_axis(share, best[:, np.newaxis], 1.0, axis=-1)
            return value, share
        value = MarginalLikelihoodSystematics.consume_axis(ll, self.weights)
        with np.errstate(invalid="ignore", under="ignore", over="ignore"):
            share = np.exp(ll + self.log_weights - value[:, np.newaxis])
        share[~np.isfinite(share)] = 0.0
        return value, share

    def values(self, x: NDArray[Any], rows: NDArray[Any]) -> NDArray[Any]:
        """``-log L`` of toys ``rows`` at points ``x``; ``inf`` where impossible."""
        value, _ = self._consume(self._per_systematic(rows, self._predict(x, rows)))
        return -value

    def derivatives(
        self, x: NDArray[Any], rows: NDArray[Any]
    ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
        """``F = -log L``, its gradient ``(m, n)`` and Hessian ``(m, n, n)``."""
        mu = self._predict(x, rows)
        value, share = self._consume(self._per_systematic(rows, mu))
        k = self.k[rows]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            safe_mu = np.where(mu > 0, mu, 1.0)
            ratio = np.where(self.k0[rows], 0.0, k / safe_mu)
            residual = ratio - 1.0
            curvature = ratio / safe_mu
        # Variations without weight in the likelihood may be impossible: ignore them.
        used = share > 0
        residual = np.where(used[..., np.newaxis], residual, 0.0)
        curvature = np.where(used[..., np.newaxis], curvature * share[..., np.newaxis], 0.0)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            jac = self._jacobian(x, mu, rows)
            if jac is None:
                full, flat, _ = self.linear
                grad_s = np.einsum("msb,sbn->msn", residual, full)
                weighted = curvature.reshape(len(x), -1)[:, :, np.newaxis] * flat
                hess = -np.swapaxes(weighted, 1, 2) @ flat
            else:
                grad_s = np.einsum("msb,msbn->msn", residual, jac)
                weighted = (curvature[..., np.newaxis] * jac).reshape(len(x), -1, self.n)
                hess = -np.swapaxes(weighted, 1, 2) @ jac.reshape(len(x), -1, self.n)
            grad = np.einsum("ms,msn->mn", share, grad_s)
            # log of a weighted sum of likelihoods: add the spread of the gradients.
            hess += np.einsum("ms,msi,msj->mij", share, grad_s, grad_s)
            hess -= grad[:, :, np.newaxis] * grad[:, np.newaxis, :]
        bad = ~(np.isfinite(value) & np.all(np.isfinite(grad), axis=-1))
        bad |= ~np.all(np.isfinite(hess), axis=(-1, -2))
        grad[bad] = 0.0
        hess[bad] = np.eye(self.n)
        return np.where(bad, np.inf, -value), -grad, -hess


class _VariationModel(_ToyModel):
    """Problems ``(toy, variation)``: one toy's data against one systematic variation.

    Only for linear predictors. For Poisson data and a non-negative linear prediction
    each problem is concave within the bounds, so its local fit is its global one.
    """

    def __init__(self, parent: _ToyModel) -> None:
        full, _, constants = parent.linear
        n_toys, n_syst = len(parent.k), len(full)
        self.predictor = parent.predictor
        self.n = parent.n
        self.lower, self.upper = parent.lower, parent.upper
        self.kind = "marginal"
        self._set_weights(np.ones(1))
        self.linear = None
        self.toy = np.repeat(np.arange(n_toys), n_syst)
        self.variation = np.tile(np.arange(n_syst), n_toys)
        self._set_counts(parent.k[self.toy, 0])
        self._matrices = full
        self._constants = np.broadcast_to(constants, full.shape[:2])

    def _predict(self, x: NDArray[Any], rows: NDArray[Any]) -> NDArray[Any]:
        s = self.variation[rows]
        with np.errstate(under="ignore"):
            mu = np.einsum("rbn,rn->rb", self._matrices[s], x) + self._constants[s]
        return mu[:, np.newaxis, :]

    def _jacobian(self, x: NDArray[Any], mu: NDArray[Any], rows: NDArray[Any]) -> Any:
        return self._matrices[self.variation[rows]][:, np.newaxis]


def _solve(
    grad: NDArray[Any], hess: NDArray[Any], held: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Newton step ``-|H|^-1 g`` over the parameters not held, and ``g^T |H|^-1 g``.

    ``|H|`` has the absolute eigenvalues of ``H`` (with a floor), so the step goes
    downhill even where the Hessian is not positive definite.
    """
    n = grad.shape[-1]
    free_hess = np.where(held[:, :, np.newaxis] | held[:, np.newaxis, :], 0.0, hess)
    free_hess[:, np.arange(n), np.arange(n)] += held
    free_grad = np.where(held, 0.0, grad)
    eigenvalues, vectors = np.linalg.eigh(free_hess)
    magnitude = np.abs(eigenvalues)
    floor = np.maximum(1e-12 * np.max(magnitude, axis=-1, keepdims=True), 1e-300)
    magnitude = np.maximum(magnitude, floor)
    projected = np.einsum("mji,mj->mi", vectors, free_grad)
    scaled = projected / magnitude
    return -np.einsum("mij,mj->mi", vectors, scaled), np.sum(projected * scaled, axis=-1)


def _newton_direction(
    x: NDArray[Any],
    grad: NDArray[Any],
    hess: NDArray[Any],
    lower: Any,
    upper: Any,
    damping: NDArray[Any],
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Damped, bounded Newton direction and the first-order decrease ``-g . d`` (per toy).

    ``damping`` adds a multiple of the Hessian's diagonal (Levenberg-Marquardt): 0 is
    the Newton step, large values a short step along the scaled gradient.

    Parameters pressed against a bound by the gradient stay there. A parameter that
    the Newton step would carry across a bound is sent to that bound instead, and the
    step of the others is solved again on that face (with the coupling to the moved
    parameter), as an active-set method for the quadratic model does. Where that
    is not downhill, the plain projected Newton direction is used.
    """
    n = x.shape[-1]
    diagonal = np.abs(hess[:, np.arange(n), np.arange(n)])
    diagonal = np.maximum(diagonal, 1e-12 * np.max(diagonal, axis=-1, keepdims=True) + 1e-300)
    hess = hess.copy()
    hess[:, np.arange(n), np.arange(n)] += damping[:, np.newaxis] * diagonal
    base = ((x <= lower) & (grad > 0)) | ((x >= upper) & (grad < 0))
    held = base.copy()
    target = np.where(grad > 0, lower, upper)
    direction, _ = _solve(grad, hess, held)
    first = direction
    for _ in range(x.shape[-1]):
        below, above = x + direction < lower, x + direction > upper
        crossing = ~held & (below | above)
        if not crossing.any():
            break
        target = np.where(crossing, np.where(below, lower, upper), target)
        held |= crossing
        shift = np.where(held & ~base, target - x, 0.0)
        coupled = grad + np.einsum("mij,mj->mi", hess, shift)
        direction, _ = _solve(coupled, hess, held)
        direction = np.where(held & ~base, shift, direction)
    direction = np.where(base, 0.0, direction)
    decrease = -np.sum(grad * direction, axis=-1)
    # Fall back to the plain projected Newton step where the face step is not downhill.
    uphill = ~(decrease > 0)
    direction[uphill] = first[uphill]
    decrease[uphill] = -np.sum(grad[uphill] * first[uphill], axis=-1)
    return direction, decrease


def _local_fits(
    model: _ToyModel, rows: NDArray[Any], start: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Bounded, damped Newton minimisation of ``F`` for toys ``rows`` from ``start``.

    Every round evaluates one trial point per unfinished toy, so toys that retry a
    step and toys that take a new one share the predictor calls. A rejected step
    (no sufficient decrease, or an impossible prediction) is retried with more
    damping; accepted steps reduce it again.
    Returns the points, their ``F`` and whether each fit converged.
    """
    lower, upper = model.lower, model.upper
    x = np.clip(start, lower, upper)
    value, grad, hess = model.derivatives(x, rows)
    damping = np.zeros(len(rows))
    direction, decrease = _newton_direction(x, grad, hess, lower, upper, damping)
    steps_taken = np.zeros(len(rows), dtype=int)
    converged = _small(decrease, value)
    running = np.isfinite(value) & ~converged
    for _ in range(_MAX_ROUNDS):
        active = np.flatnonzero(running)
        if active.size == 0:
            break
        trial = np.clip(x[active] + direction[active], lower, upper)
        moved = trial - x[active]
        t_value, t_grad, t_hess = model.derivatives(trial, rows[active])
        slope = np.sum(grad[active] * moved, axis=-1)
        accept = np.isfinite(t_value) & (t_value <= value[active] + _ARMIJO * slope)
        # Accepted: move, relax the damping and take the next direction.
        ok = active[accept]
        x[ok], value[ok], grad[ok], hess[ok] = (
            trial[accept],
            t_value[accept],
            t_grad[accept],
            t_hess[accept],
        )
        damping[ok] = np.where(damping[ok] > 1e-6, damping[ok] / 4.0, 0.0)
        steps_taken[ok] += 1
        # Rejected: more damping, unless the step no longer moves the point.
        bad = active[~accept]
        still = np.max(np.abs(moved[~accept]) / (np.abs(x[bad]) + 1.0), axis=-1) < 1e-15
        stuck = bad[still]
        converged[stuck] = decrease[stuck] <= 1e-6
        running[stuck] = False
        retry = bad[~still]
        damping[retry] = np.maximum(8.0 * damping[retry], 1e-3)
        update = np.concatenate([ok, retry])
        direction[update], decrease[update] = _newton_direction(
            x[update], grad[update], hess[update], lower, upper, damping[update]
        )
        done = _small(decrease[ok], value[ok])
        converged[ok[done]] = True
        running[ok[done]] = False
        running[ok[steps_taken[ok] >= _MAX_NEWTON_STEPS]] = False
        running[retry[damping[retry] > 1e20]] = False
    converged[running] = decrease[running] <= 1e-6
    return x, value, converged


def _small(decrease: NDArray[Any], value: NDArray[Any]) -> NDArray[Any]:
    """Whether the predicted decrease of ``F`` is below what matters."""
    return decrease <= np.maximum(2e-10, 1e-15 * np.abs(value))


def _first_fits(
    model: _ToyModel, start: NDArray[Any]
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """The local fit from the defaults, or a better one found through the variations.

    With several systematic variations the likelihood can have several maxima. For a
    linear prediction, toys are also fitted to each variation alone (a concave
    problem), and the local fit is repeated from the best of those fits; for the
    profile the best of them is the global maximum. The marginal likelihood of a
    toy is treated so only if some variation's own maximum is more than about one
    standard deviation away from the first fit (otherwise the variations' maxima
    lie within each other's widths and their mixture has a single maximum).
    """
    m = len(model.k)
    rows = np.arange(m)
    x, value, ok = _local_fits(model, rows, np.tile(start, (m, 1)))
    if model.linear is None or len(model.linear[0]) == 1:
        return x, value, ok
    variations = model.variations()
    n_syst = len(model.linear[0])
    toys = np.flatnonzero(np.isfinite(value))
    if model.kind == "marginal" and toys.size:
        pairs = (toys[:, np.newaxis] * n_syst + np.arange(n_syst)).ravel()
        at_fit = np.repeat(x[toys], n_syst, axis=0)
        _, grad, hess = variations.derivatives(at_fit, pairs)
        _, reach = _newton_direction(
            at_fit, grad, hess, model.lower, model.upper, np.zeros(len(pairs))
        )
        toys = toys[np.max(reach.reshape(len(toys), n_syst), axis=-1) > _ONE_SIGMA]
    if toys.size == 0:
        return x, value, ok
    pairs = (toys[:, np.newaxis] * n_syst + np.arange(n_syst)).ravel()
    x_v, value_v, _ = _local_fits(variations, pairs, np.tile(start, (len(pairs), 1)))
    if model.kind == "marginal":
        value_v = value_v - np.tile(model.log_weights, len(toys))
    # The few best variation fits of each toy, as starting points for its own likelihood.
    n_best = min(n_syst, 5)
    order = np.argsort(value_v.reshape(len(toys), n_syst), axis=-1)[:, :n_best]
    candidates = x_v.reshape(len(toys), n_syst, -1)[np.arange(len(toys))[:, np.newaxis], order]
    candidates = candidates.reshape(-1, model.n)
    scores = model.values(candidates, np.repeat(toys, n_best)).reshape(len(toys), n_best)
    with np.errstate(invalid="ignore"):
        choice = np.argmin(np.where(np.isnan(scores), np.inf, scores), axis=-1)
    chosen = candidates.reshape(len(toys), n_best, -1)[np.arange(len(toys)), choice]
    x_c, value_c, ok_c = _local_fits(model, toys, chosen)
    better = value_c < value[toys]
    picked = toys[better]
    x[picked], value[picked], ok[picked] = x_c[better], value_c[better], ok_c[better]
    return x, value, ok


def _basin_hopping(
    model: _ToyModel,
    start: NDArray[Any],
    settings: _HopSettings,
    gen: np.random.Generator,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Basin hopping as scipy does it, on all toys at once.

    Returns every toy's best point, its ``F`` and whether a local fit converged there.
    """
    current, current_value, best_ok = _first_fits(model, start)
    m = len(current)
    best, best_value = current.copy(), current_value.copy()
    stepsize = np.full(m, settings.stepsize)
    accepted = np.zeros(m)
    unchanged = np.zeros(m, dtype=int)
    hopping = np.ones(m, dtype=bool)
    beta = np.inf if settings.temperature == 0 else 1.0 / settings.temperature
    for hop in range(1, settings.niter + 1):
        if hop % settings.interval == 0:
            # scipy's adaptive step size, per toy.
            larger = accepted / hop > settings.target_accept_rate
            stepsize = np.where(
                larger, stepsize / settings.stepwise_factor, stepsize * settings.stepwise_factor
            )
        live = np.flatnonzero(hopping)
        if live.size == 0:
            break
        displaced = (
            current[live]
            + gen.uniform(-1.0, 1.0, size=(live.size, model.n)) * (stepsize[live, np.newaxis])
        )
        x_new, value_new, ok = _local_fits(model, live, displaced)
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            change = value_new - current_value[live]
            chance = np.where(change <= 0, 1.0, np.exp(-change * beta))
        chance = np.where(np.isnan(chance) | ~np.isfinite(value_new), 0.0, chance)
        accept = chance >= gen.uniform(size=live.size)
        taken = live[accept]
        current[taken], current_value[taken] = x_new[accept], value_new[accept]
        accepted[taken] += 1
        better = accept & ok & (value_new < best_value[live])
        best[live[better]], best_value[live[better]] = x_new[better], value_new[better]
        best_ok[live[better]] = True
        unchanged[live] += 1
        unchanged[live[better]] = 0
        if settings.niter_success is not None:
            hopping &= unchanged < settings.niter_success
    return best, best_value, best_ok


class _FitToyChunk:
    """Fit a chunk of toys: a picklable function for ``mapper``.

    Toys whose vectorised fits never converged (e.g. pressed against the edge of the
    region where every prediction is positive, which no bound describes) are
    re-fitted one by one with the maximizer itself.
    """

    def __init__(self, calculator: Any, maximizer: Any, kind: str, settings: _HopSettings) -> None:
        self.calculator = calculator
        self.maximizer = maximizer
        self.kind = kind
        self.settings = settings

    def __call__(self, chunk: tuple[NDArray[Any], int]) -> NDArray[Any]:
        counts, seed = chunk
        settings = self.settings
        gen = np.random.default_rng(seed if settings.seed is None else settings.seed)
        # Underflow to zero is harmless here (tiny shares of variations, tiny steps).
        with single_blas_thread(), np.errstate(under="ignore"):
            model = _ToyModel(self.calculator, counts, self.kind)
            start = np.asarray(self.calculator.predictor.defaults, dtype=float)
            _, best_value, converged = _basin_hopping(model, start, settings, gen)
        result = -best_value
        for i in np.flatnonzero(~converged & np.isfinite(best_value)):
            fit = self.maximizer(self.calculator._with_data(counts[i]), rng=gen)
            result[i] = max(result[i], float(fit.log_likelihood))
        return result


def toy_log_likelihoods(
    calculator: Any, toys: NDArray[Any], parameters: Any, **kwargs: Any
) -> NDArray[Any]:
    """Log-likelihood of every toy data set at one parameter vector.

    One vectorised call per chunk of toys, the chunks bounding the (toys x
    systematics x bins) array. ``kwargs`` go to the calculator (e.g.
    ``systematics_index=``).
    """
    per_point = int(np.size(calculator.predictor(parameters, **kwargs)[0]))
    size = _chunk_size(per_point, len(toys), 0, builtins.map)
    return np.concatenate(
        [
            np.asarray(calculator._with_data(toys[i : i + size])(parameters, **kwargs), dtype=float)
            for i in range(0, len(toys), size)
        ]
    )


def _chunk_size(per_point: int, n_toys: int, n_free: int, mapper: Any) -> int:
    """Toys per chunk for predictions of ``per_point`` numbers and ``n_free`` parameters."""
    per_toy = max(per_point, 1) * (n_free + 1)
    size = max(1, _CHUNK_ELEMENTS // per_toy)
    if mapper is not builtins.map:
        # A parallel mapper gets at least one chunk per core.
        size = min(size, math.ceil(n_toys / (os.cpu_count() or 1)))
    return max(1, size)


def fit_toys(
    calculator: Any,
    maximizer: Any,
    toys: NDArray[Any],
    gen: np.random.Generator,
    mapper: Any,
) -> NDArray[Any] | None:
    """Maximum log-likelihood of every toy data set, or ``None`` if not vectorisable.

    Parameters
    ----------
    calculator : LikelihoodCalculator
        Predictor and systematics treatment of the fits.
    maximizer : object
        The maximizer the caller would use per toy.
    toys : ndarray
        Toy counts, shape ``(N, n_bins)``.
    gen : numpy.random.Generator
        Seeds the basin-hopping steps (one seed per chunk of toys).
    mapper : callable
        ``map``-like; called once with the chunks of toys.

    Returns
    -------
    ndarray or None
        Shape ``(N,)``; ``None`` when the toys must be fitted one by one.
    """
    predictor = calculator.predictor
    n_free = len(predictor.defaults)
    data = calculator.data_model
    if (
        not isinstance(data, PoissonData)
        or type(data).log_likelihood is not PoissonData.log_likelihood
        or np.ndim(toys) != 2
    ):
        return None
    kind = _consumer_kind(calculator.systematics)
    settings = _hop_settings(maximizer, n_free)
    if kind is None or settings is None:
        return None
    if n_free == 0:
        # Nothing to fit: the maximum is the likelihood of the one point, for all toys.
        return toy_log_likelihoods(calculator, toys, np.empty(0))
    linear = _linear_form(predictor, n_free)
    if linear is not None and not _non_negative(*linear, predictor.bounds):
        # Predictions that can turn negative inside the bounds make the edge of the
        # allowed region a constraint the vectorised fits do not model.
        return None
    try:
        probe = np.asarray(predictor.defaults, dtype=float)
        prediction, weights = predictor.prediction(np.stack([probe, probe]))
    except Exception:  # noqa: BLE001
        # A predictor that cannot evaluate batches is fitted toy by toy.
        return None
    prediction = np.asarray(prediction)
    if prediction.ndim != 3 or prediction.shape[0] != 2 or prediction.shape[-1] != toys.shape[-1]:
        return None
    try:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), prediction.shape[:2])
    except ValueError:
        return None
    if not np.array_equal(weights[0], weights[1]):
        # Weights that depend on the parameters are not modelled here.
        return None
    size = _chunk_size(prediction[0].size, len(toys), n_free, mapper)
    chunks = [toys[i : i + size] for i in range(0, len(toys), size)]
    seeds = gen.integers(0, 2**63 - 1, size=len(chunks), dtype=np.int64)
    fit = _FitToyChunk(calculator, maximizer, kind, settings)
    results = list(mapper(fit, [(c, int(s)) for c, s in zip(chunks, seeds, strict=True)]))
    return np.concatenate([np.asarray(r, dtype=float) for r in results])
