"""Telling Dask collections apart from in-memory data, without importing dask.

A Dask collection implements the ``__dask_graph__`` protocol. No such object
can exist before dask has been imported, so the check costs a dictionary
look-up when dask is not in use.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["is_dask_collection", "uses_dask"]


def is_dask_collection(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection (dask array, dataframe, series, bag, ...)."""
    if "dask" not in sys.modules:
        return False
    return callable(getattr(type(obj), "__dask_graph__", None))


def uses_dask(event: Any, weight: Any = None) -> bool:
    """Whether a fill gets a Dask collection: the events, a dict value, or the weights."""
    if "dask" not in sys.modules:
        return False
    if is_dask_collection(event) or is_dask_collection(weight):
        return True
    if isinstance(event, Mapping):
        return any(is_dask_collection(v) for v in event.values())
    return False
