"""The benchmark protocol shared by every ``benchmarks/bench_*.py`` module.

A benchmark module defines ``WORKLOADS``, a list of :class:`Workload`. It imports
only NumPy (and the standard library) at module level, so that the same file runs
in our ``.venv`` and in ``.venv-oracle`` (the reference remu 0.8.0 on numpy<2):
``run`` receives the ``remu`` package that is importable in the running
interpreter and must use only the drop-in public API, so the very same code times
ours and the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Workload:
    """One timed workload.

    Attributes
    ----------
    name : str
        Unique, e.g. ``"fill/rectilinear-20x20x10/dict"``.
    setup : callable(size) -> data
        Builds the inputs (seeded, deterministic). ``size`` is ``"quick"`` or
        ``"full"``; setup time is not measured.
    run : callable(remu, data) -> Any
        The work, through the public API of the ``remu`` package passed in.
    reference : callable(data) -> Any, optional
        A plain NumPy implementation of the same work, timed in the same run.
    oracle : bool
        Whether ``run`` is meaningful with the reference remu 0.8.0 as well.
    target : str
        The issue's target, shown in the table (e.g. ``"<= 2x reference"``).
    unit_count : callable(data) -> float, optional
        Number of items processed (events, toys), to report a rate.
    memory : str
        ``"tracemalloc"`` (default): the peak of traced allocations in one extra
        run. ``"rss"``: the peak growth of the process's resident set size during
        the first timed run, for workloads whose memory lives outside Python's
        allocators (file readers, worker processes) or whose claim is about the
        whole process (streaming in constant memory).
    teardown : callable(data) -> None, optional
        Releases what ``setup`` started (e.g. a Dask cluster), after the runs.
    """

    name: str
    setup: Callable[[str], Any]
    run: Callable[[Any, Any], Any]
    reference: Callable[[Any], Any] | None = None
    oracle: bool = True
    target: str = ""
    unit_count: Callable[[Any], float] | None = None
    tags: list[str] = field(default_factory=list)
    memory: str = "tracemalloc"
    teardown: Callable[[Any], None] | None = None


#: distributed's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``: glibc
#: then hands freed memory back to the system at once, so every fit's and every look-up
#: chunk's temporary arrays are faulted in again (measured: fits about 40 % and
#: partition fills about 30 % slower). ``None`` unsets it (the nanny's other variables
#: stay); the README shows users the same setting.
DASK_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(n_workers: int) -> tuple[Any, Any]:
    """Start a ``distributed.LocalCluster`` of 1-thread worker processes, and its client.

    The workers start with :data:`DASK_WORKER_CONFIG`, the configuration the README
    recommends. Returns ``(cluster, client)``; the caller closes both.
    """
    import dask
    import distributed

    with dask.config.set(DASK_WORKER_CONFIG):
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
        )
    return cluster, distributed.Client(cluster)
