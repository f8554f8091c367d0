"""User-defined maximizers in every HypothesisTester method, serial and with a process pool.

ReMU documents ``LikelihoodMaximizer`` as the extension point: subclass it and
implement ``minimize(self, fun, x0, bounds, **kwargs)``. A seed reaches a maximizer
only through an explicit ``rng`` parameter; ``**kwargs`` forwarded to scipy must
never receive one.
"""

from __future__ import annotations

import multiprocess
import numpy as np
import pytest
from scipy import optimize

from numeric_asserts import assert_allclose
from remu import likelihood
from remu.likelihood import (
    HypothesisTester,
    LikelihoodCalculator,
    LikelihoodMaximizer,
    MatrixPredictor,
    PoissonData,
)


class NoKwargs(LikelihoodMaximizer):
    """``minimize(fun, x0, bounds)``: no keyword arguments at all."""

    def minimize(self, fun, x0, bounds):
        return optimize.minimize(fun, x0, bounds=bounds, method="L-BFGS-B")


class ForwardsKwargs(LikelihoodMaximizer):
    """Forwards its keyword arguments to scipy (which rejects ``rng``)."""

    def minimize(self, fun, x0, bounds, **kwargs):
        return optimize.minimize(fun, x0, bounds=bounds, method="L-BFGS-B", **kwargs)


class SeedRecorder(LikelihoodMaximizer):
    """Asks for the seed with an explicit ``rng`` parameter and records it."""

    def __init__(self):
        self.seeds = []

    def minimize(self, fun, x0, bounds, rng=None, **kwargs):
        self.seeds.append(rng)
        return optimize.minimize(fun, x0, bounds=bounds, method="L-BFGS-B", **kwargs)


def _tester(maximizer):
    predictor = MatrixPredictor(
        [[[1.0, 0.2], [0.3, 1.0], [0.1, 0.1]], [[0.9, 0.2], [0.3, 1.1], [0.1, 0.2]]],
        bounds=[(0.0, np.inf)] * 2,
        defaults=[5.0, 5.0],
    )
    calc = LikelihoodCalculator(PoissonData([12, 9, 2]), predictor)
    return HypothesisTester(calc, maximizer=maximizer)


def _all_methods(tester):
    """Every p-value method of the tester, seeded."""
    return {
        "likelihood_p_value": float(tester.likelihood_p_value([10.0, 7.0], N=50, rng=1)),
        "max_likelihood_p_value": float(tester.max_likelihood_p_value(N=6, rng=2)),
        "max_likelihood_ratio_p_value": float(
            tester.max_likelihood_ratio_p_value([None, 7.0], N=5, rng=3)
        ),
        "wilks_max_likelihood_ratio_p_value": float(
            tester.wilks_max_likelihood_ratio_p_value([None, 7.0], rng=4)
        ),
        "wilks_max_likelihood_ratio_p_values": tester.wilks_max_likelihood_ratio_p_values(
            [[None, 7.0], [11.0, None], [10.0, 7.0]], rng=5
        ).tolist(),
    }


@pytest.mark.parametrize("maximizer_class", [NoKwargs, ForwardsKwargs, SeedRecorder])
def test_every_method_accepts_a_user_maximizer(maximizer_class):
    results = _all_methods(_tester(maximizer_class()))
    for name, value in results.items():
        assert np.all(np.isfinite(value)), name
        assert np.all((np.asarray(value) >= 0.0) & (np.asarray(value) <= 1.0)), name


@pytest.mark.parametrize("maximizer_class", [NoKwargs, ForwardsKwargs, SeedRecorder])
def test_a_direct_fit_accepts_rng(maximizer_class):
    calc = _tester(None).likelihood_calculator
    fit = maximizer_class()(calc, rng=3)
    assert_allclose(fit.log_likelihood, -fit.fun)
    assert fit.success


def test_the_seed_reaches_only_an_explicit_rng_parameter():
    recorder = SeedRecorder()
    tester = _tester(recorder)
    tester.max_likelihood_p_value(N=3, rng=7)
    # One observed fit and three toys, each with its own integer seed.
    assert len(recorder.seeds) == 4
    assert all(isinstance(seed, int) for seed in recorder.seeds)
    assert len(set(recorder.seeds)) == 4
    recorder.seeds.clear()
    recorder(tester.likelihood_calculator, rng=11)
    assert recorder.seeds == [11]


def test_wilks_scan_with_a_user_maximizer_equals_the_single_calls():
    tester = _tester(NoKwargs())
    points = [[None, 7.0], [11.0, None], [10.0, 7.0]]
    scan = tester.wilks_max_likelihood_ratio_p_values(points, rng=0)
    single = [tester.wilks_max_likelihood_ratio_p_value(p, rng=0) for p in points]
    assert_allclose(scan, single, rtol=1e-9)


@pytest.mark.parametrize("maximizer_class", [NoKwargs, ForwardsKwargs, SeedRecorder])
def test_every_method_with_a_process_pool_mapper(maximizer_class):
    serial = _all_methods(_tester(maximizer_class()))
    with multiprocess.Pool(2) as pool:
        try:
            likelihood.mapper = pool.map
            parallel = _all_methods(_tester(maximizer_class()))
        finally:
            likelihood.mapper = map
    # Seeds are drawn in the calling process and the local fits are deterministic.
    assert parallel == serial
