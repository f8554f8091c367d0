"""Array maths behind the matrix-quality checks of :mod:`remu.matrix_utils`.

The response of different truth bins is statistically independent, so the
covariance of a matrix difference is block diagonal: one ``N_reco x N_reco``
block per truth bin. Everything here is batched over those blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._rng import RNGLike, as_generator
from remu.errors import InputError

__all__ = [
    "block_mahalanobis2",
    "compatibility",
    "difference_distances",
    "expected_mahalanobis_distance",
    "mahalanobis_distance",
]


def block_mahalanobis2(X: ArrayLike, mu: ArrayLike, inv_cov: ArrayLike) -> NDArray[np.float64]:
    """Squared Mahalanobis distance for a block-diagonal covariance, block by block.

    Parameters
    ----------
    X : array_like, shape (n, a, b)
        Points: ``n`` samples of ``a`` blocks of ``b`` variables.
    mu : array_like, shape (a, b)
        Centre.
    inv_cov : array_like, shape (a, b, b)
        Inverse covariance of each block.

    Returns
    -------
    ndarray, shape (n, a)
        ``D[n, a] = (X[n, a] - mu[a]) @ inv_cov[a] @ (X[n, a] - mu[a])``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[[1.0, 2.0], [0.0, 3.0]]])
    >>> inv = np.array([np.eye(2), 0.5 * np.eye(2)])
    >>> block_mahalanobis2(X, np.zeros((2, 2)), inv)
    array([[5. , 4.5]])
    """
    diff = np.asarray(X, dtype=np.float64) - np.asarray(mu, dtype=np.float64)
    return np.einsum("...b,...bc,...c", diff, np.asarray(inv_cov, dtype=np.float64), diff)


def difference_distances(
    first_toys: NDArray[np.float64],
    second_toys: NDArray[np.float64],
    mean_difference: NDArray[np.float64],
    *,
    with_throws: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Distances of "no difference" (and of each throw) from the mean difference.

    Parameters
    ----------
    first_toys, second_toys : ndarray, shape (N, N_reco, n_t)
        Random matrices drawn from each posterior.
    mean_difference : ndarray, shape (N_reco, n_t)
        Difference of the posterior means.
    with_throws : bool
        Also return the distance of every throw's difference from the mean.

    Returns
    -------
    distance : ndarray, shape (n_t,)
        ``m @ inv(C) @ m`` per truth bin, with ``C`` the sample covariance (over
        throws, denominator ``N - 1``) of the differences.
    throws : ndarray, shape (N, n_t), or None

    Raises
    ------
    numpy.linalg.LinAlgError
        If a covariance block is singular (e.g. ``N <= N_reco``).
    """
    diff = np.moveaxis(first_toys - second_toys, -1, 0)  # (n_t, N, N_reco)
    n = diff.shape[1]
    centred = diff - diff.mean(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        cov = np.einsum("tnk,tnl->tkl", centred, centred) / (n - 1)
    inv_cov = np.linalg.inv(cov)
    m = mean_difference.T  # (n_t, N_reco)
    distance = np.einsum("tk,tkl,tl->t", m, inv_cov, m)
    if not with_throws:
        return distance, None
    dev = diff - m[:, np.newaxis, :]
    throws = np.einsum("tnk,tkl,tnl->nt", dev, inv_cov, dev)
    return distance, throws


def expected_mahalanobis_distance(
    reconstructed_first: ArrayLike,
    reconstructed_second: ArrayLike,
    n_reco: int,
    n_vars: int,
) -> NDArray[np.float64]:
    """Rough expectation of the squared distance per truth bin.

    The shared prior pulls both posteriors together when few events are
    reconstructed, so the expectation grows from 0 (no events) to ``n_reco``
    (the degrees of freedom) once both matrices hold about twice the prior's
    pseudo-count.

    Parameters
    ----------
    reconstructed_first, reconstructed_second : array_like, shape (N_truth,)
        Reconstructed entries per truth bin of each matrix.
    n_reco : int
        Number of reco bins.
    n_vars : int
        Number of reco variables.

    Returns
    -------
    ndarray, shape (N_truth,)

    Examples
    --------
    >>> expected_mahalanobis_distance([0, 3, 100], [5, 6, 200], 4, 1)
    array([0., 2., 4.])
    """
    prior_events = min(n_reco, 3**n_vars)
    n = np.minimum(
        np.asarray(reconstructed_first, dtype=np.float64),
        np.asarray(reconstructed_second, dtype=np.float64),
    )
    return n_reco * np.minimum(1.0, n / (2.0 * prior_events))


# ---------------------------------------------------------------------------
# Checks on ResponseMatrix objects (duck-typed: anything with the methods of
# remu.migration.ResponseMatrix works).

#: Largest number of float64 elements per batch of random matrices drawn for
#: the distance computation (bounds memory for big matrices).
_BATCH_ELEMENTS = 1 << 21


def _expected_distance_of(first: Any, second: Any) -> NDArray[np.float64]:
    n_reco = first.reco_binning.data_size
    n_vars = len(first.reco_binning.phasespace)
    shape1 = (n_reco, first.truth_binning.data_size)
    shape2 = (second.reco_binning.data_size, second.truth_binning.data_size)
    n1 = first.get_response_entries_as_ndarray(shape=shape1).sum(axis=0)
    n2 = second.get_response_entries_as_ndarray(shape=shape2).sum(axis=0)
    return expected_mahalanobis_distance(n1, n2, n_reco, n_vars)


def _check_same_dimensions(first: Any, second: Any) -> tuple[int, int]:
    dims1 = (first.reco_binning.data_size, first.truth_binning.data_size)
    dims2 = (second.reco_binning.data_size, second.truth_binning.data_size)
    if dims1 != dims2:
        msg = (
            f"cannot compare response matrices of different sizes: first has "
            f"{dims1[0]} reco x {dims1[1]} truth bins, second {dims2[0]} x {dims2[1]}"
        )
        raise InputError(msg)
    return dims1


def mahalanobis_distance(
    first: Any,
    second: Any,
    shape: int | tuple[int, ...] | None = None,
    N: int | None = None,
    return_distances_from_mean: bool = False,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Squared Mahalanobis distance between two response matrices, per truth bin.

    For each truth bin the covariance of the difference of the two matrices is
    estimated from ``N`` random draws of each; the distance of "no difference"
    from the difference of the posterior means is ``m @ inv(C) @ m``.

    Parameters
    ----------
    first, second : ResponseMatrix
        Matrices with the same numbers of reco and truth bins.
    shape : int or tuple of int, optional
        Reshape the distances; default ``(n_t,)``.
    N : int, optional
        Number of draws from each matrix; default ``N_reco + 100`` (must exceed
        ``N_reco``).
    return_distances_from_mean : bool
        Also return the distance of every draw's difference from the mean
        difference, shape ``(N, n_t)`` (``(N,) + shape`` with ``shape``).
    rng : None, int, Generator, optional
        Source of randomness (``None``: NumPy's global seed).
    **kwargs
        ``truth_indices`` (default all truth bins) and the keywords of
        ``generate_random_response_matrices`` (``expected_weight``,
        ``nuisance_indices``, ``impossible_indices``).

    Returns
    -------
    distance : ndarray
    distances_from_mean : ndarray, only with ``return_distances_from_mean``

    Raises
    ------
    ValueError
        If the matrices differ in size or ``N`` is too small.
    numpy.linalg.LinAlgError
        If a covariance block is singular (e.g. with impossible reco bins).
    """
    n_reco, n_truth = _check_same_dimensions(first, second)
    if N is None:
        N = n_reco + 100
    if int(N) != N or N < 2:
        msg = f"N must be an int above N_reco={n_reco}; got {N!r}"
        raise InputError(msg)
    N = int(N)
    if n_reco >= N:
        # N - 1 <= N_reco independent differences span at most N - 1 dimensions.
        msg = (
            f"the covariance of {N} random matrices over {n_reco} reco bins is singular; "
            f"N must exceed N_reco={n_reco}"
        )
        raise np.linalg.LinAlgError(msg)
    truth_indices = kwargs.pop("truth_indices", None)
    if truth_indices is None:
        truth_indices = np.arange(n_truth)
    idx = np.asarray(truth_indices)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        msg = f"truth_indices must be a 1-D sequence of ints; got {truth_indices!r}"
        raise TypeError(msg)
    bad = idx[(idx < -n_truth) | (idx >= n_truth)]
    if bad.size:
        msg = f"truth_indices out of range for {n_truth} truth bins: {bad.tolist()}"
        raise InputError(msg)
    # Draw for sorted unique bins (the posterior of each bin is independent).
    unique, inverse = np.unique(idx % max(n_truth, 1), return_inverse=True)
    gen = as_generator(rng)
    distance = np.empty(unique.size)
    throws = np.empty((N, unique.size)) if return_distances_from_mean else None
    block = max(1, _BATCH_ELEMENTS // max(1, N * n_reco))
    for start in range(0, unique.size, block):
        cols = unique[start : start + block]
        A = first.generate_random_response_matrices(size=N, truth_indices=cols, rng=gen, **kwargs)
        B = second.generate_random_response_matrices(size=N, truth_indices=cols, rng=gen, **kwargs)
        m = first.get_mean_response_matrix_as_ndarray(
            truth_indices=cols, **kwargs
        ) - second.get_mean_response_matrix_as_ndarray(truth_indices=cols, **kwargs)
        d, t = difference_distances(A, B, m, with_throws=return_distances_from_mean)
        distance[start : start + block] = d
        if throws is not None:
            throws[:, start : start + block] = t
    distance = distance[inverse]
    if shape is not None:
        distance = distance.reshape(shape)
    if throws is None:
        return distance
    throws = throws[:, inverse]
    if shape is not None:
        shape_t = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        throws = throws.reshape((N, *shape_t))
    return distance, throws


def compatibility(
    first: Any,
    second: Any,
    N: int | None = None,
    return_all: bool = False,
    truth_indices: Any = None,
    min_quality: float = 0.95,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Any, ...]:
    """Bayesian p-values for "both matrices describe the same true response".

    Parameters
    ----------
    first, second : ResponseMatrix
    N : int, optional
        Number of draws (default ``N_reco + 100``).
    return_all : bool
        Also return the null distance, the throw distances and the degrees of
        freedom.
    truth_indices : list of int, optional
        Truth bins to use; default those whose expected distance is at least
        ``min_quality * N_reco`` (enough events for a meaningful test).
    min_quality : float
        See ``truth_indices``.
    rng : None, int, Generator, optional
    **kwargs
        Passed to :func:`mahalanobis_distance`.

    Returns
    -------
    null_prob_count : float
        Fraction of draws whose distance from the mean difference is at least
        that of "no difference" (near 1: compatible, near 0: not).
    null_prob_chi2 : numpy.float64
        ``chi2.sf(null_distance, df)``.
    null_distance, distances, df
        Only with ``return_all``.

    Raises
    ------
    RuntimeError
        If no truth bin reaches ``min_quality``.
    """
    from scipy import stats

    n_reco, _ = _check_same_dimensions(first, second)
    if truth_indices is None:
        expected = _expected_distance_of(first, second)
        truth_indices = [int(j) for j in np.flatnonzero(expected >= min_quality * n_reco)]
        if not truth_indices:
            msg = "No bins with required quality!"
            raise RuntimeError(msg)
    df = len(truth_indices) * n_reco
    null_distance, distances = mahalanobis_distance(
        first,
        second,
        N=N,
        truth_indices=truth_indices,
        return_distances_from_mean=True,
        rng=rng,
        **kwargs,
    )
    null_distance = null_distance.sum(axis=-1)
    distances = distances.sum(axis=-1)
    null_prob_chi2 = stats.chi2.sf(null_distance, df)
    null_prob_count = float(np.sum(distances >= null_distance)) / distances.size
    if return_all:
        return null_prob_count, null_prob_chi2, null_distance, distances, df
    return null_prob_count, null_prob_chi2
