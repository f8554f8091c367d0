"""Plumbing shared by the tutorial steps: folders, seeds, toy counts, the process pool.

Every step is a script ``stepNN_*.py`` with a ``main(settings)`` function. Run on
its own, a step works inside ``<output>/<NN>/`` (created, with the step's binning
files copied in), so that files of earlier steps are found as ``../00/...``
exactly like in the upstream tutorial. ``run_all.py`` runs the steps in order.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

# Headless plotting with the viridis colour map for every step (upstream ships a
# matplotlibrc with these two settings).
matplotlib.use("Agg")
matplotlib.rcParams["image.cmap"] = "viridis"

import numpy as np

HERE = Path(__file__).resolve().parent
BINNINGS = HERE / "binnings"
DEFAULT_OUTPUT = Path("demo-output")
DEFAULT_SEED = 20260426


@dataclass(frozen=True)
class Settings:
    """How much work each step does.

    The default values are those of the upstream tutorial, except for the toy
    fits of step 03's likelihood-ratio scan: upstream's 21 points x 4 hypotheses
    x 250 toys x 2 fits (42 000 basin-hopping fits, "tens of minutes" on 8
    cores) use 50 toys per point here, so the whole demo stays well within 10
    minutes on 2 cores. ``--quick`` shrinks all toy counts, scan points and
    chain lengths so that the chain runs in a few minutes (used by the tests).
    """

    quick: bool = False
    seed: int = DEFAULT_SEED
    processes: int = 2
    #: toys of ``likelihood_p_value`` (goodness of fit of a fixed point)
    n_toys_gof: int = 2500
    #: toys of ``max_likelihood_p_value`` / ``max_likelihood_ratio_p_value`` (toy fits)
    n_toys_fit: int = 250
    #: points of the profile plug-in scan (step 02) and of the scans of step 03
    n_scan_profile: int = 11
    n_scan_03: int = 21
    #: toys per point of step 03's likelihood-ratio scan (two fits per toy)
    n_toys_scan_03: int = 50
    #: points of the asymptotic (Wilks) scans
    n_scan_wilks: int = 100
    #: toy detectors used to build the systematics matrices (steps 03 and 05); step 06
    #: pairs them one to one with its 100 flux throws, so quick mode keeps all 100
    n_detector_toys: int = 100
    #: MCMC steps (step 04): short burn-in test, long burn-in, production
    mcmc_short: int = 100
    mcmc_burn: int = 200 * 50
    mcmc_production: int = 100 * 50

    @classmethod
    def create(cls, *, quick: bool, seed: int, processes: int | None = None) -> Settings:
        """Full or quick settings."""
        procs = processes or min(os.cpu_count() or 1, 8)
        if not quick:
            return cls(quick=False, seed=seed, processes=procs)
        return cls(
            quick=True,
            seed=seed,
            processes=procs,
            n_toys_gof=200,
            n_toys_fit=20,
            n_scan_profile=3,
            n_scan_03=3,
            n_toys_scan_03=10,
            n_scan_wilks=10,
            mcmc_short=100,
            mcmc_burn=1000,
            mcmc_production=500,
        )

    def rng(self, *keys: int) -> np.random.Generator:
        """An independent, reproducible generator for one purpose of one step."""
        return np.random.default_rng([self.seed, *keys])


# --------------------------------------------------------------------------- running a step
def argument_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by all steps and by ``run_all.py``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="root output folder; each step works in its own sub-folder (default: demo-output)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer toys, scan points and MCMC steps (a few minutes for the whole chain)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="master random seed")
    parser.add_argument(
        "--processes", type=int, default=None, help="worker processes for toy fits (default: cores)"
    )
    return parser


@contextlib.contextmanager
def step_directory(output: Path, step: str) -> Iterator[Path]:
    """Work inside ``output/step`` with the step's binning files copied in."""
    folder = (Path(output) / step).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    source = BINNINGS / step
    if source.is_dir():
        for yml in sorted(source.glob("*.yml")):
            shutil.copyfile(yml, folder / yml.name)
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)


def run_step(step: str, main: Callable[[Settings], dict[str, Any]], description: str) -> None:
    """Command line entry point of one step: parse, seed, run ``main``, save results."""
    args = argument_parser(description).parse_args()
    settings = Settings.create(quick=args.quick, seed=args.seed, processes=args.processes)
    with step_directory(args.output, step):
        # The library draws toys and basin-hopping steps from NumPy's global state.
        np.random.seed(settings.rng(int.from_bytes(step.encode(), "little")).integers(2**32))
        start = time.perf_counter()
        results = main(settings)
        results = {"seconds": round(time.perf_counter() - start, 2), **results}
        save_json("results.json", results)


