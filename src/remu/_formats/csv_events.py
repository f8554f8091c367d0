r"""Event tables in CSV: reading them into structured arrays and filling binnings.

The format: a header line of comma-separated column names (whitespace around a
name is stripped; names are distinct and non-empty), then one line per event of
exactly as many comma-separated numbers (whitespace around a number is allowed;
``nan``, ``inf`` and ``infinity`` in any case, with a sign, are numbers). There is
no quoting and there are no comments; an empty line is an error. Every value
becomes a float64 field of a 1-D structured array named after its column.

Two readers give the same array and the same errors. With pandas installed (the
``pandas`` extra), its C parser reads files of plain numbers (digits, signs,
points, exponents, the letters of ``nan`` and ``inf``, spaces, ``\n`` or
``\r\n`` line ends, ASCII header); the shape of the file (one line per event, the
right number of commas on each) is checked on the raw bytes first. Anything else
(other characters, or a file pandas refuses) is read by the NumPy reader
(:func:`numpy.loadtxt`, chunk by chunk), which also writes every error message,
naming the file and line, so that the errors do not depend on which reader ran.
Small files (below 256 kB) are read with NumPy unless pandas is already imported:
importing pandas takes longer than reading them. When a large file goes to the
slower NumPy reader (pandas is not installed, or it cannot take the file), the
``remu.binning`` logger says so at INFO.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import itertools
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib import recfunctions

from remu._logging import get_logger
from remu._progress import ProgressLike, progress_bar
from remu.errors import MissingFieldError, MissingVariableError

if TYPE_CHECKING:
    from remu._binning.binning import Binning

__all__ = ["fill_multiple_from_csv_file", "read_csv_file"]

#: Which reader ``read_csv_file`` uses: ``"auto"`` (pandas for files of at least
#: ``PANDAS_MIN_BYTES`` or when pandas is imported already, NumPy otherwise),
#: ``"pandas"`` (pandas whenever it can) or ``"numpy"``. A private switch for tests
#: and benchmarks; the results are the same.
READER = "auto"
PANDAS_MIN_BYTES = 1 << 18

#: The bytes a file of plain numbers consists of (checked before pandas reads it).
_PLAIN_BYTES = b"0123456789+-.eE, \n\r" + b"nNaAiIfFtTyY"
#: Spellings of NaN that both readers take (NumPy takes every case of "nan").
_NAN_SPELLINGS = ["nan", "naN", "nAn", "nAN", "Nan", "NaN", "NAn", "NAN"]

_LOG = get_logger("binning")


def _columns(header: str, name: str) -> list[str]:
    """Check the column names of a header line (shared by both readers)."""
    columns = [c.strip() for c in header.rstrip("\r\n").split(",")]
    if len(set(columns)) != len(columns) or not all(columns):
        msg = f"{name}: the header must hold distinct, non-empty column names; got {columns}"
        raise ValueError(msg)
    return columns


def _structured(data: np.ndarray, columns: list[str]) -> np.ndarray:
    dtype = np.dtype([(c, np.float64) for c in columns])
    return np.ascontiguousarray(data, dtype=np.float64).view(dtype).reshape(-1)


def _loadtxt(lines: list[str]) -> np.ndarray:
    """Parse comma-separated lines with :func:`numpy.loadtxt`.

    Blank lines are skipped silently: the caller finds them by the number of rows.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
        return np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2, comments=None)


def _parses(text: str) -> bool:
    """Whether NumPy's reader takes ``text`` (one line, or one field) as numbers."""
    try:
        return _loadtxt([text]).size > 0
    except ValueError:
        return False


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
            if not _parses(field):
                return ValueError(f"{filename}, line {number}: {field.strip()!r} is not a number")
    return ValueError(
        f"{filename}: could not parse lines {first_line}-{first_line + len(lines) - 1}"
    )


