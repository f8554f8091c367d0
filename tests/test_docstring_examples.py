"""Every public object is documented, and every public class and function has examples.

The public objects are the names in ``__all__`` of the public modules
(``remu.binning``, ``remu.likelihood``, ...: every module of the package whose name
does not start with an underscore) that remu defines itself. Each one

* has a docstring, and so has every public method and property of the public
  classes (including those inherited from remu's private base classes);
* if it is a class or function, has a NumPy-style ``Examples`` section with
  ``>>>`` lines, which ``pytest --doctest-modules`` collects and runs in the module
  that defines the object (the private module that the API pages render).

The examples themselves run as doctests of ``src/remu`` (see ``testpaths`` in
pyproject.toml); this test makes sure they exist and that the doctest runner finds
them.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import sys
from types import ModuleType
from typing import Any

import pytest

import remu

#: the numpydoc heading of the examples section
_EXAMPLES = re.compile(r"^Examples\n-{8,}\n", re.MULTILINE)


def _public_modules() -> list[str]:
    return sorted(
        f"remu.{info.name}"
        for info in pkgutil.iter_modules(remu.__path__)
        if not info.name.startswith("_")
    )


def _is_own(obj: Any) -> bool:
    module = getattr(obj, "__module__", None)
    return (
        not inspect.ismodule(obj)
        and isinstance(module, str)
        and module.split(".")[0] == "remu"
        and (inspect.isclass(obj) or inspect.isfunction(obj))
    )


def _public_objects() -> dict[str, Any]:
    """``"module.name"`` -> object, for every own class and function in ``__all__``."""
    found = {}
    for module_name in _public_modules():
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if _is_own(obj):
                found[f"{module_name}.{name}"] = obj
    return found


PUBLIC = _public_objects()
CLASSES = {name: obj for name, obj in PUBLIC.items() if inspect.isclass(obj)}


def _public_members(cls: type) -> dict[str, Any]:
    """Public methods and properties of ``cls`` defined by remu (not by a base outside it)."""
    members = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not owner.__module__.startswith("remu"):
            continue
        raw = vars(owner)[name]
        if isinstance(raw, staticmethod | classmethod):
            raw = raw.__func__
        if isinstance(raw, property):
            raw = raw.fget
        if inspect.isfunction(raw):
            members[f"{owner.__module__}.{owner.__qualname__}.{name}"] = raw
    return members


def _doctests_of(module: ModuleType) -> dict[str, doctest.DocTest]:
    """The doctests that ``--doctest-modules`` runs for ``module``, by qualified name."""
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, module.__name__)
    return {test.name: test for test in tests if test.examples}


def test_public_objects_are_found():
    # the discovery above sees the modules and names the API pages document
    assert {"remu.binning", "remu.likelihood", "remu.errors", "remu.yaml"} <= set(_public_modules())
    assert "remu.binning.LinearBinning" in CLASSES
    assert "remu.likelihood_utils.to_pyhf_workspace" in PUBLIC
    assert len(PUBLIC) >= 75


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_has_a_docstring_with_examples(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) if inspect.isfunction(obj) else inspect.cleandoc(obj.__doc__ or "")
    assert doc.strip(), f"{name} has no docstring"
    assert _EXAMPLES.search(doc), f"{name}: no 'Examples' section"
    section = _EXAMPLES.split(doc, maxsplit=1)[1]
    assert ">>> " in section, f"{name}: the Examples section has no >>> lines"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_examples_are_collected_as_doctests(name):
    obj = PUBLIC[name]
    module = sys.modules[obj.__module__]
    tests = _doctests_of(module)
    qualified = f"{module.__name__}.{obj.__qualname__}"
    assert qualified in tests, (
        f"{name}: pytest --doctest-modules does not run the examples of {qualified}"
    )


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_public_methods_have_docstrings(name):
    undocumented = [
        member
        for member, function in _public_members(CLASSES[name]).items()
        if not (function.__doc__ or "").strip()
    ]
    assert not undocumented, f"{name}: public members without a docstring: {undocumented}"


def test_the_classes_have_methods_to_check():
    # guard against a discovery that silently finds nothing
    members = _public_members(CLASSES["remu.migration.ResponseMatrix"])
    assert "remu._migration.response.ResponseMatrix.fill" in members
    assert any(name.endswith(".clone") for name in _public_members(CLASSES["remu.binning.Bin"]))
