"""Our side of the differential tests: one long-lived oracle worker per session.

Importing remu 0.8.0 with its scipy takes about a second, so the oracle runs as
one persistent ``oracle_driver.py`` process per test session (per xdist worker),
fed batches of cases through ``.npz`` files. The same scenario function runs here,
in-process, with our ``remu``.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
from pathlib import Path

import oracle_exchange
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ORACLE_PYTHON = Path(
    os.environ.get("REMU_ORACLE_PYTHON", str(ROOT / ".venv-oracle" / "bin" / "python"))
)
SKIP_REASON = (
    f"reference oracle not built: {ORACLE_PYTHON} is missing or incomplete "
    "(run `make oracle` to create .venv-oracle with remu 0.8.0)"
)
TIMEOUT = float(os.environ.get("REMU_ORACLE_TIMEOUT", "300"))
#: multiply the hypothesis example counts, e.g. REMU_ORACLE_EXAMPLES=10 for a soak run
EXAMPLES_FACTOR = float(os.environ.get("REMU_ORACLE_EXAMPLES", "1"))


def examples(n: int) -> int:
    """Number of hypothesis examples (batches) for a test, scaled for soak runs."""
    return max(1, round(n * EXAMPLES_FACTOR))


# `make oracle` touches this file last: a half-built environment counts as absent
ORACLE_STAMP = ROOT / ".venv-oracle" / ".remu-oracle-installed"


def oracle_available() -> bool:
    """True when the oracle interpreter exists (and, for .venv-oracle, finished installing)."""
    if "REMU_ORACLE_PYTHON" in os.environ:
        return ORACLE_PYTHON.exists()
    return ORACLE_PYTHON.exists() and ORACLE_STAMP.exists()


def oracle_required() -> bool:
    """Whether a missing oracle fails the tests (``make test-oracle`` sets ``REMU_REQUIRE_ORACLE``)."""
    return bool(os.environ.get("REMU_REQUIRE_ORACLE"))


def skip_without_oracle() -> None:
    """Module-level skip, with a visible reason, where .venv-oracle is absent.

    Under ``REMU_REQUIRE_ORACLE`` (``make test-oracle``) a missing oracle is a failure
    instead: a run meant to compare with the reference must not pass by skipping.
    """
    if oracle_available():
        return
    if oracle_required():
        pytest.fail(SKIP_REASON, pytrace=False)
    pytest.skip(SKIP_REASON, allow_module_level=True)


class OracleError(RuntimeError):
    """The oracle worker failed outside any scenario (crash, protocol error)."""


class OracleWorker:
    """A persistent ``.venv-oracle`` process running scenarios on request."""

    def __init__(self, python: Path, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.count = 0
        self._stderr = (self.workdir / "oracle-stderr.log").open("w")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["MPLBACKEND"] = "Agg"
        # tiny BLAS calls (L-BFGS-B) slow down 10x when threads fight for 2 busy cores
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [str(python), "-u", str(HERE / "oracle_driver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=HERE,
            env=env,
        )

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        text = (self.workdir / "oracle-stderr.log").read_text()
        return text[-3000:]

    def run(self, scenario, cases: list) -> list:
        """Results of ``scenario`` (a function of a scenarios module) on each case."""
        self.count += 1
        inp = str(self.workdir / f"in-{self.count}.npz")
        out = str(self.workdir / f"out-{self.count}.npz")
        oracle_exchange.write_atomic(list(cases), inp)
        request = {"scenario": f"{scenario.__module__}.{scenario.__name__}", "input": inp}
        request["output"] = out
        if self.proc.poll() is not None:
            msg = f"oracle worker exited ({self.proc.returncode}):\n{self._stderr_tail()}"
            raise OracleError(msg)
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        if not ready:
            msg = f"oracle worker gave no answer within {TIMEOUT} s for {request['scenario']}"
            raise OracleError(msg)
        line = self.proc.stdout.readline()
        if not line:
            msg = f"oracle worker died:\n{self._stderr_tail()}"
            raise OracleError(msg)
        answer = json.loads(line)
        if not answer["ok"]:
            raise OracleError(answer["error"])
        results = oracle_exchange.load_payload(out)
        Path(inp).unlink()
        Path(out).unlink()
        return results

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        self._stderr.close()


def run_ours(scenario, cases: list) -> list:
    """The scenario in this process with our remu, normalised like the oracle's output."""
    return oracle_exchange.roundtrip(oracle_exchange.run_cases(scenario, cases))


def run_both(oracle: OracleWorker, scenario, cases: list) -> tuple[list, list]:
    """(ours, oracle) results of one batch of cases."""
    cases = list(cases)
    theirs = oracle.run(scenario, cases)
    ours = run_ours(scenario, cases)
    return ours, theirs


def describe_error(result) -> str:
    return f"{result['__error__']}: {result['message']}"


def ensure_ok(result, side: str, case) -> None:
    """Fail with the case when a scenario raised where it was not expected to."""
    if oracle_exchange.is_error(result):
        pytest.fail(
            f"{side} raised {describe_error(result)} on case {case!r}\n"
            + result.get("traceback", "")
        )


__all__ = [
    "ORACLE_PYTHON",
    "SKIP_REASON",
    "OracleError",
    "OracleWorker",
    "ensure_ok",
    "examples",
    "oracle_available",
    "oracle_required",
    "run_both",
    "run_ours",
    "skip_without_oracle",
]