def _read_with_numpy(name: str, chunksize: int) -> np.ndarray:
    """Read with NumPy: :func:`numpy.loadtxt` on blocks of ``chunksize`` lines."""
    chunksize = max(int(chunksize), 1)
    with Path(name).open(encoding="locale") as handle:
        try:
            columns = _columns(handle.readline(), name)
            blocks = []
            first_line = 2
            while True:
                lines = list(itertools.islice(handle, chunksize))
                if not lines:
                    break
                try:
                    block = _loadtxt(lines)
                except ValueError:
                    raise _bad_line(name, lines, first_line, len(columns)) from None
                # loadtxt skips blank lines, which the format does not allow
                if block.shape[0] != len(lines) or block.shape[1] != len(columns):
                    raise _bad_line(name, lines, first_line, len(columns))
                blocks.append(block)
                first_line += len(lines)
        except UnicodeDecodeError as err:
            msg = f"{name}: not a text file of comma-separated numbers ({err.reason})"
            raise ValueError(msg) from None
    data = np.concatenate(blocks) if blocks else np.zeros((0, len(columns)))
    return _structured(data, columns)


_pandas_module: ModuleType | None = None


def _pandas(size: int) -> ModuleType | None:
    """pandas, when the reader setting and the file size make it worth using."""
    global _pandas_module
    if READER == "numpy":
        return None
    if _pandas_module is None:
        if "pandas" not in sys.modules:
            if READER == "auto" and size < PANDAS_MIN_BYTES:
                return None
            if importlib.util.find_spec("pandas") is None:
                _LOG.info(
                    "pandas is not installed: reading CSV files of %d bytes with NumPy's "
                    "slower reader (pip install 'remu[pandas]')",
                    size,
                )
                return None
        import pandas

        _pandas_module = pandas
    return _pandas_module


def _pandas_options(pandas: ModuleType) -> dict[str, Any]:
    # pandas 3 parses every float as Python does; older versions only do so with
    # float_precision="round_trip" (the default "high" can be 1 ulp off)
    major = int(pandas.__version__.split(".")[0])
    return {} if major >= 3 else {"float_precision": "round_trip"}


