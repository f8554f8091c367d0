"""``F = -log L`` of a batch of fit problems, with its gradient and Hessian.

A *problem* is one data set (counts ``k``, ``B`` bins) and one prediction function
of ``n`` free parameters with ``S`` systematic variations ``mu_s(x)``. A *family*
of problems shares the prediction's structure:

* :class:`LinearFamily`: ``mu_s = A[s] @ x + c_p[s]``, one ``A`` for every problem
  and a constant per problem (scan points fold their fixed parameters into it);
* :class:`GenericFamily`: any batch-capable predictor, with forward-difference
  Jacobians (all problems and steps in one predictor call);
* :class:`VariationFamily`: every (problem, variation) pair of a linear family as
  a problem of its own.

For one variation the Poisson log-likelihood
``l_s = sum_b k_b log mu_sb - mu_sb - log k_b!`` has gradient
``sum_b (k_b / mu_sb - 1) J_sb`` and Hessian ``-sum_b k_b / mu_sb^2 J_sb J_sb^T``
(exact for linear ``mu``; the Gauss-Newton form otherwise). The marginal
``log sum_s w_s exp(l_s)`` has gradient ``g = sum_s p_s g_s`` with the shares
``p_s = w_s exp(l_s) / sum``, and Hessian ``sum_s p_s H_s + sum_s p_s g_s g_s^T -
g g^T``. The profile ``max_s l_s`` uses the best variation's derivatives.

:meth:`Objective.derivatives` also returns the positive semi-definite part
``sum_s p_s (-H_s)`` of ``-d^2 log L`` (the Gauss-Newton or Fisher-scoring matrix).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.special
from numpy.typing import NDArray

from remu._likelihood.data import poisson_log_likelihood

__all__ = ["GenericFamily", "LinearFamily", "Objective", "VariationFamily"]

_SQRT_EPS = math.sqrt(np.finfo(float).eps)
# One-dimensional Newton steps of an exact line search (affine predictions).
_LINE_STEPS = 3

Array = NDArray[np.float64]


@functools.lru_cache(maxsize=64)
def _ones(n: int) -> Array:
    """Return a read-only vector of ``n`` ones (for sums over bins as matrix products)."""
    ones = np.ones(n)
    ones.flags.writeable = False
    return ones


def _times(x: Array, matrix: Array) -> Array:
    """``x @ matrix`` for ``x`` ``(m, n)`` and a C-contiguous ``matrix`` ``(n, k)``."""
    if x.shape[-1] == 1:
        # An inner dimension of one: np.dot is several times faster than matmul here.
        product: Array = np.dot(x, matrix)
        return product
    return x @ matrix


class LinearFamily:
    """Problems ``mu_s = A[s] @ x + constants[p][s]`` sharing ``A``.

    Parameters
    ----------
    matrices : ndarray
        ``A``, shape ``(S, B, n)``.
    constants : ndarray
        Shape ``(P, S, B)``: one set of constants per distinct problem constant.
    constant_of : ndarray of int, optional
        For every problem row the index of its constants (default all 0).
    """

    def __init__(
        self,
        matrices: Array,
        constants: Array,
        constant_of: NDArray[np.intp] | None = None,
    ) -> None:
        self.matrices = np.ascontiguousarray(matrices, dtype=float)
        self.n_syst, self.n_bins, self.n = self.matrices.shape
        self.flat = self.matrices.reshape(-1, self.n)
        # (n, S * B), contiguous: the predictions of a batch are one product x @ flat_t.
        self._flat_t = np.ascontiguousarray(self.flat.T)
        #: ``sum_b A_sb``, shape ``(n, S)``: the total prediction of every variation
        self._totals_t = np.ascontiguousarray(self.matrices.sum(axis=1).T)
        self._outer: Array | None = None
        self.constants: Array = np.asarray(constants, dtype=float)
        self.constant_of = constant_of
        self._constant_totals: Array = self.constants.sum(axis=-1)
        # Predictions without constants need no addition.
        self._no_constants = not self.constants.any()

    @property
    def outer(self) -> Array:
        """``A_sb A_sb^T`` of every row of every variation, flattened: ``(S * B, n * n)``."""
        if self._outer is None:
            flat = self.flat
            self._outer = (flat[:, :, np.newaxis] * flat[:, np.newaxis, :]).reshape(len(flat), -1)
        return self._outer

    def constant(self, rows: NDArray[np.intp]) -> Array:
        """Constants ``(m | 1, S, B)`` of problem rows."""
        if self.constant_of is None:
            first: Array = self.constants[0]
            return first
        return self.constants[self.constant_of[rows]]

    def predict(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """Predictions ``(m, S, B)`` at points ``x`` ``(m, n)`` of problem rows."""
        mu = _times(x, self._flat_t).reshape(len(x), self.n_syst, self.n_bins)
        if not self._no_constants:
            # In place: a second temporary of this size costs more than the product.
            mu += self.constant(rows)
        return mu

    # Objective calls every affine family with the rows; one shared ``A`` ignores them.
    def slope(self, direction: Array, rows: NDArray[np.intp]) -> Array:  # noqa: ARG002
        """Return the change ``A @ d`` ``(m, S, B)`` of the predictions along ``direction``."""
        return _times(direction, self._flat_t).reshape(len(direction), self.n_syst, self.n_bins)

    def constant_totals(self, rows: NDArray[np.intp]) -> Array:
        """``sum_b c_sb`` ``(m | 1, S)`` of problem rows."""
        if self.constant_of is None:
            return self._constant_totals[:1]
        return self._constant_totals[self.constant_of[rows]]

    def predicted_totals(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """``sum_b mu_sb`` ``(m, S)`` without the predictions themselves."""
        total = _times(x, self._totals_t)
        if not self._no_constants:
            total += self.constant_totals(rows)
        return total

    # Objective calls every family's jacobian with ``(x, mu, rows)``; a shared constant
    # Jacobian needs none of them.
    def jacobian(self, x: Array, mu: Array, rows: NDArray[np.intp]) -> Array | None:  # noqa: ARG002
        """``None``: every problem's Jacobian is ``matrices``."""
        return None

    def cost(self) -> int:
        """Predictor evaluations per derivative evaluation."""
        return 1

    #: predictions are affine in the parameters (exact line searches are cheap)
    affine = True


