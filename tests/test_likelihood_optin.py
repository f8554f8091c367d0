"""Opt-in hooks of the fitting engine: declared by remu's classes, lost by overrides.

A subclass that overrides the method a hook describes (``prediction``,
``consume_axis``, ``log_likelihood``, ``minimize``) must not keep an inherited fast
path; it gets the generic path unless it declares the hook itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from numeric_asserts import assert_allclose
from remu._likelihood.engine import api, eligibility
from remu._likelihood.optin import reset_stale_hooks
from remu.likelihood import (
    BasinHoppingMaximizer,
    ComposedMatrixPredictor,
    FixedParameterPredictor,
    HypothesisTester,
    LikelihoodCalculator,
    LikelihoodMaximizer,
    LinearEinsumPredictor,
    MarginalLikelihoodSystematics,
    MatrixPredictor,
    NoSystematics,
    PoissonData,
    Predictor,
    ProfileLikelihoodSystematics,
    ResponseMatrixPredictor,
    SystematicsConsumer,
    TemplatePredictor,
)


def _matrices():
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 1.0, size=(3, 5, 2))


def test_remu_classes_declare_their_hooks():
    assert MatrixPredictor(_matrices())._linear_form() is not None
    assert TemplatePredictor([[1.0, 2.0]])._linear_form() is not None
    assert MarginalLikelihoodSystematics._engine_kind == "marginal"
    assert ProfileLikelihoodSystematics._engine_kind == "profile"
    assert NoSystematics._engine_kind is None
    assert SystematicsConsumer._engine_kind is None
    assert PoissonData._engine_poisson is True
    assert BasinHoppingMaximizer()._engine_settings(2) is not None
    assert LikelihoodMaximizer()._engine_settings(2) is None
    for klass in (ResponseMatrixPredictor, ComposedMatrixPredictor):
        # Subclasses that keep MatrixPredictor.prediction keep its linear form.
        assert "_linear_form" not in vars(klass)
        assert klass._linear_form is MatrixPredictor._linear_form


def test_linear_forms_reproduce_the_predictions():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 3.0, size=(4, 3))
    einsum = LinearEinsumPredictor(
        "ij,...kj->...ik", rng.uniform(0.5, 1.5, size=(2, 3)), reshape_parameters=(1, 3)
    )
    sparse = MatrixPredictor(
        _matrices(),
        constants=0.5,
        sparse_indices=[2, 0],
        bounds=[(0, np.inf)] * 3,
        defaults=[1.0] * 3,
    )
    fixed_generic = FixedParameterPredictor(sparse, [None, 2.0, None])
    for predictor, points in ((einsum, x), (sparse, x), (fixed_generic, x[:, :2])):
        matrices, constants = predictor._linear_form()
        expected, _ = predictor(points)
        got = np.einsum("sbn,mn->msb", matrices, points) + constants
        assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


class OverridesPrediction(MatrixPredictor):
    """Changes the predictions (doubles them) but declares no linear form."""

    def prediction(self, parameters, systematics_index=slice(None)):
        prediction, weights = super().prediction(parameters, systematics_index)
        return 2.0 * prediction, weights


class DeclaresItsOwnForm(OverridesPrediction):
    """Overrides the predictions and says how they are linear."""

    def _linear_form(self):
        matrices, constants = MatrixPredictor._linear_form(self)
        return 2.0 * matrices, 2.0 * constants


class DoublingMixin:
    def prediction(self, parameters, systematics_index=slice(None)):
        prediction, weights = MatrixPredictor.prediction(self, parameters, systematics_index)
        return 2.0 * prediction, weights


class MixedIn(DoublingMixin, MatrixPredictor):
    """The override comes from a mixin earlier in the MRO."""


class OnlyNewDefaults(TemplatePredictor):
    """Changes nothing but the constructor: keeps the linear form."""

    def __init__(self, templates):
        super().__init__(templates, defaults=[2.0] * len(templates))


@pytest.mark.parametrize("klass", [OverridesPrediction, MixedIn])
def test_overriding_prediction_drops_the_linear_form(klass):
    predictor = klass(_matrices(), bounds=[(0, np.inf)] * 2)
    assert predictor._linear_form() is None
    calc = LikelihoodCalculator(PoissonData([3, 4, 5, 6, 7]), predictor)
    model = eligibility.describe(calc)
    assert model is not None
    assert model.linear is None  # the finite-difference path of the engine
    # and the fit maximises the overridden likelihood
    fit = BasinHoppingMaximizer()(calc, rng=1)
    assert_allclose(fit.log_likelihood, calc(fit.x), rtol=1e-10)


def test_a_subclass_may_declare_its_own_linear_form():
    predictor = DeclaresItsOwnForm(_matrices(), bounds=[(0, np.inf)] * 2)
    matrices, constants = predictor._linear_form()
    x = np.array([[1.0, 2.0]])
    assert_allclose(np.einsum("sbn,mn->msb", matrices, x) + constants, predictor(x)[0])
    assert OnlyNewDefaults([[1.0, 2.0]])._linear_form() is not None


class LoudMarginal(MarginalLikelihoodSystematics):
    @staticmethod
    def consume_axis(log_likelihood, weights=None):
        return MarginalLikelihoodSystematics.consume_axis(log_likelihood, weights) + 1.0


class PoissonPlusOne(PoissonData):
    def log_likelihood(self, reco_vector):
        return super().log_likelihood(reco_vector) + 1.0


class CountingMinimize(BasinHoppingMaximizer):
    calls = 0

    def minimize(self, fun, x0, bounds, **kwargs):
        CountingMinimize.calls += 1
        return super().minimize(fun, x0, bounds, **kwargs)


def test_overridden_reductions_data_models_and_minimizers_lose_the_engine():
    assert LoudMarginal._engine_kind is None
    assert PoissonPlusOne._engine_poisson is False
    assert CountingMinimize()._engine_settings(2) is None
    predictor = MatrixPredictor(_matrices(), bounds=[(0, np.inf)] * 2)
    data = [3, 4, 5, 6, 7]
    assert (
        eligibility.describe(LikelihoodCalculator(PoissonData(data), predictor, LoudMarginal))
        is None
    )
    assert eligibility.describe(LikelihoodCalculator(PoissonPlusOne(data), predictor)) is None
    calc = LikelihoodCalculator(PoissonData(data), predictor)
    CountingMinimize.calls = 0
    CountingMinimize()(calc, rng=0)
    assert CountingMinimize.calls == 1
    tester = HypothesisTester(calc, maximizer=CountingMinimize())
    tester.max_likelihood_p_value(N=3, rng=0)
    assert CountingMinimize.calls == 1 + 4  # the observed data and every toy, by scipy


def test_reset_stale_hooks_compares_positions_in_the_mro():
    class Base:
        fast = None

        def compute(self):
            return 0

    class Fast(Base):
        fast = "yes"

        def compute(self):
            return 1

    class Override(Fast):
        def compute(self):
            return 2

    class Unrelated(Fast):
        def other(self):
            return 3

    assert reset_stale_hooks(Override, "fast", ["compute"], None)
    assert Override.fast is None
    assert Fast.fast == "yes"
    assert not reset_stale_hooks(Unrelated, "fast", ["compute"], None)
    assert Unrelated.fast == "yes"


def test_generic_predictors_use_finite_differences():
    class Square(Predictor):
        def prediction(self, parameters, systematics_index=slice(None)):
            p = np.asarray(parameters, dtype=float)[..., np.newaxis, :] ** 2
            return p[..., systematics_index, :], np.ones(p.shape[:-1])[..., systematics_index]

    calc = LikelihoodCalculator(PoissonData([4, 9]), Square([(0.0, 10.0)] * 2, [1.0, 1.0]))
    model = eligibility.describe(calc)
    assert model is not None
    assert model.linear is None
    fit = api.fit_one(calc, BasinHoppingMaximizer()._engine_settings(2), 0)
    assert_allclose(fit.x, [2.0, 3.0], rtol=1e-6)
