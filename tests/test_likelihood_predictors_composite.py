"""Composite predictors and linearisation against explicit per-systematic NumPy loops."""

from __future__ import annotations

import itertools

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import gammaln, logsumexp, xlogy

from numeric_asserts import assert_allclose
from remu._likelihood.predictors import (
    ComposedMatrixPredictor,
    ComposedPredictor,
    ConcatenatedPredictor,
    LinearizedPredictor,
    MatrixPredictor,
    Predictor,
    SummedPredictor,
    TemplatePredictor,
)

FLOATS = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 4))


class Part:
    """A random affine map with systematics, plus its per-systematic NumPy reference."""

    def __init__(self, matrices, constants, weights):
        self.matrices, self.constants, self.weights = matrices, constants, weights
        self.predictor = MatrixPredictor(matrices, constants, weights=weights)

    def apply(self, s, x):
        """Systematic ``s`` on a batch of vectors ``x`` of shape (..., n_in)."""
        s = s if len(self.matrices) > 1 else 0
        return x @ self.matrices[s].T + self.constants[s]

    def weight(self, s):
        return self.weights[s if len(self.weights) > 1 else 0]


@st.composite
def parts(draw, n_in, n_out, n_syst):
    matrices = draw(hnp.arrays(float, (n_syst, n_out, n_in), elements=FLOATS))
    constants = draw(hnp.arrays(float, (n_syst, n_out), elements=FLOATS))
    weights = draw(
        hnp.arrays(float, (n_syst,), elements=st.floats(0.5, 4).map(lambda x: round(x, 3)))
    )
    return Part(matrices, constants, weights)


def counts_for(draw, n_parts, strategy):
    if strategy == "cartesian":
        return [draw(st.integers(1, 3)) for _ in range(n_parts)]
    common = draw(st.integers(1, 3))
    return [draw(st.sampled_from([1, common])) for _ in range(n_parts)]


@st.composite
def composite_cases(draw, kind):
    strategy = draw(st.sampled_from(["cartesian", "same"]))
    n_parts = draw(st.integers(1, 3))
    counts = counts_for(draw, n_parts, strategy)
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    if kind == "composed":
        dims = [draw(st.integers(1, 3)) for _ in range(n_parts + 1)]
        # predictors[k] maps dims[k + 1] -> dims[k]
        the_parts = [draw(parts(dims[k + 1], dims[k], counts[k])) for k in range(n_parts)]
        n_par = dims[-1]
    elif kind == "summed":
        n_out = draw(st.integers(1, 3))
        dims_in = [draw(st.integers(1, 3)) for _ in range(n_parts)]
        the_parts = [draw(parts(dims_in[k], n_out, counts[k])) for k in range(n_parts)]
        n_par = sum(dims_in)
    else:
        share = draw(st.booleans())
        n_shared = draw(st.integers(1, 3))
        dims_in = [n_shared if share else draw(st.integers(1, 3)) for _ in range(n_parts)]
        the_parts = [
            draw(parts(dims_in[k], draw(st.integers(1, 3)), counts[k])) for k in range(n_parts)
        ]
        n_par = n_shared if share else sum(dims_in)
    params = draw(hnp.arrays(float, (*batch, n_par), elements=FLOATS))
    total = max(counts) if strategy == "same" else int(np.prod(counts))
    index = draw(
        st.one_of(
            st.just(slice(None)),
            st.integers(-total, total - 1),
            st.builds(slice, st.integers(0, total), st.integers(0, total)),
            st.lists(st.integers(0, total - 1), min_size=1, max_size=4),
        )
    )
    extra = {"share": share} if kind == "concatenated" else {}
    return strategy, the_parts, params, index, extra


def combinations(the_parts, strategy):
    """Systematic index tuples in the output order (C order, first part slowest)."""
    if strategy == "cartesian":
        return list(itertools.product(*(range(len(p.matrices)) for p in the_parts)))
    n = max(len(p.matrices) for p in the_parts)
    return [(s,) * len(the_parts) for s in range(n)]


def split(params, the_parts):
    out, start = [], 0
    for p in the_parts:
        n = p.matrices.shape[-1]
        out.append(params[..., start : start + n])
        start += n
    return out


