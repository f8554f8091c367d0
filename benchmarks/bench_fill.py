"""Filling binnings from events: grids, products and nested subbinnings.

Each workload fills 10^6 weighted events ("full"; 10^5 "quick") into a fresh
binning and returns its value, entries and sumw2 arrays:

* ``fill/rectilinear-20x20x10/{dict,dataframe}``: a ``RectilinearBinning`` of
  20 x 20 x 10 bins in ``(x, y, z)``.
* ``fill/cartesian-20x20x10/{dict,dataframe}``: a ``CartesianProductBinning`` of a
  20 x 20 ``RectilinearBinning`` in ``(x, y)`` and a 10-bin ``LinearBinning`` in ``z``.
* ``fill/subbinnings/{dict,dataframe}``: a 3-bin ``LinearBinning`` in ``kind`` whose
  bin 0 is refined by 20 bins in ``x`` and bin 1 by a 20 x 20 grid in ``(x, y)``.

About 10 % of the events fall outside each binning. The input is a dict of 1-D
arrays (an extension of the reference API, so ``oracle=False``) or a pandas
DataFrame. The NumPy reference computes the same bin numbers with
``np.searchsorted`` and accumulates the three arrays with ``np.bincount``.
"""

from __future__ import annotations

import importlib

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_fill
    from benchmarks._harness import Workload

_EVENTS = {"quick": 10**5, "full": 10**6}
_EX = np.linspace(0.0, 1.0, 21)
_EY = np.linspace(0.0, 1.0, 21)
_EZ = np.linspace(0.0, 1.0, 11)
_EKIND = np.array([-0.5, 0.5, 1.5, 2.5])


def _events(n: int, seed: int = 20260427) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.uniform(-0.05, 1.05, n),
        "y": rng.uniform(0.0, 1.0, n),
        "z": rng.uniform(0.0, 1.0, n),
        "kind": rng.integers(0, 3, n).astype(float),
        "w": rng.uniform(0.5, 1.5, n),
    }


def _setup_dict(size: str) -> dict:
    return {"events": _events(_EVENTS[size])}


def _setup_frame(size: str) -> dict:
    import pandas as pd

    return {"events": pd.DataFrame(_events(_EVENTS[size]))}


def _binning_module(remu):
    return importlib.import_module(remu.__name__ + ".binning")


def _rectilinear(bn):
    return bn.RectilinearBinning(["x", "y", "z"], [_EX, _EY, _EZ])


def _cartesian(bn):
    xy = bn.RectilinearBinning(["x", "y"], [_EX, _EY])
    z = bn.LinearBinning("z", _EZ)
    return bn.CartesianProductBinning([xy.clone(dummy=True), z.clone(dummy=True)])


def _subbinnings(bn):
    return bn.LinearBinning(
        "kind",
        _EKIND,
        subbinnings={
            0: bn.LinearBinning("x", _EX),
            1: bn.RectilinearBinning(["x", "y"], [_EX, _EY]),
        },
    )


def _runner(make):
    def run(remu, data):
        bn = _binning_module(remu)
        binning = make(bn)
        events = data["events"]
        binning.fill(events, weight=events["w"])
        return (
            binning.get_values_as_ndarray(),
            binning.get_entries_as_ndarray(),
            binning.get_sumw2_as_ndarray(),
        )

    return run


# -- the same work in plain NumPy ----------------------------------------------------


def _index(edges: np.ndarray, x: np.ndarray) -> np.ndarray:
    k = np.searchsorted(edges, x, side="right") - 1
    k[k >= len(edges) - 1] = -1  # NaN and x >= last edge
    return k


def _grid_index(events, pairs) -> np.ndarray:
    out = np.zeros(len(events["x"]), dtype=np.int64)
    bad = np.zeros(len(out), dtype=bool)
    for name, edges in pairs:
        k = _index(edges, np.asarray(events[name]))
        bad |= k < 0
        out *= len(edges) - 1
        out += k
    out[bad] = -1
    return out


def _accumulate(index: np.ndarray, w: np.ndarray, size: int) -> tuple:
    ok = index >= 0
    i, wi = index[ok], w[ok]
    return (
        np.bincount(i, weights=wi, minlength=size),
        np.bincount(i, minlength=size),
        np.bincount(i, weights=wi * wi, minlength=size),
    )


def _grid_reference(data):
    events = data["events"]
    index = _grid_index(events, [("x", _EX), ("y", _EY), ("z", _EZ)])
    return _accumulate(index, np.asarray(events["w"]), 20 * 20 * 10)


def _subbinnings_reference(data):
    events = data["events"]
    kind = _index(_EKIND, np.asarray(events["kind"]))
    sub_x = _index(_EX, np.asarray(events["x"]))
    sub_xy = _grid_index(events, [("x", _EX), ("y", _EY)])
    # data layout: [kind 0: 20 x bins][kind 1: 400 xy bins][kind 2]
    index = np.select(
        [kind == 0, kind == 1, kind == 2],
        [np.where(sub_x >= 0, sub_x, -1), np.where(sub_xy >= 0, 20 + sub_xy, -1), 420],
        -1,
    )
    return _accumulate(index, np.asarray(events["w"]), 421)


def _count(data) -> float:
    return float(len(data["events"]["w"]))


WORKLOADS = []
for _name, _make, _reference in (
    ("rectilinear-20x20x10", _rectilinear, _grid_reference),
    ("cartesian-20x20x10", _cartesian, _grid_reference),
    ("subbinnings", _subbinnings, _subbinnings_reference),
):
    for _kind, _setup, _oracle in (("dict", _setup_dict, False), ("dataframe", _setup_frame, True)):
        WORKLOADS.append(
            Workload(
                name=f"fill/{_name}/{_kind}",
                setup=_setup,
                run=_runner(_make),
                reference=_reference,
                oracle=_oracle,
                target="<= 2x reference; >= 20x vs oracle",
                unit_count=_count,
                tags=["binning"],
            )
        )
