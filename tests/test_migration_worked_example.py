"""A worked numeric example of a response matrix, with hand-computed reference values."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning, migration

CSV = """x_truth,y_truth,x_reco,y_reco,w
0,0,NaN,NaN,1
0,0,NaN,NaN,1
0,1,NaN,NaN,2
0,1,0,1,1
0,1,0,0,1
1,0,1,0,1
1,0,1,1,1
1,1,1,1,1
1,1,0,1,1
"""


def make_matrix() -> migration.ResponseMatrix:
    truth = binning.RectilinearBinning(["x_truth", "y_truth"], [[0, 1, 2], [0, 1, 2]])
    reco = binning.RectilinearBinning(["x_reco", "y_reco"], [[0, 1, 2], [0, 1, 2]])
    return migration.ResponseMatrix(reco, truth)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "example.csv"
    path.write_text(CSV)
    return str(path)


@pytest.fixture
def rm(csv_file):
    m = make_matrix()
    m.fill_from_csv_file(csv_file, weightfield="w")
    return m


def test_truth_content(rm):
    assert_array_equal(rm.get_truth_entries_as_ndarray(), [2, 3, 2, 2])
    assert_array_equal(rm.get_truth_values_as_ndarray(), [2, 4, 2, 2])
    assert_array_equal(rm.filled_truth_indices, [0, 1, 2, 3])
    assert rm.filled_truth_indices.dtype == np.int64


def test_raw_matrix(rm):
    assert_allclose(
        rm.get_response_matrix_as_ndarray(),
        [[0, 0.25, 0, 0], [0, 0.25, 0, 0.5], [0, 0, 0.5, 0], [0, 0, 0.5, 0.5]],
        rtol=0,
        atol=1e-15,
    )


def test_backend_parameters(rm):
    beta1, beta2, alpha, mu, sigma = rm._get_stat_error_parameters()
    assert_array_equal(beta1, [1, 3, 3, 3])
    assert_array_equal(beta2, [3, 2, 1, 1])
    assert_array_equal(alpha, [[1, 2, 1, 1], [1, 2, 1, 2], [1, 1, 2, 1], [1, 1, 2, 2]])
    expected_mu = np.ones((5, 4))
    expected_mu[2:, 1] = 4 / 3
    assert_allclose(mu, expected_mu, rtol=1e-15)
    expected_sigma = np.full((5, 4), 1e-50)
    expected_sigma[4, 1] = 0.216506
    assert_allclose(sigma, expected_sigma, rtol=1e-5)


def test_mean_variance_in_bin_variation(rm):
    assert_allclose(
        rm.get_mean_response_matrix_as_ndarray(),
        [
            [0.0625, 0.15, 0.125, 0.125],
            [0.0625, 0.15, 0.125, 0.25],
            [0.0625, 0.1, 0.25, 0.125],
            [0.0625, 0.1, 0.25, 0.25],
        ],
        rtol=1e-12,
    )
    assert_allclose(
        np.diag(rm.get_statistical_variance_as_ndarray()),
        [0.0046875, 0.00952183, 0.02202381, 0.02202381],
        rtol=1e-6,
    )
    assert_allclose(
        np.diag(rm.get_in_bin_variation_as_ndarray()),
        [0.7340425, 0.7340425, 1.1472384, 0.8583145],
        rtol=1e-6,
    )


def test_empty_matrix_mean():
    assert_allclose(make_matrix().get_mean_response_matrix_as_ndarray(), np.full((4, 4), 0.125))


def test_export_defaults(rm, tmp_path):
    rm.export(tmp_path / "resp")
    with np.load(tmp_path / "resp.npz") as f:
        assert sorted(f.files) == ["is_sparse", "matrices", "sparse_indices", "truth_entries"]
        assert f["matrices"].shape == (1, 4, 4)
        assert_allclose(f["matrices"][0], rm.get_mean_response_matrix_as_ndarray())
        assert_array_equal(f["truth_entries"], [2, 3, 2, 2])
        assert_array_equal(f["sparse_indices"], [0, 1, 2, 3])
        assert f["is_sparse"].shape == ()
        assert bool(f["is_sparse"]) is True


def test_builder(rm):
    builder = migration.ResponseMatrixArrayBuilder(2)
    builder.add_matrix(rm, 1.0)
    rm.fill({"x_reco": 1, "y_reco": 0, "x_truth": 1, "y_truth": 0})
    builder.add_matrix(rm, 0.5)
    M, w = builder.get_random_response_matrices_as_ndarray()
    assert M.shape == (4, 4, 4)
    assert_array_equal(w, [1, 1, 0.5, 0.5])
    assert_array_equal(builder.get_truth_entries_as_ndarray(), [2, 3, 3, 2])


# Further values of the same example, obtained by running remu 0.8.0 as a black box.


def test_full_in_bin_variation(rm):
    assert_allclose(
        rm.get_in_bin_variation_as_ndarray(),
        [
            [0.7340424983, 0.7340424983, 0.4809132282, 0.1696164508],
            [0.7340424983, 0.7340424983, 0.6756639247, 0.6756639247],
            [1.1472384185, 0.3263320736, 1.1472384185, 0.6756639247],
            [1.1472384185, 0.8583144727, 1.1472384185, 0.8583144727],
        ],
        rtol=1e-9,
    )
    assert_allclose(
        rm.get_in_bin_variation_as_ndarray(normalize=False),
        [
            [0.0875, 0.0875, 0.0625, 0.025],
            [0.0875, 0.1, 0.125, 0.125],
            [0.1875, 0.0375, 0.1875, 0.125],
            [0.1875, 0.15, 0.1875, 0.15],
        ],
        rtol=1e-12,
    )
    sub = rm.get_in_bin_variation_as_ndarray(shape=8, truth_indices=[1, 3])
    assert_allclose(sub, rm.get_in_bin_variation_as_ndarray()[:, [1, 3]].ravel())


def test_nuisance_and_impossible_overrides(rm):
    mean = rm.get_mean_response_matrix_as_ndarray(nuisance_indices=[1], impossible_indices=[0])
    assert_allclose(
        mean,
        [
            [8.3333333333e-52, 1.875e-51, 1.5e-51, 1.5e-51],
            [8.3333333333e-02, 3.75e-01, 1.5e-01, 3.0e-01],
            [8.3333333333e-02, 2.5e-01, 3.0e-01, 1.5e-01],
            [8.3333333333e-02, 2.5e-01, 3.0e-01, 3.0e-01],
        ],
        rtol=1e-9,
    )
    sel = rm.get_mean_response_matrix_as_ndarray(truth_indices=[1, 3], nuisance_indices=[3])
    assert_allclose(
        sel,
        [[0.15, 1 / 6], [0.15, 1 / 3], [0.1, 1 / 6], [0.1, 1 / 3]],
        rtol=1e-9,
    )
    # the object's own lists are untouched by overrides
    assert rm.nuisance_indices == []
    assert rm.impossible_indices == []
