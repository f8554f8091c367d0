"""Toy p-values on several workers (issue: distributed toys).

The model is that of the 4-template fits of ``bench_fits.py`` (a
``ResponseMatrixPredictor`` with 100 detector variations, 8 reco x 120 truth bins,
composed with 4 smooth truth templates), with the marginal treatment of the
variations and data drawn from a seed of its own.

* ``toys/max-likelihood-p-value/5000/process-pool``: ``max_likelihood_p_value``
  with 5,000 toys (500 "quick"), each toy re-fitted, on a
  ``ProcessPoolExecutor`` of 2 worker processes. The "NumPy ref" column is the
  very same call on a pool of 1 worker, so ``ours / ref`` is the time on 2
  workers over the time on 1. Target: at least 1.6x faster on 2 workers
  (``<= 0.625x reference``).
* ``toys/max-likelihood-p-value/5000/local-cluster``: the same on a
  ``distributed.LocalCluster`` of 2 worker processes (1 thread each, started
  without the nanny's ``MALLOC_TRIM_THRESHOLD_`` as the README recommends)
  against one of 1 worker.

Both sides check in every run that their p-value and the statistic of every toy
are identical to those of the same call without an executor (computed once in
``setup``): the same seed gives the same p-value on any number of workers. The
pools and clusters start in ``setup`` (warmed up by a small call) and close in
``teardown``; on a 2-core machine shared with other jobs the speed-up is only
meaningful when the machine is otherwise idle. remu 0.8.0 has no executors:
``oracle=False``.
"""

from __future__ import annotations

import importlib

import numpy as np

try:
    from _harness import Workload, local_cluster
    from bench_fits import _calculator, _inputs
except ImportError:  # imported as benchmarks.bench_toys
    from benchmarks._harness import Workload, local_cluster
    from benchmarks.bench_fits import _calculator, _inputs

_TOYS = {"quick": 500, "full": 5000}
_SEED = 20260602


def _likelihood(remu):
    return importlib.import_module(remu.__name__ + ".likelihood")


def _toys(likelihood, data, executor):
    tester = likelihood.HypothesisTester(data["calc"])
    return tester.max_likelihood_p_value(
        N=data["n"], rng=_SEED, executor=executor, return_toys=True
    )


def _setup(kind: str):
    def setup(size: str) -> dict:
        import remu

        likelihood = _likelihood(remu)
        calc = _calculator(likelihood, _inputs(_SEED), 4, "marginal")
        data = {"calc": calc, "n": _TOYS[size], "kind": kind}
        data["expected"] = _toys(likelihood, data, None)
        if kind == "process-pool":
            import concurrent.futures
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            data["two"] = concurrent.futures.ProcessPoolExecutor(2, mp_context=context)
            data["one"] = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
            data["closers"] = [data["two"].shutdown, data["one"].shutdown]
        else:
            closers = []
            for name, workers in (("two", 2), ("one", 1)):
                cluster, client = local_cluster(workers)
                data[name] = client
                closers += [client.close, cluster.close]
            data["closers"] = closers
        # warm up: worker start and imports, not timed
        small = dict(data, n=200)
        for name in ("two", "one"):
            _toys(likelihood, small, data[name])
        return data

    return setup


def _teardown(data: dict) -> None:
    for close in data["closers"]:
        close()


def _checked(data: dict, which: str):
    import remu

    result = _toys(_likelihood(remu), data, data[which])
    expected = data["expected"]
    if result.p_value != expected.p_value or not np.array_equal(result.toys, expected.toys):
        msg = (
            f"{data['kind']} with {which} worker(s): p-value {result.p_value} differs from "
            f"{expected.p_value} without an executor"
        )
        raise AssertionError(msg)
    return float(result.p_value)


def _two_workers(_remu, data):
    return _checked(data, "two")


def _one_worker(data):
    return _checked(data, "one")


def _count(data) -> float:
    return float(data["n"])


WORKLOADS = [
    Workload(
        name=f"toys/max-likelihood-p-value/5000/{kind}",
        setup=_setup(kind),
        run=_two_workers,
        reference=_one_worker,
        oracle=False,
        target="<= 0.625x reference",
        unit_count=_count,
        teardown=_teardown,
        tags=["toys", "scaleout"],
    )
    for kind in ("process-pool", "local-cluster")
]
