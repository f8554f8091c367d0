"""Normalisation of event input into lazily converted 1-D float columns.

``fill`` accepts many containers (a dict, a dict of arrays, a list of dicts, a
structured array or record, a DataFrame-like object). They are wrapped once in a
:class:`Columns` object that converts a variable to a float64 array only when a
binning first asks for it, and caches the result. Every lookup inside the
binnings then works on whole columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from remu._sources.awkward_columns import flat_columns, is_awkward
from remu.errors import InvalidEventError, MissingFieldError, MissingVariableError

__all__ = ["Columns", "SingleEventColumns", "as_columns"]


def _to_float(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"event variable {name!r} cannot be converted to float: {err}"
        raise ValueError(msg) from err


class Columns:
    """Event data as columns: ``cols[name]`` is a 1-D float64 array of length ``n``."""

    missing_error: type[MissingVariableError] = MissingVariableError

    def __init__(self, n: int) -> None:
        self.n = int(n)
        # name -> (column, mask of events lacking it or None), as column() returns
        self._cache: dict[Any, tuple[np.ndarray, np.ndarray | None]] = {}
        self._aliases: dict[str, Any] = {}
        self._hidden: set[Any] = set()

    # -- to be provided by subclasses -------------------------------------------------
    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def names(self) -> list[str]:
        """List the variable names available (for error messages)."""
        return []

    # ---------------------------------------------------------------------------------
    def rename(self, rename: Mapping[Any, Any], *, keep_old: bool) -> None:
        """Make ``rename[old]`` an alias of ``old``; hide ``old`` unless ``keep_old``."""
        self._aliases = {new: old for old, new in rename.items()}
        self._hidden = set() if keep_old else set(rename) - set(self._aliases)

    def missing(self, name: Any) -> MissingVariableError:
        """Make the exception for a variable that is not in the data."""
        available = ", ".join(str(n) for n in self.names())
        msg = f"event data has no variable {name!r} (available: {available})"
        return self.missing_error(msg)

    def column(self, name: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the column and a mask of events lacking the variable (``None``: none lack it).

        Raises the missing-variable error only if every event lacks the variable.
        """
        try:
            return self._cache[name]
        except KeyError:
            pass
        if name in self._aliases:
            source = self._aliases[name]
        elif name in self._hidden:
            raise self.missing(name)
        else:
            source = name
        arr, lacking = self._fetch(source, name)
        if arr.shape != (self.n,):
            msg = (
                f"event variable {name!r} has shape {arr.shape}, expected ({self.n},): "
                "all variables must be 1-D with one value per event"
            )
            raise ValueError(msg)
        self._cache[name] = (arr, lacking)
        return arr, lacking

    def __getitem__(self, name: Any) -> np.ndarray:
        arr, lacking = self.column(name)
        if lacking is not None:
            where = np.flatnonzero(lacking)
            if where.size:
                raise self.missing_in_event(name, int(where[0]))
        return arr

    # ``i`` (the first event lacking the variable) is for subclasses that can name it.
    def missing_in_event(self, name: Any, i: int) -> MissingVariableError:  # noqa: ARG002
        """Make the exception for a variable missing in some of the events."""
        return self.missing(name)

    def take(self, index: Any) -> Columns:
        """Select the events at ``index`` (a slice or an int array)."""
        return _SubColumns(self, index)

    def row(self, i: int) -> _Row:
        """One event as a read-only mapping (for bins without a vectorised test)."""
        return _Row(self, i)


class _SubColumns(Columns):
    def __init__(self, parent: Columns, index: Any) -> None:
        n = len(range(*index.indices(parent.n))) if isinstance(index, slice) else len(index)
        super().__init__(n)
        self._parent = parent
        self._index = index

    # The parent resolves the aliases of ``name`` itself, so ``source`` is not needed.
    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:  # noqa: ARG002
        arr, lacking = self._parent.column(name)
        return arr[self._index], (None if lacking is None else lacking[self._index])

    def names(self) -> list[str]:
        return self._parent.names()

    def missing_in_event(self, name: Any, i: int) -> MissingVariableError:
        index = np.arange(self._parent.n)[self._index]
        return self._parent.missing_in_event(name, int(index[i]))


