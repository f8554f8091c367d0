"""LikelihoodCalculator: shapes, systematics strategies, bounds, toys, fixing and composing."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import special, stats

from numeric_asserts import assert_allclose
from remu import likelihood
from remu.errors import InputError
from remu.likelihood import (
    LikelihoodCalculator,
    MarginalLikelihoodSystematics,
    MatrixPredictor,
    NoSystematics,
    PoissonData,
    Predictor,
    ProfileLikelihoodSystematics,
    TemplatePredictor,
)


class ScaledIdentity(Predictor):
    """A tiny hand-written predictor following the Predictor interface: ``mu_s = f_s * p``."""

    def __init__(self, factors, n):
        Predictor.__init__(self, [(0.0, np.inf)] * n, [1.0] * n)
        self.factors = np.asarray(factors, dtype=float)

    def prediction(self, parameters, systematics_index=slice(None)):
        p = np.asarray(parameters, dtype=float)
        out = p[..., np.newaxis, :] * self.factors[:, np.newaxis]
        w = np.broadcast_to(np.arange(1.0, len(self.factors) + 1), out.shape[:-1])
        return out[..., systematics_index, :], w[..., systematics_index]


def test_public_names():
    expected = {
        "derivative", "mapper", "JeffreysPrior", "DataModel", "PoissonData",
        "SystematicsConsumer", "NoSystematics", "MarginalLikelihoodSystematics",
        "ProfileLikelihoodSystematics", "Predictor", "ComposedPredictor", "SummedPredictor",
        "ConcatenatedPredictor", "FixedParameterPredictor", "LinearEinsumPredictor",
        "MatrixPredictor", "ComposedMatrixPredictor", "LinearizedPredictor",
        "FixedParameterMatrixPredictor", "ResponseMatrixPredictor", "TemplatePredictor",
        "LikelihoodCalculator", "LikelihoodMaximizer", "BasinHoppingMaximizer",
        "HypothesisTester",
        # remu's own additions: toy results, iminuit fits
        "ToyResult", "MinuitMaximizer",
    }  # fmt: skip
    assert set(likelihood.__all__) == expected
    for name in expected:
        assert hasattr(likelihood, name)
    assert likelihood.mapper is map
    assert slice(None) == likelihood._SLICE
    for absent in ("ScipyMaximizer", "AffineLinearPredictor", "LinearPredictor"):
        assert not hasattr(likelihood, absent)


def test_import_is_light():
    code = (
        "import sys, remu.likelihood, remu.likelihood_utils; "
        "bad = [m for m in ('emcee', 'matplotlib', 'remu.binning', 'remu.migration', "
        "'remu.plotting', 'remu.matrix_utils', 'remu.yaml') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_checked_example_section_11():
    response = np.array(
        [[[0.8, 0.1], [0.1, 0.7], [0.0, 0.1]], [[0.7, 0.1], [0.2, 0.6], [0.0, 0.2]]]
    )
    detector = MatrixPredictor(response, bounds=[(0, np.inf)] * 2, defaults=[10.0, 10.0])
    data = PoissonData([9, 8, 1])
    calc = LikelihoodCalculator(data, detector)
    assert calc.systematics is MarginalLikelihoodSystematics
    assert calc([10.0, 10.0]) == pytest.approx(-5.1625935031909425, rel=1e-12)
    batch = calc([[10.0, 10.0], [-1.0, 5.0]])
    assert_allclose(batch, [-5.1625935031909425, -np.inf], rtol=1e-12)
    profile = LikelihoodCalculator(data, detector, systematics="profile")
    assert profile.systematics is ProfileLikelihoodSystematics
    assert profile([10.0, 10.0]) == pytest.approx(-4.995876853362059, rel=1e-12)
    # the marginal value is the log of the mean of the per-variation likelihoods
    per_variation = stats.poisson.logpmf([9, 8, 1], response @ [10.0, 10.0]).sum(axis=-1)
    assert calc([10.0, 10.0]) == pytest.approx(special.logsumexp(per_variation) - np.log(2))


def test_shapes_with_data_sets_and_batches():
    data = PoissonData([[0, 1, 2, 3]] * 2)
    calc = LikelihoodCalculator(data, TemplatePredictor([np.eye(4)] * 3))
    result = calc([[0.5] * 4] * 5)
    assert result.shape == (2, 5)
    assert_allclose(result, np.sum(stats.poisson(0.5).logpmf([0, 1, 2, 3])), rtol=1e-12)
    params = np.full((4, 5, 4), 0.5)
    params[1, 2] = -0.5
    result = calc(params)
    assert result.shape == (2, 4, 5)
    assert np.all(result[:, 1, 2] == -np.inf)
    assert np.isfinite(np.delete(result.reshape(2, -1), 7, axis=1)).all()
    # a single out-of-bounds vector with several data sets: -inf for each
    assert_array_equal(calc([-0.5] * 4), [-np.inf, -np.inf])
    # one data set, one vector: a numpy scalar
    single = LikelihoodCalculator(PoissonData([0, 1, 2, 3]), TemplatePredictor(np.eye(4)))
    assert isinstance(single([0.5] * 4), np.float64)
    assert single([-0.5] * 4) == -np.inf


def test_hand_written_predictor_and_strategies():
    pred = ScaledIdentity([1.0, 2.0, 0.5], 2)
    k = np.array([3, 5])
    params = np.array([[2.0, 4.0], [1.0, 1.0]])
    per_syst = stats.poisson.logpmf(k, params[:, None, :] * pred.factors[:, None]).sum(-1)
    w = np.array([1.0, 2.0, 3.0]) / 6.0
    for name in ("marginal", "average"):
        calc = LikelihoodCalculator(PoissonData(k), pred, systematics=name)
        assert_allclose(calc(params), special.logsumexp(per_syst, b=w, axis=-1), rtol=1e-12)
    for name in ("profile", "maximum"):
        calc = LikelihoodCalculator(PoissonData(k), pred, systematics=name)
        assert_allclose(calc(params), per_syst.max(axis=-1), rtol=1e-12)
    keep = LikelihoodCalculator(PoissonData(k), pred, systematics=NoSystematics)
    assert_allclose(keep(params), per_syst, rtol=1e-12)
    assert_allclose(keep(params[0]), per_syst[0], rtol=1e-12)
    # NoSystematics with a batch and an out-of-bounds row: whole row -inf
    out = keep([[2.0, 4.0], [-1.0, 1.0]])
    assert out.shape == (2, 3)
    assert np.all(out[1] == -np.inf)
    assert np.isfinite(out[0]).all()
    # instances work as well as classes
    inst = LikelihoodCalculator(PoissonData(k), pred, systematics=ProfileLikelihoodSystematics())
    assert_allclose(inst(params), per_syst.max(axis=-1))


def test_systematics_index():
    pred = ScaledIdentity([1.0, 2.0, 0.5], 2)
    k = np.array([3, 5])
    calc = LikelihoodCalculator(PoissonData(k), pred)
    one = calc([2.0, 4.0], systematics_index=1)
    assert one == pytest.approx(stats.poisson.logpmf(k, [4.0, 8.0]).sum())
    assert calc([[2.0, 4.0]] * 3, systematics_index=np.int64(2)).shape == (3,)
    sub = calc([2.0, 4.0], systematics_index=slice(0, 2))
    per = stats.poisson.logpmf(k, np.array([[2.0, 4.0], [4.0, 8.0]])).sum(-1)
    assert sub == pytest.approx(special.logsumexp(per, b=[1 / 3, 2 / 3]))


def test_unknown_systematics_rejected_at_construction():
    pred = ScaledIdentity([1.0], 2)
    with pytest.raises(ValueError, match="'marginal', 'average', 'profile', 'maximum'"):
        LikelihoodCalculator(PoissonData([1, 2]), pred, systematics="mean")
    with pytest.raises(TypeError, match="consume_axis"):
        LikelihoodCalculator(PoissonData([1, 2]), pred, systematics=3)


def test_construction_and_call_errors():
    pred = TemplatePredictor(np.eye(4))
    with pytest.raises(InputError, match="4 outputs but the data have 3 bins"):
        LikelihoodCalculator(PoissonData([1, 2, 3]), pred)
    with pytest.raises(TypeError, match="DataModel"):
        LikelihoodCalculator([1, 2, 3, 4], pred)
    with pytest.raises(TypeError, match="Predictor"):
        LikelihoodCalculator(PoissonData([1, 2, 3, 4]), np.eye(4))
    calc = LikelihoodCalculator(PoissonData([1, 2, 3, 4]), pred)
    with pytest.raises(InputError, match="length 4"):
        calc([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="length 4"):
        calc(np.ones((3, 5)))
    with pytest.raises(InputError, match="length 4"):
        calc(1.0)


def test_toy_calculators():
    pred = MatrixPredictor([np.eye(3), 2 * np.eye(3)], weights=[1.0, 3.0])
    calc = LikelihoodCalculator(PoissonData([1, 2, 3]), pred, systematics="profile")
    toys = calc.generate_toy_likelihood_calculators([1.0, 2.0, 3.0], N=5, rng=3)
    assert len(toys) == 5
    for toy in toys:
        assert type(toy) is LikelihoodCalculator
        assert toy.predictor is pred
        assert toy.systematics is ProfileLikelihoodSystematics
        assert isinstance(toy.data_model, PoissonData)
        assert toy.data_model.data_vector.shape == (3,)
    again = calc.generate_toy_likelihood_calculators([1.0, 2.0, 3.0], N=5, rng=3)
    assert all(
        np.array_equal(a.data_model.data_vector, b.data_model.data_vector)
        for a, b in zip(toys, again, strict=True)
    )
    np.random.seed(5)
    a = calc.generate_toy_likelihood_calculators([1.0, 2.0, 3.0], N=4)
    np.random.seed(5)
    b = calc.generate_toy_likelihood_calculators([1.0, 2.0, 3.0], N=4)
    assert all(
        np.array_equal(x.data_model.data_vector, y.data_model.data_vector)
        for x, y in zip(a, b, strict=True)
    )
    with pytest.raises(ValueError, match="1D"):
        calc.generate_toy_likelihood_calculators([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=">= 0"):
        calc.generate_toy_likelihood_calculators([-1.0, 2.0, 3.0])


def test_toys_follow_systematics_weights():
    # variation 0 predicts 0 in every bin, variation 1 predicts 50; weights 1 : 3
    pred = MatrixPredictor([np.zeros((2, 2)), 50 * np.eye(2)], weights=[1.0, 3.0])
    calc = LikelihoodCalculator(PoissonData([0, 0]), pred)
    toys = calc._generate_toy_data([1.0, 1.0], 4000, np.random.default_rng(0))
    assert toys.shape == (4000, 2)
    empty = np.all(toys == 0, axis=-1).mean()
    assert empty == pytest.approx(0.25, abs=0.03)
    assert toys[toys.sum(axis=-1) > 0].mean() == pytest.approx(50.0, rel=0.02)


def test_fix_parameters_and_compose():
    data = PoissonData([[0, 1, 2, 3]] * 2)
    calc = LikelihoodCalculator(data, TemplatePredictor([np.eye(4)] * 3))
    fixed = calc.fix_parameters([None, np.nan, None, 0.5])
    assert len(fixed.predictor.defaults) == 3
    assert_allclose(fixed([0.3, 0.4, 0.6]), calc([0.3, 0.4, 0.6, 0.5]))
    composed = calc.compose(TemplatePredictor([[1, 1, 1, 1]]))
    assert len(composed.predictor.defaults) == 1
    assert_allclose(composed([0.7]), calc([0.7] * 4))
    assert_allclose(composed([[0.7], [-1.0]]), calc([[0.7] * 4, [-1.0] * 4]))
    assert fixed.systematics is calc.systematics
    with pytest.raises(InputError, match="one entry per parameter"):
        calc.fix_parameters([None, 1.0])
    with pytest.raises(InputError, match=r"parameter 3 to -1\.0"):
        calc.fix_parameters([None, None, None, -1.0])


def test_calculators_pickle():
    calc = LikelihoodCalculator(PoissonData([1, 2]), ScaledIdentity([1.0, 2.0], 2), "profile")
    clone = pickle.loads(pickle.dumps(calc))
    assert clone([1.0, 2.0]) == calc([1.0, 2.0])


def test_unreadable_response_matrix_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an npz archive")
    with pytest.raises(ValueError, match=r"bad\.npz"):
        likelihood.ResponseMatrixPredictor(bad)
    partial = tmp_path / "partial.npz"
    np.savez(partial, matrices=np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="truth_entries"):
        likelihood.ResponseMatrixPredictor(partial)
