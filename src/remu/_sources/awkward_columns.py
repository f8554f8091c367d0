"""Awkward record arrays as flat event columns: one float per event, or flattened on request.

A binning needs one number per event and variable. Awkward arrays (what uproot
reads) can hold other things: jagged fields (a variable-length list per event,
``var * float32``), nested records, and option types (values that may be
``None``, ``?float64``). Such a field is converted only where the user names it
in ``flatten`` (or passes ``flatten=True``):

* jagged fields are flattened to one row per list element; every flattened field
  must have the same number of elements per event, and the per-event fields are
  repeated for each element of their event (so a per-event weight applies to
  each of its elements);
* ``None`` becomes NaN, which lies outside every bin (for a response matrix: a
  NaN reco value means "not reconstructed").

Anything else raises :class:`remu.errors.IrregularFieldError`, naming the field.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import numpy as np

from remu._optional import optional_import
from remu.errors import IrregularFieldError, MissingFieldError

__all__ = [
    "awkward_partial",
    "check_fields",
    "flat_columns",
    "is_awkward",
    "rename_fields",
]


def is_awkward(obj: Any) -> bool:
    """Whether ``obj`` is an awkward array or record (without importing awkward)."""
    return type(obj).__module__.split(".")[0] == "awkward"


def check_fields(fields: Iterable[str], names: Iterable[Any], what: str) -> None:
    """Raise :class:`MissingFieldError` naming the first of ``names`` not in ``fields``."""
    have = list(fields)
    for name in names:
        if name not in have:
            msg = f"{what} has no field {name!r} (fields: {', '.join(have) or 'none'})"
            raise MissingFieldError(msg)


def _is_option(ak: Any, field: Any) -> bool:
    return isinstance(field.type.content, ak.types.OptionType)


def _kind(ak: Any, field: Any) -> tuple[str, str]:
    """('flat' | 'option' | 'jagged' | 'nested' | 'record' | 'other', type text) of a field."""
    text = str(field.type.content)
    if field.fields:
        return "record", text
    depth = field.ndim
    if depth == 1:
        return ("option" if _is_option(ak, field) else "flat"), text
    if depth == 2:
        inner = ak.flatten(field, axis=1)
        if inner.fields:
            return "record", text
        return "jagged", text
    return "nested", text


def _irregular(name: str, kind: str, text: str, where: str) -> IrregularFieldError:
    if kind == "option":
        what = f"is option-typed ({text}): some events may have no value"
        hint = f"pass flatten=[{name!r}] to read None as NaN (outside every bin)"
    elif kind == "jagged":
        what = f"is jagged ({text}): a list of values per event"
        hint = f"pass flatten=[{name!r}] to fill one entry per element"
    elif kind == "record":
        what = f"is a record ({text}), not a number"
        hint = "select one of its fields"
    else:
        what = f"has nested lists ({text})"
        hint = "reduce it to one number (or one list) per event first"
    return IrregularFieldError(f"{where}field {name!r} {what}; {hint}")


def _to_float(ak: Any, values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(ak.to_numpy(values, allow_missing=False), dtype=float)
    except (TypeError, ValueError) as err:
        msg = f"field {name!r} cannot be converted to float: {err}"
        raise IrregularFieldError(msg) from err


def flat_columns(
    array: Any,
    names: Iterable[str],
    flatten: bool | Collection[str] | None = None,
    *,
    where: str = "",
) -> dict[str, np.ndarray]:
    """1-D float64 columns of the named fields of an awkward record array.

    Parameters
    ----------
    array : awkward.Array
        A record array, one record per event.
    names : iterable of str
        The fields to convert.
    flatten : bool or collection of str, optional
        Fields that may be jagged or option-typed (``True``: all); see the module docs.
    where : str
        Prefix of error messages (e.g. the file).

    Returns
    -------
    dict of str to numpy.ndarray

    Raises
    ------
    remu.errors.IrregularFieldError
        A field that is jagged, option-typed, nested or a record and not named in
        ``flatten``; flattened fields with different numbers of elements per event.
    remu.errors.MissingFieldError
        A name that is not a field.
    """
    ak = optional_import("awkward", feature="filling from awkward arrays")
    names = list(dict.fromkeys(names))
    check_fields(array.fields, names, where.rstrip(": ") or "the awkward array")
    allowed = set(array.fields) if flatten is True else set(flatten or ())
    kinds = {name: _kind(ak, array[name]) for name in names}
    for name, (kind, text) in kinds.items():
        if kind in ("option", "jagged") and name in allowed:
            continue
        if kind != "flat":
            raise _irregular(name, kind, text, where)
    jagged = [name for name in names if kinds[name][0] == "jagged"]
    counts = None
    for name in jagged:
        n = np.asarray(ak.to_numpy(ak.fill_none(ak.num(array[name], axis=1), 0)), dtype=np.int64)
        if counts is None:
            counts, first = n, name
        elif not np.array_equal(n, counts):
            event = int(np.flatnonzero(n != counts)[0])
            msg = (
                f"{where}fields {first!r} and {name!r} cannot be flattened together: event "
                f"{event} has {int(counts[event])} and {int(n[event])} elements"
            )
            raise IrregularFieldError(msg)
    out: dict[str, np.ndarray] = {}
    for name in names:
        field = array[name]
        if kinds[name][0] == "jagged":
            field = ak.flatten(field, axis=1)
        if _is_option(ak, field):
            field = ak.fill_none(field, np.nan)
        values = _to_float(ak, field, name)
        if counts is not None and kinds[name][0] != "jagged":
            values = np.repeat(values, counts)
        out[name] = values
    return out


def rename_fields(array: Any, rename: Mapping[str, str] | None) -> Any:
    """Rename the fields of the record array (input name -> binning variable name).

    As for structured arrays, the old names are gone; names not in the array are
    ignored.
    """
    if not rename:
        return array
    ak = optional_import("awkward", feature="filling from awkward arrays")
    renamed = {rename.get(f, f): array[f] for f in array.fields}
    return ak.zip(renamed, depth_limit=1)


def awkward_partial(
    plan: Any,
    array: Any,
    weight: Any,
    rename: Mapping[str, str] | None,
    index: int,
) -> Any:
    """Compute the partial fill of one awkward partition (a task of a Dask fill)."""
    from remu._binning.events import DictColumns

    if len(array) == 0:
        return plan.empty_partial()
    array = rename_fields(array, rename)
    variables = plan.required_variables()
    fields = list(array.fields) if variables is None else sorted(variables)
    columns = flat_columns(array, fields, where=f"partition {index}: ")
    return plan.partial(DictColumns(columns), weight)
