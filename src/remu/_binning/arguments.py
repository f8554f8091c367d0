"""Checks of constructor arguments shared by the binning classes.

YAML fields arrive here unchanged (a tagged mapping becomes keyword arguments), so
these checks are also what stops a quoted ``'false'`` from becoming ``True``.
Messages show values through :mod:`reprlib`, so that they stay short even for huge
inputs.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["as_flag", "as_variable_name", "as_variable_names", "describe"]

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60


def describe(value: Any) -> str:
    """Describe a value for messages: its type and a short repr (``"the str 'false'"``).

    Examples
    --------
    >>> describe("false"), describe(list(range(100)))
    ("the str 'false'", 'the list [0, 1, 2, 3, 4, 5, ...]')
    """
    return f"the {type(value).__name__} {_REPR.repr(value)}"


def as_flag(value: Any, name: str, owner: str) -> bool:
    """Check a yes/no argument: ``bool``, ``numpy.bool_``, or the integers 0 and 1.

    Parameters
    ----------
    value : object
    name : str
        The argument, for messages.
    owner : str
        The class, for messages.

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        For anything else, e.g. the string ``'false'`` (truthy: it would mean ``True``).

    Examples
    --------
    >>> as_flag(np.bool_(True), "include_upper", "LinearBinning")
    True
    >>> as_flag("false", "include_upper", "LinearBinning")
    Traceback (most recent call last):
    ...
    TypeError: LinearBinning: include_upper must be a boolean (true or false); got the str 'false'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    msg = f"{owner}: {name} must be a boolean (true or false); got {describe(value)}"
    raise TypeError(msg)


def as_variable_name(value: Any, owner: str, name: str = "variable") -> str:
    """Check a variable name: a string.

    Raises
    ------
    TypeError
        For anything else (e.g. a list, from a YAML ``variable: [x]``).

    Examples
    --------
    >>> as_variable_name(["x"], "LinearBinning")
    Traceback (most recent call last):
    ...
    TypeError: LinearBinning: variable must be a variable name (a string); got the list ['x']
    """
    if isinstance(value, str):
        return value
    msg = f"{owner}: {name} must be a variable name (a string); got {describe(value)}"
    raise TypeError(msg)


def as_variable_names(values: Iterable[Any], owner: str) -> tuple[str, ...]:
    """Check a sequence of variable names (strings).

    Raises
    ------
    TypeError
        If ``values`` is a single string (ambiguous: a name or its letters?) or not
        iterable, or an element is not a string.

    Examples
    --------
    >>> as_variable_names(["x", "y"], "RectilinearBinning")
    ('x', 'y')
    """
    if isinstance(values, str):
        msg = f"{owner}: variables must be a list of names; got the single string {values!r}"
        raise TypeError(msg)
    try:
        names = tuple(values)
    except TypeError:
        msg = f"{owner}: variables must be a list of names; got {describe(values)}"
        raise TypeError(msg) from None
    for i, value in enumerate(names):
        as_variable_name(value, owner, f"variables[{i}]")
    return names
