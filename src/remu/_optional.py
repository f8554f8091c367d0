"""Lazy imports of optional dependencies with an error that names the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

# module name -> the remu extra that installs it
_EXTRAS = {
    "pandas": "pandas",
    "uproot": "root",
    "awkward": "root",
    "emcee": "mcmc",
    "dask": "dask",
    "distributed": "dask",
    "dask_awkward": "dask",
    "pyarrow": "dask",
    "iminuit": "iminuit",
    "hist": "hist",
    "tqdm": "progress",
    "pyhf": "pyhf",
}


def optional_import(name: str, *, feature: str | None = None) -> ModuleType:
    """Import an optional dependency, or say which extra provides it.

    Parameters
    ----------
    name : str
        The module to import, e.g. ``"emcee"``.
    feature : str, optional
        What needs the module, for the error message.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    ImportError
        If the module is not installed; the message names ``pip install remu[extra]``.
    """
    try:
        return importlib.import_module(name)
    except ImportError as err:
        top = name.split(".")[0]
        extra = _EXTRAS.get(top, "all")
        what = f" for {feature}" if feature else ""
        msg = f"{top!r} is needed{what}; install it with: pip install 'remu[{extra}]'"
        raise ImportError(msg) from err
