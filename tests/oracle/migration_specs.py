"""Events and comparisons shared by the migration and matrix_utils differential tests."""

from __future__ import annotations

import numpy as np

from numeric_asserts import assert_allclose

DTYPE = [("rx", float), ("ry", float), ("tx", float), ("ty", float)]


def make_events(seed: int, n: int, lost: float = 0.2, smear: float = 0.5):
    """Truth (tx, ty) and smeared reco (rx, ry) coordinates; a fraction ``lost`` is NaN."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=DTYPE)
    ev["tx"] = rng.uniform(-0.5, 5.5, n)
    ev["ty"] = rng.uniform(-0.5, 5.5, n)
    ev["rx"] = ev["tx"] + rng.normal(0.0, smear, n)
    ev["ry"] = ev["ty"] + rng.normal(0.0, smear, n)
    gone = rng.random(n) < lost
    ev["rx"][gone] = np.nan
    ev["ry"][gone] = np.nan
    return ev


def compare_trees(ours, theirs, path=""):
    """Recursive equality of two payloads: floats to rounding, the rest exactly."""
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), path
        for k in theirs:
            compare_trees(ours[k], theirs[k], f"{path}/{k}")
    elif isinstance(theirs, np.ndarray) and theirs.dtype.kind == "f":
        ours = np.asarray(ours)
        assert ours.shape == theirs.shape, path
        assert_allclose(ours, theirs, rtol=1e-9, atol=1e-13, err_msg=path)
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=path)
        assert np.asarray(ours).dtype.kind == theirs.dtype.kind, path
    else:
        assert ours == theirs, path