def _read_with_pandas(pandas: ModuleType, name: str, raw: bytes) -> np.ndarray | None:
    """Read with pandas, or return None to leave the file to the NumPy reader.

    pandas takes the file only when every byte after the header is one of
    ``_PLAIN_BYTES``: that keeps out words pandas would read as numbers
    (``True``), quotes, comments and tabs. It refuses by itself every line that
    breaks the format by too few fields or an empty line (an empty field is no
    number: the empty string is not among the NaN spellings) or by a field that is
    not a number. Extra fields it may drop silently, so the commas are counted:
    exactly ``ncols - 1`` per line on average, and with no line short, none is
    long. Finally the number of rows must be the number of lines.
    """
    newline = raw.find(b"\n")
    header = raw if newline < 0 else raw[:newline]
    if b"\r" in header.rstrip(b"\r") or not header.isascii():
        return None
    columns = _columns(header.decode("ascii"), name)
    # translate keeps the order: the leftovers of the whole file are the header's
    # exactly when the body has none (no copy of the body needed)
    if raw.translate(None, _PLAIN_BYTES) != header.translate(None, _PLAIN_BYTES):
        return None
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # lone carriage returns
    lines = 0 if newline < 0 else raw.count(b"\n") - (1 if raw.endswith(b"\n") else 0)
    if raw.count(b",") - header.count(b",") != lines * (len(columns) - 1):
        return None  # some line has too many fields (pandas may drop the extra ones)
    if lines == 0:
        return _structured(np.zeros((0, len(columns))), columns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. a ParserWarning about dropped fields
            # from the file (faster than from memory); the header line is replaced by
            # plain numbers as names, so its text does not matter to pandas
            frame = pandas.read_csv(
                name,
                header=0,
                names=list(range(len(columns))),
                index_col=False,
                dtype=np.float64,
                engine="c",
                quoting=csv.QUOTE_NONE,
                skip_blank_lines=False,
                keep_default_na=False,
                na_values=_NAN_SPELLINGS,
                **_pandas_options(pandas),
            )
    except Exception:  # noqa: BLE001 - any refusal: the NumPy reader decides and explains
        return None
    if frame.shape != (lines, len(columns)):
        return None
    return _structured(frame.to_numpy(dtype=np.float64), columns)


def read_csv_file(filename: Any, chunksize: int = 10000) -> np.ndarray:
    r"""Parse a CSV file into a 1-D structured array with one float64 field per column.

    Parameters
    ----------
    filename : path-like
    chunksize : int
        Number of lines the NumPy reader parses at a time (memory use only; the
        result is the same; pandas reads the whole file at once).

    Returns
    -------
    numpy.ndarray
        One record per event, one float64 field per column.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming the file and line of an empty line, a line with the wrong number of
        values or a value that is not a number, or a bad header.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "events.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("x, w\n0.5, 2\nnan, 1\n")
    >>> read_csv_file(path)
    array([(0.5, 2.), (nan, 1.)], dtype=[('x', '<f8'), ('w', '<f8')])
    """
    name = os.fspath(filename)
    with contextlib.suppress(OSError):  # errors are the NumPy reader's to report
        pandas = _pandas(Path(name).stat().st_size)
        if pandas is not None:
            raw = Path(name).read_bytes()
            data = _read_with_pandas(pandas, name, raw)
            if data is not None:
                return data
            _LOG.info(
                "%s is not a plain file of numbers for pandas' reader (or pandas refused "
                "it): reading it with NumPy's slower reader",
                name,
            )
    return _read_with_numpy(name, chunksize)


def _load(binning_class: type[Binning], filename: Any, buffer: bool, chunksize: int) -> np.ndarray:
    cache: dict[str, np.ndarray] = binning_class._csv_buffer
    key = os.fspath(filename) if isinstance(filename, os.PathLike) else filename
    if buffer and key in cache:
        # a copy, so that a cut function modifying its input cannot change the cache
        cached: np.ndarray = cache[key].copy()
        return cached
    data = read_csv_file(filename, chunksize=chunksize)
    if buffer:
        cache[key] = data.copy()
    return data


def fill_multiple_from_csv_file(
    binning_class: type[Binning],
    binnings: Sequence[Binning],
    filename: Any,
    weightfield: str | None = None,
    weight: Any = 1.0,
    rename: Mapping[str, str] | None = None,
    cut_function: Callable[[np.ndarray], np.ndarray] | None = None,
    buffer_csv_files: bool = False,
    chunksize: int = 10000,
    *,
    progress: ProgressLike = False,
    labels: Sequence[str] | None = None,
    log_area: str = "binning",
    **kwargs: Any,
) -> None:
    """Fill from CSV files: the implementation of :meth:`Binning.fill_multiple_from_csv_file`.

    ``labels`` name the binnings in log messages (default ``"binning"``, or
    ``"binning 1"``, ... for several), ``log_area`` the logger below ``remu``.
    """
    if isinstance(filename, (list, tuple)):
        try:
            pairs = list(zip(filename, weight, strict=False))
        except TypeError:
            pairs = [(f, weight) for f in filename]
        with progress_bar(progress, total=len(pairs), desc="reading CSV", unit="file") as bar:
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
                    labels=labels,
                    log_area=log_area,
                    **kwargs,
                )
                bar.update(1)
        return
    with progress_bar(progress, total=1, desc="reading CSV", unit="file") as bar:
        _fill_one_file(
            binning_class,
            binnings,
            filename,
            weightfield,
            weight,
            rename,
            cut_function,
            buffer_csv_files,
            chunksize,
            labels,
            log_area,
            kwargs,
        )
        bar.update(1)


def _entries_total(binning: Binning) -> int:
    return 0 if binning.entries_array is None else int(binning.entries_array.sum())


def _fill_one_file(
    binning_class: type[Binning],
    binnings: Sequence[Binning],
    filename: Any,
    weightfield: str | None,
    weight: Any,
    rename: Mapping[str, str] | None,
    cut_function: Callable[[np.ndarray], np.ndarray] | None,
    buffer_csv_files: bool,
    chunksize: int,
    labels: Sequence[str] | None,
    log_area: str,
    kwargs: dict[str, Any],
) -> None:
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
    n_events = len(data) if np.ndim(data) else 1
    outside = []
    for binning in binnings:
        before = _entries_total(binning)
        try:
            binning.fill(data, weight=weight, **kwargs)
        except MissingVariableError as err:
            msg = f"CSV file {os.fspath(filename)!r}: {err}"
            raise MissingFieldError(msg) from err
        outside.append(n_events - (_entries_total(binning) - before))
    if labels is None:
        labels = (
            ["binning"]
            if len(binnings) == 1
            else [f"binning {i + 1}" for i in range(len(binnings))]
        )
    from remu._binning.fill import report_fill

    report_fill(log_area, f"CSV file {os.fspath(filename)}", n_events, labels, outside)
