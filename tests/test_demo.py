"""The tutorial analysis (``make demo``) runs end to end and finds the generator's truth.

The chain runs in ``--quick`` mode in a temporary folder. Steps 00 + 01 always
run; the whole chain is marked slow (it runs in ``make test``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr

from extras import require
from numeric_asserts import assert_allclose

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"
RUN_ALL = TUTORIAL / "run_all.py"
SEED = 12345
#: reco_x edges of the tutorial's reco binning (01/reco-binning.yml)
RECO_EDGES = np.array([-np.inf, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, np.inf])


def expected_reco_counts(years: float = 10.0) -> dict[str, np.ndarray]:
    """Mean reco_x counts of "run experiment" with background, from the generators' distributions.

    Noise: N(0, 2) at reco level, 20 per year. Background: 30 per year, true x
    ~ N(0.5, sqrt(0.5)) smeared by N(0, 2); y independent of x, so the efficiency
    is the mean 0.9 * Phi(y) over y ~ N(0.5, sqrt(0.5)) = 0.9 * Phi(0.5 / sqrt(1.5)).
    Model B: 100 per year, selected with 0.9 * Phi(y); x | y ~ N(y / 2, 0.75),
    smeared by N(0, 1): integrated over y numerically.
    """
    noise = 20 * years * np.diff(stats.norm(0.0, 2.0).cdf(RECO_EDGES))
    bg_efficiency = 0.9 * ndtr(0.5 / np.sqrt(1.5))
    bg_shape = np.diff(stats.norm(0.5, np.sqrt(0.5 + 4.0)).cdf(RECO_EDGES))
    y, dy = np.linspace(-9.0, 9.0, 3601, retstep=True)
    selected = stats.norm.pdf(y) * 0.9 * ndtr(y) * dy
    x_cdf = stats.norm.cdf((RECO_EDGES - 0.5 * y[:, np.newaxis]) / np.sqrt(0.75 + 1.0))
    signal = 100 * years * selected @ np.diff(x_cdf, axis=1)
    return {
        "noise": noise,
        "background": 30 * years * bg_efficiency * bg_shape,
        "signal": signal,
    }


def bias_chi2(prediction: np.ndarray, expected: np.ndarray) -> float:
    """Squared deviation of a mean prediction in units of one data set's Poisson variance."""
    return float(np.sum((np.asarray(prediction) - expected) ** 2 / expected))


def run_demo(output: Path, *steps: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        str(RUN_ALL),
        "--quick",
        "--seed",
        str(SEED),
        "--output",
        str(output),
    ]
    if steps:
        command += ["--steps", *steps]
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        logs = "\n".join(
            f"--- {log}\n{log.read_text()[-3000:]}" for log in sorted(output.glob("*/log.txt"))
        )
        pytest.fail(f"demo failed:\n{result.stdout}\n{result.stderr[-5000:]}\n{logs}")
    return result


def step_results(output: Path, step: str) -> dict:
    return json.loads((output / step / "results.json").read_text())


def fit(output: Path, step: str, name: str) -> tuple[np.ndarray, float]:
    result = step_results(output, step)["fits"][name]
    return np.asarray(result["x"]), result["log_likelihood"]


# --------------------------------------------------------------------------- the toy experiment
def _import_experiment():
    if str(TUTORIAL) not in sys.path:
        sys.path.insert(0, str(TUTORIAL))
    import simple_experiment

    return simple_experiment


def test_expected_reco_counts_sanity():
    expected = expected_reco_counts()
    # the tutorial's generator: mean efficiency 0.45 for model B, ~0.59 for background;
    # noise events are never selected
    assert expected["signal"].sum() == pytest.approx(450.0, rel=1e-6)
    assert expected["background"].sum() == pytest.approx(300 * 0.9 * ndtr(0.5 / np.sqrt(1.5)))
    assert expected["noise"].sum() == pytest.approx(200.0)


