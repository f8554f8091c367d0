"""Filling a binning from an event CSV file: the parser dominates.

A file of 200 000 events ("full"; 20 000 "quick") with 5 columns of floats
written with all their digits (``repr``), about 19 MB, is read with
``fill_from_csv_file`` into a 3-D ``RectilinearBinning`` (20 x 20 x 10 bins in
``x, y, z``) weighted by the column ``w`` (the fifth column, ``t``, is carried
along unread, as in real event files):

* ``csv/fill-200k-x5``: the public API (pandas' C parser when pandas is
  installed, as in our ``.venv``); compared with 0.8.0.
* ``csv/fill-200k-x5/numpy-reader``: the same with remu's NumPy reader forced
  through its private switch (``remu._formats.csv_events.READER``), ours only.

The reference reads the file with ``pandas.read_csv`` (C engine) and fills with
``np.searchsorted`` and ``np.bincount``: the floor of any CSV filling.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_csv
    from benchmarks._harness import Workload

_ROWS = {"quick": 20_000, "full": 200_000}
_EX = np.linspace(0.0, 1.0, 21)
_EY = np.linspace(0.0, 1.0, 21)
_EZ = np.linspace(0.0, 1.0, 11)


def _setup(size: str) -> dict:
    n = _ROWS[size]
    rng = np.random.default_rng(20260501)
    columns = {
        "x": rng.uniform(-0.05, 1.05, n),
        "y": rng.uniform(0.0, 1.0, n),
        "z": rng.uniform(0.0, 1.0, n),
        "w": rng.uniform(0.5, 1.5, n),
        "t": rng.normal(0.0, 1.0, n),
    }
    path = str(Path(tempfile.mkdtemp(prefix="remu-bench-csv-")) / "events.csv")
    rows = zip(*(c.tolist() for c in columns.values()), strict=True)
    with Path(path).open("w") as handle:
        handle.write(",".join(columns) + "\n")
        handle.writelines(",".join(repr(v) for v in row) + "\n" for row in rows)
    return {"path": path, "rows": n}


def _fill(remu, data):
    bn = importlib.import_module(remu.__name__ + ".binning")
    rl = bn.RectilinearBinning(["x", "y", "z"], [_EX, _EY, _EZ])
    rl.fill_from_csv_file(data["path"], weightfield="w")
    return rl.get_values_as_ndarray(), rl.get_entries_as_ndarray(), rl.get_sumw2_as_ndarray()


def _fill_numpy_reader(remu, data):
    csv_events = importlib.import_module(remu.__name__ + "._formats.csv_events")
    before = csv_events.READER
    csv_events.READER = "numpy"
    try:
        return _fill(remu, data)
    finally:
        csv_events.READER = before


def _index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    k = np.searchsorted(edges, x, side="right") - 1
    k[k >= len(edges) - 1] = -1
    return k


def _reference(data):
    import pandas as pd

    frame = pd.read_csv(data["path"], dtype=np.float64, engine="c")
    index = np.zeros(len(frame), dtype=np.int64)
    bad = np.zeros(len(frame), dtype=bool)
    for name, edges in (("x", _EX), ("y", _EY), ("z", _EZ)):
        k = _index(edges, frame[name].to_numpy())
        bad |= k < 0
        index = index * (len(edges) - 1) + k
    w = frame["w"].to_numpy()
    i, wi = index[~bad], w[~bad]
    size = 20 * 20 * 10
    return (
        np.bincount(i, weights=wi, minlength=size),
        np.bincount(i, minlength=size),
        np.bincount(i, weights=wi * wi, minlength=size),
    )


def _count(data) -> float:
    return float(data["rows"])


WORKLOADS = [
    Workload(
        name="csv/fill-200k-x5",
        setup=_setup,
        run=_fill,
        reference=_reference,
        target="<= 3x reference; >= 10x vs oracle",
        unit_count=_count,
        tags=["binning", "csv"],
    ),
    Workload(
        name="csv/fill-200k-x5/numpy-reader",
        setup=_setup,
        run=_fill_numpy_reader,
        reference=_reference,
        oracle=False,
        unit_count=_count,
        tags=["binning", "csv"],
    ),
]
