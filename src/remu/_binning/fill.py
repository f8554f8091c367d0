"""Vectorised filling: event columns -> data indices -> in-place accumulation.

The data index of every event is computed chunk by chunk (``CHUNK_SIZE`` events
each) through the module-level ``remu.binning.mapper``, so that
``binning.mapper = pool.map`` parallelises the look-ups. The weights are then
added with :func:`numpy.add.at`, in event order, so the sums are bit-identical to
filling the events one at a time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from remu._binning.events import Columns, MaterialisedColumns, as_columns

if TYPE_CHECKING:
    from remu._binning.binning import Binning

__all__ = ["CHUNK_SIZE", "current_mapper", "data_index_chunks", "fill"]

CHUNK_SIZE = 1 << 16


def current_mapper() -> Any:
    """The ``map``-like function currently set as ``remu.binning.mapper``."""
    module = sys.modules.get("remu.binning")
    return getattr(module, "mapper", map) if module is not None else map


def data_index_chunks(binning: Binning, cols: Columns) -> list[np.ndarray]:
    """Data indices (int64, -1 outside) of all events, as a list of consecutive chunks."""
    n = cols.n
    mapper = current_mapper()
    if mapper is not map:
        # A parallel mapper pickles each chunk: hand it plain arrays of the needed
        # variables instead of the (possibly large) original container.
        needed = binning._required_variables()
        if needed is not None:
            cols = MaterialisedColumns(cols, needed)
    if n <= CHUNK_SIZE:
        chunks = [cols]
    else:
        chunks = [cols.take(slice(a, min(a + CHUNK_SIZE, n))) for a in range(0, n, CHUNK_SIZE)]
    return [np.asarray(c, dtype=np.int64) for c in mapper(binning._data_indices, chunks)]


#: The largest weight whose square (for the sum of squared weights) is a finite float.
MAX_WEIGHT = float(np.sqrt(np.finfo(np.float64).max))


def _weight_error(value: float, which: str) -> ValueError:
    if np.isnan(value):
        return ValueError(f"{which} is NaN")
    return ValueError(
        f"{which} is {value!r}: weights must be finite, with magnitude at most "
        f"{MAX_WEIGHT:.4g} (their squares are summed into sumw2)"
    )


def _normalise_weight(weight: Any, n: int) -> float | np.ndarray:
    try:
        length = len(weight)
    except TypeError:
        length = None
    if length is None:
        try:
            w = float(weight)
        except (TypeError, ValueError) as err:
            msg = f"weight must be a number or a sequence of numbers; got {weight!r}"
            raise TypeError(msg) from err
        if not abs(w) <= MAX_WEIGHT:
            raise _weight_error(w, "weight")
        return w
    if length != n:
        msg = f"Different length of event and weight lists! ({n} events, {length} weights)"
        raise ValueError(msg)
    try:
        arr = np.asarray(weight, dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"weights must be numbers: {err}"
        raise ValueError(msg) from err
    if arr.ndim != 1:
        msg = f"weights must be a 1-D sequence; got shape {arr.shape}"
        raise ValueError(msg)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.abs(arr) <= MAX_WEIGHT))
    if bad.size:
        first = int(bad[0])
        raise _weight_error(float(arr[first]), f"weight of event {first} ({bad.size} bad in total)")
    return arr


def accumulate(binning: Binning, chunks: list[np.ndarray], weight: float | np.ndarray) -> None:
    """Add the weighted events with the given data-index chunks into the binning's arrays."""
    values, entries, sumw2 = binning.value_array, binning.entries_array, binning.sumw2_array
    if values is None:
        if any((c >= 0).any() for c in chunks):
            msg = "Cannot fill a dummy binning (it has no data arrays); use clone(dummy=False)."
            raise TypeError(msg)
        return
    scalar = np.ndim(weight) == 0
    with np.errstate(under="ignore"):
        w2 = weight * weight if scalar else None
    offset = 0
    for chunk in chunks:
        inside = chunk >= 0
        index = chunk[inside] if not inside.all() else chunk
        if scalar:
            np.add.at(values, index, weight)
            np.add.at(sumw2, index, w2)
        else:
            w = weight[offset : offset + len(chunk)]
            if index is not chunk:
                w = w[inside]
            np.add.at(values, index, w)
            with np.errstate(under="ignore"):
                np.add.at(sumw2, index, w * w)
        np.add.at(entries, index, 1)
        offset += len(chunk)


def fill(
    binning: Binning,
    event: Any,
    weight: Any = 1,
    raise_error: bool = False,
    rename: Any = None,
) -> None:
    """Implementation of :meth:`Binning.fill`."""
    cols = as_columns(event, rename)
    if cols is None:
        return
    chunks = data_index_chunks(binning, cols)
    if raise_error and any((c < 0).any() for c in chunks):
        msg = "Event not part of binning!"
        raise ValueError(msg)
    accumulate(binning, chunks, _normalise_weight(weight, cols.n))
