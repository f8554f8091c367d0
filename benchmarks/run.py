#!/usr/bin/env python3
"""Run the benchmark workloads: ours, the plain NumPy reference and remu 0.8.0.

Every ``benchmarks/bench_*.py`` module defines ``WORKLOADS`` (the protocol is in
``benchmarks/_harness.py``). Each module is run in a fresh worker process of our
interpreter (timing our ``remu`` and the workload's NumPy reference) and, when
``.venv-oracle`` exists and the workload allows it, in a worker process of the
oracle interpreter (timing the reference implementation remu 0.8.0 through the
very same ``run`` function).

Time is the best of N wall-clock runs (``time.perf_counter``); peak memory is the
largest extra memory traced by :mod:`tracemalloc` during one further run (NumPy
reports its data buffers to tracemalloc, so array memory is included; memory of C
extensions that bypass Python's allocators is not).

Usage::

    python benchmarks/run.py [--quick] [--only PATTERN] [--no-oracle]
                             [--output bench-results.json]

The results go to ``bench-results.json`` and a Markdown table next to it
(``bench-results.md``), which is also printed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import importlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ORACLE_PYTHON = ROOT / ".venv-oracle" / "bin" / "python"
ORACLE_STAMP = ROOT / ".venv-oracle" / ".remu-oracle-installed"  # written last by `make oracle`

# The same bench module must import in both interpreters: benchmarks/ on the path
# makes ``from _harness import Workload`` work, the repository root makes
# ``from benchmarks._harness import Workload`` work (there is no ``remu`` package
# at the root: our package lives in src/, so the oracle never sees it).
for _p in (str(HERE), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)


# ----------------------------------------------------------------------------------
# worker side: runs inside one interpreter, prints one JSON line per workload
# ----------------------------------------------------------------------------------


def _rss_bytes() -> int | None:
    """Resident set size of this process (Linux ``/proc``), or None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _RssSampler:
    """Peak growth of the resident set size while the block runs (sampled every 5 ms)."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.base = self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss_bytes() or 0)

    def __enter__(self):
        if self.base is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.base is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss_bytes() or 0)

    @property
    def growth(self) -> int | None:
        return None if self.base is None else max(0, self.peak - self.base)


def _time_best(
    func: Any, repeat: int, min_time: float, max_time: float
) -> tuple[list[float], int | None]:
    """Wall times of up to ``repeat`` calls (at least one, fewer when slow), and the
    RSS growth during the first call."""
    times: list[float] = []
    total = 0.0
    rss = None
    while len(times) < repeat:
        gc.collect()
        sampler = _RssSampler() if not times else None
        start = time.perf_counter()
        if sampler is not None:
            with sampler:
                func()
            rss = sampler.growth
        else:
            func()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
        # one slow run is enough (a 30 s oracle run need not be repeated), and a
        # fast workload is repeated until min_time has been spent on it
        if total > max_time or (total > min_time and len(times) >= 3):
            break
    return times, rss


def _peak_memory(func: Any) -> int:
    """Peak extra memory (bytes) traced by tracemalloc during one call."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


#: above this time (s) per run, tracing every allocation would take minutes
#: (tracemalloc slows Python-level loops severalfold): the RSS growth is reported
TRACE_LIMIT = 5.0


def _measure(func: Any, args: argparse.Namespace, memory: str = "tracemalloc") -> dict[str, Any]:
    try:
        times, rss = _time_best(func, args.repeat, args.min_time, args.max_time)
        peak, method = None, None
        if args.memory and memory == "rss":
            peak, method = rss, "rss"
        elif args.memory and min(times) <= TRACE_LIMIT:
            peak, method = _peak_memory(func), "tracemalloc"
        elif args.memory and rss is not None:
            peak, method = rss, "rss"
    except Exception as exc:  # noqa: BLE001  (a failing workload is reported, the rest run)
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"best": min(times), "times": times, "peak_bytes": peak, "memory_method": method}


