"""The ``remu`` command line: look into binning and response-matrix files, fill binnings.

Commands
--------
``remu info FILE ...``
    Describe binning YAML files (type, variables, bins, data size) and exported
    response-matrix ``.npz`` files (matrix shape, number of variations, sparsity).
``remu fill BINNING.yml EVENTS.csv [...] -o OUT``
    Fill a binning from CSV files and write the values, entries and sum of
    squared weights as ``.npz`` or ``.csv``; ``--plot FIG.png`` draws the values.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from remu._io import atomic_open, atomic_savez


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


def _describe_response(path: Path) -> dict[str, Any]:
    from remu._formats.npz_response import load_response_npz

    data = load_response_npz(path)
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


def _load_binning(path: Path) -> Any:
    from remu import binning

    with path.open() as handle:
        obj = binning.yaml.full_load(handle)
    if not isinstance(obj, binning.Binning):
        msg = f"{path}: expected a binning (e.g. !RectilinearBinning), found {type(obj).__name__}"
        raise TypeError(msg)
    return obj


def _info(args: argparse.Namespace) -> int:
    results = {}
    for name in args.files:
        path = Path(name)
        if not path.exists():
            msg = f"no such file: {path}"
            raise FileNotFoundError(msg)
        if path.suffix == ".npz":
            results[str(path)] = _describe_response(path)
        else:
            results[str(path)] = _describe_binning(_load_binning(path))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, info in results.items():
            print(f"{name}:")
            for key, value in info.items():
                print(f"  {key}: {value}")
    return 0


def _parse_rename(pairs: Sequence[str]) -> dict[str, str]:
    rename = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            msg = f"--rename takes OLD=NEW (CSV column = binning variable); got {pair!r}"
            raise ValueError(msg)
        rename[old] = new
    return rename


def _fill(args: argparse.Namespace) -> int:
    target = _load_binning(Path(args.binning))
    rename = _parse_rename(args.rename)
    for csv in args.events:
        target.fill_from_csv_file(
            csv, weightfield=args.weightfield, weight=args.weight, rename=rename or None
        )
    values = target.get_values_as_ndarray()
    entries = target.get_entries_as_ndarray()
    sumw2 = target.get_sumw2_as_ndarray()
    out = Path(args.output)
    if out.suffix == ".csv":
        with atomic_open(out) as handle:
            handle.write("data_index,value,entries,sumw2\n")
            for i, (v, n, s) in enumerate(
                zip(values.tolist(), entries.tolist(), sumw2.tolist(), strict=True)
            ):
                handle.write(f"{i},{v!r},{n},{s!r}\n")
    else:
        atomic_savez(out, values=values, entries=entries, sumw2=sumw2)
    if args.plot:
        from remu import plotting

        plotter = plotting.get_plotter(target)
        plotter.plot_values(label="values")
        plotter.legend()
        plotter.savefig(args.plot)
    print(
        f"filled {int(entries.sum())} entries (sum of weights {float(values.sum()):g}) "
        f"into {target.data_size} data bins -> {out}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``remu`` command."""
    parser = argparse.ArgumentParser(
        prog="remu", description="Response Matrix Utilities: inspect files and fill binnings."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="describe binning YAML and response-matrix .npz files")
    info.add_argument("files", nargs="+")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_info)

    fill = sub.add_parser("fill", help="fill a binning from CSV files")
    fill.add_argument("binning", help="binning YAML file")
    fill.add_argument("events", nargs="+", help="CSV files (header line with column names)")
    fill.add_argument("-o", "--output", required=True, help="output .npz or .csv")
    fill.add_argument("--weightfield", help="CSV column holding event weights")
    fill.add_argument("--weight", type=float, default=1.0, help="weight factor (default 1)")
    fill.add_argument("--rename", action="append", default=[], metavar="OLD=NEW")
    fill.add_argument("--plot", metavar="FIG.png", help="also plot the filled values")
    fill.set_defaults(func=_fill)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Errors in the input (missing files, malformed YAML, missing CSV columns) are
    reported on one line on stderr with exit status 2, without a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (OSError, ValueError, KeyError, TypeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"remu {args.command}: error: {message}", file=sys.stderr)
        return 2
