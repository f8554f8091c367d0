"""matrix_utils.improve_stats and its merge suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import remu.errors
from numeric_asserts import assert_allclose
from remu import binning, matrix_utils, migration
from remu.errors import BinMergeError, NoMergeNeighbourError


def filled_binning(b, seed=0):
    rng = np.random.default_rng(seed)
    b.set_values_from_ndarray(rng.uniform(1, 5, b.data_size))
    b.set_entries_from_ndarray(rng.integers(1, 50, b.data_size))
    b.set_sumw2_from_ndarray(rng.uniform(1, 9, b.data_size))
    return b


BINNINGS = {
    "linear": lambda: binning.LinearBinning("x", [0, 1, 2, 3, 4]),
    "rectilinear": lambda: binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]]),
    "sub-linear": lambda: binning.LinearBinning(
        "x", [0, 1, 2, 3], subbinnings={1: binning.LinearBinning("y", [0, 1, 2, 3])}
    ),
    "sub-rectilinear": lambda: binning.LinearBinning(
        "k",
        [0, 1, 2],
        subbinnings={
            0: binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]]),
            1: binning.LinearBinning("z", [0, 1, 2]),
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(BINNINGS))
def test_suggestion_functions_match_merged_binnings(kind):
    b = filled_binning(BINNINGS[kind]())
    tried = 0
    for data_index in range(b.data_size):
        try:
            suggestions = matrix_utils._merge_suggestions(b, data_index)
        except RuntimeError:
            assert b.subbinnings  # only plain bins of a binning with sub-binnings
            continue
        for s in suggestions:
            tried += 1
            assert len(s["first_indices"]) == len(s["second_indices"])
            new = s["binning"]
            for q in ("values", "entries", "sumw2"):
                arr = getattr(b, f"get_{q}_as_ndarray")()
                assert_allclose(s["function"](arr), getattr(new, f"get_{q}_as_ndarray")())
                # trailing axes are carried along
                two = np.stack([arr, 2 * arr], axis=1)
                assert_allclose(s["function"](two)[:, 1], 2 * s["function"](arr))
            assert new.get_values_as_ndarray().sum() == pytest.approx(
                b.get_values_as_ndarray().sum()
            )
            assert data_index in s["first_indices"] or data_index in s["second_indices"]
    assert tried > 0


def test_linear_suggestions_lower_then_upper_neighbour():
    b = filled_binning(BINNINGS["linear"]())
    s = matrix_utils._merge_suggestions(b, 2)
    assert [x["first_indices"] for x in s] == [[1], [2]]
    assert [x["second_indices"] for x in s] == [[2], [3]]
    assert_array_equal(s[0]["binning"].bin_edges, [0, 1, 3, 4])
    assert_array_equal(s[1]["binning"].bin_edges, [0, 1, 2, 4])
    assert len(matrix_utils._merge_suggestions(b, 0)) == 1


def test_rectilinear_suggestions_merge_whole_slabs():
    b = filled_binning(BINNINGS["rectilinear"]())  # shape (3, 2), bin = 2 * ix + iy
    s = matrix_utils._merge_suggestions(b, 3)  # (1, 1)
    # x: lower then upper neighbour slab; y: only the lower slab exists
    assert [x["first_indices"] for x in s] == [[0, 1], [2, 3], [0, 2, 4]]
    assert [x["second_indices"] for x in s] == [[2, 3], [4, 5], [1, 3, 5]]
    assert s[2]["binning"].bins_shape == (3, 1)


def test_unsupported_binnings():
    b = binning.RectangularBinning(["x"], [[(0, 1)], [(1, 2)]])
    with pytest.raises(BinMergeError, match="Not able to suggest"):
        matrix_utils._merge_suggestions(b, 0)
    sub = filled_binning(BINNINGS["sub-linear"]())
    with pytest.raises(BinMergeError, match="Lowest statistics entry is in bin 0"):
        matrix_utils._merge_suggestions(sub, 0)
    # ReMU raises RuntimeError here: `except RuntimeError` keeps working
    with pytest.raises(RuntimeError):
        matrix_utils._merge_suggestions(sub, 0)


def test_merge_error_classes():
    assert issubclass(BinMergeError, RuntimeError)
    assert issubclass(NoMergeNeighbourError, BinMergeError)
    assert issubclass(NoMergeNeighbourError, ValueError)
    for cls in (BinMergeError, NoMergeNeighbourError):
        assert cls.__doc__
        assert cls.__name__ in remu.errors.__all__


def test_data_index_is_checked():
    b = filled_binning(BINNINGS["linear"]())  # 4 bins
    for bad in (4, -1, 99):
        with pytest.raises(
            IndexError, match=f"data_index {bad} is out of range for a binning of 4"
        ):
            matrix_utils._merge_suggestions(b, bad)
        with pytest.raises(ValueError, match="out of range"):
            matrix_utils._merge_suggestions(b, bad)
    with pytest.raises(TypeError):
        matrix_utils._merge_suggestions(b, 1.0)
    # numpy integers are fine
    assert matrix_utils._merge_suggestions(b, np.int64(3))[0]["second_indices"] == [3]


def test_dummy_binning_has_no_entries_to_choose_from():
    b = binning.LinearBinning("x", [0, 1, 2]).clone(dummy=True)
    with pytest.raises(TypeError, match="dummy"):
        matrix_utils._merge_suggestions(b)


def make_matrix(truth, n=4000, seed=0, **kwargs):
    reco = binning.LinearBinning("reco_x", np.linspace(0, 4, 9))
    rm = migration.ResponseMatrix(reco, truth, **kwargs)
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 4, n)
    y = rng.uniform(0, 2, n)
    # truth bin [1, 2) is sparsely populated
    keep = (t < 1) | (t >= 2) | (rng.random(n) < 0.05)
    t, y = t[keep], y[keep]
    # response in [0, 2) is identical; above 2 the detector shifts everything
    r = np.where(t < 2, t + rng.normal(0, 0.2, t.size), t + 1.0 + rng.normal(0, 0.2, t.size))
    rm.fill(np.rec.fromarrays([t, y, r], names="true_x,true_y,reco_x"))
    return rm


def test_improve_stats_merges_towards_similar_response():
    rm = make_matrix(binning.LinearBinning("true_x", [0, 1, 2, 3, 4]), nuisance_indices=[3])
    assert rm.get_truth_entries_as_ndarray().argmin() == 1
    better = matrix_utils.improve_stats(rm, rng=1)
    assert_array_equal(better.truth_binning.bin_edges, [0, 2, 3, 4])
    assert better.nuisance_indices == []
    assert better.impossible_indices == []
    for hist in ("truth", "reco", "response"):
        for q in ("values", "entries", "sumw2"):
            get = f"get_{hist}_{q}_as_ndarray"
            assert getattr(better, get)().sum() == pytest.approx(getattr(rm, get)().sum())
    assert_array_equal(better.filled_truth_indices, [0, 1, 2])
    assert better.reco_binning is not rm.reco_binning
    # the input is untouched
    assert rm.truth_binning.nbins == 4
    # the merged matrix is consistent: reco = M @ truth
    M = better.get_response_matrix_as_ndarray()
    assert_allclose(M @ better.get_truth_values_as_ndarray(), better.get_reco_values_as_ndarray())


def test_improve_stats_rectilinear_and_explicit_index():
    truth = binning.RectilinearBinning(["true_x", "true_y"], [[0, 1, 2, 3, 4], [0, 1, 2]])
    rm = make_matrix(truth)
    better = matrix_utils.improve_stats(rm, data_index=2, rng=2)  # (1, 0)
    # a whole slab is merged: along x (4 -> 3 columns) or along y (2 -> 1 rows)
    assert better.truth_binning.data_size in (4, 6)
    assert better.get_truth_entries_as_ndarray().sum() == rm.get_truth_entries_as_ndarray().sum()
    # the documented loop (merge until every bin has enough entries) terminates
    entries = rm.get_truth_entries_as_ndarray()
    steps = 0
    while entries.min() < 100:
        rm = matrix_utils.improve_stats(rm, rng=steps)
        entries = rm.get_truth_entries_as_ndarray()
        steps += 1
    assert steps >= 1
    assert rm.truth_binning.data_size < 8


def test_improve_stats_single_bin_fails():
    rm = make_matrix(binning.LinearBinning("true_x", [0, 4]))
    with pytest.raises(NoMergeNeighbourError, match="single bin"):
        matrix_utils.improve_stats(rm)
    with pytest.raises(ValueError, match="single bin"):  # what ReMU raises
        matrix_utils.improve_stats(rm)


def test_improve_stats_reproducible():
    rm = make_matrix(binning.LinearBinning("true_x", [0, 1, 2, 3, 4]))
    a = matrix_utils.improve_stats(rm, rng=5)
    b = matrix_utils.improve_stats(rm, rng=5)
    assert_array_equal(a.get_response_values_as_ndarray(), b.get_response_values_as_ndarray())