def worker(args: argparse.Namespace) -> int:
    """Time the named workloads of one bench module in this interpreter."""
    import warnings

    warnings.simplefilter("ignore")  # deprecation noise of the reference stack
    module = importlib.import_module(args.module)
    wanted = set(args.workload)
    remu = None
    remu_error = None
    try:
        remu = importlib.import_module("remu")
    except Exception as exc:  # noqa: BLE001  (reported per workload)
        remu_error = f"{type(exc).__name__}: {exc}"
    for workload in module.WORKLOADS:
        if workload.name not in wanted:
            continue
        record: dict[str, Any] = {"name": workload.name}
        try:
            data = workload.setup(args.size)
        except Exception as exc:  # noqa: BLE001  (reported in the table)
            record["setup_error"] = f"{type(exc).__name__}: {exc}"
            print(json.dumps(record), flush=True)
            continue
        if workload.unit_count is not None:
            try:
                record["units"] = float(workload.unit_count(data))
            except Exception:  # noqa: BLE001  (the rate is optional)
                record["units"] = None
        if remu is None:
            record["ours"] = {"error": remu_error}
        else:
            record["ours"] = _measure(partial(workload.run, remu, data), args, workload.memory)
        if args.reference and workload.reference is not None:
            record["reference"] = _measure(partial(workload.reference, data), args, workload.memory)
        if workload.teardown is not None:
            try:
                workload.teardown(data)
            except Exception as exc:  # noqa: BLE001  (reported, the rest run)
                record["teardown_error"] = f"{type(exc).__name__}: {exc}"
        print(json.dumps(record), flush=True)
        data = None
        gc.collect()
    return 0


# ----------------------------------------------------------------------------------
# orchestrator side
# ----------------------------------------------------------------------------------


def discover(only: str | None) -> list[tuple[str, Any]]:
    """(module name, workload) for every workload, filtered by ``--only``."""
    found = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001  (one broken module must not stop the rest)
            print(f"warning: cannot import {path.name}: {type(exc).__name__}: {exc}")
            continue
        for workload in getattr(module, "WORKLOADS", []):
            if only and not (
                fnmatch.fnmatch(workload.name, only)
                or fnmatch.fnmatch(workload.name, f"*{only}*")
                or re.search(only, workload.name)
            ):
                continue
            found.append((name, workload))
    return found


def _run_worker(
    python: Path | str, module: str, names: list[str], args: argparse.Namespace, *, reference: bool
) -> dict[str, dict[str, Any]]:
    cmd = [
        str(python),
        str(HERE / "run.py"),
        "--worker",
        "--module",
        module,
        "--size",
        args.size,
        "--repeat",
        str(args.repeat),
        "--min-time",
        str(args.min_time),
        "--max-time",
        str(args.max_time),
    ]
    if reference:
        cmd.append("--reference")
    if not args.no_memory:
        cmd.append("--memory")
    for n in names:
        cmd += ["--workload", n]
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    env.pop("PYTHONPATH", None)  # each interpreter sees only its own remu
    results: dict[str, dict[str, Any]] = {}
    try:
        proc = subprocess.run(
            cmd,
            check=False,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=args.timeout,
        )
    except subprocess.TimeoutExpired:
        for n in names:
            results[n] = {"ours": {"error": f"timed out after {args.timeout} s"}}
        return results
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rec = json.loads(line)
            results[rec["name"]] = rec
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        for n in names:
            results.setdefault(n, {"ours": {"error": f"worker failed: {' | '.join(tail)}"}})
    return results


_TARGET = re.compile(
    r"(?P<op><=|>=|≤|≥|<|>)\s*(?P<num>[0-9.]+)\s*[x×]\s*(?:vs\.?\s*)?(?P<what>oracle|reference|ref)",
    re.IGNORECASE,
)


def _check_one(target: str, speedup: float | None, ratio: float | None) -> str | None:
    m = _TARGET.search(target)
    if not m:
        if re.search(
            r"faster than (?:remu )?(?:0\.8\.0|oracle|the reference)", target, re.IGNORECASE
        ):
            return None if speedup is None else ("met" if speedup > 1.0 else "missed")
        return None
    num = float(m["num"])
    what = m["what"].lower()
    value = speedup if what == "oracle" else ratio
    if value is None:
        return None
    op = {"≤": "<=", "≥": ">="}.get(m["op"], m["op"])
    ok = {
        "<=": value <= num,
        ">=": value >= num,
        "<": value < num,
        ">": value > num,
    }[op]
    return "met" if ok else "missed"


_RATE = re.compile(r"(?P<op><=|>=|≤|≥|<|>)\s*(?P<num>[0-9.]+)\s*(?P<unit>[kMG]?)\s*/\s*s\b")
_RSS = re.compile(
    r"rss\s*(?P<op><=|>=|≤|≥|<|>)\s*(?P<num>[0-9.]+)\s*(?P<unit>[kMG])i?B", re.IGNORECASE
)
_SCALE = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "m": 1e6, "G": 1e9, "g": 1e9}
_OPS = {
    "<=": float.__le__,
    ">=": float.__ge__,
    "<": float.__lt__,
    ">": float.__gt__,
    "≤": float.__le__,
    "≥": float.__ge__,
}


