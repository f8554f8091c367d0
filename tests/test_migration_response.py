"""ResponseMatrix: filling, accessors, consistency checks, combination, export, errors."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from extras import require
from numeric_asserts import assert_allclose
from remu import binning, migration
from remu.errors import MissingVariableError


def linear_matrix(n_reco=3, n_truth=2, **kwargs) -> migration.ResponseMatrix:
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 3.0, n_reco + 1))
    truth = binning.LinearBinning("true_x", np.linspace(0.0, 3.0, n_truth + 1))
    return migration.ResponseMatrix(reco, truth, **kwargs)


EVENTS = [
    {"true_x": 0.2, "reco_x": 0.4},
    {"true_x": 2.0, "reco_x": 2.5},
    {"true_x": 2.2, "reco_x": np.nan},
]


def test_worked_usage_example():
    resp = linear_matrix()
    resp.fill(EVENTS)
    assert_array_equal(resp.get_truth_entries_as_ndarray(), [1, 2])
    resp.fill_up_truth([{"true_x": 0.2, "reco_x": np.nan}, {"true_x": 0.3, "reco_x": np.nan}])
    assert_array_equal(resp.get_truth_entries_as_ndarray(), [2, 2])
    assert_array_equal(resp.get_reco_entries_as_ndarray(), [1, 0, 1])
    raw = resp.get_response_matrix_as_ndarray()
    assert raw.shape == (3, 2)
    assert_allclose(raw, [[0.5, 0], [0, 0], [0, 0.5]])
    assert resp.get_mean_response_matrix_as_ndarray().shape == (3, 2)
    assert resp.get_statistical_variance_as_ndarray().shape == (3, 2)
    assert resp.generate_random_response_matrices(size=100, rng=1).shape == (100, 3, 2)


def test_binnings_kept_by_reference_and_response_starts_empty():
    reco = binning.LinearBinning("reco_x", [0.0, 1.0, 2.0, 3.0])
    truth = binning.LinearBinning("true_x", [0.0, 1.5, 3.0])
    truth.fill({"true_x": 1.0})
    resp = migration.ResponseMatrix(reco, truth)
    assert resp.truth_binning is truth
    assert resp.reco_binning is reco
    assert resp.get_response_values_as_ndarray().sum() == 0
    assert_array_equal(resp.filled_truth_indices, [0])
    resp.fill(EVENTS)
    assert_array_equal(truth.get_entries_as_ndarray(), [2, 2])
    assert resp.response_binning.bins_shape == (3, 2)


def test_indices_stored_as_given():
    nuis = [1]
    resp = linear_matrix(nuisance_indices=nuis)
    assert resp.nuisance_indices is nuis
    assert resp.impossible_indices == []


def test_response_layout_reco_major():
    resp = linear_matrix()
    resp.fill({"true_x": 2.0, "reco_x": 0.5})  # reco 0, truth 1
    values = resp.get_response_values_as_ndarray()
    assert values.shape == (6,)
    assert values[0 * 2 + 1] == 1.0
    assert resp.get_response_values_as_ndarray(shape=(3, 2))[0, 1] == 1.0
    assert resp.get_response_entries_as_ndarray().dtype == np.int64


def test_fill_with_weights_structured_and_dataframe():
    pd = require("pandas", "pandas")
    events = np.array(
        [(0.2, 0.4, 2.0), (2.0, 2.5, 3.0)],
        dtype=[("true_x", float), ("reco_x", float), ("w", float)],
    )
    a = linear_matrix()
    a.fill(events, weight=events["w"])
    b = linear_matrix()
    b.fill(pd.DataFrame(events), weight=events["w"])
    for m in (a, b):
        assert_array_equal(m.get_truth_values_as_ndarray(), [2.0, 3.0])
        assert_array_equal(m.get_truth_sumw2_as_ndarray(), [4.0, 9.0])
        assert_array_equal(m.get_response_values_as_ndarray(shape=(3, 2)), [[2, 0], [0, 0], [0, 3]])


@pytest.mark.parametrize(
    ("event", "missing"),
    [
        ({"true_x": 1.0}, "reco_x"),
        ({"reco_x": 1.0}, "true_x"),
        ([{"true_x": 1.0, "reco_x": 1.0}, {"true_x": 1.0}], "reco_x"),
        (np.array([(1.0,)], dtype=[("true_x", float)]), "reco_x"),
    ],
)
def test_missing_variable_named_and_nothing_filled(event, missing):
    resp = linear_matrix()
    with pytest.raises(KeyError, match=missing) as info:
        resp.fill(event)
    assert isinstance(info.value, MissingVariableError)
    assert resp.get_truth_entries_as_ndarray().sum() == 0
    assert resp.get_reco_entries_as_ndarray().sum() == 0


def test_missing_variable_dataframe_and_rename():
    pd = require("pandas", "pandas")
    resp = linear_matrix()
    with pytest.raises(KeyError, match="true_x"):
        resp.fill(pd.DataFrame({"t": [1.0], "reco_x": [1.0]}))
    resp.fill(pd.DataFrame({"t": [1.0], "reco_x": [1.0]}), rename={"t": "true_x"})
    assert resp.get_truth_entries_as_ndarray().sum() == 1


def test_wrong_binning_types():
    lb = binning.LinearBinning("x", [0, 1])
    with pytest.raises(TypeError, match="reco_binning"):
        migration.ResponseMatrix([0, 1], lb)
    with pytest.raises(TypeError, match="truth_binning"):
        migration.ResponseMatrix(lb, None)
    wrong = binning.LinearBinning("y", [0, 1, 2, 3])
    with pytest.raises(ValueError, match="response_binning"):
        migration.ResponseMatrix(lb, lb.clone(), response_binning=wrong)


def test_setters_validate_and_only_truth_entries_refresh():
    resp = linear_matrix()
    resp.set_truth_values_from_ndarray([1.0, 2.0])
    resp.set_response_entries_from_ndarray(np.ones((3, 2), dtype=int))
    assert_array_equal(resp.filled_truth_indices, [])
    resp.set_truth_entries_from_ndarray([0, 3])
    assert_array_equal(resp.filled_truth_indices, [1])
    with pytest.raises(ValueError, match="truth values needs 2 elements"):
        resp.set_truth_values_from_ndarray([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="response entries"):
        resp.set_response_entries_from_ndarray(np.ones(5, dtype=int))
    with pytest.raises(ValueError, match="negative"):
        resp.set_reco_entries_from_ndarray([0, -1, 0])
    with pytest.raises(ValueError, match="negative"):
        resp.set_truth_entries_from_ndarray([-2, 1])


def test_indices_out_of_range():
    resp = linear_matrix()
    resp.fill(EVENTS)
    for call in (
        lambda: resp.get_response_matrix_as_ndarray(truth_indices=[0, 2]),
        lambda: resp.get_mean_response_matrix_as_ndarray(truth_indices=[5]),
        lambda: resp.get_mean_response_matrix_as_ndarray(nuisance_indices=[2]),
        lambda: resp.get_statistical_variance_as_ndarray(impossible_indices=[3]),
        lambda: resp.generate_random_response_matrices(2, truth_indices=[-3]),
    ):
        with pytest.raises(IndexError, match="out of range") as info:
            call()
        assert isinstance(info.value, ValueError)
    # negative indices inside the range work as NumPy indices
    assert_allclose(
        resp.get_response_matrix_as_ndarray(truth_indices=[-1]),
        resp.get_response_matrix_as_ndarray()[:, [1]],
    )


def test_expected_weight_must_be_positive():
    with pytest.raises(ValueError, match="expected_weight"):
        linear_matrix().get_mean_response_matrix_as_ndarray(expected_weight=0.0)


def test_unknown_keyword_is_type_error():
    with pytest.raises(TypeError):
        linear_matrix().get_mean_response_matrix_as_ndarray(foo=1)


def test_raw_matrix_folds_truth_to_reco():
    rng = np.random.default_rng(4)
    n = 500
    t = rng.uniform(0, 3, n)
    r = np.where(rng.random(n) < 0.7, t + rng.normal(0, 0.4, n), np.nan)
    w = rng.uniform(0.5, 2, n)
    ev = np.rec.fromarrays([t, r], names="true_x,reco_x")
    resp = linear_matrix(4, 3)
    resp.fill(ev, weight=w)
    M = resp.get_response_matrix_as_ndarray()
    # events reconstructed outside [0, 3) are lost, so this is consistent
    assert_allclose(M @ resp.get_truth_values_as_ndarray(), resp.get_reco_values_as_ndarray())
    assert M.shape == (4, 3)
    assert resp.get_response_matrix_as_ndarray(shape=12).shape == (12,)


def test_empty_column_and_column_normalisation():
    resp = linear_matrix()
    resp.set_truth_values_from_ndarray([0.0, 1.0])
    resp.set_response_values_from_ndarray([[0, 1.0], [0, 1.0], [0, 0.0]])
    M = resp.get_response_matrix_as_ndarray()
    assert_array_equal(M[:, 0], 0)
    assert_allclose(M[:, 1], [0.5, 0.5, 0])


def test_fix_rounding_errors_from_csv(tmp_path):
    path = tmp_path / "ev.csv"
    path.write_text("true_x,reco_x,w\n0.5,0.5,1.0\n1.0,1.2,-3.0\n")
    resp = linear_matrix()
    with pytest.raises(RuntimeError, match="Negative true weight"):
        resp.fill_from_csv_file(str(path), weightfield="w")
    resp = linear_matrix()
    resp.set_truth_values_from_ndarray([1.0 - 1e-12, 0.0])
    resp.set_response_values_from_ndarray([[1.0, 0], [0, 0], [0, 0]])
    resp._fix_rounding_errors()
    assert resp.get_truth_values_as_ndarray()[0] == 1.0
    resp.set_truth_values_from_ndarray([0.5, 0.0])
    with pytest.raises(RuntimeError, match="Higher total reconstructed"):
        resp._fix_rounding_errors()


def test_fill_up_truth_from_csv(tmp_path):
    reco_csv = tmp_path / "reco.csv"
    reco_csv.write_text("true_x,reco_x\n0.5,0.5\n2.0,2.5\n")
    truth_csv = tmp_path / "truth.csv"
    truth_csv.write_text("true_x\n0.5\n0.6\n0.7\n")
    resp = linear_matrix()
    resp.fill_from_csv_file(str(reco_csv))
    resp.fill_up_truth_from_csv_file(str(truth_csv))
    # bin 0 grows to 3 events; bin 1 is not in the truth file and is kept
    assert_array_equal(resp.get_truth_entries_as_ndarray(), [3, 1])
    assert_allclose(resp.get_response_matrix_as_ndarray()[:, 0], [1 / 3, 0, 0])


def test_fill_up_truth_warnings_and_negative():
    resp = linear_matrix()
    resp.fill([{"true_x": 0.5, "reco_x": 0.5}, {"true_x": 0.6, "reco_x": 0.5}])
    with pytest.warns(UserWarning, match="less than the original") as record:
        resp.fill_up_truth({"true_x": 0.5})
    messages = [str(w.message) for w in record]
    assert any("values are less than the original filling in 1 bins" in m for m in messages)
    assert any("entries are less than the original filling in 1 bins" in m for m in messages)
    assert_array_equal(resp.get_truth_entries_as_ndarray(), [2, 0])  # kept
    with pytest.raises(RuntimeError, match="negative in 1 bins"):
        resp.fill_up_truth({"true_x": 0.5}, weight=-1.0)


def test_reset_keeps_indices():
    resp = linear_matrix(nuisance_indices=[1], impossible_indices=[2])
    resp.fill(EVENTS)
    resp.reset()
    assert resp.get_truth_entries_as_ndarray().sum() == 0
    assert resp.get_response_sumw2_as_ndarray().sum() == 0
    assert resp.filled_truth_indices.size == 0
    assert resp.nuisance_indices == [1]
    assert resp.impossible_indices == [2]


def test_add_equals_filling_both():
    a, b, both = linear_matrix(nuisance_indices=[0]), linear_matrix(), linear_matrix()
    a.fill(EVENTS[:2])
    b.fill(EVENTS[2:])
    both.fill(EVENTS)
    c = a + b
    for get in ("values", "entries", "sumw2"):
        for hist in ("truth", "reco", "response"):
            name = f"get_{hist}_{get}_as_ndarray"
            assert_array_equal(getattr(c, name)(), getattr(both, name)())
    assert c.nuisance_indices == [0]
    assert_array_equal(c.filled_truth_indices, [0, 1])
    assert a.get_truth_entries_as_ndarray().sum() == 2  # operands unchanged
    with pytest.raises(TypeError):
        sum([a, b])


def test_clone_is_independent():
    a = linear_matrix(nuisance_indices=[1])
    a.fill(EVENTS)
    c = a.clone()
    assert c.nuisance_indices == [1]
    assert c.nuisance_indices is not a.nuisance_indices
    assert_array_equal(c.get_response_values_as_ndarray(), a.get_response_values_as_ndarray())
    c.fill(EVENTS)
    assert a.get_truth_entries_as_ndarray().sum() == 3
    assert c.get_truth_entries_as_ndarray().sum() == 6


def test_toys_reproducible_with_global_seed_and_rng():
    resp = linear_matrix()
    resp.fill(EVENTS)
    np.random.seed(5)
    a = resp.generate_random_response_matrices(4)
    np.random.seed(5)
    b = resp.generate_random_response_matrices(4)
    assert_array_equal(a, b)
    assert_array_equal(
        resp.generate_random_response_matrices(3, rng=9),
        resp.generate_random_response_matrices(3, rng=9),
    )
    assert resp.generate_random_response_matrices(rng=1).shape == (3, 2)
    assert resp.generate_random_response_matrices((2, 3), shape=(2, 3), rng=1).shape == (
        2,
        3,
        2,
        3,
    )
    sub = resp.generate_random_response_matrices(5, truth_indices=[1], rng=1)
    assert sub.shape == (5, 3, 1)


def test_toys_match_mean_and_variance():
    resp = linear_matrix(4, 3)
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 3, 300)
    r = np.where(rng.random(300) < 0.6, t + rng.normal(0, 0.5, 300), np.nan)
    resp.fill(np.rec.fromarrays([t, r], names="true_x,reco_x"))
    toys = resp.generate_random_response_matrices(20000, rng=2)
    mean = resp.get_mean_response_matrix_as_ndarray()
    var = resp.get_statistical_variance_as_ndarray()
    assert_allclose(toys.mean(axis=0), mean, atol=5 * np.sqrt(var.max() / 20000))
    # the statistical variance omits var(eff) * var(p), a small positive term
    ratio = toys.var(axis=0) / var
    assert np.all(ratio > 0.93)
    assert np.all(ratio < 1.3)


def test_nuisance_column_sums_to_one():
    resp = linear_matrix(nuisance_indices=[1])
    resp.fill(EVENTS)
    mean = resp.get_mean_response_matrix_as_ndarray()
    assert mean[:, 1].sum() == pytest.approx(1.0, abs=1e-12)
    toys = resp.generate_random_response_matrices(50, rng=3)
    assert_allclose(toys[:, :, 1].sum(axis=-1), 1.0, rtol=1e-12)
    # translated to column positions when selecting truth bins
    sel = resp.get_mean_response_matrix_as_ndarray(truth_indices=[1])
    assert sel.sum() == pytest.approx(1.0, abs=1e-12)


def test_impossible_rows_are_zero():
    resp = linear_matrix(impossible_indices=[1])
    resp.fill(EVENTS)
    assert np.all(resp.get_mean_response_matrix_as_ndarray()[1] < 1e-40)
    assert np.all(resp.generate_random_response_matrices(20, rng=1)[:, 1] < 1e-40)


def test_in_bin_variation_needs_neighbours():
    reco = binning.LinearBinning("reco_x", [0.0, 1.0])
    truth = binning.LinearBinning("true_x", [0.0, 1.0])
    with pytest.raises(ValueError, match="no adjacent"):
        migration.ResponseMatrix(reco, truth).get_in_bin_variation_as_ndarray()


def test_export_variants(tmp_path):
    resp = linear_matrix()
    resp.fill(EVENTS[:2])
    resp.export(tmp_path / "a.npz", nstat=7, sparse=False, compress=True, rng=1)
    with np.load(tmp_path / "a.npz") as f:
        assert sorted(f.files) == ["matrices", "truth_entries"]
        assert f["matrices"].shape == (7, 3, 2)
    buf = io.BytesIO()
    resp.reset()
    resp.export(buf)
    buf.seek(0)
    with np.load(buf) as f:
        assert f["matrices"].shape == (1, 3, 0)
        assert f["sparse_indices"].shape == (0,)


def test_export_is_atomic(tmp_path, monkeypatch):
    resp = linear_matrix()
    target = tmp_path / "resp.npz"
    target.write_bytes(b"old")

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        resp.export(target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resp.npz"]


def test_export_matches_reference_layout(shared_data, tmp_path):
    resp = linear_matrix()
    resp.fill(EVENTS)
    resp.export(tmp_path / "ours.npz")
    with (
        np.load(shared_data / "upstream-examples/01/response_matrix.npz") as ref,
        np.load(tmp_path / "ours.npz") as ours,
    ):
        assert sorted(ref.files) == sorted(ours.files)
        for key in ref.files:
            assert ref[key].dtype == ours[key].dtype
            assert ref[key].ndim == ours[key].ndim


event_lists = st.lists(
    st.tuples(
        st.floats(0, 2.999),
        st.one_of(st.floats(-0.5, 3.5), st.just(float("nan"))),
        st.floats(0.1, 3.0),
    ),
    max_size=40,
)


@given(event_lists)
def test_fill_invariants(events):
    resp = linear_matrix()
    if events:
        t, r, w = (np.array(c) for c in zip(*events, strict=True))
        resp.fill(np.rec.fromarrays([t, r], names="true_x,reco_x"), weight=w)
    resp_v = resp.get_response_values_as_ndarray(shape=(3, 2))
    truth_v = resp.get_truth_values_as_ndarray()
    # response columns never exceed the truth content; rows project to reco
    assert np.all(resp_v.sum(axis=0) <= truth_v + 1e-9)
    assert_allclose(resp_v.sum(axis=1), resp.get_reco_values_as_ndarray(), atol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean = resp.get_mean_response_matrix_as_ndarray()
        toys = resp.generate_random_response_matrices(3, rng=0)
    assert np.all(mean >= 0)
    assert np.all(mean.sum(axis=0) <= 1 + 1e-12)
    assert np.all((toys >= 0) & (toys <= 1 + 1e-12))
    assert np.all(toys.sum(axis=1) <= 1 + 1e-12)
    assert_array_equal(
        resp.filled_truth_indices, np.flatnonzero(resp.get_truth_entries_as_ndarray())
    )
