"""Imports of the optional packages that tests need.

`make test` installs every extra (``.[all,dev,docs]``), so a missing package means a
broken environment, not a feature to leave out: :func:`require` fails the test and
names the extra to install, where ``pytest.importorskip`` would quietly skip it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or fail the calling test naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(
            f"this test needs {module} ({error}); install it with pip install 'remu[{extra}]'",
            pytrace=False,
        )