class GenericFamily:
    """Problems of one batch-capable predictor, with finite-difference Jacobians.

    Parameters
    ----------
    predictor : Predictor
        Evaluated on batches of full parameter vectors.
    n_bins : int
    lower, upper : ndarray
        Bounds of the free parameters, shape ``(n,)``.
    free : ndarray of bool, optional
        Which of the predictor's parameters are free (default: all).
    fixed_values : ndarray, optional
        Shape ``(P, N)``: full parameter vectors whose fixed entries are used.
    value_of : ndarray of int, optional
        For every problem row the index of its fixed values.
    errstate : dict, optional
        NumPy error handling for the predictor calls (default: the current one).
    """

    def __init__(
        self,
        predictor: Any,
        n_bins: int,
        lower: Array,
        upper: Array,
        free: NDArray[np.bool_] | None = None,
        fixed_values: Array | None = None,
        value_of: NDArray[np.intp] | None = None,
        errstate: dict[str, Any] | None = None,
    ) -> None:
        self.predictor = predictor
        # The predictor runs under the caller's floating-point error handling (the
        # engine's own arithmetic ignores errors).
        self.errstate = np.geterr() if errstate is None else dict(errstate)
        self.n_bins = n_bins
        self.n = len(lower)
        self.lower, self.upper = lower, upper
        self.free = free
        self.fixed_values = fixed_values
        self.value_of = value_of

    def _full(self, x: Array, rows: NDArray[np.intp]) -> Array:
        if self.free is None or self.fixed_values is None:
            return x
        full = np.empty((len(x), len(self.free)))
        if self.value_of is None:
            full[:] = self.fixed_values[0]
        else:
            full[:] = self.fixed_values[self.value_of[rows]]
        full[:, self.free] = x
        return full

    def predict(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """Predictions ``(m, S, B)``: one predictor call for all points."""
        with np.errstate(**self.errstate):
            prediction, _ = self.predictor.prediction(self._full(x, rows))
        return np.asarray(prediction, dtype=float).reshape(len(x), -1, self.n_bins)

    def jacobian(self, x: Array, mu: Array, rows: NDArray[np.intp]) -> Array:
        """Forward differences ``(m, S, B, n)``, the steps kept inside the upper bounds."""
        step = _SQRT_EPS * np.maximum(np.abs(x), 1.0)
        step = np.where(x + step > self.upper, -step, step)
        shifted = x[:, np.newaxis, :] + step[:, :, np.newaxis] * np.eye(self.n)
        mu_shifted = self.predict(shifted.reshape(-1, self.n), np.repeat(rows, self.n))
        mu_shifted = mu_shifted.reshape(len(x), self.n, *mu.shape[1:])
        jac = (mu_shifted - mu[:, np.newaxis]) / step[:, :, np.newaxis, np.newaxis]
        return np.moveaxis(jac, 1, -1)

    def cost(self) -> int:
        """Predictor evaluations per derivative evaluation (the point and its steps)."""
        return 1 + self.n

    affine = False


class VariationFamily:
    """Every ``(problem, variation)`` pair of a :class:`LinearFamily` as its own problem.

    For Poisson data and a non-negative linear prediction each of these problems
    is convex within the bounds, so its local fit is its global one.

    Parameters
    ----------
    parent : LinearFamily
    problem, variation : ndarray of int
        For every row of this family: the parent problem row and the variation.
    """

    def __init__(
        self, parent: LinearFamily, problem: NDArray[np.intp], variation: NDArray[np.intp]
    ) -> None:
        self.parent = parent
        self.n = parent.n
        self.n_bins = parent.n_bins
        self.problem = problem
        self.variation = variation

    def predict(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """Predictions ``(m, 1, B)`` of each row's own variation."""
        s = self.variation[rows]
        constants = self.parent.constant(self.problem[rows])
        pick = s if constants.ndim == 2 else (np.arange(len(rows)), s)
        constants = constants[pick]
        mu = (self.parent.matrices[s] @ x[:, :, np.newaxis])[:, :, 0]
        mu += constants
        return mu[:, np.newaxis, :]

    def slope(self, direction: Array, rows: NDArray[np.intp]) -> Array:
        """Return the change ``A @ d`` ``(m, 1, B)`` of each row's prediction along a direction."""
        matrices = self.parent.matrices[self.variation[rows]]
        return (matrices @ direction[:, :, np.newaxis])[:, np.newaxis, :, 0]

    # Objective calls every family's jacobian with ``(x, mu, rows)``; a row's matrix
    # does not depend on the point.
    def jacobian(self, x: Array, mu: Array, rows: NDArray[np.intp]) -> Array:  # noqa: ARG002
        """Each row's own matrix, ``(m, 1, B, n)``."""
        return self.parent.matrices[self.variation[rows]][:, np.newaxis]

    def cost(self) -> int:
        """Predictor evaluations per derivative evaluation."""
        return 1

    affine = True


class Objective:
    """``F = -log L`` of problem rows, with derivatives.

    The methods expect NumPy's floating-point errors to be ignored (the engine's
    entry points do that): impossible data give ``inf`` and non-finite
    intermediate values are handled explicitly.

    Parameters
    ----------
    family : LinearFamily, GenericFamily or VariationFamily
        The predictions of the problems.
    counts : ndarray
        Data of every problem row, shape ``(M, B)``.
    kind : {"marginal", "profile"}
        Treatment of the systematic variations.
    weights : ndarray
        Weights of the variations, shape ``(S,)``.
    lower, upper : ndarray
        Bounds of the free parameters, shape ``(n,)``.
    """

    def __init__(
        self,
        family: Any,
        counts: NDArray[Any],
        kind: str,
        weights: Array,
        lower: Array,
        upper: Array,
    ) -> None:
        self.family = family
        self.n = family.n
        self.lower, self.upper = lower, upper
        counts = np.asarray(counts)
        k = counts.astype(float)
        self.k = k[:, np.newaxis, :]
        self.k0 = self.k == 0
        self.lnkf = scipy.special.gammaln(self.k + 1)
        #: ``sum_b log(k_b!)`` of every problem, shape ``(M, 1)``
        self.lnkf_total = self.lnkf.sum(axis=-1)
        #: the total count of every problem, shape ``(M,)``
        self.k_total = k.sum(axis=-1)
        self._ones = _ones(counts.shape[-1])
        # The counts as columns (M, B, 1): the sums over the (short) bin axis are
        # matrix products, far faster than broadcasting and summing along that axis.
        self._k_columns = self.k.transpose(0, 2, 1)
        # One data set (single fits, scan points): one matrix-vector product instead.
        self._k_vector = k[0] if len(k) == 1 else None
        self._k_tiled: Array | None = None
        self._totals = getattr(family, "predicted_totals", None)
        self.kind = kind
        self.weights = np.asarray(weights, dtype=float)
        share = self.weights / self.weights.sum()
        if (share > 0).all():
            self.log_weights = np.log(share)
        else:
            with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
                self.log_weights = np.log(share)
        self._single = kind == "profile" or len(self.weights) == 1
        self._nfev = np.zeros(len(counts), dtype=np.int64)
        self._evaluations: list[tuple[NDArray[np.intp], int]] = []

    @property
    def nfev(self) -> NDArray[np.int64]:
        """Predictor evaluations of every problem row so far (scipy's ``nfev``)."""
        for rows, cost in self._evaluations:
            np.add.at(self._nfev, rows, cost)
        self._evaluations.clear()
        return self._nfev

    def count(self, rows: NDArray[np.intp], cost: int) -> None:
        """Record ``cost`` predictor evaluations for each of ``rows``."""
        self._evaluations.append((rows, cost))

    @property
    def n_problems(self) -> int:
        """Number of problem rows."""
        return len(self.k)

    def _counts_like(self, mu: Array, rows: NDArray[np.intp]) -> Array:
        """Return the counts of ``rows``, broadcastable against predictions ``mu`` ``(m, S, B)``.

        For one data set, the counts repeated for every variation ``(S, B)``: an
        operand of the predictions' own layout is much faster than one that
        broadcasts along the short bin axis.
        """
        if self._k_vector is None:
            return self.k[rows]
        tiled = self._k_tiled
        if tiled is None or tiled.shape != mu.shape[1:]:
            tiled = self._k_tiled = np.ascontiguousarray(
                np.broadcast_to(self._k_vector, mu.shape[1:])
            )
        return tiled

    def _log_likelihoods(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array]:
        """Predictions ``(m, S, B)`` and Poisson log-likelihoods ``(m, S)``.

        ``sum_b k_b log(mu_b) - mu_b``, minus the constant ``sum_b log(k_b!)``; only
        rows whose sum is not finite (an empty bin expecting nothing, impossible or
        invalid predictions) are recomputed bin by bin, by the very function of
        :class:`PoissonData`.
        """
        mu = self.family.predict(x, rows)
        m, n_syst, n_bins = mu.shape
        log_mu = np.log(mu)
        if self._k_vector is not None:
            ll = (log_mu.reshape(-1, n_bins) @ self._k_vector).reshape(m, n_syst)
            ll -= self.lnkf_total[0, 0]
        else:
            ll = (log_mu @ self._k_columns[rows])[:, :, 0]
            ll -= self.lnkf_total[rows]
        if self._totals is not None:
            ll -= self._totals(x, rows)
        else:
            ll -= (mu.reshape(-1, n_bins) @ self._ones).reshape(m, n_syst)
        # A sum of finite numbers is finite (short of overflow, which only sends a
        # row down the exact path below).
        if not math.isfinite(ll.sum()):
            where = np.nonzero(~np.isfinite(ll))
            problem = rows[where[0]]
            ll[where] = poisson_log_likelihood(
                self.k[problem, 0], self.k0[problem, 0], self.lnkf[problem, 0], mu[where]
            )
        return mu, ll

    def _consume(self, ll: Array, shares: bool = True) -> tuple[Array, Array | None]:
        """``log L`` ``(m,)`` and, for the marginal, the share of each variation ``(m, S)``.

        ``shares=False`` skips the shares (``None``), which only derivatives need.
        """
        if self._single:
            return (ll[:, 0].copy() if ll.shape[-1] == 1 else ll.max(axis=-1)), None
        terms = ll + self.log_weights
        top = terms.max(axis=-1, keepdims=True)
        finite = math.isfinite(top.sum())
        if not finite:
            # Every variation impossible: log L = -inf (or nan), no shares.
            top[~np.isfinite(top)] = 0.0
        terms -= top
        share = np.exp(terms, out=terms)
        total = share.sum(axis=-1, keepdims=True)
        top += np.log(total)
        if not shares:
            return top[:, 0], None
        share /= total
        if not finite:
            share[~np.isfinite(share)] = 0.0
        return top[:, 0], share

    def log_likelihood(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """``log L`` of rows at points ``x``, not counted in :attr:`nfev` (samplers).

        The numbers of :meth:`values` (negated), without the variations' shares
        that the marginal's derivatives need.
        """
        return self._consume(self._log_likelihoods(x, rows)[1], shares=False)[0]

    def values(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """``F`` of rows at points ``x``; ``inf`` where the data are impossible."""
        self.count(rows, 1)
        value = self._consume(self._log_likelihoods(x, rows)[1])[0]
        np.negative(value, out=value)
        value[np.isnan(value)] = np.inf
        return value

    def derivatives(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array, Array, Array]:
        """``F``, its gradient ``(m, n)``, Hessian ``(m, n, n)`` and PSD Hessian part."""
        self.count(rows, self.family.cost())
        mu, ll = self._log_likelihoods(x, rows)
        jac = self.family.jacobian(x, mu, rows)
        value, share = self._consume(ll)
        if share is None:
            grad, hess, psd = self._best_variation(ll, mu, rows, jac)
        else:
            grad, hess, psd = self._mixture(share, mu, rows, jac)
        # A non-finite PSD part makes the Hessian (psd - spread) non-finite too.
        if not math.isfinite(value.sum() + grad.sum() + hess.sum()):
            good = np.isfinite(value) & np.all(np.isfinite(grad), axis=-1)
            good &= np.all(np.isfinite(hess), axis=(-1, -2))
            good &= np.all(np.isfinite(psd), axis=(-1, -2))
            bad = ~good
            value[bad] = -np.inf
            grad[bad] = 0.0
            hess[bad] = np.eye(self.n)
            psd[bad] = np.eye(self.n)
        np.negative(value, out=value)
        np.negative(grad, out=grad)
        return value, grad, hess, psd

    def line_minimum(
        self, x: Array, direction: Array, rows: NDArray[np.intp], longest: Array
    ) -> Array:
        """Step lengths ``t`` in ``[1, longest]`` towards the minimum along ``direction``.

        For affine predictions ``mu(x + t d) = mu + t a`` exactly, so ``F`` along the
        line costs no prediction: a few one-dimensional Newton steps from ``t = 1``
        extend a Newton step that falls short. (Newton under-steps on the Poisson
        likelihood wherever the prediction is below the data: the curvature
        ``k / mu^2`` is too large there.) Only extensions that lower ``F`` are kept.
        """
        mu = self.family.predict(x, rows)
        slope = self.family.slope(direction, rows)
        m, n_syst, n_bins = mu.shape
        k = self._counts_like(mu, rows)
        # The totals of the predictions are affine in t as well (no sum per step).
        mu_total = (mu.reshape(-1, n_bins) @ self._ones).reshape(m, n_syst)
        slope_total = (slope.reshape(-1, n_bins) @ self._ones).reshape(m, n_syst)
        weights = None if self._single else self.log_weights
        t = np.ones(m)
        best_t: Array = t.copy()
        best_value = np.full(m, np.inf)
        for _ in range(_LINE_STEPS):
            along = slope * t[:, np.newaxis, np.newaxis]
            along += mu
            ll, d1, d2 = self._along(k, along, slope, rows)
            ll -= mu_total
            ll -= slope_total * t[:, np.newaxis]
            d1 -= slope_total
            if n_syst == 1:
                value, g, h = ll[:, 0], d1[:, 0], d2[:, 0]
            elif weights is None:
                pick = np.argmax(ll, axis=-1)[:, np.newaxis]
                value = np.take_along_axis(ll, pick, axis=-1)[:, 0]
                g = np.take_along_axis(d1, pick, axis=-1)[:, 0]
                h = np.take_along_axis(d2, pick, axis=-1)[:, 0]
            else:
                ll += weights
                top = ll.max(axis=-1, keepdims=True)
                ll -= top
                share = np.exp(ll, out=ll)
                total = share.sum(axis=-1, keepdims=True)
                share /= total
                value = (top + np.log(total))[:, 0]
                g = (share[:, np.newaxis, :] @ d1[:, :, np.newaxis])[:, 0, 0]
                d2 += d1 * d1
                h = (share[:, np.newaxis, :] @ d2[:, :, np.newaxis])[:, 0, 0] - g * g
            improved = np.isfinite(value) & (-value < best_value)
            best_t[improved] = t[improved]
            best_value[improved] = -value[improved]
            # d(-l)/dt = -g, d2(-l)/dt2 = -h: a Newton step on t where F still falls.
            falling = (g > 0) & (h < 0)
            if not falling.any():
                break
            t[falling] = np.minimum(t[falling] - g[falling] / h[falling], longest[falling])
        return best_t

    def _along(
        self, k: Array, along: Array, slope: Array, rows: NDArray[np.intp]
    ) -> tuple[Array, Array, Array]:
        """``sum_b k log(mu)``, ``sum_b a k / mu`` and ``-sum_b a^2 k / mu^2`` ``(m, S)``.

        ``mu`` = ``along`` and ``a`` = ``slope``; empty bins contribute nothing.
        """
        m, n_syst, n_bins = along.shape
        ratio = k / along
        weighted = ratio * slope
        d1 = (weighted.reshape(-1, n_bins) @ self._ones).reshape(m, n_syst)
        weighted *= slope
        weighted /= along
        d2 = (weighted.reshape(-1, n_bins) @ self._ones).reshape(m, n_syst)
        np.negative(d2, out=d2)
        log_along = np.log(along)
        if self._k_vector is not None:
            ll = (log_along.reshape(-1, n_bins) @ self._k_vector).reshape(m, n_syst)
        else:
            ll = (log_along @ self._k_columns[rows])[:, :, 0]
        if math.isfinite(ll.sum() + d1.sum() + d2.sum()):
            return ll, d1, d2
        # Empty bins that expect nothing (0 / 0, 0 * log 0) or impossible predictions.
        k0 = np.broadcast_to(k == 0, along.shape)
        ratio = np.divide(k, along, out=np.zeros(along.shape), where=~k0)
        ll = np.sum(k * np.log(np.where(k0, 1.0, along)), axis=-1)
        d1 = np.einsum("msb,msb->ms", slope, ratio)
        d2 = -np.einsum("msb,msb->ms", slope * slope, ratio / np.where(k0, 1.0, along))
        return ll, d1, d2

    def per_variation(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array, Array]:
        """Each variation alone (linear families): ``F_s`` ``(m, S)``, gradients, Hessians.

        The gradients have shape ``(m, S, n)`` and the Hessians ``(m, S, n, n)``.
        """
        self.count(rows, 1)
        mu, ll = self._log_likelihoods(x, rows)
        m, n_syst, n_bins = mu.shape
        residual, curvature = self._ratios(self._counts_like(mu, rows), mu)
        family = self.family
        grad = np.swapaxes(np.swapaxes(residual, 0, 1) @ family.matrices, 0, 1)
        outer = family.outer.reshape(n_syst, n_bins, -1)
        hess = np.swapaxes(np.swapaxes(curvature, 0, 1) @ outer, 0, 1)
        np.negative(ll, out=ll)
        np.negative(grad, out=grad)
        return ll, grad, hess.reshape(m, n_syst, self.n, self.n)

    @staticmethod
    def _ratios(k: Array, mu: Array) -> tuple[Array, Array]:
        """``k / mu - 1`` and ``k / mu^2``, both 0 where ``k == 0``."""
        ratio = k / mu
        curvature = ratio / mu
        if not math.isfinite(curvature.sum()):
            # 0 / 0 in empty bins that expect nothing, or impossible predictions.
            k0 = np.broadcast_to(k == 0, mu.shape)
            ratio = np.divide(k, mu, out=np.zeros(mu.shape), where=~k0)
            curvature = np.divide(ratio, mu, out=np.zeros(mu.shape), where=~k0)
        ratio -= 1.0
        return ratio, curvature

    def _best_variation(
        self, ll: Array, mu: Array, rows: NDArray[np.intp], jac: Array | None
    ) -> tuple[Array, Array, Array]:
        """Profile (or a single variation): the derivatives of the best variation."""
        if ll.shape[-1] == 1:
            best_mu = mu[:, 0]
            best = np.zeros(len(ll), dtype=np.intp)
        else:
            best = np.argmax(ll, axis=-1)
            best_mu = mu[np.arange(len(ll)), best]
        k = self._k_vector if self._k_vector is not None else self.k[rows, 0]
        residual, curvature = self._ratios(k, best_mu)
        if jac is None:
            j = self.family.matrices[best]
        elif jac.shape[1] == 1:
            j = jac[:, 0]
        else:
            j = jac[np.arange(len(ll)), best]
        grad = (residual[:, np.newaxis, :] @ j)[:, 0, :]
        hess = np.swapaxes(curvature[:, :, np.newaxis] * j, 1, 2) @ j
        return grad, hess, hess

    def _mixture(
        self, share: Array, mu: Array, rows: NDArray[np.intp], jac: Array | None
    ) -> tuple[Array, Array, Array]:
        """Marginal likelihood of several variations."""
        m = len(share)
        residual, curvature = self._ratios(self._counts_like(mu, rows), mu)
        curvature *= share[..., np.newaxis]
        if not math.isfinite(curvature.sum()):
            # Variations without weight in the likelihood may be impossible: ignore them.
            used = (share > 0)[..., np.newaxis]
            residual = np.where(used, residual, 0.0)
            curvature = np.where(used, curvature, 0.0)
        if jac is None:
            # (S, m, B) @ (S, B, n): one batched product per variation (einsum is slow).
            grad_s = np.swapaxes(np.swapaxes(residual, 0, 1) @ self.family.matrices, 0, 1)
            # sum_sb c_sb A_sb A_sb^T as one matrix product with the precomputed outers.
            psd = (curvature.reshape(m, -1) @ self.family.outer).reshape(m, self.n, self.n)
        else:
            grad_s = np.einsum("msb,msbn->msn", residual, jac)
            flat_jac = jac.reshape(m, -1, self.n)
            weighted = curvature.reshape(m, -1, 1) * flat_jac
            psd = np.swapaxes(weighted, 1, 2) @ flat_jac
        grad = (share[:, np.newaxis, :] @ grad_s)[:, 0, :]
        # log of a weighted sum of likelihoods: the spread of the gradients enters.
        spread = np.swapaxes(grad_s * share[..., np.newaxis], 1, 2) @ grad_s
        spread -= grad[:, :, np.newaxis] * grad[:, np.newaxis, :]
        return grad, psd - spread, psd
