"""The ``remu`` command line: look into remu's files, fill binnings from event files.

Commands
--------
``remu info FILE ...``
    Describe binning YAML files (type, variables, bins, data size), exported
    response-matrix ``.npz`` files (matrix shape, number of variations,
    sparsity), the filled binnings that ``remu fill`` writes (``.npz`` or ``.csv``)
    and event CSV files (columns, number of events). ``--json`` prints one JSON
    object keyed by file name; numbers that JSON cannot hold (infinite bin edges,
    NaN) are written as the strings ``"inf"``, ``"-inf"`` and ``"nan"``, which
    Python's ``float()`` reads back.
``remu fill BINNING.yml EVENTS [...] -o OUT``
    Fill a binning from event files and write the values, entries and sums of
    squared weights to ``OUT``, exactly that file. Its suffix chooses the format:
    ``.npz`` (with the binning's YAML inside) or ``.csv``; any other suffix is
    refused before anything is read. The events are

    * ROOT trees, named as uproot users do: ``FILE.root:TREE`` (``FILE.root`` alone
      when the file holds one tree; wildcards such as ``"mc/*.root:events"``,
      quoted so that uproot expands them). They are streamed chunk by chunk in
      constant memory (``pip install 'remu[root]'``).
    * Parquet files: ``FILE.parquet`` (or ``.parq``, ``.pq``), a wildcard of them,
      or a directory of Parquet partitions (hive-style ``key=value`` directories
      become columns); read batch by batch with pyarrow (``pip install
      'remu[dask]'``, which brings pandas and pyarrow).
    * anything else: CSV files (a header line of column names), read by remu.

    A wildcard that matches no file is an error. ``--weightfield`` names the
    weight column (after ``--rename``), multiplied by ``--weight``. ``--plot
    FIG.png`` also draws the values. When events were read from an input but none
    of them landed in the binning, a warning on stderr says so.

    ``--scheduler ADDRESS`` fills the ROOT and Parquet inputs on a Dask cluster:
    ``ADDRESS`` is a scheduler's address (``tcp://host:8786``, what
    ``distributed.Client`` accepts), ``local`` starts a ``distributed.LocalCluster``
    on this machine for the run, ``local:N`` one with ``N`` single-threaded worker
    processes. ROOT files are then read with ``uproot.dask``, Parquet files with
    ``dask.dataframe.read_parquet``; each partition is binned on a worker and only
    the binned sums travel back. The workers must see the files under the same
    paths (relative paths are made absolute). CSV files are always read here.
    ``--progress`` shows progress bars on stderr (``pip install 'remu[progress]'``).
``remu --version``
    The version.

Every error (a missing or malformed file, a YAML syntax error or unknown tag, a
missing column or branch, a missing optional package, a scheduler that cannot be
reached) is one line on stderr naming the file, without a traceback, and the exit
status is 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import numpy as np
import yaml

from remu._paths import absolute, exists, has_wildcards, is_dir, matches
from remu._version import __version__

if TYPE_CHECKING:
    from remu._plotting.binning import BinningPlotter


class CommandError(Exception):
    """An error to report on one line (exit status 2)."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _yaml_error(path: Path | str, error: yaml.YAMLError) -> str:
    """``file, line L, column C: problem`` for a YAML syntax or constructor error."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    return f"{where}: {_one_line(problem)}"


def _fail(path: Path | str, error: BaseException) -> NoReturn:
    """Raise the one-line :class:`CommandError` for an error met while handling ``path``."""
    if isinstance(error, yaml.YAMLError):
        raise CommandError(_yaml_error(path, error)) from error
    message = error.args[0] if isinstance(error, KeyError) and error.args else error
    text = _one_line(str(message))
    if str(path) not in text:
        text = f"{path}: {text}"
    raise CommandError(text) from error


_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, yaml.YAMLError)


def _json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``"inf"``, ``"-inf"`` or ``"nan"``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


# -- remu info ------------------------------------------------------------------------


def _describe_binning(obj: Any) -> dict[str, Any]:
    info: dict[str, Any] = {
        "type": type(obj).__name__,
        "variables": sorted(obj.phasespace.variables),
        "nbins": int(obj.nbins),
        "data_size": int(obj.data_size),
        "subbinnings": sorted(int(k) for k in obj.subbinnings),
    }
    if hasattr(obj, "bins_shape"):
        info["bins_shape"] = [int(n) for n in obj.bins_shape]
    if hasattr(obj, "variable"):
        info["bin_edges"] = np.asarray(obj.bin_edges, dtype=float).tolist()
    elif hasattr(obj, "variables") and hasattr(obj, "bin_edges") and hasattr(obj, "bins_shape"):
        info["bin_edges"] = {
            str(v): np.asarray(e, dtype=float).tolist()
            for v, e in zip(obj.variables, obj.bin_edges, strict=True)
        }
    return info


def _describe_response(path: Path, arrays: dict[str, Any]) -> dict[str, Any]:
    from remu._formats.npz_archive import describe_source
    from remu._formats.npz_response import validate_response_arrays

    data = validate_response_arrays(arrays, describe_source(path))
    matrices = data.matrices
    efficiency = matrices.sum(axis=1)
    return {
        "type": "response matrix (.npz)",
        "variations": int(matrices.shape[0]),
        "reco_bins": int(matrices.shape[1]),
        "truth_bins": int(data.truth_entries.shape[0]),
        "columns": int(matrices.shape[2]),
        "sparse": bool(data.is_sparse),
        "truth_entries_total": int(data.truth_entries.sum()),
        "mean_efficiency_range": [float(efficiency.min()), float(efficiency.max())]
        if efficiency.size
        else None,
    }


def _describe_histogram(path: Path) -> dict[str, Any]:
    from remu._formats.histogram import read_histogram

    histogram = read_histogram(path)
    info: dict[str, Any] = {
        "type": f"filled binning ({path.suffix.lower()})",
        "data_size": len(histogram.values),
        "entries_total": int(histogram.entries.sum()),
        "values_total": float(histogram.values.sum()),
        "sumw2_total": float(histogram.sumw2.sum()),
    }
    if histogram.binning_yaml is not None:
        info["binning"] = _describe_binning(_binning_from_text(path, histogram.binning_yaml))
    return info


def _describe_events(path: Path) -> dict[str, Any]:
    from remu._formats.csv_events import read_csv_file

    table = read_csv_file(path)
    return {
        "type": "event table (.csv)",
        "columns": list(table.dtype.names or ()),
        "events": len(table),
    }


def _binning_from_text(path: Path, text: Any) -> Any:
    # importing the binning classes registers their YAML tags
    import remu._binning.rectangular
    import remu._binning.rectilinear  # noqa: F401 - with linear, cartesian, bins
    from remu._binning.binning import Binning
    from remu._formats.yaml_codec import full_load

    obj = full_load(text)
    if not isinstance(obj, Binning):
        msg = f"{path}: expected a binning (e.g. !RectilinearBinning), found {type(obj).__name__}"
        raise TypeError(msg)
    return obj


def _load_binning(path: Path) -> Any:
    with path.open() as handle:
        return _binning_from_text(path, handle)


def _describe(path: Path) -> dict[str, Any]:
    from remu._formats.histogram import CSV_HEADER
    from remu._formats.npz_archive import read_npz_arrays

    if not path.exists():
        msg = f"no such file: {path}"
        raise FileNotFoundError(msg)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = read_npz_arrays(path, what="remu", expected="'matrices' or 'values'")
        if "matrices" in arrays or "values" not in arrays:
            return _describe_response(path, arrays)
        return _describe_histogram(path)
    if suffix == ".csv":
        with path.open(encoding="locale") as handle:
            header = handle.readline().strip()
        return _describe_histogram(path) if header == CSV_HEADER else _describe_events(path)
    return _describe_binning(_load_binning(path))


def _info(args: argparse.Namespace) -> int:
    results = {}
    for name in args.files:
        path = Path(name)
        try:
            results[str(path)] = _describe(path)
        except _ERRORS as error:
            _fail(path, error)
    if args.json:
        print(json.dumps(_json_safe(results), indent=2, allow_nan=False))
    else:
        for name, info in results.items():
            print(f"{name}:")
            for key, value in info.items():
                print(f"  {key}: {value}")
    return 0


# -- remu fill ------------------------------------------------------------------------


def _parse_rename(pairs: Sequence[str]) -> dict[str, str]:
    rename = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            msg = f"--rename takes OLD=NEW (CSV column = binning variable); got {pair!r}"
            raise CommandError(msg)
        rename[old] = new
    return rename


#: ``FILE.root`` or ``FILE.root:TREE`` (the file part may hold wildcards or a URL)
_ROOT_INPUT = re.compile(r"^(?P<path>.*?\.root)(?::(?P<tree>[^:]*))?$", re.IGNORECASE)
_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")


@dataclass
class _Input:
    """One event input of ``remu fill``: its kind, as given, and what to open."""

    kind: str  # "csv", "root" or "parquet"
    name: str
    source: str


def _local(path: str) -> bool:
    return "://" not in path


def _check_matches(name: str, path: str) -> None:
    """Check that a local path exists, or that a wildcard matches (else a one-line error)."""
    if not _local(path):
        return
    if has_wildcards(path):
        if not matches(path):
            msg = f"{name}: no file matches {path}"
            raise CommandError(msg)
    elif not exists(path):
        msg = f"{name}: no such file: {path}"
        raise CommandError(msg)


def _classify(name: str) -> _Input:
    """Tell what kind of input ``name`` is; ROOT and Parquet paths are checked and made absolute."""
    root = _ROOT_INPUT.match(name)
    if root:
        path = root.group("path")
        _check_matches(name, path)
        files = absolute(path) if _local(path) else path
        tree = root.group("tree")
        return _Input("root", name, files if tree is None else f"{files}:{tree}")
    if name.lower().endswith(_PARQUET_SUFFIXES) or is_dir(name):
        _check_matches(name, name)
        return _Input("parquet", name, absolute(name) if _local(name) else name)
    return _Input("csv", name, name)


@contextlib.contextmanager
def _without_trim_threshold() -> Iterator[None]:
    """Start the workers of a cluster without the nanny's ``MALLOC_TRIM_THRESHOLD_``.

    distributed's nanny gives every worker ``MALLOC_TRIM_THRESHOLD_=65536``, with
    which glibc hands each freed temporary array back to the system, so that the
    look-ups of the next chunk of events fault it in again: a partition fill then runs
    about 30 % slower. The cluster of ``--scheduler local`` lives for one fill only,
    so its workers keep glibc's default; the rest of the nanny's environment stays
    (``None`` is how distributed's configuration unsets a variable). A threshold set in
    the environment of ``remu`` itself is the user's choice: the nanny passes it on.
    """
    import dask

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        yield


@contextlib.contextmanager
def _scheduler(address: str | None) -> Iterator[Any]:
    """Open the ``distributed.Client`` of ``--scheduler`` (``None`` without one), closed after."""
    if address is None:
        yield None
        return
    try:
        from remu._optional import optional_import

        distributed = optional_import("distributed", feature="--scheduler")
    except ImportError as error:
        raise CommandError(_one_line(str(error))) from error
    with contextlib.ExitStack() as stack:
        try:
            if address == "local" or address.startswith("local:"):
                workers = address.partition(":")[2]
                if workers and not (workers.isdigit() and int(workers) > 0):
                    msg = f"--scheduler {address}: local:N takes a positive number of workers"
                    raise CommandError(msg)
                with _without_trim_threshold():
                    cluster = stack.enter_context(
                        distributed.LocalCluster(
                            n_workers=int(workers) if workers else None,
                            threads_per_worker=1 if workers else None,
                            processes=True,
                            dashboard_address=None,
                            scheduler_kwargs={"dashboard_address": ":0"},
                        )
                    )
                client = stack.enter_context(distributed.Client(cluster))
            else:
                client = stack.enter_context(distributed.Client(address))
        except (OSError, ValueError, TypeError) as error:
            msg = f"--scheduler {address}: cannot connect to a Dask scheduler: {error}"
            raise CommandError(_one_line(msg)) from error
        yield client


def _warn_none_landed(name: str, binning_path: Path, n_read: int) -> None:
    events = f"the {n_read} events" if n_read > 1 else "the 1 event"
    print(
        f"remu fill: warning: none of {events} of {name} landed in the binning "
        f"{binning_path} (check the variables and the bin edges)",
        file=sys.stderr,
    )


def _fill_csv(
    target: Any, item: _Input, args: argparse.Namespace, rename: dict[str, str]
) -> tuple[int, int]:
    """Fill one CSV file; returns the events read and those that landed."""
    read: list[int] = []

    def count(data: Any, read: list[int] = read) -> Any:
        read.append(len(data))
        return data

    before = int(target.get_entries_as_ndarray().sum())
    target.fill_from_csv_file(
        item.source,
        weightfield=args.weightfield,
        weight=args.weight,
        rename=rename or None,
        cut_function=count,
    )
    return sum(read), int(target.get_entries_as_ndarray().sum()) - before


def _fill_file(
    target: Any, item: _Input, args: argparse.Namespace, rename: dict[str, str], client: Any
) -> tuple[int, int]:
    """Fill one ROOT or Parquet input; returns the events read and those that landed."""
    from remu._binning.fill import FillPlan

    plan = FillPlan(target)
    progress = bool(args.progress)
    from remu.errors import MissingVariableError

    fill_from: Callable[..., Any]
    if item.kind == "root":
        from remu._sources.root import fill_from_root

        fill_from = fill_from_root
    else:
        from remu._sources.parquet import fill_from_parquet

        fill_from = fill_from_parquet
    try:
        fill_from(
            plan,
            item.source,
            args.weightfield,
            args.weight,
            rename or None,
            dask=client is not None,
            progress=progress,
        )
    except KeyError as error:
        if isinstance(error, MissingVariableError) or item.kind != "root":
            raise
        # uproot's KeyInFileError (no such tree): its str() says what the file holds
        msg = f"{item.name}: {_one_line(str(error))}"
        raise CommandError(msg) from error
    n_read = plan.events_filled
    outside = plan.outside_counts[0] if plan.outside_counts else 0
    return n_read, n_read - outside


def _fill(args: argparse.Namespace) -> int:
    from remu._formats.histogram import SUFFIXES, FilledHistogram, write_histogram
    from remu._formats.yaml_codec import dump
    from remu._progress import progress_bar

    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        msg = (
            f"{out}: the output is written exactly there, as .npz or .csv chosen by its "
            f"suffix; got {out.suffix or 'no suffix'!r}"
        )
        raise CommandError(msg)
    binning_path = Path(args.binning)
    try:
        target = _load_binning(binning_path)
    except _ERRORS as error:
        _fail(binning_path, error)
    rename = _parse_rename(args.rename)
    inputs = [_classify(name) for name in args.events]
    n_csv = sum(item.kind == "csv" for item in inputs)
    try:
        # one bar over the CSV files; ROOT and Parquet inputs bring their own
        csv_bar = progress_bar(
            bool(args.progress) and n_csv > 0, total=n_csv, desc="reading CSV", unit="file"
        )
    except ImportError as error:
        msg = f"--progress: {_one_line(str(error))}"
        raise CommandError(msg) from error
    with _scheduler(args.scheduler) as client, csv_bar:
        for item in inputs:
            try:
                if item.kind == "csv":
                    n_read, landed = _fill_csv(target, item, args, rename)
                    csv_bar.update(1)
                else:
                    n_read, landed = _fill_file(target, item, args, rename, client)
            except ImportError as error:
                msg = f"{item.name}: {_one_line(str(error))}"
                raise CommandError(msg) from error
            except _ERRORS as error:
                _fail(Path(item.name) if item.kind == "csv" else item.name, error)
            if landed == 0 and n_read > 0:
                _warn_none_landed(item.name, binning_path, n_read)
    values = target.get_values_as_ndarray()
    entries = target.get_entries_as_ndarray()
    sumw2 = target.get_sumw2_as_ndarray()
    histogram = FilledHistogram(values, entries, sumw2, binning_yaml=dump(target.clone(dummy=True)))
    try:
        write_histogram(out, histogram)
    except _ERRORS as error:
        _fail(out, error)
    if args.plot:
        plot = Path(args.plot)
        try:
            from remu._plotting.dispatch import get_plotter

            # target is a binning, and get_plotter gives every binning a BinningPlotter
            plotter = cast("BinningPlotter", get_plotter(target))
            plotter.plot_values(label="values")
            plotter.legend()
            plotter.savefig(plot)
        except _ERRORS as error:
            _fail(plot, error)
    print(
        f"filled {int(entries.sum())} entries (sum of weights {float(values.sum()):g}) "
        f"into {target.data_size} data bins -> {out}"
    )
    return 0


# -- the parser -----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line and exit status 2, like every error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``remu`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> build_parser().parse_args(["info", "a.yml"]).files
    ['a.yml']
    """
    parser = _Parser(
        prog="remu", description="Response Matrix Utilities: inspect files and fill binnings."
    )
    parser.add_argument("--version", action="version", version=f"remu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    info = sub.add_parser(
        "info",
        help="describe binning YAML, response-matrix .npz, filled-binning and event CSV files",
    )
    info.add_argument("files", nargs="+")
    info.add_argument(
        "--json",
        action="store_true",
        help='print JSON (infinite and NaN numbers as the strings "inf", "-inf", "nan")',
    )
    info.set_defaults(func=_info)

    fill = sub.add_parser(
        "fill",
        help="fill a binning from CSV, ROOT or Parquet files",
        description=(
            "Fill a binning from event files and write its values, entries and sums of "
            "squared weights. Inputs: ROOT trees as FILE.root:TREE (wildcards allowed, "
            "quoted: 'mc/*.root:events'), Parquet files (.parquet, .parq, .pq), "
            "wildcards of them or directories of Parquet partitions, and CSV files "
            "(anything else). A wildcard matching no file is an error."
        ),
        epilog=(
            "--scheduler ADDRESS fills ROOT (uproot.dask) and Parquet "
            "(dask.dataframe.read_parquet) inputs on a Dask cluster: ADDRESS is a "
            "scheduler address such as tcp://host:8786, 'local' starts a "
            "distributed.LocalCluster for this run, 'local:N' one with N worker "
            "processes. Workers must see the files under the same paths. CSV files "
            "are always read in this process. Needs pip install 'remu[dask]' "
            "(and 'remu[root]' for ROOT files)."
        ),
    )
    fill.add_argument("binning", help="binning YAML file")
    fill.add_argument(
        "events",
        nargs="+",
        metavar="EVENTS",
        help="FILE.root:TREE, Parquet file or directory, or CSV file (header line of names)",
    )
    fill.add_argument(
        "-o",
        "--output",
        required=True,
        help="the file to write, exactly: .npz (with the binning inside) or .csv",
    )
    fill.add_argument(
        "--weightfield", help="column or branch holding event weights (its name after --rename)"
    )
    fill.add_argument("--weight", type=float, default=1.0, help="weight factor (default 1)")
    fill.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="read column or branch OLD as binning variable NEW (repeatable)",
    )
    fill.add_argument("--plot", metavar="FIG.png", help="also plot the filled values")
    fill.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="fill ROOT and Parquet inputs on this Dask scheduler (tcp://host:8786), "
        "or on a LocalCluster started for the run ('local', 'local:N' for N workers)",
    )
    fill.add_argument("--progress", action="store_true", help="show progress bars on stderr (tqdm)")
    fill.set_defaults(func=_fill)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on any error (reported on one line on stderr, naming the
        file, without a traceback).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as error:
        print(f"remu {args.command}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader of our output went away (``remu info ... | head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
