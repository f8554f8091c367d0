"""The engine's lean log-likelihood for samplers (remu._likelihood.engine.logprob).

It must give the calculator's numbers (to rounding) wherever it is used, and step
aside wherever the engine does not apply.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from extras import require
from numeric_asserts import assert_allclose
from remu import likelihood, likelihood_utils
from remu._likelihood.engine.logprob import LogProbability, log_probability

SYSTEMATICS = [
    likelihood.MarginalLikelihoodSystematics,
    likelihood.ProfileLikelihoodSystematics,
]


def calculator(n_syst: int, systematics, seed: int = 1, counts=None):
    rng = np.random.default_rng(seed)
    templates = rng.uniform(0.1, 3.0, size=(n_syst, 3, 6))
    # non-negative predictions everywhere inside the bounds: the engine applies
    bounds = [(0.0, np.inf), (0.0, 10.0), (0.0, np.inf)]
    predictor = likelihood.TemplatePredictor(templates, constants=1.0, bounds=bounds)
    if counts is None:
        counts = rng.poisson(predictor([1.0, 2.0, 0.5])[0][0])
    return likelihood.LikelihoodCalculator(likelihood.PoissonData(counts), predictor, systematics)


points = st.lists(
    st.tuples(st.floats(-0.5, 20.0), st.floats(-0.5, 12.0), st.floats(-2.0, 5.0)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(
    points=points,
    n_syst=st.sampled_from([1, 7]),
    kind=st.sampled_from(SYSTEMATICS),
    zeros=st.booleans(),
)
def test_the_calculator_s_numbers_inside_and_outside_the_bounds(points, n_syst, kind, zeros):
    counts = [0, 0, 4, 1, 0, 9] if zeros else None
    calc = calculator(n_syst, kind, counts=counts)
    lean = log_probability(calc)
    assert isinstance(lean, LogProbability)
    x = np.array(points)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.asarray(calc(x), dtype=float)
    # where the predictions are not numbers, the calculator may say nan: emcee refuses
    # nan, so the lean function says -inf there
    expected[np.isnan(expected)] = -np.inf
    got = lean(x)
    assert got.shape == (len(x),)
    assert_array_equal(np.isfinite(got), np.isfinite(expected))
    assert_array_equal(got[np.isinf(got)], expected[np.isinf(got)])
    finite = np.isfinite(got)
    assert_allclose(got[finite], expected[finite], rtol=1e-12)
    # one point gives a float, like the calculator
    one = lean(x[0])
    assert isinstance(one, float)
    # (a batch of points and a single one may round differently in the last digit)
    assert (np.isinf(one) and np.isinf(got[0])) or one == pytest.approx(float(got[0]), rel=1e-13)


@pytest.mark.parametrize("kind", SYSTEMATICS)
def test_many_walkers_get_the_numbers_of_a_few(kind):
    # up to a few dozen coordinates the bounds are checked on Python floats, beyond on
    # arrays: both give the calculator's numbers, -inf outside the bounds
    calc = calculator(4, kind)
    lean = log_probability(calc)
    rng = np.random.default_rng(7)
    x = rng.uniform([-0.5, -0.5, -1.0], [8.0, 11.0, 3.0], size=(40, 3))
    x[::5, 1] = 10.0  # on an upper bound: inside
    x[1::5, 0] = np.nan  # not a number: outside
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.asarray(calc(x), dtype=float)
    expected[np.isnan(expected)] = -np.inf
    many = lean(x)
    few = np.concatenate([lean(x[i : i + 2]) for i in range(0, len(x), 2)])
    assert_array_equal(many, few)
    assert_array_equal(np.isneginf(many), np.isneginf(expected))
    assert np.isneginf(many[1::5]).all()
    assert np.isfinite(many[::5]).any()
    finite = np.isfinite(expected)
    assert_allclose(many[finite], expected[finite], rtol=1e-12)


@pytest.mark.parametrize("kind", SYSTEMATICS)
def test_empty_bins_that_expect_nothing_and_impossible_data(kind):
    # a bin that counts nothing and expects nothing adds 0 (the folded sum says NaN
    # there, and the row is evaluated again); a count where nothing is expected is -inf
    # two variations of two templates over three bins
    templates = np.array([[[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]], [[0.0, 1.2, 1.8], [0.9, 0.0, 1.1]]])
    predictor = likelihood.TemplatePredictor(templates)
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData([0, 3, 2]), predictor, kind)
    lean = log_probability(calc)
    assert lean is not None
    assert lean._folded.n_bins == 2  # the empty bin is only in the totals
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.5], [0.0, 0.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.asarray(calc(x), dtype=float)
    expected[np.isnan(expected)] = -np.inf
    got = lean(x)
    assert np.isfinite(got[[0, 2]]).all()
    assert np.isneginf(got[[1, 3]]).all()
    assert_array_equal(np.isneginf(got), np.isneginf(expected))
    assert_allclose(got[[0, 2]], expected[[0, 2]], rtol=1e-12)
    assert lean(x[0]) == pytest.approx(float(expected[0]), rel=1e-12)


@pytest.mark.parametrize("kind", SYSTEMATICS)
def test_empty_bins_with_a_rounding_level_negative_slope(kind):
    # the engine takes slopes down to -1e-9 of the largest entry as non-negative; in an
    # empty bin such a slope keeps that bin in the logarithm (its prediction could be
    # negative), with the same numbers
    templates = np.array(
        [[[1.0, 1.0, 2.0], [-1e-12, 0.5, 1.0]], [[1.1, 0.9, 2.0], [0.0, 0.4, 1.2]]]
    )
    predictor = likelihood.TemplatePredictor(templates)
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData([0, 3, 2]), predictor, kind)
    lean = log_probability(calc)
    assert lean is not None
    assert lean._folded.n_bins == 3  # every bin kept
    x = np.array([[1.0, 1.0], [2.0, 3.0], [0.5, 0.5]])
    assert_allclose(lean(x), calc(x), rtol=1e-12)


@pytest.mark.parametrize("kind", SYSTEMATICS)
def test_data_that_count_nothing_anywhere(kind):
    templates = np.array([[[1.0, 2.0], [0.5, 0.0]], [[1.2, 1.8], [0.4, 0.1]]])
    predictor = likelihood.TemplatePredictor(templates)
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData([0, 0]), predictor, kind)
    lean = log_probability(calc)
    x = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 0.5]])
    assert_allclose(lean(x), calc(x), rtol=1e-12)
    assert lean(x[1]) == 0.0  # nothing expected, nothing seen: probability one


def test_points_of_the_wrong_length_get_the_calculator_s_error():
    calc = calculator(3, SYSTEMATICS[0])
    lean = log_probability(calc)
    with pytest.raises(ValueError, match="3"):
        calc([1.0, 2.0])
    with pytest.raises(ValueError, match="3"):
        lean([1.0, 2.0])


def test_it_pickles_and_gives_the_same_numbers():
    calc = calculator(5, SYSTEMATICS[1])
    lean = log_probability(calc)
    x = np.array([[1.0, 2.0, 0.5], [3.0, 1.0, 0.0]])
    assert_array_equal(pickle.loads(pickle.dumps(lean))(x), lean(x))


class _Opaque(likelihood.Predictor):
    """A predictor the engine knows nothing about (it does not opt in)."""

    def __init__(self):
        super().__init__(bounds=[(0.0, np.inf)], defaults=[1.0])

    # the signature of every predictor; this one has a single variation
    def prediction(self, parameters, systematics_index=slice(None)):  # noqa: ARG002
        p = np.asarray(parameters, dtype=float)
        mu = np.stack([p[..., 0] ** 2 + 1.0, p[..., 0] + 1.0], axis=-1)
        return mu[..., np.newaxis, :], np.ones((*p.shape[:-1], 1))


def test_no_lean_function_where_the_engine_does_not_apply():
    opaque = likelihood.LikelihoodCalculator(likelihood.PoissonData([1, 2]), _Opaque())
    assert log_probability(opaque) is None
    several = calculator(2, SYSTEMATICS[0])._with_data(np.array([[1, 2, 3, 4, 5, 6]] * 2))
    assert log_probability(several) is None
    # the sampler then uses the calculator itself
    sampler = likelihood_utils.emcee_sampler(opaque)
    sampler.run_mcmc(np.array([[1.0], [1.5]]), 5)
    assert sampler.get_chain().shape == (5, 2, 1)


@pytest.mark.parametrize("kind", SYSTEMATICS)
def test_emcee_chains_are_those_of_the_calculator(kind):
    emcee = require("emcee", "mcmc")
    calc = calculator(4, kind)
    start = np.array([1.0, 2.0, 0.5]) * (
        1 + 0.01 * np.random.default_rng(2).standard_normal((6, 3))
    )
    lean = likelihood_utils.emcee_sampler(calc)
    plain = emcee.EnsembleSampler(6, 3, calc, vectorize=True)
    for sampler in (lean, plain):
        np.random.seed(11)
        sampler.run_mcmc(start, 100)
    # the same accept/reject decisions: the log-probabilities differ only by rounding
    assert_allclose(lean.get_chain(), plain.get_chain(), rtol=1e-12)
    assert_allclose(lean.get_log_prob(), plain.get_log_prob(), rtol=1e-12)


def test_the_sampler_s_lean_step_keeps_emcee_s_contract():
    emcee = require("emcee", "mcmc")
    calc = calculator(3, SYSTEMATICS[0])
    sampler = likelihood_utils.emcee_sampler(calc)
    assert isinstance(sampler, emcee.EnsembleSampler)
    x = np.array([[1.0, 2.0, 0.5], [-1.0, 2.0, 0.5], [3.0, 1.0, 1.0]])
    values, blobs = sampler.compute_log_prob(x)
    plain_values, plain_blobs = emcee.EnsembleSampler(6, 3, calc, vectorize=True).compute_log_prob(
        x
    )
    assert blobs is None
    assert plain_blobs is None
    assert values.dtype == np.float64
    assert_array_equal(np.isneginf(values), [False, True, False])
    assert_allclose(values[[0, 2]], plain_values[[0, 2]], rtol=1e-12)
    # the coordinates are checked with emcee's own errors
    for bad, what in ((np.inf, "infinite"), (np.nan, "NaN")):
        y = x.copy()
        y[1, 2] = bad
        with pytest.raises(ValueError, match=what):
            sampler.compute_log_prob(y)
    # a log-probability replaced by the user is called through emcee's own step
    seen = []

    def replaced(p):
        seen.append(len(p))
        return np.zeros(len(p))

    sampler.log_prob_fn = emcee.ensemble._FunctionWrapper(replaced, None, None)
    assert_array_equal(sampler.compute_log_prob(x)[0], np.zeros(3))
    assert seen == [3]
    # so does one whose function or extra arguments were set on emcee's wrapper
    sampler = likelihood_utils.emcee_sampler(calc)
    sampler.log_prob_fn.f = replaced
    assert_array_equal(sampler.compute_log_prob(x)[0], np.zeros(3))
    assert seen == [3, 3]
    sampler = likelihood_utils.emcee_sampler(calc)
    sampler.log_prob_fn.kwargs = {"systematics_index": 0}
    assert_allclose(sampler.compute_log_prob(x[[0]])[0], calc(x[[0]], systematics_index=0))
    # it pickles, and samples after unpickling
    again = pickle.loads(pickle.dumps(likelihood_utils.emcee_sampler(calc)))
    start = np.array([1.0, 2.0, 0.5]) * (
        1 + 0.01 * np.random.default_rng(6).standard_normal((6, 3))
    )
    again.run_mcmc(start, 3)
    assert again.get_chain().shape == (3, 6, 3)


def test_named_parameters_are_refused_by_name():
    # emcee hands named parameters to the log-probability as dicts: a calculator takes
    # vectors, so the sampler is refused before it runs (0.8.0 fails at the first step)
    calc = calculator(3, SYSTEMATICS[1])
    with pytest.raises(TypeError, match="parameter_names"):
        likelihood_utils.emcee_sampler(calc, parameter_names=["a", "b", "c"])


def test_a_pointwise_sampler_gets_emcee_s_own_step_and_the_same_chain():
    emcee = require("emcee", "mcmc")
    calc = calculator(3, SYSTEMATICS[1])
    pointwise = likelihood_utils.emcee_sampler(calc, vectorize=False)
    assert type(pointwise) is emcee.EnsembleSampler
    start = np.array([1.0, 2.0, 0.5]) * (
        1 + 0.01 * np.random.default_rng(4).standard_normal((6, 3))
    )
    lean = likelihood_utils.emcee_sampler(calc)
    for sampler in (pointwise, lean):
        np.random.seed(5)
        sampler.run_mcmc(start, 20)
    assert_allclose(lean.get_chain(), pointwise.get_chain(), rtol=1e-12)


def test_emcee_args_and_kwargs_reach_the_predictor():
    calc = calculator(3, SYSTEMATICS[0])
    start = np.array([1.0, 2.0, 0.5]) * (
        1 + 0.01 * np.random.default_rng(3).standard_normal((6, 3))
    )
    # systematics_index=0 selects one variation, through the calculator
    sampler = likelihood_utils.emcee_sampler(calc, kwargs={"systematics_index": 0})
    sampler.run_mcmc(start, 5)
    last = sampler.get_chain()[-1]
    assert_allclose(sampler.get_log_prob()[-1], calc(last, systematics_index=0), rtol=1e-12)
    assert not np.allclose(sampler.get_log_prob()[-1], calc(last))


def test_a_replaced_part_is_seen_at_the_next_call():
    calc = calculator(3, SYSTEMATICS[0])
    lean = log_probability(calc)
    x = np.array([[1.0, 2.0, 0.5], [2.0, 1.0, 1.0]])
    before = lean(x)
    calc.data_model = likelihood.PoissonData([3, 1, 4, 1, 5, 9])
    assert not np.allclose(lean(x), before)
    assert_allclose(lean(x), calc(x), rtol=1e-12)
    calc.systematics = likelihood.ProfileLikelihoodSystematics
    assert_allclose(lean(x), calc(x), rtol=1e-12)
    # a predictor the engine does not know: the calculator answers
    calc.predictor = _Opaque()
    calc.data_model = likelihood.PoissonData([1, 2])
    assert_array_equal(lean([[1.0], [2.0]]), calc([[1.0], [2.0]]))


def test_it_pickles_as_its_calculator_alone():
    calc = calculator(50, SYSTEMATICS[0])
    lean = log_probability(calc)
    assert len(pickle.dumps(lean)) < 1.1 * len(pickle.dumps(calc))


class _WithPrior(likelihood.LikelihoodCalculator):
    """A calculator with a Gaussian prior on every parameter (around 3)."""

    def log_likelihood(self, parameters, *args, **kwargs):
        prior = -10.0 * np.sum((np.asarray(parameters, dtype=float) - 3.0) ** 2, axis=-1)
        return super().log_likelihood(parameters, *args, **kwargs) + prior


class _Constrained(likelihood.TemplatePredictor):
    """Templates whose parameters must also sum to at most 15."""

    def check_bounds(self, parameters):
        inside = super().check_bounds(parameters)
        return inside & (np.sum(parameters, axis=-1) <= 15.0)


def test_overridden_likelihoods_and_bounds_are_never_bypassed():
    data = likelihood.PoissonData([10, 10])
    with_prior = _WithPrior(data, likelihood.TemplatePredictor([[1.0, 0.0], [0.0, 1.0]]))
    x = np.array([[10.0, 10.0], [3.0, 3.0]])
    # calling the calculator goes through the overridden log_likelihood, as in ReMU
    assert_array_equal(with_prior(x), with_prior.log_likelihood(x))
    assert log_probability(with_prior) is None
    fit = likelihood.BasinHoppingMaximizer()(with_prior)
    assert np.all(np.abs(fit.x - 3.0) < 0.5)  # the prior pulls the fit from (10, 10)
    constrained = likelihood.LikelihoodCalculator(
        data, _Constrained([[1.0, 0.0], [0.0, 1.0]], bounds=[(0, np.inf)] * 2)
    )
    assert log_probability(constrained) is None
    assert constrained([10.0, 10.0]) == -np.inf
    fit = likelihood.BasinHoppingMaximizer()(constrained)
    assert fit.x.sum() <= 15.0 + 1e-9