def finish(rows, weights, index):
    pred = np.stack(rows, axis=-2)
    w = np.stack(np.broadcast_arrays(*weights), axis=-1)
    return pred[..., index, :], w[..., index]


@given(composite_cases("composed"))
def test_composed_predictor_matches_loop(case):
    strategy, the_parts, params, index, _ = case
    if strategy == "same" and isinstance(index, int):
        # Each predictor is called with the integer index: all need that systematic.
        n = max(len(p.matrices) for p in the_parts)
        the_parts = [
            p
            if len(p.matrices) == n
            else Part(*(np.repeat(a, n, axis=0) for a in (p.matrices, p.constants, p.weights)))
            for p in the_parts
        ]
    rows, weights = [], []
    for combo in combinations(the_parts, strategy):
        x = params
        for part, s in reversed(list(zip(the_parts, combo, strict=True))):
            x = part.apply(s, x)
        rows.append(x)
        if strategy == "cartesian":
            weights.append(np.prod([p.weight(s) for p, s in zip(the_parts, combo, strict=True)]))
        elif isinstance(index, int):
            # as in ReMU, an int index of a "same" composition takes the weight of
            # predictors[0] (a full or slice index: of predictors[-1])
            weights.append(the_parts[0].weight(combo[0]))
        else:
            weights.append(the_parts[-1].weight(combo[-1]))
    ref_pred, ref_w = finish(rows, [np.full(params.shape[:-1], w) for w in weights], index)
    predictor = ComposedPredictor([p.predictor for p in the_parts], combine_systematics=strategy)
    pred, w = predictor(params, systematics_index=index)
    assert pred.shape == ref_pred.shape
    assert_allclose(pred, ref_pred, rtol=1e-9, atol=1e-9)
    assert_allclose(w, ref_w)
    # The pre-computed linear composition gives the same numbers.
    composed = ComposedMatrixPredictor(
        [p.predictor for p in the_parts], combine_systematics=strategy
    )
    pred, w = composed(
        params,
        systematics_index=index if not isinstance(index, int) else index % len(composed.matrices),
    )
    if isinstance(index, int):
        ref_pred, ref_w = finish(
            rows, [np.full(params.shape[:-1], w) for w in weights], index % len(rows)
        )
        if strategy == "same":
            ref_w = np.full(params.shape[:-1], the_parts[-1].weight(index % len(rows)))
    assert_allclose(pred, ref_pred, rtol=1e-6, atol=1e-6)
    if not (strategy == "same" and isinstance(index, int)):
        assert_allclose(w, ref_w)


@given(composite_cases("summed"), st.data())
def test_summed_predictor_matches_loop(case, data):
    strategy, the_parts, params, index, _ = case
    use_factors = data.draw(st.booleans())
    factors = [data.draw(FLOATS) for _ in the_parts] if use_factors else [1.0] * len(the_parts)
    subs = split(params, the_parts)
    rows, weights = [], []
    for combo in combinations(the_parts, strategy):
        rows.append(
            sum(
                f * p.apply(s, x)
                for f, p, s, x in zip(factors, the_parts, combo, subs, strict=True)
            )
        )
        if strategy == "cartesian":
            weights.append(np.prod([p.weight(s) for p, s in zip(the_parts, combo, strict=True)]))
        else:
            weights.append(the_parts[-1].weight(combo[-1]))
    ref_pred, ref_w = finish(
        [np.broadcast_to(r, (*params.shape[:-1], r.shape[-1])) for r in rows],
        [np.full(params.shape[:-1], w) for w in weights],
        index,
    )
    predictor = SummedPredictor(
        [p.predictor for p in the_parts],
        scale_factors=factors if use_factors else None,
        combine_systematics=strategy,
    )
    pred, w = predictor(params, systematics_index=index)
    assert pred.shape == ref_pred.shape
    assert_allclose(pred, ref_pred, rtol=1e-9, atol=1e-9)
    assert_allclose(w, ref_w)


