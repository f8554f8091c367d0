"""Exact bin look-up along one axis of sorted edges, faster than a binary search.

``np.searchsorted`` on unsorted event values costs a mispredicted branch per
step of its binary search (about 70 ns per value for 100 bins). Here the value
range between the first and the last finite edge is cut into equal cells; a
table gives, for every cell, a lower bound of the number of edges below any
value that can land in it, and a few vectorised steps ``g += x >= edges[g]``
raise that bound to the exact count. For roughly even edges this needs one or
two steps (a few ns per value). The result is always exactly what
``np.searchsorted(edges, x, side)`` gives: the table only decides where the
steps start, and every step compares with the real edges. Edges so uneven that
a cell would need more than :data:`MAX_STEPS` steps fall back to
``np.searchsorted`` (logged once per edge array at INFO by ``remu.binning``).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from remu._logging import get_logger

__all__ = ["MAX_STEPS", "bin_indices"]

#: the most correction steps the table may need before a binary search is cheaper
MAX_STEPS = 3
#: cells per bin tried when building a table, and the largest table
_CELLS_PER_BIN = (4, 16, 64)
_MAX_CELLS = 1 << 18
#: below this many values the table is not worth building
_MIN_VALUES = 256

_LOG = get_logger("binning")


class _Table:
    """Cell -> first candidate edge count, for one edge array and one side."""

    __slots__ = ("bins", "cells", "guess", "offset", "padded", "right", "scale", "steps")

    def __init__(self, edges: np.ndarray, right: bool, cells: int) -> None:
        finite = edges[np.isfinite(edges)]
        lo = float(finite[0])
        self.scale = cells / (float(finite[-1]) - lo)
        # t = x * scale + offset is (x - lo) * scale + 1 up to rounding, which the
        # widened cells below absorb
        self.offset = 1.0 - lo * self.scale
        self.cells = cells
        self.right = right
        # cell c (1..cells) holds values with (x - lo) * scale in [c - 1, c); cell 0 all
        # values below lo (and NaN), cell cells + 1 all values at or above the last
        # finite edge. Each cell is widened by half a cell on both sides, far more than
        # any rounding of (x - lo) * scale, so the bounds hold for every value mapped to
        # the cell.
        starts = lo + (np.arange(cells + 2, dtype=float) - 1.0) / self.scale
        half = 0.5 / self.scale
        lower = np.searchsorted(edges, starts - half, side="left")
        lower[0] = 0
        upper = np.empty(cells + 2, dtype=np.int64)
        upper[:-1] = np.searchsorted(edges, starts[1:] + half, side="left")
        upper[-1] = len(edges)
        self.steps = int((upper - lower).max())
        self.guess = lower.astype(np.intp)
        # a NaN sentinel past the last edge: no value compares true with it
        self.padded = np.append(edges.astype(float), np.nan)
        # edge count -> bin number: count - 1, and -1 below the first / past the last edge
        self.bins = np.arange(-1, len(edges), dtype=np.int64)
        self.bins[-1] = -1

    def counts(self, x: np.ndarray) -> np.ndarray:
        """``np.searchsorted(edges, x, side)`` for float values ``x``."""
        with np.errstate(all="ignore"):  # inf - inf, huge * scale, NaN compare
            t: NDArray[np.float64] = np.multiply(x, self.scale)
            t += self.offset
            np.fmax(t, 0.0, out=t)  # NaN -> 0 as well: no step moves it
            np.fmin(t, self.cells + 1, out=t)
        g: NDArray[np.intp] = self.guess[t.astype(np.intp)]
        padded = self.padded
        for _ in range(self.steps):
            if self.right:
                g += x >= padded[g]
            else:
                g += x > padded[g]
        return g


@functools.lru_cache(maxsize=128)
def _table(key: bytes, right: bool) -> _Table | None:
    edges = np.frombuffer(key, dtype=float)
    finite = edges[np.isfinite(edges)]
    if finite.size < 2:
        return None
    nbins = finite.size - 1
    reach = max(abs(float(finite[0])), abs(float(finite[-1])))
    for per_bin in _CELLS_PER_BIN:
        cells = min(nbins * per_bin, _MAX_CELLS)
        if reach * cells / (float(finite[-1]) - float(finite[0])) > 1e14:
            # x * scale would round by a sizeable part of a cell (edges far from 0
            # compared to their spread)
            break
        table = _Table(edges, right, cells)
        if table.steps <= MAX_STEPS:
            return table
        if cells == _MAX_CELLS:
            break
    # called once per edge array (the table is cached): cheap to report
    _LOG.info(
        "bin edges from %g to %g (%d bins) are too uneven for the look-up table: events "
        "are looked up by binary search (np.searchsorted), which is slower",
        float(finite[0]),
        float(finite[-1]),
        nbins,
    )
    return None


def bin_indices(edges: np.ndarray, x: np.ndarray, *, include_upper: bool = False) -> np.ndarray:
    """Bin number of every value along one axis, -1 outside (and for NaN).

    Parameters
    ----------
    edges : numpy.ndarray
        Strictly increasing float edges (``±inf`` allowed).
    x : numpy.ndarray
        Float values.
    include_upper : bool
        Bins are ``(e_i, e_i+1]`` instead of ``[e_i, e_i+1)``.

    Returns
    -------
    numpy.ndarray of int64
        ``np.searchsorted(edges, x, side) - 1``, with -1 wherever that is not a bin.

    Examples
    --------
    >>> import numpy as np
    >>> bin_indices(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0, np.nan, -1.0]))
    array([ 0,  1, -1, -1, -1])
    >>> bin_indices(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 2.0]), include_upper=True)
    array([-1,  0,  1])
    """
    nbins = len(edges) - 1
    table = None
    if x.size >= _MIN_VALUES and edges.dtype == np.float64 and x.dtype == np.float64:
        table = _table(np.ascontiguousarray(edges).tobytes(), not include_upper)
    if table is None:
        k = np.searchsorted(edges, x, side="left" if include_upper else "right").astype(np.int64)
        k -= 1
        k[k >= nbins] = -1
        return k
    found: np.ndarray = table.bins[table.counts(x)]
    return found
