"""``ResponseMatrix + ResponseMatrix``, pinned against independent computations.

The sum is a matrix filled with the events of both operands: every histogram is the
bin-by-bin sum, the binnings and index lists are copies of the left operand's, the
consistency fix lifts truth values that rounding left below the reconstructed total,
and neither operand changes.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning, migration
from remu.errors import IllegalResponseError

HISTOGRAMS = ("truth", "reco", "response")
QUANTITIES = ("values", "entries", "sumw2")


def _matrix(**kwargs):
    reco = binning.LinearBinning(
        "r", [0.0, 1.0, 2.0, 3.0], subbinnings={1: binning.LinearBinning("q", [0.0, 0.5, 1.0])}
    )
    truth = binning.RectilinearBinning(["t", "u"], [[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    return migration.ResponseMatrix(reco, truth, **kwargs)


def _events(seed, n):
    rng = np.random.default_rng(seed)
    events = {
        "t": rng.uniform(0, 2, n),
        "u": rng.uniform(0, 2, n),
        "r": rng.uniform(-0.2, 3.0, n),
        "q": rng.uniform(0, 1, n),
    }
    return events, rng.uniform(0.5, 2.0, n)


def _arrays(matrix):
    return {
        (h, q): getattr(matrix, f"get_{h}_{q}_as_ndarray")() for h in HISTOGRAMS for q in QUANTITIES
    }


def test_the_sum_is_the_bin_by_bin_sum_and_equals_filling_both():
    first, second = _matrix(nuisance_indices=[3], impossible_indices=[0]), _matrix()
    (e1, w1), (e2, w2) = _events(1, 300), _events(2, 200)
    first.fill(e1, weight=w1)
    second.fill(e2, weight=w2)
    before = (_arrays(first), _arrays(second))
    total = first + second
    both = _matrix()
    both.fill({k: np.concatenate([e1[k], e2[k]]) for k in e1}, weight=np.concatenate([w1, w2]))
    for key, value in _arrays(total).items():
        assert_allclose(value, before[0][key] + before[1][key], rtol=1e-13, err_msg=str(key))
        assert_allclose(value, _arrays(both)[key], rtol=1e-12, err_msg=str(key))
        assert value.dtype == before[0][key].dtype
    # operands unchanged, the result independent of them
    for matrix, arrays in zip((first, second), before, strict=True):
        for key, value in _arrays(matrix).items():
            assert_array_equal(value, arrays[key])
    total.fill(e1)
    assert_array_equal(first.get_truth_entries_as_ndarray(), before[0]["truth", "entries"])
    # binnings and index lists: copies of the left operand's
    for h in HISTOGRAMS:
        mine, theirs = getattr(total, f"{h}_binning"), getattr(first, f"{h}_binning")
        assert mine is not theirs
        assert type(mine) is type(theirs)
        assert mine == theirs
    assert total.nuisance_indices == [3]
    assert total.nuisance_indices is not first.nuisance_indices
    assert total.impossible_indices == [0]
    assert (second + first).nuisance_indices == []


def test_filled_truth_indices_of_the_sum():
    first, second = _matrix(), _matrix()
    first.fill({"t": [0.5], "u": [0.5], "r": [0.5], "q": [0.1]})
    second.fill({"t": [1.5], "u": [1.5], "r": [2.5], "q": [0.1]})
    total = first + second
    assert_array_equal(total.filled_truth_indices, [0, 3])
    assert total.filled_truth_indices.dtype == np.int64


def test_the_consistency_fix_lifts_truth_values_within_rounding():
    first, second = _matrix(), _matrix()
    first.fill({"t": [0.5], "u": [0.5], "r": [0.5], "q": [0.1]}, weight=1.0)
    # a truth value below its reconstructed total by less than 1e-9: lifted in the sum
    second.fill({"t": [0.5], "u": [0.5], "r": [0.5], "q": [0.1]}, weight=1.0)
    second.set_truth_values_from_ndarray([1.0 - 5e-10, 0, 0, 0])
    total = first + second
    assert total.get_truth_values_as_ndarray()[0] == 2.0
    # beyond the tolerance it is an illegal matrix
    second.set_truth_values_from_ndarray([1.0 - 5e-9, 0, 0, 0])
    first.set_truth_values_from_ndarray([1.0 - 5e-9, 0, 0, 0])
    with pytest.raises(IllegalResponseError, match="Higher total reconstructed than true weight"):
        first + second


def test_other_attributes_are_copied_from_the_left_operand():
    first, second = _matrix(), _matrix()
    first.note = {"label": ["signal"]}
    total = first + second
    assert total.note == {"label": ["signal"]}
    assert total.note is not first.note
    assert total.note["label"] is not first.note["label"]


class _Tagged(migration.ResponseMatrix):
    pass


def test_the_sum_keeps_the_left_operands_class_and_refuses_other_types():
    first = _Tagged(binning.LinearBinning("r", [0, 1]), binning.LinearBinning("t", [0, 1]))
    second = migration.ResponseMatrix(
        binning.LinearBinning("r", [0, 1]), binning.LinearBinning("t", [0, 1])
    )
    assert type(first + second) is _Tagged
    assert first.__add__(3) is NotImplemented
    with pytest.raises(TypeError):
        first + 3
