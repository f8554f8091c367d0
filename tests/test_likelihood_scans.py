"""Likelihood-ratio scans: the reused H1 fit (never stale) and the vectorised scan."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from numeric_asserts import assert_allclose
from remu._likelihood import maximizers
from remu._likelihood.engine import cache as engine_cache
from remu.errors import InputError
from remu.likelihood import (
    BasinHoppingMaximizer,
    HypothesisTester,
    LikelihoodCalculator,
    MatrixPredictor,
    PoissonData,
    Predictor,
    ProfileLikelihoodSystematics,
    TemplatePredictor,
)


def _model(systematics="marginal"):
    rng = np.random.default_rng(11)
    nominal = rng.uniform(0.05, 0.4, size=(6, 3))
    matrices = nominal * rng.uniform(0.9, 1.1, size=(20, 6, 3))
    predictor = MatrixPredictor(matrices, bounds=[(0.0, np.inf)] * 3, defaults=[10.0] * 3)
    truth = np.array([60.0, 25.0, 40.0])
    data = rng.poisson(matrices[0] @ truth)
    return LikelihoodCalculator(PoissonData(data), predictor, systematics), truth


class Exponential(Predictor):
    """Non-linear: ``a * exp(-b * c)`` in six bins."""

    centres = np.linspace(0.0, 2.0, 6)

    def prediction(self, parameters, systematics_index=slice(None)):
        p = np.asarray(parameters, dtype=float)
        out = p[..., 0, None, None] * np.exp(-p[..., 1, None, None] * self.centres)
        return out[..., systematics_index, :], np.ones(out.shape[:-1])[..., systematics_index]


@pytest.fixture
def fit_counter(monkeypatch):
    """Counts the engine's single fits."""
    calls = []
    original = maximizers.fit_one

    def counting(calc, settings, rng=None):
        calls.append(calc)
        return original(calc, settings, rng)

    monkeypatch.setattr(maximizers, "fit_one", counting)
    return calls


def test_repeated_wilks_calls_reuse_the_alternative_fit(fit_counter):
    calc, truth = _model()
    tester = HypothesisTester(calc)
    first = tester.wilks_max_likelihood_ratio_p_value([None, truth[1], None], rng=1)
    assert len(fit_counter) == 2  # H0 and H1
    for value in (20.0, 25.0, 30.0):
        tester.wilks_max_likelihood_ratio_p_value([None, value, None], rng=1)
    assert len(fit_counter) == 2 + 3  # one H0 each, H1 reused
    assert tester.wilks_max_likelihood_ratio_p_value([None, truth[1], None], rng=1) == first
    # The goodness-of-fit test of the same model reuses the fit too.
    fit_counter.clear()
    tester.max_likelihood_p_value(N=3, rng=2)
    assert calc not in fit_counter


def _mutations():
    def data(calc, _tester):
        calc.data_model.data_vector[2] += 7

    def matrices(calc, _tester):
        calc.predictor.matrices[:, 1, 0] *= 1.5

    def constants(calc, _tester):
        calc.predictor.constants += 1.0

    def bounds(calc, _tester):
        calc.predictor.bounds[0, 1] = 30.0

    def defaults(calc, _tester):
        calc.predictor.defaults[:] = [50.0, 20.0, 30.0]

    def weights(calc, _tester):
        calc.predictor.weights[:5] = 10.0

    def systematics(calc, _tester):
        calc.systematics = ProfileLikelihoodSystematics

    def maximizer(_calc, tester):
        tester.maximizer = BasinHoppingMaximizer(niter=3)

    def calculator(calc, tester):
        tester.likelihood_calculator = calc._with_data(calc.data_model.data_vector[::-1].copy())

    return [
        data,
        matrices,
        constants,
        bounds,
        defaults,
        weights,
        systematics,
        maximizer,
        calculator,
    ]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_a_changed_object_never_gets_the_old_fit(mutate, fit_counter):
    calc, truth = _model()
    tester = HypothesisTester(calc)
    point = [None, truth[1], None]
    tester.wilks_max_likelihood_ratio_p_value(point, rng=1)
    mutate(calc, tester)
    fit_counter.clear()
    got = tester.wilks_max_likelihood_ratio_p_value(point, rng=1)
    assert len(fit_counter) == 2, "H1 must be fitted again"
    fresh = HypothesisTester(tester.likelihood_calculator, maximizer=tester.maximizer)
    assert got == fresh.wilks_max_likelihood_ratio_p_value(point, rng=1)


