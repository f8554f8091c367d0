"""Event tables in CSV: reading them into structured arrays and filling binnings.

Format (spec §8.7): a header line of comma-separated column names (whitespace
stripped), then one row of comma-separated numbers per event, each parsed like
Python's ``float()``. No quoting, no comments; blank lines are errors.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib import recfunctions

from remu.errors import MissingFieldError, MissingVariableError

if TYPE_CHECKING:
    from remu._binning.binning import Binning

__all__ = ["fill_multiple_from_csv_file", "read_csv_file"]


def _bad_line(filename: str, lines: list[str], first_line: int, ncols: int) -> ValueError:
    """Locate the first unparsable line of a block (slow path, errors only)."""
    for offset, line in enumerate(lines):
        number = first_line + offset
        fields = line.split(",")
        if not line.strip():
            return ValueError(f"{filename}, line {number}: empty line")
        if len(fields) != ncols:
            return ValueError(
                f"{filename}, line {number}: expected {ncols} comma-separated values, "
                f"got {len(fields)}: {line.rstrip()!r}"
            )
        for field in fields:
            try:
                float(field)
            except ValueError:
                return ValueError(f"{filename}, line {number}: {field.strip()!r} is not a number")
    return ValueError(
        f"{filename}: could not parse lines {first_line}-{first_line + len(lines) - 1}"
    )


def read_csv_file(filename: Any, chunksize: int = 10000) -> np.ndarray:
    """Parse a CSV file into a 1-D structured array with one float64 field per column.

    Parameters
    ----------
    filename : path-like
    chunksize : int
        Number of rows parsed at a time (memory use only; the result is the same).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file and line of a blank line or non-numeric value.
    """
    name = os.fspath(filename)
    chunksize = max(int(chunksize), 1)
    with open(name) as handle:
        header = handle.readline()
        columns = [c.strip() for c in header.rstrip("\r\n").split(",")]
        if len(set(columns)) != len(columns) or not all(columns):
            msg = f"{name}: the header must hold distinct, non-empty column names; got {columns}"
            raise ValueError(msg)
        dtype = np.dtype([(c, np.float64) for c in columns])
        blocks = []
        first_line = 2
        while True:
            lines = list(itertools.islice(handle, chunksize))
            if not lines:
                break
            try:
                block = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
            except ValueError:
                raise _bad_line(name, lines, first_line, len(columns)) from None
            # loadtxt skips blank lines, which the format does not allow
            if block.shape[0] != len(lines) or block.shape[1] != len(columns):
                raise _bad_line(name, lines, first_line, len(columns))
            blocks.append(block)
            first_line += len(lines)
    data = np.concatenate(blocks) if blocks else np.zeros((0, len(columns)))
    return np.ascontiguousarray(data).view(dtype).reshape(-1)


def _load(binning_class: type, filename: Any, buffer: bool, chunksize: int) -> np.ndarray:
    cache: dict[str, np.ndarray] = binning_class._csv_buffer
    key = os.fspath(filename) if isinstance(filename, os.PathLike) else filename
    if buffer and key in cache:
        # a copy, so that a cut function modifying its input cannot change the cache
        return cache[key].copy()
    data = read_csv_file(filename, chunksize=chunksize)
    if buffer:
        cache[key] = data.copy()
    return data


def fill_multiple_from_csv_file(
    binning_class: type,
    binnings: Sequence[Binning],
    filename: Any,
    weightfield: str | None = None,
    weight: Any = 1.0,
    rename: Mapping[str, str] | None = None,
    cut_function: Callable[[np.ndarray], np.ndarray] | None = None,
    buffer_csv_files: bool = False,
    chunksize: int = 10000,
    **kwargs: Any,
) -> None:
    """Implementation of :meth:`Binning.fill_multiple_from_csv_file`."""
    if isinstance(filename, (list, tuple)):
        try:
            pairs = list(zip(filename, weight, strict=False))
        except TypeError:
            pairs = [(f, weight) for f in filename]
        for name, w in pairs:
            fill_multiple_from_csv_file(
                binning_class,
                binnings,
                name,
                weightfield=weightfield,
                weight=w,
                rename=rename,
                cut_function=cut_function,
                buffer_csv_files=buffer_csv_files,
                chunksize=chunksize,
                **kwargs,
            )
        return
    data = _load(binning_class, filename, buffer_csv_files, chunksize)
    if rename:
        data = recfunctions.rename_fields(data, dict(rename))
    if cut_function is not None:
        data = cut_function(data)
    if weightfield is not None:
        names = data.dtype.names or ()
        if weightfield not in names:
            msg = (
                f"CSV file {os.fspath(filename)!r} has no column {weightfield!r} for the "
                f"weights (columns: {', '.join(names)})"
            )
            raise MissingFieldError(msg)
        weight = data[weightfield] * weight
    for binning in binnings:
        try:
            binning.fill(data, weight=weight, **kwargs)
        except MissingVariableError as err:
            msg = f"CSV file {os.fspath(filename)!r}: {err}"
            raise MissingFieldError(msg) from err
