"""Filling from Parquet files: in this process through pyarrow, or as Dask tasks.

A source is one Parquet file, a directory of Parquet partitions (read as one
dataset: hive-style ``key=value`` directories become columns, files whose names
start with ``_`` or ``.`` are ignored, as by pyarrow and Dask), a wildcard
pattern (``"data/*.parquet"``, ``**`` included) or a list of files. A pattern
that matches nothing, a directory without Parquet files and a missing file are
errors (``FileNotFoundError`` naming the source).

Only the columns the fill needs are read: the binnings' input names (through
``rename``: input name -> binning variable) and the weight column. As for CSV and
ROOT files, ``weightfield`` names the weight column after renaming and multiplies
``weight``; a column that is renamed is known by its new name only (as for a
DataFrame).

In this process the files are read one after the other, in record batches of
:data:`BATCH_ROWS` rows (constant memory), and filled in event order: the sums
are bit-identical to one in-memory fill of all the events. With ``dask=True`` the
source is read by ``dask.dataframe.read_parquet`` and filled partition by
partition on the current Dask scheduler (:mod:`remu._sources.dask_fill`).

Progress (``progress=True``) advances file by file (by partition with Dask).
Files without rows are logged at INFO as skipped, and after the fill the number
of events and those outside each histogram.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from remu._binning.events import as_columns
from remu._binning.fill import FillPlan
from remu._logging import get_logger
from remu._optional import optional_import
from remu._paths import absolute, exists, has_wildcards, is_dir, matches
from remu._progress import ProgressLike, progress_bar
from remu._sources.dask_fill import fill_from_dask, input_names
from remu._sources.weights import weight_multiplier
from remu.errors import MissingFieldError

__all__ = ["BATCH_ROWS", "ParquetSource", "fill_from_parquet"]

#: rows read at a time in this process (8 MB per float column)
BATCH_ROWS = 1 << 20


def _is_url(path: str) -> bool:
    return "://" in path


class ParquetSource:
    """Where the Parquet events are: what pyarrow and Dask open, and a description.

    Parameters
    ----------
    source : path-like, str or list of path-like
        A file, a directory, a wildcard pattern or a list of files. Local paths
        are made absolute (Dask workers may run in another directory).

    Raises
    ------
    FileNotFoundError
        A missing file, a pattern matching no file, a directory without Parquet
        files.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> try:
    ...     ParquetSource(os.path.join(folder.name, "*.parquet"))
    ... except FileNotFoundError as err:
    ...     print(str(err).replace(folder.name, "DIR"))
    no file matches DIR/*.parquet
    >>> folder.cleanup()
    """

    def __init__(self, source: Any) -> None:
        self.is_directory = False
        if isinstance(source, (list, tuple)):
            files = [self._existing(os.fspath(f)) for f in source]
            if not files:
                msg = "no Parquet files given (an empty list)"
                raise FileNotFoundError(msg)
            self.paths: str | list[str] = files
            self.description = f"Parquet files {', '.join(os.fspath(f) for f in source)}"
            return
        path = os.fspath(source)
        self.description = f"Parquet {path}"
        if _is_url(path):
            self.paths = path
        elif has_wildcards(path):
            found = matches(path)
            if not found:
                msg = f"no file matches {path}"
                raise FileNotFoundError(msg)
            self.paths = [absolute(m) for m in found]
        elif is_dir(path):
            self.paths = absolute(path)
            self.is_directory = True
        else:
            self.paths = [self._existing(path)]

    @staticmethod
    def _existing(path: str) -> str:
        if _is_url(path):
            return path
        if not exists(path):
            msg = f"no such file: {path}"
            raise FileNotFoundError(msg)
        return absolute(path)

    def dataset(self) -> Any:
        """Open the ``pyarrow.dataset.Dataset`` of the files (only their schema is read)."""
        ds = optional_import("pyarrow.dataset", feature="reading Parquet files")
        data = ds.dataset(
            self.paths, format="parquet", partitioning="hive" if self.is_directory else None
        )
        if not data.files:
            msg = f"{self.paths}: no Parquet files in the directory"
            raise FileNotFoundError(msg)
        return data


def _columns(
    plan: FillPlan, rename: Mapping[str, str] | None, weightfield: str | None
) -> tuple[list[str] | None, str | None]:
    """Return the columns to read (``None``: all) and the weight column's name in the files."""
    names = input_names(plan, rename)
    weight_column = None
    if weightfield is not None:
        source = {new: old for old, new in (rename or {}).items()}
        weight_column = source.get(weightfield, weightfield)
    if names is not None and weight_column is not None and weight_column not in names:
        names = [*names, weight_column]
    return names, weight_column


def _check_columns(available: Sequence[str], wanted: list[str] | None, where: str) -> None:
    if wanted is None:
        return
    for name in wanted:
        if name not in available:
            msg = f"{where} has no column {name!r} (columns: {', '.join(available) or 'none'})"
            raise MissingFieldError(msg)


def _log_empty_files(data: Any, log: logging.Logger) -> None:
    """Log the files without rows (their footers are read: no data)."""
    for fragment in data.get_fragments():
        if fragment.count_rows() == 0:
            log.info("skipped %s: the Parquet file has no rows", fragment.path)


def fill_from_parquet(
    plan: FillPlan,
    source: Any,
    weightfield: str | None = None,
    weight: Any = 1.0,
    rename: Mapping[str, str] | None = None,
    *,
    dask: bool = False,
    progress: ProgressLike = False,
    batch_rows: int = BATCH_ROWS,
) -> None:
    """Fill the plan's histograms from Parquet files (see the module docs).

    Raises
    ------
    FileNotFoundError
        A missing file, a pattern matching nothing, a directory without Parquet files.
    remu.errors.MissingFieldError
        A column the fill needs is not in the files.
    ImportError
        pyarrow (or, with ``dask=True``, dask) is not installed; names the extra.
    """
    where = source if isinstance(source, ParquetSource) else ParquetSource(source)
    weight = weight_multiplier(weight, "Parquet files")
    log = get_logger(plan.log_area)
    data = where.dataset()
    columns, weight_column = _columns(plan, rename, weightfield)
    _check_columns(data.schema.names, columns, where.description)
    if dask:
        dd = optional_import("dask.dataframe", feature="reading Parquet files with Dask")
        if log.isEnabledFor(logging.INFO):
            _log_empty_files(data, log)
        frame = dd.read_parquet(where.paths, columns=columns)
        weights: Any = weight if weight_column is None else frame[weight_column] * weight
        fill_from_dask(
            plan,
            frame,
            weight=weights,
            rename=rename,
            progress=progress,
            source=where.description,
        )
        return
    optional_import("pandas", feature="reading Parquet files")
    fragments = list(data.get_fragments())
    with progress_bar(progress, total=len(fragments), desc="reading Parquet", unit="file") as bar:
        for fragment in fragments:
            rows = 0
            for batch in fragment.to_batches(
                schema=data.schema, columns=columns, batch_size=batch_rows
            ):
                if batch.num_rows == 0:
                    continue
                _fill_batch(plan, batch, rows, fragment.path, weight, weight_column, rename)
                rows += batch.num_rows
            if rows == 0:
                log.info("skipped %s: the Parquet file has no rows", fragment.path)
            bar.update(1)
    plan.report(where.description)


def _fill_batch(
    plan: FillPlan,
    batch: Any,
    first_row: int,
    path: str,
    weight: float,
    weight_column: str | None,
    rename: Mapping[str, str] | None,
) -> None:
    """Fill one record batch in place; a bad value names the file and the rows."""
    frame = batch.to_pandas()
    weights: Any = weight
    if weight_column is not None:
        weights = frame[weight_column].to_numpy(dtype=float, na_value=np.nan) * weight
    cols = as_columns(frame, rename)
    if cols is None:
        return
    try:
        plan.fill_columns(cols, weights, raise_error=False, count=True)
    except ValueError as err:
        if type(err) is not ValueError:
            raise
        msg = f"{path} (rows {first_row}-{first_row + batch.num_rows - 1}): {err}"
        raise ValueError(msg) from err
