"""Linear predictors (einsum, matrix, template, fixed parameters) against plain NumPy."""

from __future__ import annotations

import pickle

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu._likelihood.predictors import (
    FixedParameterMatrixPredictor,
    FixedParameterPredictor,
    LinearEinsumPredictor,
    MatrixPredictor,
    Predictor,
    TemplatePredictor,
)

# Rounded so that products neither underflow nor lose all precision.
FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 6))


def index_forms(n_syst: int) -> st.SearchStrategy:
    """Every kind of systematics_index the API allows: full, int, slice, list."""
    return st.one_of(
        st.just(slice(None)),
        st.integers(-n_syst, n_syst - 1),
        st.builds(
            slice,
            st.integers(0, n_syst),
            st.integers(0, n_syst),
        ),
        st.lists(st.integers(0, n_syst - 1), min_size=1, max_size=4),
    )


@st.composite
def matrix_cases(draw):
    n_syst = draw(st.integers(1, 4))
    n_out = draw(st.integers(1, 4))
    n_par = draw(st.integers(1, 4))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    matrices = draw(hnp.arrays(float, (n_syst, n_out, n_par), elements=FLOATS))
    constants = draw(
        hnp.arrays(float, draw(st.sampled_from([(n_out,), (n_syst, n_out)])), elements=FLOATS)
    )
    weights = draw(hnp.arrays(float, (n_syst,), elements=st.floats(0.1, 5)))
    params = draw(hnp.arrays(float, (*batch, n_par), elements=FLOATS))
    index = draw(index_forms(n_syst))
    return matrices, constants, weights, params, index


def reference(matrices, constants, weights, params, index):
    """out[..., s, r] = sum_k M[s, r, k] p[..., k] + c[s, r], then the numpy index."""
    full = np.einsum("srk,...k->...sr", matrices, params) + constants
    w = np.broadcast_to(weights, full.shape[:-1])
    return full[..., index, :], w[..., index]


@given(matrix_cases())
def test_matrix_predictor_matches_einsum(case):
    matrices, constants, weights, params, index = case
    predictor = MatrixPredictor(matrices, constants, weights=weights)
    pred, w = predictor(params, systematics_index=index)
    ref_pred, ref_w = reference(matrices, constants, weights, params, index)
    assert pred.shape == ref_pred.shape
    assert w.shape == ref_w.shape
    assert_allclose(pred, ref_pred, rtol=1e-12, atol=1e-10)
    assert_allclose(w, ref_w)


@given(matrix_cases())
def test_linear_einsum_predictor_matches_einsum(case):
    matrices, constants, weights, params, index = case
    predictor = LinearEinsumPredictor(
        "ijk,...k->...ij",
        matrices,
        constants=constants,
        weights=weights,
        defaults=np.ones(matrices.shape[-1]),
    )
    pred, w = predictor(params, systematics_index=index)
    ref_pred, ref_w = reference(matrices, constants, weights, params, index)
    assert_allclose(pred, ref_pred, rtol=1e-12, atol=1e-10)
    assert_allclose(w, ref_w)


@given(matrix_cases())
def test_template_predictor_is_transposed_matrix(case):
    matrices, constants, weights, params, index = case
    templates = np.swapaxes(matrices, -1, -2)
    predictor = TemplatePredictor(templates, constants, weights=weights)
    pred, w = predictor(params, systematics_index=index)
    ref_pred, ref_w = reference(matrices, constants, weights, params, index)
    assert_allclose(pred, ref_pred, rtol=1e-12, atol=1e-10)
    assert_allclose(w, ref_w)
    assert_array_equal(predictor.bounds, [(0.0, np.inf)] * matrices.shape[-1])
    assert_array_equal(predictor.defaults, np.ones(matrices.shape[-1]))


@given(matrix_cases(), st.data())
def test_fixed_parameter_predictors_match_full_prediction(case, data):
    matrices, constants, weights, params, index = case
    n_par = matrices.shape[-1]
    mask = data.draw(st.lists(st.booleans(), min_size=n_par, max_size=n_par))
    fixed_values = data.draw(hnp.arrays(float, (n_par,), elements=FLOATS))
    fix = [v if m else None for v, m in zip(fixed_values, mask, strict=True)]
    full = np.where(mask, fixed_values, params)
    free = params[..., ~np.array(mask)]
    predictor = MatrixPredictor(matrices, constants, weights=weights)
    ref_pred, ref_w = reference(matrices, constants, weights, full, index)
    for wrapped in (
        FixedParameterPredictor(predictor, fix),
        FixedParameterMatrixPredictor(predictor, fix),
        predictor.fix_parameters(fix),
    ):
        pred, w = wrapped(free, systematics_index=index)
        assert_allclose(pred, ref_pred, rtol=1e-10, atol=1e-9)
        assert_allclose(w, ref_w)
        assert wrapped.bounds.shape == (n_par - sum(mask), 2)
        assert wrapped.defaults.shape == (n_par - sum(mask),)
        assert_array_equal(wrapped.insert_fixed_parameters(free), full)
    assert isinstance(predictor.fix_parameters(fix), FixedParameterMatrixPredictor)


