"""Filling from Dask collections: each partition is binned where it lives.

A fill of a ``dask.dataframe.DataFrame``, of a dict of 1-D dask arrays or of a
dask-awkward array becomes one task per partition. Each task converts its
partition to columns, looks the events up and returns a :class:`PartialFill`
(per histogram a values, an entries and a sumw2 array, plus the number of events
outside). Only these small arrays travel: they are summed in a tree of tasks
(``split_every`` partial fills per task) and the total is added to the
binnings in the calling process. The events never leave the workers.

The tasks run on the current Dask scheduler: the ``distributed.Client`` that was
created last (a client makes itself the default), or Dask's default otherwise.

With ``progress``, a bar advances by one for each partition binned: through the
client's futures on a distributed scheduler, through a scheduler callback on
Dask's local ones. After an eager fill, the number of events and those outside
each histogram are logged (see :func:`remu._binning.fill.report_fill`).
"""

from __future__ import annotations

import functools
import operator
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from remu._binning.events import as_columns
from remu._binning.fill import FillPlan, PartialFill, normalise_weight
from remu._optional import optional_import
from remu._progress import ProgressLike, progress_bar
from remu._sources.detect import is_dask_collection
from remu.errors import InvalidEventError, MissingVariableError

__all__ = [
    "SPLIT_EVERY",
    "compute_total",
    "event_blocks",
    "fill_from_dask",
    "finish",
    "input_names",
    "tree_sum",
]

#: partial fills summed by one task of the reduction tree
SPLIT_EVERY = 8
#: the column a weight collection is attached to the events under
_WEIGHT = "__remu_weight__"


def input_names(plan: FillPlan, rename: Mapping[Any, Any] | None) -> list[Any] | None:
    """Return the input names (columns, keys, fields) the plan reads, ``None`` if not known.

    ``rename`` maps input names to binning variable names, as in ``fill``.
    """
    needed = plan.required_variables()
    if needed is None:
        return None
    source = {new: old for old, new in (rename or {}).items()}
    return sorted({source.get(v, v) for v in needed}, key=str)


def _sum_partials(*parts: PartialFill) -> PartialFill:
    return functools.reduce(operator.add, parts)


def tree_sum(dask: Any, blocks: list[Any], plan: FillPlan, split_every: int = SPLIT_EVERY) -> Any:
    """Sum delayed partial fills in a delayed tree, ``split_every`` at a time."""
    if not blocks:
        return dask.delayed(plan.empty_partial)()
    split_every = max(int(split_every), 2)
    while len(blocks) > 1:
        blocks = [
            dask.delayed(_sum_partials)(*blocks[i : i + split_every])
            for i in range(0, len(blocks), split_every)
        ]
    return blocks[0]


def _partial(plan: FillPlan, cols: Any, weight: Any, where: str) -> PartialFill:
    """``plan.partial``; a plain ValueError (e.g. a NaN weight) names the partition."""
    try:
        return plan.partial(cols, weight)
    except ValueError as err:
        if type(err) is not ValueError:
            raise
        msg = f"{where}: {err}"
        raise ValueError(msg) from err


def _frame_partial(plan: FillPlan, frame: Any, weight: Any, rename: Any, index: int) -> PartialFill:
    if _WEIGHT in frame.columns:
        weight = frame[_WEIGHT].to_numpy(dtype=float, na_value=np.nan)
        frame = frame.drop(columns=[_WEIGHT])
    cols = as_columns(frame, rename)
    if cols is None:
        return plan.empty_partial()
    return _partial(plan, cols, weight, f"partition {index}")


def _dict_partial(
    plan: FillPlan, data: dict[Any, Any], weight: Any, rename: Any, index: int
) -> PartialFill:
    cols = as_columns(data, rename)
    if cols is None or cols.n == 0:
        return plan.empty_partial()
    return _partial(plan, cols, weight, f"block {index}")


def _scalar_weight(weight: Any, kind: str) -> float:
    if np.ndim(weight) != 0 or isinstance(weight, (str, bytes)):
        msg = (
            f"with a {kind}, weight must be a number or a Dask collection aligned with "
            f"the events (e.g. the frame's weight column); got a {type(weight).__name__}"
        )
        raise TypeError(msg)
    w = normalise_weight(weight, 1)
    return float(w)


