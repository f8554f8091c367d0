"""Maximizers: known optima of template fits, result objects, reproducibility."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import optimize

from numeric_asserts import assert_allclose
from remu.likelihood import (
    BasinHoppingMaximizer,
    LikelihoodCalculator,
    LikelihoodMaximizer,
    MatrixPredictor,
    PoissonData,
    TemplatePredictor,
)


def identity_calc():
    pred = MatrixPredictor(np.eye(4), bounds=[(0, np.inf)] * 4)
    return LikelihoodCalculator(PoissonData([0, 1, 2, 3]), pred)


def test_identity_fit_recovers_data():
    fit = BasinHoppingMaximizer()(identity_calc(), rng=1)
    assert_allclose(fit.x, [0, 1, 2, 3], atol=1e-3)
    assert fit.success
    assert fit.log_likelihood == -fit.fun
    assert fit.log_likelihood == pytest.approx(identity_calc()([0.0, 1.0, 2.0, 3.0]), abs=1e-6)
    for field in ("message", "nit", "nfev", "minimization_failures", "lowest_optimization_result"):
        assert field in fit


def test_two_template_fit_known_optimum():
    # Two bins, two templates: the MLE solves T^T theta = k exactly (saturated model).
    templates = np.array([[1.0, 0.2], [0.3, 1.0]])
    data = np.array([10, 20])
    calc = LikelihoodCalculator(PoissonData(data), TemplatePredictor(templates))
    expected = np.linalg.solve(templates.T, data)
    fit = BasinHoppingMaximizer()(calc, rng=2)
    assert_allclose(fit.x, expected, rtol=1e-4)
    # Single template on three bins: theta_hat = sum(k) / sum(template)
    single = LikelihoodCalculator(PoissonData([4, 9, 2]), TemplatePredictor([[0.5, 1.0, 0.25]]))
    fit = BasinHoppingMaximizer()(single, rng=3)
    assert_allclose(fit.x, [15 / 1.75], rtol=1e-5)


def test_composed_normalisation_fit():
    # The usage example: best normalisation of equal truth shares is 20 (sum of data / 1).
    response = np.array(
        [[[0.8, 0.1], [0.1, 0.7], [0.0, 0.1]], [[0.7, 0.1], [0.2, 0.6], [0.0, 0.2]]]
    )
    detector = MatrixPredictor(response, bounds=[(0, np.inf)] * 2, defaults=[10.0, 10.0])
    calc = LikelihoodCalculator(PoissonData([9, 8, 1]), detector)
    calc_norm = calc.compose(TemplatePredictor([[0.5, 0.5]]))
    np.random.seed(42)
    fit = BasinHoppingMaximizer()(calc_norm)
    assert_allclose(fit.x, [20.0], rtol=1e-3)
    assert fit.log_likelihood == pytest.approx(-5.1626, abs=1e-3)
    assert fit.success


def test_reproducible_with_seed_and_rng():
    calc = identity_calc()
    np.random.seed(0)
    a = BasinHoppingMaximizer()(calc)
    np.random.seed(0)
    b = BasinHoppingMaximizer()(calc)
    assert_array_equal(a.x, b.x)
    c = BasinHoppingMaximizer()(calc, rng=5)
    d = BasinHoppingMaximizer()(calc, rng=np.random.default_rng(5))
    assert_array_equal(c.x, d.x)
    assert c.nfev == d.nfev


def test_constructor_kwargs_reach_scipy():
    fit = BasinHoppingMaximizer(niter=2)(identity_calc(), rng=0)
    assert fit.nit == 2
    # a seed given to the constructor wins over rng=
    m = BasinHoppingMaximizer(niter=3, rng=9)
    assert_array_equal(m(identity_calc(), rng=1).x, m(identity_calc(), rng=2).x)


def test_no_free_parameters():
    calc = identity_calc().fix_parameters([0.0, 1.0, 2.0, 3.0])
    fit = BasinHoppingMaximizer()(calc)
    assert fit.x.shape == (0,)
    assert fit.x.dtype == float
    assert fit.log_likelihood == pytest.approx(identity_calc()([0.0, 1.0, 2.0, 3.0]))
    assert fit.fun == -fit.log_likelihood
    assert fit.success


class ScipyMinimize(LikelihoodMaximizer):
    """A user-defined maximizer: local L-BFGS-B only."""

    def minimize(self, fun, x0, bounds, **_kwargs):
        return optimize.minimize(fun, x0, bounds=bounds, method="L-BFGS-B")


def test_custom_maximizer_and_abstract_base():
    fit = ScipyMinimize()(identity_calc())
    assert_allclose(fit.x, [0, 1, 2, 3], atol=1e-3)
    assert fit.log_likelihood == -fit.fun
    with pytest.raises(NotImplementedError, match="subclass"):
        LikelihoodMaximizer()(identity_calc())


def test_maximizer_pickles():
    m = pickle.loads(pickle.dumps(BasinHoppingMaximizer(niter=3)))
    assert m.kwargs == {"niter": 3}