def _check_absolute(part: str, rate: float | None, rss: float | None) -> str | None:
    """Targets on the rate ('>= 7 M/s': units per second) or on the RSS growth ('rss < 200 MB')."""
    m = _RSS.search(part)
    if m:
        if rss is None:
            return None
        limit = float(m["num"]) * {"k": 2**10, "m": 2**20, "g": 2**30}[m["unit"].lower()]
        return "met" if _OPS[m["op"]](float(rss), limit) else "missed"
    m = _RATE.search(part)
    if m:
        if rate is None:
            return None
        limit = float(m["num"]) * _SCALE[m["unit"]]
        return "met" if _OPS[m["op"]](float(rate), limit) else "missed"
    return None


def check_target(
    target: str,
    speedup: float | None,
    ratio: float | None,
    rate: float | None = None,
    rss: float | None = None,
) -> str | None:
    """'met' / 'missed' for targets like '>= 5x vs oracle' or '<= 2x reference'.

    Several targets are separated by ';' (e.g. '<= 2x reference; >= 20x vs oracle'):
    all that can be checked must be met; those without a number to check are ignored.
    Absolute targets are '>= 7 M/s' (units per second, see ``unit_count``) and
    'rss < 200 MB' (the growth of the resident set size, for workloads measured with
    ``memory="rss"``).
    """
    states = []
    for part in (target or "").split(";"):
        part = part.strip()
        absolute = _check_absolute(part, rate, rss)
        states.append(absolute if absolute is not None else _check_one(part, speedup, ratio))
    checked = [state for state in states if state is not None]
    if not checked:
        return None
    return "met" if all(state == "met" for state in checked) else "missed"


def _best(rec: dict[str, Any] | None) -> float | None:
    if not rec or "best" not in rec:
        return None
    return rec["best"]


def summarise(name: str, workload: Any, ours_rec: dict, oracle_rec: dict | None) -> dict:
    ours = ours_rec.get("ours", {}) if ours_rec else {}
    ref = ours_rec.get("reference") if ours_rec else None
    orc = oracle_rec.get("ours") if oracle_rec else None
    t_ours, t_ref, t_orc = _best(ours), _best(ref), _best(orc)
    speedup = t_orc / t_ours if t_orc and t_ours else None
    ratio = t_ours / t_ref if t_ours and t_ref else None
    errors = {}
    for label, rec in (("ours", ours), ("reference", ref), ("oracle", orc)):
        if rec and "error" in rec:
            errors[label] = rec["error"]
    for label, rec in (("ours", ours_rec), ("oracle", oracle_rec)):
        if rec and "setup_error" in rec:
            errors[f"{label} setup"] = rec["setup_error"]
    units = ours_rec.get("units") if ours_rec else None
    return {
        "name": name,
        "target": workload.target,
        "tags": list(workload.tags),
        "ours_s": t_ours,
        "oracle_s": t_orc,
        "reference_s": t_ref,
        "speedup_vs_oracle": speedup,
        "ratio_to_reference": ratio,
        "ours_peak_bytes": ours.get("peak_bytes"),
        "oracle_peak_bytes": orc.get("peak_bytes") if orc else None,
        "ours_memory_method": ours.get("memory_method"),
        "oracle_memory_method": orc.get("memory_method") if orc else None,
        "reference_peak_bytes": ref.get("peak_bytes") if ref else None,
        "units": units,
        "ours_rate_per_s": units / t_ours if units and t_ours else None,
        "target_status": check_target(
            workload.target,
            speedup,
            ratio,
            rate=units / t_ours if units and t_ours else None,
            rss=ours.get("peak_bytes") if ours.get("memory_method") == "rss" else None,
        ),
        "errors": errors,
        "ours_times": ours.get("times"),
        "oracle_times": orc.get("times") if orc else None,
    }


def _fmt_time(t: float | None) -> str:
    if t is None:
        return "—"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    if t < 1:
        return f"{t * 1e3:.1f} ms"
    return f"{t:.2f} s"


def _fmt_mem(b: int | None, method: str | None = None) -> str:
    if b is None:
        return "—"
    mark = " (rss)" if method == "rss" else ""
    if b < 1024**2:
        return f"{b / 1024:.0f} KiB{mark}"
    return f"{b / 1024**2:.1f} MiB{mark}"


