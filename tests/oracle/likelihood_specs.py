"""Hypothesis strategies for random predictor specs (see ``scenarios_likelihood``)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

INF = float("inf")


def _rng(draw) -> np.random.Generator:
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@st.composite
def leaf(draw, n_in=None, n_out=None, n_syst=None, weights=None, kinds=None):
    """(spec, n_in, n_out, n_syst) of a matrix-like predictor."""
    rng = _rng(draw)
    n_syst = n_syst or draw(st.integers(1, 3))
    n_in = n_in or draw(st.integers(1, 4))
    n_out = n_out or draw(st.integers(1, 4))
    kind = draw(st.sampled_from(kinds or ("matrix", "template", "einsum")))
    m = np.round(rng.uniform(0.05, 1.0, (n_syst, n_out, n_in)), 3)
    constants = draw(
        st.sampled_from(
            [
                None,
                0.5,
                np.round(rng.uniform(0, 1, n_out), 3),
                np.round(rng.uniform(0, 1, (n_syst, n_out)), 3),
            ]
        )
    )
    if weights is None and draw(st.booleans()):
        weights = np.round(rng.uniform(0.5, 2.0, n_syst), 3)
    bounds = draw(st.sampled_from([None, [[0.0, INF]] * n_in, [[0.0, 10.0]] * n_in]))
    spec = {"constants": constants, "weights": weights}
    if kind == "matrix":
        spec.update(type="matrix", matrices=m, bounds=bounds)
    elif kind == "template":
        spec.update(type="template", templates=np.swapaxes(m, -1, -2).copy(), bounds=bounds)
    else:
        spec.update(
            type="einsum",
            subscripts="ijk,...k->...ij",
            coefficients=m,
            reshape_parameters=[n_in],
            bounds=bounds,
        )
    return spec, n_in, n_out, n_syst


@st.composite
def composite(draw):
    """(spec, n_in, n_out, n_syst, same) of a composite predictor."""
    t = draw(st.sampled_from(["composed", "summed", "concatenated", "composed_matrix"]))
    same = t != "composed_matrix" and draw(st.booleans())
    s = draw(st.integers(1, 3)) if same else None
    w = np.round(_rng(draw).uniform(0.5, 2.0, s), 3) if same else None
    if t in ("composed", "composed_matrix"):
        inner, n_in, k, s_in = draw(leaf(n_syst=s, weights=w))
        outer, _, n_out, s_out = draw(leaf(n_in=k, n_syst=s, weights=w))
        spec = {"type": t, "predictors": [outer, inner]}
        n_syst = s if same else s_in * s_out
    elif t == "summed":
        a, n_a, n_out, s_a = draw(leaf(n_syst=s, weights=w))
        b, n_b, _, s_b = draw(leaf(n_out=n_out, n_syst=s, weights=w))
        spec = {"type": t, "predictors": [a, b]}
        if draw(st.booleans()):
            spec["scale_factors"] = [2.0, 0.5]
        n_in, n_syst = n_a + n_b, (s if same else s_a * s_b)
    else:
        share = draw(st.booleans())
        a, n_a, o_a, s_a = draw(leaf(n_syst=s, weights=w))
        b, n_b, o_b, s_b = draw(leaf(n_in=n_a if share else None, n_syst=s, weights=w))
        spec = {"type": t, "predictors": [a, b], "share_parameters": share}
        n_in = n_a if share else n_a + n_b
        n_out, n_syst = o_a + o_b, (s if same else s_a * s_b)
    if same:
        spec["combine"] = "same"
    return spec, n_in, n_out, n_syst, same


@st.composite
def any_predictor(draw):
    """(spec, n_in, n_out, n_syst, same) of a leaf, composite, fixed or linearised predictor."""
    choice = draw(st.sampled_from(["leaf", "composite", "fixed", "fixed_generic", "linearized"]))
    if choice == "leaf":
        return (*draw(leaf()), False)
    if choice == "composite":
        return draw(composite())
    if choice == "linearized":
        spec, n_in, n_out, n_syst, same = draw(composite())
        if same:
            return spec, n_in, n_out, n_syst, same
        return {"type": "linearized", "predictor": spec}, n_in, n_out, n_syst, False
    spec, n_in, n_out, n_syst = draw(leaf(n_in=draw(st.integers(2, 4)), kinds=("matrix",)))
    fixed = draw(st.lists(st.booleans(), min_size=n_in, max_size=n_in))
    fix_values = [1.5 + i if f else None for i, f in enumerate(fixed)]
    n_free = n_in - sum(fixed)
    return (
        {"type": choice, "predictor": spec, "fix_values": fix_values},
        n_free,
        n_out,
        n_syst,
        False,
    )


def indices(n_syst: int, same: bool) -> list:
    """Systematics indices to try.

    No partial (slice or list) indices of "same" composites: ReMU 0.8.0 pairs the
    selected variations of ``predictors[-1]`` with variations 0, 1, ... of the others.
    """
    out = [None, 0, n_syst - 1]
    if not same:
        out += [{"slice": [0, 1]}, [n_syst - 1, 0]]
    return out
