"""Likelihood evaluation, fits and toy p-values through ``remu.likelihood``.

* ``likelihood/response-100x100/single``: log-likelihood of a 100-bin data set
  through a 100 x 100 ``ResponseMatrixPredictor`` with 100 systematic variations
  (weighted, marginal systematics), one parameter point per call; 100 calls
  ("full"; 20 "quick"). The ``.npz`` is written in setup with the export layout
  (sparse form, all columns filled).
* ``likelihood/response-100x100/batch``: the same for a batch of 1000 parameter
  points in one call ("full"; 100 "quick").
  NumPy reference for both: ``einsum`` of the matrices with the parameters, the
  Poisson formula ``xlogy(d, mu) - mu - gammaln(d + 1)`` summed over bins, and the
  weighted average of the likelihoods over the systematics (``logsumexp``).
* ``likelihood/seed-chain/build``: the seed page's chain (flux-folding
  ``LinearEinsumPredictor`` s for background and signal cross sections, a noise
  ``TemplatePredictor`` with 100 identical variations, ``ConcatenatedPredictor``
  and ``ComposedPredictor`` with ``"same"`` systematics and a 100-variation
  8 x 169 response matrix) linearised by ``ComposedMatrixPredictor`` against the
  4-template predictor (noise, background, model A, model B). Synthetic numbers
  of the same shapes as example 05.
* ``likelihood/seed-chain/fit``: ``BasinHoppingMaximizer`` fit of that 4-template
  model (``np.random.seed(0)`` first).
* ``likelihood/seed-chain/max-likelihood-p-value``: ``HypothesisTester`` on the
  model with the model-B weight fixed to 0, ``max_likelihood_p_value`` with 100
  toys ("full"; 20 "quick"), each toy re-fitted; rate in toys/s. Reference (the
  issue's): the same observed fit and toys, then a loop that re-fits each toy with
  a fresh ``LikelihoodCalculator`` and scipy's per-fit basin hopping (our package's
  ``BasinHoppingMaximizer`` with the fitting engine switched off).
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_likelihood
    from benchmarks._harness import Workload

_NBINS = 100
_NSYST = 100
_SINGLE = {"quick": 20, "full": 100}
_BATCH = {"quick": 100, "full": 1000}
_TOYS = {"quick": 20, "full": 100}


def _likelihood_module():
    return importlib.import_module("remu.likelihood")


def _write_npz(directory: str, name: str, matrices, truth_entries, weights) -> str:
    path = str(Path(directory) / name)
    np.savez(
        path,
        matrices=matrices,
        weights=weights,
        truth_entries=truth_entries,
        sparse_indices=np.arange(matrices.shape[-1]),
        is_sparse=np.array(True),
    )
    return path


# --- 100 x 100 response, 100 systematics ----------------------------------------------------


def _response_setup(size: str, batch: bool) -> dict:
    rng = np.random.default_rng(20260102)
    i = np.arange(_NBINS)
    smearing = np.exp(-0.5 * ((i[:, None] - i[None, :]) / 2.5) ** 2)
    smearing *= 0.8 / smearing.sum(axis=0)
    # Each systematic variation scales the efficiency of every truth bin a little.
    matrices = smearing * rng.uniform(0.9, 1.1, size=(_NSYST, 1, _NBINS))
    weights = rng.uniform(0.5, 1.5, size=_NSYST)
    truth_entries = rng.integers(2000, 5000, size=_NBINS)
    expected = rng.uniform(200.0, 1000.0, size=_NBINS)
    data = rng.poisson(matrices[0] @ expected)
    n_points = _BATCH[size] if batch else _SINGLE[size]
    points = expected * rng.uniform(0.9, 1.1, size=(n_points, _NBINS))
    path = _write_npz(tempfile.mkdtemp(), "response.npz", matrices, truth_entries, weights)
    likelihood = _likelihood_module()
    calc = likelihood.LikelihoodCalculator(
        likelihood.PoissonData(data), likelihood.ResponseMatrixPredictor(path)
    )
    return {
        "calc": calc,
        "points": points,
        "matrices": matrices,
        "weights": weights,
        "data": data,
    }


def _single(_remu, data):
    calc = data["calc"]
    return [calc(p) for p in data["points"]]


def _batch(_remu, data):
    return data["calc"](data["points"])


def _reference_log_likelihood(matrices, weights, counts, points):
    from scipy.special import gammaln, logsumexp, xlogy

    mu = np.einsum("srk,...k->...sr", matrices, points)
    ll = np.sum(xlogy(counts, mu) - mu - gammaln(counts + 1), axis=-1)
    return logsumexp(ll, b=weights / weights.sum(), axis=-1)


def _ref_single(data):
    return [
        _reference_log_likelihood(data["matrices"], data["weights"], data["data"], p)
        for p in data["points"]
    ]


def _ref_batch(data):
    return _reference_log_likelihood(
        data["matrices"], data["weights"], data["data"], data["points"]
    )


# --- the seed page's 4-template model -------------------------------------------------------

_N_FLUX = 9
_N_BG_TRUTH = 84
_N_SIGNAL_TRUTH = 84
_N_RECO = 8


def _chain_inputs() -> dict:
    rng = np.random.default_rng(20260103)
    n_truth = 1 + _N_BG_TRUTH + _N_SIGNAL_TRUTH
    # Variations of a few per cent around a nominal flux and response, as in a real analysis.
    flux = rng.uniform(0.95, 1.05, size=(_NSYST, _N_FLUX)) * np.linspace(1.0, 3.0, _N_FLUX)
    nominal = rng.dirichlet(np.ones(_N_RECO + 1), size=n_truth)[:, :-1].T  # (reco, truth)
    # At most 0.95 x 1.05 < 1: every truth bin's probabilities still sum to at most 1
    # after the variations (a response matrix file with more is rejected when read).
    nominal *= 0.95
    matrices = nominal * rng.uniform(0.95, 1.05, size=(_NSYST, _N_RECO, n_truth))
    truth_entries = rng.integers(100, 1000, size=n_truth)
    n_par = 1 + (_N_BG_TRUTH + _N_SIGNAL_TRUTH) * _N_FLUX
    templates = np.zeros((4, n_par))
    templates[0, 0] = 1.0
    bg = slice(1, 1 + _N_BG_TRUTH * _N_FLUX)
    signal = slice(1 + _N_BG_TRUTH * _N_FLUX, n_par)
    templates[1, bg] = rng.uniform(0.0, 0.2, size=_N_BG_TRUTH * _N_FLUX)
    templates[2, signal] = rng.uniform(0.0, 0.1, size=_N_SIGNAL_TRUTH * _N_FLUX)
    templates[3, signal] = rng.uniform(0.0, 0.1, size=_N_SIGNAL_TRUTH * _N_FLUX)
    path = _write_npz(
        tempfile.mkdtemp(), "response_matrix.npz", matrices, truth_entries, np.ones(_NSYST)
    )
    return {"flux": flux, "path": path, "templates": templates, "rng": rng}


def _build_chain(likelihood, inputs):
    flux = inputs["flux"]
    bg_predictor = likelihood.LinearEinsumPredictor(
        "ij,...kj->...ik",
        flux,
        reshape_parameters=(_N_BG_TRUTH, _N_FLUX),
        bounds=[(0.0, np.inf)] * (_N_BG_TRUTH * _N_FLUX),
    )
    signal_predictor = likelihood.LinearEinsumPredictor(
        "ij,...kj->...ik",
        flux,
        reshape_parameters=(_N_SIGNAL_TRUTH, _N_FLUX),
        bounds=[(0.0, np.inf)] * (_N_SIGNAL_TRUTH * _N_FLUX),
    )
    noise_predictor = likelihood.TemplatePredictor([[[1.0]]] * _NSYST)
    event_predictor = likelihood.ConcatenatedPredictor(
        [noise_predictor, bg_predictor, signal_predictor], combine_systematics="same"
    )
    matrix_predictor = likelihood.ResponseMatrixPredictor(inputs["path"])
    data_predictor = likelihood.ComposedPredictor(
        [matrix_predictor, event_predictor], combine_systematics="same"
    )
    template_predictor = likelihood.TemplatePredictor(inputs["templates"])
    return likelihood.ComposedMatrixPredictor(
        [data_predictor, template_predictor], combine_systematics="cartesian"
    )


def _chain_setup(size: str) -> dict:
    inputs = _chain_inputs()
    likelihood = _likelihood_module()
    predictor = _build_chain(likelihood, inputs)
    expected = predictor([200.0, 0.5, 1.0, 0.0])[0][0]
    data = inputs["rng"].poisson(expected)
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData(data), predictor)
    return {**inputs, "calc": calc, "toys": _TOYS[size]}


def _build(remu, data):
    likelihood = importlib.import_module(remu.__name__ + ".likelihood")
    return _build_chain(likelihood, data)


def _fit(remu, data):
    likelihood = importlib.import_module(remu.__name__ + ".likelihood")
    np.random.seed(0)
    return likelihood.BasinHoppingMaximizer()(data["calc"])


def _p_value(remu, data):
    likelihood = importlib.import_module(remu.__name__ + ".likelihood")
    np.random.seed(0)
    tester = likelihood.HypothesisTester(data["calc"].fix_parameters([None, None, None, 0.0]))
    return tester.max_likelihood_p_value(N=data["toys"])


def _scipy_maximizer(likelihood):
    """``BasinHoppingMaximizer`` with scipy's per-fit basin hopping (no fitting engine).

    A subclass that overrides ``minimize`` opts out of the engine.
    """

    class ScipyBasinHopping(likelihood.BasinHoppingMaximizer):
        def minimize(self, fun, x0, bounds, **kwargs):
            return super().minimize(fun, x0, bounds, **kwargs)

    return ScipyBasinHopping()


def _ref_p_value(data):
    likelihood = _likelihood_module()
    np.random.seed(0)
    calc = data["calc"].fix_parameters([None, None, None, 0.0])
    maximizer = _scipy_maximizer(likelihood)
    opt = maximizer(calc)
    toys = calc.generate_toy_likelihood_calculators(opt.x, N=data["toys"])
    fresh = [
        likelihood.LikelihoodCalculator(
            likelihood.PoissonData(toy.data_model.data_vector), calc.predictor
        )
        for toy in toys
    ]
    toy_ll = np.array([maximizer(c).log_likelihood for c in fresh])
    return np.sum(opt.log_likelihood >= toy_ll) / len(toy_ll)


WORKLOADS = [
    Workload(
        name="likelihood/response-100x100/single",
        setup=lambda size: _response_setup(size, batch=False),
        run=_single,
        reference=_ref_single,
        target="<= 2x reference",
        unit_count=lambda data: float(len(data["points"])),
        tags=["likelihood"],
    ),
    Workload(
        name="likelihood/response-100x100/batch",
        setup=lambda size: _response_setup(size, batch=True),
        run=_batch,
        reference=_ref_batch,
        target="<= 2x reference; >= 2x vs oracle",
        unit_count=lambda data: float(len(data["points"])),
        tags=["likelihood"],
    ),
    Workload(
        name="likelihood/seed-chain/build",
        setup=lambda _size: _chain_inputs(),
        run=_build,
        target="faster than 0.8.0",
        tags=["likelihood"],
    ),
    Workload(
        name="likelihood/seed-chain/fit",
        setup=_chain_setup,
        run=_fit,
        target="faster than 0.8.0",
        tags=["likelihood"],
    ),
    Workload(
        name="likelihood/seed-chain/max-likelihood-p-value",
        setup=_chain_setup,
        run=_p_value,
        reference=_ref_p_value,
        target="<= 0.1x reference; >= 10x vs oracle",
        unit_count=lambda data: float(data["toys"]),
        tags=["likelihood"],
    ),
]