# --- worked examples with hand-checked numbers ------------------------------------------


def test_linear_einsum_worked_examples():
    M = [[[1, 0], [0, 1]], [[0.9, 0], [0, 0.8]]]
    p = LinearEinsumPredictor("ijk,...k->...ij", M, defaults=[1, 1])
    pred, w = p([1.0, 2.0])
    assert_allclose(pred, [[1.0, 2.0], [0.9, 1.6]])
    assert_allclose(w, [1.0, 1.0])
    assert_allclose(p([1.0, 2.0], systematics_index=[1, 0])[0], [[0.9, 1.6], [1.0, 2.0]])

    q = LinearEinsumPredictor(
        "ijk,...kl->...ijl", M, constants=[0.01, 0.02, 0.03, 0.04], reshape_parameters=(2, 2)
    )
    pred, w = q([1, 2, 3, 4])
    assert_allclose(pred, [[1.01, 2.02, 3.03, 4.04], [0.91, 1.82, 2.43, 3.24]])
    assert_allclose(w, [1, 1])
    pred, w = q([[1, 2, 3, 4]] * 2)
    assert (pred.shape, w.shape) == ((2, 2, 4), (2, 2))
    pred, w = q([[1, 2, 3, 4]] * 5, systematics_index=1)
    assert (pred.shape, w.shape) == ((5, 4), (5,))
    assert_allclose(pred[0], [0.91, 1.82, 2.43, 3.24])

    e = LinearEinsumPredictor("ij,...j->...ij", [[1, 2, 3, 4]], reshape_parameters=(4,))
    pred, w = e([1.0, 1.0, 1.0, 1.0])
    assert_allclose(pred, [[1.0, 2.0, 3.0, 4.0]])
    assert_allclose(w, [1.0])


def test_flux_folding_example():
    rng = np.random.default_rng(1)
    n_syst, n_flux, n_truth = 3, 4, 5
    flux = rng.uniform(size=(n_syst, n_flux))
    xsec = rng.uniform(size=(n_truth, n_flux))
    events = LinearEinsumPredictor(
        "ij,...kj->...ik",
        flux,
        reshape_parameters=(n_truth, n_flux),
        bounds=[(0.0, np.inf)] * (n_truth * n_flux),
    )
    pred, w = events(xsec.ravel())
    assert_allclose(pred, flux @ xsec.T)
    assert w.shape == (n_syst,)
    assert events.bounds.shape == (n_truth * n_flux, 2)


def test_linear_einsum_needs_parameter_count():
    with pytest.raises(RuntimeError, match="At least on of"):
        LinearEinsumPredictor("ij,...j->...i", [[1.0]])


SPEC_P = {
    "matrices": [[[1.0, 0.0], [0.5, 1.0], [0.0, 1.0]]] * 2,
    "constants": [0.1, 0.2, 0.3],
    "weights": [1.0, 0.5],
}
SPEC_OUT = [[1.1, 10.7, 10.3], [1.1, 10.7, 10.3]]


def spec_matrix_predictor() -> MatrixPredictor:
    return MatrixPredictor(SPEC_P["matrices"], SPEC_P["constants"], weights=SPEC_P["weights"])


def test_matrix_predictor_worked_examples():
    P = spec_matrix_predictor()
    pred, w = P([1, 10])
    assert_allclose(pred, SPEC_OUT)
    assert_allclose(w, [1.0, 0.5])
    assert P([[1, 10]] * 5)[0].shape == (5, 2, 3)
    assert P([[1, 2]] * 5, systematics_index=1)[1].shape == (5,)
    assert_allclose(P.fix_parameters([None, 10])([1])[0], SPEC_OUT)
    assert P.coefficients is P.matrices
    assert P.subscripts == "ijk,...k->...ij"
    # Constants with 2 rows but 1 systematic broadcast (no validation upstream).
    pred, _ = MatrixPredictor(np.eye(2), [[1.0, 2.0], [3.0, 4.0]])([1.0, 1.0])
    assert_allclose(pred, [[2, 3], [4, 5]])


def test_matrix_predictor_promotes_to_3d():
    assert MatrixPredictor([[1.0, 2.0]]).matrices.shape == (1, 1, 2)
    assert MatrixPredictor([1.0, 2.0]).matrices.shape == (1, 1, 2)
    assert_allclose(MatrixPredictor([1.0, 2.0])([1.0, 1.0])[0], [[3.0]])