def _frame_blocks(
    dask: Any, plan: FillPlan, frame: Any, weight: Any, rename: Any
) -> tuple[list[Any], Any]:
    names = input_names(plan, rename)
    columns = list(frame.columns)
    needed = plan.required_variables()
    if needed is not None and rename:
        # as for an in-memory DataFrame, a renamed column is known by its new name only
        produced = set(rename.values())
        for name in sorted(needed, key=str):
            if name in rename and name not in produced:
                msg = (
                    f"Dask DataFrame has no variable {name!r}: its column {name!r} is "
                    f"renamed to {rename[name]!r}"
                )
                raise MissingVariableError(msg)
    if names is not None:
        missing = [name for name in names if name not in columns]
        if missing:
            available = ", ".join(str(c) for c in columns)
            msg = f"Dask DataFrame has no column {missing[0]!r} (columns: {available})"
            raise MissingVariableError(msg)
        frame = frame[names]
    scalar: float | None = None
    if is_dask_collection(weight):
        frame = frame.assign(**{_WEIGHT: weight})
    else:
        scalar = _scalar_weight(weight, "Dask DataFrame")
    plan_node = dask.delayed(plan.structure(), pure=True)
    parts = frame.to_delayed()
    blocks = [
        dask.delayed(_frame_partial)(plan_node, part, scalar, rename, i)
        for i, part in enumerate(parts)
    ]
    return blocks, plan_node


def _as_blocks(da: Any, value: Any, chunks: tuple[Any, ...], name: Any) -> list[Any]:
    """Return the blocks of one event variable (or the weights), chunked like the events."""
    if not is_dask_collection(value):
        value = da.from_array(np.asarray(value), chunks=(chunks,))
    if value.ndim != 1:
        msg = f"event variable {name!r} must be a 1-D array; got shape {value.shape}"
        raise ValueError(msg)
    if value.chunks[0] != chunks:
        known = not any(np.isnan(c) for c in (*chunks, *value.chunks[0]))
        if not known:
            if len(value.chunks[0]) != len(chunks):
                msg = (
                    f"event variable {name!r} has {len(value.chunks[0])} blocks of unknown "
                    f"size, the others {len(chunks)}; call compute_chunk_sizes() first"
                )
                raise ValueError(msg)
        elif sum(value.chunks[0]) != sum(chunks):
            msg = (
                f"event variables have different lengths ({name!r}: {sum(value.chunks[0])}, "
                f"the others: {sum(chunks)})"
            )
            raise ValueError(msg)
        else:
            value = value.rechunk({0: chunks})
    return list(value.to_delayed().ravel())


def _dict_blocks(
    dask: Any, plan: FillPlan, data: Mapping[Any, Any], weight: Any, rename: Any
) -> tuple[list[Any], Any]:
    da = optional_import("dask.array", feature="filling from dask arrays")
    names = input_names(plan, rename)
    if names is None:
        names = list(data.keys())
    missing = [name for name in names if name not in data]
    if missing:
        available = ", ".join(str(k) for k in data)
        msg = f"event data has no variable {missing[0]!r} (available: {available})"
        raise MissingVariableError(msg)
    lazy = [name for name in names if is_dask_collection(data[name])]
    if not lazy:
        # only scalars are needed: the length comes from another (unused) array
        lazy = [k for k, v in data.items() if is_dask_collection(v)][:1]
        if not lazy:
            msg = (
                "weights are a Dask collection but the events are in memory: pass the "
                "event variables as dask arrays too"
            )
            raise TypeError(msg)
        names = [*names, *lazy]
    first = data[lazy[0]]
    if getattr(first, "ndim", None) != 1:
        msg = (
            f"event variable {lazy[0]!r} must be a 1-D dask array; got a "
            f"{type(first).__name__} of shape {getattr(first, 'shape', '?')}"
        )
        raise ValueError(msg)
    chunks = first.chunks[0]
    columns: dict[Any, list[Any] | Any] = {}
    for name in names:
        value = data[name]
        if not is_dask_collection(value) and np.ndim(value) == 0:
            columns[name] = value  # a scalar: the same value for every event
        else:
            columns[name] = _as_blocks(da, value, chunks, name)
    if is_dask_collection(weight) or np.ndim(weight) != 0:
        weights: list[Any] = _as_blocks(da, weight, chunks, "weight")
    else:
        weights = [_scalar_weight(weight, "dict of dask arrays")] * len(chunks)
    plan_node = dask.delayed(plan.structure(), pure=True)
    blocks = []
    for i in range(len(chunks)):
        block = {k: (v[i] if isinstance(v, list) else v) for k, v in columns.items()}
        blocks.append(dask.delayed(_dict_partial)(plan_node, block, weights[i], rename, i))
    return blocks, plan_node


def _awkward_blocks(
    dask: Any, plan: FillPlan, array: Any, weight: Any, rename: Any
) -> tuple[list[Any], Any]:
    from remu._sources.awkward_columns import awkward_partial, check_fields

    names = input_names(plan, rename)
    if names is not None:
        check_fields(array.fields, names, "dask-awkward array")
    scalar = _scalar_weight(weight, "dask-awkward array")
    plan_node = dask.delayed(plan.structure(), pure=True)
    blocks = [
        dask.delayed(awkward_partial)(plan_node, part, scalar, rename, i)
        for i, part in enumerate(array.to_delayed())
    ]
    return blocks, plan_node


