"""Bounded, damped Newton minimisation of many problems in lockstep.

Every round evaluates one trial point per unfinished problem, so problems that
retry a step and problems that take a new one share the predictor calls. The step
solves ``H d = -g`` with a Cholesky factorisation (a closed form for one
parameter); where the exact Hessian is not positive definite (a marginal
likelihood between the maxima of its variations) the matrix with its absolute
eigenvalues is used instead, which still points downhill. Bounds are handled by an
active-set treatment of the quadratic model, and a rejected step (no sufficient
decrease, or an impossible prediction) is retried shorter along the same direction,
at the minimum of the interpolating parabola.
"""

from __future__ import annotations

from typing import Any, Literal, cast, overload

import numpy as np
from numpy.typing import NDArray

__all__ = ["local_fits", "newton_direction", "positive_definite", "solve"]

Array = NDArray[np.float64]

_MAX_NEWTON_STEPS = 200
_MAX_ROUNDS = 2000
_ARMIJO = 1e-4
# Steps predicted to lower F by more than this are extended to their line's minimum.
_EXTEND_DECREASE = 0.1
# ... by at most this factor.
_LONGEST_STEP = 20.0
# Newton decrement below which a fit is close enough to its minimum to tell which it is.
_SAME_BASIN_DECREMENT = 0.01
# Up to this many parameters, which of many small matrices are not positive definite
# is found by a vectorised Cholesky loop over the columns (LAPACK's batched call only
# says that one of them is not).
_LOOP_CHOLESKY_MAX_N = 8
# From this many problems on, the triangular solves after LAPACK's batched Cholesky
# factorisation are a vectorised loop over the columns (faster than a batched LU).
_LOOP_SOLVE_MIN_M = 64