@given(composite_cases("concatenated"))
def test_concatenated_predictor_matches_loop(case):
    strategy, the_parts, params, index, extra = case
    subs = [params] * len(the_parts) if extra["share"] else split(params, the_parts)
    rows, weights = [], []
    for combo in combinations(the_parts, strategy):
        rows.append(
            np.concatenate(
                [p.apply(s, x) for p, s, x in zip(the_parts, combo, subs, strict=True)], axis=-1
            )
        )
        if strategy == "cartesian":
            weights.append(np.prod([p.weight(s) for p, s in zip(the_parts, combo, strict=True)]))
        else:
            weights.append(the_parts[-1].weight(combo[-1]))
    ref_pred, ref_w = finish(rows, [np.full(params.shape[:-1], w) for w in weights], index)
    predictor = ConcatenatedPredictor(
        [p.predictor for p in the_parts],
        share_parameters=extra["share"],
        combine_systematics=strategy,
    )
    pred, w = predictor(params, systematics_index=index)
    assert pred.shape == ref_pred.shape
    assert_allclose(pred, ref_pred, rtol=1e-9, atol=1e-9)
    assert_allclose(w, ref_w)
    n_par = params.shape[-1]
    assert predictor.bounds.shape == (n_par, 2)
    assert predictor.defaults.shape == (n_par,)


# --- worked examples with hand-checked numbers ------------------------------------------

A = MatrixPredictor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], weights=[1, 3])
B = MatrixPredictor([[[1, 1]], [[10, 10]], [[100, 100]]], weights=[1, 2, 4])


def test_worked_composite_examples():
    pred, w = ComposedPredictor([B, A])([1, 1])
    assert_allclose(pred, [[2], [4], [20], [40], [200], [400]])
    assert_allclose(w, [1, 3, 2, 6, 4, 12])
    pred, w = SummedPredictor([B, B])([1, 1, 0, 1])
    assert_allclose(pred, [[3], [12], [102], [21], [30], [120], [201], [210], [300]])
    assert_allclose(w, [1, 2, 4, 2, 4, 8, 4, 8, 16])
    pred, w = ConcatenatedPredictor([B, A])([1, 1, 1, 2])
    assert_allclose(pred, [[2, 1, 2], [2, 2, 4], [20, 1, 2], [20, 2, 4], [200, 1, 2], [200, 2, 4]])
    assert_allclose(w, [1, 3, 2, 6, 4, 12])
    shared = ConcatenatedPredictor([A, A], share_parameters=True)
    pred, w = shared([1, 2])
    assert_allclose(pred, [[1, 2, 1, 2], [1, 2, 2, 4], [2, 4, 1, 2], [2, 4, 2, 4]])
    assert_allclose(w, [1, 3, 3, 9])
    assert shared.bounds.shape == (2, 2)
    pred, w = ComposedPredictor([B, A])(np.ones((2, 3, 2)))
    assert (pred.shape, w.shape) == ((2, 3, 6, 1), (2, 3, 6))


def test_worked_composed_same_weights():
    A2 = MatrixPredictor([np.eye(2)] * 2, weights=[5, 7])
    B2 = MatrixPredictor([np.eye(2)] * 2, weights=[1, 2])
    same = ComposedPredictor([B2, A2], combine_systematics="same")
    assert_allclose(same([1, 1])[1], [5, 7])
    pred, w = same([1, 1], systematics_index=1)
    assert w.shape == ()
    assert w == 2.0
    assert_allclose(pred, [1, 1])
    # np.int64 drops the axis in composites too.
    assert same([1, 1], systematics_index=np.int64(1))[0].shape == (2,)


P0 = MatrixPredictor([[[1, 1, 1]]] * 2, weights=[1, 2])
P1 = MatrixPredictor([[[1 / 3]] * 3] * 3, weights=[1, 2, 3])
P2 = MatrixPredictor([np.eye(3)] * 4, [0.1, 0.2, 0.3], weights=[1, 2, 3, 4])
W = (
    np.array([1, 2, 3, 4])[:, None, None]
    * np.array([1, 2, 3])[None, :, None]
    * np.array([1, 2])[None, None, :]
).ravel()


