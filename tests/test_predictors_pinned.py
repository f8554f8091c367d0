"""The predictors' construction, pinned against computations written out independently.

FixedParameterPredictor's insertion positions, the fixed-parameter matrix predictor
(dense and sparse, with repeated or unordered sparse columns), the composites'
bounds and defaults, and the cartesian combination of ComposedPredictor are
compared with plain loops over parameters and systematic variations.
"""

from __future__ import annotations

import itertools

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu._likelihood.predictors import (
    ComposedPredictor,
    ConcatenatedPredictor,
    FixedParameterMatrixPredictor,
    FixedParameterPredictor,
    MatrixPredictor,
    SummedPredictor,
)

FLOATS = st.floats(-10, 10, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 4))


def _insert_by_loop(free, fix_values):
    """The full parameter vector: fixed values where given, the free ones in order."""
    free = list(free)
    return np.array([free.pop(0) if np.isnan(v) else v for v in fix_values])


@given(st.lists(st.one_of(st.none(), FLOATS), min_size=1, max_size=8), st.data())
def test_fixed_parameter_insertion_matches_a_loop(fix, data):
    P = MatrixPredictor(np.ones((1, 2, len(fix))), bounds=[(-1, 1)] * len(fix))
    F = FixedParameterPredictor(P, fix)
    fix_values = np.array(fix, dtype=float)
    n_free = int(np.isnan(fix_values).sum())
    free = data.draw(hnp.arrays(float, (n_free,), elements=FLOATS))
    assert_array_equal(F.insert_fixed_parameters(free), _insert_by_loop(free, fix_values))
    # insert_indices are positions in the reduced vector, one per fixed parameter
    fixed_positions = [i for i, v in enumerate(fix_values) if not np.isnan(v)]
    assert F.insert_indices.tolist() == [p - k for k, p in enumerate(fixed_positions)]
    assert F.insert_values.tolist() == [fix_values[p] for p in fixed_positions]
    assert F.bounds.shape == (n_free, 2)
    assert_array_equal(F.defaults, np.asarray(P.defaults)[np.isnan(fix_values)])


@st.composite
def sparse_cases(draw):
    n_syst = draw(st.integers(1, 3))
    n_out = draw(st.integers(1, 3))
    n_par = draw(st.integers(1, 5))
    n_columns = draw(st.integers(0, 5))
    sparse = draw(st.lists(st.integers(0, n_par - 1), min_size=n_columns, max_size=n_columns))
    matrices = draw(hnp.arrays(float, (n_syst, n_out, n_columns), elements=FLOATS))
    constants = draw(hnp.arrays(float, (n_syst, n_out), elements=FLOATS))
    weights = draw(hnp.arrays(float, (n_syst,), elements=st.floats(0.1, 5)))
    fix = draw(st.lists(st.one_of(st.none(), FLOATS), min_size=n_par, max_size=n_par))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    return matrices, np.array(sparse, dtype=int), constants, weights, fix, batch


