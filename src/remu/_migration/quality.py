"""Whether two response matrices describe the same detector (``matrix_utils`` checks).

Two response matrices built from different simulations (say, two physics
models) should agree within their statistical uncertainties if the detector
response does not depend on the model. The checks here make that precise.

The squared Mahalanobis distance
    Each matrix is known only through its posterior, from which
    ``generate_random_response_matrices`` draws plausible matrices. The
    difference of two draws, one from each posterior, is a draw of the matrix
    difference ``Δ``. Let ``m`` be the difference of the two posterior means and
    ``C`` the covariance of ``Δ``, estimated from ``N`` such pairs. The squared
    Mahalanobis distance of a point ``x`` from the mean difference is
    ``(x - m) @ inv(C) @ (x - m)``: the squared distance in units of the
    uncertainty, with correlations taken into account. For Gaussian ``Δ`` it
    follows a chi-square distribution with as many degrees of freedom as ``Δ``
    has elements.

Block-diagonal covariance
    The response of different truth bins is statistically independent, so ``C``
    is block diagonal: one ``N_reco x N_reco`` block per truth bin. Distances are
    therefore computed per truth bin, and the distance over several truth bins is
    the sum of their distances (with ``N_reco`` degrees of freedom per bin).
    Everything here is batched over those blocks.

The null distance and the compatibility
    "No difference" is the point ``x = 0``; its distance ``m @ inv(C) @ m`` is the
    *null distance*. If both matrices describe the same response, zero is about
    as far from ``m`` as a typical draw of ``Δ``. The compatibility is the
    fraction of draws whose distance from ``m`` is at least the null distance:
    small when zero lies far out in the tail (the matrices differ), of order one
    half or more when they agree. A second number assumes Gaussian differences:
    the chi-square survival function of the null distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._progress import progress_bar
from remu._rng import RNGLike, as_generator
from remu.errors import InputError, InsufficientStatisticsError

if TYPE_CHECKING:
    from .response import ResponseMatrix

__all__ = [
    "block_mahalanobis2",
    "chi2_probability",
    "compatibility",
    "count_probability",
    "difference_distances",
    "expected_distance_per_truth_bin",
    "expected_mahalanobis_distance",
    "mahalanobis_distance",
    "quality_truth_bins",
]

Float64Array = NDArray[np.float64]
#: The short and the long result of :func:`compatibility`.
ShortCompatibility = tuple[float, np.float64]
FullCompatibility = tuple[float, np.float64, np.float64, Float64Array, int]


def block_mahalanobis2(X: ArrayLike, mu: ArrayLike, inv_cov: ArrayLike) -> Float64Array:
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
        ``D[n, a] = (X[n, a] - mu[a]) @ inv_cov[a] @ (X[n, a] - mu[a])``; the sum
        over ``a`` is the distance for the whole covariance.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[[1.0, 2.0], [0.0, 3.0]]])
    >>> inv = np.array([np.eye(2), 0.5 * np.eye(2)])
    >>> block_mahalanobis2(X, np.zeros((2, 2)), inv)
    array([[5. , 4.5]])
    """
    diff = np.asarray(X, dtype=np.float64) - np.asarray(mu, dtype=np.float64)
    inv = np.asarray(inv_cov, dtype=np.float64)
    distance: Float64Array = np.einsum("...b,...bc,...c", diff, inv, diff)
    return distance


