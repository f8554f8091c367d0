"""Filled binnings as files: what ``remu fill`` writes and ``remu info`` reads.

Two layouts, chosen by the file's suffix:

``.npz``
    ``values`` (float64), ``entries`` (int64) and ``sumw2`` (float64), one element
    per data index of the binning, and ``binning``: the binning's YAML text (its
    structure, as ``remu.yaml.dump`` writes it) as a 0-d string array, so the file
    says what its numbers mean.
``.csv``
    A header ``data_index,value,entries,sumw2``, then one line per data index, in
    order, with every float written with all its digits (``repr``).

Both are written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._formats.npz_archive import describe_source, read_npz_arrays, require_array
from remu._io import atomic_open
from remu.errors import FileFormatError

__all__ = ["CSV_HEADER", "SUFFIXES", "FilledHistogram", "read_histogram", "write_histogram"]

CSV_HEADER = "data_index,value,entries,sumw2"
#: The suffixes (file formats) of filled-binning files.
SUFFIXES = (".npz", ".csv")


@dataclass(frozen=True)
class FilledHistogram:
    """The content of a filled-binning file.

    Attributes
    ----------
    values, entries, sumw2 : ndarray, shape (data_size,)
    binning_yaml : str or None
        The binning's structure as YAML (``.npz`` files only).
    """

    values: NDArray[np.float64]
    entries: NDArray[np.int64]
    sumw2: NDArray[np.float64]
    binning_yaml: str | None = None


def _suffix(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        msg = (
            f"{os.fspath(path)}: a filled binning is written as .npz or .csv, chosen by the "
            f"file name; got {suffix or 'no suffix'!r}"
        )
        raise FileFormatError(msg)
    return suffix


def write_histogram(path: str | os.PathLike[str], histogram: FilledHistogram) -> None:
    """Write a filled binning to ``path`` (``.npz`` or ``.csv``), atomically, exactly there.

    Raises
    ------
    remu.errors.FileFormatError
        If the suffix is neither ``.npz`` nor ``.csv`` (nothing is written).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "h.csv")
    >>> write_histogram(path, FilledHistogram(np.array([0.5, 2.0]), np.array([1, 3]),
    ...                                      np.array([0.25, 1.5])))
    >>> with open(path) as f:
    ...     print(f.read(), end="")
    data_index,value,entries,sumw2
    0,0.5,1,0.25
    1,2.0,3,1.5
    >>> read_histogram(path).entries
    array([1, 3])
    """
    suffix = _suffix(path)
    if suffix == ".csv":
        rows = zip(
            histogram.values.tolist(),
            histogram.entries.tolist(),
            histogram.sumw2.tolist(),
            strict=True,
        )
        with atomic_open(path) as handle:
            handle.write(CSV_HEADER + "\n")
            handle.writelines(f"{i},{v!r},{n},{s!r}\n" for i, (v, n, s) in enumerate(rows))
        return
    arrays: dict[str, Any] = {
        "values": np.asarray(histogram.values, dtype=np.float64),
        "entries": np.asarray(histogram.entries, dtype=np.int64),
        "sumw2": np.asarray(histogram.sumw2, dtype=np.float64),
    }
    if histogram.binning_yaml is not None:
        arrays["binning"] = np.array(histogram.binning_yaml)
    # through a file object: numpy would append ".npz" to a name like "h.NPZ"
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **arrays)


def _checked(
    values: Any, entries: Any, sumw2: Any, where: str, yaml: str | None
) -> FilledHistogram:
    arrays = {"values": values, "entries": entries, "sumw2": sumw2}
    for key, array in arrays.items():
        if array.ndim != 1 or array.dtype.kind not in "iuf":
            msg = (
                f"{where}: {key!r} must be a 1-D array of numbers; got {array.dtype} {array.shape}"
            )
            raise FileFormatError(msg)
    sizes = {key: len(array) for key, array in arrays.items()}
    if len(set(sizes.values())) != 1:
        msg = (
            f"{where}: values, entries and sumw2 must have one element per data index; got {sizes}"
        )
        raise FileFormatError(msg)
    if entries.dtype.kind == "f" and not np.array_equal(entries, np.trunc(entries)):
        msg = f"{where}: 'entries' must be whole numbers"
        raise FileFormatError(msg)
    return FilledHistogram(
        values=values.astype(np.float64, copy=False),
        entries=entries.astype(np.int64),
        sumw2=sumw2.astype(np.float64, copy=False),
        binning_yaml=yaml,
    )


def read_histogram(path: str | os.PathLike[str]) -> FilledHistogram:
    """Read a filled-binning file written by :func:`write_histogram` (or ``remu fill``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    remu.errors.FileFormatError
        Naming the file and what does not fit the layout.
    """
    where = describe_source(path)
    if _suffix(path) == ".csv":
        from remu._formats.csv_events import read_csv_file

        with Path(path).open(encoding="locale") as handle:
            header = handle.readline().strip()
        if header != CSV_HEADER:
            msg = f"{where}: a filled-binning CSV file starts with {CSV_HEADER!r}; got {header!r}"
            raise FileFormatError(msg)
        table = read_csv_file(path)
        if not np.array_equal(table["data_index"], np.arange(len(table))):
            msg = f"{where}: 'data_index' must count 0, 1, 2, ... in order"
            raise FileFormatError(msg)
        return _checked(table["value"], table["entries"], table["sumw2"], where, None)
    arrays = read_npz_arrays(
        path, what="filled-binning", expected="'values', 'entries' and 'sumw2'"
    )
    values, entries, sumw2 = (
        require_array(arrays, key, where) for key in ("values", "entries", "sumw2")
    )
    yaml = str(arrays["binning"]) if "binning" in arrays else None
    return _checked(values, entries, sumw2, where, yaml)
