"""A matrix built from generated events reproduces the generator's known migration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from remu import binning, migration

EDGES = np.linspace(0.0, 10.0, 11)
SIGMA = 0.7


def efficiency(true_bin: np.ndarray) -> np.ndarray:
    return 0.5 + 0.04 * true_bin


def expected_migration() -> np.ndarray:
    """M[i, j] = eff_j * P(reco in bin i | true uniform in bin j), by quadrature."""
    n = len(EDGES) - 1
    M = np.empty((n, n))
    for j in range(n):
        x = np.linspace(EDGES[j], EDGES[j + 1], 4001)[:-1] + (EDGES[1] - EDGES[0]) / 8000
        cdf = stats.norm.cdf((EDGES[:, None] - x[None, :]) / SIGMA)  # (n+1, points)
        M[:, j] = np.diff(cdf, axis=0).mean(axis=1) * efficiency(j)
    return M


def generate(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 10.0, n)
    r = t + rng.normal(0.0, SIGMA, n)
    lost = rng.random(n) >= efficiency(np.floor(t))
    r[lost] = np.nan
    w = rng.uniform(0.5, 1.5, n)  # weights independent of x: migration unchanged
    return np.rec.fromarrays([t, r, w], names="true_x,reco_x,w")


@pytest.fixture(scope="module")
def filled():
    rm = migration.ResponseMatrix(
        binning.LinearBinning("reco_x", EDGES), binning.LinearBinning("true_x", EDGES)
    )
    ev = generate(200_000, 99)
    rm.fill(ev, weight=ev["w"])
    return rm


def test_raw_matrix_reproduces_generator(filled):
    M_true = expected_migration()
    entries = filled.get_truth_entries_as_ndarray()
    # weighted events: effective number of events per truth bin (Kish)
    values = filled.get_truth_values_as_ndarray()
    n_eff = values**2 / filled.get_truth_sumw2_as_ndarray()
    err = np.sqrt(M_true * (1 - M_true) / n_eff) + 1e-6
    pull = (filled.get_response_matrix_as_ndarray() - M_true) / err
    assert entries.min() > 18000
    assert np.abs(pull).max() < 5
    # pulls are standard-normal-ish, not systematically shifted
    assert abs(pull.mean()) < 0.5
    assert 0.5 < pull.std() < 1.5


def test_bayesian_mean_and_toys_reproduce_generator(filled):
    M_true = expected_migration()
    mean = filled.get_mean_response_matrix_as_ndarray()
    sd = np.sqrt(filled.get_statistical_variance_as_ndarray())
    pull = (mean - M_true) / (sd + 1e-6)
    assert np.abs(pull).max() < 5
    toys = filled.generate_random_response_matrices(400, rng=5)
    # the generator's matrix lies inside the toys' spread
    z = (toys.mean(axis=0) - M_true) / (toys.std(axis=0) + 1e-6)
    assert np.abs(z).max() < 5
    assert np.abs(toys.sum(axis=1).mean(axis=0) - M_true.sum(axis=0)).max() < 0.02
