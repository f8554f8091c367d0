"""The one convention of remu's public modules: own names, legacy names, user state.

Every public module (``remu.binning``, ``remu.migration``, ``remu.matrix_utils``,
``remu.likelihood``, ``remu.likelihood_utils``, ``remu.plotting``, ``remu.yaml``,
``remu.errors``) is a thin facade that

* lists remu's own public names in ``__all__`` (these are documented on its API page);
* declares one table, ``_LEGACY_NAMES``, of the names that code written for ReMU
  0.8.0 imports from it although remu does not define them there: ReMU's modules
  imported NumPy, PyYAML, ``copy.deepcopy``, SciPy's submodules... at module level,
  and scripts use them as ``binning.np``, ``binning.yaml``, ``migration.deepcopy`` or
  ``likelihood.stats``. Each entry maps the name to what it is, ``"package.module"``
  or ``"package.module:attribute"``, or to a function that builds it;
* ends with :func:`install`, which makes the legacy names attributes of the module
  that are imported on first use (so that ``import remu.binning`` does not import
  SciPy or Matplotlib for them), lists them in ``dir(module)``, and turns the
  user-settable state of :mod:`remu._state` (``binning.mapper``,
  ``likelihood.mapper``) into properties of the module.

:func:`install` gives the module a class of its own, a subclass of
:class:`types.ModuleType` that carries the state properties, ``__getattr__`` for the
legacy names and ``__dir__``; everything else about the module stays as it is.
:func:`legacy_names` reads the table back (the documentation lists it on every API
page).

Examples
--------
>>> import remu.migration
>>> legacy_names(remu.migration)["deepcopy"]
'copy:deepcopy'
>>> import copy
>>> remu.migration.deepcopy is copy.deepcopy, "deepcopy" in dir(remu.migration)
(True, True)
>>> "deepcopy" in remu.migration.__all__
False
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from remu._state import mapper_property

__all__ = ["LegacyTarget", "install", "legacy_names", "resolve"]

#: ``"package.module"``, ``"package.module:attribute"`` or a function that builds it
LegacyTarget: TypeAlias = "str | Callable[[], object]"

_EMPTY: Mapping[str, Any] = types.MappingProxyType({})


def resolve(target: LegacyTarget) -> object:
    """Import the object a legacy-table entry stands for.

    Examples
    --------
    >>> import math
    >>> resolve("math") is math, resolve("math:pi") == math.pi, resolve(lambda: 3)
    (True, True, 3)
    """
    if callable(target):
        return target()
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def legacy_names(module: types.ModuleType) -> Mapping[str, LegacyTarget]:
    """Return the legacy-name table of a public module (empty for other modules)."""
    table = getattr(type(module), "_legacy_names", None)
    return table if table is not None else _EMPTY


def install(
    module_name: str,
    *,
    legacy: Mapping[str, LegacyTarget] = _EMPTY,
    state: Mapping[str, str] = _EMPTY,
) -> None:
    """Give the public module ``module_name`` its legacy names and state attributes.

    Parameters
    ----------
    module_name : str
        ``__name__`` of the calling facade (which must already be in ``sys.modules``).
    legacy : mapping of str to str or callable
        The module's ``_LEGACY_NAMES``: attribute name -> ``"module[:attribute]"`` or
        a function returning the object. Resolved on first access and then kept
        in the module's namespace.
    state : mapping of str to str
        Attribute name -> area of :data:`remu._state.mappers` (``"binning"``,
        ``"likelihood"``): reading and assigning the attribute read and write
        that state.

    Raises
    ------
    ValueError
        If a legacy name is also one of the module's own names (``__all__``) or a
        state attribute: each name has one meaning.
    """
    module = sys.modules[module_name]
    own = set(getattr(module, "__all__", ()))
    clash = sorted((set(legacy) & own) | (set(legacy) & set(state)))
    if clash:
        msg = f"{module_name}: legacy names {clash} are also own names or state attributes"
        raise ValueError(msg)
    table = types.MappingProxyType(dict(legacy))
    state_names = tuple(state)

    def __getattr__(self: types.ModuleType, name: str) -> object:
        try:
            target = table[name]
        except KeyError:
            msg = f"module {module_name!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
        value = resolve(target)
        self.__dict__[name] = value  # later look-ups are plain attribute reads
        return value

    def __dir__(self: types.ModuleType) -> list[str]:
        return sorted({*self.__dict__, *table, *state_names})

    namespace: dict[str, Any] = {name: mapper_property(area) for name, area in state.items()}
    namespace.update(
        __module__=module_name,
        __getattr__=__getattr__,
        __dir__=__dir__,
        _legacy_names=table,
    )
    facade = type(f"{module_name.rpartition('.')[2]}_module", (types.ModuleType,), namespace)
    for name in state:
        # the placeholder assignment (for static tools) would hide the property
        module.__dict__.pop(name, None)
    module.__class__ = facade