def test_worked_composed_chain():
    composed = ComposedPredictor([P2, P1, P0])
    pred, w = composed([1, 2, 3])
    assert_allclose(pred, [[2.1, 2.2, 2.3]] * 24)
    assert_allclose(w, W)
    assert composed([[1, 2, 3]] * 2)[0].shape == (2, 24, 3)
    pred, w = composed([[1, 2, 3]] * 2, systematics_index=1)
    assert (pred.shape, w.shape) == ((2, 3), (2,))
    matrix = ComposedMatrixPredictor([P2, P1, P0])
    pred, w = matrix([1, 2, 3])
    assert_allclose(pred, [[2.1, 2.2, 2.3]] * 24, atol=1e-7)
    assert_allclose(w, W)
    same = ComposedPredictor(
        [
            MatrixPredictor([np.eye(3)] * 2, [0.1, 0.2, 0.3], weights=[1, 2]),
            MatrixPredictor([[[1 / 3]] * 3] * 2, weights=[1, 2]),
            P0,
        ],
        combine_systematics="same",
    )
    pred, w = same([1, 2, 3])
    assert_allclose(pred, [[2.1, 2.2, 2.3]] * 2)
    assert_allclose(w, [1, 2])


def test_worked_summed_examples():
    Q0 = MatrixPredictor([np.diag([1, 2, 3])] * 2, weights=[1, 2])
    summed = SummedPredictor([Q0, P1, P2], scale_factors=[[[2.0]] * 2, [[0.5]] * 3, [[1.0]] * 4])
    pred, w = summed([2, 2, 2, 6, 4, 4, 4])
    assert_allclose(pred, [[9.1, 13.2, 17.3]] * 24)
    assert_allclose(
        w,
        (
            np.array([1, 2])[:, None, None]
            * np.array([1, 2, 3])[None, :, None]
            * np.array([1, 2, 3, 4])[None, None, :]
        ).ravel(),
    )
    same = SummedPredictor(
        [
            Q0,
            MatrixPredictor([[[1 / 3]] * 3] * 2),
            MatrixPredictor([np.eye(3)] * 2, [0.1, 0.2, 0.3], weights=[3, 4]),
        ],
        combine_systematics="same",
    )
    pred, w = same([2, 2, 2, 3, 4, 4, 4])
    assert_allclose(pred, [[7.1, 9.2, 11.3]] * 2)
    assert_allclose(w, [3, 4])


def test_worked_concatenated_examples():
    Q0 = MatrixPredictor([np.diag([1, 2, 3])] * 2)
    concatenated = ConcatenatedPredictor([Q0, P1, P2])
    pred, _ = concatenated([2, 2, 2, 3, 4, 4, 4])
    assert_allclose(pred, [[2, 4, 6, 1, 1, 1, 4.1, 4.2, 4.3]] * 24)
    assert concatenated.defaults.shape == (7,)
    shared = ConcatenatedPredictor([Q0, P2], share_parameters=True)
    pred, _ = shared([1, 2, 3])
    assert_allclose(pred, [[1, 4, 9, 1.1, 2.2, 3.3]] * 8)
    assert shared.defaults.shape == (3,)
    P2two = MatrixPredictor([np.eye(3)] * 2, [0.1, 0.2, 0.3])
    assert ConcatenatedPredictor([Q0, P2two], share_parameters=True, combine_systematics="same")(
        [1, 2, 3]
    )[0].shape == (2, 6)
    many = [TemplatePredictor([[1.0, 2.0, 3.0]])] * 60
    for strategy in ("cartesian", "same"):
        pred, _ = ConcatenatedPredictor(many, share_parameters=True, combine_systematics=strategy)(
            [1.0]
        )
        assert pred.shape == (1, 180)


def test_compose_methods():
    assert isinstance(A.compose(A), ComposedMatrixPredictor)
    generic = Predictor([(0, 1)], [0.5])
    # the signature of Predictor.prediction; one variation, so the index is not needed
    generic.prediction = (
        lambda p, systematics_index=slice(None): (  # noqa: ARG005
            np.asarray(p)[..., None, :],
            np.ones((*np.shape(p)[:-1], 1)),
        )
    )
    assert (
        type(A.compose(ConcatenatedPredictor([generic, generic], share_parameters=True)))
        is ComposedPredictor
    )
    assert type(generic.compose(generic)) is ComposedPredictor
    composed = ComposedPredictor([A, B])
    assert composed.bounds is B.bounds
    assert composed.defaults is B.defaults


