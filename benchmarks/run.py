#!/usr/bin/env python3
"""Run the benchmark workloads: ours, the plain NumPy reference and remu 0.8.0.

Every ``benchmarks/bench_*.py`` module defines ``WORKLOADS`` (the protocol is in
``benchmarks/_harness.py``). Each module gets a fresh worker process of our
interpreter (timing our ``remu`` and the workload's NumPy reference) and, when
``.venv-oracle`` exists and the workload allows it, one of the oracle interpreter
(timing the reference implementation remu 0.8.0 through the very same ``run``
function). Both workers set a workload up, then the runner alternates single runs
between them (ours, oracle, reference, then the next round starting with the other
interpreter), so that a change of the machine's load between runs affects both
sides alike. ``--sequential`` times all of ours first, then all of the oracle.

Time is the best of N wall-clock runs (``time.perf_counter``); every run's CPU time
(the worker's own and that of child processes it waited for) is recorded too. Peak
memory is the largest extra memory traced by :mod:`tracemalloc` during one further
run (NumPy reports its data buffers to tracemalloc, so array memory is included;
memory of C extensions that bypass Python's allocators is not).

Usage::

    python benchmarks/run.py [--quick] [--only PATTERN] [--no-oracle] [--sequential]
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
import queue
import re
import resource
import subprocess
import sys
import tempfile
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
        statm = Path("/proc/self/statm").read_text()
        return int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
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


def _cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _run_once(func: Any, sample_rss: bool) -> dict[str, Any]:
    """Wall and CPU time of one call (and the RSS growth during it, if asked)."""
    gc.collect()
    sampler = _RssSampler() if sample_rss else None
    cpu = _cpu_seconds()
    start = time.perf_counter()
    if sampler is not None:
        with sampler:
            func()
    else:
        func()
    wall = time.perf_counter() - start
    reply: dict[str, Any] = {"wall": wall, "cpu": _cpu_seconds() - cpu}
    if sampler is not None:
        reply["rss"] = sampler.growth
    return reply


def _import_remu() -> tuple[Any, str | None]:
    """Import this interpreter's ``remu``: ``(module, None)``, or ``(None, error)`` if it fails."""
    try:
        return importlib.import_module("remu"), None
    except Exception as exc:  # noqa: BLE001  (reported per workload)
        return None, f"{type(exc).__name__}: {exc}"


def serve(args: argparse.Namespace) -> int:
    """Answer the orchestrator's commands for the workloads of one bench module.

    Commands are JSON lines on stdin: ``setup`` (a workload by name), ``run`` (one
    timed call of ``ours`` or ``reference``), ``memory`` (one traced call),
    ``teardown`` and ``quit``. Replies are JSON lines on the original stdout;
    anything the workloads print goes to stderr instead.
    """
    import warnings

    warnings.simplefilter("ignore")  # deprecation noise of the reference stack
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    module = importlib.import_module(args.module)
    workloads = {w.name: w for w in module.WORKLOADS}
    remu, remu_error = _import_remu()
    workload: Any = None
    data: Any = None
    funcs: dict[str, Any] = {}
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        reply: dict[str, Any] = {}
        if op == "setup":
            workload, data, funcs = workloads[command["name"]], None, {}
            try:
                data = workload.setup(args.size)
            except Exception as exc:  # noqa: BLE001  (reported in the table)
                reply["setup_error"] = f"{type(exc).__name__}: {exc}"
            else:
                if workload.unit_count is not None:
                    try:
                        reply["units"] = float(workload.unit_count(data))
                    except Exception:  # noqa: BLE001  (the rate is optional)
                        reply["units"] = None
                if remu is not None:
                    funcs["ours"] = partial(workload.run, remu, data)
                if workload.reference is not None:
                    funcs["reference"] = partial(workload.reference, data)
        elif op in ("run", "memory"):
            side = command["side"]
            try:
                if side not in funcs:
                    raise RuntimeError(remu_error or f"no {side} function")
                if op == "run":
                    reply = _run_once(funcs[side], bool(command.get("rss")))
                else:
                    reply = {"peak": _peak_memory(funcs[side])}
            except Exception as exc:  # noqa: BLE001  (a failing run is reported)
                reply = {"error": f"{type(exc).__name__}: {exc}"}
        elif op == "teardown":
            if workload is not None and workload.teardown is not None and data is not None:
                try:
                    workload.teardown(data)
                except Exception as exc:  # noqa: BLE001  (reported, the rest run)
                    reply["teardown_error"] = f"{type(exc).__name__}: {exc}"
            workload, data, funcs = None, None, {}
            gc.collect()
        elif op == "quit":
            break
        replies.write(json.dumps(reply) + "\n")
    return 0


