"""Filling beyond one process's memory: Parquet partitions on Dask, ROOT files streamed.

* ``scaleout/parquet-dask/rectilinear-4000`` and ``.../response-100x100``: 2×10^7
  events ("full"; 2×10^6 "quick") in 20 Parquet files, read with
  ``dask.dataframe.read_parquet`` and filled on a ``distributed.LocalCluster``
  of 2 worker processes (1 thread each, started without the nanny's
  ``MALLOC_TRIM_THRESHOLD_`` as the README recommends) into a 50 × 80 ``RectilinearBinning``
  and into a 100 × 100 ``ResponseMatrix``. The reference is what one process
  does without Dask: ``pandas.read_parquet`` of the same files (the needed
  columns) and remu's in-memory fill. Targets: at least 1.5× the reference's
  throughput (``<= 0.67x reference``), and the client process's resident set
  grows by less than 200 MB.
* ``scaleout/root-iterate/response-100x100``: a 10^7-event ROOT file ("full";
  10^6 "quick"; three float64 branches, about 240 MB) streamed through
  ``uproot.iterate`` by ``ResponseMatrix.fill_from_root``. The reference reads
  the whole tree into memory (``TTree.arrays(library="np")``) and fills it.
  Target: the resident set grows by less than 150 MB.

Memory is the growth of the resident set size during the first timed run
(``memory="rss"``). The cluster is started, and the data files are written, in
``setup`` (not timed); the files are cached in ``.bench-cache/`` (git-ignored).
remu 0.8.0 has none of this: ``oracle=False``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

try:
    from _harness import Workload, local_cluster
except ImportError:  # imported as benchmarks.bench_scaleout
    from benchmarks._harness import Workload, local_cluster

CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"
_PARQUET_EVENTS = {"quick": 2 * 10**6, "full": 2 * 10**7}
_PARQUET_FILES = 20
_ROOT_EVENTS = {"quick": 10**6, "full": 10**7}
_EDGES = np.linspace(0.0, 10.0, 101)
_GRID = (np.linspace(0.0, 10.0, 51), np.linspace(0.0, 1.0, 81))  # 50 x 80 = 4000 bins


def _events(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.2, 10.2, n)
    reco_x = x + rng.normal(0.0, 0.3, n)
    reco_x[rng.random(n) > 0.8] = np.nan
    return {"x": x, "y": rng.uniform(0.0, 1.0, n), "reco_x": reco_x, "w": rng.uniform(0.5, 1.5, n)}


def _atomic_folder(target: Path, write) -> Path:
    """Write a cache folder once (into a temporary name, renamed when complete)."""
    if target.is_dir():
        return target
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    write(tmp)
    try:
        tmp.rename(target)
    except OSError:  # written meanwhile by another run
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _parquet_files(size: str) -> Path:
    import pandas as pd

    n = _PARQUET_EVENTS[size]

    def write(folder: Path) -> None:
        per_file = n // _PARQUET_FILES
        for k in range(_PARQUET_FILES):
            frame = pd.DataFrame(_events(per_file, seed=1000 + k))
            frame.to_parquet(folder / f"part-{k:03d}.parquet", engine="pyarrow", index=False)

    return _atomic_folder(CACHE / f"parquet-{n}", write)


def _root_file(size: str) -> Path:
    import uproot

    n = _ROOT_EVENTS[size]

    def write(folder: Path) -> None:
        step = 10**5  # entries per basket: 800 kB per branch, as in typical ntuples
        with uproot.recreate(folder / "events.root") as f:
            tree = f.mktree("events", {"true_x": np.float64, "reco_x": np.float64, "w": np.float64})
            for start in range(0, n, step):
                ev = _events(min(step, n - start), seed=start)
                tree.extend({"true_x": ev["x"], "reco_x": ev["reco_x"], "w": ev["w"]})

    return _atomic_folder(CACHE / f"root-{n}-baskets-{10**5}", write) / "events.root"


def _modules(remu):
    binning = importlib.import_module(remu.__name__ + ".binning")
    migration = importlib.import_module(remu.__name__ + ".migration")
    return binning, migration


def _grid(remu):
    binning, _ = _modules(remu)
    return binning.RectilinearBinning(["x", "y"], list(_GRID))


def _matrix(remu, truth_variable="x"):
    binning, migration = _modules(remu)
    return migration.ResponseMatrix(
        binning.LinearBinning("reco_x", _EDGES), binning.LinearBinning(truth_variable, _EDGES)
    )


# -- Parquet on a LocalCluster ----------------------------------------------------------


def _cluster_setup(size: str) -> dict:
    import remu

    folder = _parquet_files(size)
    cluster, client = local_cluster(2)
    data = {"folder": folder, "cluster": cluster, "client": client, "n": _PARQUET_EVENTS[size]}
    # warm up: imports on the client and on both workers, not timed
    import dask.dataframe as dd

    small = dd.read_parquet(sorted(folder.glob("*.parquet"))[:2], columns=["x", "y", "w"])
    _grid(remu).fill(small.head(1000, npartitions=2, compute=False), weight=1.0)
    client.run(lambda: importlib.import_module("remu.migration") and None)
    return data


def _teardown(data: dict) -> None:
    data["client"].close()
    data["cluster"].close()


def _dask_fill(make, columns):
    def run(remu, data):
        import dask.dataframe as dd

        target = make(remu)
        frame = dd.read_parquet(str(data["folder"]), columns=columns)
        target.fill(frame, weight=frame["w"])
        return target

    return run


def _pandas_fill(make, columns):
    def reference(data):
        import pandas as pd

        import remu

        frame = pd.read_parquet(data["folder"], columns=columns)
        target = make(remu)
        target.fill(frame, weight=frame["w"])
        return target

    return reference


# -- ROOT streaming -----------------------------------------------------------------------


def _root_setup(size: str) -> dict:
    import uproot  # noqa: F401  (imported before the RSS is sampled)

    path = _root_file(size)
    return {"path": path, "n": _ROOT_EVENTS[size]}


def _root_stream(remu, data):
    matrix = _matrix(remu, "true_x")
    matrix.fill_from_root(f"{data['path']}:events", weightfield="w")
    return matrix


def _root_in_memory(data):
    import uproot

    import remu

    with uproot.open(f"{data['path']}:events") as tree:
        events = tree.arrays(["true_x", "reco_x", "w"], library="np")
    matrix = _matrix(remu, "true_x")
    matrix.fill(events, weight=events["w"])
    return matrix


def _count(data) -> float:
    return float(data["n"])


WORKLOADS = [
    Workload(
        name="scaleout/parquet-dask/rectilinear-4000",
        setup=_cluster_setup,
        run=_dask_fill(_grid, ["x", "y", "w"]),
        reference=_pandas_fill(_grid, ["x", "y", "w"]),
        oracle=False,
        target="<= 0.67x reference; rss < 200 MB",
        unit_count=_count,
        memory="rss",
        teardown=_teardown,
        tags=["scaleout"],
    ),
    Workload(
        name="scaleout/parquet-dask/response-100x100",
        setup=_cluster_setup,
        run=_dask_fill(_matrix, ["x", "reco_x", "w"]),
        reference=_pandas_fill(_matrix, ["x", "reco_x", "w"]),
        oracle=False,
        target="<= 0.67x reference; rss < 200 MB",
        unit_count=_count,
        memory="rss",
        teardown=_teardown,
        tags=["scaleout"],
    ),
    Workload(
        name="scaleout/root-iterate/response-100x100",
        setup=_root_setup,
        run=_root_stream,
        reference=_root_in_memory,
        oracle=False,
        target="rss < 150 MB",
        unit_count=_count,
        memory="rss",
        tags=["scaleout"],
    ),
]