def test_template_predictor_worked_examples():
    pred, w = TemplatePredictor([[1.0, 2.0, 3.0]])([2.0])
    assert_allclose(pred, [[2.0, 4.0, 6.0]])
    assert_allclose(w, [1.0])
    T = TemplatePredictor(
        [[[1.0, 0.5, 0.0], [0.0, 1.0, 1.0]]] * 2, constants=[0.1, 0.2, 0.3], weights=[1.0, 0.5]
    )
    pred, w = T([1, 10])
    assert_allclose(pred, SPEC_OUT)
    assert_allclose(w, [1.0, 0.5])
    hundred = TemplatePredictor([[[1.0]]] * 100)
    pred, w = hundred([3.0])
    assert pred.shape == (100, 1)
    assert_allclose(pred, 3.0)
    with pytest.raises(np.exceptions.AxisError):
        TemplatePredictor([1.0, 2.0])


@pytest.mark.parametrize(
    ("fix", "args", "n_free"), [([1, None], [10], 1), ([None, 10], [1], 1), ([1, 10], [], 0)]
)
def test_fixed_parameter_worked_examples(fix, args, n_free):
    P = spec_matrix_predictor()
    for cls in (FixedParameterPredictor, FixedParameterMatrixPredictor):
        F = cls(P, fix)
        pred, w = F(args)
        assert_allclose(pred, SPEC_OUT)
        assert_allclose(w, [1.0, 0.5])
        assert len(F.bounds) == n_free
        assert len(F.defaults) == n_free


def test_fixed_matrix_predictor_reference_attributes():
    F = FixedParameterMatrixPredictor(spec_matrix_predictor(), [None, 10])
    # As in ReMU, free entries of fix_values become 0 (the insert_* attributes are right).
    assert_array_equal(F.fix_values, [0.0, 10.0])
    assert_array_equal(F.insert_indices, [1])
    assert_array_equal(F.insert_values, [10.0])
    assert F.sparse_indices == slice(None)
    assert F.matrices.shape == (2, 3, 1)
    G = FixedParameterPredictor(spec_matrix_predictor(), [None, np.nan])
    assert np.isnan(G.fix_values).all()
    assert_array_equal(G.insert_fixed_parameters([[1, 2], [3, 4]]), [[1, 2], [3, 4]])


def test_nested_fixing_refers_to_remaining_parameters():
    P = MatrixPredictor(np.eye(3))
    F = P.fix_parameters([None, 5.0, None]).fix_parameters([7.0, None])
    assert_allclose(F([9.0])[0], [[7.0, 5.0, 9.0]])
    G = FixedParameterPredictor(FixedParameterPredictor(P, [None, 5.0, None]), [7.0, None])
    assert_allclose(G([9.0])[0], [[7.0, 5.0, 9.0]])


def test_sparse_matrix_predictor():
    # Columns belong to parameters 0 and 2; parameter 1 has no effect.
    matrices = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    P = MatrixPredictor(
        matrices, sparse_indices=np.array([0, 2]), bounds=[(0, 10)] * 3, defaults=[1, 1, 1]
    )
    params = np.array([[1.0, 100.0, 2.0], [0.5, -3.0, 1.0]])
    assert_allclose(P(params)[0][:, 0], params[:, [0, 2]] @ matrices[0].T)
    # Fixing parameters of a sparse predictor works (ReMU 0.8.0 raises IndexError):
    # the columns missing from the sparse matrix are 0.
    for fix, free_params in (
        ([None, 7.0, None], params[:, [0, 2]]),
        ([3.0, None, None], params[:, 1:]),
    ):
        F = P.fix_parameters(fix)
        full = np.where(np.isnan(np.array(fix, float)), 0, np.array(fix, float))
        full = np.broadcast_to(full, params.shape).copy()
        full[:, np.isnan(np.array(fix, float))] = free_params
        assert_allclose(F(free_params)[0], P(full)[0])
    F = P.fix_parameters([None, 7.0, 2.0])
    assert_allclose(F([[1.0], [0.5]])[0][:, 0], [[5.0, 11.0], [4.5, 9.5]])


def test_sparse_matrix_without_full_bounds_indexes_longer_vectors():
    # bounds not extended: upstream still indexes longer vectors with sparse_indices.
    P = MatrixPredictor([[1.0, 1.0]], sparse_indices=[1, 3])
    assert_allclose(P([0.0, 1.0, 0.0, 2.0])[0], [[3.0]])


def test_empty_sparse_matrix():
    P = MatrixPredictor(
        np.zeros((1, 4, 0)), sparse_indices=np.array([], dtype=int), defaults=[1] * 4
    )
    pred, _w = P([1.0, 0.0, 0.0, 0.0])
    assert pred.shape == (1, 4)
    assert pred[0, 0] == 0.0


