"""matrix_utils: Mahalanobis distance, compatibility, expected distance."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

import remu.errors
from numeric_asserts import assert_allclose
from remu import binning, matrix_utils, migration
from remu._migration.quality import (
    chi2_probability,
    count_probability,
    difference_distances,
    quality_truth_bins,
)
from remu.errors import InsufficientStatisticsError


def make(n_events, shift=0.0, seed=0, n_reco=4, n_truth=5, **kwargs):
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, n_reco + 1))
    truth = binning.LinearBinning("true_x", np.linspace(0.0, 10.0, n_truth + 1))
    rm = migration.ResponseMatrix(reco, truth, **kwargs)
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 10.0, n_events)
    r = np.where(rng.random(n_events) < 0.8, t + shift + rng.normal(0, 1.0, n_events), np.nan)
    rm.fill(np.rec.fromarrays([t, r], names="true_x,reco_x"))
    return rm


@pytest.fixture(scope="module")
def pair():
    return make(5000, seed=1), make(5000, seed=2)


def test_distance_shapes(pair):
    a, b = pair
    d = matrix_utils.mahalanobis_distance(a, b, rng=1)
    assert d.shape == (5,)
    d2, dfm = matrix_utils.mahalanobis_distance(a, b, return_distances_from_mean=True, rng=1)
    assert dfm.shape == (104, 5)
    assert np.all(d2 >= 0)
    assert np.all(dfm >= 0)
    assert matrix_utils.mahalanobis_distance(a, b, shape=(5, 1), rng=1).shape == (5, 1)
    d3, dfm3 = matrix_utils.mahalanobis_distance(
        a, b, shape=(1, 5), N=50, return_distances_from_mean=True, rng=1
    )
    assert d3.shape == (1, 5)
    assert dfm3.shape == (50, 1, 5)


def test_distance_reproducible_and_global_seed(pair):
    a, b = pair
    assert_array_equal(
        matrix_utils.mahalanobis_distance(a, b, rng=3),
        matrix_utils.mahalanobis_distance(a, b, rng=3),
    )
    np.random.seed(8)
    x = matrix_utils.mahalanobis_distance(a, b)
    np.random.seed(8)
    assert_array_equal(x, matrix_utils.mahalanobis_distance(a, b))


def test_identical_matrices_have_zero_distance(pair):
    a, _ = pair
    d = matrix_utils.mahalanobis_distance(a, a.clone(), rng=2)
    assert_allclose(d, 0.0, atol=1e-20)
    count, chi2 = matrix_utils.compatibility(a, a.clone(), rng=2)
    assert count == 1.0
    assert chi2 == pytest.approx(1.0)


def test_compatible_versus_incompatible(pair):
    a, b = pair
    count, chi2 = matrix_utils.compatibility(a, b, rng=4)
    assert isinstance(count, float)
    assert count > 0.01
    assert chi2 > 0.001
    shifted = make(5000, shift=1.5, seed=3)
    count, chi2 = matrix_utils.compatibility(a, shifted, rng=4)
    assert count < 0.01
    assert chi2 < 1e-6


def test_compatibility_return_all(pair):
    a, b = pair
    res = matrix_utils.compatibility(a, b, min_quality=0.0, return_all=True, rng=5)
    count, chi2, null, distances, df = res
    assert chi2 == pytest.approx(stats.chi2.sf(null, 20))
    assert df == 20
    assert isinstance(df, int)
    assert distances.shape == (104,)
    assert np.ndim(null) == 0
    assert count == float(np.sum(distances >= null)) / 104


def test_compatibility_needs_quality_bins():
    a, b = make(3, seed=1), make(3, seed=2)
    with pytest.raises(InsufficientStatisticsError, match="No bins with required quality") as info:
        matrix_utils.compatibility(a, b)
    assert isinstance(info.value, RuntimeError)  # what ReMU raises
    expected = matrix_utils._expected_mahalanobis_distance(a, b)
    best = int(np.argmax(expected))
    message = str(info.value)
    assert "0.95 * 4 = 3.8" in message
    assert f"{expected[best]:.3g} in truth bin {best}" in message
    assert InsufficientStatisticsError.__doc__
    assert "InsufficientStatisticsError" in remu.errors.__all__
    # the same matrices pass with a lower threshold
    count, _ = matrix_utils.compatibility(a, b, min_quality=0.0, rng=1)
    assert 0.0 <= count <= 1.0


def test_quality_selection_threshold():
    a, b = make(5000, seed=1), make(20, seed=2)
    expected = matrix_utils._expected_mahalanobis_distance(a, b)
    assert 0 < expected.max() < 4  # b is sparse: some bins pass lower thresholds only
    for q in (0.0, 0.3, 0.6):
        picked = quality_truth_bins(a, b, q)
        assert picked == [j for j in range(5) if expected[j] >= q * 4]
        assert picked
        assert all(type(j) is int for j in picked)
    assert quality_truth_bins(a, b, 0.0) == [0, 1, 2, 3, 4]
    with pytest.raises(InsufficientStatisticsError, match="the largest is"):
        quality_truth_bins(a, b, 1.0)


def test_compatibility_degrees_of_freedom_count_the_bins_used(pair):
    a, b = pair
    mask = np.array([True, False, True, False, False])
    by_mask = matrix_utils.compatibility(a, b, truth_indices=mask, return_all=True, rng=9)
    by_list = matrix_utils.compatibility(a, b, truth_indices=[0, 2], return_all=True, rng=9)
    assert by_mask[4] == by_list[4] == 8  # two truth bins of 4 reco bins
    assert by_mask[0] == by_list[0]
    assert by_mask[1] == by_list[1]
    assert_array_equal(by_mask[3], by_list[3])
    # a repeated bin counts twice, as its distance does
    repeated = matrix_utils.compatibility(a, b, truth_indices=[2, 2], return_all=True, rng=9)
    assert repeated[4] == 8


def test_count_and_chi2_probabilities():
    throws = np.array([0.5, 1.0, 2.0, 2.0, 7.0])
    assert count_probability(throws, 2.0) == 0.6  # ties count as "at least as far"
    assert count_probability(throws, 100.0) == 0.0
    assert type(count_probability(throws, 0.0)) is float
    p = chi2_probability(3.0, 3)
    assert type(p) is np.float64
    assert p == pytest.approx(stats.chi2.sf(3.0, 3))


def test_expected_distance():
    a, b = make(5000, seed=1), make(20, seed=2)
    exp = matrix_utils._expected_mahalanobis_distance(a, b)
    n_b = b.get_response_entries_as_ndarray(shape=(4, 5)).sum(axis=0)
    # 1 reco variable: prior events min(4, 3) = 3
    assert_allclose(exp, 4 * np.minimum(1.0, n_b / 6.0))
    full = matrix_utils._expected_mahalanobis_distance(a, a)
    assert_array_equal(full, 4.0)


def test_truth_indices_order_and_duplicates(pair):
    a, b = pair
    d = matrix_utils.mahalanobis_distance(a, b, truth_indices=[3, 1, 3], N=300, rng=6)
    assert d.shape == (3,)
    assert d[0] == d[2]
    with pytest.raises(ValueError, match="out of range"):
        matrix_utils.mahalanobis_distance(a, b, truth_indices=[7])


def test_size_mismatch_and_singular():
    a = make(100, seed=1)
    b = make(100, seed=1, n_truth=4)
    with pytest.raises(ValueError, match="different sizes"):
        matrix_utils.mahalanobis_distance(a, b)
    with pytest.raises(np.linalg.LinAlgError):
        matrix_utils.mahalanobis_distance(a, a.clone(), N=3, rng=1)
    with pytest.raises(np.linalg.LinAlgError, match="N must exceed N_reco=4"):
        matrix_utils.mahalanobis_distance(a, a.clone(), N=4, rng=1)
    with pytest.raises(ValueError, match="N must be an int"):
        matrix_utils.mahalanobis_distance(a, a.clone(), N=1.5, rng=1)


def test_batched_distances_equal_per_bin_loop():
    rng = np.random.default_rng(0)
    A = rng.random((60, 3, 4))
    B = rng.random((60, 3, 4))
    m = rng.normal(size=(3, 4))
    d, throws = difference_distances(A, B, m, with_throws=True)
    for j in range(4):
        D = A[:, :, j] - B[:, :, j]
        inv = np.linalg.inv(np.cov(D, rowvar=False))
        assert d[j] == pytest.approx(m[:, j] @ inv @ m[:, j], rel=1e-9)
        dev = D - m[:, j]
        assert_allclose(throws[:, j], np.einsum("nk,kl,nl->n", dev, inv, dev), rtol=1e-9)


def test_block_mahalanobis2():
    X = np.random.default_rng(1).normal(size=(7, 2, 3))
    mu = np.ones((2, 3))
    inv = np.stack([np.eye(3), 2 * np.eye(3)])
    D = matrix_utils._block_mahalanobis2(X, mu, inv)
    assert D.shape == (7, 2)
    assert_allclose(D[:, 1], 2 * ((X[:, 1] - 1) ** 2).sum(axis=-1))


# ---------------------------------------------------------------------------
# Regression: the distances and both p-values, recomputed here from the same
# random matrices with a deliberately different NumPy formula (a loop over truth
# bins with np.cov and np.linalg.solve, instead of the batched einsum/inverse).

REGRESSION_PAIRS = {
    "similar": ({"n_events": 3000, "seed": 1}, {"n_events": 2000, "seed": 2, "shift": 0.3}),
    "sparse": ({"n_events": 40, "seed": 3}, {"n_events": 500, "seed": 4}),
    "shifted": ({"n_events": 4000, "seed": 5}, {"n_events": 4000, "seed": 6, "shift": 1.0}),
    "wide": (
        {"n_events": 6000, "seed": 7, "n_reco": 7, "n_truth": 6},
        {"n_events": 6000, "seed": 8, "n_reco": 7, "n_truth": 6},
    ),
}


def _independent_distances(first, second, truth_indices, n_throws, seed):
    """Null distance and per-throw distances per truth bin, one bin at a time.

    The random matrices are drawn as the implementation draws them: one
    generator seeded with ``seed``, all (sorted, unique) truth bins of the first
    matrix at once, then those of the second.
    """
    gen = np.random.default_rng(seed)
    cols = np.unique(truth_indices)
    toys_a = first.generate_random_response_matrices(size=n_throws, truth_indices=cols, rng=gen)
    toys_b = second.generate_random_response_matrices(size=n_throws, truth_indices=cols, rng=gen)
    mean_a = first.get_mean_response_matrix_as_ndarray(truth_indices=cols)
    mean_b = second.get_mean_response_matrix_as_ndarray(truth_indices=cols)
    null, throws = {}, {}
    for k, j in enumerate(cols):
        diff = toys_a[:, :, k] - toys_b[:, :, k]  # (throws, reco)
        cov = np.cov(diff, rowvar=False)
        m = mean_a[:, k] - mean_b[:, k]
        null[j] = float(m @ np.linalg.solve(cov, m))
        dev = diff - m
        throws[j] = np.array([d @ np.linalg.solve(cov, d) for d in dev])
    return (
        np.array([null[j] for j in truth_indices]),
        np.stack([throws[j] for j in truth_indices], axis=1),
    )


@pytest.mark.parametrize("name", sorted(REGRESSION_PAIRS))
@pytest.mark.parametrize("seed", [0, 11])
def test_distances_match_independent_per_bin_formula(name, seed):
    kw_a, kw_b = REGRESSION_PAIRS[name]
    a, b = make(**kw_a), make(**kw_b)
    n_truth = a.truth_binning.data_size
    n_reco = a.reco_binning.data_size
    null, throws = _independent_distances(a, b, list(range(n_truth)), n_reco + 100, seed)
    assert_allclose(matrix_utils.mahalanobis_distance(a, b, rng=seed), null, rtol=1e-8)
    picked = [2, 0, 2]
    null_p, throws_p = _independent_distances(a, b, picked, 150, seed)
    d, t = matrix_utils.mahalanobis_distance(
        a, b, N=150, truth_indices=picked, return_distances_from_mean=True, rng=seed
    )
    assert_allclose(d, null_p, rtol=1e-8)
    assert_allclose(t, throws_p, rtol=1e-8, atol=1e-12)
    assert throws.shape == (n_reco + 100, n_truth)


@pytest.mark.parametrize("name", sorted(REGRESSION_PAIRS))
@pytest.mark.parametrize("seed", [0, 11])
def test_compatibility_matches_independent_formula(name, seed):
    kw_a, kw_b = REGRESSION_PAIRS[name]
    a, b = make(**kw_a), make(**kw_b)
    n_reco = a.reco_binning.data_size
    # the selection: truth bins whose rough expected distance reaches half of N_reco
    n_a = a.get_response_entries_as_ndarray(shape=(n_reco, -1)).sum(axis=0)
    n_b = b.get_response_entries_as_ndarray(shape=(n_reco, -1)).sum(axis=0)
    prior_events = min(n_reco, 3)
    expected = n_reco * np.clip(np.minimum(n_a, n_b) / (2 * prior_events), 0, 1)
    selected = [j for j, e in enumerate(expected) if e >= 0.5 * n_reco]
    count, chi2, null, distances, df = matrix_utils.compatibility(
        a, b, min_quality=0.5, return_all=True, rng=seed
    )
    null_bins, throw_bins = _independent_distances(a, b, selected, n_reco + 100, seed)
    assert df == len(selected) * n_reco
    assert null == pytest.approx(null_bins.sum(), rel=1e-8)
    assert_allclose(distances, throw_bins.sum(axis=1), rtol=1e-8)
    assert count == pytest.approx(np.mean(throw_bins.sum(axis=1) >= null_bins.sum()), abs=1e-12)
    assert chi2 == pytest.approx(stats.chi2.sf(null_bins.sum(), df), rel=1e-6)
    # the short form returns the same two numbers, typed as the reference types them
    short = matrix_utils.compatibility(a, b, min_quality=0.5, rng=seed)
    assert short == (count, chi2)
    assert type(short[0]) is float
    assert type(short[1]) is np.float64
    assert type(null) is np.float64


@pytest.mark.parametrize("seed", [0, 11])
def test_compatibility_with_explicit_truth_indices_and_n(pair, seed):
    a, b = pair
    count, chi2, null, distances, df = matrix_utils.compatibility(
        a, b, truth_indices=[1, 3], N=120, return_all=True, rng=seed
    )
    null_bins, throw_bins = _independent_distances(a, b, [1, 3], 120, seed)
    assert df == 8
    assert chi2 == pytest.approx(stats.chi2.sf(null_bins.sum(), 8), rel=1e-6)
    assert distances.shape == (120,)
    assert null == pytest.approx(null_bins.sum(), rel=1e-8)
    assert_allclose(distances, throw_bins.sum(axis=1), rtol=1e-8)
    assert count == pytest.approx(np.mean(throw_bins.sum(axis=1) >= null_bins.sum()), abs=1e-12)


@pytest.mark.parametrize("name", matrix_utils.__all__)
def test_public_functions_have_numpy_docstrings_with_examples(name):
    doc = getattr(matrix_utils, name).__doc__
    for section in ("Parameters", "Returns", "Raises", "Examples"):
        assert f"\n    {section}\n    {'-' * len(section)}\n" in doc, section
    assert "\n    >>> " in doc
