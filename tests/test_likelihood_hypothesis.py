"""HypothesisTester: p-values against their definitions, uniformity, mapper and seeds."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import optimize, stats

from extras import require
from numeric_asserts import assert_allclose
from remu import likelihood
from remu.errors import InputError
from remu.likelihood import (
    BasinHoppingMaximizer,
    HypothesisTester,
    LikelihoodCalculator,
    LikelihoodMaximizer,
    MatrixPredictor,
    PoissonData,
    TemplatePredictor,
)


def identity_tester(data=(0, 1, 2, 3), maximizer=None):
    n = len(data)
    pred = MatrixPredictor(np.eye(n), bounds=[(0, np.inf)] * n)
    calc = LikelihoodCalculator(PoissonData(list(data)), pred)
    if maximizer is None:
        return HypothesisTester(calc)
    return HypothesisTester(calc, maximizer=maximizer)


class AnalyticTemplateFit(LikelihoodMaximizer):
    """Exact maximiser for one template with free normalisation: sum(k) / sum(template)."""

    def __init__(self, template):
        self.template = np.asarray(template, dtype=float)

    def maximize_log_likelihood(self, likelihood_calculator, **_kwargs):
        k = likelihood_calculator.data_model.data_vector
        x = np.array([k.sum() / self.template.sum()])
        ll = float(likelihood_calculator(x))
        return optimize.OptimizeResult(x=x, fun=-ll, log_likelihood=ll, success=True)


class LocalFit(LikelihoodMaximizer):
    """Deterministic local L-BFGS-B fit (no randomness)."""

    def minimize(self, fun, x0, bounds, **_kwargs):
        return optimize.minimize(fun, x0, bounds=bounds, method="L-BFGS-B")


def test_defaults_and_attributes():
    tester = identity_tester()
    assert isinstance(tester.maximizer, BasinHoppingMaximizer)
    assert tester.maximizer is HypothesisTester._default_maximizer
    assert tester.likelihood_calculator.predictor.bounds.shape == (4, 2)


def test_likelihood_p_value_checked_cases():
    tester = identity_tester()
    p = tester.likelihood_p_value([0, 1, 2, 3], N=200, rng=1)
    assert p.shape == ()
    assert p == 1.0
    p = tester.likelihood_p_value([1, 1, 1, 1], N=200, rng=1)
    assert 0.0 < p < 1.0
    assert tester.likelihood_p_value([1, 1, 1, 0], N=200, rng=1) == 0.0
    assert tester.likelihood_p_value(np.ones((3, 2, 4)), N=20, rng=1).shape == (3, 2)


def test_likelihood_p_value_matches_definition():
    pred = MatrixPredictor([np.eye(3), 1.2 * np.eye(3)], weights=[1.0, 2.0])
    calc = LikelihoodCalculator(PoissonData([3, 7, 4]), pred)
    theta = np.array([4.0, 6.0, 5.0])
    got = HypothesisTester(calc).likelihood_p_value(theta, N=3000, rng=7)
    # The documented streams: a root SeedSequence from 128 bits of default_rng(7),
    # its child 0 for the first parameter vector, whose child k is block k (1024
    # toys), whose child 0 draws the block's toys.
    gen = np.random.default_rng(7)
    root = np.random.SeedSequence([int(v) for v in gen.integers(0, 2**63 - 1, size=2)])
    (vector,) = root.spawn(1)
    toys = np.concatenate(
        [
            calc._generate_toy_data(theta, size, np.random.default_rng(block.spawn(1)[0]))
            for block, size in zip(vector.spawn(3), [1024, 1024, 952], strict=True)
        ]
    )
    toy_ll = np.array([LikelihoodCalculator(PoissonData(t), pred)(theta) for t in toys])
    assert got == np.sum(calc(theta) >= toy_ll) / 3000


def test_likelihood_p_values_uniform_under_null():
    mu = np.array([20.0, 30.0, 15.0, 25.0, 40.0])
    pred = TemplatePredictor(np.eye(5))
    rng = np.random.default_rng(2024)
    datasets = rng.poisson(mu, size=(200, 5))
    p = np.array(
        [
            HypothesisTester(LikelihoodCalculator(PoissonData(d), pred)).likelihood_p_value(
                mu, N=300, rng=rng
            )
            for d in datasets
        ]
    )
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    assert 0.3 < p.mean() < 0.7


def test_max_likelihood_p_values_uniform_under_null():
    template = np.array([5.0, 10.0, 3.0, 8.0])
    pred = TemplatePredictor([template])
    rng = np.random.default_rng(99)
    datasets = rng.poisson(template, size=(200, 4))
    fit = AnalyticTemplateFit(template)
    p = np.array(
        [
            HypothesisTester(
                LikelihoodCalculator(PoissonData(d), pred), fit
            ).max_likelihood_p_value(N=100, rng=rng)
            for d in datasets
        ]
    )
    assert stats.kstest(p, "uniform").pvalue > 1e-3


def test_max_likelihood_p_value_checked_cases():
    tester = identity_tester()
    p = tester.max_likelihood_p_value(N=2, rng=3)
    assert isinstance(p, np.float64)
    assert 0.0 <= p <= 1.0
    assert tester.max_likelihood_p_value(fix_parameters=(None, None, None, 20), N=2, rng=3) == 0.0
    with pytest.raises(TypeError):
        tester.max_likelihood_p_value(N=2, systematics_index=0)


def test_max_likelihood_p_value_all_fixed_is_simple_p_value():
    tester = identity_tester(maximizer=LocalFit())
    fixed = (1.0, 1.0, 2.0, 2.0)
    p = tester.max_likelihood_p_value(fix_parameters=fixed, N=400, rng=4)
    simple = tester.likelihood_p_value(fixed, N=400, rng=4)
    assert abs(p - simple) < 0.12  # two independent estimates of the same p-value


def test_max_likelihood_ratio_p_value_checked_cases():
    tester = identity_tester()
    p = tester.max_likelihood_ratio_p_value((None, None, None, 3), N=2, rng=5)
    assert isinstance(p, np.float64)
    assert p >= 0.5
    p = tester.max_likelihood_ratio_p_value(
        (None, None, 2, 30), alternative_fix_parameters=(None, None, None, 3), N=2, rng=5
    )
    assert p == pytest.approx(0.0)
    # extra keyword arguments are accepted and ignored, as in ReMU
    tester.max_likelihood_ratio_p_value((None, None, None, 3), N=1, rng=5, foo=1)


def test_wilks_checked_cases():
    tester = identity_tester()
    assert tester.wilks_max_likelihood_ratio_p_value((0, 1, 2, 3), rng=0) == pytest.approx(1.0)
    assert tester.wilks_max_likelihood_ratio_p_value((None, None, None, 3), rng=0) == pytest.approx(
        1.0, abs=1e-3
    )
    assert tester.wilks_max_likelihood_ratio_p_value(
        (None, None, 2, 30), alternative_fix_parameters=(None, None, None, 3), rng=0
    ) == pytest.approx(0.0, abs=1e-6)
    same = tester.wilks_max_likelihood_ratio_p_value(
        (None, 1, 2, 3), alternative_fix_parameters=(None, 1, 2, 3), rng=0
    )
    assert np.isnan(same)


def test_wilks_against_chi2_of_the_statistic():
    # Saturated identity model: the free fit reproduces the data, so the maximum
    # log-likelihood ratio of fixing bins is the Poisson log-ratio at the fixed values.
    data = np.array([4, 6, 3, 9])
    tester = identity_tester(data, maximizer=LocalFit())
    fixed = (None, 8.0, None, 5.0)
    ratio = (
        stats.poisson.logpmf([6, 9], [8.0, 5.0]).sum() - stats.poisson.logpmf([6, 9], [6, 9]).sum()
    )
    got = tester.wilks_max_likelihood_ratio_p_value(fixed)
    assert got == pytest.approx(stats.chi2.sf(-2 * ratio, df=2), rel=1e-4)
    # nested alternative: one degree of freedom
    got = tester.wilks_max_likelihood_ratio_p_value(
        fixed, alternative_fix_parameters=(None, None, None, 5.0)
    )
    ratio1 = stats.poisson.logpmf(6, 8.0) - stats.poisson.logpmf(6, 6)
    assert got == pytest.approx(stats.chi2.sf(-2 * ratio1, df=1), rel=1e-4)
    # the private ratio helper returns the H0 best fit as a full parameter vector
    ratio0, theta0 = tester._max_log_likelihood_ratio(
        tester.likelihood_calculator, fixed, None, return_parameters=True
    )
    assert ratio0 == pytest.approx(ratio, abs=1e-6)
    assert_allclose(theta0, [4, 8, 3, 5], atol=1e-4)


def test_reproducible_with_global_seed_and_rng():
    tester = identity_tester((2, 3, 1))
    np.random.seed(123)
    a = tester.likelihood_p_value([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], N=50)
    b = tester.max_likelihood_p_value(N=3)
    c = tester.max_likelihood_ratio_p_value((None, None, 1.0), N=3)
    np.random.seed(123)
    assert_array_equal(tester.likelihood_p_value([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], N=50), a)
    assert tester.max_likelihood_p_value(N=3) == b
    assert tester.max_likelihood_ratio_p_value((None, None, 1.0), N=3) == c
    x = tester.likelihood_p_value([1.5, 1.5, 1.5], N=100, rng=8)
    assert tester.likelihood_p_value([1.5, 1.5, 1.5], N=100, rng=8) == x


def test_mapper_is_used_for_fits_only():
    calls = []

    def recording_map(function, items):
        items = list(items)
        calls.append(len(items))
        return map(function, items)

    tester = identity_tester((2, 3, 1), maximizer=LocalFit())
    try:
        likelihood.mapper = recording_map
        tester.likelihood_p_value([1.0, 1.0, 1.0], N=10, rng=0)
        assert calls == []  # evaluated as one vectorised call
        tester.max_likelihood_p_value(N=4, rng=0)
        assert calls == [4]
        tester.max_likelihood_ratio_p_value((None, None, 1.0), N=3, rng=0)
        assert calls == [4, 3]
        tester.wilks_max_likelihood_ratio_p_value((None, None, 1.0))
        assert calls == [4, 3]
    finally:
        likelihood.mapper = map


def test_multiprocess_pool_mapper_gives_the_same_p_values():
    multiprocess = require("multiprocess", "all")
    tester = identity_tester((2, 3))
    serial_ml = tester.max_likelihood_p_value(N=6, rng=11)
    serial_ratio = tester.max_likelihood_ratio_p_value((None, 1.0), N=4, rng=12)
    with multiprocess.Pool(2) as pool:
        try:
            likelihood.mapper = pool.map
            parallel_ml = tester.max_likelihood_p_value(N=6, rng=11)
            parallel_ratio = tester.max_likelihood_ratio_p_value((None, 1.0), N=4, rng=12)
        finally:
            likelihood.mapper = map
    # fit seeds are drawn in the caller, so the workers reproduce the serial run
    assert parallel_ml == serial_ml
    assert parallel_ratio == serial_ratio


def test_several_data_sets():
    pred = TemplatePredictor(np.eye(2))
    calc = LikelihoodCalculator(PoissonData([[2, 3], [20, 1]]), pred)
    p = HypothesisTester(calc).likelihood_p_value(
        [[2.0, 3.0], [5.0, 5.0], [1.0, 1.0]], N=200, rng=1
    )
    assert p.shape == (2, 3)
    assert p[0, 0] > 0.5
    assert p[1, 0] < 0.01


def test_errors():
    tester = identity_tester()
    with pytest.raises(ValueError, match="positive integer"):
        tester.likelihood_p_value([0, 1, 2, 3], N=0)
    with pytest.raises(ValueError, match="positive integer"):
        tester.max_likelihood_p_value(N=2.5)
    with pytest.raises(InputError, match="length 4"):
        tester.likelihood_p_value([0, 1, 2])
    with pytest.raises(InputError, match="one entry per parameter"):
        tester.max_likelihood_ratio_p_value((None, 1.0), N=2)
    with pytest.raises(InputError, match="outside its bounds"):
        tester.wilks_max_likelihood_ratio_p_value((None, None, None, -3.0))
