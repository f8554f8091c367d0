"""``remu.matrix_utils`` scenarios run identically with our remu and with remu 0.8.0."""

from __future__ import annotations

import numpy as np
import scenarios_binning as sb
import scenarios_migration as sm


def _mu():
    from remu import matrix_utils

    return matrix_utils


def improve_stats(case: dict) -> dict:
    """Merge the lowest-statistics truth bin when only one neighbour exists."""
    rm = sm._response(case)
    new = _mu().improve_stats(rm, **({"data_index": case["index"]} if "index" in case else {}))
    out = sm._raw(new)
    out["truth_structure"] = sb.structure(new.truth_binning)
    out["nuisance"] = list(new.nuisance_indices)
    out["mean"] = new.get_mean_response_matrix_as_ndarray()
    out["original_untouched"] = sm._raw(rm)
    return out


def mahalanobis(case: dict) -> dict:
    """Distances between two matrices (random throws: compared statistically)."""
    first = sm._response(case["first"])
    second = sm._response(case["second"])
    np.random.seed(case["seed"])
    d, dfm = _mu().mahalanobis_distance(first, second, N=case["N"], return_distances_from_mean=True)
    np.random.seed(case["seed"] + 1)
    count, chi2, null, dists, df = _mu().compatibility(
        first, second, N=case["N"], return_all=True, min_quality=0.0
    )
    return {
        "distance": np.asarray(d, dtype=float),
        "dfm_shape": list(np.shape(dfm)),
        "dfm_mean": np.asarray(dfm, dtype=float).mean(axis=0),
        "count": float(count),
        "chi2": float(chi2),
        "null": float(null),
        "dists_mean": float(np.mean(dists)),
        "df": int(df),
    }


def merge_suggestions_at(case: dict) -> dict:
    """The merge suggestions of a filled 3-bin linear binning for one data index."""
    from remu import binning

    b = binning.LinearBinning("x", [0, 1, 2, 3])
    b.set_entries_from_ndarray([3, 1, 2])
    suggestions = _mu()._merge_suggestions(b, case["index"])
    return {
        "first": [list(map(int, s["first_indices"])) for s in suggestions],
        "second": [list(map(int, s["second_indices"])) for s in suggestions],
    }


def failing_checks(case: dict) -> dict:
    """Checks that cannot work: the error each raises (compared by class hierarchy)."""
    if case["what"] == "compatibility without quality bins":
        first = sm._response(case["first"])
        second = sm._response(case["second"])
        _mu().compatibility(first, second, min_quality=case["min_quality"])
    elif case["what"] == "improve_stats of a single bin":
        _mu().improve_stats(sm._response(case["first"]))
    elif case["what"] == "merge in a rectangular binning":
        from remu import binning

        b = binning.RectangularBinning(["x"], [[(0, 1)], [(1, 2)]])
        _mu()._merge_suggestions(b, 0)
    return {"raised": False}
