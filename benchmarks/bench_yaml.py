"""YAML dump and load of a large generic ``Binning`` of ``RectangularBin`` s.

A 100 x 100 grid of 2-D boxes stored as a plain ``Binning`` (10^4 bins, no lazy
bins): every bin is its own tagged YAML mapping, so this measures the per-bin cost
of the YAML layer. The NumPy/PyYAML reference serialises the same edges as plain
lists with PyYAML's pure-Python ``safe_dump`` / ``safe_load``.
"""

from __future__ import annotations

import importlib

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_yaml
    from benchmarks._harness import Workload

_SIDE = {"quick": 30, "full": 100}  # bins per axis: 900 and 10^4 bins


def _edges(size: str) -> list[list[list[float]]]:
    n = _SIDE[size]
    x = np.linspace(0.0, 1.0, n + 1)
    y = np.linspace(-5.0, 5.0, n + 1)
    return [
        [[float(x[i]), float(x[i + 1])], [float(y[j]), float(y[j + 1])]]
        for i in range(n)
        for j in range(n)
    ]


def _setup(size: str) -> dict:
    binning = importlib.import_module("remu.binning")
    edges = _edges(size)
    bins = [binning.RectangularBin(variables=["x", "y"], edges=e, dummy=True) for e in edges]
    obj = binning.Binning(bins=bins)
    return {"binning": obj, "text": binning.yaml.dump(obj), "edges": edges}


def _dump(remu, data):
    binning = importlib.import_module(remu.__name__ + ".binning")
    return binning.yaml.dump(data["binning"])


def _load(remu, data):
    binning = importlib.import_module(remu.__name__ + ".binning")
    return binning.yaml.full_load(data["text"])


def _ref_dump(data):
    import yaml

    return yaml.safe_dump(data["edges"])


def _ref_load_setup(size: str) -> dict:
    data = _setup(size)
    import yaml

    data["ref_text"] = yaml.safe_dump(data["edges"])
    return data


def _ref_load(data):
    import yaml

    return yaml.safe_load(data["ref_text"])


def _nbins(data) -> float:
    return float(len(data["edges"]))


WORKLOADS = [
    Workload(
        name="yaml/dump/binning-10^4-rectangular-bins",
        setup=_setup,
        run=_dump,
        reference=_ref_dump,
        target=">= 5x vs oracle",
        unit_count=_nbins,
        tags=["yaml"],
    ),
    Workload(
        name="yaml/load/binning-10^4-rectangular-bins",
        setup=_ref_load_setup,
        run=_load,
        reference=_ref_load,
        target=">= 5x vs oracle",
        unit_count=_nbins,
        tags=["yaml"],
    ),
]