def worker(args: argparse.Namespace) -> int:
    """Time the named workloads of one bench module in this interpreter."""
    import warnings

    warnings.simplefilter("ignore")  # deprecation noise of the reference stack
    module = importlib.import_module(args.module)
    wanted = set(args.workload)
    remu, remu_error = _import_remu()
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


class WorkerError(RuntimeError):
    """A serving worker died, timed out or answered nonsense."""


class _Worker:
    """A serving worker process (``run.py --serve``) of one interpreter for one module."""

    def __init__(self, python: Path | str, module: str, args: argparse.Namespace) -> None:
        cmd = [str(python), str(HERE / "run.py"), "--serve", "--module", module]
        cmd += ["--size", args.size]
        env = dict(os.environ)
        env.setdefault("MPLBACKEND", "Agg")
        env.pop("PYTHONPATH", None)  # each interpreter sees only its own remu
        # Closed by close(); a file, not a pipe, so a chatty workload never blocks.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _tail(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()[-3:]
        return " | ".join(lines) or f"exit code {self._proc.poll()}"

    def request(self, command: dict[str, Any], deadline: float) -> dict[str, Any]:
        """Send one command and wait (until ``deadline``, a ``time.monotonic``) for the reply."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(command) + "\n")
            self._proc.stdin.flush()
        except OSError as exc:
            msg = f"worker failed: {self._tail()}"
            raise WorkerError(msg) from exc
        try:
            line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            self.close()
            raise WorkerError("timed out") from None
        if line is None:
            self._proc.wait()
            msg = f"worker failed: {self._tail()}"
            raise WorkerError(msg)
        return json.loads(line)

    def close(self) -> None:
        """Stop the worker (asking first, then killing it)."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self._proc.stdin.flush()
                self._proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()


class _Side:
    """The runs of one side (ours, the NumPy reference or the oracle) of one workload."""

    def __init__(self, label: str, worker: _Worker, function: str, args: argparse.Namespace):
        self.label, self.worker, self.function, self.args = label, worker, function, args
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.rss: int | None = None
        self.error: str | None = None

    @property
    def done(self) -> bool:
        """The same rule as the sequential runner: up to ``repeat`` runs, fewer when slow."""
        if self.error is not None:
            return True
        total = sum(self.times)
        n = len(self.times)
        return n >= self.args.repeat or (
            n > 0 and (total > self.args.max_time or (total > self.args.min_time and n >= 3))
        )

    def run(self, deadline: float) -> None:
        """One timed run (the first one also samples the RSS growth)."""
        command = {"op": "run", "side": self.function, "rss": not self.times}
        reply = self.worker.request(command, deadline)
        if "error" in reply:
            self.error = reply["error"]
            return
        self.times.append(reply["wall"])
        self.cpu.append(reply["cpu"])
        if "rss" in reply:
            self.rss = reply["rss"]

    def record(self, memory: str, deadline: float) -> dict[str, Any]:
        """The side's numbers in the format of :func:`_measure`, plus the CPU times."""
        if self.error is not None:
            return {"error": self.error}
        best = min(self.times)
        peak, method = None, None
        if self.args.memory and memory == "rss":
            peak, method = self.rss, "rss"
        elif self.args.memory and best <= TRACE_LIMIT:
            reply = self.worker.request({"op": "memory", "side": self.function}, deadline)
            if "error" in reply:
                return {"error": reply["error"]}
            peak, method = reply["peak"], "tracemalloc"
        elif self.args.memory and self.rss is not None:
            peak, method = self.rss, "rss"
        return {
            "best": best,
            "times": self.times,
            "cpu_best": min(self.cpu),
            "cpu_times": self.cpu,
            "peak_bytes": peak,
            "memory_method": method,
        }