def event_blocks(plan: FillPlan, event: Any, weight: Any, rename: Any) -> tuple[list[Any], Any]:
    """One delayed :class:`PartialFill` per partition of ``event``, and the plan's node."""
    dask = optional_import("dask", feature="filling from Dask collections")
    if isinstance(event, Mapping):
        return _dict_blocks(dask, plan, event, weight, rename)
    if not is_dask_collection(event):
        msg = (
            f"weights are a Dask collection but the events are a {type(event).__name__}: "
            "pass the events as a Dask collection too (e.g. dask.dataframe.from_pandas)"
        )
        raise TypeError(msg)
    # a collection of a kind exists only once its module is imported
    frames = sys.modules.get("dask.dataframe")
    if frames is not None and isinstance(event, frames.DataFrame):
        return _frame_blocks(dask, plan, event, weight, rename)
    if frames is not None and isinstance(event, frames.Series):
        msg = (
            "a Dask Series is a single column, not a collection of events: pass a "
            "DataFrame (e.g. series.to_frame())"
        )
        raise InvalidEventError(msg)
    records = sys.modules.get("dask_awkward")
    if records is not None and isinstance(event, records.Array) and event.fields:
        return _awkward_blocks(dask, plan, event, weight, rename)
    msg = (
        f"cannot fill events from a {type(event).__name__}: pass a dask.dataframe.DataFrame, "
        "a dict of 1-D dask arrays (one per variable) or a dask-awkward record array"
    )
    raise InvalidEventError(msg)


def _filled_copy(plan: FillPlan, partial: PartialFill, raise_error: bool) -> Any:
    if raise_error and any(partial.outside):
        msg = f"Event not part of binning! ({max(partial.outside)} events outside)"
        raise ValueError(msg)
    return plan.filled_copy(partial)


def _distributed_client(dask: Any) -> Any:
    """Return the ``distributed.Client`` Dask currently computes on, or ``None``."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    scheduler = dask.base.get_scheduler()
    client = getattr(scheduler, "__self__", None)
    return client if isinstance(client, distributed.Client) else None


def compute_total(dask: Any, total: Any, blocks: list[Any], progress: ProgressLike) -> Any:
    """Compute the delayed ``total``; with ``progress``, a bar over the ``blocks``.

    On a distributed client the blocks and the total are submitted together (the
    scheduler runs each block once) and the bar advances as block futures finish;
    each is released at once, so the workers keep no more partial fills than
    without a bar. On Dask's local schedulers a callback counts the block tasks.
    """
    if progress is None or progress is False:
        (result,) = dask.compute(total)
        return result
    with progress_bar(progress, total=len(blocks), desc="filling", unit="partition") as bar:
        client = _distributed_client(dask)
        if client is not None:
            distributed = sys.modules["distributed"]
            total_future = client.compute(total)
            for future in distributed.as_completed(client.compute(blocks)):
                bar.update(1)
                future.release()
            return total_future.result()
        keys = {block.key for block in blocks}

        def posttask(key: Any, *_: Any) -> None:
            if key in keys:
                bar.update(1)

        from dask.callbacks import Callback

        with Callback(posttask=posttask):  # type: ignore[no-untyped-call]  # dask leaves it unannotated
            (result,) = dask.compute(total)
        return result


def finish(
    dask: Any,
    plan: FillPlan,
    total: Any,
    plan_node: Any,
    raise_error: bool,
    compute: bool,
    *,
    blocks: list[Any] | None = None,
    progress: ProgressLike = False,
    source: str = "Dask collection",
) -> Any:
    """Compute the summed partial fill and add it to the plan's binnings (or stay lazy)."""
    if not compute:
        return dask.delayed(_filled_copy)(plan_node, total, raise_error)
    partial = compute_total(dask, total, blocks or [], progress)
    plan.add_partial(partial, raise_error)
    plan.report(source)
    return None


def _describe(event: Any, blocks: list[Any]) -> str:
    kind = "dict of dask arrays" if isinstance(event, Mapping) else f"Dask {type(event).__name__}"
    return f"{kind} ({len(blocks)} partitions)"


def fill_from_dask(
    plan: FillPlan,
    event: Any,
    weight: Any = 1,
    raise_error: bool = False,
    rename: Mapping[Any, Any] | None = None,
    compute: bool = True,
    split_every: int = SPLIT_EVERY,
    *,
    progress: ProgressLike = False,
    source: str | None = None,
) -> Any:
    """Fill the plan's binnings from a Dask collection (see the module docs).

    ``progress`` shows a bar over the partitions (eager fills only); ``source``
    names the events in log messages.

    Returns
    -------
    None, or with ``compute=False`` a ``dask.delayed`` object computing to a new
    object (binning or response matrix) holding only these events.
    """
    dask = optional_import("dask", feature="filling from Dask collections")
    blocks, plan_node = event_blocks(plan, event, weight, rename)
    total = tree_sum(dask, blocks, plan, split_every)
    return finish(
        dask,
        plan,
        total,
        plan_node,
        raise_error,
        compute,
        blocks=blocks,
        progress=progress,
        source=source or _describe(event, blocks),
    )
