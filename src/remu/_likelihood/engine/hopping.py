"""Global fits: first fits through the systematic variations, then basin hopping.

With several systematic variations a likelihood can have several maxima. For a
linear prediction every problem is also fitted to each variation alone (a convex
problem, warm-started at the problem's first fit), and the local fit is repeated
from the best of those; for the profile likelihood the best variation fit *is*
the global maximum. The marginal likelihood of a problem is treated so only when
some variation's own maximum is more than about one standard deviation away from
the first fit: otherwise the variations' maxima lie within each other's widths
and their mixture has a single maximum.

scipy's basin-hopping loop then runs on every chain in lockstep: random
displacement of up to ``stepsize`` per parameter, a local fit, Metropolis
acceptance at temperature ``T``, and the adaptive step size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._likelihood.engine.newton import local_fits, newton_direction, positive_definite
from remu._likelihood.engine.objective import LinearFamily, Objective, VariationFamily

__all__ = ["HopSettings", "basin_hopping", "global_fits"]

Array = NDArray[np.float64]

# g^T H^-1 g of a variation's Newton step: its maximum is about one standard deviation away.
_ONE_SIGMA = 1.0
# Variation maxima per problem that restart its own (marginal) fit.
_N_RESTARTS = 2
#: basin-hopping options the engine reproduces (anything else goes to scipy)
OPTIONS = frozenset(
    {
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
)


@dataclass(frozen=True)
class HopSettings:
    """Basin-hopping settings of the engine (scipy's names and defaults).

    Attributes
    ----------
    niter : int
        Number of basin-hopping steps.
    temperature : float
        ``T`` of the Metropolis acceptance.
    stepsize : float
        Initial maximal displacement per parameter.
    interval : int
        Steps between updates of the step size.
    niter_success : int or None
        Stop a chain after this many steps without improvement.
    target_accept_rate, stepwise_factor : float
        The adaptive step size: grow it by ``1 / stepwise_factor`` while more than
        ``target_accept_rate`` of the steps were accepted, shrink it otherwise.
    seed : object
        A fixed seed of the maximizer (``seed=``/``rng=`` of the constructor), or
        ``None`` to use the randomness of the call.
    """

    niter: int = 10
    temperature: float = 1.0
    stepsize: float = 0.5
    interval: int = 50
    niter_success: int | None = None
    target_accept_rate: float = 0.5
    stepwise_factor: float = 0.9
    seed: Any = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any], n_free: int) -> HopSettings | None:
        """Read the settings from ``basinhopping`` keyword arguments; ``None`` if not reproducible.

        Parameters
        ----------
        options : mapping
            ``basinhopping`` keyword arguments (a maximizer's constructor options).
        n_free : int
            Number of free parameters (the default temperature).

        Returns
        -------
        HopSettings or None
            ``None`` for options the engine does not reproduce or invalid values
            (scipy then reports them).
        """
        if not set(options) <= OPTIONS:
            return None
        try:
            settings = cls(
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
            return None
        if settings.niter < 0 or settings.temperature < 0 or settings.interval < 1:
            return None
        return settings


def _pairs(objective: Objective, owner: NDArray[np.intp]) -> Objective:
    """Every problem in ``owner`` against each single variation (rows grouped by problem)."""
    family = objective.family
    n_syst = family.n_syst
    variation = np.tile(np.arange(n_syst), len(owner))
    problem = np.repeat(owner, n_syst)
    return Objective(
        VariationFamily(family, problem, variation),
        objective.k[problem, 0],
        "marginal",
        np.ones(1),
        objective.lower,
        objective.upper,
    )


def _profile_fits(objective: Objective, start: Array) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Exact profile maxima of linear problems: the best of the single-variation fits.

    ``max_x max_s l_s(x) = max_s max_x l_s(x)``, and every ``l_s`` is concave for a
    non-negative linear prediction, so each variation's local fit is its global one.
    """
    m = objective.n_problems
    n_syst = objective.family.n_syst
    pairs = _pairs(objective, np.arange(m))
    rows = np.arange(m * n_syst)
    # Variations whose maximum provably cannot be the best of their problem stop early.
    x_v, value_v, ok_v = local_fits(
        pairs, rows, np.repeat(start, n_syst, axis=0), groups=pairs.family.problem
    )
    np.add.at(objective.nfev, pairs.family.problem, pairs.nfev)
    scores = np.where(np.isnan(value_v), np.inf, value_v).reshape(m, n_syst)
    best = np.arange(m) * n_syst + np.argmin(scores, axis=-1)
    x = x_v[best]
    value = objective.values(x, np.arange(m))
    return x, np.minimum(value, value_v[best]), ok_v[best]


def _marginal_restarts(
    objective: Objective, fit: Array, fit_hess: Array
) -> tuple[NDArray[np.intp], Array]:
    """Further starting points of marginal linear problems: near their variations' maxima.

    A marginal likelihood over several variations can have several maxima, each
    near the maximum of some variation (or a group of similar ones). One Newton
    step of every single variation from the first fit ``fit`` (a concave problem,
    so the step points at its maximum) predicts where each variation's maximum is
    and how high it is. Where every predicted maximum lies within about one
    standard deviation of the first fit (in the metric of its Hessian
    ``fit_hess``), the variations' maxima lie within each other's widths, their
    mixture has a single maximum there and nothing is restarted. Otherwise the
    distant variations with the highest predicted weighted maxima give the further
    starting points.

    Returns
    -------
    problems : ndarray of int
        The problem row of every starting point.
    points : ndarray
        The starting points, shape ``(len(problems), n)``.
    """
    m = objective.n_problems
    n = objective.n
    n_syst = objective.family.n_syst
    pair_value, grad, hess = objective.per_variation(fit, np.arange(m))
    pair_value, grad, hess = pair_value.ravel(), grad.reshape(-1, n), hess.reshape(-1, n, n)
    at_fit = np.repeat(fit, n_syst, axis=0)
    matrix = positive_definite(hess)
    step, reach = newton_direction(at_fit, grad, matrix, objective.lower, objective.upper)
    distance = _quadratic_form_rows(step, fit_hess, n_syst)
    # The quadratic model's minimum: F_s - g.d / 2 for the (bounded) Newton step d.
    predicted = pair_value - 0.5 * reach - np.tile(objective.log_weights, m)
    predicted[~(np.isfinite(predicted) & (distance > _ONE_SIGMA**2))] = np.inf
    n_best = min(n_syst, _N_RESTARTS)
    order = np.argsort(predicted.reshape(m, n_syst), axis=-1)[:, :n_best]
    index = (np.arange(m)[:, np.newaxis] * n_syst + order).ravel()
    index = index[np.isfinite(predicted[index])]
    points = at_fit[index] + step[index]
    np.maximum(points, objective.lower, out=points)
    np.minimum(points, objective.upper, out=points)
    return index // n_syst, points


def _quadratic_form_rows(step: Array, hess: Array, per_problem: int) -> Array:
    """``d^T H d`` of steps ``(m * k, n)``, ``k`` per problem, in their problem's ``H``."""
    n = step.shape[-1]
    grouped = step.reshape(-1, per_problem, n)
    form: Array = ((grouped @ hess) * grouped).sum(axis=-1).ravel()
    return form


def _scaled(objective: Objective, start: Array) -> Array | None:
    """``start`` scaled so that the predicted total matches the data (linear families).

    Fits usually start from defaults of the wrong overall size (template weights of
    1 for a thousand events); the scale ``t`` with ``sum(t A x + c) = sum(k)``
    (weighted over the variations) is a far better starting point for Newton.
    """
    family = objective.family
    if not isinstance(family, LinearFamily):
        return None
    rows = np.arange(objective.n_problems)
    weights = objective.weights / objective.weights.sum()
    # sum_b (A x + c) = (sum_b A) x + sum_b c, weighted over the variations.
    total_c = family.constant_totals(rows) @ weights
    total_a = family.predicted_totals(start, rows) @ weights - total_c
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (objective.k_total - total_c) / total_a
    scale[~(np.isfinite(scale) & (scale > 0))] = 1.0
    scaled = start * scale[:, np.newaxis]
    np.maximum(scaled, objective.lower, out=scaled)
    clipped: Array = np.minimum(scaled, objective.upper, out=scaled)
    return clipped


def _best_start(objective: Objective, starts: list[Array]) -> Array:
    """Per problem, the starting point with the lowest ``F`` (the first one on ties)."""
    if len(starts) == 1:
        return starts[0]
    m = objective.n_problems
    points = np.clip(np.concatenate(starts), objective.lower, objective.upper)
    values = objective.values(points, np.tile(np.arange(m), len(starts))).reshape(len(starts), m)
    choice = np.argmin(np.where(np.isnan(values), np.inf, values), axis=0)
    best: Array = points.reshape(len(starts), m, -1)[choice, np.arange(m)]
    return best


def _quadratic_return(
    value: Array, offset: Array, value0: Array, grad0: Array, hess0: Array
) -> NDArray[np.bool_]:
    """Displaced points whose ``F`` the quadratic model of their origin predicts.

    ``F(x0 + d) = F0 + g.d + d^T H d / 2`` to within a tenth of the predicted
    increase: the point lies in the bowl of the minimum ``x0`` it was displaced from,
    so its local fit would lead back there.
    """
    curved = (hess0 @ offset[:, :, np.newaxis])[:, :, 0]
    curved *= 0.5
    curved += grad0
    curved *= offset
    predicted = curved.sum(axis=-1)
    tolerance = 0.1 * np.abs(predicted) + 1e-9 * (1.0 + np.abs(value0))
    trusted: NDArray[np.bool_] = np.isfinite(value) & (
        np.abs(value - value0 - predicted) <= tolerance
    )
    return trusted


def basin_hopping(
    objective: Objective,
    chains: NDArray[np.intp],
    start: tuple[Array, Array, NDArray[np.bool_], Array, Array],
    settings: HopSettings,
    n_hops: NDArray[np.intp],
    gen: np.random.Generator,
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Run SciPy's basin-hopping loop on every chain at once.

    A hop whose displaced point the quadratic model of the chain's current minimum
    predicts (see :func:`_quadratic_return`) costs one evaluation of ``F``: its
    local fit would return to that minimum, which is taken as its result. Other
    hops run a local fit, which stops early once it heads for the chain's best
    point (:func:`~remu._likelihood.engine.newton.local_fits`).

    Parameters
    ----------
    objective : Objective
    chains : ndarray of int
        The problem row of every chain (a problem may have several chains).
    start : tuple of ndarray
        Per chain: the first local fit, its ``F``, convergence, gradient and
        (positive definite) Hessian.
    settings : HopSettings
    n_hops : ndarray of int
        Number of hops of every chain.
    gen : numpy.random.Generator

    Returns
    -------
    best, best_value, best_ok : ndarray
        Per chain: the lowest ``F`` found, where, and whether its local fit converged.
    """
    current, current_value, current_ok, current_grad, current_hess = (a.copy() for a in start)
    best, best_value, best_ok = current.copy(), current_value.copy(), current_ok.copy()
    m = len(chains)
    stepsize = np.full(m, settings.stepsize)
    accepted = np.zeros(m)
    unchanged = np.zeros(m, dtype=int)
    hopping = (n_hops > 0) & ~np.isnan(current_value)
    beta = np.inf if settings.temperature == 0 else 1.0 / settings.temperature
    lower, upper = objective.lower, objective.upper
    for hop in range(1, int(np.max(n_hops, initial=0)) + 1):
        if hop % settings.interval == 0:
            # scipy's adaptive step size, per chain.
            larger = accepted / hop > settings.target_accept_rate
            stepsize = np.where(
                larger, stepsize / settings.stepwise_factor, stepsize * settings.stepwise_factor
            )
        hopping &= n_hops >= hop
        if hopping.all():
            live: Any = slice(None)
            n_live = m
        else:
            live = hopping.nonzero()[0]
            n_live = live.size
            if n_live == 0:
                break
        origin, origin_value = current[live], current_value[live]
        displacement = gen.uniform(-1.0, 1.0, size=(n_live, objective.n))
        displacement *= stepsize[live][:, np.newaxis]
        displaced = origin + displacement
        np.maximum(displaced, lower, out=displaced)
        np.minimum(displaced, upper, out=displaced)
        value_new = objective.values(displaced, chains[live])
        back = current_ok[live] & _quadratic_return(
            value_new, displaced - origin, origin_value, current_grad[live], current_hess[live]
        )
        away = (~back).nonzero()[0]
        if away.size == 0:
            # Every step returns to its chain's minimum: nothing moves, every step is
            # accepted (no change of F), and no chain improves on its best point.
            gen.uniform(size=n_live)
            accepted[live] += 1
            unchanged[live] += 1
            if settings.niter_success is not None:
                hopping &= unchanged < settings.niter_success
            continue
        x_new = origin.copy()
        value_new[back] = origin_value[back]
        ok = current_ok[live].copy()
        grad_new, hess_new = current_grad[live].copy(), current_hess[live].copy()
        fits = local_fits(
            objective, chains[live][away], displaced[away], best[live][away], full=True
        )
        x_new[away], value_new[away], ok[away], grad_new[away], hess_new[away] = fits
        with np.errstate(invalid="ignore", over="ignore", under="ignore"):
            change = value_new - origin_value
            chance = np.where(change <= 0, 1.0, np.exp(-change * beta))
        chance = np.where(np.isnan(chance) | ~np.isfinite(value_new), 0.0, chance)
        accept = chance >= gen.uniform(size=n_live)
        live = np.arange(m) if isinstance(live, slice) else live
        taken = live[accept]
        current[taken], current_value[taken] = x_new[accept], value_new[accept]
        current_ok[taken] = ok[accept]
        current_grad[taken], current_hess[taken] = grad_new[accept], hess_new[accept]
        accepted[taken] += 1
        better = accept & ok & (value_new < best_value[live])
        best[live[better]], best_value[live[better]] = x_new[better], value_new[better]
        best_ok[live[better]] = True
        unchanged[live] += 1
        unchanged[live[better]] = 0
        if settings.niter_success is not None:
            hopping &= unchanged < settings.niter_success
    return best, best_value, best_ok


def global_fits(
    objective: Objective,
    start: Array,
    settings: HopSettings,
    gen: np.random.Generator,
    *,
    chains_per_problem: int = 1,
    extra_starts: Array | None = None,
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Find the best point of every problem: first fits, variation fits, basin hopping.

    * Every problem starts from the better (lower ``F``) of ``start`` -- scaled to
      the size of the data for linear predictions -- and ``extra_starts``.
    * Linear predictions with one variation (a concave problem) need only the
      local fit, and the profile over several variations of a linear prediction is
      solved exactly by :func:`_profile_fits`: no basin hopping.
    * Otherwise the local fit, then basin hopping with ``chains_per_problem``
      chains per problem sharing its ``niter`` steps (chain ``r`` of ``R`` takes
      ``niter // R`` steps, one more for the first ``niter % R``). A marginal
      likelihood of a linear prediction is also fitted from near the maxima of its
      best variations when some variation's maximum lies more than about one
      standard deviation from the first fit (:func:`_marginal_restarts`); the best
      local fit starts the chains.

    Parameters
    ----------
    objective : Objective
    start : ndarray
        Shape ``(M, n)``: the defaults.
    settings : HopSettings
    gen : numpy.random.Generator
    chains_per_problem : int
        More chains mean fewer rounds of the lockstep loop, which is what a single
        fit costs.
    extra_starts : ndarray, optional
        Shape ``(M, n)``: further starting points (e.g. the fit that toys were drawn
        from, or the unconstrained fit of a scan).

    Returns
    -------
    x, value, converged : ndarray
        Per problem: the best point, its ``F`` and whether its local fit converged.
    """
    m = objective.n_problems
    # The scaled start is the best point along the ray of the defaults (for one
    # variation without constants, exactly): no need to compare it with them.
    scaled = _scaled(objective, start)
    starts = [start if scaled is None else scaled]
    if extra_starts is not None:
        starts.append(extra_starts)
    begin = _best_start(objective, starts)
    family = objective.family
    linear = isinstance(family, LinearFamily)
    if linear and family.n_syst > 1 and objective.kind == "profile":
        return _profile_fits(objective, begin)
    if linear and family.n_syst == 1:
        return local_fits(objective, np.arange(m), begin)
    rows = np.arange(m)
    fits = local_fits(objective, rows, begin, full=True)
    if linear:
        more_rows, more_points = _marginal_restarts(objective, fits[0], fits[4])
        if more_rows.size:
            more = local_fits(objective, more_rows, more_points, full=True)
            fits = _joined(fits, more)
            rows = np.concatenate([rows, more_rows])
    first = _best_per_problem(m, rows, fits[1])
    r = max(1, min(chains_per_problem, settings.niter))
    chains = np.repeat(np.arange(m), r)
    base, extra = divmod(settings.niter, r)
    n_hops = np.tile(base + (np.arange(r) < extra), m)
    best = basin_hopping(
        objective, chains, _taken(_taken(fits, first), chains), settings, n_hops, gen
    )
    pick = _best_per_problem(m, chains, best[1])
    return best[0][pick], best[1][pick], best[2][pick]


_FullFits = tuple[Array, Array, NDArray[np.bool_], Array, Array]


def _joined(a: _FullFits, b: _FullFits) -> _FullFits:
    """Join the fits ``(x, value, converged, grad, hess)`` of ``a`` followed by those of ``b``."""
    return (
        np.concatenate([a[0], b[0]]),
        np.concatenate([a[1], b[1]]),
        np.concatenate([a[2], b[2]]),
        np.concatenate([a[3], b[3]]),
        np.concatenate([a[4], b[4]]),
    )


def _taken(fits: _FullFits, index: NDArray[np.intp]) -> _FullFits:
    """Take the fits ``(x, value, converged, grad, hess)`` at ``index``."""
    x, value, ok, grad, hess = fits
    return x[index], value[index], ok[index], grad[index], hess[index]


def _best_per_problem(m: int, rows: NDArray[np.intp], value: Array) -> NDArray[np.intp]:
    """For every problem ``0..m-1``, the index of its lowest ``value`` among ``rows``."""
    value = np.where(np.isnan(value), np.inf, value)
    if m == 1:
        return np.array([np.argmin(value)], dtype=np.intp)
    order = np.lexsort((value, rows))
    sorted_rows = rows[order]
    firsts: NDArray[np.intp] = order[np.concatenate([[True], sorted_rows[1:] != sorted_rows[:-1]])]
    return firsts
