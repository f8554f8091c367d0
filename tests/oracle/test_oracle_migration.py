"""Differential tests of ``remu.migration`` against remu 0.8.0.

Random reco/truth binnings are filled with the same random events (dict-free
structured arrays, CSV files, fill-up of the truth) in both implementations; the
raw contents, raw/mean/variance matrices, in-bin variations, exported files, sums
and builder outputs must agree to rounding, and posterior toy matrices
statistically (the random streams differ by design, see docs/differences.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from binning_specs import GRID
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from migration_specs import compare_trees as _compare
from migration_specs import make_events
from oracle_client import ensure_ok, examples, run_both, skip_without_oracle

from numeric_asserts import assert_allclose

skip_without_oracle()

import scenarios_migration as sm

BATCH = 6
SETTINGS = settings(
    max_examples=examples(4),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def _edges(draw, min_bins=2, max_bins=4):
    return sorted(
        draw(st.sets(st.sampled_from(GRID), min_size=min_bins + 1, max_size=max_bins + 1))
    )


@st.composite
def axis_binning(draw, prefix: str, allow_sub: bool):
    """A LinearBinning or RectilinearBinning over ``<prefix>x`` (and ``<prefix>y``)."""
    if draw(st.booleans()):
        spec = {"kind": "linear", "variable": prefix + "x", "edges": draw(_edges())}
        spec["include_upper"] = draw(st.booleans())
        nbins = len(spec["edges"]) - 1
    else:
        spec = {
            "kind": "rectilinear",
            "variables": [prefix + "x", prefix + "y"],
            "edges": [draw(_edges(max_bins=3)), draw(_edges(max_bins=3))],
        }
        nbins = math.prod(len(e) - 1 for e in spec["edges"])
    if allow_sub and draw(st.booleans()):
        k = draw(st.integers(0, nbins - 1))
        # open outer edges: the subbinning covers its bin (no D22 events, which 0.8.0
        # cannot fill)
        inner = draw(_edges(min_bins=1, max_bins=3))
        spec["subbinnings"] = {
            str(k): {
                "kind": "linear",
                "variable": prefix + "y",
                "edges": [-math.inf, *inner, math.inf],
            }
        }
    return spec


def _data_size(spec) -> int:
    if spec["kind"] == "linear":
        n = len(spec["edges"]) - 1
    else:
        n = math.prod(len(e) - 1 for e in spec["edges"])
    return n + sum(len(s["edges"]) - 2 for s in spec.get("subbinnings", {}).values())


@st.composite
def response_case(draw):
    reco = draw(axis_binning("r", allow_sub=True))
    truth = draw(axis_binning("t", allow_sub=True))
    seed = draw(st.integers(0, 2**32 - 1))
    unit = draw(st.booleans())
    n_truth, n_reco = _data_size(truth), _data_size(reco)
    return {
        "reco": reco,
        "truth": truth,
        "seed": seed,
        "unit_weights": unit,
        "fill_up": draw(st.booleans()),
        "nuisance": sorted(draw(st.sets(st.integers(0, n_truth - 1), max_size=2))),
        "impossible": sorted(draw(st.sets(st.integers(0, n_reco - 1), max_size=1))),
        # D24 (one-bin axes) and subbinnings give bins without neighbours: ValueError
        "in_bin": "subbinnings" not in truth,
    }


def _expand(case, n=80):
    rng = np.random.default_rng(case["seed"])
    events = make_events(case["seed"], n)
    weights = np.ones(n) if case["unit_weights"] else np.round(rng.uniform(0.5, 2.0, n), 3)
    out = {**case, "events": events, "weights": weights}
    if case["fill_up"]:
        # all generated events: the reconstructed ones again, plus some that were lost
        extra = make_events(case["seed"] + 1, 20, lost=1.0)
        out["truth_events"] = np.concatenate([events, extra])
        out["truth_weights"] = np.concatenate([weights, np.ones(20)])
    return out


@SETTINGS
@given(st.lists(response_case(), min_size=BATCH, max_size=BATCH))
def test_response_matrices_match_reference(oracle, cases):
    cases = [_expand(c) for c in cases]
    ours, theirs = run_both(oracle, sm.describe, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", {k: case[k] for k in ("reco", "truth", "seed")})
        ensure_ok(o, "ours", {k: case[k] for k in ("reco", "truth", "seed")})
        _compare(o, t, repr({k: case[k] for k in ("reco", "truth", "seed", "fill_up")}))


def _write_csv(path, events, weights):
    with Path(path).open("w") as f:
        f.write("rx, ry,tx,ty,w\n")  # a blank before a name is allowed
        f.writelines(
            ",".join(repr(float(v)) for v in (*e, w)) + "\n"
            for e, w in zip(events, weights, strict=True)
        )


def test_csv_filling_matches_reference(oracle, tmp_path):
    events = make_events(5, 150)
    weights = np.round(np.random.default_rng(5).uniform(0.5, 2.0, 150), 3)
    extra = make_events(6, 40, lost=1.0)
    reco_csv, truth_csv = tmp_path / "reco.csv", tmp_path / "truth.csv"
    _write_csv(reco_csv, events, weights)
    _write_csv(truth_csv, np.concatenate([events, extra]), np.concatenate([weights, np.ones(40)]))
    base = {
        "reco": {"kind": "rectilinear", "variables": ["rx", "ry"], "edges": [[0, 2, 4], [0, 3, 5]]},
        "truth": {
            "kind": "linear",
            "variable": "tx",
            "edges": [-1, 1, 2, 3, 6],
            "subbinnings": {
                "2": {"kind": "linear", "variable": "ty", "edges": [-math.inf, 2, math.inf]}
            },
        },
        "nuisance": [0],
    }
    cases = [
        {**base, "csv": str(reco_csv)},
        {**base, "csv": str(reco_csv), "truth_csv": str(truth_csv)},
        {**base, "csv": [str(reco_csv), str(reco_csv)]},
    ]
    ours, theirs = run_both(oracle, sm.describe, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        _compare(o, t, repr(case))


def test_posterior_toys_agree_statistically(oracle):
    n = 4000
    base = {
        "reco": {"kind": "linear", "variable": "rx", "edges": [0, 1, 2, 3, 5]},
        "truth": {"kind": "linear", "variable": "tx", "edges": [0, 1.5, 3, 5]},
        "seed": 3,
        "n": n,
        "nuisance": [2],
        "impossible": [0],
    }
    events = make_events(3, 200)
    weights = np.round(np.random.default_rng(3).uniform(0.5, 2.0, 200), 3)
    empty = {**base, "truth": {"kind": "linear", "variable": "tx", "edges": [10, 11, 12]}}
    empty["nuisance"] = [1]
    cases = [
        {**base, "events": events, "weights": weights},
        {**base, "events": events, "weights": np.ones(200), "filled_only": True},
        {**empty, "events": events, "weights": weights},  # nothing in the truth binning
    ]
    ours, theirs = run_both(oracle, sm.toys, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        assert o["shape"] == t["shape"]
        _compare(o["analytic_mean"], t["analytic_mean"])
        _compare(o["analytic_var"], t["analytic_var"])
        # two independent samples of the same posterior: 6 standard errors
        se = np.sqrt((o["var"] + t["var"]) / n)
        assert np.all(np.abs(o["mean"] - t["mean"]) <= 6 * se + 1e-12), (o["mean"], t["mean"])
        big = t["var"] > 1e-8
        assert_allclose(o["var"][big], t["var"][big], rtol=0.2)
        assert o["min"] >= 0.0
        assert o["max_colsum"] <= 1.0 + 1e-12


def test_array_builder_matches_reference(oracle):
    truth = {"kind": "linear", "variable": "tx", "edges": [0, 1, 2, 3, 5]}
    reco = {"kind": "rectilinear", "variables": ["rx", "ry"], "edges": [[0, 2, 5], [0, 2.5, 5]]}
    rng = np.random.default_rng(9)
    base = make_events(9, 120)
    variations, vweights = [], []
    for k in range(3):  # same truth, different detector smearing and weights
        ev = base.copy()
        ev["rx"] = ev["tx"] + rng.normal(0, 0.3 + 0.2 * k, len(ev))
        ev["ry"] = ev["ty"] + rng.normal(0, 0.5, len(ev))
        ev["rx"][np.isnan(base["rx"])] = np.nan
        variations.append(ev)
        vweights.append(np.round(rng.uniform(0.8, 1.2, len(ev)), 3))
    extra = make_events(10, 30, lost=1.0)
    common = {
        "reco": reco,
        "truth": truth,
        "variations": variations,
        "variation_weights": vweights,
        "matrix_weights": [1.0, 0.5, 2.0],
        "nuisance": [3],
        "seed": 1,
    }
    fill_up = {
        "truth_events": np.concatenate([base, extra]),
        "truth_weights": np.ones(len(base) + len(extra)),
    }
    cases = [
        {**common, "nstat": 0},
        {**common, "nstat": 0, **fill_up},
        {**common, "nstat": 3},
    ]
    ours, theirs = run_both(oracle, sm.builder, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case["nstat"])
        ensure_ok(o, "ours", case["nstat"])
        _compare(o, t, f"nstat={case['nstat']}")


def test_exported_files_are_read_alike(oracle, tmp_path):
    """Files written by either side predict the same through either side's reader."""
    case = _expand(
        {
            "reco": {
                "kind": "rectilinear",
                "variables": ["rx", "ry"],
                "edges": [[0, 2, 5], [0, 3, 5]],
            },
            "truth": {"kind": "linear", "variable": "tx", "edges": [-1, 1, 2, 3, 6, 8]},
            "seed": 17,
            "unit_weights": False,
            "fill_up": True,
            "nuisance": [0],
            "impossible": [],
        }
    )
    case["prefix"] = {"ours": str(tmp_path / "ours"), "oracle": str(tmp_path / "oracle")}
    ours, theirs = run_both(oracle, sm.export_files, [case])
    ensure_ok(theirs[0], "remu 0.8.0", "export")
    ensure_ok(ours[0], "ours", "export")
    read = {"prefix": case["prefix"], "parameters": np.linspace(1.0, 9.0, 5)}
    ours, theirs = run_both(oracle, sm.predict_files, [read])
    ensure_ok(theirs[0], "remu 0.8.0", "predict")
    ensure_ok(ours[0], "ours", "predict")
    _compare(ours[0], theirs[0], "read by ours vs read by 0.8.0")
    for name in ("sparse", "dense", "builder"):
        _compare(
            ours[0][f"{name}-ours"], ours[0][f"{name}-oracle"], f"{name}: file of ours vs 0.8.0"
        )
