"""ResponseMatrixPredictor: the reference's exported archives and malformed files."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu._likelihood.predictors import (
    FixedParameterMatrixPredictor,
    MatrixPredictor,
    ResponseMatrixPredictor,
)
from remu.errors import FileFormatError

EPS = np.finfo(float).eps

# (folder, n_systematics, n_reco, n_truth) of the archives written by the reference examples.
REFERENCE_ARCHIVES = [("01", 1, 8, 120), ("03", 100, 8, 120), ("05", 100, 8, 169)]


@pytest.mark.shared
@pytest.mark.parametrize(("folder", "n_syst", "n_reco", "n_truth"), REFERENCE_ARCHIVES)
def test_reference_archives(shared_data, folder, n_syst, n_reco, n_truth):
    path = shared_data / "upstream-examples" / folder / "response_matrix.npz"
    predictor = ResponseMatrixPredictor(path)
    with np.load(path) as raw:
        matrices = raw["matrices"]
        truth = raw["truth_entries"]
        weights = raw["weights"] if "weights" in raw.files else np.ones(1)
        sparse = raw["sparse_indices"]
    assert predictor.matrices.shape == (n_syst, n_reco, len(sparse))
    assert predictor.bounds.shape == (n_truth, 2)
    assert_array_equal(predictor.bounds[:, 0], 0.0)
    assert_array_equal(predictor.bounds[:, 1], truth + EPS)
    assert_array_equal(predictor.defaults, truth / 2.0)
    pred, w = predictor(predictor.defaults)
    assert pred.shape == (n_syst, n_reco)
    assert w.shape == (n_syst,)
    expected = np.einsum("srk,k->sr", matrices, (truth / 2.0)[sparse])
    assert_allclose(pred, expected, rtol=1e-12)
    assert_allclose(w, np.broadcast_to(weights, (n_syst,)))
    # A batch of parameter points, every systematic in one call.
    rng = np.random.default_rng(3)
    batch = rng.uniform(0, 1, size=(4, 5, n_truth)) * truth
    pred, w = predictor(batch)
    assert pred.shape == (4, 5, n_syst, n_reco)
    assert_allclose(pred, np.einsum("srk,...k->...sr", matrices, batch[..., sparse]), rtol=1e-12)
    # Fixing parameters (works on the sparse form too).
    fix = [None] * n_truth
    fix[0] = 3.0
    fixed = predictor.fix_parameters(fix)
    assert isinstance(fixed, FixedParameterMatrixPredictor)
    full = batch.copy()
    full[..., 0] = 3.0
    assert_allclose(fixed(batch[..., 1:])[0], predictor(full)[0], rtol=1e-10, atol=1e-12)
    # File objects work as well, and the predictor pickles.
    with path.open("rb") as handle:
        from_handle = ResponseMatrixPredictor(handle)
    assert_allclose(from_handle.matrices, predictor.matrices)
    clone = pickle.loads(pickle.dumps(predictor))
    assert_allclose(clone(predictor.defaults)[0], predictor(predictor.defaults)[0])


def archive(**arrays) -> io.BytesIO:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    return buffer


def test_worked_sparse_example():
    R = ResponseMatrixPredictor(
        archive(
            matrices=np.full((1, 2, 2), 0.5),
            truth_entries=np.array([10, 0, 20]),
            sparse_indices=np.array([0, 2]),
            is_sparse=np.array(True),
        )
    )
    assert_array_equal(R.bounds, [[0, 10 + EPS], [0, EPS], [0, 20 + EPS]])
    assert_array_equal(R.defaults, [5, 0, 10])
    assert_allclose(R([1.0, 1000.0, 2.0])[0], [[1.5, 1.5]])


def test_dense_archive_with_weights(tmp_path):
    matrices = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4) / 100.0
    path = tmp_path / "dense.npz"
    np.savez(path, matrices=matrices, truth_entries=np.array([1, 2, 3, 4]), weights=[1.0, 0.5])
    R = ResponseMatrixPredictor(str(path))
    assert R.sparse_indices == slice(None)
    pred, w = R([1.0, 0.0, 0.0, 0.0])
    assert_allclose(pred, matrices[:, :, 0])
    assert_allclose(w, [1.0, 0.5])
    assert_allclose(R([1.0, 0.0, 0.0, 0.0], systematics_index=1)[0], matrices[1, :, 0])


def test_empty_sparse_export():
    R = ResponseMatrixPredictor(
        archive(
            matrices=np.zeros((1, 4, 0)),
            truth_entries=np.zeros(4, dtype=int),
            sparse_indices=np.array([], dtype=int),
            is_sparse=np.array(True),
        )
    )
    pred, _ = R([1.0, 0.0, 0.0, 0.0])
    assert pred.shape == (1, 4)
    assert pred[0, 0] == 0.0


def test_builder_like_archive():
    weights = np.linspace(1.0, 0.5, 10)
    R = ResponseMatrixPredictor(
        archive(
            matrices=np.full((10, 4, 4), 0.25),
            weights=weights,
            truth_entries=np.array([2, 3, 3, 2]),
            sparse_indices=np.arange(4),
            is_sparse=np.array(True),
        )
    )
    pred, w = R(R.defaults)
    assert pred.shape == (10, 4)
    assert_allclose(w, weights)
    assert isinstance(R, MatrixPredictor)


# --- malformed files -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["matrices", "truth_entries"])
def test_missing_key_names_key_and_file(tmp_path, key):
    arrays = {"matrices": np.full((1, 2, 2), 0.5), "truth_entries": np.array([1, 1])}
    del arrays[key]
    path = tmp_path / "incomplete.npz"
    np.savez(path, **arrays)
    with pytest.raises(KeyError, match=f"no array '{key}'.*found") as info:
        ResponseMatrixPredictor(path)
    assert "incomplete.npz" in str(info.value)
    assert isinstance(info.value, FileFormatError)


def test_missing_sparse_indices(tmp_path):
    path = tmp_path / "sparse.npz"
    np.savez(path, matrices=np.full((1, 2, 2), 0.5), truth_entries=[1, 1], is_sparse=True)
    with pytest.raises(KeyError, match="sparse_indices"):
        ResponseMatrixPredictor(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ResponseMatrixPredictor(tmp_path / "nope.npz")


def test_not_an_archive(tmp_path):
    text = tmp_path / "text.npz"
    text.write_text("this is not a zip file")
    with pytest.raises(FileFormatError, match=r"text\.npz"):
        ResponseMatrixPredictor(text)
    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(FileFormatError, match="single array"):
        ResponseMatrixPredictor(single)


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"matrices": np.full((1, 2, 3), 0.5), "truth_entries": [1, 1]}, "3 columns"),
        ({"matrices": np.full((1, 1, 2, 2), 0.5), "truth_entries": [1, 1]}, "must be 3-D"),
        ({"matrices": np.full((1, 2, 2), 0.5), "truth_entries": [[1, 1]]}, "1-D"),
        (
            {
                "matrices": np.full((1, 2, 2), 0.5),
                "truth_entries": [1, 1, 1],
                "sparse_indices": [0, 3],
                "is_sparse": True,
            },
            "sparse_indices",
        ),
        (
            {
                "matrices": np.full((2, 2, 2), 0.5),
                "truth_entries": [1, 1],
                "weights": [1.0, 2.0, 3.0],
            },
            "weights",
        ),
    ],
)
def test_inconsistent_arrays(arrays, match):
    with pytest.raises(FileFormatError, match=match):
        ResponseMatrixPredictor(archive(**arrays))
