"""Toy p-values on several workers (issue: distributed toys).

The model: a ``ResponseMatrixPredictor`` with 100 detector variations (8 reco x
120 truth bins; per-truth-bin efficiencies varied by +-10 % and every element by
+-3 %), composed with 4 smooth truth templates (``TemplatePredictor``), marginal
treatment of the variations; the data are a seeded Poisson draw of about 700
events.

* ``toys/max-likelihood-p-value/5000/process-pool``: ``max_likelihood_p_value``
  with 5,000 toys (500 "quick"), each toy re-fitted, on a
  ``ProcessPoolExecutor`` of 2 worker processes. The "NumPy ref" column is the
  very same call on a pool of 1 worker, so ``ours / ref`` is the time on 2
  workers over the time on 1. Target: at least 1.6x faster on 2 workers
  (``<= 0.625x reference``).
* ``toys/max-likelihood-p-value/5000/local-cluster``: the same on a
  ``distributed.LocalCluster`` of 2 worker processes (1 thread each) against
  one of 1 worker.

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
import tempfile
from pathlib import Path

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_toys
    from benchmarks._harness import Workload

_N_RECO, _N_TRUTH, _N_SYST = 8, 120, 100
_TRUTH_WEIGHTS = np.array([300.0, 250.0, 500.0, 150.0])
_TOYS = {"quick": 500, "full": 5000}
_SEED = 20260602


def _likelihood(remu):
    return importlib.import_module(remu.__name__ + ".likelihood")


def _calculator(likelihood):
    rng = np.random.default_rng(_SEED)
    truth_pos = np.linspace(0.0, 1.0, _N_TRUTH)
    reco_pos = np.linspace(0.0, 1.0, _N_RECO)
    smearing = np.exp(-0.5 * ((reco_pos[:, None] - truth_pos[None, :]) / 0.12) ** 2)
    # efficiencies up to 0.8, varied by at most 13 %: every column sums to < 1
    nominal = smearing / smearing.sum(axis=0) * (0.4 + 0.4 * truth_pos)
    matrices = (
        nominal
        * rng.uniform(0.9, 1.1, size=(_N_SYST, 1, _N_TRUTH))
        * rng.uniform(0.97, 1.03, size=(_N_SYST, _N_RECO, _N_TRUTH))
    )
    centres, widths = [0.2, 0.45, 0.6, 0.8], [0.15, 0.3, 0.1, 0.12]
    templates = np.array(
        [np.exp(-0.5 * ((truth_pos - c) / w) ** 2) for c, w in zip(centres, widths, strict=True)]
    )
    templates /= templates.sum(axis=1, keepdims=True)
    path = str(Path(tempfile.mkdtemp(prefix="remu-bench-toys-")) / "response_matrix.npz")
    np.savez(
        path,
        matrices=matrices,
        weights=np.ones(_N_SYST),
        truth_entries=np.full(_N_TRUTH, 1000),
        sparse_indices=np.arange(_N_TRUTH),
        is_sparse=np.array(True),
    )
    data = rng.poisson(matrices[0] @ (_TRUTH_WEIGHTS @ templates))
    response = likelihood.ResponseMatrixPredictor(path)
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData(data), response)
    return calc.compose(likelihood.TemplatePredictor(templates))


#: The environment distributed's nanny sets in each worker, less MALLOC_TRIM_THRESHOLD_.
_WORKER_ENV = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


def _toys(likelihood, data, executor):
    tester = likelihood.HypothesisTester(data["calc"])
    return tester.max_likelihood_p_value(
        N=data["n"], rng=_SEED, executor=executor, return_toys=True
    )


def _setup(kind: str):
    def setup(size: str) -> dict:
        import remu

        likelihood = _likelihood(remu)
        data = {"calc": _calculator(likelihood), "n": _TOYS[size], "kind": kind}
        data["expected"] = _toys(likelihood, data, None)
        if kind == "process-pool":
            import concurrent.futures
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            data["two"] = concurrent.futures.ProcessPoolExecutor(2, mp_context=context)
            data["one"] = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
            data["closers"] = [data["two"].shutdown, data["one"].shutdown]
        else:
            import dask
            import distributed

            closers = []
            for name, workers in (("two", 2), ("one", 1)):
                # Without the nanny's MALLOC_TRIM_THRESHOLD_ (see the README: it makes
                # glibc return and re-fault the fits' temporary arrays on every call).
                with dask.config.set({"distributed.nanny.pre-spawn-environ": _WORKER_ENV}):
                    cluster = distributed.LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        scheduler_kwargs={"dashboard_address": ":0"},
                    )
                client = distributed.Client(cluster)
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
