"""remu.likelihood_utils: emcee sampler and initial guesses."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import stats

from remu import likelihood_utils
from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor

BOUNDS = [(0, np.inf), (-np.inf, 1.001), (1, np.inf), (0, 1)]


def four_parameter_calc(defaults=None):
    kwargs = {} if defaults is None else {"defaults": defaults}
    pred = TemplatePredictor([np.eye(4), np.eye(4)], bounds=BOUNDS, **kwargs)
    return LikelihoodCalculator(PoissonData([1, 0, 2, 1]), pred)


def test_module_imports_only_numpy():
    code = (
        "import sys, remu.likelihood_utils; "
        "print([m for m in ('emcee', 'scipy', 'remu.likelihood', 'matplotlib') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert set(likelihood_utils.__all__) == {
        "emcee_sampler",
        "emcee_initial_guess",
        "to_pyhf_workspace",
    }


def test_emcee_run_from_initial_guess():
    calc = four_parameter_calc()
    sampler = likelihood_utils.emcee_sampler(calc)
    assert (sampler.nwalkers, sampler.ndim) == (8, 4)
    guess = likelihood_utils.emcee_initial_guess(calc, rng=1)
    assert guess.shape == (8, 4)
    state = sampler.run_mcmc(guess, 300)
    chain = sampler.get_chain()
    assert chain.shape == (300, 8, 4)
    assert np.isfinite(state.log_prob).all()
    # every sample respects the bounds (the calculator is -inf outside)
    bounds = np.array(BOUNDS)
    assert np.all((chain >= bounds[:, 0]) & (chain <= bounds[:, 1]))
    sampler = likelihood_utils.emcee_sampler(calc, nwalkers=10, vectorize=True)
    sampler.run_mcmc(likelihood_utils.emcee_initial_guess(calc, nwalkers=10, rng=2), 50)
    assert sampler.get_chain().shape == (50, 10, 4)


def test_initial_guess_distributions():
    calc = four_parameter_calc(defaults=[3.0, -1.0, 1.0, 0.5])
    guess = likelihood_utils.emcee_initial_guess(calc, nwalkers=4000, rng=3)
    assert guess.shape == (4000, 4)
    # lower bound only: 0 + exponential(scale = default - lower = 3)
    assert stats.kstest(guess[:, 0], stats.expon(scale=3.0).cdf).pvalue > 1e-3
    # upper bound only: 1.001 - exponential(scale = 1.001 - (-1))
    assert stats.kstest(1.001 - guess[:, 1], stats.expon(scale=2.001).cdf).pvalue > 1e-3
    # default on the lower bound: the scale falls back to 1
    assert stats.kstest(guess[:, 2] - 1.0, stats.expon(scale=1.0).cdf).pvalue > 1e-3
    # both bounds finite: uniform
    assert stats.kstest(guess[:, 3], stats.uniform(0, 1).cdf).pvalue > 1e-3
    free = LikelihoodCalculator(
        PoissonData([1]), TemplatePredictor([[1.0]], bounds=[(-np.inf, np.inf)], defaults=[-4.0])
    )
    normal = likelihood_utils.emcee_initial_guess(free, nwalkers=4000, rng=4)[:, 0]
    assert stats.kstest(normal, stats.norm(-4.0, 4.0).cdf).pvalue > 1e-3


def test_initial_guess_reproducible():
    calc = four_parameter_calc()
    assert_array_equal(
        likelihood_utils.emcee_initial_guess(calc, rng=5),
        likelihood_utils.emcee_initial_guess(calc, rng=5),
    )
    np.random.seed(6)
    a = likelihood_utils.emcee_initial_guess(calc)
    np.random.seed(6)
    assert_array_equal(likelihood_utils.emcee_initial_guess(calc), a)


def test_missing_emcee_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "emcee", None)
    with pytest.raises(ImportError, match=r"remu\[mcmc\]"):
        likelihood_utils.emcee_sampler(four_parameter_calc())


class CountingCalculator(LikelihoodCalculator):
    """Records the shape of every batch of parameters it is called with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = []

    def log_likelihood(self, parameters, *args, **kwargs):
        self.batches.append(np.shape(parameters))
        return super().log_likelihood(parameters, *args, **kwargs)

    __call__ = log_likelihood


def _counting_calc():
    pred = TemplatePredictor([np.eye(4), np.eye(4)], bounds=BOUNDS)
    return CountingCalculator(PoissonData([1, 0, 2, 1]), pred)


def test_emcee_evaluates_all_moving_walkers_in_one_call():
    calc = _counting_calc()
    sampler = likelihood_utils.emcee_sampler(calc, nwalkers=16)
    assert sampler.vectorize
    sampler.run_mcmc(likelihood_utils.emcee_initial_guess(calc, nwalkers=16, rng=1), 20)
    # the initial state, then half of the ensemble per call
    assert calc.batches[0] == (16, 4)
    assert set(calc.batches[1:]) == {(8, 4)}
    assert len(calc.batches) == 1 + 2 * 20


def test_vectorised_and_pointwise_chains_are_the_same():
    calc = four_parameter_calc()
    guess = likelihood_utils.emcee_initial_guess(calc, nwalkers=8, rng=3)
    chains = []
    for kwargs in ({}, {"vectorize": False}):
        np.random.seed(12)
        sampler = likelihood_utils.emcee_sampler(calc, nwalkers=8, **kwargs)
        sampler.run_mcmc(guess, 40)
        chains.append(sampler.get_chain())
    assert_array_equal(chains[0], chains[1])


def test_a_pool_or_an_explicit_choice_is_kept():
    calc = four_parameter_calc()
    assert not likelihood_utils.emcee_sampler(calc, vectorize=False).vectorize

    class SerialPool:
        def map(self, function, items):
            return list(map(function, items))

    assert not likelihood_utils.emcee_sampler(calc, pool=SerialPool()).vectorize
    several = LikelihoodCalculator(PoissonData([[1, 0, 2, 1], [2, 2, 2, 2]]), calc.predictor)
    assert not likelihood_utils.emcee_sampler(several).vectorize