def difference_distances(
    first_toys: Float64Array,
    second_toys: Float64Array,
    mean_difference: Float64Array,
    *,
    with_throws: bool = False,
) -> tuple[Float64Array, Float64Array | None]:
    """Distances of "no difference" (and of each throw) from the mean difference.

    Parameters
    ----------
    first_toys, second_toys : ndarray, shape (N, N_reco, n_t)
        Random matrices drawn from each posterior; throw ``k`` of the first is
        paired with throw ``k`` of the second.
    mean_difference : ndarray, shape (N_reco, n_t)
        Difference of the posterior means, ``m``.
    with_throws : bool
        Also return the distance of every throw's difference from ``m``.

    Returns
    -------
    distance : ndarray, shape (n_t,)
        ``m @ inv(C) @ m`` per truth bin, with ``C`` the sample covariance (over
        throws, denominator ``N - 1``) of the paired differences.
    throws : ndarray, shape (N, n_t), or None
        ``(Δ_k - m) @ inv(C) @ (Δ_k - m)`` for each throw ``k``.

    Raises
    ------
    numpy.linalg.LinAlgError
        If a covariance block is singular (e.g. ``N <= N_reco``).

    Examples
    --------
    Differences spread by 1 in each of two uncorrelated reco bins; the mean
    difference is 2 standard deviations away from 0 in each:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(20000, 2, 1))
    >>> d, _ = difference_distances(a, np.zeros_like(a), np.full((2, 1), 2.0))
    >>> float(np.round(d[0], 1))
    8.0
    """
    diff = np.moveaxis(first_toys - second_toys, -1, 0)  # (n_t, N, N_reco)
    n = diff.shape[1]
    centred = diff - diff.mean(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        cov = np.einsum("tnk,tnl->tkl", centred, centred) / (n - 1)
    inv_cov = np.linalg.inv(cov)
    m = mean_difference.T  # (n_t, N_reco)
    distance: Float64Array = np.einsum("tk,tkl,tl->t", m, inv_cov, m)
    if not with_throws:
        return distance, None
    dev = diff - m[:, np.newaxis, :]
    throws: Float64Array = np.einsum("tnk,tkl,tnl->nt", dev, inv_cov, dev)
    return distance, throws


def expected_mahalanobis_distance(
    reconstructed_first: ArrayLike,
    reconstructed_second: ArrayLike,
    n_reco: int,
    n_vars: int,
) -> Float64Array:
    """Rough expectation of the squared null distance per truth bin.

    With many events, and both matrices describing the same response, the null
    distance of a truth bin is chi-square distributed with ``n_reco`` degrees of
    freedom: its expectation is ``n_reco``. With few events both posteriors are
    dominated by the same smearing prior, a Dirichlet distribution with a total
    pseudo-count of ``min(n_reco, 3**n_vars)`` events (about three reco bins per
    reco variable receive the events of one truth bin). The shared prior pulls
    both posterior means towards the same point while the posterior widths stay
    large, so the distance is smaller. As a rough interpolation, the expectation
    grows linearly from 0 (no reconstructed events) to ``n_reco``, reached once
    the sparser matrix holds twice the prior's pseudo-count.

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
        ``n_reco * min(1, n / (2 * min(n_reco, 3**n_vars)))`` with ``n`` the
        smaller of the two numbers of entries.

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
    expected: Float64Array = n_reco * np.minimum(1.0, n / (2.0 * prior_events))
    return expected


# ---------------------------------------------------------------------------
# Checks on ResponseMatrix objects

#: Largest number of float64 elements per batch of random matrices drawn for
#: the distance computation (bounds memory for big matrices).
_BATCH_ELEMENTS = 1 << 21


def _reconstructed_entries(matrix: ResponseMatrix) -> NDArray[np.int64]:
    """Reconstructed entries per truth bin (the response entries summed over reco)."""
    shape = (matrix.reco_binning.data_size, matrix.truth_binning.data_size)
    entries: NDArray[np.int64] = matrix.get_response_entries_as_ndarray(shape=shape).sum(axis=0)
    return entries


def expected_distance_per_truth_bin(first: ResponseMatrix, second: ResponseMatrix) -> Float64Array:
    """Rough expected squared null distance of each truth bin of two matrices.

    See :func:`expected_mahalanobis_distance`; the numbers of events are the
    reconstructed entries of each truth bin, the prior is set by the reco
    binning of ``first``.

    Parameters
    ----------
    first, second : ResponseMatrix

    Returns
    -------
    ndarray, shape (N_truth,)

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5], [0.5, 1.5, 0.5]], names="t,r"))
    >>> expected_distance_per_truth_bin(rm, rm)  # 2 reco bins: 2 prior events
    array([1. , 0.5])
    """
    reco = first.reco_binning
    return expected_mahalanobis_distance(
        _reconstructed_entries(first),
        _reconstructed_entries(second),
        reco.data_size,
        len(reco.phasespace),
    )


def _check_same_dimensions(first: ResponseMatrix, second: ResponseMatrix) -> tuple[int, int]:
    dims1 = (first.reco_binning.data_size, first.truth_binning.data_size)
    dims2 = (second.reco_binning.data_size, second.truth_binning.data_size)
    if dims1 != dims2:
        msg = (
            f"cannot compare response matrices of different sizes: first has "
            f"{dims1[0]} reco x {dims1[1]} truth bins, second {dims2[0]} x {dims2[1]}"
        )
        raise InputError(msg)
    return dims1


def _number_of_throws(N: Any, n_reco: int) -> int:
    """Check ``N``: an int above ``n_reco``, so that the covariance can be regular."""
    if N is None:
        return n_reco + 100
    if int(N) != N or N < 2:
        msg = f"N must be an int above N_reco={n_reco}; got {N!r}"
        raise InputError(msg)
    if n_reco >= N:
        # N paired differences, centred on their mean, span at most N - 1 dimensions.
        msg = (
            f"the covariance of {N} random matrices over {n_reco} reco bins is singular; "
            f"N must exceed N_reco={n_reco}"
        )
        raise np.linalg.LinAlgError(msg)
    return int(N)


def _truth_columns(truth_indices: Any, n_truth: int) -> NDArray[np.intp]:
    """Truth indices (ints, negative from the end, or a boolean mask) as non-negative ints."""
    if truth_indices is None:
        return np.arange(n_truth)
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
    columns: NDArray[np.intp] = idx.astype(np.intp) % max(n_truth, 1)
    return columns


@overload
def mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    shape: int | Sequence[int] | None = None,
    N: int | None = None,
    return_distances_from_mean: Literal[False] = False,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> Float64Array: ...


@overload
def mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    shape: int | Sequence[int] | None,
    N: int | None,
    return_distances_from_mean: Literal[True],
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Float64Array, Float64Array]: ...


@overload
def mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    shape: int | Sequence[int] | None = None,
    N: int | None = None,
    *,
    return_distances_from_mean: Literal[True],
    rng: RNGLike = None,
    **kwargs: Any,
) -> tuple[Float64Array, Float64Array]: ...


@overload
def mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    shape: int | Sequence[int] | None = None,
    N: int | None = None,
    return_distances_from_mean: bool = False,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> Float64Array | tuple[Float64Array, Float64Array]: ...


def mahalanobis_distance(
    first: ResponseMatrix,
    second: ResponseMatrix,
    shape: int | Sequence[int] | None = None,
    N: int | None = None,
    return_distances_from_mean: bool = False,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> Float64Array | tuple[Float64Array, Float64Array]:
    """Squared Mahalanobis distance between two response matrices, per truth bin.

    For each truth bin, ``N`` random matrices are drawn from each posterior and
    paired; the covariance ``C`` of the paired differences is estimated from
    them. The distance of "no difference" from the difference ``m`` of the
    posterior means is ``m @ inv(C) @ m``: about ``N_reco`` (the degrees of
    freedom) when the matrices agree, much larger when they do not.

    Parameters
    ----------
    first, second : ResponseMatrix
        Matrices with the same numbers of reco and truth bins.
    shape : int or tuple of int, optional
        Reshape the distances; default ``(n_t,)``, one per selected truth bin.
    N : int, optional
        Number of draws from each matrix; default ``N_reco + 100`` (must exceed
        ``N_reco``).
    return_distances_from_mean : bool
        Also return the distance of every draw's difference from the mean
        difference, shape ``(N, n_t)`` (``(N,) + shape`` with ``shape``).
    rng : None, int, Generator, optional
        Source of randomness (``None``: NumPy's global seed). The first matrix
        is drawn before the second.
    **kwargs
        ``truth_indices`` (default all truth bins; ints or a boolean mask) and
        the keywords of ``generate_random_response_matrices``
        (``expected_weight``, ``nuisance_indices``, ``impossible_indices``).
        ``progress`` (``True`` or a dict of tqdm options, ``pip install
        'remu[progress]'``) shows one bar over the truth bins, advancing block
        by block.

    Returns
    -------
    distance : ndarray
        One squared distance per selected truth bin.
    distances_from_mean : ndarray
        Only with ``return_distances_from_mean``.

    Raises
    ------
    ValueError
        If the matrices differ in size, ``N`` is too small or a truth index is
        out of range.
    TypeError
        If ``truth_indices`` is not a 1-D sequence of ints.
    numpy.linalg.LinAlgError
        If a covariance block is singular (e.g. with impossible reco bins).

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, matrix_utils, migration
    >>> def response(seed, smearing):
    ...     rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
    ...                                   binning.LinearBinning("t", [0, 1.5, 3]))
    ...     rng = np.random.default_rng(seed)
    ...     t = rng.uniform(0, 3, 5000)
    ...     rm.fill(np.rec.fromarrays([t, t + rng.normal(0, smearing, t.size)],
    ...                               names="t,r"))
    ...     return rm
    >>> d = matrix_utils.mahalanobis_distance(response(1, 0.3), response(2, 1.0), rng=0)
    >>> d.shape, bool(np.all(d > 20))  # far beyond the 3 degrees of freedom
    ((2,), True)
    """
    n_reco, n_truth = _check_same_dimensions(first, second)
    n_throws = _number_of_throws(N, n_reco)
    columns = _truth_columns(kwargs.pop("truth_indices", None), n_truth)
    # The posterior of each truth bin is independent: draw once per distinct bin,
    # in increasing order, then spread the results over the requested order.
    unique, inverse = np.unique(columns, return_inverse=True)
    gen = as_generator(rng)
    distance: Float64Array = np.empty(unique.size)
    throws: Float64Array | None = (
        np.empty((n_throws, unique.size)) if return_distances_from_mean else None
    )
    block = max(1, _BATCH_ELEMENTS // max(1, n_throws * n_reco))
    with progress_bar(
        kwargs.pop("progress", False), total=int(unique.size), desc="truth bins", unit="bin"
    ) as bar:
        for start in range(0, unique.size, block):
            cols = unique[start : start + block]
            A = first.generate_random_response_matrices(
                size=n_throws, truth_indices=cols, rng=gen, **kwargs
            )
            B = second.generate_random_response_matrices(
                size=n_throws, truth_indices=cols, rng=gen, **kwargs
            )
            m = first.get_mean_response_matrix_as_ndarray(
                truth_indices=cols, **kwargs
            ) - second.get_mean_response_matrix_as_ndarray(truth_indices=cols, **kwargs)
            d, t = difference_distances(A, B, m, with_throws=return_distances_from_mean)
            distance[start : start + block] = d
            if throws is not None and t is not None:
                throws[:, start : start + block] = t
            bar.update(cols.size)
    distance = distance[inverse]
    if shape is not None:
        distance = distance.reshape(shape)
    if throws is None:
        return distance
    throws = throws[:, inverse]
    if shape is not None:
        shape_t = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        throws = throws.reshape((n_throws, *shape_t))
    return distance, throws


def quality_truth_bins(
    first: ResponseMatrix, second: ResponseMatrix, min_quality: float
) -> list[int]:
    """Truth bins with enough events for a meaningful compatibility test.

    A truth bin qualifies if its rough expected null distance (see
    :func:`expected_mahalanobis_distance`) reaches ``min_quality * N_reco``,
    i.e. the fraction ``min_quality`` of what a well-populated bin expects.
    Sparser bins are dominated by the prior both matrices share, which makes
    them look compatible whatever the detector does.

    Parameters
    ----------
    first, second : ResponseMatrix
    min_quality : float
        Between 0 (every bin) and 1 (only bins with plenty of events).

    Returns
    -------
    list of int
        The qualifying truth indices, in increasing order.

    Raises
    ------
    remu.errors.InsufficientStatisticsError
        If no truth bin qualifies (a :class:`RuntimeError`).

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, migration
    >>> rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                               binning.LinearBinning("t", [0, 1, 2]))
    >>> rm.fill(np.rec.fromarrays([[0.5] * 9 + [1.5], [0.5] * 9 + [0.5]], names="t,r"))
    >>> quality_truth_bins(rm, rm, 0.95)
    [0]
    """
    n_reco = first.reco_binning.data_size
    expected = expected_distance_per_truth_bin(first, second)
    threshold = min_quality * n_reco
    selected = [int(j) for j in np.flatnonzero(expected >= threshold)]
    if not selected:
        best = int(np.argmax(expected)) if expected.size else None
        best_text = (
            f"the largest is {expected[best]:.3g} in truth bin {best}"
            if best is not None
            else "there are no truth bins"
        )
        msg = (
            f"No bins with required quality! The rough expected distance of a truth bin "
            f"must reach min_quality * N_reco = {min_quality:g} * {n_reco} = {threshold:.3g}; "
            f"{best_text}. Fill more events or lower min_quality."
        )
        raise InsufficientStatisticsError(msg)
    return selected


def count_probability(throw_distances: Float64Array, null_distance: float) -> float:
    """Fraction of posterior throws at least as far from the mean difference as 0.

    This is the compatibility of two matrices. If they describe the same
    response, "no difference" is about as far from the mean difference as a
    typical throw, and a sizeable fraction of the throws lies further out; if
    they differ, zero lies in the far tail and the fraction is small. Unlike
    :func:`chi2_probability` it makes no assumption about the shape of the
    posterior.

    Parameters
    ----------
    throw_distances : ndarray, shape (N,)
        Squared distance of each throw's difference from the mean difference.
    null_distance : float
        Squared distance of "no difference" from the mean difference.

    Returns
    -------
    float
        In ``[0, 1]``; near 1: compatible, near 0: not.

    Examples
    --------
    >>> import numpy as np
    >>> count_probability(np.array([1.0, 2.0, 3.0, 4.0]), 2.5)
    0.5
    """
    beyond = np.count_nonzero(throw_distances >= null_distance)
    return float(beyond) / throw_distances.size


def chi2_probability(null_distance: float, df: int) -> np.float64:
    """Probability of a squared distance above ``null_distance`` for Gaussian differences.

    For a Gaussian posterior of the difference, the squared Mahalanobis
    distance of a point from the mean is chi-square distributed with ``df``
    (the number of compared matrix elements) degrees of freedom. The squared
    distance is the statistic itself (it is not squared again).

    Parameters
    ----------
    null_distance : float
        Squared distance of "no difference" from the mean difference.
    df : int
        Degrees of freedom: ``N_reco`` per compared truth bin.

    Returns
    -------
    numpy.float64
        ``scipy.stats.chi2.sf(null_distance, df)``.

    Examples
    --------
    >>> float(round(chi2_probability(4.0, 4), 4))
    0.406
    """
    from scipy import stats

    probability: np.float64 = np.float64(stats.chi2.sf(null_distance, df))
    return probability


@overload
def compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    N: int | None = None,
    return_all: Literal[False] = False,
    truth_indices: ArrayLike | None = None,
    min_quality: float = 0.95,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> ShortCompatibility: ...


@overload
def compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    N: int | None,
    return_all: Literal[True],
    truth_indices: ArrayLike | None = None,
    min_quality: float = 0.95,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> FullCompatibility: ...


@overload
def compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    N: int | None = None,
    *,
    return_all: Literal[True],
    truth_indices: ArrayLike | None = None,
    min_quality: float = 0.95,
    rng: RNGLike = None,
    **kwargs: Any,
) -> FullCompatibility: ...


@overload
def compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    N: int | None = None,
    return_all: bool = False,
    truth_indices: ArrayLike | None = None,
    min_quality: float = 0.95,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> ShortCompatibility | FullCompatibility: ...


def compatibility(
    first: ResponseMatrix,
    second: ResponseMatrix,
    N: int | None = None,
    return_all: bool = False,
    truth_indices: ArrayLike | None = None,
    min_quality: float = 0.95,
    *,
    rng: RNGLike = None,
    **kwargs: Any,
) -> ShortCompatibility | FullCompatibility:
    """Bayesian p-values for "both matrices describe the same true response".

    The null distance and the throw distances of :func:`mahalanobis_distance`
    are summed over the selected truth bins (independent bins: distances add
    up, with ``N_reco`` degrees of freedom each). Two probabilities follow:
    the fraction of throws at least as far from the mean difference as "no
    difference" (:func:`count_probability`), and the chi-square survival
    function of the null distance (:func:`chi2_probability`).

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
        ``min_quality * N_reco`` (enough events for a meaningful test, see
        :func:`quality_truth_bins`).
    min_quality : float
        See ``truth_indices``.
    rng : None, int, Generator, optional
        Source of randomness (``None``: NumPy's global seed).
    **kwargs
        Passed to :func:`mahalanobis_distance`.

    Returns
    -------
    null_prob_count : float
        Fraction of draws whose distance from the mean difference is at least
        that of "no difference": near 0 the matrices are incompatible.
    null_prob_chi2 : numpy.float64
        ``chi2.sf(null_distance, df)``.
    null_distance : numpy.float64
        Only with ``return_all``: the summed squared null distance.
    distances : ndarray, shape (N,)
        Only with ``return_all``: the summed distance of each draw.
    df : int
        Only with ``return_all``: ``N_reco`` times the number of truth bins.

    Raises
    ------
    remu.errors.InsufficientStatisticsError
        If no truth bin reaches ``min_quality`` (a :class:`RuntimeError`).
    ValueError, numpy.linalg.LinAlgError
        As :func:`mahalanobis_distance`.

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, matrix_utils, migration
    >>> def response(seed):
    ...     rm = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2, 3]),
    ...                                   binning.LinearBinning("t", [0, 1.5, 3]))
    ...     rng = np.random.default_rng(seed)
    ...     t = rng.uniform(0, 3, 5000)
    ...     rm.fill(np.rec.fromarrays([t, t + rng.normal(0, 0.5, t.size)], names="t,r"))
    ...     return rm
    >>> count, chi2 = matrix_utils.compatibility(response(1), response(2), rng=0)
    >>> bool(count > 0.05), bool(chi2 > 0.05)  # the same detector: compatible
    (True, True)
    """
    n_reco, _ = _check_same_dimensions(first, second)
    if truth_indices is None:
        truth_indices = quality_truth_bins(first, second, min_quality)
    per_bin_null, per_bin_throws = mahalanobis_distance(
        first,
        second,
        N=N,
        truth_indices=truth_indices,
        return_distances_from_mean=True,
        rng=rng,
        **kwargs,
    )
    # Independent truth bins: squared distances and degrees of freedom add up.
    null_distance = np.float64(per_bin_null.sum())
    distances: Float64Array = per_bin_throws.reshape(per_bin_throws.shape[0], -1).sum(axis=1)
    df = per_bin_null.size * n_reco
    null_prob_count = count_probability(distances, float(null_distance))
    null_prob_chi2 = chi2_probability(float(null_distance), df)
    if return_all:
        return null_prob_count, null_prob_chi2, null_distance, distances, df
    return null_prob_count, null_prob_chi2
