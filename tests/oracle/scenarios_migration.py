"""Response-matrix scenarios run identically with our remu and with remu 0.8.0.

A case holds binning specs (see ``scenarios_binning``) for ``reco`` and ``truth``,
events as a structured array with weights, optional extra truth-only events for
``fill_up_truth``, optional CSV file paths, and nuisance/impossible indices.
"""

from __future__ import annotations

import io

import numpy as np
import scenarios_binning as sb


def _mig():
    from remu import migration

    return migration


def _response(case):
    mig = _mig()
    rm = mig.ResponseMatrix(
        sb.build(case["reco"]),
        sb.build(case["truth"]),
        nuisance_indices=list(case.get("nuisance", [])),
        impossible_indices=list(case.get("impossible", [])),
    )
    if case.get("csv") is not None:
        rm.fill_from_csv_file(case["csv"], weightfield="w")
    if case.get("events") is not None:
        rm.fill(case["events"], weight=case["weights"])
    if case.get("truth_events") is not None:
        rm.fill_up_truth(case["truth_events"], weight=case["truth_weights"])
    if case.get("truth_csv") is not None:
        rm.fill_up_truth_from_csv_file(case["truth_csv"], weightfield="w")
    return rm


def _raw(rm) -> dict:
    out = {}
    for part in ("truth", "reco", "response"):
        for what in ("values", "entries", "sumw2"):
            out[f"{part}_{what}"] = getattr(rm, f"get_{part}_{what}_as_ndarray")()
    out["filled"] = np.asarray(rm.filled_truth_indices, dtype=np.int64)
    return out


def _npz(write) -> dict:
    buf = io.BytesIO()
    write(buf)
    buf.seek(0)
    with np.load(buf) as f:
        return {k: f[k] for k in f.files}


def describe(case: dict) -> dict:
    """Contents, raw/mean/variance matrices, in-bin variation, export, sum."""
    rm = _response(case)
    out = _raw(rm)
    out["raw"] = rm.get_response_matrix_as_ndarray()
    out["mean"] = rm.get_mean_response_matrix_as_ndarray()
    out["variance"] = rm.get_statistical_variance_as_ndarray()
    filled = rm.filled_truth_indices
    out["mean_filled"] = rm.get_mean_response_matrix_as_ndarray(truth_indices=filled)
    out["variance_filled"] = rm.get_statistical_variance_as_ndarray(truth_indices=filled)
    out["raw_filled"] = rm.get_response_matrix_as_ndarray(truth_indices=filled)
    out["mean_weight_2"] = rm.get_mean_response_matrix_as_ndarray(expected_weight=2.0)
    if case.get("in_bin", False):
        out["in_bin"] = rm.get_in_bin_variation_as_ndarray()
        out["in_bin_raw"] = rm.get_in_bin_variation_as_ndarray(normalize=False)
    out["export_sparse"] = _npz(rm.export)
    out["export_dense"] = _npz(lambda f: rm.export(f, sparse=False))
    doubled = rm + rm
    out["sum"] = _raw(doubled)
    out["sum_mean"] = doubled.get_mean_response_matrix_as_ndarray()
    clone = rm.clone()
    out["clone_mean"] = clone.get_mean_response_matrix_as_ndarray()
    rm.reset()
    out["reset_filled"] = np.asarray(rm.filled_truth_indices, dtype=np.int64)
    out["reset_mean"] = rm.get_mean_response_matrix_as_ndarray()
    return out


def toys(case: dict) -> dict:
    """Sample mean and variance of posterior toy matrices (compared statistically)."""
    rm = _response(case)
    np.random.seed(case["seed"])
    kw = {}
    if case.get("filled_only"):
        kw["truth_indices"] = rm.filled_truth_indices
    t = rm.generate_random_response_matrices(size=case["n"], **kw)
    return {
        "shape": list(t.shape),
        "mean": t.mean(axis=0),
        "var": t.var(axis=0),
        "analytic_mean": rm.get_mean_response_matrix_as_ndarray(**kw),
        "analytic_var": rm.get_statistical_variance_as_ndarray(**kw),
        "min": float(t.min()),
        "max_colsum": float(t.sum(axis=-2).max()),
    }


def builder(case: dict) -> dict:
    """ResponseMatrixArrayBuilder over several fillings of one matrix."""
    mig = _mig()
    b = mig.ResponseMatrixArrayBuilder(case["nstat"])
    rm = _response({**case, "events": None, "truth_events": None})
    for events, weights, w in zip(
        case["variations"], case["variation_weights"], case["matrix_weights"], strict=True
    ):
        rm.reset()
        rm.fill(events, weight=weights)
        if case.get("truth_events") is not None:
            rm.fill_up_truth(case["truth_events"], weight=case["truth_weights"])
        b.add_matrix(rm, w)
    np.random.seed(case["seed"])
    m, w = b.get_random_response_matrices_as_ndarray()
    mm, mw = b.get_mean_response_matrices_as_ndarray()
    out = {
        "nmatrices": int(b.nmatrices),
        "filled": np.array([int(i) for i in b.get_filled_truth_indices()], dtype=np.int64),
        "truth_entries": b.get_truth_entries_as_ndarray(),
        "weights": np.asarray(w, dtype=float),
        "mean_matrices": mm,
        "mean_weights": np.asarray(mw, dtype=float),
        "export": {k: v for k, v in _npz(b.export).items() if k != "matrices"},
        "export_matrices_shape": list(_npz(b.export)["matrices"].shape),
    }
    if case["nstat"] == 0:
        out["matrices"] = m
    else:
        out["matrices_shape"] = list(m.shape)
    return out


def export_files(case: dict) -> dict:
    """Write the mean matrix (sparse and dense) and a builder file to this side's prefix."""
    import oracle_exchange

    prefix = case["prefix"][oracle_exchange.SIDE]
    rm = _response(case)
    rm.export(prefix + "-sparse.npz")
    rm.export(prefix + "-dense.npz", sparse=False)
    b = _mig().ResponseMatrixArrayBuilder(0)
    b.add_matrix(rm, 1.0)
    rm2 = _response({**case, "weights": case["weights"] * 0.5})
    b.add_matrix(rm2, 0.25)
    b.export(prefix + "-builder.npz")
    return {"written": prefix}


def predict_files(case: dict) -> dict:
    """Load exported files with ResponseMatrixPredictor and predict."""
    from remu import likelihood

    out = {}
    for name in ("sparse", "dense", "builder"):
        for side, prefix in sorted(case["prefix"].items()):
            p = likelihood.ResponseMatrixPredictor(f"{prefix}-{name}.npz")
            pred, w = p(case["parameters"][: len(p.defaults)])
            out[f"{name}-{side}"] = {
                "prediction": np.asarray(pred, dtype=float),
                "weights": np.asarray(w, dtype=float),
                "bounds": np.asarray(p.bounds, dtype=float),
                "defaults": np.asarray(p.defaults, dtype=float),
            }
    return out