def test_real_data_follow_the_generator_distributions(tmp_path):
    """The step-05 "real data" recipe reproduces the analytic reco-level expectation.

    1000 years (100 times the tutorial's data) scaled to 10 years must match the
    analytic expectation far better than one data set's Poisson noise: a wrong
    background smearing width or noise width gives a bias of 16 resp. 27 in
    these units, a 25 % wrong background efficiency 2.4; statistics here 0.08.
    """
    experiment = _import_experiment()
    counts = experiment.run_experiment(
        1000, tmp_path / "real.txt", enable_background=True, rng=SEED
    )
    reco_x = experiment.read_csv(tmp_path / "real.txt")["reco_x"]
    assert len(reco_x) == counts["recorded"]
    observed = np.histogram(reco_x, RECO_EDGES)[0] / 100
    expected = sum(expected_reco_counts().values())
    assert bias_chi2(observed, expected) < 0.5


# --------------------------------------------------------------------------- steps 00 + 01
@pytest.fixture(scope="module")
def first_steps(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("demo-first")
    run_demo(output, "00", "01")
    return output


def test_driver_summary(first_steps):
    summary = json.loads((first_steps / "results.json").read_text())
    assert summary["quick"] is True
    assert list(summary["steps"]) == ["00", "01"]
    assert all(info["status"] == "ok" for info in summary["steps"].values())
    markdown = (first_steps / "results.md").read_text()
    assert "| 00 |" in markdown
    assert "| 01 |" in markdown


def test_step00_outputs(first_steps):
    folder = first_steps / "00"
    for name in ("real_data", "modelA_data", "modelA_truth", "modelB_data", "modelB_truth"):
        header = (folder / f"{name}.txt").read_text().splitlines()[0]
        assert header.startswith("reco_x,reco_y" if "data" in name else "true_x,true_y")
    for name in ("real_data", "modelA_data", "modelB_data", "compare_data"):
        assert (folder / f"{name}.png").stat().st_size > 1000
    for name in ("modelA_truth", "modelB_truth", "compare_truth"):
        assert (folder / f"{name}.png").stat().st_size > 1000
    events = step_results(first_steps, "00")["events"]
    # 10 years of model B: ~1000 true events, ~45 % selected
    assert abs(events["real_data"]["true_signal"] - 1000) < 5 * np.sqrt(1000)
    assert abs(events["real_data"]["recorded"] - 450) < 5 * np.sqrt(450)
    assert abs(events["modelA"]["truth"] - 10000) < 5 * np.sqrt(10000)


def test_step00_scikit_hep_outputs(first_steps):
    """An mplhep figure and a ROOT file written by uproot, read back and compared."""
    import uproot

    from remu import binning

    folder = first_steps / "00"
    assert (folder / "real_data_mplhep.png").stat().st_size > 10000
    reco = binning.yaml.full_load((folder / "reco-binning.yml").read_text())
    with uproot.open(folder / "reco_histograms.root") as f:
        for stem in ("real_data", "modelA_data", "modelB_data"):
            reco.reset()
            reco.fill_from_csv_file(str(folder / f"{stem}.txt"))
            th2 = f[stem]
            assert th2.classname == "TH2D"
            # the 8 x 8 bins with open-ended outer bins: 6 x 6 finite bins plus flow
            assert th2.values().shape == (6, 6)
            assert np.array_equal(th2.values(flow=True), reco.values(flow=True))
            assert np.array_equal(th2.variances(flow=True), reco.variances(flow=True))
            assert th2.values(flow=True).sum() == reco.get_values_as_ndarray().sum()
            th1 = f[f"{stem}_x"]
            assert th1.classname == "TH1D"
            assert np.array_equal(th1.values(flow=True), reco.project("reco_x").values(flow=True))
            assert np.array_equal(th1.axis().edges(), [-3, -2, -1, 0, 1, 2, 3])
    summary = step_results(first_steps, "00")["scikit_hep"]
    assert summary["histograms"]["real_data"] == "TH2D"


def test_step01_outputs(first_steps):
    folder = first_steps / "01"
    for name in (
        "response_matrix_A",
        "compatibility",
        "fine_compatibility",
        "fine_efficiency_A",
        "optimised_entries",
        "optimised_abs_entries",
        "optimised_compatibility",
    ):
        assert (folder / f"{name}.png").stat().st_size > 1000, name
    results = step_results(first_steps, "01")
    compat = results["compatibility"]
    # a 1-D truth binning is model dependent, the 2-D one is not
    assert compat["coarse"]["count"] < 0.05
    assert compat["fine"]["count"] > 0.5
    assert compat["optimised"]["count"] > 0.5
    assert results["truth_bins"]["fine"] == 572
    assert results["truth_bins"]["optimised"] < 572

    events = step_results(first_steps, "00")["events"]
    with np.load(folder / "response_matrix.npz") as npz:
        entries = npz["truth_entries"]
        matrices = npz["matrices"]
    n_truth = results["truth_bins"]["optimised"]
    assert entries.shape == (n_truth,)
    assert entries.min() >= 10
    # every generated event of both models is in the optimised truth binning
    assert entries.sum() == events["modelA"]["truth"] + events["modelB"]["truth"]
    assert matrices.shape == (1, 8, n_truth)
    efficiency = matrices[0].sum(axis=0)
    assert np.all((efficiency > 0) & (efficiency < 1))
    text = (folder / "optimised-truth-binning.yml").read_text()
    assert "!RectilinearBinning" in text


# --------------------------------------------------------------------------- the whole chain
@pytest.fixture(scope="module")
def full_chain(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("demo-all")
    run_demo(output)
    return output


@pytest.mark.slow
def test_chain_runs_every_step(full_chain):
    summary = json.loads((full_chain / "results.json").read_text())
    assert list(summary["steps"]) == ["00", "01", "02", "03", "04", "05", "06", "PD", "DK"]
    assert all(info["status"] == "ok" for info in summary["steps"].values())
    markdown = (full_chain / "results.md").read_text()
    for step in summary["steps"]:
        assert f"| {step} |" in markdown


@pytest.mark.slow
def test_step02_prefers_model_b(full_chain):
    (xa,), log_la = fit(full_chain, "02", "modelA")
    (xb,), log_lb = fit(full_chain, "02", "modelB")
    # truth: 1000 model B events; ~450 selected -> ~5 % statistical uncertainty
    assert abs(xb - 1000) < 3 * 0.05 * 1000
    assert xa < xb  # model A has the higher efficiency
    assert log_lb > log_la
    mix, _ = fit(full_chain, "02", "mix")
    assert abs(mix.sum() - 1000) < 3 * 0.05 * 1000
    simple = step_results(full_chain, "02")["simple_hypotheses"]
    assert simple["modelB"]["log_likelihood"] > simple["modelA"]["log_likelihood"]
    for name in ("simple_hypotheses", "modelA_fit", "fit_p-values", "mix_model_fit"):
        assert (full_chain / "02" / f"{name}.txt").is_file()
    assert (full_chain / "02" / "p-values.png").stat().st_size > 1000


@pytest.mark.slow
def test_step03_systematics(full_chain):
    nominal, _log_l = fit(full_chain, "03", "modelB")
    syst, _log_l_syst = fit(full_chain, "03", "modelB_syst")
    assert abs(nominal[0] - 1000) < 150
    assert abs(syst[0] - nominal[0]) < 0.05 * nominal[0]
    # the nominal fit reproduces step 02
    step02, _ = fit(full_chain, "02", "modelB")
    assert_allclose(nominal, step02, rtol=1e-3)
    with np.load(full_chain / "03" / "response_matrix.npz") as npz:
        assert npz["matrices"].shape[0] == 100  # one matrix per toy detector
        assert np.all(npz["weights"] == 1.0)
    p = step_results(full_chain, "03")["p_values"]
    assert all(0.0 <= v <= 1.0 for v in p.values())


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:jsonschema.RefResolver is deprecated:DeprecationWarning")
def test_step03_pyhf_export(full_chain):
    """The exported workspace validates, and pyhf's fit agrees with remu's.

    Tolerance: a quarter of the ≈ 5 % statistical uncertainty of the model weight.
    """
    import pyhf

    spec = json.loads((full_chain / "03" / "modelB_syst_pyhf.json").read_text())
    model = pyhf.Workspace(spec).model()
    assert model.config.poi_name == "mu_modelB"
    result = step_results(full_chain, "03")["pyhf"]["modelB_syst"]
    syst, _ = fit(full_chain, "03", "modelB_syst")
    assert result["remu"] == pytest.approx(syst[0])
    assert abs(result["pyhf"] - syst[0]) < 0.25 * 0.05 * syst[0]
    assert 1 <= result["histosys_components"] <= 8


@pytest.mark.slow
def test_step04_posterior(full_chain):
    posterior = step_results(full_chain, "04")["posterior"]
    syst, _ = fit(full_chain, "03", "modelA_syst")
    median = posterior["modelA_weight"]["median"]
    assert abs(median - syst[0]) < 0.1 * syst[0]
    assert posterior["modelA_weight"]["q16"] < median < posterior["modelA_weight"]["q84"]
    assert (full_chain / "04" / "chain_shape.txt").read_text().strip() == "(200, 1)"


@pytest.mark.slow
def test_step05_backgrounds(full_chain):
    results = step_results(full_chain, "05")
    n_signal = step_results(full_chain, "01")["truth_bins"]["optimised"]
    assert results["truth_bins"]["total"] == 1 + results["truth_bins"]["background"] + n_signal
    x, log_l_bg = fit(full_chain, "05", "modelB_bg")
    noise, background, signal = x
    # truth: 200 noise events, 300 background events, 1000 model B events
    assert abs(noise - 200) < 150
    assert abs(background - 300) < 200
    assert abs(signal - 1000) < 200
    _, log_l_only = fit(full_chain, "05", "modelB_only")
    assert log_l_bg > log_l_only + 5
    _, log_l_a_only = fit(full_chain, "05", "modelA_only")
    _, log_l_a_bg = fit(full_chain, "05", "modelA_bg")
    assert log_l_a_bg > log_l_a_only + 5
    # signal-only fits are rejected, signal + background fits are acceptable
    gof = results["gof"]
    assert gof["modelB_only"] < 0.01
    assert gof["modelA_only"] < 0.01
    assert gof["modelB_bg"] > 0.01
    # the true model is not rejected: this seed's data set has a true p-value of ~0.5
    # (200 toys), so 20 toys give < 0.1 with probability ~2e-5
    assert results["p_values"]["modelB_bg"] >= 0.1
    assert results["p_values"]["modelB_only"] <= results["p_values"]["modelB_bg"]


@pytest.mark.slow
def test_step05_prediction_at_the_truth(full_chain):
    """Response matrices + templates reproduce the generator at its true parameters.

    The mean prediction at (noise 200, background 300, model B 1000) is compared
    with the analytic expectation of the data in units of one data set's Poisson
    variance: 0.7-2.0 over twelve chain seeds (finite Monte Carlo, 10x the data, and
    the Bayesian priors of sparse truth bins); a generator or template bug that
    matters for the p-values gives several units (see
    test_real_data_follow_the_generator_distributions).
    """
    truth = step_results(full_chain, "05")["truth"]
    assert_allclose(truth["x"], [200.0, 300.0, 1000.0])
    expected = sum(expected_reco_counts().values())
    assert bias_chi2(truth["prediction"], expected) < 4.0
    # the fit is within its (strongly correlated) uncertainties of the truth
    assert truth["wilks_p_value"] > 0.003
    assert truth["gof"] > 0.01
    assert (full_chain / "05" / "modelB_bg_truth.txt").is_file()


@pytest.mark.slow
def test_step06_cross_sections(full_chain):
    results = step_results(full_chain, "06")
    assert results["binning"]["n_flux"] == 9
    assert results["binning"]["n_parameters"] == (
        1 + results["binning"]["n_bg_xsec"] + results["binning"]["n_signal_xsec"]
    )
    # deterministic template sums (the step builds 30 resp. 100 per energy bin)
    assert_allclose(results["templates"]["bg_sum"], 270.0, rtol=1e-6)
    assert_allclose(results["templates"]["model_A_sum"], 900.0, rtol=1e-6)
    assert_allclose(results["templates"]["model_B_sum"], 900.0, rtol=1e-6)
    x, _ = fit(full_chain, "06", "all")
    noise, _bg_scale, a_scale, b_scale = x
    assert abs(noise - 200) < 150
    assert a_scale + b_scale == pytest.approx(1.0, abs=0.3)
    assert b_scale > a_scale
    # the true model (B, 250 toys; ~0.46 for this seed) is not rejected, and the
    # generator's truth is within the fit's uncertainties
    assert results["p_values"]["modelB"] > 0.05
    truth = results["truth"]
    assert_allclose(truth["x"], [200.0, 1.0, 1.0])
    assert truth["wilks_p_value"] > 0.003
    assert truth["gof"] > 0.01
    for name in ("check_binning", "flux_shape", "fit", "p-values"):
        assert (full_chain / "06" / f"{name}.txt").is_file()
    check = (full_chain / "06" / "check_binning.txt").read_text().split("\n")
    assert check[2:5] == ["(0, 0)", "(0, 1)", "(1, 0)"]
    assert (full_chain / "06" / "flux_shape.txt").read_text().strip() == "(100, 9)"


@pytest.mark.slow
def test_step_pd(full_chain):
    results = step_results(full_chain, "PD")
    assert results["random"]["filled"] == pytest.approx(1000.0)
    assert results["flat"]["branches"] == 20
    assert results["flat"]["rows"] == 2304
    assert results["jagged"]["branches"] == 51
    assert results["jagged"]["events"] == 2421
    if results["root_files"] == "scikit-hep samples":
        assert results["jagged"]["muons"] == 3825
        assert results["jagged"]["first_muons"] == 2362
    for name in ("pandas", "flat_muons", "sliced_muons"):
        assert (full_chain / "PD" / f"{name}.png").stat().st_size > 1000


@pytest.mark.slow
def test_step_dk_dask_fill_equals_in_memory(full_chain):
    results = step_results(full_chain, "DK")
    assert results["workers"] == 2
    assert results["entries_equal"] is True
    assert results["max_relative_difference"] < 1e-9
    # the optimised matrix of step 01: the same truth bins and generated events
    step01 = step_results(full_chain, "01")
    assert results["truth_bins"] == step01["truth_bins"]["optimised"]
    assert results["truth_entries"] == step01["truth_entries"]["sum"]
    assert all(n == 4 for n in results["partitions"].values())
    assert len(list((full_chain / "DK" / "modelA_data").glob("part-*.parquet"))) == 4
    log = (full_chain / "DK" / "log.txt").read_text()
    assert "Client('tcp://host:8786')" in log
    with np.load(full_chain / "DK" / "response_matrix.npz") as npz:
        assert npz["truth_entries"].sum() == results["truth_entries"]


# --------------------------------------------------------------------------- step PD helpers
def _load_step_pd():
    import importlib.util

    tutorial = str(ROOT / "examples" / "tutorial")
    if tutorial not in sys.path:
        sys.path.insert(0, tutorial)
    spec = importlib.util.spec_from_file_location(
        "stepPD_pandas_root", RUN_ALL.with_name("stepPD_pandas_root.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_step_pd_substitute_root_files(tmp_path, monkeypatch):
    require("uproot", "root")
    step = _load_step_pd()
    monkeypatch.chdir(tmp_path)
    step.write_substitute_files(np.random.default_rng(3))
    flat = step.open_tree("Zmumu.root", ["px1", "py1", "pz1"])
    assert flat.keys() == step.FLAT_BRANCHES
    assert flat.num_entries == 2304
    jagged = step.open_tree("HZZ.root", step.MUON_BRANCHES)
    assert len(jagged.keys()) == 51
    assert jagged.num_entries == 2421
    frame = step.tree_to_dataframe(jagged, step.MUON_BRANCHES)
    assert list(frame.columns) == step.MUON_BRANCHES
    counts = frame["NMuon"].to_numpy()
    assert all(len(px) == n for px, n in zip(frame["Muon_Px"], counts, strict=True))
    with pytest.raises(KeyError, match="'Muon_Qx'"):
        step.open_tree("HZZ.root", ["Muon_Px", "Muon_Qx"])
