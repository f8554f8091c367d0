"""Response matrices: filling a 100 x 100 matrix from events, and drawing toy matrices.

* ``response/fill``: a ``ResponseMatrix`` of 100 reco x 100 truth bins
  (``LinearBinning`` each) filled from a structured array of 10^6 events
  ("full"; 10^5 "quick") with a Gaussian smearing, 80 % efficiency (NaN reco
  values for lost events) and per-event weights. The NumPy reference fills the
  same three histograms (truth, reco and the 2-D response; values, entries and
  sums of squared weights) with ``np.histogramdd``. The target is an absolute
  rate of 7 M events/s: ``ResponseMatrix.fill`` converts the events once and
  looks each event's truth and reco bin up once for all three histograms.
* ``response/toys``: 1000 random 100 x 100 matrices ("full"; 100 "quick") from
  the posterior of a filled matrix with unit weights. The NumPy reference draws
  the same number of Gamma variates, with the matrix's Dirichlet parameters, in
  one ``Generator.standard_gamma`` call.
"""

from __future__ import annotations

import importlib

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_response
    from benchmarks._harness import Workload

_EVENTS = {"quick": 10**5, "full": 10**6}
_TOYS = {"quick": 100, "full": 1000}
_NBINS = 100
_EDGES = np.linspace(0.0, 10.0, _NBINS + 1)


def _events(n: int, seed: int = 20260101) -> np.ndarray:
    rng = np.random.default_rng(seed)
    true_x = rng.uniform(0.0, 10.0, n)
    reco_x = true_x + rng.normal(0.0, 0.3, n)
    reco_x[rng.random(n) > 0.8] = np.nan
    events = np.empty(n, dtype=[("true_x", float), ("reco_x", float), ("w", float)])
    events["true_x"] = true_x
    events["reco_x"] = reco_x
    events["w"] = rng.uniform(0.5, 1.5, n)
    return events


def _modules(remu):
    binning = importlib.import_module(remu.__name__ + ".binning")
    migration = importlib.import_module(remu.__name__ + ".migration")
    return binning, migration


def _new_matrix(remu):
    binning, migration = _modules(remu)
    reco = binning.LinearBinning("reco_x", _EDGES)
    truth = binning.LinearBinning("true_x", _EDGES)
    return migration.ResponseMatrix(reco, truth)


def _fill_setup(size: str) -> dict:
    return {"events": _events(_EVENTS[size])}


def _fill(remu, data):
    matrix = _new_matrix(remu)
    events = data["events"]
    matrix.fill(events, weight=events["w"])
    return matrix


def _histograms(index: np.ndarray, w: np.ndarray, n: int) -> tuple:
    ok = index >= 0
    i, wi = index[ok], w[ok]
    return (
        np.bincount(i, weights=wi, minlength=n),
        np.bincount(i, minlength=n),
        np.bincount(i, weights=wi * wi, minlength=n),
    )


def _bin_index(x: np.ndarray) -> np.ndarray:
    k = np.searchsorted(_EDGES, x, side="right") - 1
    return np.where((k >= 0) & (k < _NBINS), k, -1)  # NaN sorts last: outside


def _fill_reference(data):
    events = data["events"]
    w = events["w"]
    true_x = events["true_x"]
    reco_x = events["reco_x"]
    both = np.stack([reco_x, true_x], axis=1)
    out = []
    for sample, bins in ((true_x, [_EDGES]), (reco_x, [_EDGES]), (both, [_EDGES, _EDGES])):
        out.append(
            (
                np.histogramdd(sample, bins=bins, weights=w)[0],
                np.histogramdd(sample, bins=bins)[0],
                np.histogramdd(sample, bins=bins, weights=w * w)[0],
            )
        )
    return out


def _toy_setup(size: str) -> dict:
    """A filled matrix, set from NumPy histograms (fast in every remu version)."""
    import remu

    events = _events(10**6, seed=7)
    t = _bin_index(events["true_x"])
    r = _bin_index(events["reco_x"])
    both = np.where((t >= 0) & (r >= 0), r * _NBINS + t, -1)
    ones = np.ones(len(events))
    matrix = _new_matrix(remu)
    for prefix, index, n in (
        ("truth", t, _NBINS),
        ("reco", r, _NBINS),
        ("response", both, _NBINS**2),
    ):
        values, entries, sumw2 = _histograms(index, ones, n)
        getattr(matrix, f"set_{prefix}_values_from_ndarray")(values)
        getattr(matrix, f"set_{prefix}_entries_from_ndarray")(entries)
        getattr(matrix, f"set_{prefix}_sumw2_from_ndarray")(sumw2)
    entries = _histograms(both, ones, _NBINS**2)[1].reshape(_NBINS, _NBINS)
    alpha = entries + min(1.0, 3.0 / _NBINS)
    return {"matrix": matrix, "ntoys": _TOYS[size], "alpha": alpha}


def _toys(_remu, data):
    return data["matrix"].generate_random_response_matrices(size=data["ntoys"])


def _toys_reference(data):
    rng = np.random.default_rng(1)
    alpha = data["alpha"]
    return rng.standard_gamma(alpha, size=(data["ntoys"], *alpha.shape))


WORKLOADS = [
    Workload(
        name="response/fill/100x100",
        setup=_fill_setup,
        run=_fill,
        reference=_fill_reference,
        target=">= 7 M/s; <= 1x reference; >= 30x vs oracle",
        unit_count=lambda data: float(len(data["events"])),
        tags=["migration"],
    ),
    Workload(
        name="response/toys/100x100",
        setup=_toy_setup,
        run=_toys,
        reference=_toys_reference,
        target="<= 2x reference",
        unit_count=lambda data: float(data["ntoys"]),
        tags=["migration"],
    ),
]
