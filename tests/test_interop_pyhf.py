"""The pyhf bridge: ``likelihood_utils.to_pyhf_workspace`` against the real pyhf.

The model of the fit comparisons: 10 truth bins, 15 reco bins, a response matrix
filled by remu's ``ResponseMatrix`` with 3000 Monte Carlo events and exported as 40
posterior toy matrices, three truth templates (a peak, a falling and a flat one) and
Poisson data drawn from the folded sum.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pyhf
import pytest

from numeric_asserts import assert_allclose
from remu import binning, likelihood, likelihood_utils, migration
from remu._interop.pyhf import linear_model, to_pyhf_workspace

# pyhf 0.7 validates its schemas with jsonschema's deprecated RefResolver: a warning
# inside pyhf, about pyhf, that these tests cannot act on.
pytestmark = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)

NAMES = ["peak", "falling", "flat"]
MU_TRUE = np.array([1.2, 0.9, 1.0])


def _predictor(response: migration.ResponseMatrix, nstat: int | None, rng) -> likelihood.Predictor:
    buffer = io.BytesIO()
    response.export(buffer, nstat=nstat, rng=rng)
    buffer.seek(0)
    return likelihood.ResponseMatrixPredictor(buffer)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(1)
    truth = binning.LinearBinning("true_x", np.linspace(0, 10, 11))
    reco = binning.LinearBinning("reco_x", np.linspace(-1, 11, 16))
    response = migration.ResponseMatrix(reco, truth)
    n_mc = 3000
    true_x = rng.uniform(0, 10, n_mc)
    selected = rng.uniform(size=n_mc) < 0.5 + 0.04 * true_x
    reco_x = np.where(selected, true_x + rng.normal(0, 0.8, n_mc), np.nan)
    response.fill({"true_x": true_x, "reco_x": reco_x})
    toys = _predictor(response, 40, rng)
    mean = _predictor(response, None, rng)
    centers = np.arange(10) + 0.5
    templates = likelihood.TemplatePredictor(
        [
            200 * np.exp(-0.5 * (centers - 4) ** 2) / np.sqrt(2 * np.pi),
            400 * np.exp(-centers / 3) / np.exp(-centers / 3).sum(),
            np.full(10, 15.0),
        ]
    )
    expected = toys.compose(templates)(MU_TRUE)[0].mean(axis=0)
    data = rng.poisson(expected)
    # statistical uncertainty of the normalisations: inverse Fisher information
    folded = linear_model(toys.compose(templates))
    columns = np.einsum("s,sbk->bk", folded.weights, folded.columns)
    fisher = columns.T @ (columns / expected[:, np.newaxis])
    sigma = np.sqrt(np.diag(np.linalg.inv(fisher)))
    return {
        "toys": toys.compose(templates),
        "mean": mean.compose(templates),
        "data": data,
        "sigma": sigma,
    }


def remu_fit(predictor, data) -> np.ndarray:
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData(data), predictor)
    return likelihood.BasinHoppingMaximizer().maximize_log_likelihood(calc, rng=5).x


def pyhf_fit(spec, data) -> np.ndarray:
    fit_model = pyhf.Workspace(spec).model()
    bestfit = pyhf.infer.mle.fit(list(data) + fit_model.config.auxdata, fit_model)
    return np.array([bestfit[fit_model.config.par_slice(f"mu_{n}")][0] for n in NAMES])


# ------------------------------------------------------------------ agreement of the fits
def test_fit_without_systematics_agrees_exactly(model):
    """The mean response alone: the same Poisson likelihood, so the same best fit."""
    spec = to_pyhf_workspace(model["mean"], model["data"], sample_names=NAMES, systematics=None)
    x_remu = remu_fit(model["mean"], model["data"])
    x_pyhf = pyhf_fit(spec, model["data"])
    # limited by the optimisers' tolerances
    assert_allclose(x_pyhf, x_remu, rtol=1e-3)
    assert np.all(np.abs(x_pyhf - x_remu) < 0.01 * model["sigma"])


@pytest.mark.parametrize(("systematics", "tolerance"), [("histosys", 0.15), ("shapesys", 0.3)])
def test_fit_with_systematics_agrees_within_tolerance(model, systematics, tolerance):
    """remu's marginal likelihood over 40 toy matrices vs pyhf's profiled modifiers.

    Measured on this model: histosys within 0.07 sigma_stat, shapesys within 0.13.
    """
    spec = to_pyhf_workspace(
        model["toys"], model["data"], sample_names=NAMES, systematics=systematics
    )
    x_remu = remu_fit(model["toys"], model["data"])
    x_pyhf = pyhf_fit(spec, model["data"])
    assert np.all(np.abs(x_pyhf - x_remu) < tolerance * model["sigma"]), (
        x_pyhf,
        x_remu,
        model["sigma"],
    )


# ------------------------------------------------------------- the construction itself
def test_pyhf_model_reproduces_the_mean_prediction_and_the_components(model):
    spec = to_pyhf_workspace(
        model["toys"], model["data"], sample_names=NAMES, variance_fraction=1.0
    )
    fit_model = pyhf.Workspace(spec).model()
    mu = np.array([1.3, 0.7, 1.1])
    pars = np.array(fit_model.config.suggested_init(), dtype=float)
    for name, value in zip(NAMES, mu, strict=True):
        pars[fit_model.config.par_slice(f"mu_{name}")] = value
    expected_mean = np.average(model["toys"](mu)[0], axis=0, weights=model["toys"](mu)[1])
    assert_allclose(fit_model.expected_actualdata(pars), expected_mean, rtol=1e-12)

    # alpha_j = 1 moves the prediction by sigma_j v_j: summed over all components the
    # outer products of the shifts are the covariance of the 40 variations
    components = [p for p in fit_model.config.par_order if p.startswith("remu_response_pc")]
    assert 0 < len(components) <= 39
    shifts = []
    for name in components:
        shifted = pars.copy()
        shifted[fit_model.config.par_slice(name)] = 1.0
        shifts.append(fit_model.expected_actualdata(shifted) - expected_mean)
    shifts = np.array(shifts)
    variations = model["toys"](mu)[0]
    deviations = variations - variations.mean(axis=0)
    covariance = deviations.T @ deviations / len(variations)
    assert_allclose(shifts.T @ shifts, covariance, rtol=1e-9, atol=1e-12 * covariance.max())


def test_fewer_components_explain_the_requested_variance(model):
    full = to_pyhf_workspace(model["toys"], model["data"], variance_fraction=1.0)
    few = to_pyhf_workspace(model["toys"], model["data"], variance_fraction=0.5)
    capped = to_pyhf_workspace(model["toys"], model["data"], max_components=2)

    def count(spec):
        return len({m["name"] for m in spec["channels"][0]["samples"][0]["modifiers"]}) - 1

    assert count(few) < count(full)
    assert count(capped) == 2


def test_workspace_is_plain_json(model):
    spec = to_pyhf_workspace(model["toys"], model["data"], sample_names=NAMES)
    text = json.dumps(spec, allow_nan=False)  # no Infinity, no NaN
    workspace = pyhf.Workspace(json.loads(text))
    assert workspace.samples == sorted(NAMES)
    assert workspace.get_measurement()["config"]["poi"] == "mu_peak"
    bounds = spec["measurements"][0]["config"]["parameters"][0]["bounds"][0]
    assert bounds[0] == 0.0  # the template's lower bound
    assert np.isfinite(bounds[1])
    assert workspace.data(workspace.model(), include_auxdata=False) == list(model["data"])


def test_constants_become_a_fixed_background_sample():
    detector = likelihood.MatrixPredictor([[[0.9, 0.1], [0.1, 0.8]], [[0.8, 0.2], [0.1, 0.7]]])
    signal_and_fixed = likelihood.TemplatePredictor([[10.0, 0.0]], constants=[2.0, 6.0])
    spec = to_pyhf_workspace(
        detector.compose(signal_and_fixed), [9, 6], sample_names=["signal"], poi="mu_signal"
    )
    samples = spec["channels"][0]["samples"]
    assert [s["name"] for s in samples] == ["signal", "fixed_background"]
    assert_allclose(samples[1]["data"], [(2.4 + 2.8) / 2, (5.0 + 4.4) / 2])
    assert all(m["type"] != "normfactor" for m in samples[1]["modifiers"])
    fit_model = pyhf.Workspace(spec).model()
    assert fit_model.config.poi_name == "mu_signal"


# ------------------------------------------------------------------------- bad input
class _Square(likelihood.Predictor):
    def prediction(self, parameters, systematics_index=slice(None)):
        p = np.asarray(parameters, dtype=float)[..., np.newaxis, :] ** 2
        return p[..., systematics_index, :], np.ones(p.shape[:-1])[..., systematics_index]


def test_bad_input_is_rejected_with_clear_errors(model):
    with pytest.raises(ValueError, match="not linear in its parameters"):
        to_pyhf_workspace(_Square([(0, 10)], [1.0]), [3])
    with pytest.raises(ValueError, match="one vector of 15 counts"):
        to_pyhf_workspace(model["mean"], [1, 2, 3])
    with pytest.raises(ValueError, match="non-negative counts"):
        to_pyhf_workspace(model["mean"], -model["data"])
    with pytest.raises(ValueError, match="needs 3 names"):
        to_pyhf_workspace(model["mean"], model["data"], sample_names=["a"])
    with pytest.raises(ValueError, match="not a valid pyhf name"):
        to_pyhf_workspace(model["mean"], model["data"], sample_names=["a b", "c", "d"])
    with pytest.raises(ValueError, match="distinct"):
        to_pyhf_workspace(model["mean"], model["data"], sample_names=["a", "a", "b"])
    with pytest.raises(ValueError, match="systematics must be"):
        to_pyhf_workspace(model["mean"], model["data"], systematics="normsys")
    with pytest.raises(ValueError, match="poi must be one of"):
        to_pyhf_workspace(model["mean"], model["data"], poi="mu_nothing")
    with pytest.raises(ValueError, match="finite"):
        to_pyhf_workspace(model["mean"], model["data"], bounds=[(0, np.inf)] * 3)
    with pytest.raises(TypeError, match="remu predictor"):
        to_pyhf_workspace(np.eye(3), [1, 2, 3])


def test_data_model_input_and_facade(model):
    data = likelihood.PoissonData(model["data"])
    spec = likelihood_utils.to_pyhf_workspace(model["mean"], data, systematics=None)
    assert spec["observations"][0]["data"] == model["data"].tolist()
    assert "to_pyhf_workspace" in likelihood_utils.__all__


def test_without_pyhf_the_extra_is_named(model, monkeypatch):
    spec = to_pyhf_workspace(model["mean"], model["data"], validate=False)
    assert spec["version"] == "1.0.0"
    monkeypatch.setitem(sys.modules, "pyhf", None)
    with pytest.raises(ImportError, match=r"remu\[pyhf\]"):
        to_pyhf_workspace(model["mean"], model["data"])


def test_likelihood_utils_does_not_import_pyhf():
    code = "import sys, remu.likelihood_utils; print('pyhf' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