def _loop_cholesky(hess: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Cholesky factors of a stack ``(m, n, n)`` and which ones are positive definite."""
    m, n, _ = hess.shape
    factor = np.zeros_like(hess)
    ok = np.ones(m, dtype=bool)
    for j in range(n):
        row = factor[:, j, :j]
        pivot = hess[:, j, j] - np.einsum("mk,mk->m", row, row)
        good = pivot > 0
        ok &= good
        root = np.sqrt(np.where(good, pivot, 1.0))
        factor[:, j, j] = root
        if j + 1 < n:
            below = hess[:, j + 1 :, j] - np.einsum("mik,mk->mi", factor[:, j + 1 :, :j], row)
            factor[:, j + 1 :, j] = below / root[:, np.newaxis]
    return factor, ok


def _loop_cholesky_solve(factor: NDArray[np.floating[Any]], rhs: Array) -> Array:
    """Solve ``L L^T d = rhs`` for a stack of Cholesky factors."""
    n = rhs.shape[-1]
    y = np.empty_like(rhs)
    for j in range(n):
        y[:, j] = (rhs[:, j] - np.einsum("mk,mk->m", factor[:, j, :j], y[:, :j])) / factor[:, j, j]
    d = np.empty_like(rhs)
    for j in range(n - 1, -1, -1):
        tail = np.einsum("mk,mk->m", factor[:, j + 1 :, j], d[:, j + 1 :])
        d[:, j] = (y[:, j] - tail) / factor[:, j, j]
    return d


def _is_positive_definite(hess: Array) -> NDArray[np.bool_]:
    """Per problem: whether the symmetric matrix is (numerically) positive definite."""
    m, n, _ = hess.shape
    if n == 1:
        return hess[:, 0, 0] > 0
    if n == 2:
        return _positive_definite_2(hess)
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        if n <= _LOOP_CHOLESKY_MAX_N:
            return _loop_cholesky(hess)[1]
        return np.linalg.eigvalsh(hess)[:, 0] > 0
    return np.ones(m, dtype=bool)


def _positive_definite_2(hess: Array) -> NDArray[np.bool_]:
    """Sylvester's criterion for symmetric ``2 x 2`` matrices (Cholesky's pivots)."""
    a, b = hess[:, 0, 0], hess[:, 1, 0]
    return (a > 0) & (a * hess[:, 1, 1] - b * b > 0)


def _all_positive_definite(hess: Array) -> bool:
    """Whether every matrix of the stack is positive definite (one LAPACK call)."""
    n = hess.shape[-1]
    if n == 2:
        return bool(_positive_definite_2(hess).all())
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return False
    return True


def _floored(hess: Array) -> Array:
    """``hess`` plus a tiny multiple of its largest diagonal entry on the diagonal.

    Parameters without any effect (a zero row and column) then get a positive
    curvature; their gradient is zero, so they do not move.
    """
    n = hess.shape[-1]
    diagonal = np.abs(hess[:, np.arange(n), np.arange(n)])
    floor = 1e-12 * np.max(diagonal, axis=-1) + 1e-300
    out: Array = hess.copy()
    out[:, np.arange(n), np.arange(n)] += floor[:, np.newaxis]
    return out


def positive_definite(hess: Array) -> Array:
    """Return the exact Hessian where it is positive definite, otherwise a safe replacement.

    The replacement is the Hessian with a tiny floor on its diagonal, and where
    that is not positive definite either, the matrix with the absolute eigenvalues
    of the Hessian.
    """
    if hess.shape[-1] == 1:
        h = hess[:, 0, 0]
        if (h > 0).all():
            return hess
        value = np.where(h > 0, h, np.maximum(np.abs(h), 1e-300 + 1e-12 * np.abs(h)))
        return value[:, np.newaxis, np.newaxis]
    if _all_positive_definite(hess):
        return hess
    matrix = _floored(hess)
    ok = _is_positive_definite(matrix)
    if ok.all():
        return matrix
    bad = np.flatnonzero(~ok)
    # Where the exact Hessian is not positive definite, the matrix with its absolute
    # eigenvalues: it keeps the curvature's size along every direction, so the step
    # leaves a saddle or a concave region as fast as Newton approaches a minimum.
    eigenvalues, vectors = np.linalg.eigh(hess[bad])
    magnitude = np.abs(eigenvalues)
    floor = np.maximum(1e-12 * np.max(magnitude, axis=-1, keepdims=True), 1e-300)
    magnitude = np.maximum(magnitude, floor)
    matrix[bad] = (vectors * magnitude[:, np.newaxis, :]) @ np.swapaxes(vectors, 1, 2)
    return matrix


def _solve_2(hess: Array, rhs: Array) -> Array:
    """``hess^-1 rhs`` for symmetric positive definite ``2 x 2`` matrices (closed form)."""
    a, b, d = hess[:, 0, 0], hess[:, 0, 1], hess[:, 1, 1]
    r0, r1 = rhs[:, 0], rhs[:, 1]
    det = a * d - b * b
    out = np.empty_like(rhs)
    out[:, 0] = (d * r0 - b * r1) / det
    out[:, 1] = (a * r1 - b * r0) / det
    return out


def solve(grad: Array, hess: Array, held: NDArray[np.bool_] | None) -> Array:
    """Newton step ``-H^-1 g`` over the parameters not held (``None``: none held).

    ``hess`` must be positive definite (see :func:`positive_definite`); held
    parameters do not move.
    """
    m, n = grad.shape
    if held is not None:
        grad = np.where(held, 0.0, grad)
    if n == 1:
        return -grad / hess[:, :, 0]
    if held is not None:
        hess = np.where(held[:, :, np.newaxis] | held[:, np.newaxis, :], 0.0, hess)
        hess[:, np.arange(n), np.arange(n)] += held
    if n == 2:
        out = _solve_2(hess, grad)
        np.negative(out, out=out)
        return out
    if m >= _LOOP_SOLVE_MIN_M:
        try:
            return -_loop_cholesky_solve(np.linalg.cholesky(hess), grad)
        except np.linalg.LinAlgError:
            pass
    # float64 in, float64 out: the stubs widen solve's result to any floating type
    return cast("Array", -np.linalg.solve(hess, grad[:, :, np.newaxis])[:, :, 0])


def _decrease(grad: Array, direction: Array) -> Array:
    out: Array = (grad * direction).sum(axis=-1)
    np.negative(out, out=out)
    return out


def _diagonal(n: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    index = np.arange(n)
    return index, index


def newton_direction(
    x: Array,
    grad: Array,
    hess: Array,
    lower: Array,
    upper: Array,
    damping: Array | None = None,
) -> tuple[Array, Array]:
    """Damped, bounded Newton direction and the first-order decrease ``-g . d``.

    ``hess`` is positive definite (:func:`positive_definite`). ``damping`` adds a
    multiple of its diagonal (Levenberg-Marquardt): 0 is the Newton step, large
    values a short step along the scaled gradient.

    Parameters pressed against a bound by the gradient stay there. A parameter that
    the Newton step would carry across a bound is sent to that bound instead, and the
    step of the others is solved again on that face (with the coupling to the moved
    parameter), as an active-set method for the quadratic model does. Where that is
    not downhill, the plain projected Newton step is used.
    """
    n = x.shape[-1]
    if damping is not None:
        diagonal = _diagonal(n)
        hess = hess.copy()
        # a separate tuple: mypy reads a starred subscript as 3.11-only syntax
        every_diagonal = (slice(None), *diagonal)
        hess[every_diagonal] *= 1.0 + damping[:, np.newaxis]
    base = (x <= lower) & (grad > 0)
    base |= (x >= upper) & (grad < 0)
    pressed = bool(base.any())
    direction = solve(grad, hess, base if pressed else None)
    if pressed:
        direction[base] = 0.0
    end = x + direction
    crossing = (end < lower) | (end > upper)
    if n == 1 or not crossing.any():
        return direction, _decrease(grad, direction)
    held = base.copy()
    target = np.where(grad > 0, lower, upper)
    first = direction
    for _ in range(n):
        crossing &= ~held
        if not crossing.any():
            break
        target = np.where(crossing, np.where(end < lower, lower, upper), target)
        held |= crossing
        moved = held & ~base
        shift = np.where(moved, target - x, 0.0)
        coupled = grad + (hess @ shift[:, :, np.newaxis])[:, :, 0]
        direction = solve(coupled, hess, held)
        direction = np.where(moved, shift, direction)
        direction[base] = 0.0
        end = x + direction
        crossing = (end < lower) | (end > upper)
    decrease = _decrease(grad, direction)
    # Fall back to the plain projected Newton step where the face step is not downhill.
    uphill = ~(decrease > 0)
    if uphill.any():
        direction[uphill] = first[uphill]
        decrease[uphill] = _decrease(grad[uphill], first[uphill])
    return direction, decrease


def small(decrease: Array, value: Array) -> NDArray[np.bool_]:
    """Whether the predicted decrease of ``F`` is below what matters."""
    return decrease <= np.maximum(2e-10, 1e-15 * np.abs(value))


def _quadratic_form(offset: Array, hess: Array) -> Array:
    """``offset^T hess offset`` of every problem."""
    form: Array = ((hess @ offset[:, :, np.newaxis])[:, :, 0] * offset).sum(axis=-1)
    return form


def _same_basin(decrease: Array, x: Array, hess: Array, best_x: Array) -> NDArray[np.bool_]:
    """Fits that are heading for the point ``best_x`` they started near.

    Close to a minimum (Newton decrement ``lambda^2 = g^T H^-1 g <= 0.01``) the
    minimum lies within about ``lambda`` of ``x`` in the metric of ``H``; a point
    ``best_x`` (an already converged minimum) within ``2 lambda`` is then that
    minimum. A basin-hopping step that lands in the basin of the best point so far
    thus stops after one evaluation instead of converging back to it.
    """
    distance = _quadratic_form(best_x - x, hess)
    return (decrease <= _SAME_BASIN_DECREMENT) & (distance <= 4.0 * decrease)


def _lower_bounds(value: Array, grad: Array, hess: Array) -> Array:
    """Lower bounds on the minima of self-concordant problems: ``F - w*(lambda)``.

    ``w*(lambda) = -lambda - log(1 - lambda)`` with the (unconstrained) Newton
    decrement ``lambda = sqrt(g^T H^-1 g)``; ``-inf`` where ``lambda >= 1`` (there
    is no bound then).
    """
    lam = np.sqrt(np.maximum(_decrease(grad, solve(grad, hess, None)), 0.0))
    bound = np.full(len(value), -np.inf)
    near = lam < 0.99
    bound[near] = value[near] + lam[near] + np.log1p(-lam[near])
    return bound


def _prune(
    running: NDArray[np.bool_],
    groups: NDArray[np.intp],
    value: Array,
    grad: Array,
    hess: Array,
) -> None:
    """Stop fits whose minimum cannot beat the best point of their group so far."""
    active = running.nonzero()[0]
    if active.size == 0:
        return
    best = np.full(int(groups.max(initial=-1)) + 1, np.inf)
    np.minimum.at(best, groups, np.where(np.isnan(value), np.inf, value))
    bound = _lower_bounds(value[active], grad[active], hess[active])
    target = best[groups[active]]
    running[active[bound > target + 1e-9 * (1.0 + np.abs(target))]] = False


def _extend(
    objective: Any,
    x: Array,
    direction: Array,
    decrease: Array,
    rows: NDArray[np.intp],
    lower: Array,
    upper: Array,
    subset: NDArray[np.intp] | None = None,
) -> None:
    """Lengthen, in place, Newton steps that fall short (affine predictions only).

    Far from the minimum (predicted decrease above ``_EXTEND_DECREASE``), the step is
    scaled to the minimum along its line (:meth:`Objective.line_minimum`), no
    further than the bounds allow. ``subset``: the fits to consider (default all).
    """
    if not getattr(objective.family, "affine", False):
        return
    if subset is None:
        far = (decrease > _EXTEND_DECREASE).nonzero()[0]
    else:
        far = subset[decrease[subset] > _EXTEND_DECREASE]
    if far.size == 0:
        return
    d, start = direction[far], x[far]
    # How far each line runs inside the bounds (infinite along a zero step).
    room = np.full(d.shape, np.inf)
    up, down = d > 0, d < 0
    room[up] = ((upper - start) / np.where(up, d, 1.0))[up]
    room[down] = ((lower - start) / np.where(down, d, 1.0))[down]
    longest = np.minimum(np.maximum(room.min(axis=-1), 1.0), _LONGEST_STEP)
    open_line = longest > 1.0
    if not open_line.all():
        if not open_line.any():
            return
        far, d, start, longest = far[open_line], d[open_line], start[open_line], longest[open_line]
    t = objective.line_minimum(start, d, rows[far], longest)
    direction[far] = d * t[:, np.newaxis]
    decrease[far] *= t


@overload
def local_fits(
    objective: Any,
    rows: NDArray[np.intp],
    start: Array,
    known: Array | None = None,
    *,
    full: Literal[False] = False,
    groups: NDArray[np.intp] | None = None,
) -> tuple[Array, Array, NDArray[np.bool_]]: ...
@overload
def local_fits(
    objective: Any,
    rows: NDArray[np.intp],
    start: Array,
    known: Array | None = None,
    *,
    full: Literal[True],
    groups: NDArray[np.intp] | None = None,
) -> tuple[Array, Array, NDArray[np.bool_], Array, Array]: ...
def local_fits(
    objective: Any,
    rows: NDArray[np.intp],
    start: Array,
    known: Array | None = None,
    *,
    full: bool = False,
    groups: NDArray[np.intp] | None = None,
) -> tuple[Array, Array, NDArray[np.bool_]] | tuple[Array, Array, NDArray[np.bool_], Array, Array]:
    """Minimise ``F`` of problem ``rows`` (may repeat) from ``start`` ``(m, n)``.

    Parameters
    ----------
    objective : Objective
    rows : ndarray of int
        The problem row of every fit.
    start : ndarray
        Starting points, shape ``(m, n)``.
    known : ndarray, optional
        Per fit, a known minimum (basin hopping: the best point so far, shape
        ``(m, n)``). Fits heading for it (see :func:`_same_basin`) stop early, as
        not converged.
    full : bool
        Also return the gradients and (positive definite) Hessians at the points.
    groups : ndarray of int, optional
        For self-concordant problems (the Poisson ``-log L`` of one non-negative
        linear prediction) that compete per group (the variations of a profile
        likelihood): fits whose lower bound (:func:`_lower_bounds`) is above the
        best value of their group so far stop, as not converged.

    Returns
    -------
    x : ndarray
        The points reached, shape ``(m, n)``.
    value : ndarray
        Their ``F`` (``inf`` where the data are impossible).
    converged : ndarray of bool
        Whether the predicted decrease at the point is negligible.
    grad, hess : ndarray
        With ``full``: shapes ``(m, n)`` and ``(m, n, n)``.
    """
    lower, upper = objective.lower, objective.upper
    x = np.minimum(np.maximum(start, lower), upper)
    value, grad, hess, _ = objective.derivatives(x, rows)
    hess = positive_definite(hess)
    m = len(rows)
    rejections = np.zeros(m, dtype=np.int64)
    direction, decrease = newton_direction(x, grad, hess, lower, upper)
    _extend(objective, x, direction, decrease, rows, lower, upper)
    steps_taken = np.zeros(m, dtype=np.int64)
    converged = small(decrease, value)
    running = np.isfinite(value) & ~converged
    if known is not None:
        running &= ~_same_basin(decrease, x, hess, known)
    if groups is not None:
        _prune(running, groups, value, grad, hess)
    for _ in range(_MAX_ROUNDS):
        if running.all():
            # Every fit takes a step (the rule in the first rounds): no gathering.
            active, x_active, step, trial_rows = None, x, direction, rows
            value_active, grad_active = value, grad
        else:
            active = running.nonzero()[0]
            if active.size == 0:
                break
            x_active, step, trial_rows = x[active], direction[active], rows[active]
            value_active, grad_active = value[active], grad[active]
        trial = x_active + step
        np.maximum(trial, lower, out=trial)
        np.minimum(trial, upper, out=trial)
        moved = trial - x_active
        t_value, t_grad, t_hess, _ = objective.derivatives(trial, trial_rows)
        slope = (grad_active * moved).sum(axis=-1)
        accept = t_value <= value_active + _ARMIJO * slope
        accept &= np.isfinite(t_value)
        everything = bool(accept.all())
        if active is None and everything:
            # Accepted: move and take the next Newton direction.
            ok = None
            x, value, grad, hess = trial, t_value, t_grad, positive_definite(t_hess)
            steps_taken += 1
            rejections[:] = 0
            direction, decrease = newton_direction(x, grad, hess, lower, upper)
            _extend(objective, x, direction, decrease, rows, lower, upper)
        else:
            if active is None:
                active = np.arange(m)
            ok = active if everything else active[accept]
            if ok.size:
                picked = slice(None) if everything else accept
                x[ok], value[ok], grad[ok] = trial[picked], t_value[picked], t_grad[picked]
                hess[ok] = positive_definite(t_hess[picked])
                steps_taken[ok] += 1
                rejections[ok] = 0
                direction[ok], decrease[ok] = newton_direction(
                    x[ok], grad[ok], hess[ok], lower, upper
                )
                _extend(objective, x, direction, decrease, rows, lower, upper, ok)
            if not everything:
                state = (x, value, grad, hess, direction, decrease)
                _retry(
                    accept,
                    active,
                    moved,
                    slope,
                    t_value,
                    state,
                    rejections,
                    running,
                    converged,
                    lower,
                    upper,
                )
        if ok is None:
            done = small(decrease, value)
            if known is not None:
                running &= ~_same_basin(decrease, x, hess, known)
            converged |= done
            running &= ~done
            running &= steps_taken < _MAX_NEWTON_STEPS
        elif ok.size:
            value_ok, decrease_ok = value[ok], decrease[ok]
            done = small(decrease_ok, value_ok)
            if known is not None:
                again = _same_basin(decrease_ok, x[ok], hess[ok], known[ok])
                running[ok[again]] = False
            converged[ok[done]] = True
            running[ok[done]] = False
            running[ok[steps_taken[ok] >= _MAX_NEWTON_STEPS]] = False
        if groups is not None:
            _prune(running, groups, value, grad, hess)
    converged[running] = decrease[running] <= 1e-6
    if full:
        return x, value, converged, grad, hess
    return x, value, converged


def _retry(
    accept: NDArray[np.bool_],
    active: NDArray[np.intp],
    moved: Array,
    slope: Array,
    t_value: Array,
    state: tuple[Array, Array, Array, Array, Array, Array],
    rejections: NDArray[np.int64],
    running: NDArray[np.bool_],
    converged: NDArray[np.bool_],
    lower: Array,
    upper: Array,
) -> None:
    """Rejected steps, in place: shorter along the same direction, then damped.

    Unless the step no longer moves the point: first a shorter step along the same
    (downhill) direction, at the minimum of the parabola through F(0), F'(0) and
    F(1); after that, Levenberg-Marquardt damping (growing tenfold), which also turns
    the step towards the gradient. ``state`` holds ``x``, ``F``, the gradients, the
    Hessians, the directions and the predicted decreases of all fits.
    """
    x, value, grad, hess, direction, decrease = state
    rejected = ~accept
    bad = active[rejected]
    step = moved[rejected]
    still = (np.abs(step) / (np.abs(x[bad]) + 1.0)).max(axis=-1) < 1e-15
    stuck = bad[still]
    converged[stuck] = decrease[stuck] <= 1e-6
    running[stuck] = False
    rejections[bad] += 1
    first = ~still & (rejections[bad] == 1)
    curve = t_value[rejected] - value[bad] - slope[rejected]
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = -slope[rejected] / (2.0 * curve)
    shrink = np.where(np.isfinite(shrink), np.minimum(np.maximum(shrink, 0.1), 0.5), 0.1)
    direction[bad[first]] = (step * shrink[:, np.newaxis])[first]
    again = bad[~still & ~first]
    if again.size:
        damping = 1e-2 * 10.0 ** (rejections[again] - 2.0)
        running[again[damping > 1e20]] = False
        direction[again], _ = newton_direction(
            x[again], grad[again], hess[again], lower, upper, damping
        )
