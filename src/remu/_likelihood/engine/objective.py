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
        #: ``A_sb A_sb^T`` of every row of every variation, flattened: ``(S * B, n * n)``
        self.outer = (self.flat[:, :, np.newaxis] * self.flat[:, np.newaxis, :]).reshape(
            len(self.flat), -1
        )
        self.constants = np.asarray(constants, dtype=float)
        self.constant_of = constant_of

    def constant(self, rows: NDArray[np.intp]) -> Array:
        """Constants ``(m | 1, S, B)`` of problem rows."""
        if self.constant_of is None:
            return self.constants[0]
        return self.constants[self.constant_of[rows]]

    def predict(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """Predictions ``(m, S, B)`` at points ``x`` ``(m, n)`` of problem rows."""
        # In place: a second temporary of this size costs more than the product.
        mu = (x @ self.flat.T).reshape(len(x), self.n_syst, self.n_bins)
        mu += self.constant(rows)
        return mu

    def jacobian(self, x: Array, mu: Array, rows: NDArray[np.intp]) -> Array | None:
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
        values = self.fixed_values[0] if self.value_of is None else None
        full = np.empty((len(x), len(self.free)))
        full[:] = values if values is not None else self.fixed_values[self.value_of[rows]]
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

    def jacobian(self, x: Array, mu: Array, rows: NDArray[np.intp]) -> Array:
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
        self.k = counts[:, np.newaxis, :].astype(float)
        self.k0 = self.k == 0
        self.lnkf = scipy.special.gammaln(self.k + 1)
        #: ``sum_b log(k_b!)`` of every problem, shape ``(M, 1)``
        self.lnkf_total = np.sum(self.lnkf, axis=-1)
        self._ones = np.ones(counts.shape[-1])
        self.kind = kind
        self.weights = np.asarray(weights, dtype=float)
        with np.errstate(divide="ignore", under="ignore"):
            self.log_weights = np.log(self.weights / np.sum(self.weights))
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

    def _log_likelihoods(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array]:
        """Predictions ``(m, S, B)`` and Poisson log-likelihoods ``(m, S)``.

        ``sum_b k_b log(mu_b) - mu_b``, minus the constant ``sum_b log(k_b!)``; only
        rows whose sum is not finite (an empty bin expecting nothing, impossible or
        invalid predictions) are recomputed bin by bin, by the very function of
        :class:`PoissonData`.
        """
        mu = self.family.predict(x, rows)
        # The sums over the (short) bin axis as matrix products: far faster than
        # broadcasting the counts and summing along that axis.
        ll = (np.log(mu) @ self.k[rows].transpose(0, 2, 1))[:, :, 0]
        ll -= mu @ self._ones
        ll -= self.lnkf_total[rows]
        bad = ~np.isfinite(ll)
        if bad.any():
            where = np.nonzero(bad)
            problem = rows[where[0]]
            ll[where] = poisson_log_likelihood(
                self.k[problem, 0], self.k0[problem, 0], self.lnkf[problem, 0], mu[where]
            )
        return mu, ll

    def _consume(self, ll: Array) -> tuple[Array, Array | None]:
        """``log L`` ``(m,)`` and, for the marginal, the share of each variation ``(m, S)``."""
        if self._single:
            return np.max(ll, axis=-1), None
        terms = ll + self.log_weights
        top = np.max(terms, axis=-1, keepdims=True)
        finite = np.isfinite(top)
        if not finite.all():
            # Every variation impossible: log L = -inf (or nan), no shares.
            top[~finite] = 0.0
        terms = np.exp(terms - top)
        total = np.sum(terms, axis=-1, keepdims=True)
        share = terms / total
        if not finite.all():
            share[~np.isfinite(share)] = 0.0
        return (top + np.log(total))[:, 0], share

    def values(self, x: Array, rows: NDArray[np.intp]) -> Array:
        """``F`` of rows at points ``x``; ``inf`` where the data are impossible."""
        self.count(rows, 1)
        value = -self._consume(self._log_likelihoods(x, rows)[1])[0]
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
        total = value.sum() + grad.sum() + hess.sum() + (0.0 if psd is hess else psd.sum())
        if not np.isfinite(total):
            good = np.isfinite(value) & np.all(np.isfinite(grad), axis=-1)
            good &= np.all(np.isfinite(hess), axis=(-1, -2))
            good &= np.all(np.isfinite(psd), axis=(-1, -2))
            bad = ~good
            value[bad] = -np.inf
            grad[bad] = 0.0
            hess[bad] = np.eye(self.n)
            psd[bad] = np.eye(self.n)
        return -value, -grad, hess, psd

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
        slope = self.family.predict(x + direction, rows) - mu
        k, k0 = self.k[rows], self.k0[rows]
        weights = None if self._single else self.log_weights
        t = np.ones(len(x))
        best_t, best_value = t.copy(), np.full(len(x), np.inf)
        for _ in range(_LINE_STEPS):
            along = mu + t[:, np.newaxis, np.newaxis] * slope
            ratio = np.divide(k, along, out=np.zeros(along.shape), where=~k0)
            terms = k * np.log(np.where(k0, 1.0, along)) - along
            ll = np.sum(terms, axis=-1)
            d1 = np.einsum("msb,msb->ms", slope, ratio - 1.0)
            d2 = -np.einsum("msb,msb->ms", slope * slope, ratio / np.where(k0, 1.0, along))
            if ll.shape[-1] == 1:
                value, g, h = ll[:, 0], d1[:, 0], d2[:, 0]
            elif weights is None:
                pick = np.argmax(ll, axis=-1)[:, np.newaxis]
                value = np.take_along_axis(ll, pick, axis=-1)[:, 0]
                g = np.take_along_axis(d1, pick, axis=-1)[:, 0]
                h = np.take_along_axis(d2, pick, axis=-1)[:, 0]
            else:
                terms_s = ll + weights
                top = np.max(terms_s, axis=-1, keepdims=True)
                share = np.exp(terms_s - top)
                total = np.sum(share, axis=-1, keepdims=True)
                share /= total
                value = (top + np.log(total))[:, 0]
                g = np.sum(share * d1, axis=-1)
                h = np.sum(share * (d2 + d1 * d1), axis=-1) - g * g
            improved = np.isfinite(value) & (-value < best_value)
            best_t = np.where(improved, t, best_t)
            best_value = np.where(improved, -value, best_value)
            # d(-l)/dt = -g, d2(-l)/dt2 = -h: a Newton step on t where F still falls.
            falling = (g > 0) & (h < 0)
            if not falling.any():
                break
            t = np.where(falling, np.minimum(t - g / h, longest), t)
        return best_t

    def per_variation(self, x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array, Array]:
        """Each variation alone (linear families): ``F_s`` ``(m, S)``, gradients, Hessians.

        The gradients have shape ``(m, S, n)`` and the Hessians ``(m, S, n, n)``.
        """
        self.count(rows, 1)
        mu, ll = self._log_likelihoods(x, rows)
        residual, curvature = self._ratios(self.k[rows], self.k0[rows], mu)
        matrices = self.family.matrices
        grad = np.einsum("msb,sbn->msn", residual, matrices)
        weighted = curvature[..., np.newaxis] * matrices
        hess = np.swapaxes(weighted, -1, -2) @ matrices
        return -ll, -grad, hess

    @staticmethod
    def _ratios(k: Array, k0: Any, mu: Array) -> tuple[Array, Array]:
        """``k / mu - 1`` and ``k / mu^2``, both 0 where ``k == 0``."""
        ratio = k / mu
        curvature = ratio / mu
        if not np.isfinite(curvature.sum()):
            # 0 / 0 in empty bins that expect nothing, or impossible predictions.
            ratio = np.divide(k, mu, out=np.zeros(mu.shape), where=~k0)
            curvature = np.divide(ratio, mu, out=np.zeros(mu.shape), where=~k0)
        ratio -= 1.0
        return ratio, curvature

    def _best_variation(
        self, ll: Array, mu: Array, rows: NDArray[np.intp], jac: Array | None
    ) -> tuple[Array, Array, Array]:
        """Profile (or a single variation): the derivatives of the best variation."""
        pick = np.arange(len(ll))
        best = np.argmax(ll, axis=-1) if ll.shape[-1] > 1 else np.zeros(len(ll), dtype=np.intp)
        residual, curvature = self._ratios(self.k[rows, 0], self.k0[rows, 0], mu[pick, best])
        j = self.family.matrices[best] if jac is None else jac[pick, best]
        grad = (residual[:, np.newaxis, :] @ j)[:, 0, :]
        hess = np.swapaxes(j * curvature[:, :, np.newaxis], 1, 2) @ j
        return grad, hess, hess

    def _mixture(
        self, share: Array, mu: Array, rows: NDArray[np.intp], jac: Array | None
    ) -> tuple[Array, Array, Array]:
        """Marginal likelihood of several variations."""
        m = len(share)
        residual, curvature = self._ratios(self.k[rows], self.k0[rows], mu)
        curvature *= share[..., np.newaxis]
        if not np.isfinite(curvature.sum()):
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
        grad = np.einsum("ms,msn->mn", share, grad_s)
        # log of a weighted sum of likelihoods: the spread of the gradients enters.
        spread = np.swapaxes(grad_s * share[..., np.newaxis], 1, 2) @ grad_s
        spread -= grad[:, :, np.newaxis] * grad[:, np.newaxis, :]
        return grad, psd - spread, psd
