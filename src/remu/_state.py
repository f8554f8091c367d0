"""User-settable state, in one place: the ``map``-like functions of the facades.

ReMU lets users parallelise work by replacing a module attribute::

    from remu import binning, likelihood
    binning.mapper = pool.map      # the event look-ups of Binning.fill
    likelihood.mapper = pool.map   # the toy fits of HypothesisTester

The values live here, in :data:`mappers`, and the implementation reads them with
:func:`get_mapper`. The public modules show them as attributes: their
:func:`remu._facade.install` call turns ``module.mapper`` into a property of the
module (made by :func:`mapper_property`), so that reading and assigning it read
and write this state. Private code therefore never imports a public module to find
out what the user set.

Examples
--------
>>> get_mapper("binning") is map
True
>>> previous = set_mapper("likelihood", list)
>>> get_mapper("likelihood") is list
True
>>> set_mapper("likelihood", previous) is list
True
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

__all__ = ["get_mapper", "mapper_property", "mappers", "set_mapper"]

#: area ("binning", "likelihood") -> the ``map``-like function set by the user
mappers: dict[str, Callable[..., Any]] = {"binning": map, "likelihood": map}


def get_mapper(area: str) -> Callable[..., Any]:
    """Return the ``map``-like function currently set for ``area``."""
    return mappers[area]


def set_mapper(area: str, mapper: Callable[..., Any]) -> Callable[..., Any]:
    """Set the ``map``-like function of ``area``; return the one it replaces.

    Raises
    ------
    TypeError
        If ``mapper`` is not callable.
    """
    if not callable(mapper):
        msg = f"{area}.mapper must be a map-like callable, mapper(function, items); got {mapper!r}"
        raise TypeError(msg)
    previous = mappers[area]
    mappers[area] = mapper
    return previous


def mapper_property(area: str) -> property:
    """Make a property of a module class that reads and sets the mapper of ``area``.

    Examples
    --------
    >>> import types
    >>> Module = type("Module", (types.ModuleType,), {"mapper": mapper_property("binning")})
    >>> Module("demo").mapper is get_mapper("binning")
    True
    """

    # The module instance is the property's ``self``; the mappers live in ``mappers``.
    def fget(_module: types.ModuleType) -> Callable[..., Any]:
        return mappers[area]

    def fset(_module: types.ModuleType, value: Callable[..., Any]) -> None:
        set_mapper(area, value)

    doc = f"The ``map``-like function of remu.{area} (default: the builtin ``map``)."
    return property(fget, fset, doc=doc)
