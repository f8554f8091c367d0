"""Step 05 — background and noise templates with nested truth binnings.

*Noise* is recorded without any meaningful truth: all of it goes into one
truth bin whose efficiency is fixed to 1 (a nuisance bin). *Background* has
truth information like the signal, but lives in its own truth bins.

1. Record new real data with background and noise; simulate background and
   noise Monte Carlo and vary the background's detector like in step 03.
2. Optimise a truth binning for the background, then nest noise, background
   and signal binnings under one ``event_type`` binning (169 truth bins) and
   build 100 toy response matrices.
3. Fit signal-only and signal + background + noise templates.

Run inside ``<output>/05``; reads steps 00, 01 and 03.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import simple_experiment as experiment
import tutorial_common as common
from matplotlib import pyplot as plt
from numpy.lib import recfunctions

from remu import binning, likelihood, matrix_utils, migration, plotting

MIN_ENTRIES = 10
#: What the real data were generated from (the generator of step 00): 200 noise events,
#: 300 background and 1000 model B events (before efficiency) in 10 years; parameter
#: order of "modelB_bg".
TRUTH = {"noise": 200.0, "background": 300.0, "signal": 1000.0}


# Up-weighted toy detectors (weight > 1) can make the selected events of a truth bin
# outweigh all generated ones; the library warns about it. Expected here, as upstream.
warnings.filterwarnings("ignore", message="Filled-up values are less than the original filling")


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def toy_fill(i: int) -> dict[str, Any]:
    return {
        "weightfield": f"weight_{i}",
        "rename": {f"reco_x_{i}": "reco_x"},
        "buffer_csv_files": True,
    }


# Cut functions: add the event_type column the nested truth binning needs
def set_signal(data: np.ndarray) -> np.ndarray:
    return recfunctions.append_fields(
        data, "event_type", np.full(len(data["true_x"]), 1.0), usemask=False
    )


def set_bg(data: np.ndarray) -> np.ndarray:
    return recfunctions.append_fields(
        data, "event_type", np.full(len(data["true_x"]), 0.0), usemask=False
    )


def set_noise(data: np.ndarray) -> np.ndarray:
    return recfunctions.append_fields(
        data, "event_type", np.full(len(data["reco_x"]), -1.0), usemask=False
    )


def simulate(settings: common.Settings) -> dict[str, Any]:
    return {
        "real_data": experiment.run_experiment(
            10, "real_data.txt", enable_background=True, rng=settings.rng(5, 1)
        ),
        "background": experiment.simulate_experiment(
            100, "background", "nominal_bg_data.txt", "bg_truth.txt", rng=settings.rng(5, 2)
        ),
        "noise": experiment.simulate_experiment(
            100, "noise", "noise_data.txt", "noise_truth.txt", rng=settings.rng(5, 3)
        ),
        "varied_background": experiment.vary_detector(
            "nominal_bg_data.txt", "bg_data.txt", n_toys=settings.n_detector_toys
        ),
    }


def build_response_matrix(settings: common.Settings) -> dict[str, Any]:
    builder = migration.ResponseMatrixArrayBuilder(1)
    reco_binning = load("../01/reco-binning.yml")
    signal_binning = load("../01/optimised-truth-binning.yml")

    # A truth binning for the background, optimised like the signal one in step 01
    bg_binning = signal_binning.clone()
    resp = migration.ResponseMatrix(reco_binning, bg_binning)
    resp.fill_from_csv_file("bg_data.txt", **toy_fill(0))
    resp.fill_up_truth_from_csv_file("bg_truth.txt")
    entries = resp.get_truth_entries_as_ndarray()
    with common.counter("improve_stats (background)") as bar:
        while np.min(entries) < MIN_ENTRIES:
            resp = matrix_utils.improve_stats(resp)
            entries = resp.get_truth_entries_as_ndarray()
            bar.update()
    bg_binning = resp.truth_binning
    bg_binning.reset()
    reco_binning.reset()

    # noise (-1), background (0) and signal (1) under one event_type binning
    truth_binning = binning.LinearBinning(
        variable="event_type",
        bin_edges=[-1.5, -0.5, 0.5, 1.5],
        subbinnings={1: bg_binning, 2: signal_binning},
    )
    with open("truth-binning.yml", "w") as f:
        binning.yaml.dump(truth_binning, f)

    resp = migration.ResponseMatrix(reco_binning, truth_binning, nuisance_indices=[0])
    for i in common.progress(range(settings.n_detector_toys), desc="toy matrices"):
        resp.reset()
        resp.fill_from_csv_file(
            ["../03/modelA_data.txt", "../03/modelB_data.txt"],
            cut_function=set_signal,
            **toy_fill(i),
        )
        resp.fill_up_truth_from_csv_file(
            ["../00/modelA_truth.txt", "../00/modelB_truth.txt"],
            cut_function=set_signal,
            buffer_csv_files=True,
        )
        resp.fill_from_csv_file("bg_data.txt", cut_function=set_bg, **toy_fill(i))
        resp.fill_up_truth_from_csv_file("bg_truth.txt", cut_function=set_bg, buffer_csv_files=True)
        resp.fill_from_csv_file("noise_data.txt", cut_function=set_noise, buffer_csv_files=True)
        builder.add_matrix(resp)
    builder.export("response_matrix.npz")

    # The content of the last toy, seen through different plotters
    pltr = plotting.get_plotter(truth_binning)
    pltr.plot_values(density=False)
    pltr.savefig("truth.png")
    pltr = plotting.BinningPlotter(truth_binning)
    pltr.plot_values(density=False)
    pltr.savefig("all_truth.png")
    pltr = plotting.get_plotter(signal_binning)
    pltr.plot_values()
    pltr.savefig("signal_truth.png")
    pltr = plotting.get_plotter(bg_binning)
    pltr.plot_values()
    pltr.savefig("bg_truth.png")
    matrix_utils.plot_mean_efficiency(resp, "efficiency.png")
    plt.close("all")
    return {
        "truth_bins": {
            "background": int(bg_binning.data_size),
            "total": int(truth_binning.data_size),
        },
        "background_bin_edges": [list(map(float, e)) for e in bg_binning.bin_edges],
    }


def fit_models(settings: common.Settings) -> dict[str, Any]:
    results: dict[str, Any] = {"fits": {}, "p_values": {}, "gof": {}}
    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("truth-binning.yml")
    reco_binning.fill_from_csv_file("real_data.txt")
    data_model = likelihood.PoissonData(reco_binning.get_entries_as_ndarray())
    matrix_predictor = likelihood.ResponseMatrixPredictor("response_matrix.npz")
    calc = likelihood.LikelihoodCalculator(data_model, matrix_predictor)
    maxi = likelihood.BasinHoppingMaximizer()

    def template(filename: str, cut_function: Any) -> np.ndarray:
        truth_binning.reset()
        truth_binning.fill_from_csv_file(filename, cut_function=cut_function)
        values = truth_binning.get_values_as_ndarray()
        return values / np.sum(values)

    modelA = template("../00/modelA_truth.txt", set_signal)
    modelB = template("../00/modelB_truth.txt", set_signal)
    bg = template("bg_truth.txt", set_bg)
    truth_binning.reset()
    noise = truth_binning.get_values_as_ndarray()
    noise[0] = 1.0

    hypotheses = {
        "modelA_only": likelihood.TemplatePredictor([modelA]),
        "modelA_bg": likelihood.TemplatePredictor([noise, bg, modelA]),
        "modelB_only": likelihood.TemplatePredictor([modelB]),
        "modelB_bg": likelihood.TemplatePredictor([noise, bg, modelB]),
    }
    rets = {}
    with common.toy_pool(settings):
        for name, template_predictor in hypotheses.items():
            calc_x = calc.compose(template_predictor)
            ret = maxi(calc_x)
            rets[name] = ret
            common.write_text(f"{name}_fit.txt", ret)
            results["fits"][name] = common.fit_summary(ret)
            test = likelihood.HypothesisTester(calc_x)
            gof = test.likelihood_p_value(ret.x, N=settings.n_toys_gof)
            common.write_text(f"{name}_gof.txt", gof)
            results["gof"][name] = float(gof)
            p = test.max_likelihood_p_value(N=settings.n_toys_fit)
            common.write_text(f"{name}_p_value.txt", p)
            results["p_values"][name] = float(p)
        results["truth"] = check_truth(calc.compose(hypotheses["modelB_bg"]), settings)

    styles = {
        "modelA_only": ("model A only", "//", "C1"),
        "modelA_bg": ("model A + bg", "*", "C1"),
        "modelB_only": ("model B only", "\\\\", "C2"),
        "modelB_bg": ("model B + bg", "O", "C2"),
    }
    pltr = plotting.get_plotter(reco_binning)
    for name, (label, hatch, colour) in styles.items():
        prediction, _weights = calc.compose(hypotheses[name]).predictor(rets[name].x)
        pltr.plot_array(prediction, label=label, hatch=hatch, edgecolor=colour, stack_function=0.68)
    pltr.plot_entries(edgecolor="C0", label="data", hatch=None, linewidth=2.0)
    pltr.legend()
    pltr.savefig("reco-comparison.png")

    pltr = plotting.get_plotter(truth_binning)
    for name, (label, hatch, colour) in styles.items():
        truth, _weights = hypotheses[name](rets[name].x)
        pltr.plot_array(truth, label=label, hatch=hatch, edgecolor=colour, density=False)
    pltr.legend(loc="upper left")
    pltr.savefig("truth-comparison.png")
    plt.close("all")
    return results


def check_truth(calc: likelihood.LikelihoodCalculator, settings: common.Settings) -> dict[str, Any]:
    """How well the generator's true parameters describe the data (not part of upstream).

    The fitted noise, background and signal weights are strongly correlated, and
    a toy p-value of the true model is uniformly distributed over data sets: any
    single data set may give a low one. This puts numbers on it for this data
    set: the mean prediction at the true parameters (to compare with the
    generator's expectation), the goodness of fit of the true parameters, and
    the likelihood-ratio (Wilks, 3 degrees of freedom) p-value of the true
    parameters against the best fit -- i.e. whether the fit lies within its
    uncertainties of the truth.
    """
    truth = list(TRUTH.values())
    prediction, _weights = calc.predictor(truth)
    check = common.truth_check(calc, truth, settings.n_toys_gof)
    common.write_text("modelB_bg_truth.txt", f"{truth}\n{check['gof']}\n{check['wilks_p_value']}")
    return {**check, "prediction": np.mean(prediction, axis=0)}


def main(settings: common.Settings) -> dict[str, Any]:
    events = simulate(settings)
    binnings = build_response_matrix(settings)
    return {"events": events, **binnings, **fit_models(settings)}


if __name__ == "__main__":
    common.run_step("05", main, __doc__.splitlines()[0])
