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
    np.testing.assert_allclose(o["distance"], t["distance"], rtol=0.2)
    np.testing.assert_allclose(o["dfm_mean"], t["dfm_mean"], rtol=0.05)
    np.testing.assert_allclose(o["null"], t["null"], rtol=0.15)
    np.testing.assert_allclose(o["dists_mean"], t["dists_mean"], rtol=0.05)
    assert abs(o["count"] - t["count"]) <= 0.03
    np.testing.assert_allclose(o["chi2"], t["chi2"], rtol=1.0, atol=0.01)