class _Row(Mapping[Any, Any]):
    def __init__(self, cols: Columns, i: int) -> None:
        self._cols = cols
        self._i = i

    def __getitem__(self, name: Any) -> Any:
        return self._cols[name][self._i]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cols.names())

    def __len__(self) -> int:
        return len(self._cols.names())


class DictColumns(Columns):
    """A mapping of names to scalars (one event) or to equally long 1-D arrays."""

    def __init__(self, data: Mapping[Any, Any]) -> None:
        lengths: dict[Any, int] = {}
        for key, value in data.items():
            if isinstance(value, (str, bytes)):
                continue
            shape = getattr(value, "shape", None)
            if shape is not None:
                if len(shape) == 1:
                    lengths[key] = int(shape[0])
                elif len(shape) > 1:
                    msg = f"event variable {key!r} must be 1-D; got an array of shape {shape}"
                    raise ValueError(msg)
            elif isinstance(value, (list, tuple)):
                lengths[key] = len(value)
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k!r}: {n}" for k, n in lengths.items())
            msg = f"event variables have different lengths ({detail})"
            raise ValueError(msg)
        super().__init__(next(iter(lengths.values())) if lengths else 1)
        self._data = data

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        try:
            value = self._data[source]
        except KeyError:
            raise self.missing(name) from None
        arr = _to_float(value, name)
        if arr.ndim == 0:
            arr = np.full(self.n, arr)
        return arr, None

    def names(self) -> list[str]:
        return list(self._data.keys())


class StructColumns(Columns):
    """The fields of a structured array (flattened in C order) or of one record."""

    missing_error = MissingFieldError

    def __init__(self, data: np.ndarray | np.void) -> None:
        flat = np.asarray(data).reshape(-1)
        super().__init__(len(flat))
        self._data = flat

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if source not in (self._data.dtype.names or ()):
            raise self.missing(name)
        return _to_float(self._data[source], name), None

    def names(self) -> list[str]:
        return list(self._data.dtype.names or ())


class FrameColumns(Columns):
    """The columns of a DataFrame-like object (``.columns`` and ``obj[name]``)."""

    def __init__(self, frame: Any) -> None:
        super().__init__(len(frame))
        self._frame = frame

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if source not in list(self._frame.columns):
            raise self.missing(name)
        column = self._frame[source]
        to_numpy = getattr(column, "to_numpy", None)
        if to_numpy is not None:
            try:
                return to_numpy(dtype=float, na_value=np.nan), None
            except (TypeError, ValueError):
                pass
        return _to_float(column, name), None

    def names(self) -> list[str]:
        return [str(c) for c in self._frame.columns]


class FieldColumns(Columns):
    """Record arrays with ``.fields`` (e.g. awkward arrays)."""

    def __init__(self, data: Any) -> None:
        super().__init__(len(data))
        self._data = data

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if source not in list(self._data.fields):
            raise self.missing(name)
        if is_awkward(self._data):
            # jagged and option-typed fields raise IrregularFieldError, naming the field
            return flat_columns(self._data, [source])[source], None
        return _to_float(np.asarray(self._data[source]), name), None

    def names(self) -> list[str]:
        return list(self._data.fields)


class RecordsColumns(Columns):
    """A sequence of events, each indexable by variable name (dicts, records)."""

    def __init__(self, events: Any) -> None:
        super().__init__(len(events))
        self._events = events

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        try:
            values = np.fromiter((e[source] for e in self._events), dtype=float, count=self.n)
            return values, None
        except (KeyError, ValueError, IndexError, TypeError):
            pass
        # Some events lack the variable (fine if they never need it) or hold junk.
        values = np.full(self.n, np.nan)
        lacking = np.zeros(self.n, dtype=bool)
        for i, event in enumerate(self._events):
            try:
                value = event[source]
            except (KeyError, ValueError, IndexError):
                lacking[i] = True
                continue
            try:
                values[i] = value
            except (TypeError, ValueError) as err:
                msg = f"event {i}: variable {name!r} is not a number ({value!r})"
                raise ValueError(msg) from err
        if lacking.all():
            raise self.missing(name)
        return values, lacking

    def missing_in_event(self, name: Any, i: int) -> MissingVariableError:
        keys = getattr(self._events[i], "keys", None)
        have = ", ".join(str(k) for k in keys()) if keys is not None else "?"
        msg = f"event {i} has no variable {name!r} (its variables: {have})"
        return MissingVariableError(msg)

    def names(self) -> list[str]:
        first = self._events[0] if self.n else {}
        keys = getattr(first, "keys", None)
        if keys is not None:
            return [str(k) for k in keys()]
        names = getattr(getattr(first, "dtype", None), "names", None)
        return list(names or ())


