"""Array comparisons for property tests that draw arbitrary (also tiny) floats.

A module of its own (not ``conftest``), importable from every test file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.testing import assert_allclose as _numpy_assert_allclose


def assert_allclose(actual: Any, desired: Any, **kwargs: Any) -> None:
    """:func:`numpy.testing.assert_allclose`, safe under ``np.seterr(all="raise")``.

    The comparison computes the tolerance ``atol + rtol * abs(desired)``; for a
    desired value near the smallest normal float (hypothesis draws such values) that
    product underflows to zero, which is the right tolerance but raises
    ``FloatingPointError`` under the suite's strict error state. Only that underflow
    is ignored: overflow and invalid operations in the comparison still raise.
    """
    with np.errstate(under="ignore"):
        _numpy_assert_allclose(actual, desired, **kwargs)
