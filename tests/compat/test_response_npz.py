"""Response-matrix files written by remu 0.8.0 load, mean what their layout says, and ours match."""

from __future__ import annotations

import io

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from remu._formats.npz_response import load_response_npz, write_response_npz
from remu.errors import FileFormatError

pytestmark = pytest.mark.shared

#: reference files: (relative path, written by the builder?, n_toys, N_reco, N_truth)
FILES = [
    ("upstream-examples/01/response_matrix.npz", False, 1, 8, 120),
    ("upstream-examples/03/response_matrix.npz", True, 100, 8, 120),
    ("upstream-examples/05/response_matrix.npz", True, 100, 8, 169),
]


def test_every_reference_file_is_covered(shared_data):
    found = sorted(
        str(p.relative_to(shared_data)) for p in shared_data.rglob("response_matrix.npz")
    )
    assert found == sorted(f[0] for f in FILES)


@pytest.mark.parametrize(("path", "builder", "n_toys", "n_reco", "n_truth"), FILES)
def test_reference_file_layout(shared_data, path, builder, n_toys, n_reco, n_truth):
    with np.load(shared_data / path) as raw:
        keys = set(raw.files)
        dtypes = {k: raw[k].dtype for k in raw.files}
        shapes = {k: raw[k].shape for k in raw.files}
    expected = {"matrices", "truth_entries", "sparse_indices", "is_sparse"}
    if builder:
        expected.add("weights")
    assert keys == expected
    assert dtypes["matrices"] == np.float64
    assert dtypes["truth_entries"] == np.int64
    assert dtypes["sparse_indices"] == np.int64
    assert dtypes["is_sparse"] == np.bool_
    assert shapes["is_sparse"] == ()
    n_cols = shapes["sparse_indices"][0]
    assert shapes["matrices"] == (n_toys, n_reco, n_cols)
    assert shapes["truth_entries"] == (n_truth,)
    if builder:
        assert dtypes["weights"] == np.float64
        assert shapes["weights"] == (n_toys,)


@pytest.mark.parametrize(("path", "builder", "n_toys"), [f[:3] for f in FILES])
def test_reference_file_meaning(shared_data, path, builder, n_toys):
    data = load_response_npz(shared_data / path)  # validates probabilities too
    M = data.matrices
    te = data.truth_entries
    assert data.is_sparse is True
    # columns are the truth bins with entries, in order
    assert_array_equal(data.sparse_indices, np.flatnonzero(te))
    # probabilities; a column sums to the efficiency of its truth bin, at most 1
    assert M.min() >= 0
    eff = M.sum(axis=1)
    assert eff.max() <= 1 + 1e-12
    assert eff.min() > 0
    if builder:
        assert_array_equal(data.weights, np.ones(n_toys))
        # toys scatter: the efficiencies of one truth bin differ between toys
        assert np.all(eff.std(axis=0) > 0)
    else:
        assert data.weights is None
        # the posterior mean has the smearing prior in every element: no zeros
        assert M.min() > 0
        # and an efficiency strictly below 1 (flat Beta prior), no nuisance bins
        assert eff.max() < 1


def test_nuisance_bin_of_example_05(shared_data):
    # truth bin 0 of example 05 is the noise nuisance bin: efficiency 1 in the
    # variation(s) with the largest noise count, N_t / max_t N_t in the others
    data = load_response_npz(shared_data / "upstream-examples/05/response_matrix.npz")
    eff0 = data.matrices[:, :, 0].sum(axis=1)
    assert eff0.max() == pytest.approx(1.0, abs=1e-12)
    assert eff0.min() > 0.5


def test_reference_01_and_03_share_truth_entries(shared_data):
    a = load_response_npz(shared_data / "upstream-examples/01/response_matrix.npz")
    b = load_response_npz(shared_data / "upstream-examples/03/response_matrix.npz")
    # both are built on the optimised truth binning of step 01
    assert a.truth_entries.shape == b.truth_entries.shape


@pytest.mark.parametrize("path", [f[0] for f in FILES])
def test_our_writer_reproduces_layout(shared_data, tmp_path, path):
    ref = load_response_npz(shared_data / path)
    out = tmp_path / "ours"  # .npz is appended, as numpy does
    write_response_npz(
        out,
        matrices=ref.matrices,
        truth_entries=ref.truth_entries,
        sparse_indices=ref.sparse_indices,
        weights=ref.weights,
    )
    with np.load(shared_data / path) as a, np.load(tmp_path / "ours.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            assert a[key].dtype == b[key].dtype, key
            assert a[key].shape == b[key].shape, key
            assert_array_equal(a[key], b[key])


def _npz_bytes(**arrays) -> io.BytesIO:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    return buf


GOOD = {
    "matrices": np.full((2, 3, 2), 0.25),
    "truth_entries": np.array([1, 0, 4]),
    "sparse_indices": np.array([0, 2]),
    "is_sparse": np.array(True),
}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"matrices": None}, "'matrices'"),
        ({"truth_entries": None}, "'truth_entries'"),
        ({"matrices": np.full((3, 2), 0.25)}, "'matrices'"),
        ({"truth_entries": np.ones((3, 1), dtype=int)}, "'truth_entries'"),
        ({"truth_entries": np.ones(3)}, "'truth_entries'"),
        ({"sparse_indices": None}, "'sparse_indices'"),
        ({"sparse_indices": np.array([0, 3])}, "'sparse_indices'"),
        ({"sparse_indices": np.array([2, 0])}, "'sparse_indices'"),
        ({"sparse_indices": np.array([0, 1, 2])}, "'sparse_indices'"),
        ({"is_sparse": np.array([True])}, "'is_sparse'"),
        ({"weights": np.ones(3)}, "'weights'"),
        ({"matrices": np.full((2, 3, 2), 0.5)}, "'matrices'"),
        ({"matrices": np.full((2, 3, 2), -0.1)}, "'matrices'"),
        ({"matrices": np.full((2, 3, 2), np.nan)}, "'matrices'"),
        ({"truth_entries": np.array([1, -1, 4])}, "'truth_entries'"),
        ({"is_sparse": np.array(False)}, "'matrices'"),  # 2 columns but 3 truth bins
    ],
)
def test_bad_files_name_the_key(change, key):
    arrays = {**GOOD, **change}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with pytest.raises(FileFormatError, match=key):
        load_response_npz(_npz_bytes(**arrays))


def test_bad_file_names_the_file(tmp_path):
    path = tmp_path / "broken.npz"
    np.savez(path, matrices=np.zeros((1, 2, 2)))
    with pytest.raises(FileFormatError, match=r"broken\.npz.*'truth_entries'"):
        load_response_npz(path)
    not_npz = tmp_path / "text.npz"
    not_npz.write_text("hello")
    with pytest.raises(FileFormatError, match=r"text\.npz"):
        load_response_npz(not_npz)
    with pytest.raises(FileNotFoundError):
        load_response_npz(tmp_path / "missing.npz")


def test_good_file_defaults():
    d = load_response_npz(_npz_bytes(**GOOD))
    assert d.weights is None
    assert_array_equal(d.weights_or_ones(), [1.0, 1.0])
    dense = load_response_npz(
        _npz_bytes(matrices=np.full((1, 2, 3), 0.1), truth_entries=np.array([1, 2, 3]))
    )
    assert dense.is_sparse is False
    assert_array_equal(dense.sparse_indices, [0, 1, 2])