def test_fits_of_non_linear_predictors_are_never_kept(fit_counter):
    predictor = Exponential(bounds=[(0.0, np.inf), (-5.0, 5.0)], defaults=[1.0, 0.0])
    calc = LikelihoodCalculator(PoissonData([30, 22, 15, 11, 8, 6]), predictor)
    tester = HypothesisTester(calc)
    tester.wilks_max_likelihood_ratio_p_value([None, 0.7], rng=0)
    tester.wilks_max_likelihood_ratio_p_value([None, 0.8], rng=0)
    assert len(fit_counter) == 4
    assert engine_cache.fit_key(calc, BasinHoppingMaximizer()._engine_settings(2)) is None


def test_a_stateful_seed_is_never_kept():
    calc, _ = _model()
    seeded = BasinHoppingMaximizer(rng=np.random.default_rng(1))._engine_settings(3)
    assert engine_cache.fit_key(calc, seeded) is None
    assert engine_cache.fit_key(calc, BasinHoppingMaximizer(rng=1)._engine_settings(3)) != (
        engine_cache.fit_key(calc, BasinHoppingMaximizer(rng=2)._engine_settings(3))
    )


def test_fit_cache_keeps_the_newest():
    store = engine_cache.FitCache(size=2)
    for key in (b"a", b"b", b"c"):
        store.put(key, key.upper())
    assert store.get(b"a") is None
    assert store.get(b"c") == b"C"
    store.put(None, "ignored")
    assert store.get(None) is None


@pytest.mark.parametrize("systematics", ["marginal", "profile"])
def test_vectorised_scan_equals_the_single_calls(systematics):
    calc, _truth = _model(systematics)
    points = [[None, v, None] for v in np.linspace(15.0, 35.0, 9)]
    points += [[v, None, 40.0] for v in (50.0, 60.0, 70.0)]  # another set of free parameters
    points += [[60.0, 25.0, 40.0]]  # nothing free
    scan = HypothesisTester(calc).wilks_max_likelihood_ratio_p_values(points, rng=3)
    single = np.array(
        [HypothesisTester(calc).wilks_max_likelihood_ratio_p_value(p, rng=3) for p in points]
    )
    assert scan.shape == (len(points),)
    # Both are exact maxima of the same concave-ish problems: equal to the fits' precision.
    assert_allclose(scan, single, rtol=1e-6, atol=1e-9)


def test_vectorised_scan_with_an_alternative_and_a_generic_predictor():
    calc, _truth = _model()
    tester = HypothesisTester(calc)
    alternative = [None, None, 40.0]
    points = [[None, v, 40.0] for v in (20.0, 25.0, 30.0)] + [[None, None, 40.0]]
    scan = tester.wilks_max_likelihood_ratio_p_values(points, alternative, rng=0)
    single = [tester.wilks_max_likelihood_ratio_p_value(p, alternative, rng=0) for p in points]
    assert_allclose(scan[:3], single[:3], rtol=1e-6)
    assert np.isnan(scan[3])
    assert np.isnan(single[3])
    predictor = Exponential(bounds=[(0.0, np.inf), (-5.0, 5.0)], defaults=[1.0, 0.0])
    generic = HypothesisTester(LikelihoodCalculator(PoissonData([30, 22, 15, 11, 8, 6]), predictor))
    points = [[None, b] for b in (0.3, 0.5, 0.7)]
    assert_allclose(
        generic.wilks_max_likelihood_ratio_p_values(points, rng=0),
        [generic.wilks_max_likelihood_ratio_p_value(p, rng=0) for p in points],
        rtol=1e-5,
    )


def test_vectorised_scan_errors():
    calc, _ = _model()
    tester = HypothesisTester(calc)
    with pytest.raises(InputError, match="shape"):
        tester.wilks_max_likelihood_ratio_p_values([None, 3.0, None])
    with pytest.raises(InputError, match="shape"):
        tester.wilks_max_likelihood_ratio_p_values([[None, 3.0]])
    with pytest.raises(InputError, match="outside its bounds"):
        tester.wilks_max_likelihood_ratio_p_values([[None, -3.0, None]])


def test_scan_of_a_template_model_matches_the_closed_form():
    # One template, one bin per parameter: the profile over the other weight is exact.
    calc = LikelihoodCalculator(PoissonData([10, 20]), TemplatePredictor(np.eye(2)))
    values = np.array([10.0, 20.0, 30.0])
    got = HypothesisTester(calc).wilks_max_likelihood_ratio_p_values(
        [[None, v] for v in values], rng=0
    )
    ratio = 20 * np.log(values / 20.0) - values + 20.0
    assert_allclose(got, stats.chi2.sf(-2 * ratio, df=1), rtol=1e-7)
