"""MinuitMaximizer against BasinHoppingMaximizer, the Poisson Hessian and likelihood scans.

These tests import the real iminuit (the ``iminuit`` extra; ``make venv`` installs it).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import sys

import iminuit
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import optimize

from numeric_asserts import assert_allclose
from remu.likelihood import (
    BasinHoppingMaximizer,
    HypothesisTester,
    LikelihoodCalculator,
    MatrixPredictor,
    MinuitMaximizer,
    PoissonData,
    TemplatePredictor,
)


def detector(n_syst: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    truth = np.linspace(0.0, 1.0, 10)
    smearing = np.exp(-0.5 * ((np.linspace(0, 1, 7)[:, None] - truth) / 0.15) ** 2)
    nominal = smearing / smearing.sum(axis=0) * 0.7
    variations = rng.uniform(0.95, 1.05, size=(n_syst, 1, 10)) if n_syst > 1 else np.ones(1)
    return nominal * variations


TEMPLATES = np.array(
    [
        np.exp(-((np.linspace(0, 1, 10) - 0.3) ** 2) / 0.04),
        np.exp(-((np.linspace(0, 1, 10) - 0.7) ** 2) / 0.04),
        np.ones(10),
    ]
)
TEMPLATES /= TEMPLATES.sum(axis=1, keepdims=True)
WEIGHTS = np.array([300.0, 200.0, 150.0])


def calculator(n_syst: int = 1, n_templates: int = 3) -> LikelihoodCalculator:
    """Templates folded through a detector with ``n_syst`` variations (marginal)."""
    matrices = np.atleast_3d(detector(n_syst)).reshape(-1, 7, 10)
    data = np.random.default_rng(5).poisson(
        matrices[0] @ (WEIGHTS[:n_templates] @ TEMPLATES[:n_templates])
    )
    calc = LikelihoodCalculator(
        PoissonData(data), MatrixPredictor(matrices, bounds=[(0, np.inf)] * 10)
    )
    return calc.compose(TemplatePredictor(TEMPLATES[:n_templates]))


def folded(calc: LikelihoodCalculator) -> np.ndarray:
    """The linear map of the composed predictor, ``(n_syst, n_bins, n_parameters)``."""
    eye = np.eye(len(calc.predictor.defaults))
    columns = np.asarray(calc.predictor(eye)[0])  # (n_par, n_syst, n_bins)
    return np.moveaxis(columns, 0, -1)


def poisson_hessian(calc: LikelihoodCalculator, x: np.ndarray) -> np.ndarray:
    """The Hessian of -log L of a marginal likelihood over linear variations, by hand.

    log L = log sum_s w_s L_s; with the posterior weights p_s of the variations, the
    gradients g_s and Hessians H_s of log L_s:
    d2 log L = sum_s p_s (H_s + g_s g_s^T) - (sum_s p_s g_s)(sum_s p_s g_s)^T.
    """
    k = np.asarray(calc.data_model.data_vector, dtype=float)
    a = folded(calc)
    mu = a @ x  # (S, B)
    log_l = np.sum(k * np.log(mu) - mu, axis=-1)
    p = np.exp(log_l - log_l.max())
    p /= p.sum()
    g = np.einsum("sb,sbi->si", k / mu - 1.0, a)
    h = -np.einsum("sb,sbi,sbj->sij", k / mu**2, a, a)
    mean_g = p @ g
    second = np.einsum("s,sij->ij", p, h + np.einsum("si,sj->sij", g, g)) - np.outer(mean_g, mean_g)
    return -second


@pytest.mark.parametrize("n_syst", [1, 20])
def test_fits_agree_with_basin_hopping(n_syst):
    calc = calculator(n_syst)
    minuit = MinuitMaximizer()(calc)
    basin = BasinHoppingMaximizer()(calc, rng=0)
    assert minuit.success
    assert minuit.log_likelihood == pytest.approx(basin.log_likelihood, abs=2e-4)
    assert minuit.log_likelihood == pytest.approx(-minuit.fun)
    assert_allclose(minuit.x, basin.x, atol=0.05 * np.max(minuit.errors))
    assert minuit.nfev > 0
    assert "MIGRAD: valid minimum" in minuit.message
    assert minuit.errors.shape == (3,)
    assert minuit.covariance.shape == (3, 3)
    assert isinstance(minuit.minuit, iminuit.Minuit)
    assert "minos" not in minuit


@pytest.mark.parametrize("n_syst", [1, 20])
def test_hesse_covariance_is_the_inverse_poisson_hessian(n_syst):
    calc = calculator(n_syst)
    fit = MinuitMaximizer(tol=1e-4)(calc)
    expected = np.linalg.inv(poisson_hessian(calc, fit.x))
    assert_allclose(fit.covariance, expected, rtol=2e-3, atol=1e-6 * np.max(np.abs(expected)))
    assert_allclose(fit.errors, np.sqrt(np.diag(expected)), rtol=1e-3)


def test_minos_intervals_match_a_likelihood_scan():
    calc = calculator(1, n_templates=2)
    fit = MinuitMaximizer(minos=True, tol=1e-4)(calc)
    assert fit.minos.shape == (2, 2)
    assert np.all(fit.minos_valid)
    best = BasinHoppingMaximizer()(calc, rng=0).log_likelihood
    for i in range(2):

        def excess(value, i=i):
            fixed = [None, None]
            fixed[i] = value
            profiled = BasinHoppingMaximizer()(calc.fix_parameters(fixed), rng=0)
            return best - profiled.log_likelihood - 0.5

        x, sigma = fit.x[i], fit.errors[i]
        lower = optimize.brentq(excess, x - 4 * sigma, x, xtol=1e-6 * sigma)
        upper = optimize.brentq(excess, x, x + 4 * sigma, xtol=1e-6 * sigma)
        assert_allclose(fit.x[i] + fit.minos[i], [lower, upper], atol=5e-3 * sigma)
        # Poisson intervals are asymmetric: the upper side is the longer one
        assert fit.minos[i, 1] > -fit.minos[i, 0]


def test_minos_for_chosen_parameters_only():
    fit = MinuitMaximizer(minos=[2], cl=0.9)(calculator(1))
    assert np.all(np.isnan(fit.minos[:2]))
    assert not np.any(fit.minos_valid[:2])
    assert fit.minos_valid[2]
    assert fit.minos[2, 0] < 0 < fit.minos[2, 1]
    one_sigma = MinuitMaximizer(minos=[2])(calculator(1)).minos[2]
    assert fit.minos[2, 1] > one_sigma[1]  # 90 % is wider than 68 %
    assert "MINOS: 1 of 1 intervals valid" in fit.message
    with pytest.raises(IndexError, match="minos names parameter 3"):
        MinuitMaximizer(minos=[3])(calculator(1))


def test_every_tester_method_accepts_it():
    tester = HypothesisTester(calculator(20), maximizer=MinuitMaximizer())
    values = [
        tester.likelihood_p_value(WEIGHTS, N=100, rng=1),
        tester.max_likelihood_p_value(N=20, rng=2),
        tester.max_likelihood_p_value([None, 200.0, None], N=20, rng=2),
        tester.max_likelihood_ratio_p_value([None, 200.0, None], N=20, rng=3),
        tester.wilks_max_likelihood_ratio_p_value([None, 200.0, None]),
        *tester.wilks_max_likelihood_ratio_p_values([[None, 200.0, None], [300.0, None, None]]),
    ]
    for value in values:
        assert 0.0 <= float(value) <= 1.0


def test_toys_by_the_engine_are_never_worse_than_minuit_per_toy():
    calc = calculator(20)
    engine = HypothesisTester(calc, maximizer=MinuitMaximizer())
    per_toy = HypothesisTester(calc, maximizer=MinuitMaximizer(toy_fits="minuit"))
    fast = engine.max_likelihood_p_value(N=40, rng=7, return_toys=True)
    slow = per_toy.max_likelihood_p_value(N=40, rng=7, return_toys=True)
    # the same toys (blocks do not depend on the fits), maxima at least Minuit's own
    assert np.all(fast.toys >= slow.toys - 1e-6), np.min(fast.toys - slow.toys)
    assert_allclose(fast.toys, slow.toys, atol=2e-4)
    assert fast.observed >= slow.observed - 1e-6


def test_toys_by_the_engine_equal_basin_hopping():
    # The toys and their observed statistic are the engine's fits: the same numbers.
    calc = calculator(20)
    minuit = HypothesisTester(calc, maximizer=MinuitMaximizer())
    basin = HypothesisTester(calc)
    a = minuit.max_likelihood_ratio_p_value([None, 200.0, None], N=30, rng=8, return_toys=True)
    b = basin.max_likelihood_ratio_p_value([None, 200.0, None], N=30, rng=8, return_toys=True)
    assert_array_equal(a.toys, b.toys)
    assert a.p_value == b.p_value


def test_toys_on_a_process_executor():
    tester = HypothesisTester(calculator(1), maximizer=MinuitMaximizer(toy_fits="minuit"))
    serial = tester.max_likelihood_p_value(N=6, rng=9, return_toys=True)
    with concurrent.futures.ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        parallel = tester.max_likelihood_p_value(N=6, rng=9, return_toys=True, executor=pool)
    assert_array_equal(parallel.toys, serial.toys)


def test_options_are_checked_and_pickle():
    with pytest.raises(ValueError, match="toy_fits must be"):
        MinuitMaximizer(toy_fits="scipy")
    with pytest.raises(ValueError, match="strategy must be 0, 1 or 2"):
        MinuitMaximizer(strategy=3)
    with pytest.raises(ValueError, match="tol must be positive"):
        MinuitMaximizer(tol=0.0)
    with pytest.raises(TypeError, match="minos must be True, False or a sequence"):
        MinuitMaximizer(minos="all")
    maximizer = pickle.loads(pickle.dumps(MinuitMaximizer(minos=[0], strategy=2)))
    assert maximizer.minos == [0]
    assert "strategy=2" in repr(maximizer)


def test_without_iminuit_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "iminuit", None)
    with pytest.raises(ImportError, match=r"remu\[iminuit\]"):
        MinuitMaximizer()(calculator(1))