@settings(max_examples=150)
@given(sparse_cases(), st.data())
def test_fixed_sparse_matrix_predictor_matches_a_loop(case, data):
    matrices, sparse, constants, weights, fix, batch = case
    n_par = len(fix)
    P = MatrixPredictor(
        matrices,
        constants,
        sparse_indices=sparse,
        weights=weights,
        bounds=[(-100, 100)] * n_par,
        defaults=np.arange(n_par, dtype=float),
    )
    F = FixedParameterMatrixPredictor(P, fix)
    fix_values = np.array(fix, dtype=float)
    free_mask = np.isnan(fix_values)
    n_free = int(free_mask.sum())
    free = data.draw(hnp.arrays(float, (*batch, n_free), elements=FLOATS))
    # independent: build every full vector, then sum matrix column k times parameter sparse[k]
    flat_free = free.reshape(int(np.prod(batch)), n_free)
    expected = np.zeros((len(flat_free), *constants.shape))
    for row, x in enumerate(flat_free):
        full = _insert_by_loop(x, fix_values)
        for s in range(matrices.shape[0]):
            for r in range(matrices.shape[1]):
                total = constants[s, r]
                for k, parameter in enumerate(sparse):
                    total += matrices[s, r, k] * full[parameter]
                expected[row, s, r] = total
    prediction, w = F(free)
    assert_allclose(prediction, expected.reshape((*batch, *constants.shape)), atol=1e-9)
    assert_allclose(w, np.broadcast_to(weights, (*batch, len(weights))))
    # the reference's attributes: free entries of fix_values read 0 afterwards, and only
    # the columns of free parameters stay, pointing at their free parameter
    assert_array_equal(F.fix_values, np.where(free_mask, 0.0, fix_values))
    kept = [k for k, parameter in enumerate(sparse) if free_mask[parameter]]
    assert F.matrices.shape == (matrices.shape[0], matrices.shape[1], len(kept))
    assert_array_equal(F.matrices, matrices[..., kept])
    renumbered = [int(free_mask[:parameter].sum()) for parameter in sparse[kept]]
    if renumbered == list(range(n_free)):
        assert F.sparse_indices == slice(None)
    else:
        assert list(F.sparse_indices) == renumbered
    assert F.bounds.shape == (n_free, 2)
    assert_array_equal(F.defaults, np.arange(n_par, dtype=float)[free_mask])


def test_fixed_matrix_predictor_with_slice_and_mask_sparse_indices():
    matrices = np.arange(12.0).reshape(1, 3, 4)
    for sparse in (slice(1, 5), np.array([False, True, True, True, True])):
        P = MatrixPredictor(matrices, sparse_indices=sparse, bounds=[(0, 1)] * 5)
        F = FixedParameterMatrixPredictor(P, [9.0, None, 2.0, None, None])
        free = np.array([0.5, -1.0, 3.0])
        full = np.array([9.0, 0.5, 2.0, -1.0, 3.0])
        assert_allclose(F(free)[0], (matrices[0] @ full[1:])[np.newaxis])
        assert_allclose(F.constants, (matrices[0] @ [0.0, 2.0, 0.0, 0.0])[np.newaxis])


def _matrix(seed, n_syst, n_in, n_out):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.5, 2.0, n_syst)
    return MatrixPredictor(rng.normal(size=(n_syst, n_out, n_in)), weights=weights)


def test_composed_cartesian_matches_a_loop_over_combinations():
    parts = [_matrix(1, 2, 3, 2), _matrix(2, 3, 4, 3), _matrix(3, 2, 2, 4)]  # outermost first
    composed = ComposedPredictor(parts)
    params = np.random.default_rng(4).normal(size=(5, 2))
    prediction, weights = composed(params)
    counts = [len(p.matrices) for p in parts]
    assert prediction.shape == (5, int(np.prod(counts)), 2)
    for flat, combination in enumerate(itertools.product(*(range(c) for c in counts))):
        value = params
        weight = np.ones(len(params))
        for part, s in reversed(list(zip(parts, combination, strict=True))):
            value, w = part(value, systematics_index=s)
            weight = weight * w
        assert_allclose(prediction[:, flat], value, rtol=1e-12)
        assert_allclose(weights[:, flat], weight, rtol=1e-12)
        assert_allclose(composed(params, systematics_index=flat)[0], value, rtol=1e-12)


def test_composites_take_bounds_and_defaults_from_their_parts():
    a = MatrixPredictor(np.ones((1, 2, 2)), bounds=[(0, 1), (2, 3)], defaults=[0.5, 2.5])
    b = MatrixPredictor(np.ones((1, 2, 1)), bounds=[(-1, 4)], defaults=[1.5])
    composed = ComposedPredictor([a, b])
    assert composed.bounds is b.bounds
    assert composed.defaults is b.defaults
    for combined in (SummedPredictor([a, b]), ConcatenatedPredictor([a, b])):
        assert_array_equal(combined.bounds, [(0, 1), (2, 3), (-1, 4)])
        assert_array_equal(combined.defaults, [0.5, 2.5, 1.5])
    shared = ConcatenatedPredictor([a, a], share_parameters=True)
    assert shared.bounds is a.bounds
    assert shared.defaults is a.defaults
