"""The generic :class:`Binning`: bins sharing three data arrays, with subbinnings.

Numbering: bin ``i`` of a binning occupies data index
``i + sum(sub.data_size - 1 for subbinnings at bins k < i)``; a subbinning at bin
``k`` replaces that single slot by its whole data block (so data indices run over
the bins in order, descending into each subbinning where it sits). Bins and
subbinnings are linked to slices (views) of the owner's arrays, so they share
storage.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, overload

import numpy as np

from remu._binning import fill as _fill
from remu._binning.arguments import as_flag
from remu._binning.bins import Bin
from remu._binning.events import Columns, SingleEventColumns
from remu._binning.phasespace import PhaseSpace
from remu._binning.structure import (
    ARRAY_KEYS,
    DATA_ARRAYS,
    PHASESPACE,
    SUBBINNINGS,
    Field,
    Structured,
    dummy_clones,
)
from remu._formats.yaml_tags import DummyBins
from remu._progress import ProgressLike
from remu.errors import InputError, RemuWarning

__all__ = ["Binning", "LazyBins"]

_ARRAYS = {array.key: array for array in DATA_ARRAYS}


def _identity(x: Any) -> Any:
    return x


class LazyBins(Sequence[Bin]):
    """Read-only sequence that builds a new, linked bin object on every access."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Binning) -> None:
        self._owner = owner

    def __len__(self) -> int:
        return self._owner.nbins

    @overload
    def __getitem__(self, i: int) -> Bin: ...
    @overload
    def __getitem__(self, i: slice) -> list[Bin]: ...
    def __getitem__(self, i: Any) -> Bin | list[Bin]:
        if isinstance(i, slice):
            return [self._owner._make_bin(k) for k in range(*i.indices(len(self)))]
        try:
            k = operator.index(i)
        except TypeError:
            msg = f"bin indices must be integers or slices, not {type(i).__name__}"
            raise TypeError(msg) from None
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            msg = f"bin index {i} out of range for a binning with {n} bins"
            raise IndexError(msg)
        return self._owner._make_bin(k)

    def __iter__(self) -> Iterator[Bin]:
        for k in range(len(self)):
            yield self._owner._make_bin(k)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyBins):
            return bool(self._owner == other._owner)
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self)} bins of {type(self._owner).__name__}>"


def _bins_equal(a: Any, b: Any) -> bool:
    """Tell whether two sequences of bins are equal.

    Bins made on access (:class:`LazyBins`) equal only bins made on access of an
    equal binning; stored bins compare one by one.
    """
    if isinstance(a, LazyBins) or isinstance(b, LazyBins):
        return isinstance(a, LazyBins) and isinstance(b, LazyBins) and a == b
    return tuple(a) == tuple(b)


