"""Differential tests of ``remu.matrix_utils`` against remu 0.8.0.

``improve_stats`` is compared exactly where its choice is forced (a bin with a
single neighbour); Mahalanobis distances and compatibilities come from posterior
throws, so they are compared statistically with many throws.
"""

from __future__ import annotations

import numpy as np
from migration_specs import compare_trees as _compare
from migration_specs import make_events
from oracle_client import ensure_ok, run_both, skip_without_oracle

from numeric_asserts import assert_allclose

skip_without_oracle()

import scenarios_matrix_utils as smu

RECO = {"kind": "linear", "variable": "rx", "edges": [0, 1, 2, 3, 4, 5]}
TRUTH = {"kind": "linear", "variable": "tx", "edges": [0, 0.3, 2, 4, 5]}


def test_improve_stats_matches_reference_where_the_merge_is_forced(oracle):
    events = make_events(7, 300)
    weights = np.round(np.random.default_rng(7).uniform(0.5, 1.5, 300), 3)
    base = {"reco": RECO, "truth": TRUTH, "events": events, "weights": weights}
    cases = [
        base,  # the first bin has the fewest entries: merged into the second
        {**base, "index": 3},  # the last bin: merged into the one before
        {**base, "nuisance": [1], "impossible": [0]},  # not carried over
        {
            **base,
            "truth": {
                "kind": "rectilinear",
                "variables": ["tx", "ty"],
                "edges": [[0, 0.3, 5], [0, 5]],
            },
        },
    ]
    ours, theirs = run_both(oracle, smu.improve_stats, cases)
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        ensure_ok(t, "remu 0.8.0", i)
        ensure_ok(o, "ours", i)
        _compare(o, t, f"case {i}")


def test_mahalanobis_distance_and_compatibility_agree_statistically(oracle):
    first = {
        "reco": RECO,
        "truth": TRUTH,
        "events": make_events(7, 300),
        "weights": np.ones(300),
    }
    second = {**first, "events": make_events(8, 300, smear=0.8)}
    n = 2000
    ours, theirs = run_both(
        oracle, smu.mahalanobis, [{"first": first, "second": second, "seed": 5, "N": n}]
    )
    o, t = ours[0], theirs[0]
    ensure_ok(t, "remu 0.8.0", "mahalanobis")
    ensure_ok(o, "ours", "mahalanobis")
    assert o["df"] == t["df"] == 4 * 5
    assert o["dfm_shape"] == t["dfm_shape"] == [n, 4]
    # covariances estimated from 2000 throws: distances agree to ~10 %
    assert_allclose(o["distance"], t["distance"], rtol=0.2)
    assert_allclose(o["dfm_mean"], t["dfm_mean"], rtol=0.05)
    assert_allclose(o["null"], t["null"], rtol=0.15)
    assert_allclose(o["dists_mean"], t["dists_mean"], rtol=0.05)
    assert abs(o["count"] - t["count"]) <= 0.03
    assert_allclose(o["chi2"], t["chi2"], rtol=1.0, atol=0.01)


def test_failing_checks_raise_the_reference_exception_types(oracle):
    """Our exception classes subclass what 0.8.0 raises, so ``except`` clauses keep working."""
    sparse = {"reco": RECO, "truth": TRUTH, "events": make_events(7, 4), "weights": np.ones(4)}
    single = {**sparse, "truth": {"kind": "linear", "variable": "tx", "edges": [0, 5]}}
    cases = [
        {
            "what": "compatibility without quality bins",
            "first": sparse,
            "second": sparse,
            "min_quality": 0.95,
        },
        {"what": "improve_stats of a single bin", "first": single},
        {"what": "merge in a rectangular binning"},
    ]
    ours, theirs = run_both(oracle, smu.failing_checks, cases)
    expected_ours = ["InsufficientStatisticsError", "NoMergeNeighbourError", "BinMergeError"]
    for case, o, t, name in zip(cases, ours, theirs, expected_ours, strict=True):
        assert "__error__" in t, (case["what"], t)
        assert "__error__" in o, (case["what"], o)
        assert o["__error__"] == name
        assert t["__error__"] in o["mro"], (case["what"], t["__error__"], o["mro"])
    # the reference's messages are kept as the start of ours
    assert ours[0]["message"].startswith(theirs[0]["message"])
    assert ours[2]["message"] == theirs[2]["message"]


def test_merge_data_index_outside_the_binning(oracle):
    """Difference D13: 0.8.0 suggests merges with bins that do not exist; remu raises."""
    cases = [{"index": i} for i in (0, 1, 2, 3, -1, 99)]
    ours, theirs = run_both(oracle, smu.merge_suggestions_at, cases)
    for o, t in zip(ours[:3], theirs[:3], strict=True):
        assert o == t  # valid indices agree
    # the reference: index 3 (one past the last bin) and -1 give suggestions naming
    # data index 3 or -1, which the 3-bin binning does not have; 99 raises IndexError
    assert theirs[3] == {"first": [[2]], "second": [[3]]}
    assert theirs[4] == {"first": [[-1]], "second": [[0]]}
    assert theirs[5]["__error__"] == "IndexError"
    for o in ours[3:]:
        assert o["__error__"] == "IndexOutOfRangeError"
        assert {"IndexError", "ValueError"} <= set(o["mro"])
        assert "out of range for a binning of 3 data bins" in o["message"]
