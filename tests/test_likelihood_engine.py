"""The fitting engine (remu._likelihood.engine) against per-fit scipy basin hopping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numeric_asserts import assert_allclose
from remu import likelihood
from remu._likelihood.engine import api, batching, eligibility, hopping
from remu._likelihood.engine.objective import LinearFamily
from remu.likelihood import (
    BasinHoppingMaximizer,
    HypothesisTester,
    LikelihoodCalculator,
    MatrixPredictor,
    PoissonData,
    Predictor,
    TemplatePredictor,
)


class PerToyBasinHopping(BasinHoppingMaximizer):
    """The same maximizer, but a subclass that overrides ``minimize``: fitted toy by toy."""

    def minimize(self, fun, x0, bounds, **kwargs):
        return super().minimize(fun, x0, bounds, **kwargs)


class Exponential(Predictor):
    """A non-linear predictor: ``a * exp(-b * centre)`` per bin, two shifted variations."""

    centres = np.linspace(0.0, 2.0, 6)

    def prediction(self, parameters, systematics_index=slice(None)):
        p = np.asarray(parameters, dtype=float)
        shifts = np.array([0.0, 0.1])[systematics_index]
        centres = self.centres + np.reshape(shifts, (-1, 1))
        with np.errstate(over="ignore", under="ignore"):
            out = p[..., 0, None, None] * np.exp(-p[..., 1, None, None] * centres)
        return out, np.ones(np.shape(shifts))


class LinearAsGeneric(Predictor):
    """A matrix predictor hidden behind a generic ``prediction`` (finite-difference path)."""

    def __init__(self, inner):
        Predictor.__init__(self, bounds=inner.bounds, defaults=inner.defaults)
        self.inner = inner

    def prediction(self, parameters, systematics_index=slice(None)):
        return self.inner.prediction(parameters, systematics_index)


def _templates():
    templates = [[10.0, 20.0, 5.0, 1.0], [1.0, 5.0, 20.0, 10.0], [3.0, 3.0, 3.0, 3.0]]
    return TemplatePredictor(templates), np.array([2.0, 1.5, 0.0])


def _sparse_response():
    rng = np.random.default_rng(3)
    matrices = rng.uniform(0.0, 0.3, size=(5, 6, 4))
    predictor = MatrixPredictor(
        matrices,
        sparse_indices=[0, 2, 3, 5],
        weights=[1.0, 2.0, 0.5, 1.0, 1.5],
        bounds=[(0, np.inf)] * 6,
        defaults=[10.0] * 6,
    )
    return predictor, np.array([40.0, 1.0, 30.0, 5.0, 1.0, 60.0])


def _mild_response():
    # Systematic variations of a few per cent, as in a real analysis.
    rng = np.random.default_rng(4)
    nominal = rng.uniform(0.0, 0.3, size=(6, 4))
    matrices = nominal * rng.uniform(0.95, 1.05, size=(20, 6, 4))
    predictor = MatrixPredictor(matrices, bounds=[(0, np.inf)] * 4, defaults=[10.0] * 4)
    return predictor, np.array([40.0, 30.0, 5.0, 60.0])


def _unbounded():
    matrix = np.eye(3) + 0.2 * np.eye(3, k=1)
    return MatrixPredictor(matrix, defaults=[1.0, 1.0, 1.0]), np.array([5.0, 0.5, 8.0])


def _exponential():
    return Exponential(bounds=[(0.0, np.inf), (-5.0, 5.0)], defaults=[1.0, 0.0]), np.array(
        [30.0, 1.2]
    )


def _generic_templates():
    inner, truth = _templates()
    return LinearAsGeneric(inner), truth


def _wild_response():
    # Variations of +-50 %: the marginal and profile likelihoods have several maxima.
    rng = np.random.default_rng(5)
    nominal = rng.uniform(0.1, 0.5, size=(6, 2))
    matrices = nominal * rng.uniform(0.5, 1.5, size=(8, 6, 2))
    predictor = MatrixPredictor(matrices, bounds=[(0, np.inf)] * 2, defaults=[10.0] * 2)
    return predictor, np.array([60.0, 30.0])


def _response_templates():
    # Two truth templates folded with a 100-variation 8 x 40 response (as the benchmarks).
    rng = np.random.default_rng(6)
    pos = np.linspace(0.0, 1.0, 40)
    smearing = np.exp(-0.5 * ((np.linspace(0, 1, 8)[:, None] - pos) / 0.12) ** 2)
    nominal = smearing / smearing.sum(axis=0) * (0.5 + 0.4 * pos)
    matrices = (
        nominal
        * rng.uniform(0.9, 1.1, size=(100, 1, 40))
        * rng.uniform(0.97, 1.03, size=(100, 8, 40))
    )
    templates = np.array([np.exp(-0.5 * ((pos - c) / 0.2) ** 2) for c in (0.3, 0.7)])
    templates /= templates.sum(axis=1, keepdims=True)
    response = MatrixPredictor(matrices, bounds=[(0, np.inf)] * 40, defaults=[1.0] * 40)
    return response.compose(TemplatePredictor(templates)), np.array([400.0, 300.0])


MODELS = {
    "templates": (_templates, "marginal"),
    "wild-marginal": (_wild_response, "marginal"),
    "wild-profile": (_wild_response, "profile"),
    "response-100-marginal": (_response_templates, "marginal"),
    "response-100-profile": (_response_templates, "profile"),
    "sparse-marginal": (_sparse_response, "marginal"),
    "sparse-profile": (_sparse_response, "profile"),
    "mild-marginal": (_mild_response, "marginal"),
    "nonlinear": (_exponential, "marginal"),
    "generic-linear": (_generic_templates, "profile"),
}


def _calculator(name):
    make, systematics = MODELS[name]
    predictor, truth = make()
    data = np.rint(predictor(truth)[0][0]).astype(int)
    return LikelihoodCalculator(PoissonData(data), predictor, systematics), truth


@pytest.mark.parametrize("name", sorted(MODELS))
def test_toy_maxima_match_per_toy_basinhopping(name):
    calc, truth = _calculator(name)
    gen = np.random.default_rng(7)
    toys = calc._generate_toy_data(truth, 12, gen)
    batch = api.fit_toys(calc, BasinHoppingMaximizer(), toys, gen, map)
    assert batch is not None, "this model should be fitted vectorised"
    reference = np.array(
        [
            BasinHoppingMaximizer()(calc._with_data(toy), rng=i).log_likelihood
            for i, toy in enumerate(toys)
        ]
    )
    scale = 1.0 + np.abs(reference)
    # Never worse than scipy's fit of the same toy, and nearly always the same maximum.
    assert np.all(batch >= reference - 1e-6 * scale), batch - reference
    assert np.mean(np.abs(batch - reference) <= 1e-4 * scale) >= 0.9, batch - reference


@pytest.mark.parametrize("name", sorted(MODELS))
def test_best_points_reproduce_the_calculator(name):
    calc, truth = _calculator(name)
    gen = np.random.default_rng(8)
    toys = calc._generate_toy_data(truth, 6, gen)
    model = eligibility.describe(calc)
    objective = batching.make_objective(model, toys)
    hop = BasinHoppingMaximizer()._engine_settings(len(truth))
    start = np.tile(calc.predictor.defaults, (len(toys), 1))
    best, value, _ = hopping.global_fits(objective, start, hop, gen, chains_per_problem=3)
    bounds = np.asarray(calc.predictor.bounds, dtype=float)
    assert np.all((best >= bounds[:, 0]) & (best <= bounds[:, 1]))
    for toy, x, v in zip(toys, best, value, strict=True):
        assert_allclose(calc._with_data(toy)(x), -v, rtol=1e-12, atol=1e-9)


@st.composite
def linear_problems(draw):
    n_syst = draw(st.integers(1, 4))
    n_bins = draw(st.integers(2, 6))
    n_par = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    matrices = rng.uniform(0.1, 2.0, size=(n_syst, n_bins, n_par))
    constants = rng.uniform(0.0, 1.0, size=(n_syst, n_bins))
    weights = rng.uniform(0.2, 2.0, size=n_syst)
    counts = rng.poisson(5.0, size=(3, n_bins))
    points = rng.uniform(0.5, 3.0, size=(3, n_par))
    kind = draw(st.sampled_from(["marginal", "profile"]))
    return matrices, constants, weights, counts, points, kind


def _numeric_derivatives(calc, x, h=1e-4):
    n = len(x)
    grad = np.zeros(n)
    hess = np.zeros((n, n))
    f0 = -calc(x)
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        grad[i] = (-calc(x + e) + calc(x - e)) / (2 * h)
        for j in range(n):
            d = np.zeros(n)
            d[j] = h
            hess[i, j] = (
                -calc(x + e + d) + calc(x + e - d) + calc(x - e + d) - calc(x - e - d)
            ) / (4 * h * h)
    return f0, grad, hess


def _same_best_variation(predictor, counts, x, h=1e-4):
    """Whether one systematic variation is the best at ``x`` and at all ``x ± h e_i``."""
    per_variation = LikelihoodCalculator(PoissonData(counts), predictor, likelihood.NoSystematics)
    steps = np.concatenate([np.zeros((1, len(x))), h * np.eye(len(x)), -h * np.eye(len(x))])
    best = np.argmax(per_variation(x + steps), axis=-1)
    return bool(np.all(best == best[0]))


@settings(deadline=None, max_examples=40)
@given(linear_problems())
def test_gradient_and_hessian_equal_finite_differences(problem):
    matrices, constants, weights, counts, points, kind = problem
    n_par = matrices.shape[-1]
    predictor = MatrixPredictor(
        matrices, constants, weights=weights, bounds=[(0.0, np.inf)] * n_par
    )
    calc = LikelihoodCalculator(PoissonData(counts[0]), predictor, kind)
    model = batching.make_objective(eligibility.describe(calc), counts)
    generic_calc = LikelihoodCalculator(PoissonData(counts[0]), LinearAsGeneric(predictor), kind)
    generic = batching.make_objective(eligibility.describe(generic_calc), counts)
    assert isinstance(model.family, LinearFamily)
    assert not isinstance(generic.family, LinearFamily)
    rows = np.arange(len(counts))
    value, grad, hess, _ = model.derivatives(points, rows)
    g_value, g_grad, g_hess, _ = generic.derivatives(points, rows)
    for i in rows:
        f0, num_grad, num_hess = _numeric_derivatives(calc._with_data(counts[i]), points[i])
        assert_allclose(value[i], f0, rtol=1e-12)
        # The profile is not smooth where the best variation changes: finite differences
        # across such a kink average two gradients, so compare only where one
        # variation is best at every point the differences evaluate.
        if kind == "profile" and not _same_best_variation(predictor, counts[i], points[i]):
            continue
        assert_allclose(grad[i], num_grad, rtol=1e-5, atol=1e-6)
        if kind == "marginal":  # second differences straddle the kinks of the profile
            assert_allclose(hess[i], num_hess, rtol=1e-3, atol=1e-4)
    # The finite-difference Jacobian path gives the same numbers for a linear predictor.
    assert_allclose(g_value, value, rtol=1e-12)
    assert_allclose(g_grad, grad, rtol=1e-5, atol=1e-6)
    assert_allclose(g_hess, hess, rtol=1e-4, atol=1e-6)


def test_p_values_equal_the_per_toy_fits():
    # Same toys, same maxima: the same p-values (for a model whose maxima scipy finds).
    calc, _ = _calculator("mild-marginal")
    fast = HypothesisTester(calc)
    slow = HypothesisTester(calc, maximizer=PerToyBasinHopping())
    assert fast.max_likelihood_p_value(N=20, rng=4) == slow.max_likelihood_p_value(N=20, rng=4)
    fix = [None, 30.0, None, None]
    assert fast.max_likelihood_ratio_p_value(fix, N=15, rng=5) == (
        slow.max_likelihood_ratio_p_value(fix, N=15, rng=5)
    )


def test_mapper_gets_chunks_of_toys():
    calls = []

    def recording_map(function, items):
        items = list(items)
        calls.append([len(counts) for counts, _ in items])
        return map(function, items)

    calc, _ = _calculator("templates")
    tester = HypothesisTester(calc)
    try:
        likelihood.mapper = recording_map
        tester.max_likelihood_p_value(N=10, rng=0)
        # A replaced mapper may be parallel: the toys are split, all of them fitted.
        assert sum(calls[0]) == 10
        assert len(calls[0]) >= 1
        calls.clear()
        tester.max_likelihood_ratio_p_value([None, None, 0.0], N=7, rng=0)
        assert [sum(c) for c in calls] == [7, 7]  # H0 and H1
    finally:
        likelihood.mapper = map


def test_builtin_map_fits_all_toys_in_one_chunk():
    calc, _ = _calculator("templates")
    per_point = calc.predictor(calc.predictor.defaults)[0].size
    size = batching.chunk_size(per_point, 500, 3, 10, map)
    assert size >= 500


@pytest.mark.parametrize(
    "maximizer",
    [
        BasinHoppingMaximizer(minimizer_kwargs={"method": "Nelder-Mead"}),
        BasinHoppingMaximizer(take_step=lambda x: x),
        PerToyBasinHopping(),
    ],
    ids=["minimizer_kwargs", "take_step", "subclass"],
)
def test_other_maximizers_fall_back_to_per_toy_fits(maximizer):
    calc, truth = _calculator("templates")
    toys = calc._generate_toy_data(truth, 3, np.random.default_rng(0))
    assert api.fit_toys(calc, maximizer, toys, np.random.default_rng(0), map) is None


def test_other_systematics_and_data_models_fall_back():
    calc, truth = _calculator("templates")
    toys = calc._generate_toy_data(truth, 3, np.random.default_rng(0))
    gen = np.random.default_rng(0)
    no_syst = LikelihoodCalculator(calc.data_model, calc.predictor, likelihood.NoSystematics)
    assert api.fit_toys(no_syst, BasinHoppingMaximizer(), toys, gen, map) is None

    class Other(PoissonData):
        def log_likelihood(self, reco_vector):
            return super().log_likelihood(reco_vector)

    other = LikelihoodCalculator(Other(calc.data_model.data_vector), calc.predictor)
    assert api.fit_toys(other, BasinHoppingMaximizer(), toys, gen, map) is None


def test_toys_without_free_parameters_are_evaluated_at_once():
    calc, truth = _calculator("sparse-marginal")
    fixed = calc.fix_parameters(truth)  # nothing left to fit
    toys = calc._generate_toy_data(truth, 7, np.random.default_rng(0))
    result = api.fit_toys(fixed, BasinHoppingMaximizer(), toys, None, map)
    expected = [fixed._with_data(toy)(np.empty(0)) for toy in toys]
    assert_allclose(result, expected, rtol=1e-13)
    # The ratio p-value of a simple H0 fits only H1 per toy, vectorised.
    calc, truth = _calculator("mild-marginal")
    tester = HypothesisTester(calc, maximizer=PerToyBasinHopping())
    fast = HypothesisTester(calc)
    p = fast.max_likelihood_ratio_p_value(truth, N=10, rng=3)
    assert p == tester.max_likelihood_ratio_p_value(truth, N=10, rng=3)


def test_predictions_that_can_turn_negative_are_fitted_per_toy():
    # Unbounded parameters: the edge of the region with positive predictions is a
    # constraint of its own; such models keep scipy's per-toy fits.
    predictor, truth = _unbounded()
    calc = LikelihoodCalculator(PoissonData([5, 1, 8]), predictor)
    toys = calc._generate_toy_data(truth, 3, np.random.default_rng(0))
    assert api.fit_toys(calc, BasinHoppingMaximizer(), toys, np.random.default_rng(0), map) is None
    assert 0.0 <= HypothesisTester(calc).max_likelihood_p_value(N=3, rng=0) <= 1.0


def test_basinhopping_options_are_honoured():
    calc, truth = _calculator("templates")
    hop = BasinHoppingMaximizer(
        niter=3, T=0.5, stepsize=0.1, niter_success=2, rng=1
    )._engine_settings(3)
    assert (hop.niter, hop.temperature, hop.stepsize, hop.niter_success, hop.seed) == (
        3,
        0.5,
        0.1,
        2,
        1,
    )
    assert BasinHoppingMaximizer()._engine_settings(4).temperature == 4.0
    # A fixed seed in the constructor makes the toy fits repeatable, as with scipy.
    toys = calc._generate_toy_data(truth, 5, np.random.default_rng(2))
    seeded = BasinHoppingMaximizer(niter=3, rng=1)
    first = api.fit_toys(calc, seeded, toys, np.random.default_rng(10), map)
    second = api.fit_toys(calc, seeded, toys, np.random.default_rng(20), map)
    assert_allclose(first, second, rtol=0, atol=0)
    # Without hops the fits are local (from the defaults) and still reach the maximum here.
    local = api.fit_toys(calc, BasinHoppingMaximizer(niter=0), toys, np.random.default_rng(0), map)
    assert_allclose(local, first, rtol=1e-9)


def test_impossible_toys_give_minus_infinity():
    # One template, but a toy has counts where the template predicts nothing.
    calc = LikelihoodCalculator(PoissonData([3, 0]), TemplatePredictor([[1.0, 0.0]]))
    toys = np.array([[3, 0], [2, 1]])
    result = api.fit_toys(calc, BasinHoppingMaximizer(), toys, np.random.default_rng(0), map)
    assert np.isfinite(result[0])
    assert result[1] == -np.inf


def _scipy_fits(calc, seeds):
    """scipy's basin hopping (the path without the engine), one fit per seed."""
    maximizer = BasinHoppingMaximizer()
    return np.array([maximizer._fit_without_engine(calc, seed).log_likelihood for seed in seeds])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_single_fits_are_never_worse_than_scipy(name):
    calc, _ = _calculator(name)
    ours = BasinHoppingMaximizer()(calc, rng=0)
    assert ours.message[0].startswith("remu fitting engine"), "the engine should fit this model"
    reference = _scipy_fits(calc, range(5))
    assert np.all(ours.log_likelihood >= reference - 1e-6 * np.abs(reference)), (
        ours.log_likelihood - reference
    )
    # The reported maximum is the calculator's value at the reported point.
    assert_allclose(ours.log_likelihood, calc(ours.x), rtol=1e-10)
    bounds = np.asarray(calc.predictor.bounds, dtype=float)
    assert np.all((ours.x >= bounds[:, 0]) & (ours.x <= bounds[:, 1]))


