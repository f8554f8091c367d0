"""The plumbing of the differential tests and of the benchmark runner (no oracle needed)."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import oracle_exchange
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_runner():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_payload_roundtrip_keeps_arrays_and_nesting():
    rec = np.zeros(3, dtype=[("x", float), ("n", np.int64)])
    rec["x"] = [0.5, np.nan, np.inf]
    payload = {
        "a": np.arange(6.0).reshape(2, 3),
        "nested": [{"rec": rec, "t": (1, 2.5, None)}, "text", True],
        "scalar": np.float64(2.5),
        "int": np.int64(3),
    }
    out = oracle_exchange.roundtrip(payload)
    np.testing.assert_array_equal(out["a"], payload["a"])
    assert out["nested"][0]["rec"].dtype == rec.dtype
    np.testing.assert_array_equal(out["nested"][0]["rec"]["n"], rec["n"])
    assert out["nested"][0]["t"] == [1, 2.5, None]  # tuples come back as lists
    assert out["nested"][1:] == ["text", True]
    assert out["scalar"] == 2.5
    assert type(out["int"]) is int


def test_payload_rejects_what_cannot_cross():
    with pytest.raises(TypeError, match="object arrays"):
        oracle_exchange.dump_payload({"a": np.array([{}], dtype=object)}, io.BytesIO())
    with pytest.raises(TypeError, match="keys must be str"):
        oracle_exchange.dump_payload({1: 2}, io.BytesIO())


def test_error_records_carry_no_traceback_from_the_oracle(monkeypatch):
    def boom(case):
        raise KeyError(case)

    ours = oracle_exchange.run_cases(boom, ["x"])[0]
    assert ours["__error__"] == "KeyError"
    assert "LookupError" in ours["mro"]
    assert "traceback" in ours
    monkeypatch.setattr(oracle_exchange, "SIDE", "oracle")
    theirs = oracle_exchange.run_cases(boom, ["x"])[0]
    assert "traceback" not in theirs


@pytest.mark.parametrize(
    ("target", "speedup", "ratio", "expected"),
    [
        (">= 5x vs oracle", 6.0, None, "met"),
        (">= 5x vs oracle", 4.0, None, "missed"),
        ("<= 2x reference", None, 1.5, "met"),
        ("≤ 2× reference", None, 2.5, "missed"),
        ("faster than 0.8.0", 1.2, None, "met"),
        ("faster than 0.8.0", 0.5, None, "missed"),
        ("faster than 0.8.0", None, None, None),
        ("no number here", 3.0, 1.0, None),
        ("<= 2x reference; >= 20x vs oracle", 30.0, 1.5, "met"),
        ("<= 2x reference; >= 20x vs oracle", 10.0, 1.5, "missed"),
        ("<= 2x reference; >= 20x vs oracle", None, 2.5, "missed"),
        ("<= 2x reference; >= 20x vs oracle", None, 1.5, "met"),
    ],
)
def test_benchmark_targets_are_checked(target, speedup, ratio, expected):
    assert _load_runner().check_target(target, speedup, ratio) == expected


def test_benchmark_time_and_memory_measurement():
    run = _load_runner()

    class Args:
        repeat, min_time, max_time, memory = 3, 0.0, 10.0, True

    rec = run._measure(lambda: np.ones(1_000_000).sum(), Args)
    assert len(rec["times"]) == 3
    assert rec["best"] == min(rec["times"])
    assert rec["memory_method"] == "tracemalloc"
    assert rec["peak_bytes"] >= 8_000_000  # the temporary array is seen
    failed = run._measure(lambda: 1 / 0, Args)
    assert failed["error"].startswith("ZeroDivisionError")
