"""Shared fixtures: strict floating-point errors, the reference files, hypothesis profiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The reference's tests run with every floating-point error raising; ours too.
np.seterr(all="raise")

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "slow", deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("default-ci", settings.get_profile("default"), derandomize=True)
settings.register_profile("slow-ci", settings.get_profile("slow"), derandomize=True)
# CI (CI=true) explores a fixed, reproducible set of examples: a red CI must mean a
# real regression, not a new random draw. Locally hypothesis keeps exploring.
settings.load_profile(
    ("slow" if os.environ.get("REMU_SLOW") else "default") + ("-ci" if os.environ.get("CI") else "")
)

from shared_paths import SHARED, SHARED_DATA


@pytest.fixture(autouse=True)
def _strict_floating_point():
    """Raise on every floating-point error inside each test, as the reference does."""
    with np.errstate(all="raise"):
        yield


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test opened, whatever the order of the tests.

    Without this, figures pile up in each xdist worker and matplotlib's "More than 20
    figures" warning (an error under ``filterwarnings = error``) fails whichever test
    happens to open the 21st. A test that opens many figures itself (a property test
    drawing one per example) closes them as it goes.
    """
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture
def shared_data() -> Path:
    """The folder of files written by the reference implementation (read-only)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference files not found at {SHARED_DATA} (set REMU_SHARED)")
    return SHARED_DATA


@pytest.fixture
def shared_seed() -> Path:
    """The folder holding the seed documentation page (example 06)."""
    seed = SHARED / "seed"
    if not seed.is_dir():
        pytest.skip(f"seed page not found at {seed} (set REMU_SHARED)")
    return seed


def pytest_collection_modifyitems(items):
    """Skip tests marked slow unless REMU_SLOW is set (as ``make test`` does)."""
    if os.environ.get("REMU_SLOW"):
        return
    skip_slow = pytest.mark.skip(reason="large size; runs in `make test` (REMU_SLOW=1)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _no_leaked_state():
    """Fail a test that leaves a replaced mapper or a changed NumPy error state behind.

    The mappers (``binning.mapper``, ``likelihood.mapper``) are reset, so one such
    test does not make the following ones fail too.
    """
    from remu import _state

    mappers = dict(_state.mappers)
    errors = np.geterr()
    yield
    leaked = {area for area, mapper in _state.mappers.items() if mapper is not mappers[area]}
    _state.mappers.update(mappers)
    changed = np.geterr() != errors
    np.seterr(**errors)
    assert not leaked, f"the test left a replaced mapper behind: {sorted(leaked)}"
    assert not changed, "the test left a changed NumPy error state behind"