def _fmt_x(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def markdown(rows: list[dict], meta: dict) -> str:
    lines = [
        f"# Benchmarks ({meta['size']} sizes)",
        "",
        (
            f"{meta['platform']}; ours: Python {meta['python']}; "
            f"oracle: {meta['oracle'] or 'not run'}. Best of up to {meta['repeat']} runs; "
            "memory = peak extra memory traced by tracemalloc, or the growth of the "
            "resident set size (rss) for runs slower than 5 s."
        ),
        "",
        (
            "| workload | ours | oracle 0.8.0 | speed-up vs oracle | NumPy ref | ours / ref "
            "| peak mem ours | peak mem oracle | target | status |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        status = r["target_status"] or ""
        if r["errors"]:
            sides = ", ".join(sorted({k.split()[0] for k in r["errors"]}))
            status = f"{status} ({sides} error)" if status else f"{sides} error"
        lines.append(
            f"| {r['name']} | {_fmt_time(r['ours_s'])} | {_fmt_time(r['oracle_s'])} "
            f"| {_fmt_x(r['speedup_vs_oracle'])} | {_fmt_time(r['reference_s'])} "
            f"| {_fmt_x(r['ratio_to_reference'])} "
            f"| {_fmt_mem(r['ours_peak_bytes'], r['ours_memory_method'])} "
            f"| {_fmt_mem(r['oracle_peak_bytes'], r['oracle_memory_method'])} "
            f"| {r['target']} | {status} |"
        )
    errs = [(r["name"], k, v) for r in rows for k, v in r["errors"].items()]
    if errs:
        lines += ["", "Errors:", ""]
        lines += [f"- `{n}` ({k}): {v}" for n, k, v in errs]
    if meta.get("note"):
        lines += ["", meta["note"]]
    return "\n".join(lines) + "\n"


def orchestrate(args: argparse.Namespace) -> int:
    workloads = discover(args.only)
    if not workloads:
        print("no workloads found" + (f" matching {args.only!r}" if args.only else ""))
        return 1
    use_oracle = not args.no_oracle and ORACLE_PYTHON.exists() and ORACLE_STAMP.exists()
    note = None
    if not args.no_oracle and not use_oracle:
        note = (
            "The oracle environment .venv-oracle is missing (or incomplete), so remu 0.8.0 "
            "was not timed. "
            "Build it with `make oracle` (needs Python 3.9-3.12), then rerun `make bench`."
        )
        print(f"note: {note}")
    by_module: dict[str, list[Any]] = {}
    for module, w in workloads:
        by_module.setdefault(module, []).append(w)

    rows = []
    for module, ws in by_module.items():
        names = [w.name for w in ws]
        print(f"[{module}] ours: {len(names)} workload(s) ...", flush=True)
        ours = _run_worker(sys.executable, module, names, args, reference=True)
        oracle: dict[str, dict] = {}
        oracle_names = [w.name for w in ws if w.oracle]
        if use_oracle and oracle_names:
            print(f"[{module}] oracle: {len(oracle_names)} workload(s) ...", flush=True)
            oracle = _run_worker(ORACLE_PYTHON, module, oracle_names, args, reference=False)
        for w in ws:
            row = summarise(w.name, w, ours.get(w.name, {}), oracle.get(w.name))
            rows.append(row)
            print(
                f"  {w.name}: ours {_fmt_time(row['ours_s'])}, "
                f"oracle {_fmt_time(row['oracle_s'])}, ref {_fmt_time(row['reference_s'])}",
                flush=True,
            )

    meta = {
        "size": args.size,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpu(s)",
        "oracle": "remu 0.8.0 in .venv-oracle" if use_oracle else None,
        "repeat": args.repeat,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "note": note,
    }
    out = Path(args.output)
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    md = markdown(rows, meta)
    out.with_suffix(".md").write_text(md)
    print()
    print(md)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--only", metavar="PATTERN", help="workload names: glob, substring or regex")
    p.add_argument("--no-oracle", action="store_true", help="do not time remu 0.8.0")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    p.add_argument("--output", default="bench-results.json", help="JSON results file")
    p.add_argument("--repeat", type=int, default=None, help="best of N runs (default 5, quick 3)")
    p.add_argument("--min-time", type=float, default=1.0, help="repeat until this many seconds")
    p.add_argument("--max-time", type=float, default=20.0, help="stop repeating after this")
    p.add_argument("--timeout", type=float, default=1800.0, help="per worker process")
    # worker mode (internal)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--module", help=argparse.SUPPRESS)
    p.add_argument("--workload", action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("--size", default=None, help=argparse.SUPPRESS)
    p.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.size is None:
        args.size = "quick" if args.quick else "full"
    if args.repeat is None:
        args.repeat = 3 if args.size == "quick" else 5
    if args.size == "quick" and not args.worker:
        args.max_time = min(args.max_time, 5.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
