"""Differential tests of ``remu.likelihood`` against remu 0.8.0.

Deterministic quantities (predictions, log-likelihoods, Jeffreys priors) must agree
to rounding; fits to the optimiser's tolerance; Monte-Carlo p-values statistically
(our toys are drawn differently from the same ``np.random.seed``: see D29 in
docs/differences.md).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from likelihood_specs import any_predictor, indices, leaf
from oracle_client import ensure_ok, examples, run_both, skip_without_oracle

from numeric_asserts import assert_allclose

skip_without_oracle()

import scenarios_likelihood as sl

BATCH = 10
SETTINGS = settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _close(ours, theirs, rtol=1e-10, atol=1e-12, msg=""):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    assert ours.shape == theirs.shape, msg
    # -inf (impossible data, out of bounds) must sit at the same places
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs), err_msg=msg)
    fin = np.isfinite(theirs)
    assert_allclose(ours[fin], theirs[fin], rtol=rtol, atol=atol, err_msg=msg)


@st.composite
def predict_case(draw):
    spec, n_in, _, n_syst, same = draw(any_predictor())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = np.round(rng.uniform(0.0, 5.0, (3, n_in)), 3)
    if n_in:
        params[2, 0] = -1.0  # out of (0, inf) bounds
    return {"spec": spec, "parameters": params, "indices": indices(n_syst, same)}


@SETTINGS
@given(st.lists(predict_case(), min_size=BATCH, max_size=BATCH))
def test_predictions_match_reference(oracle, cases):
    ours, theirs = run_both(oracle, sl.predict, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case["spec"])
        ensure_ok(o, "ours", case["spec"])
        msg = repr(case["spec"])
        np.testing.assert_array_equal(o["bounds"], t["bounds"], err_msg=msg)
        np.testing.assert_array_equal(o["defaults"], t["defaults"], err_msg=msg)
        np.testing.assert_array_equal(o["check_bounds"], t["check_bounds"], err_msg=msg)
        rtol = 1e-6 if "linearized" in msg or "composed_matrix" in msg else 1e-10
        for idx, ro, rt in zip(case["indices"], o["results"], t["results"], strict=True):
            _close(ro["prediction"], rt["prediction"], rtol=rtol, atol=1e-9, msg=f"{idx} {msg}")
            _close(ro["weights"], rt["weights"], msg=f"weights {idx} {msg}")


@st.composite
def likelihood_case(draw):
    spec, n_in, n_out, _, _ = draw(any_predictor())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = np.round(rng.uniform(0.0, 5.0, (4, n_in)), 3)
    if n_in:
        params[3, -1] = -0.5
    data_shape = draw(st.sampled_from([(n_out,), (2, n_out)]))
    case = {
        "spec": spec,
        "data": rng.integers(0, 8, data_shape),
        "parameters": params,
        "systematics": draw(st.sampled_from([None, "marginal", "profile", "maximum"])),
    }
    if spec["type"] == "matrix" and n_in >= 2 and draw(st.booleans()):
        case["fix_values"] = [None] * (n_in - 1) + [2.0]
        case["parameters"] = params[:, :-1]
    elif n_in and draw(st.booleans()):
        comp, k, _, _ = draw(leaf(n_out=n_in, n_syst=1, kinds=("template", "matrix")))
        case["compose"] = comp
        case["parameters"] = np.round(rng.uniform(0.0, 5.0, (4, k)), 3)
    return case


@SETTINGS
@given(st.lists(likelihood_case(), min_size=BATCH, max_size=BATCH))
def test_log_likelihoods_match_reference(oracle, cases):
    ours, theirs = run_both(oracle, sl.log_likelihood, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        msg = repr(case)
        rtol = 1e-6 if "linearized" in msg or "composed_matrix" in msg else 1e-10
        _close(o["batch"], t["batch"], rtol=rtol, atol=1e-8, msg=msg)
        _close(o["single"], t["single"], rtol=rtol, atol=1e-8, msg=msg)


def test_poisson_edge_cases_match_reference(oracle):
    data = np.array([0, 1, 2, 3, 0])
    mu = np.array(
        [
            [0.0, 1.0, 2.0, 3.0, 0.0],
            [0.0, 0.0, 2.0, 3.0, 1.0],
            [1.0, 1.0, -1.0, 3.0, 1.0],
            [-1.0, 1.0, 1.0, 3.0, 1.0],
            [np.inf, 1.0, 1.0, 1.0, 1.0],
            [np.nan, 1.0, 1.0, 1.0, 1.0],
            [1e-300, 1e300, 1.0, 1.0, 1e-10],
        ]
    )
    cases = [
        {"data": data, "mu": mu},
        {"data": data, "mu": mu[0]},
        {"data": np.stack([data, data[::-1]]), "mu": mu.reshape(7, 1, 5)},
        {"data": [1.7, 2.2, 0.0, 0.0, 5.9], "mu": mu[:2]},
    ]
    ours, theirs = run_both(oracle, sl.poisson, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        _close(o["ll"], t["ll"], rtol=1e-13, msg=repr(case))


def test_systematics_consumers_match_reference(oracle):
    rng = np.random.default_rng(7)
    ll = rng.uniform(-50, -1, (3, 4, 5))
    ll[0, 0, :] = -np.inf
    ll[1, 1, 2] = -np.inf
    cases = [
        {"ll": ll},
        {"ll": ll, "weights": np.array([1.0, 2.0, 3.0, 0.5, 0.5])},
        {"ll": ll[0, 1], "weights": np.array([1.0, 1.0, 2.0, 0.1, 5.0])},
        {"ll": np.array([-1000.0, -1001.0, -2000.0])},
    ]
    ours, theirs = run_both(oracle, sl.consume, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        _close(o["marginal"], t["marginal"], rtol=1e-12, msg=repr(case))
        _close(o["profile"], t["profile"], rtol=1e-12, msg=repr(case))


def _fit_problem(seed, n, n_syst, systematics=None):
    """A well-conditioned unfolding problem: unique maximum, moderate counts."""
    rng = np.random.default_rng(seed)
    m = np.eye(n) * 0.7 + rng.uniform(0.0, 0.1, (n_syst, n, n))
    truth = rng.uniform(5.0, 30.0, n)
    data = rng.poisson(m[0] @ truth)
    spec = {"type": "matrix", "matrices": m, "bounds": [[0.0, math.inf]] * n}
    spec["defaults"] = np.round(truth * 0.8, 2)
    case = {"spec": spec, "data": data, "seed": seed}
    if systematics:
        case["systematics"] = systematics
    return case, truth


def test_maximizer_results_match_reference(oracle):
    cases = [
        _fit_problem(1, 2, 1)[0],
        _fit_problem(2, 3, 1)[0],
        _fit_problem(3, 3, 2)[0],
        _fit_problem(4, 2, 3, "profile")[0],
    ]
    fixed = dict(_fit_problem(5, 3, 1)[0])
    fixed["fix_values"] = [None, 12.0, None]
    cases.append(fixed)
    ours, theirs = run_both(oracle, sl.maximize, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        # both optimisers stop within ~1e-6 of the same maximum of a concave problem
        assert_allclose(o["log_likelihood"], t["log_likelihood"], atol=1e-4)
        if case.get("systematics") != "profile":
            # (With two bins and two parameters every variation of the profile case
            # reaches the saturated likelihood: its maximum is not at a unique point.)
            assert_allclose(o["x"], t["x"], rtol=2e-3, atol=2e-3)
        assert o["fun"] == -o["log_likelihood"]
        assert_allclose(o["at_x"], o["log_likelihood"], atol=1e-9)


def test_wilks_p_values_match_reference(oracle):
    case, truth = _fit_problem(11, 3, 1)
    t0 = [round(float(v), 1) for v in truth]
    case["hypotheses"] = [
        [[None, None, t0[2]], None],
        [[t0[0], None, None], None],
        [[t0[0] * 1.5, None, None], None],
        [[None, t0[1] * 0.6, t0[2]], [None, None, t0[2]]],
        [[t0[0], t0[1], t0[2]], None],
    ]
    case2, _ = _fit_problem(12, 2, 2, "profile")
    case2["hypotheses"] = [[[None, 10.0], None], [[20.0, None], None]]
    ours, theirs = run_both(oracle, sl.wilks, [case, case2])
    for c, o, t in zip([case, case2], ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", c)
        ensure_ok(o, "ours", c)
        assert_allclose(o["p"], t["p"], atol=2e-3, rtol=1e-2)


def test_toy_p_values_agree_statistically(oracle):
    case, truth = _fit_problem(21, 2, 2)
    case["parameters"] = np.round(truth * 1.1, 2)
    case["N"] = 2000
    case["max_N"] = 20
    ours, theirs = run_both(oracle, sl.toy_p_values, [case])
    o, t = ours[0], theirs[0]
    ensure_ok(t, "remu 0.8.0", case)
    ensure_ok(o, "ours", case)
    for key, n in (("likelihood", case["N"]), ("max_likelihood", case["max_N"])):
        p = 0.5 * (float(o[key]) + float(t[key]))
        sigma = math.sqrt(max(p * (1 - p), 1.0 / n) * 2.0 / n)
        assert abs(float(o[key]) - float(t[key])) <= 5 * sigma + 1.0 / n, (key, o, t)
    assert np.shape(o["likelihood"]) == np.shape(t["likelihood"]) == ()


def test_jeffreys_prior_matches_reference(oracle):
    rng = np.random.default_rng(3)
    cases = [
        {
            "response": [[0.5, 0.1], [0.2, 0.6], [0.1, 0.1]],
            "limits": [[0, None], [0, None]],
            "defaults": [1.0, 1.0],
            "dx": 1e-3,
            "values": [[1.0, 2.0], [5.0, 0.5], [-1.0, 1.0]],
        },
        {
            "response": rng.uniform(0.0, 1.0, (4, 3)),
            "limits": [[0, 100], [0, 100], [0, 100]],
            "defaults": [1.0, 1.0, 1.0],
            "dx": 1e-2,
            "total": 50.0,
            "values": [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [3.0, 2.0, 1.0]],
        },
        {
            "response": rng.uniform(0.0, 1.0, (2, 5, 3)),
            "limits": [[0, None]] * 3,
            "defaults": [1.0, 1.0, 1.0],
            "dx": 1e-3,
            "values": [[4.0, 2.0, 1.0]],
        },
    ]
    ours, theirs = run_both(oracle, sl.jeffreys, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        _close(o["log_prior"], t["log_prior"], rtol=1e-8, msg=repr(case))
        finite = np.isfinite(t["log_prior"])
        assert_allclose(o["fisher"][finite], t["fisher"][finite], rtol=1e-8)


def test_derivative_helper_matches_reference(oracle):
    cases = [{"x0": 0.3, "dx": 1e-3}, {"x0": [0.5, 1.5, -2.0], "dx": 1e-2}]
    ours, theirs = run_both(oracle, sl.derivative, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        for key in t:
            assert_allclose(o[key], t[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_emcee_initial_guess_has_the_reference_shape_and_support(oracle):
    spec = {
        "type": "template",
        "templates": np.stack([np.eye(4), np.eye(4)]),
        "bounds": [[0.0, math.inf], [-math.inf, 1.001], [1.0, math.inf], [0.0, 1.0]],
    }
    case = {"spec": spec, "data": np.array([1, 0, 3, 1]), "seed": 4, "nwalkers": 2000}
    ours, theirs = run_both(oracle, sl.initial_guess, [case])
    o, t = ours[0], theirs[0]
    ensure_ok(t, "remu 0.8.0", case)
    ensure_ok(o, "ours", case)
    assert o["shape"] == t["shape"] == [2000, 4]
    assert o["inside"]
    assert t["inside"]
    # same distributions (uniform, shifted exponentials): sample means within ~5 sigma
    assert_allclose(o["mean"], t["mean"], atol=0.15)


def _wild_profile_problem(seed, systematics="profile"):
    """Two parameters, eight variations of +-50 %: several maxima."""
    rng = np.random.default_rng(seed)
    nominal = rng.uniform(0.1, 0.5, (6, 2))
    matrices = nominal * rng.uniform(0.5, 1.5, (8, 6, 2))
    data = rng.poisson(matrices[0] @ np.array([60.0, 30.0]))
    spec = {"type": "matrix", "matrices": matrices, "bounds": [[0.0, math.inf]] * 2}
    spec["defaults"] = [10.0, 10.0]
    return {"spec": spec, "data": data, "seed": seed, "systematics": systematics}


def test_profile_maxima_are_at_least_the_reference_ones(oracle):
    # docs/differences.md D14: the engine solves linear profile likelihoods exactly,
    # 0.8.0's basin hopping often stops in a lower maximum.
    cases = [_wild_profile_problem(seed) for seed in range(30, 38)]
    ours, theirs = run_both(oracle, sl.maximize, cases)
    gains = []
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        reference = float(t["log_likelihood"])
        assert o["log_likelihood"] >= reference - 1e-6 * abs(reference), (o, t)
        assert_allclose(o["at_x"], o["log_likelihood"], rtol=1e-10)
        gains.append(o["log_likelihood"] - reference)
    assert max(gains) > 1e-3, gains


def _systematics_problem(seed, systematics):
    """A 2-template fit through a 100-variation response (variations of a few per cent)."""
    rng = np.random.default_rng(seed)
    pos = np.linspace(0.0, 1.0, 20)
    smearing = np.exp(-0.5 * ((np.linspace(0.0, 1.0, 6)[:, None] - pos) / 0.15) ** 2)
    nominal = smearing / smearing.sum(axis=0) * (0.5 + 0.4 * pos)
    matrices = nominal * rng.uniform(0.92, 1.08, (100, 1, 20))
    templates = np.array([np.exp(-0.5 * ((pos - c) / 0.25) ** 2) for c in (0.3, 0.7)])
    templates /= templates.sum(axis=1, keepdims=True)
    folded = np.einsum("srt,kt->srk", matrices, templates)
    data = rng.poisson(folded[0] @ np.array([300.0, 200.0]))
    spec = {"type": "matrix", "matrices": folded, "bounds": [[0.0, math.inf]] * 2}
    spec["defaults"] = [1.0, 1.0]
    return {"spec": spec, "data": data, "seed": seed, "systematics": systematics, "max_N": 150}


def test_toy_p_values_with_systematics_agree_statistically(oracle):
    cases = [_systematics_problem(41, "marginal"), _systematics_problem(42, "profile")]
    ours, theirs = run_both(oracle, sl.toy_p_values, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        n = case["max_N"]
        p = 0.5 * (float(o["max_likelihood"]) + float(t["max_likelihood"]))
        sigma = math.sqrt(max(p * (1 - p), 1.0 / n) * 2.0 / n)
        assert (
            abs(float(o["max_likelihood"]) - float(t["max_likelihood"])) <= 5 * sigma + 1.0 / n
        ), (
            case["systematics"],
            o,
            t,
        )