# --- linearisation -------------------------------------------------------------------------


class Exponential(Predictor):
    """A smooth non-linear predictor with two systematics: exp(a·p) per output."""

    def __init__(self, rates):
        super().__init__([(-2.0, 2.0)] * rates.shape[-1], np.zeros(rates.shape[-1]))
        self.rates = rates  # (S, n_out, n_par)

    def prediction(self, parameters, systematics_index=slice(None)):
        p = np.asarray(parameters, dtype=float)
        out = np.exp(np.einsum("srk,...k->...sr", self.rates, p))
        w = np.ones(out.shape[:-1])
        return out[..., systematics_index, :], w[..., systematics_index]


def test_linearization_of_nonlinear_predictor():
    rates = np.array([[[0.5, 0.1], [0.2, -0.3]], [[0.4, 0.0], [0.1, 0.2]]])
    exact = Exponential(rates)
    point = np.array([0.3, -0.2])
    lin = LinearizedPredictor(exact, evaluation_point=point)
    # Exact at the evaluation point, first-order close nearby (step 0.04 = range/100).
    assert_allclose(lin(point)[0], exact(point)[0], rtol=1e-12)
    for delta in (1e-3, 1e-2):
        shifted = point + delta
        error = np.abs(lin(shifted)[0] - exact(shifted)[0])
        assert np.all(error < 2 * (delta * 0.04 + delta**2))
    # The matrix is the forward-difference Jacobian with the default steps.
    steps = np.array([0.04, 0.04])
    jac = np.stack(
        [
            (exact(point + np.eye(2)[i] * steps[i])[0] - exact(point)[0]) / steps[i]
            for i in range(2)
        ],
        axis=-1,
    )
    assert_allclose(lin.matrices, jac, rtol=1e-10)


def test_linearized_worked_example():
    square = Predictor([(-np.inf, np.inf)], [1.0])
    # the signature of Predictor.prediction; one variation, so the index is not needed
    square.prediction = (
        lambda p, systematics_index=slice(None): (  # noqa: ARG005
            np.asarray(p, float)[..., None, :] ** 2,
            np.ones((*np.shape(p)[:-1], 1)),
        )
    )
    lin = LinearizedPredictor(square, evaluation_steps=[1.0])
    assert_allclose(lin([5.0])[0], [[13.0]])  # 3x - 2
    lin0 = LinearizedPredictor(square, evaluation_point=[0.0], evaluation_steps=[1.0])
    assert_allclose(lin0([5.0])[0], [[5.0]])  # x


def test_linearization_of_predictor_without_batch_support():
    class OneAtATime(Predictor):
        def prediction(self, parameters, systematics_index=slice(None)):  # noqa: ARG002
            p = np.asarray(parameters, dtype=float)
            if p.ndim != 1:
                raise ValueError("one vector at a time")
            return np.array([[p[0] * p[1], p[0]]]), np.ones(1)

    lin = LinearizedPredictor(OneAtATime([(0, 10)] * 2, [1.0, 1.0]))
    assert_allclose(lin.matrices[0], [[1.0, 1.0], [1.0, 0.0]], atol=1e-9)


def test_default_steps_are_negated_at_the_upper_bound():
    M = MatrixPredictor([[2.0, 1.0]], bounds=[(0, 10), (0, np.inf)], defaults=[10.0, 1.0])
    composed = ComposedMatrixPredictor([M])
    assert_allclose(composed.matrices, [[[2.0, 1.0]]])
    assert_allclose(composed.constants, [[0.0]], atol=1e-12)
    # Integer evaluation points are cast to float (ReMU 0.8.0 keeps the integer dtype,
    # so its finite-difference steps truncate and the column becomes 0).
    integer = ComposedMatrixPredictor([MatrixPredictor([[2.0]], bounds=[(0, 10)], defaults=[1])])
    assert_allclose(integer.matrices, [[[2.0]]])