class SingleEventColumns(Columns):
    """One event, any object with ``event[name]``; errors of the container pass through."""

    def __init__(self, event: Any) -> None:
        super().__init__(1)
        self._event = event

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        arr = np.asarray(self._event[source], dtype=float)
        if arr.size != 1:
            msg = f"event variable {name!r} must be a scalar; got shape {arr.shape}"
            raise TypeError(msg)
        return arr.reshape(1), None

    def names(self) -> list[str]:
        keys = getattr(self._event, "keys", None)
        if keys is not None:
            return [str(k) for k in keys()]
        names = getattr(getattr(self._event, "dtype", None), "names", None)
        return list(names or ())


class MaterialisedColumns(Columns):
    """Already converted columns (picklable, small): what a parallel mapper receives."""

    def __init__(self, source: Columns, names: Any) -> None:
        super().__init__(source.n)
        self.missing_error = source.missing_error
        self._names = source.names()
        self._columns: dict[Any, tuple[np.ndarray, np.ndarray | None]] = {}
        for name in names:
            with contextlib.suppress(KeyError):
                self._columns[name] = source.column(name)

    def _fetch(self, source: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        try:
            return self._columns[source]
        except KeyError:
            raise self.missing(name) from None

    def names(self) -> list[str]:
        return self._names


def _is_event_like(item: Any) -> bool:
    if isinstance(item, (Mapping, np.void)):
        return True
    if isinstance(item, np.ndarray):
        return item.dtype.names is not None
    return hasattr(item, "keys") and hasattr(item, "__getitem__")


def as_columns(event: Any, rename: Mapping[Any, Any] | None = None) -> Columns | None:
    """Wrap any supported event input as :class:`Columns`; ``None`` for empty input.

    Parameters
    ----------
    event
        A mapping (one event, or a dict of equally long arrays), a sequence of
        mappings/records, a structured array or record, or a DataFrame-like object.
    rename : mapping, optional
        Input name -> binning variable name.

    Raises
    ------
    InvalidEventError
        For plain numeric arrays or lists of numbers, which are not events.
    TypeError
        For generators and other inputs without a length.
    """
    try:
        size = len(event)
    except TypeError:
        size = None
    if size == 0:
        return None
    keep_old = True
    cols: Columns
    if isinstance(event, np.void) or (
        isinstance(event, np.ndarray) and event.dtype.names is not None
    ):
        cols = StructColumns(event)
        keep_old = False
    elif isinstance(event, np.ndarray):
        msg = (
            "a plain numeric array is not a collection of events; pass a structured "
            f"array, a dict of arrays or a DataFrame (got an array of dtype {event.dtype})"
        )
        raise InvalidEventError(msg)
    elif size is None:
        if hasattr(event, "__next__") or not hasattr(event, "__getitem__"):
            msg = (
                f"cannot fill events from a {type(event).__name__}: pass a list, a dict "
                "of arrays, a structured array or a DataFrame"
            )
            raise TypeError(msg)
        cols = SingleEventColumns(event)
    elif hasattr(event, "columns") and hasattr(event, "__getitem__"):
        cols = FrameColumns(event)
        keep_old = False
    elif isinstance(event, Mapping):
        cols = DictColumns(event)
    elif hasattr(event, "fields") and hasattr(event, "__getitem__"):
        cols = FieldColumns(event)
        keep_old = False
    elif hasattr(event, "keys") and hasattr(event, "__getitem__"):
        cols = SingleEventColumns(event)
    else:
        items = event if isinstance(event, (list, tuple)) else list(event)
        bad = next((item for item in items if not _is_event_like(item)), None)
        if bad is not None:
            msg = (
                f"cannot fill events from a {type(event).__name__} containing a "
                f"{type(bad).__name__} ({bad!r}); each event must be a mapping or a record"
            )
            raise InvalidEventError(msg)
        cols = RecordsColumns(items)
    if rename:
        cols.rename(rename, keep_old=keep_old)
    return cols
