"""The Bayesian model of a response matrix, on plain arrays.

A response matrix element is modelled as ``R_ij = m_ij * p_ij * eff_j``:

* ``eff_j``: reconstruction efficiency of truth bin ``j``; binomial counts with a
  flat ``Beta(1, 1)`` prior give the posterior ``Beta(1 + k_j, 1 + n_j - k_j)``.
* ``p_ij``: probability that a reconstructed event of truth bin ``j`` lands in
  reco bin ``i``; multinomial counts with a symmetric Dirichlet prior give the
  posterior ``Dirichlet(k_ij + prior)``.
* ``m_ij``: mean event weight of cell ``(i, j)`` over the mean weight of truth
  bin ``j``; each mean weight is a Gaussian (standard error of the mean).

Nothing here knows about binnings: the functions take the filled arrays of a
:class:`remu.migration.ResponseMatrix` and return arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._progress import ProgressLike, progress_bar
from remu.errors import IllegalResponseError

__all__ = [
    "EPS",
    "StatParameters",
    "draw_dirichlet",
    "draw_response_matrices",
    "mean_response_matrix",
    "normalize_matrix",
    "stat_error_parameters",
    "statistical_variance",
]

#: Stand-in for "zero" in Beta/Dirichlet parameters (nuisance efficiencies,
#: impossible reco bins): the posterior collapses without dividing by zero.
EPS = 1e-50

#: Upper limit on the number of float64 elements a single batch of toys holds in
#: temporary arrays (about 32 MB): bounds the memory of large draws.
_BATCH_ELEMENTS = 1 << 22

#: A weight Gaussian whose width is below this fraction of its mean cannot move
#: the mean by one unit in the last place unless the normal variate exceeds 128
#: standard deviations (probability below 1e-3000), so it is not drawn at all.
_NEGLIGIBLE_SIGMA = 2.0**-60


class StatParameters(NamedTuple):
    """Posterior parameters of a response matrix (unpacks like the reference tuple).

    Attributes
    ----------
    beta1, beta2 : ndarray, shape (n_t,)
        Beta posterior of the efficiencies.
    alpha : ndarray, shape (N_reco, n_t)
        Dirichlet posterior of the smearing, one column per truth bin.
    mu, sigma : ndarray, shape (N_reco + 1, n_t)
        Gaussian means and widths of the mean weights; the last row belongs to
        the truth bins, the others to the response cells.
    """

    beta1: NDArray[np.float64]
    beta2: NDArray[np.float64]
    alpha: NDArray[np.float64]
    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]


def stat_error_parameters(
    response_entries: NDArray[np.integer],
    truth_entries: NDArray[np.integer],
    response_values: NDArray[np.floating],
    truth_values: NDArray[np.floating],
    response_sumw2: NDArray[np.floating],
    truth_sumw2: NDArray[np.floating],
    *,
    n_vars: int,
    impossible_indices: Sequence[int] | NDArray[np.integer] = (),
    nuisance_columns: Sequence[int] | NDArray[np.integer] = (),
    expected_weight: float = 1.0,
) -> StatParameters:
    """Compute the posterior parameters from the filled arrays.

    Parameters
    ----------
    response_entries, response_values, response_sumw2 : ndarray, shape (N_reco, n_t)
        The response histogram restricted to the selected truth columns.
    truth_entries, truth_values, truth_sumw2 : ndarray, shape (n_t,)
        The truth histogram at the same columns.
    n_vars : int
        Number of reco variables; sets the Dirichlet prior strength.
    impossible_indices : sequence of int
        Reco rows that cannot receive events (Dirichlet parameter ``EPS``).
    nuisance_columns : sequence of int
        Column positions whose efficiency is fixed to 1 (``beta2 = EPS``).
    expected_weight : float
        Weight assumed for empty cells and added as one pseudo-observation.

    Returns
    -------
    StatParameters

    Raises
    ------
    remu.errors.IllegalResponseError
        If a truth column has fewer entries than its reconstructed cells (a
        :class:`RuntimeError`).
    ValueError
        If every reco bin is declared impossible.

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[1, 0], [0, 2]])
    >>> p = stat_error_parameters(E, np.array([2, 2]), E * 1.0, np.array([2.0, 2.0]),
    ...                           E * 1.0, np.array([2.0, 2.0]), n_vars=1)
    >>> p.beta1, p.beta2
    (array([2., 3.]), array([2., 1.]))
    >>> p.alpha
    array([[2., 1.],
           [1., 3.]])
    """
    n_reco = response_entries.shape[0]
    reconstructed = response_entries.sum(axis=0)
    beta1 = reconstructed.astype(np.float64) + 1.0
    waste = truth_entries - reconstructed
    if np.any(waste < 0):
        bad = np.flatnonzero(waste < 0)
        msg = (
            f"Illegal response matrix: More reconstructed than true events! Truth "
            f"column(s) {bad.tolist()} of the selection hold "
            f"{reconstructed[bad].tolist()} reconstructed but only "
            f"{np.asarray(truth_entries)[bad].tolist()} true entries"
        )
        raise IllegalResponseError(msg)
    beta2 = waste.astype(np.float64) + 1.0
    beta2[np.asarray(nuisance_columns, dtype=np.intp)] = EPS

    possible = n_reco - len(impossible_indices)
    if possible <= 0:
        msg = (
            f"cannot build a smearing prior: all {n_reco} reco bins are listed in "
            f"impossible_indices ({len(impossible_indices)} entries)"
        )
        raise ValueError(msg)
    # About 3 reco bins per reco variable receive events of one truth bin; the
    # total pseudo-count is spread evenly, capped at 1 per bin.
    prior = min(1.0, 3.0**n_vars / possible)
    alpha = response_entries.astype(np.float64) + prior
    alpha[np.asarray(impossible_indices, dtype=np.intp), :] = EPS

    values = np.vstack([response_values, truth_values[np.newaxis, :]]).astype(np.float64)
    sumw2 = np.vstack([response_sumw2, truth_sumw2[np.newaxis, :]]).astype(np.float64)
    entries = np.vstack([response_entries, truth_entries[np.newaxis, :]])
    ok = (entries > 0) & (values > 0)
    mu = values / np.where(ok, entries, 1)
    mu[-1] = np.where(ok[-1], mu[-1], expected_weight)
    mu[:-1] = np.where(ok[:-1], mu[:-1], mu[-1])

    # Standard error of the mean weight, with one pseudo-event of the expected
    # weight in every cell so that single-event cells get a finite width.
    n1 = entries + 1.0
    v1 = values + expected_weight
    s1 = sumw2 + expected_weight**2
    with np.errstate(under="ignore"):
        var = (s1 / n1 - (v1 / n1) ** 2) / n1
    # Rounding can make a zero variance slightly negative; clip it.
    sigma = np.sqrt(np.clip(var, 0.0, None)) + EPS
    return StatParameters(beta1, beta2, alpha, mu, sigma)


def normalize_matrix(matrix: ArrayLike) -> NDArray[np.float64]:
    """Scale down columns whose sum exceeds 1 so that they sum to exactly 1.

    Works on any number of leading (toy) axes; the reco axis is ``-2``.

    Parameters
    ----------
    matrix : array_like, shape (..., N_reco, n_t)

    Returns
    -------
    ndarray
        A new array of the same shape.

    Examples
    --------
    >>> normalize_matrix([[0.5, 1.0], [0.25, 2.0]])
    array([[0.5       , 0.33333333],
           [0.25      , 0.66666667]])
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    with np.errstate(under="ignore"):
        total = matrix.sum(axis=-2)
        total = np.where(total < 1.0, 1.0, total)
        return matrix / total[..., np.newaxis, :]