# --- systematics_index forms -------------------------------------------------------------


def test_integer_systematics_index_forms():
    P = spec_matrix_predictor()
    full, _w = P([1, 10])
    for index in (1, -1, np.int64(1), np.int32(-1)):
        pred, weight = P([1, 10], systematics_index=index)
        assert pred.shape == (3,)
        assert weight.shape == ()
        assert_allclose(pred, full[1])
        assert weight == 0.5
    for index in (2, -3, np.int64(5)):
        with pytest.raises(IndexError, match="Systematic index is out of bounds"):
            P([1, 10], systematics_index=index)


def test_weights_are_not_normalised_and_single_weight_applies_to_all():
    P = MatrixPredictor([np.eye(2)] * 3, weights=2.0)
    _, w = P([[1.0, 1.0]] * 4)
    assert_allclose(w, np.full((4, 3), 2.0))
    _, w = P([1.0, 1.0], systematics_index=[0, 2])
    assert_allclose(w, [2.0, 2.0])


# --- Predictor base ------------------------------------------------------------------------


def test_predictor_base():
    p = Predictor([(0, 1), (-np.inf, 2)], [0, 0])
    assert p.defaults.dtype.kind == "i"  # dtype preserved
    assert p.check_bounds([0.5, 2.0])
    assert not p.check_bounds([1.5, 2.0])
    assert_array_equal(p.check_bounds([[0.5, -1e300], [0.5, 2.1], [0, 0]]), [True, False, True])
    assert p.check_bounds([[[0.5, 0.0]] * 3] * 2).shape == (2, 3)
    with pytest.raises(NotImplementedError, match="must be implemented in a subclass"):
        p([0.5, 0.5])
    with pytest.raises(ValueError, match="expects parameter vectors of length 2"):
        p.check_bounds([0.5, 0.5, 0.5])
    empty = Predictor(np.zeros((0, 2)), [])
    assert empty.check_bounds([])


def test_monkeypatched_prediction_is_used_by_call():
    p = Predictor([(0, 1)], [0.5])
    # the signature of Predictor.prediction; one variation, so the index is not needed
    p.prediction = (
        lambda parameters, systematics_index=slice(None): (  # noqa: ARG005
            np.asarray(parameters)[..., None, :] * 2,
            np.ones((*np.shape(parameters)[:-1], 1)),
        )
    )
    assert_allclose(p([3.0])[0], [[6.0]])
    assert_allclose(p.fix_parameters([2.0])([])[0], [[4.0]])


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [[1.0], [1.0, 2.0, 3.0], 1.0, [[1.0, 2.0, 3.0]] * 2])
def test_wrong_parameter_length_is_a_clear_value_error(bad):
    P = spec_matrix_predictor()
    with pytest.raises(ValueError, match=r"MatrixPredictor expects parameter vectors of length 2"):
        P(bad)
    with pytest.raises(ValueError, match="expects parameter vectors of length 2"):
        LinearEinsumPredictor("ijk,...k->...ij", SPEC_P["matrices"], defaults=[1, 1])(bad)


def test_wrong_length_for_fixed_predictors():
    P = spec_matrix_predictor()
    with pytest.raises(IndexError, match="expected 2, got shape"):
        P.fix_parameters([None, 1.0, 2.0])
    with pytest.raises(ValueError, match="expected 2, got shape"):
        FixedParameterPredictor(P, [None])
    with pytest.raises(ValueError, match="length 1"):
        P.fix_parameters([None, 1.0])([1.0, 2.0])
    with pytest.raises(ValueError, match="length 1"):
        FixedParameterPredictor(P, [None, 1.0])([1.0, 2.0])


def test_sparse_predictor_wrong_length():
    P = MatrixPredictor([[1.0, 2.0]], sparse_indices=[0, 2], bounds=[(0, 1)] * 3, defaults=[1] * 3)
    with pytest.raises(ValueError, match="length 3"):
        P([1.0, 2.0])
    Q = MatrixPredictor([[1.0, 2.0]], sparse_indices=[0, 5])
    with pytest.raises(ValueError, match="sparse columns"):
        Q([1.0, 2.0, 3.0])


def test_predictors_pickle():
    P = spec_matrix_predictor()
    for predictor in (P, P.fix_parameters([None, 1.0]), TemplatePredictor([[1.0, 2.0]])):
        clone = pickle.loads(pickle.dumps(predictor))
        assert_allclose(clone(clone.defaults)[0], predictor(predictor.defaults)[0])


def test_integer_parameters_are_promoted():
    P = MatrixPredictor([[0.5, 0.25]])
    assert_allclose(P(np.array([2, 4]))[0], [[2.0]])
