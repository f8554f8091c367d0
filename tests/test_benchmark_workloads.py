"""Every in-process benchmark workload sets up and runs at its quick size.

`make bench` is not part of the suite (speed is never judged by tests), but a workload
whose setup no longer passes remu's own validation silently drops out of the table,
which has happened when the response-matrix reader grew stricter. This runs each
workload once, with ours and with the NumPy reference, at the small sizes of
``--quick``. The scale-out and distributed-toy workloads are left to `make bench`:
they write hundreds of MB of input files or start clusters.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import remu
from remu.errors import RemuWarning
from shared_paths import SHARED

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
MODULES = ["bench_csv", "bench_fill", "bench_fits", "bench_likelihood", "bench_response"]
MODULES.append("bench_yaml")


def _workloads() -> list:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return [
            pytest.param(w, id=w.name)
            for module in MODULES
            for w in importlib.import_module(module).WORKLOADS
        ]
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("workload", _workloads())
def test_workload_sets_up_and_runs(workload, tmp_path, monkeypatch):
    # the workloads write their input files with tempfile: keep them in tmp_path
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    if "seed-page" in workload.name and not (SHARED / "data" / "upstream-examples").is_dir():
        pytest.skip(f"the seed page's example files are not at {SHARED} (set REMU_SHARED)")
    # The inputs (smearing Gaussians far in their tails) and the hand-written NumPy
    # references may underflow; remu's own run keeps the suite's strict error state.
    with np.errstate(under="ignore"):
        data = workload.setup("quick")
    try:
        with warnings.catch_warnings():
            # the seed page passes a stack of vectors to set_values_from_ndarray, as
            # published; remu warns about it
            warnings.simplefilter("ignore", RemuWarning)
            workload.run(remu, data)
        if workload.reference is not None:
            with np.errstate(under="ignore"):
                workload.reference(data)
    finally:
        if workload.teardown is not None:
            workload.teardown(data)