class _Tee(io.TextIOBase):
    """Write to a stream and remember everything written."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.text = io.StringIO()

    def write(self, s: str) -> int:
        self.text.write(s)
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()


class ScriptStep:
    """Set-up and wrap-up around a step written as a plain top-level script.

    Step 06 is the code of the upstream documentation page, run as written. It
    cannot take a ``Settings`` object, so this class does around it what
    :func:`run_step` does around ``main``: parse the command line, work in
    ``<output>/<step>``, seed NumPy's global state, and record what the script
    prints. The page also calls ``numpy.random.default_rng()`` without a seed;
    while the script runs, that call gets a seed derived from ``--seed`` so the
    demo is reproducible.
    """

    def __init__(self, step: str, description: str) -> None:
        args = argument_parser(description).parse_args()
        self.settings = Settings.create(quick=args.quick, seed=args.seed, processes=args.processes)
        self._directory = step_directory(args.output, step)
        self.folder = self._directory.__enter__()
        np.random.seed(self.settings.rng(int.from_bytes(step.encode(), "little")).integers(2**32))
        self._default_rng = np.random.default_rng
        seeded = self.settings.rng(int.from_bytes(step.encode(), "little"), 1)

        def default_rng(seed: Any = None) -> np.random.Generator:
            return self._default_rng(seeded.integers(2**63) if seed is None else seed)

        np.random.default_rng = default_rng
        self._stdout = sys.stdout
        self._tee = _Tee(sys.stdout)
        sys.stdout = self._tee
        self._start = time.perf_counter()

    @property
    def printed(self) -> str:
        """Everything the script printed so far."""
        return self._tee.text.getvalue()

    def finish(self, results: Mapping[str, Any]) -> None:
        """Undo the set-up, save what was printed and the results."""
        seconds = round(time.perf_counter() - self._start, 2)
        np.random.default_rng = self._default_rng
        sys.stdout = self._stdout
        write_text("stdout.txt", self.printed)
        save_json("results.json", {"seconds": seconds, **results})
        self._directory.__exit__(None, None, None)


# --------------------------------------------------------------------------- output helpers
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if np.isfinite(value) else str(value)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def save_json(filename: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON, replacing the file atomically."""
    write_text(filename, json.dumps(_jsonable(data), indent=2) + "\n")


def write_text(filename: str | os.PathLike[str], text: Any) -> None:
    """Write ``str(text)`` (plus a newline) to a file, replacing it atomically."""
    target = Path(filename)
    tmp = target.with_name(f".{target.name}.tmp")
    content = str(text)
    tmp.write_text(content if content.endswith("\n") else content + "\n")
    tmp.replace(target)


def fit_summary(result: Any) -> dict[str, Any]:
    """The numbers that matter in a maximiser result: best fit and its log-likelihood."""
    return {
        "x": np.asarray(result.x, dtype=float).tolist(),
        "log_likelihood": float(result.log_likelihood),
    }


def truth_check(calc: Any, truth: list[float], n_toys: int) -> dict[str, Any]:
    """How well the generator's true parameters describe the data (not part of upstream).

    Log-likelihood, goodness of fit (toy p-value of the truth) and the
    likelihood-ratio (Wilks) p-value of the truth against the best fit, i.e. whether
    the fit lies within its uncertainties of the truth.
    """
    from remu import likelihood

    test = likelihood.HypothesisTester(calc)
    return {
        "x": list(truth),
        "log_likelihood": float(calc(truth)),
        "gof": float(test.likelihood_p_value(truth, N=n_toys)),
        "wilks_p_value": float(test.wilks_max_likelihood_ratio_p_value(truth)),
    }


# --------------------------------------------------------------------------- toys in parallel
def show_progress() -> bool:
    """Whether progress bars make sense: tqdm installed and stderr is a terminal."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return sys.stderr.isatty()


def progress(iterable: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    """A tqdm progress bar on stderr when tqdm is installed and stderr is a terminal."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, disable=None, file=sys.stderr)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass


@contextlib.contextmanager
def counter(desc: str) -> Iterator[Any]:
    """An open-ended progress counter (``bar.update()`` per iteration)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield _NoBar()
        return
    with tqdm(desc=desc, leave=False, disable=None, file=sys.stderr) as bar:
        yield bar


@contextlib.contextmanager
def toy_pool(settings: Settings, desc: str = "toys") -> Iterator[None]:
    """Evaluate the library's toy fits in a process pool (``likelihood.mapper``).

    ``multiprocess`` (dill-based) is needed because the library maps closures.
    Without it, or with one process, toys run in this process. Every mapped
    batch of toys gets a progress bar.
    """
    from remu import likelihood

    pool = None
    if settings.processes > 1:
        try:
            from multiprocess import Pool
        except ImportError:
            pool = None
        else:
            pool = Pool(settings.processes)

    def mapper(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        chunks = max(1, len(items) // (4 * settings.processes))
        mapped = (
            pool.imap(function, items, chunksize=chunks)
            if pool is not None
            else map(function, items)
        )
        return list(progress(mapped, desc=desc, total=len(items)))

    likelihood.mapper = mapper
    try:
        yield
    finally:
        likelihood.mapper = map
        if pool is not None:
            pool.close()
            pool.join()
