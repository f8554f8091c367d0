"""ResponseMatrixArrayBuilder: stacking variations, nuisance scaling, export."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning, migration
from remu._formats.npz_response import load_response_npz


def matrix(**kwargs) -> migration.ResponseMatrix:
    reco = binning.LinearBinning("reco_x", [0.0, 1.0, 2.0, 3.0])
    truth = binning.LinearBinning("true_x", [0.0, 1.0, 2.0, 3.0])
    return migration.ResponseMatrix(reco, truth, **kwargs)


def events(n, shift, seed, truth_range=(0.0, 3.0)):
    rng = np.random.default_rng(seed)
    t = rng.uniform(*truth_range, n)
    r = np.where(rng.random(n) < 0.8, t + shift + rng.normal(0, 0.3, n), np.nan)
    return np.rec.fromarrays([t, r], names="true_x,reco_x")


def test_nstat_zero_stores_raw_matrices():
    rm = matrix()
    builder = migration.ResponseMatrixArrayBuilder(0)
    raws = []
    for shift in (0.0, 0.2, -0.2):
        rm.reset()
        rm.fill(events(300, shift, 1))
        raws.append(rm.get_response_matrix_as_ndarray())
        builder.add_matrix(rm, weight=1.0 + shift)
    assert builder.nmatrices == 3
    M, w = builder.get_random_response_matrices_as_ndarray()
    assert M.shape == (3, 3, 3)
    assert_allclose(M, np.stack(raws))
    assert_allclose(w, [1.0, 1.2, 0.8])
    means, mw = builder.get_mean_response_matrices_as_ndarray()
    assert means.shape == (3, 3, 3)
    assert_allclose(mw, [1.0, 1.2, 0.8])


def test_draws_are_matrix_major_and_reproducible():
    rm = matrix()
    results = []
    for _ in range(2):
        builder = migration.ResponseMatrixArrayBuilder(4)
        for k, shift in enumerate((0.0, 0.5)):
            rm.reset()
            rm.fill(events(2000, shift, 2))
            builder.add_matrix(rm, rng=k)
        results.append(builder.get_random_response_matrices_as_ndarray()[0])
    assert_array_equal(results[0], results[1])
    M = results[0]
    assert M.shape == (8, 3, 3)
    # the shifted detector moves events up: reco bin 2 of truth bin 1 grows
    assert M[:4, 2, 1].max() < M[4:, 2, 1].min()


def test_union_of_filled_bins_and_errors():
    builder = migration.ResponseMatrixArrayBuilder(1)
    rm = matrix(nuisance_indices=[2])
    rm.fill(events(200, 0.0, 3, (0.0, 2.0)))  # truth bin 2 empty
    builder.add_matrix(rm, rng=1)
    rm.fill(events(100, 0.0, 4, (2.0, 3.0)))
    builder.add_matrix(rm, rng=2)
    assert builder.get_filled_truth_indices() == [0, 1, 2]
    M, _ = builder.get_random_response_matrices_as_ndarray()
    assert_array_equal(M[0, :, 2], 0)  # inserted zero column of the nuisance bin
    assert M[1, :, 2].sum() == pytest.approx(1.0)

    # a non-nuisance bin missing in one matrix is an error
    builder = migration.ResponseMatrixArrayBuilder(1)
    rm = matrix()
    rm.fill(events(200, 0.0, 3, (0.0, 2.0)))
    builder.add_matrix(rm, rng=1)
    rm.fill(events(100, 0.0, 4, (2.0, 3.0)))
    builder.add_matrix(rm, rng=1)
    with pytest.raises(RuntimeError, match="Truth difference in non-nuisance index"):
        builder.get_random_response_matrices_as_ndarray()
    with pytest.raises(RuntimeError, match="Truth difference"):
        builder.get_mean_response_matrices_as_ndarray()


def test_nuisance_scaling():
    builder = migration.ResponseMatrixArrayBuilder(0)
    rm = matrix(nuisance_indices=[0])
    counts = []
    for n_noise in (40, 80, 60):
        rm.reset()
        rm.fill(events(300, 0.0, 5, (1.0, 3.0)))
        rm.fill(events(n_noise, 0.0, 6, (0.0, 1.0)))
        counts.append(rm.get_truth_values_as_ndarray()[0])
        builder.add_matrix(rm)
    M, _ = builder.get_random_response_matrices_as_ndarray()
    raw_eff = np.array(counts) / max(counts)
    # raw columns sum to the fraction reconstructed; the nuisance scale multiplies it
    means, _ = builder.get_mean_response_matrices_as_ndarray()
    assert_allclose(means[:, :, 0].sum(axis=1), raw_eff, rtol=1e-9)
    assert M[:, :, 0].sum(axis=1).argmax() == 1


def test_nuisance_mismatch_and_shape_mismatch():
    builder = migration.ResponseMatrixArrayBuilder(1)
    builder.add_matrix(matrix(nuisance_indices=[0, 1]), rng=1)
    builder.add_matrix(matrix(nuisance_indices=[1, 0]), rng=1)  # same set
    with pytest.raises(RuntimeError, match="different nuisance indices"):
        builder.add_matrix(matrix(nuisance_indices=[0]), rng=1)
    other = migration.ResponseMatrix(
        binning.LinearBinning("reco_x", [0.0, 1.0]),
        binning.LinearBinning("true_x", [0.0, 1.0, 2.0, 3.0]),
        nuisance_indices=[0, 1],
    )
    with pytest.raises(ValueError, match="reco"):
        builder.add_matrix(other, rng=1)


def test_nstat_validation_and_empty_builder():
    builder = migration.ResponseMatrixArrayBuilder(-1)
    with pytest.raises(ValueError, match="nstat"):
        builder.add_matrix(matrix())
    builder = migration.ResponseMatrixArrayBuilder(2)
    assert builder.get_truth_entries_as_ndarray() is None
    with pytest.raises(RuntimeError, match="no response matrices"):
        builder.get_random_response_matrices_as_ndarray()
    with pytest.raises(RuntimeError, match="no response matrices"):
        builder.export("never.npz")
    builder.add_matrix(matrix(), rng=1)
    builder.nstat = 3
    with pytest.raises(ValueError, match="nstat changed"):
        builder.add_matrix(matrix(), rng=1)
    builder.reset()
    assert builder.nstat == 3
    assert builder.nmatrices == 0
    builder.add_matrix(matrix(), rng=1)
    assert builder.nmatrices == 1


def test_matrix_reusable_after_add():
    rm = matrix()
    rm.fill(events(100, 0.0, 1))
    builder = migration.ResponseMatrixArrayBuilder(0)
    builder.add_matrix(rm)
    before = builder.get_random_response_matrices_as_ndarray()[0].copy()
    rm.reset()
    rm.fill(events(100, 1.0, 2))
    assert_array_equal(builder.get_random_response_matrices_as_ndarray()[0], before)


def test_export_layout_matches_reference(shared_data, tmp_path):
    rm = matrix()
    builder = migration.ResponseMatrixArrayBuilder(5)
    for shift in (0.0, 0.1):
        rm.reset()
        rm.fill(events(500, shift, 7))
        builder.add_matrix(rm, rng=3)
    builder.export(tmp_path / "syst.npz", compress=True)
    ours = load_response_npz(tmp_path / "syst.npz")
    assert ours.matrices.shape == (10, 3, 3)
    assert_array_equal(ours.sparse_indices, builder.get_filled_truth_indices())
    with (
        np.load(shared_data / "upstream-examples/03/response_matrix.npz") as ref,
        np.load(tmp_path / "syst.npz") as f,
    ):
        assert sorted(ref.files) == sorted(f.files)
        for key in ref.files:
            assert ref[key].dtype == f[key].dtype, key
            assert ref[key].ndim == f[key].ndim, key
