"""Toy p-values: blocks of toys on executors, the mapper, ToyResult, progress and logging.

The executors are real: a ``ProcessPoolExecutor`` (spawned worker processes), a
``ThreadPoolExecutor`` and a ``distributed.LocalCluster`` of 2 worker processes.
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import multiprocessing
import pickle

import multiprocess
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from dask_cluster import local_client
from numeric_asserts import assert_allclose
from remu import likelihood
from remu._likelihood.engine import batching
from remu.errors import InputError
from remu.likelihood import (
    BasinHoppingMaximizer,
    HypothesisTester,
    LikelihoodCalculator,
    LikelihoodMaximizer,
    MatrixPredictor,
    PoissonData,
    TemplatePredictor,
    ToyResult,
)


def model(n_syst: int = 12, systematics: str = "marginal") -> LikelihoodCalculator:
    """Two templates folded through a varied 6 x 10 detector (a view: not contiguous)."""
    rng = np.random.default_rng(3)
    truth = np.linspace(0.0, 1.0, 10)
    smearing = np.exp(-0.5 * ((np.linspace(0, 1, 6)[:, None] - truth) / 0.2) ** 2)
    nominal = smearing / smearing.sum(axis=0) * 0.8
    matrices = nominal * rng.uniform(0.9, 1.1, size=(n_syst, 1, 10))
    templates = np.array([np.exp(-((truth - 0.3) ** 2) / 0.05), np.ones(10)])
    templates /= templates.sum(axis=1, keepdims=True)
    detector = MatrixPredictor(matrices, bounds=[(0, np.inf)] * 10)
    data = rng.poisson(matrices[0] @ (templates.T @ [200.0, 100.0]))
    calc = LikelihoodCalculator(PoissonData(data), detector, systematics)
    return calc.compose(TemplatePredictor(templates))


class LocalFit(LikelihoodMaximizer):
    """A deterministic scipy fit: toys are fitted one by one (no engine)."""

    def minimize(self, fun, x0, bounds, **_kwargs):
        from scipy import optimize

        return optimize.minimize(fun, x0 + 100.0, bounds=bounds, method="L-BFGS-B")


def all_toy_tests(tester: HypothesisTester, **options) -> dict[str, ToyResult]:
    """The three toy p-values with several blocks each, seeded, as ToyResults."""
    return {
        "likelihood": tester.likelihood_p_value(
            [[200.0, 100.0], [150.0, 150.0]], N=2100, rng=1, return_toys=True, **options
        ),
        "max_likelihood": tester.max_likelihood_p_value(N=150, rng=2, return_toys=True, **options),
        "ratio": tester.max_likelihood_ratio_p_value(
            [None, 80.0], N=140, rng=3, return_toys=True, **options
        ),
    }


def assert_same(results: dict[str, ToyResult], reference: dict[str, ToyResult]) -> None:
    for name, result in results.items():
        expected = reference[name]
        assert_array_equal(result.p_value, expected.p_value, err_msg=name)
        assert_array_equal(result.toys, expected.toys, err_msg=name)
        assert_array_equal(result.observed, expected.observed, err_msg=name)


@pytest.fixture(scope="module")
def reference() -> dict[str, ToyResult]:
    return all_toy_tests(HypothesisTester(model()))


@pytest.fixture(scope="module")
def spawned_pool():
    """Two spawned worker processes (spawn: no fork of a process with threads)."""
    with concurrent.futures.ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        yield pool


def test_the_same_seed_gives_the_same_toys_on_every_executor(reference, spawned_pool):
    tester = HypothesisTester(model())
    assert_same(all_toy_tests(tester), reference)  # the same call again
    assert_same(all_toy_tests(tester, executor=spawned_pool), reference)
    with concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    ) as one:
        assert_same(all_toy_tests(tester, executor=one), reference)
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        assert_same(all_toy_tests(tester, executor=threads), reference)


def test_the_same_seed_gives_the_same_toys_on_a_local_cluster(reference):
    tester = HypothesisTester(model())
    with local_client() as client:
        assert_same(all_toy_tests(tester, executor=client), reference)


def test_the_mapper_gives_the_same_toys_as_the_executors(reference):
    tester = HypothesisTester(model())
    with multiprocess.Pool(2) as pool:
        try:
            likelihood.mapper = pool.map
            mapped = all_toy_tests(tester)
        finally:
            likelihood.mapper = map
    assert_same(mapped, reference)


def test_the_plain_p_values_are_those_of_the_toy_results(reference):
    tester = HypothesisTester(model())
    assert_array_equal(
        tester.likelihood_p_value([[200.0, 100.0], [150.0, 150.0]], N=2100, rng=1),
        reference["likelihood"].p_value,
    )
    plain = tester.max_likelihood_p_value(N=150, rng=2)
    assert isinstance(plain, np.float64)
    assert plain == reference["max_likelihood"].p_value
    assert tester.max_likelihood_ratio_p_value([None, 80.0], N=140, rng=3) == (
        reference["ratio"].p_value
    )


def test_per_toy_fits_are_the_same_on_an_executor(spawned_pool):
    # A maximizer without the engine: toys fitted one by one, each seeded by its place.
    tester = HypothesisTester(model(n_syst=1), maximizer=LocalFit())
    serial = tester.max_likelihood_ratio_p_value([None, 80.0], N=70, rng=4, return_toys=True)
    parallel = tester.max_likelihood_ratio_p_value(
        [None, 80.0], N=70, rng=4, return_toys=True, executor=spawned_pool
    )
    assert_array_equal(parallel.toys, serial.toys)
    assert np.all(np.isfinite(serial.toys))


def test_engine_and_per_toy_fits_see_the_same_toys():
    # The blocks do not depend on how their toys are fitted: with a model whose maxima
    # both find, the same statistics.
    calc = model(n_syst=1)
    fast = HypothesisTester(calc).max_likelihood_p_value(N=70, rng=5, return_toys=True)
    slow = HypothesisTester(calc, maximizer=LocalFit()).max_likelihood_p_value(
        N=70, rng=5, return_toys=True
    )
    assert_allclose(fast.toys, slow.toys, rtol=1e-6)
    assert_allclose(fast.observed, slow.observed, rtol=1e-6)


def test_more_toys_extend_the_blocks_of_fewer():
    # Block k has its own stream: 128 toys (two blocks) start with the 64 of one block.
    tester = HypothesisTester(model())
    few = tester.max_likelihood_p_value(N=64, rng=6, return_toys=True)
    more = tester.max_likelihood_p_value(N=128, rng=6, return_toys=True)
    assert_array_equal(more.toys[:64], few.toys)
    assert not np.array_equal(more.toys[64:], few.toys)


def test_a_mapper_returning_futures_points_to_executor():
    tester = HypothesisTester(model())
    with concurrent.futures.ThreadPoolExecutor(2) as pool:

        def submitting(function, items):
            return [pool.submit(function, item) for item in items]

        try:
            likelihood.mapper = submitting
            with pytest.raises(TypeError, match=r"returned a future.*executor=client"):
                tester.max_likelihood_p_value(N=10, rng=0)
        finally:
            likelihood.mapper = map


def test_client_map_as_mapper_points_to_executor():
    tester = HypothesisTester(model(), maximizer=LocalFit())
    with local_client() as client:
        try:
            likelihood.mapper = client.map
            with pytest.raises(TypeError, match=r"distributed.*executor="):
                tester.max_likelihood_p_value(N=4, rng=0)
        finally:
            likelihood.mapper = map
        # the client still works, and is the way to run the toys there
        p = tester.max_likelihood_p_value(N=4, rng=0, executor=client)
    assert 0.0 <= p <= 1.0


def test_a_wrong_executor_is_named():
    tester = HypothesisTester(model())
    with pytest.raises(TypeError, match=r"executor must be None, a concurrent\.futures\.Executor"):
        tester.max_likelihood_p_value(N=4, executor=map)
    with pytest.raises(TypeError, match="got list"):
        tester.likelihood_p_value([200.0, 100.0], N=4, executor=[])


def test_keywords_are_taken_out_before_the_predictor():
    # likelihood_p_value passes its other keyword arguments to the predictor
    tester = HypothesisTester(model())
    result = tester.likelihood_p_value(
        [200.0, 100.0],
        N=50,
        rng=0,
        systematics_index=slice(None),
        progress=False,
        return_toys=True,
        executor=None,
    )
    assert result.N == 50
    with pytest.raises(TypeError):
        tester.likelihood_p_value([200.0, 100.0], N=50, unknown_option=1)


def test_a_worker_error_reaches_the_caller(spawned_pool):
    class Broken(LikelihoodMaximizer):
        def minimize(self, *_args, **_kwargs):
            msg = "this maximizer always fails"
            raise RuntimeError(msg)

    tester = HypothesisTester(model(), maximizer=Broken())
    with pytest.raises(RuntimeError, match="always fails"):
        # the observed fit fails in the caller already
        tester.max_likelihood_p_value(N=4, rng=0, executor=spawned_pool)


# -- ToyResult -----------------------------------------------------------------------------


def test_toy_result_fields(reference):
    result = reference["max_likelihood"]
    assert result.N == 150
    assert result.toys.shape == (150,)
    assert result.p_value == np.sum(result.observed >= result.toys) / 150
    assert result.error == pytest.approx(np.sqrt(result.p_value * (1 - result.p_value) / 150))
    assert isinstance(result.observed, float)
    low, high = result.interval()
    assert low <= result.p_value <= high
    assert "max_likelihood_p_value" in repr(result)
    assert "N=150" in repr(result)
    with pytest.raises(ValueError, match="read-only"):
        result.toys[0] = 0.0


def test_likelihood_p_value_shapes_with_data_sets_and_vectors():
    calc = LikelihoodCalculator(PoissonData([[3, 5], [30, 1]]), TemplatePredictor(np.eye(2)))
    tester = HypothesisTester(calc)
    vectors = np.array([[[3.0, 5.0], [4.0, 4.0], [9.0, 9.0]]] * 2)  # (2, 3, 2)
    result = tester.likelihood_p_value(vectors, N=300, rng=2, return_toys=True)
    plain = tester.likelihood_p_value(vectors, N=300, rng=2)
    assert plain.shape == (2, 2, 3)  # data sets first, then the vectors' axes
    assert result.p_value.shape == (2, 2, 3)
    assert result.observed.shape == (2, 2, 3)
    assert result.toys.shape == (2, 3, 300)  # toys of every vector, shared by data sets
    assert_array_equal(result.p_value, plain)
    assert_allclose(result.observed, calc(vectors))
    assert_allclose(result.error, np.sqrt(plain * (1 - plain) / 300))


def test_halves_merge_into_the_whole_test():
    tester = HypothesisTester(model())
    first = tester.max_likelihood_ratio_p_value([None, 80.0], N=64, rng=10, return_toys=True)
    second = tester.max_likelihood_ratio_p_value([None, 80.0], N=64, rng=11, return_toys=True)
    merged = first + second
    assert merged.N == 128
    assert_array_equal(merged.toys, np.concatenate([first.toys, second.toys]))
    assert merged.p_value == pytest.approx((first.p_value + second.p_value) / 2)
    assert sum([first, second]).N == 128
    assert pickle.loads(pickle.dumps(merged)).p_value == merged.p_value
    again = pickle.loads(pickle.dumps(first)) + second
    assert again.N == 128


def test_different_tests_do_not_merge():
    tester = HypothesisTester(model())
    a = tester.max_likelihood_ratio_p_value([None, 80.0], N=10, rng=0, return_toys=True)
    b = tester.max_likelihood_ratio_p_value([None, 90.0], N=10, rng=0, return_toys=True)
    c = tester.max_likelihood_p_value(N=10, rng=0, return_toys=True)
    with pytest.raises(InputError, match="different tests"):
        _ = a + b
    with pytest.raises(InputError, match="different tests"):
        _ = a + c
    calc = model()  # the same model and hypothesis with other data
    calc.data_model = PoissonData(np.asarray(calc.data_model.data_vector) + 1)
    d = HypothesisTester(calc).max_likelihood_ratio_p_value(
        [None, 80.0], N=10, rng=0, return_toys=True
    )
    with pytest.raises(InputError, match="different tests"):
        _ = a + d
    with pytest.raises(TypeError):
        _ = a + 1.0


def test_different_observed_statistics_do_not_merge():
    a = ToyResult("t", observed=-3.0, toys=[-4.0, -2.0])
    b = ToyResult("t", observed=-3.5, toys=[-4.0, -2.0])
    with pytest.raises(InputError, match="observed statistics differ"):
        _ = a + b
    # rounding of the fits is allowed
    c = ToyResult("t", observed=-3.0 * (1 + 1e-12), toys=[-1.0])
    assert (a + c).N == 3
    with pytest.raises(InputError, match="different shapes"):
        _ = ToyResult("t", observed=[1.0, 2.0], toys=[1.0]) + ToyResult("t", 1.0, [1.0])
    with pytest.raises(InputError, match="at least one toy"):
        ToyResult("t", 1.0, [])
    with pytest.raises(InputError, match="do not broadcast"):
        ToyResult("t", [1.0, 2.0, 3.0], [[1.0], [2.0]])


# -- progress and logging --------------------------------------------------------------------


def test_progress_bar_counts_the_toys(spawned_pool):
    import tqdm  # the progress extra

    assert tqdm.__version__
    tester = HypothesisTester(model())
    for executor in (None, spawned_pool):
        out = io.StringIO()
        tester.max_likelihood_p_value(
            N=130, rng=0, executor=executor, progress={"file": out, "mininterval": 0}
        )
        text = out.getvalue()
        assert "max_likelihood_p_value" in text
        assert "130/130" in text
    # a ratio fits every toy twice (H0 and H1) and still counts toys
    out = io.StringIO()
    tester.max_likelihood_ratio_p_value(
        [None, 80.0], N=70, rng=0, progress={"file": out, "mininterval": 0}
    )
    assert "70/70" in out.getvalue()
    assert ".5/" not in out.getvalue()


def test_per_toy_fallback_is_logged(caplog):
    tester = HypothesisTester(model(), maximizer=LocalFit())
    with caplog.at_level(logging.INFO, logger="remu.likelihood"):
        tester.max_likelihood_p_value(N=3, rng=0)
    messages = [r.getMessage() for r in caplog.records if r.name == "remu.likelihood"]
    assert any("fitted one by one by LocalFit" in m for m in messages), messages


def test_silent_by_default(capsys):
    HypothesisTester(model(), maximizer=LocalFit()).max_likelihood_p_value(N=3, rng=0)
    captured = capsys.readouterr()
    assert captured.err == captured.out == ""


def test_refitted_toys_are_logged(caplog, monkeypatch):
    # Engine fits that report no convergence are repeated by scipy, and counted.
    real = batching.global_fits

    def unconverged(*args, **kwargs):
        x, value, ok = real(*args, **kwargs)
        return x, value, np.zeros_like(ok)

    monkeypatch.setattr(batching, "global_fits", unconverged)
    tester = HypothesisTester(model(n_syst=2))
    with caplog.at_level(logging.INFO, logger="remu.likelihood"):
        tester.max_likelihood_p_value(N=5, rng=0)
    messages = [r.getMessage() for r in caplog.records if r.name == "remu.likelihood"]
    assert any("5 of 5 toy fits did not converge" in m for m in messages), messages


def test_single_fit_fallback_is_logged(caplog):
    # Predictions that can turn negative within the bounds: the engine leaves them to scipy.
    predictor = MatrixPredictor([[1.0, -0.5], [0.2, 1.0]], bounds=[(0, 50), (0, 50)])
    calc = LikelihoodCalculator(PoissonData([10, 12]), predictor)
    with caplog.at_level(logging.INFO, logger="remu.likelihood"):
        BasinHoppingMaximizer()(calc, rng=0)
    messages = [r.getMessage() for r in caplog.records if r.name == "remu.likelihood"]
    assert any("does not apply to this model" in m for m in messages), messages