def _efficiency_smearing_weight(
    params: StatParameters,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Posterior means of the three factors, and the Dirichlet totals.

    Returns ``(eff, p, m, a0)``: the Beta mean of the efficiency per truth bin,
    the Dirichlet mean of the smearing, the ratio of mean weights, and the sum
    of the Dirichlet parameters per truth bin.
    """
    eff = params.beta1 / (params.beta1 + params.beta2)
    a0 = params.alpha.sum(axis=0)
    with np.errstate(under="ignore"):
        p = params.alpha / a0
        m = params.mu[:-1] / params.mu[-1]
    return eff, p, m, a0


def mean_response_matrix(params: StatParameters) -> NDArray[np.float64]:
    """Posterior mean of the response matrix (normalised column by column).

    Parameters
    ----------
    params : StatParameters

    Returns
    -------
    ndarray, shape (N_reco, n_t)

    Examples
    --------
    An empty 2x1 matrix: efficiency 1/2 from the flat prior, uniform smearing.

    >>> import numpy as np
    >>> z = np.zeros((2, 1))
    >>> p = stat_error_parameters(z.astype(int), np.zeros(1, int), z, np.zeros(1),
    ...                           z, np.zeros(1), n_vars=1)
    >>> mean_response_matrix(p)
    array([[0.25],
           [0.25]])
    """
    eff, p, m, _ = _efficiency_smearing_weight(params)
    with np.errstate(under="ignore"):
        return normalize_matrix(m * p * eff)


def statistical_variance(params: StatParameters) -> NDArray[np.float64]:
    """Element-wise posterior variance of the response (correlations ignored).

    Parameters
    ----------
    params : StatParameters

    Returns
    -------
    ndarray, shape (N_reco, n_t)
        Variance of the product of the independent factors, to first order in
        the weight uncertainty; not re-normalised.
    """
    beta1, beta2, alpha, mu, sigma = params
    eff, p, m, a0 = _efficiency_smearing_weight(params)
    b0 = beta1 + beta2
    w = mu[:-1]
    wj = mu[-1]
    with np.errstate(under="ignore"):
        eff_var = beta1 * beta2 / (b0**2 * (b0 + 1.0))
        p_var = alpha * (a0 - alpha) / (a0**2 * (a0 + 1.0))
        m_var = sigma[:-1] ** 2 / wj**2 + (w / wj**2) ** 2 * sigma[-1] ** 2
        variance: NDArray[np.float64] = (
            m**2 * p**2 * eff_var + m**2 * p_var * eff**2 + m_var * p**2 * eff**2
        )
    return variance


def _size_tuple(size: int | Sequence[int] | None) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, (int, np.integer)):
        size = (int(size),)
    try:
        dims = tuple(int(s) for s in size)
    except TypeError as err:
        msg = f"size must be None, an int or a tuple of ints; got {size!r}"
        raise TypeError(msg) from err
    if any(d < 0 for d in dims):
        msg = f"size must not be negative; got {size!r}"
        raise ValueError(msg)
    return dims


def draw_dirichlet(
    alpha: ArrayLike, size: int | Sequence[int] | None, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Draw Dirichlet vectors along axis 0 of ``alpha``, robust to tiny parameters.

    ``alpha`` may have trailing axes (independent Dirichlet distributions, one per
    column). Each vector is a set of Gamma variates divided by their sum. Where
    every variate of a vector underflows (all parameters tiny), that vector is
    drawn again in log space, using ``Gamma(a) = Gamma(a + 1) * U**(1/a)``.

    Parameters
    ----------
    alpha : array_like, shape (K, ...)
        Positive concentration parameters.
    size : None, int or tuple of int
        Leading toy dimensions.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape size + alpha.shape
        Non-negative, summing to 1 along the ``K`` axis.

    Examples
    --------
    >>> import numpy as np
    >>> x = draw_dirichlet([1.0, 2.0, 1e-50], 4, np.random.default_rng(1))
    >>> x.shape, np.allclose(x.sum(axis=-1), 1.0), bool(np.all(x[:, 2] == 0))
    ((4, 3), True, True)
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    dims = _size_tuple(size)
    if alpha.ndim == 0:
        msg = "alpha must have at least one axis (the Dirichlet components)"
        raise ValueError(msg)
    if np.any(~(alpha > 0)):
        msg = "Dirichlet parameters must be positive (use a tiny value such as 1e-50 for zero)"
        raise ValueError(msg)
    shape = dims + alpha.shape
    if alpha.shape[0] == 1:
        return np.ones(shape)
    gam = np.empty(shape)
    total = _gammas_and_totals(gam, alpha, len(dims), rng)
    with np.errstate(under="ignore"):
        gam /= total
    return gam


def _gammas_and_totals(
    out: NDArray[np.float64], alpha: NDArray[np.float64], axis: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Fill ``out`` with Gamma(alpha) variates and return their sums along ``axis``.

    Vectors whose variates all underflow to 0 are replaced by normalised
    Dirichlet vectors drawn in log space; their sum is reported as 1.
    """
    rng.standard_gamma(alpha, size=out.shape, out=out)
    with np.errstate(under="ignore"):
        total: NDArray[np.float64] = out.sum(axis=axis, keepdims=True)
    bad = np.flatnonzero(~(total > 0))
    if bad.size:
        _redraw_in_log_space(out, alpha, axis, bad, rng)
        total.flat[bad] = 1.0
    return total


def _redraw_in_log_space(
    out: NDArray[np.float64],
    alpha: NDArray[np.float64],
    axis: int,
    bad: NDArray[np.intp],
    rng: np.random.Generator,
) -> None:
    """Redraw the Dirichlet vectors (flat positions ``bad`` of the reduced shape)."""
    moved = np.moveaxis(out, axis, -1)  # view: (..., K)
    k = moved.shape[-1]
    flat = moved.reshape(-1, k)  # copy if needed; written back below
    a_full = np.broadcast_to(np.moveaxis(alpha, 0, -1), moved.shape).reshape(-1, k)
    a = a_full[bad]
    log_g = np.log(rng.standard_gamma(a + 1.0)) + np.log1p(-rng.random(a.shape)) / a
    log_g -= log_g.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        g = np.exp(log_g)
        flat[bad] = g / g.sum(axis=-1, keepdims=True)
    moved[...] = flat.reshape(moved.shape)


def draw_response_matrices(
    params: StatParameters,
    size: int | Sequence[int] | None,
    rng: np.random.Generator,
    *,
    progress: ProgressLike = False,
) -> NDArray[np.float64]:
    """Draw response matrices from the posterior, all toys and bins at once.

    The toys are drawn in batches (about 32 MB of temporaries each).

    Parameters
    ----------
    params : StatParameters
    size : None, int or tuple of int
        Toy dimensions.
    rng : numpy.random.Generator
    progress : bool or dict
        A tqdm bar advancing batch by batch, by the toys of the batch (see
        :func:`remu._progress.progress_bar`). The draws do not depend on it.

    Returns
    -------
    ndarray, shape size + (N_reco, n_t)

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[3, 0], [1, 4]])
    >>> p = stat_error_parameters(E, np.array([5, 4]), E * 1.0, np.array([5.0, 4.0]),
    ...                           E * 1.0, np.array([5.0, 4.0]), n_vars=1)
    >>> toys = draw_response_matrices(p, 1000, np.random.default_rng(2))
    >>> toys.shape
    (1000, 2, 2)
    >>> np.allclose(toys.mean(axis=0), mean_response_matrix(p), atol=0.02)
    True
    """
    dims = _size_tuple(size)
    beta1, beta2, alpha, mu, sigma = params
    n_reco, n_t = alpha.shape
    n_toys = int(np.prod(dims, dtype=np.int64))
    out = np.empty((n_toys, n_reco, n_t))

    # Weight Gaussians narrower than the float resolution of their mean are
    # deterministic; only the others are drawn.
    random_w = sigma > np.abs(mu) * _NEGLIGIBLE_SIGMA
    idx_w = np.flatnonzero(random_w)
    with np.errstate(under="ignore"):
        m_fixed = mu[:-1] / mu[-1]

    m_is_one = not idx_w.size and bool(np.all(m_fixed == 1.0))
    per_toy = max(1, n_reco * n_t)
    batch = max(1, _BATCH_ELEMENTS // per_toy)
    with progress_bar(progress, total=n_toys, desc="toy matrices", unit="toy") as bar:
        for start in range(0, n_toys, batch):
            stop = min(n_toys, start + batch)
            t = stop - start
            chunk = out[start:stop]
            eff = rng.beta(beta1, beta2, size=(t, n_t))
            if n_reco == 1:
                chunk[...] = 1.0
                total = np.ones((t, 1, n_t))
            else:
                total = _gammas_and_totals(chunk, alpha, 1, rng)
            with np.errstate(under="ignore", over="ignore"):
                # R = normalize(m * p * eff) with p = gamma / total, in as few passes
                # over the (toys, reco, truth) array as possible.
                chunk *= eff[:, np.newaxis, :] / total
                if idx_w.size:
                    w = np.broadcast_to(mu, (t, n_reco + 1, n_t)).copy()
                    wf = w.reshape(t, -1)
                    wf[:, idx_w] = np.abs(
                        mu.ravel()[idx_w]
                        + sigma.ravel()[idx_w] * rng.standard_normal((t, idx_w.size))
                    )
                    chunk *= w[:, :-1, :] / w[:, -1:, :]
                elif not m_is_one:
                    chunk *= m_fixed
                # with unit weight ratios a column sums to eff * (1 +- rounding)
                if not m_is_one or np.any(eff > 1.0 - 1e-12):
                    col = chunk.sum(axis=1)
                    over = col > 1.0
                    if np.any(over):
                        chunk /= np.where(over, col, 1.0)[:, np.newaxis, :]
            bar.update(t)
    return out.reshape((*dims, n_reco, n_t))
