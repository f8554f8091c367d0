"""Data models, systematics consumers, the derivative helper and the Jeffreys prior."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal
from scipy import special, stats

from numeric_asserts import assert_allclose
from remu._likelihood.data import DataModel, JeffreysPrior, PoissonData
from remu._likelihood.derivative import derivative
from remu._likelihood.systematics import (
    MarginalLikelihoodSystematics,
    NoSystematics,
    ProfileLikelihoodSystematics,
    SystematicsConsumer,
)
from remu.errors import InputError

# --- PoissonData ------------------------------------------------------------------------


def test_poisson_checked_values():
    data = PoissonData(np.arange(4))
    assert data(np.arange(4)) == pytest.approx(-3.8027754226637804, rel=1e-14)
    assert data([1] * 4) == pytest.approx(-6.484906649788, rel=1e-12)
    assert isinstance(data(np.arange(4)), np.float64)
    assert data(np.ones((2, 3, 4))).shape == (2, 3)


counts = hnp.arrays(np.int64, st.integers(1, 6), elements=st.integers(0, 60))


@given(
    k=counts,
    mu=st.lists(st.floats(0.0, 200.0, allow_subnormal=False), min_size=6, max_size=6),
)
def test_poisson_matches_scipy_logpmf(k, mu):
    mu = np.array(mu[: len(k)])
    with np.errstate(divide="ignore"):
        expected = np.sum(stats.poisson.logpmf(k, mu))
    got = PoissonData(k).log_likelihood(mu)
    if np.isneginf(expected):
        assert np.isneginf(got)
    else:
        assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_poisson_zero_and_invalid_predictions():
    data = PoissonData([0, 2])
    assert data([0.0, 2.0]) == pytest.approx(stats.poisson.logpmf(2, 2.0))
    assert data([1.0, 0.0]) == -np.inf  # mu = 0 with k > 0
    assert data([-1.0, 2.0]) == -np.inf  # negative prediction, even with k = 0
    assert data([np.inf, 2.0]) == -np.inf
    assert data([np.nan, 2.0]) == -np.inf
    assert data([[0.0, 2.0], [0.0, 0.0]])[1] == -np.inf


def test_poisson_multiple_data_sets_broadcast():
    k = np.array([[0, 1, 2, 3], [4, 0, 1, 1]])
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.1, 5.0, size=(3, 5, 4))
    got = PoissonData(k)(mu)
    assert got.shape == (2, 3, 5)
    expected = stats.poisson.logpmf(k[:, None, None, :], mu[None]).sum(axis=-1)
    assert_allclose(got, expected, rtol=1e-12)


def test_poisson_data_conversion_and_errors():
    assert_array_equal(PoissonData([1.7, 2.2]).data_vector, [1, 2])
    assert PoissonData([1.7, 2.2]).data_vector.dtype.kind == "i"
    with pytest.raises(InputError, match="non-negative"):
        PoissonData([1, -1, 2])
    with pytest.raises(InputError, match="finite"):
        PoissonData([1.0, np.nan])
    with pytest.raises(InputError, match="finite"):
        PoissonData([1.0, np.inf])
    with pytest.raises(TypeError, match="numbers"):
        PoissonData(["a", "b"])
    with pytest.raises(InputError, match="at least one bin"):
        PoissonData(3)
    with pytest.raises(InputError, match="3 bins"):
        PoissonData([1, 2, 3])([1.0, 2.0])


def test_poisson_toy_shapes_and_reproducibility():
    mu = np.arange(4.0)
    assert PoissonData.generate_toy_data(mu).shape == (4,)
    assert PoissonData.generate_toy_data(mu, size=10).shape == (10, 4)
    assert PoissonData.generate_toy_data(mu, size=(3, 5)).shape == (3, 5, 4)
    assert PoissonData.generate_toy_data([1.0, 2.0], size=2).shape == (2, 2)
    assert_array_equal(
        PoissonData.generate_toy_data(mu, size=50, rng=7),
        PoissonData.generate_toy_data(mu, size=50, rng=7),
    )
    np.random.seed(11)
    a = PoissonData.generate_toy_data(mu, size=50)
    np.random.seed(11)
    b = PoissonData.generate_toy_data(mu, size=50)
    assert_array_equal(a, b)
    assert not np.array_equal(a, PoissonData.generate_toy_data(mu, size=50))
    with pytest.raises(ValueError, match="finite and >= 0"):
        PoissonData.generate_toy_data([-1.0, 1.0])
    toy = PoissonData.generate_toy_data_model(mu, rng=1)
    assert isinstance(toy, PoissonData)
    assert toy.data_vector.shape == (4,)


def test_poisson_toys_have_poisson_mean():
    toys = PoissonData.generate_toy_data(np.array([0.5, 20.0]), size=20000, rng=5)
    assert_allclose(toys.mean(axis=0), [0.5, 20.0], rtol=0.03)


def test_data_model_is_abstract():
    model = DataModel([1, 2])
    assert_array_equal(model.data_vector, [1, 2])
    with pytest.raises(NotImplementedError, match="subclass"):
        model([1.0, 2.0])
    with pytest.raises(NotImplementedError, match="subclass"):
        DataModel.generate_toy_data([1.0])
    with pytest.raises(NotImplementedError):
        DataModel.generate_toy_data_model([1.0])


# --- systematics consumers --------------------------------------------------------------

log_likelihoods = hnp.arrays(
    float,
    hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
    elements=st.one_of(st.floats(-800.0, 10.0), st.just(-np.inf)),
)


@given(ll=log_likelihoods, data=st.data())
def test_marginal_is_log_of_weighted_mean_likelihood(ll, data):
    weights = data.draw(
        hnp.arrays(float, ll.shape[-1:], elements=st.floats(0.0, 10.0, allow_subnormal=False))
    )
    if weights.sum() <= 0:
        weights[0] = 1.0
    got = MarginalLikelihoodSystematics.consume_axis(ll, weights)
    # scipy's logsumexp itself over/underflows internally for tiny weights
    with np.errstate(all="ignore"):
        expected = special.logsumexp(ll, b=weights / weights.sum(), axis=-1)
    assert got.shape == ll.shape[:-1]
    with np.errstate(under="ignore"):  # comparing tiny numbers
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ll", [[0.0, 0.0], [-3.32995481e-105, 0.0]])
def test_marginal_tiny_weights_do_not_raise(ll):
    # found by hypothesis: the smallest normal weight underflows when normalised
    ll = np.array(ll)
    got = MarginalLikelihoodSystematics.consume_axis(ll, np.array([4.0, 2.2250738585072014e-308]))
    assert_allclose(got, 0.0, atol=1e-15)


def test_marginal_simple_cases():
    x = np.array([[0.1, 0.2, 0.6], [1e-300, 1e-310, 0.0]])
    with np.errstate(divide="ignore", under="ignore"):
        lx = np.log(x)
    got = MarginalLikelihoodSystematics.consume_axis(lx)
    assert_allclose(got[0], np.log(0.3))
    # far beyond the range of exp(): still the log of the mean
    big = np.array([-2000.0, -2001.0])
    assert_allclose(
        MarginalLikelihoodSystematics.consume_axis(big),
        -2000.0 + np.log((1 + np.exp(-1.0)) / 2),
    )
    assert MarginalLikelihoodSystematics.consume_axis(np.array([-np.inf, -np.inf])) == -np.inf
    assert MarginalLikelihoodSystematics.consume_axis(np.array([np.inf, -1.0])) == np.inf
    # a zero weight removes its variation, without floating-point errors
    assert_allclose(
        MarginalLikelihoodSystematics.consume_axis(np.array([-1.0, -50.0]), np.array([1.0, 0.0])),
        -1.0,
    )
    # weights broadcast along trailing axes: data sets (2,) x parameters (3,) x systematics (4,)
    ll = np.random.default_rng(0).normal(-10, 3, size=(2, 3, 4))
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=(3, 4))
    expected = special.logsumexp(ll, b=w / w.sum(axis=-1, keepdims=True), axis=-1)
    assert_allclose(MarginalLikelihoodSystematics.consume_axis(ll, w), expected, rtol=1e-12)
    with pytest.raises(TypeError):
        MarginalLikelihoodSystematics.consume_axis(np.float64(1.0))


def test_profile_and_no_systematics():
    ll = np.array([[-1.0, -3.0, -2.0], [-np.inf, -5.0, -6.0]])
    assert_array_equal(ProfileLikelihoodSystematics.consume_axis(ll, np.ones(3)), [-1.0, -5.0])
    assert NoSystematics.consume_axis(ll) is ll
    assert_array_equal(ProfileLikelihoodSystematics()(ll), [-1.0, -5.0])
    assert_allclose(MarginalLikelihoodSystematics()(np.log([[0.5, 1.5]])), [0.0], atol=1e-15)
    with pytest.raises(NotImplementedError, match="subclass"):
        SystematicsConsumer.consume_axis(ll)


# --- derivative -------------------------------------------------------------------------


def test_derivative_orders():
    assert derivative(np.sin, 0.3, dx=1e-5) == pytest.approx(np.cos(0.3), rel=1e-9)
    assert derivative(np.sin, 0.3, dx=1e-4, n=2) == pytest.approx(-np.sin(0.3), rel=1e-5)
    x0 = np.array([0.1, 0.5, 2.0])
    assert_allclose(derivative(np.exp, x0, dx=1e-6), np.exp(x0), rtol=1e-8)
    assert_allclose(derivative(np.exp, x0, dx=[1e-6, 1e-5, 1e-4]), np.exp(x0), rtol=1e-7)
    assert derivative(lambda x: x**2, 3.0, dx=np.array([1e-3])) == pytest.approx(6.0)
    assert derivative(lambda x, a: a * x, 1.0, args=(4.0,)) == pytest.approx(4.0)
    # the reference's fallback formula for n >= 3 (not a derivative), reproduced
    h = 1e-2
    got = derivative(lambda x: x**3, 1.0, dx=h, n=3)
    values = [(1.0 + i * h) ** 3 for i in range(4)]
    assert got == pytest.approx(values[1] / h - values[2] / h**2 + values[3] / h**3)
    with pytest.raises(TypeError):
        derivative(lambda x: x, [1.0, 2.0])


# --- JeffreysPrior ----------------------------------------------------------------------

R_CHECKED = np.array([[0.5, 0.1], [0.2, 0.6], [0.1, 0.1]])


def test_jeffreys_checked_example():
    prior = JeffreysPrior(R_CHECKED, lambda x: x, [(0, None), (0, None)], [1, 1], dx=1e-3)
    theta = np.array([1.0, 2.0])
    assert_allclose(
        prior.fisher_matrix(theta),
        [[0.41904762, 0.19047619], [0.19047619, 0.3047619]],
        rtol=1e-7,
    )
    assert prior(theta) == pytest.approx(-1.1960986258420983, rel=1e-10)
    assert prior.response_matrix.shape == (1, 3, 2)
    assert_array_equal(prior.lower_limits, [0, 0])
    assert_array_equal(prior.upper_limits, [np.inf, np.inf])


def test_jeffreys_matches_analytic_fisher_for_linear_model():
    rng = np.random.default_rng(4)
    matrices = rng.uniform(0.05, 1.0, size=(2, 3, 4, 3))
    theta = np.array([2.0, 5.0, 1.0])
    prior = JeffreysPrior(matrices, lambda x: x, [(0, 100)] * 3, [1, 1, 1])
    assert prior.response_matrix.shape == (6, 4, 3)
    for toy in (0, 5):
        r = prior.response_matrix[toy]
        mu = r @ theta
        fisher = np.einsum("ri,rj,r->ij", r, r, 1 / mu)
        assert_allclose(prior.fisher_matrix(theta, toy_index=toy), fisher, rtol=1e-6)
        assert prior(theta, toy_index=toy) == pytest.approx(
            0.5 * np.linalg.slogdet(fisher)[1], rel=1e-6
        )
    # per-parameter steps
    prior = JeffreysPrior(matrices, lambda x: x, [(0, 100)] * 3, [1, 1, 1], dx=[1e-3, 2e-3, 1e-4])
    assert_allclose(
        prior.fisher_matrix(theta),
        np.einsum("ri,rj,r->ij", matrices[0, 0], matrices[0, 0], 1 / (matrices[0, 0] @ theta)),
        rtol=1e-6,
    )


def test_jeffreys_limits_and_empty_bins():
    r = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # last reco bin never filled
    prior = JeffreysPrior(r, lambda x: x, [(0, 10), (None, 5)], [1, 1], total_truth_limit=8)
    assert np.isfinite(prior(np.array([1.0, 2.0])))
    assert prior(np.array([-1.0, 2.0])) == -np.inf
    assert prior(np.array([1.0, 6.0])) == -np.inf
    assert prior(np.array([4.0, 4.5])) == -np.inf  # total truth 8.5 > 8
    singular = JeffreysPrior(np.array([[1.0, 1.0]]), lambda x: x, [(0, 10)] * 2, [1, 1])
    assert singular(np.array([1.0, 1.0])) == -np.inf
    with pytest.raises(InputError, match="2 parameters"):
        prior.fisher_matrix([1.0, 2.0, 3.0])
