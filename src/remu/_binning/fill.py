"""Vectorised filling: event columns -> data indices -> in-place accumulation.

The data index of every event is computed chunk by chunk (``CHUNK_SIZE`` events
each) through the module-level ``remu.binning.mapper``, so that
``binning.mapper = pool.map`` parallelises the look-ups. The weights are then
added with :func:`numpy.add.at`, in event order, so the sums are bit-identical to
filling the events one at a time.

Fills report to the ``remu.binning`` (and, for response matrices,
``remu.migration``) logger: a fill from files or from a Dask collection logs the
number of events and how many fell outside each histogram at INFO, and a WARNING
when events were read but none landed in a histogram. An in-memory ``fill`` (often
called once per event) logs the same counts at DEBUG only, and counts nothing
unless DEBUG is enabled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from remu._binning.events import Columns, MaterialisedColumns, as_columns
from remu._logging import get_logger
from remu._progress import ProgressLike
from remu._sources.detect import uses_dask
from remu._state import get_mapper

if TYPE_CHECKING:
    from remu._binning.binning import Binning

__all__ = [
    "CHUNK_SIZE",
    "PARTIAL_CHUNK_SIZE",
    "FillPlan",
    "PartialFill",
    "accumulate",
    "current_mapper",
    "data_index_chunks",
    "fill",
    "normalise_weight",
    "report_fill",
]

_LOG = get_logger("binning")

CHUNK_SIZE = 1 << 16
#: look-up chunks of a partial fill (on Dask workers): their temporaries stay below
#: glibc's 128 kB mmap threshold, which is fixed in worker processes (distributed
#: sets MALLOC_TRIM_THRESHOLD_), so they are reused instead of being mapped afresh
#: (and page-faulted) for every chunk
PARTIAL_CHUNK_SIZE = 12288


def current_mapper() -> Any:
    """Return the ``map``-like function currently set as ``remu.binning.mapper``."""
    return get_mapper("binning")


def data_index_chunks(
    binning: Binning, cols: Columns, chunk_size: int = CHUNK_SIZE
) -> list[np.ndarray]:
    """Find the data indices (int64, -1 outside) of all events, as consecutive chunks."""
    n = cols.n
    mapper = current_mapper()
    if mapper is not map:
        # A parallel mapper pickles each chunk: hand it plain arrays of the needed
        # variables instead of the (possibly large) original container.
        needed = binning._required_variables()
        if needed is not None:
            cols = MaterialisedColumns(cols, needed)
    if n <= chunk_size:
        chunks = [cols]
    else:
        chunks = [cols.take(slice(a, min(a + chunk_size, n))) for a in range(0, n, chunk_size)]
    return [np.asarray(c, dtype=np.int64) for c in mapper(binning._data_indices, chunks)]


#: The largest weight whose square (for the sum of squared weights) is a finite float.
MAX_WEIGHT = float(np.sqrt(np.finfo(np.float64).max))


def _weight_error(value: float, which: str, count: str = "") -> ValueError:
    if np.isnan(value):
        return ValueError(f"{which} is NaN{count}")
    return ValueError(
        f"{which} is {value!r}{count}: weights must be finite, with magnitude at most "
        f"{MAX_WEIGHT:.4g} (their squares are summed into sumw2)"
    )


def normalise_weight(weight: Any, n: int) -> float | np.ndarray:
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
    # Two passes without a temporary (min and max are NaN if any weight is); the
    # offending events are looked up only when something is wrong.
    with np.errstate(invalid="ignore"):
        suspicious = arr.size > 0 and not (arr.min() >= -MAX_WEIGHT and arr.max() <= MAX_WEIGHT)
        bad = np.flatnonzero(~(np.abs(arr) <= MAX_WEIGHT)) if suspicious else None
    if bad is not None:
        first = int(bad[0])
        raise _weight_error(
            float(arr[first]), f"weight of event {first}", f" ({bad.size} bad weights in total)"
        )
    return arr


def accumulate_arrays(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    chunks: list[np.ndarray],
    weight: float | np.ndarray,
) -> int:
    """Add weighted events with the given data-index chunks to ``(values, entries, sumw2)``.

    The additions run in event order (:func:`numpy.add.at`), so the sums are
    bit-identical to filling the events one at a time. ``arrays`` is ``None`` for a
    dummy binning, which accepts only events outside it. Returns the number of
    events outside (data index -1), known from the selection of those inside.
    """
    if arrays is None:
        if any((c >= 0).any() for c in chunks):
            msg = "Cannot fill a dummy binning (it has no data arrays); use clone(dummy=False)."
            raise TypeError(msg)
        return sum(len(c) for c in chunks)
    values, entries, sumw2 = arrays
    scalar = np.ndim(weight) == 0
    with np.errstate(under="ignore"):
        # used only for a scalar weight
        w2 = weight * weight if scalar else 0.0
    offset = outside = 0
    for chunk in chunks:
        inside = chunk >= 0
        index = chunk[inside] if not inside.all() else chunk
        outside += len(chunk) - len(index)
        if scalar:
            np.add.at(values, index, weight)
            np.add.at(sumw2, index, w2)
        else:
            w = np.asarray(weight)[offset : offset + len(chunk)]
            if index is not chunk:
                w = w[inside]
            np.add.at(values, index, w)
            with np.errstate(under="ignore"):
                np.add.at(sumw2, index, w * w)
        np.add.at(entries, index, 1)
        offset += len(chunk)
    return outside


def data_arrays(binning: Binning) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return the binning's ``(values, entries, sumw2)`` storage, ``None`` for a dummy."""
    values, entries, sumw2 = binning.value_array, binning.entries_array, binning.sumw2_array
    if values is None or entries is None or sumw2 is None:
        return None
    return values, entries, sumw2