def test_composed_matrix_predictor_attributes():
    composed = ComposedMatrixPredictor([P2, P1, P0])
    assert composed.matrices.shape == (24, 3, 3)
    assert composed.constants.shape == (24, 3)
    assert composed.predictors[0] is P2
    assert composed.combine_systematics == "cartesian"
    assert isinstance(composed.fix_parameters([None, 1, None]), MatrixPredictor)


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ComposedPredictor, SummedPredictor, ConcatenatedPredictor])
def test_invalid_strategy_is_raised_when_predicting(cls):
    predictor = cls([A, A], combine_systematics="mean")
    with pytest.raises(
        ValueError,
        match=r"mean is not a valid systematics combination strategy.*'cartesian', 'same'",
    ):
        predictor(np.ones(len(predictor.defaults)))


def test_invalid_strategy_in_composed_matrix_predictor_constructor():
    with pytest.raises(ValueError, match="not a valid systematics combination strategy"):
        ComposedMatrixPredictor([A, A], combine_systematics="average")


@pytest.mark.parametrize("cls", [SummedPredictor, ConcatenatedPredictor, ComposedPredictor])
def test_same_with_mismatching_systematics_counts(cls):
    args = ([B, A],) if cls is not SummedPredictor else ([MatrixPredictor([np.eye(2)] * 3), A],)
    predictor = cls(*args, combine_systematics="same")
    with pytest.raises(ValueError, match=r"same number of systematics.*\[3, 2\]|\[2, 3\]"):
        predictor(np.ones(len(predictor.defaults)))


def test_scale_factor_count():
    with pytest.raises(
        ValueError, match="Must provide same number of predictors and scale factors"
    ):
        SummedPredictor([A, A], scale_factors=[1.0])([1, 1, 1, 1])


@pytest.mark.parametrize(
    "predictor",
    [
        ComposedPredictor([B, A]),
        SummedPredictor([A, A]),
        ConcatenatedPredictor([A, B]),
        ConcatenatedPredictor([A, A], share_parameters=True),
    ],
)
def test_composites_reject_wrong_parameter_length(predictor):
    n = len(predictor.defaults)
    with pytest.raises(ValueError, match=f"expects parameter vectors of length {n}.*got {n + 1}"):
        predictor(np.ones(n + 1))


def test_underflow_is_not_an_error():
    assert MatrixPredictor([[1e-200]])([1e-200])[0] == 0.0


# --- the usage examples, predictor side ---------------------------------------------------


def marginal_log_likelihood(data, prediction, weights):
    """log sum_s w_s/W prod_i Pois(k_i | mu_si), the reference formula."""
    ll = np.sum(xlogy(data, prediction) - prediction - gammaln(data + 1), axis=-1)
    return logsumexp(ll, b=weights / np.sum(weights), axis=-1)


def test_usage_examples():
    response = np.array(
        [[[0.8, 0.1], [0.1, 0.7], [0.0, 0.1]], [[0.7, 0.1], [0.2, 0.6], [0.0, 0.2]]]
    )
    detector = MatrixPredictor(response, bounds=[(0, np.inf)] * 2, defaults=[10.0, 10.0])
    data = np.array([9, 8, 1])
    pred, w = detector([10.0, 10.0])
    assert_allclose(marginal_log_likelihood(data, pred, w), -5.1625935031909425, rtol=1e-12)
    ll = np.sum(xlogy(data, pred) - pred - gammaln(data + 1), axis=-1)
    assert_allclose(ll.max(), -4.995876853362059, rtol=1e-12)
    pred, w = detector([[10.0, 10.0], [-1.0, 5.0]])
    assert_allclose(marginal_log_likelihood(data, pred[0], w[0]), -5.1625935031909425)
    assert list(detector.check_bounds([[10.0, 10.0], [-1.0, 5.0]])) == [True, False]

    shape = TemplatePredictor([[0.5, 0.5]])
    norm = detector.compose(shape)
    assert isinstance(norm, ComposedMatrixPredictor)
    assert norm.matrices.shape == (2, 3, 1)
    pred, w = norm([20.0])
    assert_allclose(marginal_log_likelihood(data, pred, w), -5.1625935031909425, rtol=1e-9)

    bg = TemplatePredictor([[1.0, 1.0]])
    signal_plus_bg = SummedPredictor([shape, bg])
    assert len(signal_plus_bg.defaults) == 2
    assert_allclose(signal_plus_bg([20.0, 3.0])[0], [[13.0, 13.0]])
    two_channels = ConcatenatedPredictor([detector, detector], share_parameters=True)
    pred, w = two_channels([10.0, 10.0])
    assert pred.shape == (4, 6)
    assert w.shape == (4,)
    fixed = detector.fix_parameters([None, 12.0])
    assert len(fixed.defaults) == 1
    assert_allclose(fixed([10.0])[0], detector([10.0, 12.0])[0])


