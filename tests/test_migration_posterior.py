"""The Bayesian model on plain arrays: parameters, moments, random draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

import remu.errors
from numeric_asserts import assert_allclose
from remu._migration import posterior as P
from remu.errors import IllegalResponseError

# A worked example (4 reco x 4 truth bins, unit weights) as arrays: response
# entries [reco, truth].
E = np.array([[0, 1, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 1, 1]])
T_ENTRIES = np.array([2, 3, 2, 2])
T_VALUES = np.array([2.0, 4.0, 2.0, 2.0])
T_SUMW2 = np.array([2.0, 6.0, 2.0, 2.0])


def example_params(**kw):
    return P.stat_error_parameters(
        E, T_ENTRIES, E * 1.0, T_VALUES, E * 1.0, T_SUMW2, n_vars=2, **kw
    )


def test_worked_example_parameters():
    beta1, beta2, alpha, mu, sigma = example_params()
    assert_array_equal(beta1, [1, 3, 3, 3])
    assert_array_equal(beta2, [3, 2, 1, 1])
    assert_array_equal(alpha, [[1, 2, 1, 1], [1, 2, 1, 2], [1, 1, 2, 1], [1, 1, 2, 2]])
    expected_mu = np.ones((5, 4))
    expected_mu[2:, 1] = 4 / 3
    assert_allclose(mu, expected_mu, rtol=1e-15)
    expected_sigma = np.full((5, 4), 1e-50)
    expected_sigma[4, 1] = 0.216506
    assert_allclose(sigma, expected_sigma, rtol=1e-5)


def test_worked_example_mean_and_variance():
    params = example_params()
    assert_allclose(
        P.mean_response_matrix(params),
        [
            [0.0625, 0.15, 0.125, 0.125],
            [0.0625, 0.15, 0.125, 0.25],
            [0.0625, 0.1, 0.25, 0.125],
            [0.0625, 0.1, 0.25, 0.25],
        ],
        rtol=1e-12,
    )
    assert_allclose(
        np.diag(P.statistical_variance(params)),
        [0.0046875, 0.00952183, 0.02202381, 0.02202381],
        rtol=1e-6,
    )


def test_nuisance_and_impossible():
    params = example_params(nuisance_columns=[0], impossible_indices=[3])
    assert params.beta2[0] == P.EPS
    assert_array_equal(params.alpha[3], P.EPS)
    mean = P.mean_response_matrix(params)
    # nuisance efficiency is 1: the column sums to 1; impossible row ~ 0
    assert mean[:, 0].sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(mean[3] < 1e-40)
    # the prior is spread over the 3 possible bins only: min(1, 9/3) = 1
    assert params.alpha[0, 0] == 1.0


def test_more_reconstructed_than_true_raises():
    # column 1 has 2 reconstructed entries, but only 1 true entry
    with pytest.raises(IllegalResponseError, match="More reconstructed than true") as info:
        P.stat_error_parameters(
            E, np.array([2, 1, 2, 2]), E * 1.0, T_VALUES, E * 1.0, T_SUMW2, n_vars=1
        )
    assert isinstance(info.value, RuntimeError)  # what ReMU raises
    assert "column(s) [1]" in str(info.value)
    assert "[2] reconstructed but only [1] true" in str(info.value)


def test_all_impossible_raises():
    with pytest.raises(ValueError, match="impossible"):
        example_params(impossible_indices=[0, 1, 2, 3])


def test_normalize_matrix_leading_axes():
    M = np.array([[[0.5, 1.0], [0.25, 2.0]], [[0.1, 0.2], [0.3, 0.4]]])
    N = P.normalize_matrix(M)
    assert_allclose(N[0, :, 1], [1 / 3, 2 / 3])
    assert_allclose(N[0, :, 0], M[0, :, 0])
    assert_allclose(N[1], M[1])


@given(hnp.arrays(np.float64, (3, 4, 5), elements=st.floats(0, 10)))
def test_normalize_matrix_invariants(M):
    N = P.normalize_matrix(M)
    sums = N.sum(axis=-2)
    assert np.all(sums <= 1 + 1e-12)
    # columns at or below 1 are untouched; others are proportional
    small = M.sum(axis=-2) < 1
    assert_array_equal(N.swapaxes(-1, -2)[small], M.swapaxes(-1, -2)[small])


def _exact_product_moments(params):
    """Exact mean and variance of eff_j * p_ij (unit weights, independent factors)."""
    b1, b2, alpha = params.beta1, params.beta2, params.alpha
    b0 = b1 + b2
    e, ve = b1 / b0, b1 * b2 / (b0**2 * (b0 + 1))
    a0 = alpha.sum(axis=0)
    p, vp = alpha / a0, alpha * (a0 - alpha) / (a0**2 * (a0 + 1))
    mean = p * e
    var = (vp + p**2) * (ve + e**2) - mean**2
    return mean, var


def test_toys_reproduce_closed_form_moments():
    rng = np.random.default_rng(12345)
    counts = rng.integers(0, 30, size=(6, 5))
    truth = counts.sum(axis=0) + rng.integers(0, 20, size=5)
    params = P.stat_error_parameters(
        counts, truth, counts * 1.0, truth * 1.0, counts * 1.0, truth * 1.0, n_vars=1
    )
    toys = P.draw_response_matrices(params, 40000, np.random.default_rng(7))
    mean, var = _exact_product_moments(params)
    # closed-form posterior mean equals the estimator's mean matrix here
    assert_allclose(P.mean_response_matrix(params), mean, rtol=1e-12)
    # standard error of the sample mean is sqrt(var / n); allow 5 sigma
    assert_allclose(toys.mean(axis=0), mean, atol=5 * np.sqrt(var.max() / 40000))
    assert_allclose(toys.var(axis=0), var, rtol=0.05, atol=1e-6)
    # the first-order variance neglects only the product of the two variances
    approx = P.statistical_variance(params)
    b0 = params.beta1 + params.beta2
    ve = params.beta1 * params.beta2 / (b0**2 * (b0 + 1))
    a0 = params.alpha.sum(axis=0)
    vp = params.alpha * (a0 - params.alpha) / (a0**2 * (a0 + 1))
    assert_allclose(approx, var - vp * ve, rtol=1e-10)


def test_toys_with_weights_follow_weight_gaussian():
    # one reco bin, one truth column: R = eff * w_cell / w_truth
    counts = np.array([[4], [0]])
    params = P.stat_error_parameters(
        counts,
        np.array([4]),
        np.array([[8.0], [0.0]]),
        np.array([8.0]),
        np.array([[20.0], [0.0]]),
        np.array([20.0]),
        n_vars=1,
    )
    assert params.sigma[0, 0] > 0.1  # weights 2 vs pseudo-event 1
    toys = P.draw_response_matrices(params, 20000, np.random.default_rng(3))
    assert np.all(toys >= 0)
    assert np.all(toys.sum(axis=-2) <= 1 + 1e-12)
    # the weight ratio varies, so element [0, 0] spreads more than eff * p alone
    _mean, var = _exact_product_moments(params)
    assert toys[:, 0, 0].var() > var[0, 0]


def test_toys_reproducible_and_shapes():
    params = example_params()
    a = P.draw_response_matrices(params, (2, 3), np.random.default_rng(1))
    b = P.draw_response_matrices(params, (2, 3), np.random.default_rng(1))
    assert a.shape == (2, 3, 4, 4)
    assert_array_equal(a, b)
    assert P.draw_response_matrices(params, None, np.random.default_rng(1)).shape == (4, 4)
    assert P.draw_response_matrices(params, 0, np.random.default_rng(1)).shape == (0, 4, 4)


def test_toys_in_batches_are_valid(monkeypatch):
    monkeypatch.setattr(P, "_BATCH_ELEMENTS", 40)  # forces several batches
    params = example_params(nuisance_columns=[2], impossible_indices=[0])
    toys = P.draw_response_matrices(params, 25, np.random.default_rng(5))
    assert toys.shape == (25, 4, 4)
    assert np.all(np.isfinite(toys))
    assert np.all(toys >= 0)
    assert np.all(toys[:, 0, :] < 1e-30)
    assert_allclose(toys[:, :, 2].sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("size", [-1, "a", 1.5j])
def test_bad_size(size):
    with pytest.raises((TypeError, ValueError)):
        P.draw_response_matrices(example_params(), size, np.random.default_rng(1))


def test_dirichlet_tiny_parameters_log_space():
    rng = np.random.default_rng(11)
    alpha = np.array([[1e-50, 0.5], [1e-50, 1e-3], [1e-50, 1e-50]])
    x = P.draw_dirichlet(alpha, 500, rng)
    assert x.shape == (500, 3, 2)
    assert_allclose(x.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(x[:, 2, 1] == 0)
    # all-tiny column: one component carries everything
    assert np.all(np.isin(x[:, :, 0], [0.0, 1.0]))


def test_dirichlet_moments():
    alpha = np.array([0.3, 0.5, 1.0, 2.0])
    x = P.draw_dirichlet(alpha, 100000, np.random.default_rng(2))
    a0 = alpha.sum()
    assert_allclose(x.mean(axis=0), alpha / a0, atol=0.005)
    assert_allclose(x.var(axis=0), alpha * (a0 - alpha) / (a0**2 * (a0 + 1)), rtol=0.05)


def test_dirichlet_single_component_and_bad_alpha():
    assert_array_equal(P.draw_dirichlet([2.0], 3, np.random.default_rng(0)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="positive"):
        P.draw_dirichlet([1.0, 0.0], 3, np.random.default_rng(0))


def test_toys_without_truth_columns_or_with_one_reco_bin():
    z = np.zeros((3, 0))
    params = P.stat_error_parameters(
        z.astype(int), np.zeros(0, int), z, np.zeros(0), z, np.zeros(0), n_vars=1
    )
    assert P.draw_response_matrices(params, 4, np.random.default_rng(0)).shape == (4, 3, 0)
    one = np.array([[2]])
    params = P.stat_error_parameters(
        one, np.array([4]), one * 1.0, np.array([4.0]), one * 1.0, np.array([4.0]), n_vars=1
    )
    toys = P.draw_response_matrices(params, 2000, np.random.default_rng(0))
    # a single reco bin: the matrix is the efficiency, Beta(3, 3)
    assert toys.shape == (2000, 1, 1)
    assert toys.mean() == pytest.approx(0.5, abs=0.02)


def test_illegal_response_through_a_response_matrix():
    from remu import binning, migration

    rm = migration.ResponseMatrix(
        binning.LinearBinning("r", [0, 1, 2]), binning.LinearBinning("t", [0, 1, 2])
    )
    rm.fill(np.rec.fromarrays([[0.5, 0.5, 1.5], [0.5, 1.5, 0.5]], names="t,r"))
    rm.set_truth_entries_from_ndarray([1, 1])  # truth bin 0 holds 2 reconstructed events
    with pytest.raises(IllegalResponseError, match=r"column\(s\) \[0\]"):
        rm.get_mean_response_matrix_as_ndarray()
    assert IllegalResponseError.__doc__
    assert "IllegalResponseError" in remu.errors.__all__