def accumulate(binning: Binning, chunks: list[np.ndarray], weight: float | np.ndarray) -> int:
    """Add the weighted events with the given data-index chunks into the binning's arrays.

    Returns the number of events outside the binning.
    """
    return accumulate_arrays(data_arrays(binning), chunks, weight)


@dataclass
class PartialFill:
    """The sums of a batch of events, one entry per histogram of a :class:`FillPlan`.

    What a worker returns for its share of the events: per histogram a values,
    an entries and a sumw2 array, and the number of events outside it. Partial
    fills add up (``a + b``), so they can be reduced as a tree.
    """

    values: list[np.ndarray]
    entries: list[np.ndarray]
    sumw2: list[np.ndarray]
    outside: list[int]

    def __add__(self, other: PartialFill) -> PartialFill:
        return PartialFill(
            [a + b for a, b in zip(self.values, other.values, strict=True)],
            [a + b for a, b in zip(self.entries, other.entries, strict=True)],
            [a + b for a, b in zip(self.sumw2, other.sumw2, strict=True)],
            [a + b for a, b in zip(self.outside, other.outside, strict=True)],
        )


def _bincount_sums(
    chunks: list[np.ndarray], weight: float | np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Values, entries, sumw2 and the number of events outside (index -1), from zero.

    ``np.bincount`` adds in event order. The events outside are counted in an
    extra first bin (index + 1), which saves selecting the events inside. The
    chunks are gathered into one reused buffer of up to :data:`CHUNK_SIZE` events
    and counted buffer by buffer, squared weights too: no array as long as all
    the events is allocated (fresh large arrays cost page faults).
    """
    counts = np.zeros(size + 1, dtype=np.int64)
    per_event = weight if isinstance(weight, np.ndarray) else None
    values = np.zeros(size + 1)
    sumw2 = np.zeros(size + 1)
    total = sum(len(c) for c in chunks)
    length = min(total, max(CHUNK_SIZE, max((len(c) for c in chunks), default=0)))
    buffer = np.empty(length, dtype=np.int64)
    squares = np.empty(length if per_event is not None else 0)

    def count(start: int, stop: int) -> None:
        shifted = buffer[: stop - start]
        counts[:] += np.bincount(shifted, minlength=size + 1)
        if per_event is not None:
            w = per_event[start:stop]
            w2 = squares[: stop - start]
            with np.errstate(under="ignore"):
                np.multiply(w, w, out=w2)
            values[:] += np.bincount(shifted, weights=w, minlength=size + 1)
            sumw2[:] += np.bincount(shifted, weights=w2, minlength=size + 1)

    start = offset = 0
    for chunk in chunks:
        m = len(chunk)
        if offset + m - start > length:
            count(start, offset)
            start = offset
        np.add(chunk, 1, out=buffer[offset - start : offset - start + m])
        offset += m
    if offset > start:
        count(start, offset)
    entries = counts[1:]
    if per_event is None:
        w = float(weight)
        with np.errstate(under="ignore"):
            return entries * w, entries, entries * (w * w), int(counts[0])
    return values[1:], entries, sumw2[1:], int(counts[0])


def report_fill(
    area: str,
    source: str,
    events: int,
    labels: Sequence[str],
    outside: Sequence[int],
    *,
    bulk: bool = True,
) -> None:
    """Log how many of the events of a fill landed outside each histogram.

    Parameters
    ----------
    area : str
        The logger below ``remu`` (``"binning"``, ``"migration"``).
    source : str
        Where the events came from (a file name, ``"Dask DataFrame"``, ...).
    events : int
        The number of events filled (after cuts).
    labels : sequence of str
        The histograms, e.g. ``["binning"]`` or ``["truth binning", ...]``.
    outside : sequence of int
        Per histogram, the events outside it.
    bulk : bool
        A fill from files or Dask (INFO, and a WARNING when no event landed in a
        histogram) or an in-memory fill (DEBUG only).

    Examples
    --------
    Nothing is printed unless the application configures logging:

    >>> report_fill("binning", "ev.csv", 3, ["binning"], [1])
    """
    log = get_logger(area)
    if bulk and events > 0:
        empty = [label for label, k in zip(labels, outside, strict=True) if k >= events]
        if empty:
            log.warning(
                "none of the %d events of %s landed in the %s (check the variable names, "
                "the renaming and the bin edges)",
                events,
                source,
                " or the ".join(empty),
            )
            return
    level = logging.INFO if bulk else logging.DEBUG
    if log.isEnabledFor(level):
        if events == 0:
            log.log(level, "%s: no events to fill", source)
            return
        detail = ", ".join(
            f"{k} outside the {label}" for label, k in zip(labels, outside, strict=True)
        )
        log.log(level, "%s: filled %d events (%s)", source, events, detail)


class FillPlan:
    """Histograms filled together from the same events, and how their bins are found.

    The base plan fills one binning. Subclasses (the response matrix's truth, reco
    and response histograms) override :meth:`histograms` and :meth:`index_chunks`
    to share look-ups between the histograms. A plan is what travels to the workers
    of a distributed fill, so :meth:`structure` gives a copy holding structure-only
    binnings.
    """

    #: the logger (below ``remu``) that reports this plan's fills
    log_area = "binning"
    #: events filled through this plan so far, and per histogram those outside it
    #: (counted by :meth:`add_partial` and by ``fill_columns(..., count=True)``)
    events_filled = 0
    outside_counts: tuple[int, ...] = ()

    def __init__(self, binning: Binning) -> None:
        self.binning = binning

    def histograms(self) -> list[Binning]:
        """List the binnings filled, in the order their ``raise_error`` checks run."""
        return [self.binning]

    def labels(self) -> list[str]:
        """Name the histograms in log messages, in the order of :meth:`histograms`."""
        return ["binning"]

    def tally(self, events: int, outside: Sequence[int]) -> None:
        """Count ``events`` filled, ``outside[k]`` of them outside histogram ``k``."""
        before = self.outside_counts or (0,) * len(outside)
        self.outside_counts = tuple(a + int(b) for a, b in zip(before, outside, strict=True))
        self.events_filled += int(events)

    def report(self, source: str, *, bulk: bool = True) -> None:
        """Log the counts of :meth:`tally` (see :func:`report_fill`)."""
        outside = self.outside_counts or (0,) * len(self.labels())
        report_fill(self.log_area, source, self.events_filled, self.labels(), outside, bulk=bulk)

    def required_variables(self) -> set[str] | None:
        """List the binning variables the look-ups read (``None``: not known)."""
        return self.binning._required_variables()

    def index_chunks(self, cols: Columns, chunk_size: int = CHUNK_SIZE) -> list[list[np.ndarray]]:
        """Per histogram, the data indices (-1 outside) of the events, in chunks."""
        return [data_index_chunks(self.binning, cols, chunk_size)]

    def structure(self) -> FillPlan:
        """Return the same plan over structure-only copies of the binnings (small to send)."""
        return type(self)(self.binning.clone(dummy=True))

    # -- filling ------------------------------------------------------------------------
    def fill_columns(
        self, cols: Columns, weight: Any, raise_error: bool, *, count: bool = False
    ) -> None:
        """Fill the events in place, histogram by histogram, in event order.

        Each histogram's ``raise_error`` check runs just before it is filled, and
        the weights are checked before the first histogram is filled. With
        ``count``, the events and those outside each histogram are tallied (the
        accumulation counts them anyway: this costs nothing).
        """
        w: float | np.ndarray | None = None
        outside = []
        for hist, chunks in zip(self.histograms(), self.index_chunks(cols), strict=True):
            if raise_error and any((c < 0).any() for c in chunks):
                msg = "Event not part of binning!"
                raise ValueError(msg)
            if w is None:
                w = normalise_weight(weight, cols.n)
            outside.append(accumulate(hist, chunks, w))
        if count:
            self.tally(cols.n, outside)
        self.after_fill()

    def partial(self, cols: Columns, weight: Any) -> PartialFill:
        """Sum the events into a partial fill, from zero (what a worker computes)."""
        w = normalise_weight(weight, cols.n)
        out = PartialFill([], [], [], [])
        index_chunks = self.index_chunks(cols, PARTIAL_CHUNK_SIZE)
        for hist, chunks in zip(self.histograms(), index_chunks, strict=True):
            values, entries, sumw2, outside = _bincount_sums(chunks, w, hist.data_size)
            out.values.append(values)
            out.entries.append(entries)
            out.sumw2.append(sumw2)
            out.outside.append(outside)
        return out

    def empty_partial(self) -> PartialFill:
        """Return the sums of no events."""
        sizes = [h.data_size for h in self.histograms()]
        return PartialFill(
            [np.zeros(n) for n in sizes],
            [np.zeros(n, dtype=np.int64) for n in sizes],
            [np.zeros(n) for n in sizes],
            [0 for _ in sizes],
        )

    def add_partial(self, partial: PartialFill, raise_error: bool) -> None:
        """Add summed events into the binnings; all or nothing.

        Raises
        ------
        ValueError
            With ``raise_error``, if any event was outside a histogram (nothing is added).
        TypeError
            If a dummy binning would receive events (nothing is added).
        """
        hists = self.histograms()
        if raise_error and any(partial.outside):
            n = max(partial.outside)
            msg = f"Event not part of binning! ({n} events outside)"
            raise ValueError(msg)
        for hist, entries in zip(hists, partial.entries, strict=True):
            if hist.value_array is None and entries.any():
                msg = "Cannot fill a dummy binning (it has no data arrays); use clone(dummy=False)."
                raise TypeError(msg)
        for k, hist in enumerate(hists):
            if hist.value_array is None:
                continue
            hist.value_array += partial.values[k]
            hist.entries_array += partial.entries[k]
            hist.sumw2_array += partial.sumw2[k]
        if partial.entries:
            self.tally(int(partial.entries[0].sum()) + partial.outside[0], partial.outside)
        self.after_fill()

    def after_fill(self) -> None:
        """Run after every fill (a response matrix refreshes its filled indices)."""

    def filled_copy(self, partial: PartialFill) -> Any:
        """Make a new, empty copy of the filled object holding only ``partial``."""
        fresh = type(self)(self.binning.clone(dummy=False))
        fresh.binning.reset()
        fresh.add_partial(partial, raise_error=False)
        return fresh.binning


def fill(
    binning: Binning,
    event: Any,
    weight: Any = 1,
    raise_error: bool = False,
    rename: Any = None,
    *,
    compute: bool = True,
    progress: ProgressLike = False,
) -> Any:
    """Fill binnings: the implementation of :meth:`Binning.fill`."""
    if uses_dask(event, weight):
        from remu._sources.dask_fill import fill_from_dask

        return fill_from_dask(
            FillPlan(binning),
            event,
            weight=weight,
            raise_error=raise_error,
            rename=rename,
            compute=compute,
            progress=progress,
        )
    if not compute:
        msg = "compute=False needs a Dask collection of events (a lazy fill)"
        raise TypeError(msg)
    cols = as_columns(event, rename)
    if cols is None:
        return None
    chunks = data_index_chunks(binning, cols)
    if raise_error and any((c < 0).any() for c in chunks):
        msg = "Event not part of binning!"
        raise ValueError(msg)
    outside = accumulate(binning, chunks, normalise_weight(weight, cols.n))
    if _LOG.isEnabledFor(logging.DEBUG):
        report_fill("binning", "fill", cols.n, ["binning"], [outside], bulk=False)
    return None