@pytest.mark.parametrize("n_generic", [1, 2])
def test_same_composition_with_generic_predictor(n_generic):
    rates = np.array([[[0.5, 0.1], [0.2, -0.3]], [[0.4, 0.0], [0.1, 0.2]]])[:n_generic]
    outer = Exponential(rates)
    inner = MatrixPredictor([[[1.0, 0.5], [0.0, 1.0]], [[2.0, 0.0], [0.1, 1.0]]], weights=[3, 4])
    params = np.array([[0.1, 0.2], [-0.3, 0.4], [0.0, 0.0]])
    pred, w = ComposedPredictor([outer, inner], combine_systematics="same")(params)
    for s in range(2):
        expected = outer(
            inner(params, systematics_index=s)[0], systematics_index=min(s, n_generic - 1)
        )[0]
        assert_allclose(pred[:, s], expected, rtol=1e-12)
    assert_allclose(w, [[3, 4]] * 3)
    # And the other way round: the generic predictor applied first.
    pred, w = ComposedPredictor([inner, outer], combine_systematics="same")(params)
    for s in range(2):
        expected = inner(
            outer(params, systematics_index=min(s, n_generic - 1))[0], systematics_index=s
        )[0]
        assert_allclose(pred[:, s], expected, rtol=1e-12)
    assert w.shape == (3, 2)


def test_usage_examples_through_facade():
    """The usage example, end to end through ``remu.likelihood``, with the documented outputs."""
    from remu import likelihood

    response = np.array(
        [[[0.8, 0.1], [0.1, 0.7], [0.0, 0.1]], [[0.7, 0.1], [0.2, 0.6], [0.0, 0.2]]]
    )
    detector = likelihood.MatrixPredictor(response, bounds=[(0, np.inf)] * 2, defaults=[10.0, 10.0])
    data = likelihood.PoissonData([9, 8, 1])
    calc = likelihood.LikelihoodCalculator(data, detector)
    assert calc([10.0, 10.0]) == pytest.approx(-5.1625935031909425, rel=1e-12)
    both = calc([[10.0, 10.0], [-1.0, 5.0]])
    assert both[0] == pytest.approx(-5.1625935)
    assert both[1] == -np.inf
    profile = likelihood.LikelihoodCalculator(data, detector, systematics="profile")
    assert profile([10.0, 10.0]) == pytest.approx(-4.995876853362059, rel=1e-12)

    calc_norm = calc.compose(likelihood.TemplatePredictor([[0.5, 0.5]]))
    assert isinstance(calc_norm.predictor, likelihood.ComposedMatrixPredictor)
    assert calc_norm.predictor.matrices.shape == (2, 3, 1)
    np.random.seed(42)
    fit = likelihood.BasinHoppingMaximizer()(calc_norm)
    assert fit.success
    assert fit.x == pytest.approx([20.0], rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-5.1626, abs=1e-4)

    two_channels = likelihood.ConcatenatedPredictor([detector, detector], share_parameters=True)
    pred, w = two_channels([10.0, 10.0])
    assert (pred.shape, w.shape) == ((4, 6), (4,))
    fixed = calc.fix_parameters([None, 12.0])
    assert fixed([10.0]) == pytest.approx(calc([10.0, 12.0]))