def _interleaved(
    module: str, workloads: list[Any], args: argparse.Namespace, use_oracle: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Records of ours and of the oracle for one module, the runs alternating.

    Each round runs every side that is not done once: ours, the oracle, the NumPy
    reference, and the next round starts with the oracle. A side stops by the same
    rule as the sequential runner (``--repeat``, ``--min-time``, ``--max-time``).
    """
    deadline = time.monotonic() + args.timeout * (2 if use_oracle else 1)
    ours_records: dict[str, dict[str, Any]] = {}
    oracle_records: dict[str, dict[str, Any]] = {}
    # The live workers; one that fails is dropped here (and still closed at the end).
    workers: dict[str, _Worker | None] = {"ours": _Worker(sys.executable, module, args)}
    if use_oracle and any(w.oracle for w in workloads):
        workers["oracle"] = _Worker(ORACLE_PYTHON, module, args)
    started = [worker for worker in workers.values() if worker is not None]
    try:
        for w in workloads:
            ours_rec: dict[str, Any] = {"name": w.name}
            oracle_rec: dict[str, Any] | None = (
                {"name": w.name} if w.oracle and workers.get("oracle") else None
            )
            sides: list[_Side] = []
            for label, rec in (("ours", ours_rec), ("oracle", oracle_rec)):
                worker = workers.get(label)
                if rec is None or worker is None:
                    continue
                try:
                    reply = worker.request({"op": "setup", "name": w.name}, deadline)
                except WorkerError as exc:
                    workers[label] = None
                    rec["ours"] = {"error": str(exc)}
                    continue
                if "setup_error" in reply:
                    rec["setup_error"] = reply["setup_error"]
                    continue
                if label == "ours":
                    rec["units"] = reply.get("units")
                    sides.append(_Side("ours", worker, "ours", args))
                    if args.reference and w.reference is not None:
                        sides.append(_Side("reference", worker, "reference", args))
                else:
                    sides.append(_Side("oracle", worker, "ours", args))
            order = sorted(
                sides, key=lambda side: ("ours", "oracle", "reference").index(side.label)
            )
            round_ = 0
            while not all(side.done for side in order):
                for side in order if round_ % 2 == 0 else order[1::-1] + order[2:]:
                    if side.done:
                        continue
                    try:
                        side.run(deadline)
                    except WorkerError as exc:
                        side.error = str(exc)
                        workers[side.label if side.label != "reference" else "ours"] = None
                round_ += 1
            for side in order:
                rec = ours_rec if side.label in ("ours", "reference") else oracle_rec
                assert rec is not None
                key = "reference" if side.label == "reference" else "ours"
                try:
                    rec[key] = side.record(w.memory, deadline)
                except WorkerError as exc:
                    rec[key] = {"error": str(exc)}
            for label, rec in (("ours", ours_rec), ("oracle", oracle_rec)):
                worker = workers.get(label)
                if rec is None or worker is None:
                    continue
                try:
                    reply = worker.request({"op": "teardown"}, deadline)
                except WorkerError as exc:
                    workers[label] = None
                    reply = {"teardown_error": str(exc)}
                if "teardown_error" in reply:
                    rec["teardown_error"] = reply["teardown_error"]
            ours_records[w.name] = ours_rec
            if oracle_rec is not None:
                oracle_records[w.name] = oracle_rec
    finally:
        for worker in started:
            worker.close()
    return ours_records, oracle_records


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


def _best(rec: dict[str, Any] | None, key: str = "best") -> float | None:
    if not rec or key not in rec:
        return None
    return rec[key]


def summarise(name: str, workload: Any, ours_rec: dict, oracle_rec: dict | None) -> dict:
    ours = ours_rec.get("ours", {}) if ours_rec else {}
    ref = ours_rec.get("reference") if ours_rec else None
    orc = oracle_rec.get("ours") if oracle_rec else None
    t_ours, t_ref, t_orc = _best(ours), _best(ref), _best(orc)
    speedup = t_orc / t_ours if t_orc and t_ours else None
    cpu_ours, cpu_orc = _best(ours, "cpu_best"), _best(orc, "cpu_best")
    cpu_speedup = cpu_orc / cpu_ours if cpu_orc and cpu_ours else None
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
        "ours_cpu_s": cpu_ours,
        "oracle_cpu_s": cpu_orc,
        "cpu_speedup_vs_oracle": cpu_speedup,
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
        "ours_cpu_times": ours.get("cpu_times"),
        "oracle_cpu_times": orc.get("cpu_times") if orc else None,
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
            f"oracle: {meta['oracle'] or 'not run'}. Best of up to {meta['repeat']} runs "
            f"({meta.get('schedule', 'sequential')}); speed-up (CPU) compares the best CPU "
            "times (the worker's and its waited-for children's); "
            "memory = peak extra memory traced by tracemalloc, or the growth of the "
            "resident set size (rss) for runs slower than 5 s."
        ),
        "",
        (
            "| workload | ours | oracle 0.8.0 | speed-up vs oracle | speed-up (CPU) | NumPy ref "
            "| ours / ref | peak mem ours | peak mem oracle | target | status |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        status = r["target_status"] or ""
        if r["errors"]:
            sides = ", ".join(sorted({k.split()[0] for k in r["errors"]}))
            status = f"{status} ({sides} error)" if status else f"{sides} error"
        lines.append(
            f"| {r['name']} | {_fmt_time(r['ours_s'])} | {_fmt_time(r['oracle_s'])} "
            f"| {_fmt_x(r['speedup_vs_oracle'])} | {_fmt_x(r.get('cpu_speedup_vs_oracle'))} "
            f"| {_fmt_time(r['reference_s'])} "
            f"| {_fmt_x(r['ratio_to_reference'])} "
            f"| {_fmt_mem(r['ours_peak_bytes'], r['ours_memory_method'])} "
            f"| {_fmt_mem(r['oracle_peak_bytes'], r['oracle_memory_method'])} "
            f"| {r['target']} | {status} |"
        )
    errs = [(r["name"], k, v) for r in rows for k, v in r["errors"].items()]
    if errs:
        lines += ["", "Errors:", ""]
        lines += [f"- `{n}` ({k}): {v}" for n, k, v in errs]
    loads = [meta.get("load_average_start"), meta.get("load_average_end")]
    if all(loads):
        start, end = ("/".join(f"{x:.2f}" for x in load) for load in loads)  # type: ignore[union-attr]
        lines += ["", f"Load average (1/5/15 min): {start} at the start, {end} at the end."]
    if meta.get("note"):
        lines += ["", meta["note"]]
    return "\n".join(lines) + "\n"


def _load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages at the end of the run (where known)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


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
    load_start = _load_average()
    by_module: dict[str, list[Any]] = {}
    for module, w in workloads:
        by_module.setdefault(module, []).append(w)

    rows = []
    for module, ws in by_module.items():
        names = [w.name for w in ws]
        oracle: dict[str, dict] = {}
        oracle_names = [w.name for w in ws if w.oracle]
        if args.sequential:
            print(f"[{module}] ours: {len(names)} workload(s) ...", flush=True)
            ours = _run_worker(sys.executable, module, names, args, reference=True)
            if use_oracle and oracle_names:
                print(f"[{module}] oracle: {len(oracle_names)} workload(s) ...", flush=True)
                oracle = _run_worker(ORACLE_PYTHON, module, oracle_names, args, reference=False)
        else:
            sides = "ours and oracle alternating" if use_oracle and oracle_names else "ours"
            print(f"[{module}] {len(names)} workload(s), {sides} ...", flush=True)
            args.reference = True
            args.memory = not args.no_memory
            ours, oracle = _interleaved(module, ws, args, use_oracle)
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
        "schedule": "sequential" if args.sequential else "runs of ours and the oracle alternating",
        "load_average_start": load_start,
        "load_average_end": _load_average(),
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
    p.add_argument(
        "--sequential",
        action="store_true",
        help="time all workloads of a module in ours, then in the oracle (no alternating)",
    )
    # worker mode (internal)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
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
    if args.size == "quick" and not (args.worker or args.serve):
        args.max_time = min(args.max_time, 5.0)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    if args.serve:
        return serve(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