@pytest.mark.parametrize("name", ["wild-marginal", "wild-profile", "sparse-profile"])
def test_multimodal_fits_find_higher_maxima_than_scipy_sometimes(name):
    # Data sets drawn around the truth: scipy's local basin hopping stops in a lower
    # maximum for some of them; the engine never does worse.
    calc, truth = _calculator(name)
    toys = calc._generate_toy_data(truth, 8, np.random.default_rng(9))
    higher = 0
    for i, toy in enumerate(toys):
        fit_calc = LikelihoodCalculator(PoissonData(toy), calc.predictor, calc.systematics)
        ours = BasinHoppingMaximizer()(fit_calc, rng=i).log_likelihood
        reference = _scipy_fits(fit_calc, [i])[0]
        assert ours >= reference - 1e-6 * abs(reference)
        higher += ours > reference + 1e-3
    assert higher >= 1


@pytest.mark.parametrize("name", ["templates", "wild-marginal", "sparse-profile", "nonlinear"])
def test_scan_points_are_never_worse_than_scipy(name):
    calc, truth = _calculator(name)
    tester = HypothesisTester(calc)
    n = len(truth)
    points = []
    for value in np.linspace(0.6, 1.4, 4) * max(truth[0], 1.0):
        point = [None] * n
        point[0] = value
        points.append(point)
    scan = api.fit_scan(
        calc, np.array(points, dtype=float), BasinHoppingMaximizer()._engine_settings(n - 1), 0
    )
    assert scan is not None
    for point, ours in zip(points, scan.log_likelihood, strict=True):
        reference = _scipy_fits(calc.fix_parameters(point), range(3))
        assert np.all(ours >= reference - 1e-6 * np.abs(reference)), ours - reference
    assert tester.wilks_max_likelihood_ratio_p_values(points, rng=0).shape == (4,)


@pytest.mark.parametrize("name", ["response-100-marginal", "wild-profile", "nonlinear"])
def test_data_and_toys_get_the_same_statistic(name):
    # The observed data fitted as if they were a toy give the maximum of the single fit:
    # the test statistic of the data and of the toys is the same computation.
    calc, _ = _calculator(name)
    single = BasinHoppingMaximizer()(calc, rng=0).log_likelihood
    counts = np.asarray(calc.data_model.data_vector)
    as_toy = api.fit_toys(
        calc, BasinHoppingMaximizer(), counts[np.newaxis], np.random.default_rng(1), map
    )
    assert_allclose(as_toy[0], single, rtol=1e-9)