class Binning(Structured):
    """A collection of disjoint bins that share three data arrays.

    Parameters
    ----------
    bins : sequence of Bin
        The bins; they keep their identity and are re-linked to this binning's storage.
    subbinnings : dict of int to Binning, optional
        Finer binnings replacing single bins, keyed by bin index.
    value_array, entries_array, sumw2_array : numpy.ndarray, optional
        Storage of shape ``(data_size,)``; used without copying.
    phasespace : PhaseSpace, optional
        Defaults to the product of the bins' and subbinnings' phasespaces.
    dummy : bool
        Structure only: the arrays are ``None``.

    Raises
    ------
    TypeError
        If a given array does not have the shape ``(data_size,)``.

    Examples
    --------
    >>> from remu.binning import RectangularBin
    >>> b0 = RectangularBin(["x"], [(0, 1)])
    >>> b1 = RectangularBin(["x"], [(1, 2)])
    >>> binning = Binning([b0, b1])
    >>> binning.fill([{"x": 0.5}, {"x": 1.5}, {"x": 1.2}])
    >>> binning.get_values_as_ndarray()
    array([1., 2.])
    >>> float(b1.value)  # bins are views of the binning's storage
    2.0
    """

    yaml_tag = "!Binning"
    # Values never count for ==, and a generic binning equals any binning (of whatever
    # subclass) with equal bins, phasespace and subbinnings, as in ReMU. The bins are
    # written to YAML as their dummy clones, without making the clones first.
    _fields: ClassVar[tuple[Field, ...]] = (
        SUBBINNINGS,
        PHASESPACE,
        Field("bins", copy=dummy_clones, yaml=DummyBins, compare=_bins_equal),
    )
    _equal_among_subclasses = True

    _csv_buffer: ClassVar[dict[str, np.ndarray]] = {}

    bins: LazyBins | tuple[Bin, ...]
    subbinnings: dict[int, Binning]
    phasespace: PhaseSpace
    nbins: int
    data_size: int
    # None for a dummy binning (see is_dummy)
    value_array: np.ndarray | None
    entries_array: np.ndarray | None
    sumw2_array: np.ndarray | None

    def __init__(
        self,
        bins: Iterable[Bin],
        subbinnings: Mapping[int, Binning] | None = None,
        value_array: np.ndarray | None = None,
        entries_array: np.ndarray | None = None,
        sumw2_array: np.ndarray | None = None,
        phasespace: PhaseSpace | None = None,
        dummy: bool = False,
    ) -> None:
        self.bins = bins if isinstance(bins, LazyBins) else tuple(bins)
        self.subbinnings = dict(subbinnings) if subbinnings is not None else {}
        if phasespace is None:
            parts = [b.phasespace for b in self.bins]
            parts += [s.phasespace for s in self.subbinnings.values()]
            phasespace = functools.reduce(operator.mul, parts, PhaseSpace([]))
        self.phasespace = phasespace
        self.nbins = len(self.bins)
        self.data_size = self.nbins + sum(s.data_size - 1 for s in self.subbinnings.values())
        if as_flag(dummy, "dummy", type(self).__name__):
            self.value_array = None
            self.entries_array = None
            self.sumw2_array = None
            return
        given = {"value_array": value_array, "entries_array": entries_array}
        given["sumw2_array"] = sumw2_array
        for key, arr in given.items():
            if arr is None:
                arr = np.zeros(self.data_size, dtype=_ARRAYS[key].dtype)
            shape = getattr(arr, "shape", None)
            if shape is None:
                msg = (
                    f"{key} must be a numpy array of shape ({self.data_size},); "
                    f"got a {type(arr).__name__}"
                )
                raise TypeError(msg)
            if shape != (self.data_size,):
                msg = (
                    f"{_ARRAYS[key].label} array shape is not same as (data_size,)! "
                    f"(got {shape}, data_size is {self.data_size})"
                )
                raise TypeError(msg)
            setattr(self, key, arr)
        self.link_arrays()

    # -- storage ----------------------------------------------------------------------
    def link_arrays(self) -> None:
        """Link every bin and subbinning to slices (views) of this binning's arrays."""
        if self.value_array is None:
            return
        arrays = [getattr(self, key) for key in ARRAY_KEYS]
        if not isinstance(self.bins, LazyBins):
            starts = self._bin_to_data(np.arange(self.nbins, dtype=np.int64)).tolist()
            for b, j in zip(self.bins, starts, strict=False):
                for key, arr in zip(ARRAY_KEYS, arrays, strict=False):
                    setattr(b, key, arr[j : j + 1])
        for i, sub in self.subbinnings.items():
            j = self.get_bin_data_index(i)
            for key, arr in zip(ARRAY_KEYS, arrays, strict=False):
                setattr(sub, key, arr[j : j + sub.data_size])
            sub.link_arrays()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled binning with its bins and subbinnings linked again.

        Pickle stores the views that bins and subbinnings hold as independent copies
        of the parent's arrays; they become views of the restored arrays again, so
        the unpickled binning (e.g. in a multiprocessing worker) behaves as the
        original: filling it updates its bins and subbinnings.
        """
        self.__dict__.update(state)
        self.link_arrays()

    def is_dummy(self) -> bool:
        """Whether the binning has no data arrays."""
        return self.value_array is None

    def _make_bin(self, i: int) -> Bin:
        """Build native bin ``i`` linked to this binning's storage.

        Only binnings whose bins are made on access (:class:`LazyBins`) define it.
        """
        msg = f"{type(self).__name__} stores its bins and does not make them on access"
        raise NotImplementedError(msg)

    # -- numbering --------------------------------------------------------------------
    def _subbinning_offsets(self) -> tuple[np.ndarray, np.ndarray]:
        keys = sorted(self.subbinnings)
        extra = np.zeros(len(keys) + 1, dtype=np.int64)
        if keys:
            np.cumsum([self.subbinnings[k].data_size - 1 for k in keys], out=extra[1:])
        return np.asarray(keys, dtype=np.int64), extra

    def _bin_to_data(self, bin_indices: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`get_bin_data_index`; -1 stays -1."""
        if not self.subbinnings:
            return bin_indices
        keys, extra = self._subbinning_offsets()
        data = bin_indices + extra[np.searchsorted(keys, bin_indices, side="left")]
        return np.where(bin_indices >= 0, data, -1)

    @overload
    def get_bin_data_index(self, bin_i: int) -> int: ...
    @overload
    def get_bin_data_index(self, bin_i: None) -> None: ...
    def get_bin_data_index(self, bin_i: int | None) -> int | None:
        """Return the data index of native bin ``bin_i`` (``None`` for ``None``; no range check)."""
        if bin_i is None:
            return None
        i = operator.index(bin_i)
        return i + sum(s.data_size - 1 for k, s in self.subbinnings.items() if k < i)

    @overload
    def get_data_bin_index(self, data_i: int) -> int: ...
    @overload
    def get_data_bin_index(self, data_i: None) -> None: ...
    def get_data_bin_index(self, data_i: int | None) -> int | None:
        """Return the native bin holding data index ``data_i`` (``None`` for ``None``)."""
        if data_i is None:
            return None
        c = operator.index(data_i)
        for k in sorted(self.subbinnings):
            n = self.subbinnings[k].data_size
            if k > c:
                return c
            if c < k + n:
                return k
            c -= n - 1
        return c

    # -- vectorised look-ups (int64 arrays, -1 = outside) -------------------------------
    def _native_indices(self, cols: Columns) -> np.ndarray:
        """Bin index of each event: the first bin containing it, -1 if none."""
        out = np.full(cols.n, -1, dtype=np.int64)
        pending = np.arange(cols.n)
        for i, b in enumerate(self.bins):
            if pending.size == 0:
                break
            sub = cols if pending.size == cols.n else cols.take(pending)
            inside = b._event_mask(sub)
            out[pending[inside]] = i
            pending = pending[~inside]
        return out

    def _data_indices(self, cols: Columns) -> np.ndarray:
        """Find the data index of each event (-1 outside), recursing into subbinnings."""
        native = self._native_indices(cols)
        if not self.subbinnings:
            return native
        out = self._bin_to_data(native)
        for k, sub in self.subbinnings.items():
            sel = np.flatnonzero(native == k)
            if sel.size == 0:
                continue
            inner = sub._data_indices(cols.take(sel))
            out[sel] = np.where(inner >= 0, out[sel] + inner, -1)
        return out

    def _required_variables(self) -> set[str] | None:
        """Variables the look-ups may read (None if unknown)."""
        names = set(self.phasespace.variables)
        for sub in self.subbinnings.values():
            more = sub._required_variables()
            if more is None:
                return None
            names |= more
        return names

    @staticmethod
    def _single(indices: np.ndarray) -> int | None:
        i = int(indices[0])
        return None if i < 0 else i

    def get_event_bin_index(self, event: Any) -> int | None:
        """Native index of the (first) bin containing the event, or ``None``."""
        return self._single(self._native_indices(SingleEventColumns(event)))

    def get_event_data_index(self, event: Any) -> int | None:
        """Return the data index of the event (descending into subbinnings), or ``None``."""
        return self._single(self._data_indices(SingleEventColumns(event)))

    def get_event_bin(self, event: Any) -> Bin | None:
        """Return the native bin containing the event, or ``None``."""
        i = self.get_event_bin_index(event)
        return None if i is None else self.bins[i]

    def get_subbins(self, data_index: int) -> tuple[Bin, ...]:
        """Return the chain ``(bin, subbin, subsubbin, ...)`` holding ``data_index``."""
        i = self.get_data_bin_index(data_index)
        chain: tuple[Bin, ...] = (self.bins[i],)
        if i in self.subbinnings:
            offset = self.get_bin_data_index(i)
            chain += self.subbinnings[i].get_subbins(data_index - offset)
        return chain

    def get_event_subbins(self, event: Any) -> tuple[Bin, ...] | None:
        """:meth:`get_subbins` of the event's data index, or ``None`` outside."""
        d = self.get_event_data_index(event)
        return None if d is None else self.get_subbins(d)

    def iter_subbins(self) -> Iterator[tuple[Bin, ...]]:
        """Yield :meth:`get_subbins` for every data index in order."""
        for d in range(self.data_size):
            yield self.get_subbins(d)

    def event_in_binning(self, event: Any) -> bool:
        """Whether the event has a data index in this binning."""
        return self.get_event_data_index(event) is not None

    def __contains__(self, event: Any) -> bool:
        return self.event_in_binning(event)

    # -- adjacency --------------------------------------------------------------------
    def get_adjacent_bin_indices(self) -> list[np.ndarray]:
        """Neighbouring native bins of each native bin (none for a generic binning)."""
        return [np.array([], dtype=int) for _ in range(self.nbins)]

    def get_adjacent_data_indices(self) -> list[np.ndarray]:
        """Neighbouring data indices of each data index.

        The native neighbours of a bin, translated to data indices; a bin with a
        subbinning is replaced by its subbinning's own adjacency (shifted to its
        data block) and is nobody's neighbour.
        """
        adjacent = self.get_adjacent_bin_indices()
        nbins = self.nbins
        lengths = np.fromiter((len(a) for a in adjacent), dtype=np.int64, count=nbins)
        flat = (
            np.concatenate([np.asarray(a, dtype=np.int64) for a in adjacent])
            if nbins
            else np.zeros(0, dtype=np.int64)
        )
        owner = np.repeat(np.arange(nbins), lengths)
        has_sub = np.zeros(nbins, dtype=bool)
        keys = [k for k in self.subbinnings if 0 <= k < nbins]
        has_sub[keys] = True
        keep = ~has_sub[flat]
        data = self._bin_to_data(flat[keep]).astype(int)
        counts = np.bincount(owner[keep], minlength=nbins)
        result = np.split(data, np.cumsum(counts)[:-1]) if nbins else []
        for k in sorted(keys, reverse=True):
            offset = self.get_bin_data_index(k)
            inner = self.subbinnings[k].get_adjacent_data_indices()
            result[k : k + 1] = [np.asarray(a, dtype=int) + offset for a in inner]
        return result

    # -- filling ----------------------------------------------------------------------
    def fill(
        self,
        event: Any,
        weight: Any = 1,
        raise_error: bool = False,
        rename: Mapping[str, str] | None = None,
        *,
        compute: bool = True,
        progress: ProgressLike = False,
    ) -> Any:
        """Fill events into the binning.

        Parameters
        ----------
        event
            One event (a mapping or record), a dict of equally long arrays, a list
            of mappings, a structured array, a DataFrame (columns by name), an
            awkward record array, or a Dask collection: a ``dask.dataframe.DataFrame``,
            a dict of 1-D dask arrays or a dask-awkward record array.
        weight : float or sequence of float
            One weight for all events, or one per event (negative weights allowed).
            With Dask events: a number, or a Dask collection partitioned like the
            events (e.g. ``ddf["w"]``).
        raise_error : bool
            Raise ``ValueError`` (and fill nothing) if any event lies outside.
        rename : dict, optional
            Input name -> binning variable name.
        compute : bool
            Dask events only. ``True`` (default): fill now, on the current Dask
            scheduler (a ``distributed.Client`` if one is active). ``False``: return
            a ``dask.delayed`` object instead, which computes to a new binning of
            the same structure holding only these events. Compute several such
            fills in one pass with ``dask.compute(...)`` and add the results
            (``binning + result``).
        progress : bool or dict
            Dask events only: ``True`` shows a tqdm bar advancing by partition
            (``pip install 'remu[progress]'``); a dict passes options to tqdm
            (``{"file": sys.stdout}``). In-memory events are filled in one pass,
            without a bar.

        Returns
        -------
        None, or a ``dask.delayed.Delayed`` with ``compute=False``.

        Raises
        ------
        ValueError
            Weight list of the wrong length, NaN weights, ``raise_error`` violations.
        remu.errors.MissingVariableError
            (a ``KeyError``) if a needed variable is missing.
        remu.errors.IrregularFieldError
            (a ``ValueError``) for a jagged or option-typed awkward field.

        Notes
        -----
        A Dask collection is binned partition by partition where it lives; only the
        per-partition values, entries and sums of squared weights travel back, summed
        as a tree. Entries equal those of an in-memory fill of the same events
        exactly, values and sums of squared weights to rounding.

        Examples
        --------
        >>> import numpy as np
        >>> from remu.binning import LinearBinning
        >>> lb = LinearBinning("x", [0, 1, 2])
        >>> lb.fill({"x": 0.5})
        >>> lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[2.0, 3.0])
        >>> lb.fill(np.array([(0.2,), (7.0,)], dtype=[("x", float)]))
        >>> lb.fill({"x": np.array([1.2, 1.7])}, weight=0.5)
        >>> lb.get_values_as_ndarray(), lb.get_entries_as_ndarray()
        (array([4., 4.]), array([3, 3]))

        Dask arrays are filled block by block:

        >>> import dask.array as da
        >>> x = da.from_array(np.array([0.5, 1.5, 1.7, 9.0]), chunks=2)
        >>> lb.fill({"x": x}, weight=2.0)
        >>> lb.get_entries_as_ndarray()
        array([4, 5])
        """
        return _fill.fill(
            self,
            event,
            weight=weight,
            raise_error=raise_error,
            rename=rename,
            compute=compute,
            progress=progress,
        )

    def fill_data_index(self, i: int, weight: Any = 1.0) -> None:
        """Add ``weight`` (or each weight of a list) directly to data index ``i``."""
        values, entries, sumw2 = self.value_array, self.entries_array, self.sumw2_array
        if values is None or entries is None or sumw2 is None:
            msg = "Cannot fill a dummy binning (it has no data arrays)."
            raise TypeError(msg)
        try:
            n = len(weight)
        except TypeError:
            values[i] += weight
            entries[i] += 1
            with np.errstate(under="ignore"):
                sumw2[i] += weight**2
            return
        w = np.asarray(weight, dtype=float)
        values[i] += w.sum()
        entries[i] += n
        with np.errstate(under="ignore"):
            sumw2[i] += (w**2).sum()

    def fill_from_csv_file(self, *args: Any, **kwargs: Any) -> None:
        """Fill from CSV file(s); see :meth:`fill_multiple_from_csv_file`.

        ``progress=True`` (keyword only) shows a bar advancing file by file.
        """
        type(self).fill_multiple_from_csv_file([self], *args, **kwargs)

    def fill_from_root(
        self,
        files: Any,
        weightfield: str | None = None,
        weight: float = 1.0,
        rename: Mapping[str, str] | None = None,
        cut_function: Callable[[Any], Any] | None = None,
        *,
        branches: Iterable[str] | None = None,
        flatten: bool | Collection[str] | None = None,
        step_size: int | str | None = None,
        dask: bool = False,
        compute: bool = True,
        raise_error: bool = False,
        progress: ProgressLike = False,
        **uproot_options: Any,
    ) -> Any:
        """Fill from ROOT files of any size, reading only the branches needed.

        Parameters
        ----------
        files : str, list of str or dict
            As for ``uproot.iterate``: ``"file.root:tree"`` (wildcards allowed,
            ``"data/*.root:events"``), a list of them, or ``{path: tree_name}``.
        weightfield : str, optional
            Branch multiplied into the weight (its name after renaming).
        weight : float
            Weight of every entry (times ``weightfield``).
        rename : dict, optional
            Branch name -> binning variable name.
        cut_function : callable, optional
            Called with each chunk, an awkward record array with the renamed
            fields; returns the entries to fill (e.g. ``lambda a: a[a.pt > 20]``)
            and may add fields. It sees only the branches read: add those it
            needs to ``branches``.
        branches : list of str, optional
            Further branches to read (for the cut function).
        flatten : bool or list of str, optional
            Fields that may be jagged (one entry per list element, per-event fields
            repeated) or option-typed (``None`` read as NaN, outside every bin);
            ``True`` for all. Others raise ``IrregularFieldError``.
        step_size : int or str, optional
            Entries per chunk, or a memory size per chunk (default ``"16 MB"``): the
            memory used stays a few times this size, whatever the size of the files.
        dask : bool
            Read with ``uproot.dask`` instead, one task per chunk on the current
            Dask scheduler (a ``distributed.Client`` if one is active).
        compute : bool
            With ``dask=True``, ``False`` returns a ``dask.delayed`` object that
            computes to a new binning holding only these events (as :meth:`fill`).
        raise_error : bool
            Raise ``ValueError`` and fill nothing if an entry lies outside.
        progress : bool or dict
            ``True`` shows a tqdm bar (``pip install 'remu[progress]'``) advancing
            chunk by chunk by the entries read (by partition with ``dask=True``);
            a dict passes options to tqdm.
        **uproot_options
            Passed to ``uproot.iterate`` / ``uproot.dask``.

        Returns
        -------
        None, or a ``dask.delayed.Delayed`` with ``dask=True, compute=False``.

        Raises
        ------
        remu.errors.MissingFieldError
            A branch that is not in a tree (naming file, tree and branch).
        remu.errors.IrregularFieldError
            A jagged or option-typed field not named in ``flatten``.
        FileNotFoundError
            A file that does not exist.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np, uproot
        >>> from remu.binning import LinearBinning
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "events.root")
        >>> with uproot.recreate(path) as f:
        ...     tree = f.mktree("events", {"x": "f8", "w": "f8"})
        ...     tree.extend({"x": np.array([0.5, 1.5, 1.6]), "w": np.ones(3)})
        >>> lb = LinearBinning("x", [0, 1, 2])
        >>> lb.fill_from_root(path + ":events", weightfield="w", weight=2.0)
        >>> lb.get_values_as_ndarray()
        array([2., 4.])
        >>> folder.cleanup()
        """
        from remu._sources.root import fill_from_root

        return fill_from_root(
            _fill.FillPlan(self),
            files,
            weightfield,
            weight,
            rename,
            cut_function,
            branches=branches,
            flatten=flatten,
            step_size=step_size,
            dask=dask,
            compute=compute,
            raise_error=raise_error,
            progress=progress,
            **uproot_options,
        )

    @classmethod
    def fill_multiple_from_csv_file(
        cls,
        binnings: Sequence[Binning],
        filename: Any,
        weightfield: str | None = None,
        weight: Any = 1.0,
        rename: Mapping[str, str] | None = None,
        cut_function: Callable[[np.ndarray], np.ndarray] = _identity,
        buffer_csv_files: bool = False,
        chunksize: int = 10000,
        *,
        progress: ProgressLike = False,
        **kwargs: Any,
    ) -> None:
        """Parse CSV file(s) once and fill every binning in ``binnings``.

        Parameters
        ----------
        binnings : list of Binning
        filename : str or list of str
            A file, or a list of files (paired with ``weight`` if it is a list).
        weightfield : str, optional
            Column multiplied into the weight (after renaming and cutting).
        weight : float or list of float
        rename : dict, optional
            CSV column name -> binning variable name.
        cut_function : callable
            Maps the structured array to the one to fill (may drop rows/add fields).
        buffer_csv_files : bool
            Cache the parsed file for the rest of the process (keyed by name).
        chunksize : int
            Rows parsed at a time.
        progress : bool or dict
            ``True`` shows a tqdm bar advancing file by file (``pip install
            'remu[progress]'``); a dict passes options to tqdm.
        **kwargs
            Passed to :meth:`fill` (e.g. ``raise_error``).

        Notes
        -----
        After each file, the ``remu.binning`` logger reports at INFO the number
        of events and how many fell outside each binning, and warns when no event
        landed in a binning.
        """
        from remu._formats.csv_events import fill_multiple_from_csv_file

        fill_multiple_from_csv_file(
            cls,
            binnings,
            filename,
            weightfield=weightfield,
            weight=weight,
            rename=rename,
            cut_function=cut_function,
            buffer_csv_files=buffer_csv_files,
            chunksize=chunksize,
            progress=progress,
            **kwargs,
        )

    # -- data access ------------------------------------------------------------------
    def reset(self, value: float = 0.0, entries: int = 0, sumw2: float = 0.0) -> None:
        """Set every data element (subbinnings included) in place."""
        arrays = self.value_array, self.entries_array, self.sumw2_array
        if arrays[0] is None or arrays[1] is None or arrays[2] is None:
            msg = "Cannot reset a dummy binning (it has no data arrays)."
            raise AttributeError(msg)
        arrays[0].fill(value)
        arrays[1].fill(entries)
        arrays[2].fill(sumw2)

    def _get_array(self, key: str, shape: Any, indices: Any) -> np.ndarray:
        arr: np.ndarray | None = getattr(self, key)
        if arr is None:
            msg = f"A dummy {type(self).__name__} has no data ({key} is None)."
            raise TypeError(msg)
        out: np.ndarray = arr.copy() if indices is None else np.array(arr[indices], copy=True)
        if shape is not None:
            reshaped: np.ndarray = out.reshape(shape)
            return reshaped
        return out.reshape(-1)

    def _set_array(self, key: str, arr: Any) -> None:
        storage = getattr(self, key)
        if storage is None:
            msg = f"Cannot set data of a dummy {type(self).__name__} ({key} is None)."
            raise AttributeError(msg)
        values = np.asarray(arr)
        if values.ndim == 0:
            values = np.broadcast_to(values, storage.shape)
        elif values.ndim >= 2 and values.shape[-1] == storage.size and values.size > storage.size:
            # A stack of vectors, e.g. a prediction with one row per systematic
            # variation: ReMU keeps the first vector (its documentation relies on it).
            warnings.warn(
                f"{_ARRAYS[key].setter} got {values.size // storage.size} "
                f"vectors of {storage.size} elements (shape {values.shape}); the first one is "
                "used, as in ReMU. Pass one vector (e.g. array[0]) to silence this warning.",
                RemuWarning,
                stacklevel=3,
            )
            values = values.reshape(-1, storage.size)[0]
        elif values.size != storage.size:
            msg = (
                f"{_ARRAYS[key].setter}: cannot set the {storage.size} data elements of a "
                f"{type(self).__name__} from an array of {values.size} elements "
                f"(shape {values.shape}); give one element per data index, or a scalar"
            )
            raise InputError(msg)
        if storage.dtype.kind in "iu" and values.dtype.kind in "fc":
            bad = ~np.isfinite(values)
            if bad.any():
                i = int(np.flatnonzero(bad.reshape(-1))[0])
                msg = (
                    f"{_ARRAYS[key].setter}: entries are integer counts; got "
                    f"{values.reshape(-1)[i]} at flat index {i}"
                )
                raise InputError(msg)
        storage.flat[:] = values.flat

    def get_values_as_ndarray(self, shape: Any = None, indices: Any = None) -> np.ndarray:
        """Copy of the values (all data indices, or ``indices``), optionally reshaped."""
        return self._get_array("value_array", shape, indices)

    def get_entries_as_ndarray(self, shape: Any = None, indices: Any = None) -> np.ndarray:
        """Copy of the entries (all data indices, or ``indices``), optionally reshaped."""
        return self._get_array("entries_array", shape, indices)

    def get_sumw2_as_ndarray(self, shape: Any = None, indices: Any = None) -> np.ndarray:
        """Copy of the sums of squared weights, optionally reshaped."""
        return self._get_array("sumw2_array", shape, indices)

    def set_values_from_ndarray(self, arr: Any) -> None:
        """Write the values in place (input flattened in C order).

        Parameters
        ----------
        arr : array_like
            ``data_size`` elements in any shape, or a scalar for all. A stack of
            vectors (shape ``(..., data_size)``, e.g. one row per systematic
            variation) sets the first vector and warns, as ReMU kept the first
            ``data_size`` elements.

        Raises
        ------
        remu.errors.InputError
            (a ``ValueError``) for any other number of elements.

        Warns
        -----
        remu.errors.RemuWarning
            When only the first vector of a stack is used.

        Examples
        --------
        >>> from remu.binning import LinearBinning
        >>> lb = LinearBinning("x", [0, 1, 2, 3])
        >>> lb.set_values_from_ndarray([1.0, 2.0, 3.0])
        >>> lb.set_values_from_ndarray([1.0, 2.0])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        remu.errors.InputError: set_values_from_ndarray: cannot set the 3 data elements of ...
        """
        self._set_array("value_array", arr)

    def set_entries_from_ndarray(self, arr: Any) -> None:
        """Write the entries in place (input flattened in C order, cast to int).

        Raises
        ------
        remu.errors.InputError
            If the number of elements is not ``data_size`` (and not a scalar), or
            a value is not finite.
        """
        self._set_array("entries_array", arr)

    def set_sumw2_from_ndarray(self, arr: Any) -> None:
        """Write the sums of squared weights in place (input flattened in C order).

        Raises
        ------
        remu.errors.InputError
            If the number of elements is not ``data_size`` (and not a scalar).
        """
        self._set_array("sumw2_array", arr)

    # -- subbinning manipulation ------------------------------------------------------
    def _subbinning_keys(self, bin_indices: Any) -> list[int]:
        keys = list(self.subbinnings) if bin_indices is None else list(bin_indices)
        for k in keys:
            if k not in self.subbinnings:
                msg = f"No subbinning at bin index {k}!"
                raise ValueError(msg)
        return keys

    def marginalize_subbinnings_on_ndarray(
        self, array: Any, bin_indices: Iterable[int] | None = None
    ) -> np.ndarray:
        """Sum the data blocks of the listed subbinnings (default: all) along axis 0.

        Returns a new array with the layout this binning has without those
        subbinnings.
        """
        arr: np.ndarray = np.asarray(array)
        keys = self._subbinning_keys(bin_indices)
        if not keys or arr.shape[0] == 0:
            return np.array(arr, copy=True)
        starts = np.ones(arr.shape[0], dtype=bool)
        for k in keys:
            j = self.get_bin_data_index(k)
            starts[j + 1 : j + self.subbinnings[k].data_size] = False
        summed: np.ndarray = np.add.reduceat(arr, np.flatnonzero(starts), axis=0)
        return summed

    def marginalize_subbinnings(self, bin_indices: Iterable[int] | None = None) -> Binning:
        """Return a new binning without the listed subbinnings (default: all), contents summed."""
        if self.is_dummy():
            keys = list(self.subbinnings) if bin_indices is None else list(bin_indices)
            kept = {k: s.clone(dummy=True) for k, s in self.subbinnings.items() if k not in keys}
            return self._rebuild(subbinnings=kept, dummy=True)
        keys = self._subbinning_keys(bin_indices)
        kept = {k: s.clone(dummy=True) for k, s in self.subbinnings.items() if k not in keys}
        arrays = {
            key: self.marginalize_subbinnings_on_ndarray(getattr(self, key), keys)
            for key in ARRAY_KEYS
        }
        return self._rebuild(subbinnings=kept, **arrays)

    def insert_subbinning_on_ndarray(
        self, array: Any, bin_index: int, insert_array: Any
    ) -> np.ndarray:
        """Replace row ``bin_index``'s data slot by the rows of ``insert_array`` (axis 0)."""
        arr = np.asarray(array)
        ins = np.asarray(insert_array)
        j = self.get_bin_data_index(bin_index)
        out = np.insert(arr, j + 1, ins[1:], axis=0)
        out[j] = ins[0]
        return out

    def insert_subbinning(self, bin_index: int, binning: Binning) -> Binning:
        """Return a new binning with ``binning`` (the object itself) as subbinning of ``bin_index``.

        The bin's current content is replaced by the subbinning's content.
        """
        if bin_index in self.subbinnings:
            msg = f"Bin {bin_index} already has a subbinning!"
            raise ValueError(msg)
        if self.is_dummy() or binning.is_dummy():
            msg = "insert_subbinning needs a non-dummy binning and a non-dummy subbinning"
            raise TypeError(msg)
        subs = {k: s.clone(dummy=True) for k, s in self.subbinnings.items()}
        subs[bin_index] = binning
        arrays = {
            key: self.insert_subbinning_on_ndarray(
                getattr(self, key), bin_index, getattr(binning, key)
            )
            for key in ARRAY_KEYS
        }
        return self._rebuild(subbinnings=subs, **arrays)

    # -- structure (clone, repr, == and YAML: see remu._binning.structure) --------------
    def _rebuild(self, **overrides: Any) -> Binning:
        args = self._structure_args()
        args.update(overrides)
        return type(self)(**args)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self.clone()

    def _repr_html_(self) -> str:
        """Summarise the structure and totals in HTML for notebooks (``repr`` stays eval-able)."""
        from remu._notebook import binning_html

        return binning_html(self)

    def __add__(self, other: Binning) -> Any:
        ret = self.clone()
        for key in ARRAY_KEYS:
            setattr(ret, key, getattr(self, key) + getattr(other, key))
        ret.link_arrays()
        return ret
