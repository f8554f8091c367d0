"""Outer products of binnings.

Bin ``i`` of a product is a tuple of *data* indices of the constituents, in
row-major (C) order with the last constituent varying fastest:
``i = sum(t[k] * stride[k])`` with ``stride[k] = prod(bins_shape[k+1:])`` and
``bins_shape[k] = binnings[k].data_size``.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from remu._binning.binning import Binning, LazyBins
from remu._binning.bins import Bin, CartesianProductBin
from remu._binning.events import Columns
from remu._binning.phasespace import PhaseSpace
from remu._binning.structure import (
    ARRAY_KEYS,
    DATA_ARRAYS,
    PHASESPACE_NOT_COMPARED,
    SUBBINNINGS,
    Field,
    dummy_clones,
)
from remu._binning.uhi import GridHistogramMethods as _Grid

__all__ = ["CartesianProductBinning"]


class CartesianProductBinning(Binning):
    """The outer product of several binnings.

    Parameters
    ----------
    binnings : sequence of Binning
        The constituents, kept by reference (pass ``b.clone(dummy=True)`` for a
        clean separation); their own data are not used.
    **kwargs
        Passed to :class:`Binning` (``subbinnings`` keyed by product bin index,
        arrays, ``phasespace``, ``dummy``).

    Examples
    --------
    >>> import numpy as np
    >>> from remu.binning import LinearBinning
    >>> bx = LinearBinning("x", [0, 1, 2], dummy=True)
    >>> by = LinearBinning("y", [0, 1, 2, 3], dummy=True)
    >>> cp = CartesianProductBinning([bx, by])
    >>> cp.bins_shape, cp.get_tuple_bin_index((1, 2)), cp.get_bin_index_tuple(4)
    ((2, 3), 5, (1, 1))
    >>> cp.set_values_from_ndarray(np.arange(6.0))
    >>> cp.marginalize(0).get_values_as_ndarray()
    array([3., 5., 7.])
    >>> cp.project(1).get_values_as_ndarray()
    array([3., 5., 7.])
    >>> cp.project([0]).get_values_as_ndarray()
    array([ 3., 12.])
    """

    yaml_tag = "!CartesianProductBinning"
    # == compares the constituents and subbinnings (not the phasespace), as in ReMU,
    # and only with binnings of exactly this class.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("binnings", copy=dummy_clones),
        SUBBINNINGS,
        PHASESPACE_NOT_COMPARED,
    )
    _equal_among_subclasses = False

    def __init__(self, binnings: Iterable[Binning], **kwargs: Any) -> None:
        if kwargs.pop("bins", None) is not None:
            msg = self._bins_error_message()
            raise TypeError(msg)
        self.binnings = tuple(binnings)
        self.bins_shape = tuple(int(b.data_size) for b in self.binnings)
        self._strides = tuple(
            math.prod(self.bins_shape[k + 1 :]) for k in range(len(self.bins_shape))
        )
        self.nbins = math.prod(self.bins_shape)
        if kwargs.get("phasespace") is None:
            kwargs["phasespace"] = functools.reduce(
                operator.mul, (b.phasespace for b in self.binnings), PhaseSpace([])
            )
        Binning.__init__(self, bins=LazyBins(self), **kwargs)

    @classmethod
    def _bins_error_message(cls) -> str:
        return "Cannot define bins of CartesianProductBinning! Define binnings instead."

    # -- numbering --------------------------------------------------------------------
    def get_tuple_bin_index(self, tup: Sequence[int | None]) -> int | None:
        """Product bin index of a tuple of constituent data indices (``None`` if any is)."""
        indices = [t for t in tup if t is not None]
        if len(indices) != len(tup):
            return None
        return sum(operator.index(t) * s for t, s in zip(indices, self._strides, strict=False))

    def get_bin_index_tuple(self, i_bin: int | None) -> tuple[int | None, ...]:
        """Constituent data indices of product bin ``i_bin`` (all ``None`` if out of range)."""
        if i_bin is None or i_bin < 0 or i_bin >= self.nbins:
            return (None,) * len(self.binnings)
        return self._index_tuple(i_bin)

    def _index_tuple(self, i_bin: int) -> tuple[int, ...]:
        """Constituent data indices of product bin ``i_bin``, which is in range."""
        i = operator.index(i_bin)
        return tuple((i // s) % n for s, n in zip(self._strides, self.bins_shape, strict=False))

    def get_event_tuple(self, event: Any) -> tuple[int | None, ...]:
        """Return the event's data index in each constituent."""
        return tuple(b.get_event_data_index(event) for b in self.binnings)

    def _native_indices(self, cols: Columns) -> np.ndarray:
        out = np.zeros(cols.n, dtype=np.int64)
        outside = np.zeros(cols.n, dtype=bool)
        for binning, stride in zip(self.binnings, self._strides, strict=False):
            d = binning._data_indices(cols)
            outside |= d < 0
            if stride != 1:
                d *= stride
            out += d
        out[outside] = -1
        return out

    def _required_variables(self) -> set[str] | None:
        names: set[str] = set()
        for b in [*self.binnings, *self.subbinnings.values()]:
            more = b._required_variables()
            if more is None:
                return None
            names |= more
        return names

    def _make_bin(self, i: int) -> Bin:
        kwargs: dict[str, np.ndarray] = {}
        if self.value_array is not None:
            j = self.get_bin_data_index(i)
            kwargs = {key: getattr(self, key)[j : j + 1] for key in ARRAY_KEYS}
        return CartesianProductBin(
            binnings=self.binnings, data_indices=self._index_tuple(i), **kwargs
        )

    # -- adjacency --------------------------------------------------------------------
    def get_adjacent_bin_indices(self) -> list[np.ndarray]:
        """Product bins differing in one constituent by an adjacent data index (sorted)."""
        nbins = self.nbins
        all_bins = np.arange(nbins, dtype=np.int64)
        sources = [np.zeros(0, dtype=np.int64)]
        targets = [np.zeros(0, dtype=np.int64)]
        for binning, stride, size in zip(
            self.binnings, self._strides, self.bins_shape, strict=False
        ):
            adjacent = binning.get_adjacent_data_indices()
            lengths = np.fromiter((len(a) for a in adjacent), dtype=np.int64, count=size)
            if lengths.sum() == 0:
                continue
            flat = np.concatenate([np.asarray(a, dtype=np.int64) for a in adjacent])
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            digit = (all_bins // stride) % size
            count = lengths[digit]
            src = np.repeat(all_bins, count)
            # position of each neighbour inside its digit's adjacency list
            within = np.arange(src.size) - np.repeat(np.cumsum(count) - count, count)
            neighbour = flat[np.repeat(starts[digit], count) + within]
            sources.append(src)
            targets.append(src + (neighbour - np.repeat(digit, count)) * stride)
        src = np.concatenate(sources)
        dst = np.concatenate(targets)
        order = np.lexsort((dst, src))
        src, dst = src[order], dst[order]
        counts = np.bincount(src, minlength=nbins)
        return [a.astype(int) for a in np.split(dst, np.cumsum(counts)[:-1])]

    # -- marginalisation and projection -------------------------------------------------
    def _reduced(
        self, remove: Sequence[int], reduction_function: Callable[..., Any]
    ) -> dict[str, np.ndarray]:
        axes = tuple(sorted(remove))
        flat = self.marginalize_subbinnings()
        return {
            a.key: reduction_function(getattr(flat, a.getter)(shape=self.bins_shape), axis=axes)
            for a in DATA_ARRAYS
        }

    @staticmethod
    def _as_index_list(binning_i: Any) -> list[Any]:
        if isinstance(binning_i, str):
            return [binning_i]
        try:
            len(binning_i)
        except TypeError:
            return [binning_i]
        return list(binning_i)

    def marginalize(
        self, binning_i: int | Iterable[int], reduction_function: Callable[..., Any] = np.sum
    ) -> CartesianProductBinning:
        """Remove the listed constituents, reducing the data over them (default: sum).

        Top-level subbinnings are summed into their bins first. The result is a
        :class:`CartesianProductBinning` of dummy clones of the remaining
        constituents.
        """
        remove = self._as_index_list(binning_i)
        arrays = self._reduced(remove, reduction_function)
        kept = [b.clone(dummy=True) for k, b in enumerate(self.binnings) if k not in remove]
        result = CartesianProductBinning(kept)
        for array in DATA_ARRAYS:
            getattr(result, array.setter)(arrays[array.key])
        return result

    def project(self, binning_i: int | Iterable[int], **kwargs: Any) -> Binning:
        """Keep the listed constituents (in their original order), marginalize the rest.

        A single integer gives the unpacked constituent binning; a sequence gives a
        :class:`CartesianProductBinning`. ``kwargs`` go to :meth:`marginalize`.
        """
        single = isinstance(binning_i, numbers.Integral)
        keep = self._as_index_list(binning_i)
        remove = list(range(len(self.binnings)))
        try:
            for i in keep:
                remove.remove(i)
        except ValueError:
            msg = (
                f"cannot project on constituent {i!r}: not in 0..{len(self.binnings) - 1} "
                "or listed twice"
            )
            raise ValueError(msg) from None
        result = self.marginalize(remove, **kwargs)
        return result._unpack() if single else result

    def _unpack(self) -> Binning:
        if len(self.binnings) != 1:
            msg = "Unpacking only works if there is exactly one binning."
            raise RuntimeError(msg)
        if self.subbinnings:
            msg = "Unpacking only works if there is exactly zero subbinnings."
            raise RuntimeError(msg)
        arrays = {key: getattr(self, key).copy() for key in ARRAY_KEYS}
        return self.binnings[0].clone(dummy=False, **arrays)

    # -- UHI PlottableHistogram protocol and hist conversion (remu._binning.uhi) -------
    # Only products of grids without subbinnings qualify; the others raise TypeError.
    axes = _Grid.axes
    kind = _Grid.kind
    values = _Grid.values
    variances = _Grid.variances
    counts = _Grid.counts
    to_hist = _Grid.to_hist
