"""Step 03 — detector systematics through toy ("universe") response matrices.

1. Vary the detector of the step-00 Monte Carlo: 100 toy detectors (fixed
   seed), stored as per-event weights and re-smeared ``reco_x`` columns.
2. Fill one response matrix per toy detector and collect them with a
   ``ResponseMatrixArrayBuilder`` (which also folds in the MC statistics).
3. Fit the model templates with the nominal matrix and with the 100 varied
   matrices (marginal likelihood); p-values and p-value scans of the weight.
4. Export the model B fit with systematics as a pyhf workspace (the toy matrices
   become shared ``histosys`` nuisance parameters) and fit it with pyhf.

Run inside ``<output>/03``; reads step 00's files and step 01's matrix and binnings.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import simple_experiment as experiment
import tutorial_common as common
from matplotlib import pyplot as plt

from remu import binning, likelihood, migration, plotting

# Up-weighted toy detectors (weight > 1) can make the selected events of a truth bin
# outweigh all generated ones; the library warns about it. Expected here, as upstream.
warnings.filterwarnings("ignore", message="Filled-up values are less than the original filling")


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def toy_fill(i: int) -> dict[str, Any]:
    """Fill arguments selecting toy detector ``i`` of a varied file."""
    return {
        "weightfield": f"weight_{i}",
        "rename": {f"reco_x_{i}": "reco_x"},
        "buffer_csv_files": True,
    }


def vary(settings: common.Settings) -> None:
    for model in ("modelA", "modelB"):
        experiment.vary_detector(
            f"../00/{model}_data.txt", f"{model}_data.txt", n_toys=settings.n_detector_toys
        )


def plot_data(n_toys: int) -> None:
    """Real data against the reco distributions of all toy detectors."""
    reco_binning = load("../01/reco-binning.yml")
    reco_binning.fill_from_csv_file("../00/real_data.txt")
    data = reco_binning.get_values_as_ndarray()

    toys = {"modelA": [], "modelB": []}
    for i in common.progress(range(n_toys), desc="toy reco histograms"):
        for model, values in toys.items():
            reco_binning.reset()
            reco_binning.fill_from_csv_file(f"{model}_data.txt", **toy_fill(i))
            values.append(reco_binning.get_values_as_ndarray())
    A = np.asarray(toys["modelA"]) / 10  # 100 years of MC vs 10 years of data
    B = np.asarray(toys["modelB"]) / 10

    pltr = plotting.get_plotter(reco_binning)
    for a, b in zip(A, B, strict=True):
        pltr.plot_array(a, alpha=0.05, edgecolor="C1", hatch=None)
        pltr.plot_array(b, alpha=0.05, edgecolor="C2", hatch=None)
    pltr.plot_array(data, label="Data", edgecolor="C0", linewidth=2, hatch=None)
    pltr.plot_array(A.mean(axis=0), label="Model A", edgecolor="C1", hatch=None)
    pltr.plot_array(B.mean(axis=0), label="Model B", edgecolor="C2", hatch=None)
    pltr.legend()
    pltr.savefig("data.png")
    plt.close("all")


def build_response_matrix(n_toys: int) -> None:
    """One response matrix per toy detector, exported as one set."""
    builder = migration.ResponseMatrixArrayBuilder(1)
    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("../01/optimised-truth-binning.yml")
    resp = migration.ResponseMatrix(reco_binning, truth_binning)
    for i in common.progress(range(n_toys), desc="toy matrices"):
        resp.reset()
        resp.fill_from_csv_file(["modelA_data.txt", "modelB_data.txt"], **toy_fill(i))
        resp.fill_up_truth_from_csv_file(
            ["../00/modelA_truth.txt", "../00/modelB_truth.txt"], buffer_csv_files=True
        )
        builder.add_matrix(resp)
    builder.export("response_matrix.npz")


def template(truth_binning: binning.Binning, filename: str) -> np.ndarray:
    truth_binning.reset()
    truth_binning.fill_from_csv_file(filename)
    values = truth_binning.get_values_as_ndarray()
    return values / np.sum(values)


def fit_models(settings: common.Settings) -> dict[str, Any]:
    n_fit = settings.n_toys_fit
    results: dict[str, Any] = {"fits": {}, "p_values": {}}
    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("../01/optimised-truth-binning.yml")
    reco_binning.fill_from_csv_file("../00/real_data.txt")
    data_model = likelihood.PoissonData(reco_binning.get_entries_as_ndarray())
    calc = likelihood.LikelihoodCalculator(
        data_model, likelihood.ResponseMatrixPredictor("../01/response_matrix.npz")
    )
    calc_syst = likelihood.LikelihoodCalculator(
        data_model, likelihood.ResponseMatrixPredictor("response_matrix.npz")
    )
    modelA_shape = likelihood.TemplatePredictor([template(truth_binning, "../00/modelA_truth.txt")])
    modelB_shape = likelihood.TemplatePredictor([template(truth_binning, "../00/modelB_truth.txt")])
    maxi = likelihood.BasinHoppingMaximizer()

    calcs = {
        "modelA": calc.compose(modelA_shape),
        "modelA_syst": calc_syst.compose(modelA_shape),
        "modelB": calc.compose(modelB_shape),
        "modelB_syst": calc_syst.compose(modelB_shape),
    }
    rets = {}
    for name, c in calcs.items():
        rets[name] = maxi(c)
        common.write_text(f"{name}_fit.txt", rets[name])
        results["fits"][name] = common.fit_summary(rets[name])

    # Reco comparison: nominal predictions and the 68 % band of the variations
    pltr = plotting.get_plotter(reco_binning)
    pltr.plot_values(edgecolor="C0", label="data", hatch=None, linewidth=2.0)
    for model, colour, hatch in (("modelA", "C1", "//"), ("modelB", "C2", "\\\\")):
        x = rets[model].x
        label = "model A" if model == "modelA" else "model B"
        pltr.plot_array(calcs[model].predictor(x)[0], label=label, edgecolor=colour, hatch=None)
        pltr.plot_array(
            calcs[f"{model}_syst"].predictor(x)[0],
            label=f"{label} syst",
            edgecolor=colour,
            hatch=hatch,
            stack_function=0.68,
        )
    pltr.legend()
    pltr.savefig("reco-comparison.png")
    plt.close("all")

    testers = {name: likelihood.HypothesisTester(c) for name, c in calcs.items()}
    with common.toy_pool(settings):
        for name, tester in testers.items():
            results["p_values"][name] = tester.max_likelihood_p_value(N=n_fit)
        common.write_text(
            "fit_p-values.txt", f"{results['p_values']['modelA']}\n{results['p_values']['modelB']}"
        )
        common.write_text(
            "fit_p-values_syst.txt",
            f"{results['p_values']['modelA_syst']}\n{results['p_values']['modelB_syst']}",
        )

        values = np.linspace(600, 1600, settings.n_scan_03)
        scan = {name: [] for name in testers}
        ratio_scan = {name: [] for name in testers}
        for v in common.progress(values, desc="p-value scans"):
            for name, tester in testers.items():
                scan[name].append(float(tester.max_likelihood_p_value([v], N=n_fit)))
                ratio_scan[name].append(
                    float(tester.max_likelihood_ratio_p_value([v], N=settings.n_toys_scan_03))
                )
    wilks_values = np.linspace(600, 1600, settings.n_scan_wilks)
    wilks = {
        name: [testers[name].wilks_max_likelihood_ratio_p_value([v]) for v in wilks_values]
        for name in ("modelA_syst", "modelB_syst")
    }
    print("p-value scan:", values.tolist(), scan)
    print("ratio p-value scan:", ratio_scan)
    results["scan"] = {"values": values, "p": scan, "ratio_p": ratio_scan}

    styles = {"modelA": ("C1", "dotted"), "modelA_syst": ("C1", "solid")}
    styles |= {"modelB": ("C2", "dotted"), "modelB_syst": ("C2", "solid")}
    labels = {"modelA": "Model A", "modelA_syst": "Model A syst"}
    labels |= {"modelB": "Model B", "modelB_syst": "Model B syst"}
    for filename, curves in (("p-values.png", scan), ("ratio-p-values.png", ratio_scan)):
        fig, ax = plt.subplots()
        ax.set_xlabel("Model weight")
        ax.set_ylabel("p-value")
        for name, p in curves.items():
            colour, style = styles[name]
            ax.plot(values, p, label=labels[name], color=colour, linestyle=style)
            ax.axvline(rets[name].x[0], color=colour, linestyle=style)
        if curves is ratio_scan:
            ax.plot(
                wilks_values, wilks["modelA_syst"], label="Model A Wilks", color="C1", ls="dashed"
            )
            ax.plot(
                wilks_values, wilks["modelB_syst"], label="Model B Wilks", color="C2", ls="dashed"
            )
        ax.axhline(0.32, color="k", linestyle="dashed")
        ax.axhline(0.05, color="k", linestyle="dashed")
        ax.legend(loc="best")
        fig.savefig(filename)
        plt.close(fig)
    return results


def export_pyhf(results: dict[str, Any]) -> dict[str, Any]:
    """Model B with the toy matrices as a pyhf workspace, fitted by pyhf."""
    import pyhf

    from remu.likelihood_utils import to_pyhf_workspace

    # pyhf 0.7 uses a jsonschema API that newer jsonschema versions deprecate
    warnings.filterwarnings("ignore", message="jsonschema.RefResolver is deprecated")
    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("../01/optimised-truth-binning.yml")
    reco_binning.fill_from_csv_file("../00/real_data.txt")
    data = reco_binning.get_entries_as_ndarray()
    shape = likelihood.TemplatePredictor([template(truth_binning, "../00/modelB_truth.txt")])
    predictor = likelihood.ResponseMatrixPredictor("response_matrix.npz").compose(shape)
    spec = to_pyhf_workspace(predictor, data, sample_names=["modelB"])
    common.save_json("modelB_syst_pyhf.json", spec)
    model = pyhf.Workspace(spec).model()
    bestfit = pyhf.infer.mle.fit(list(data) + model.config.auxdata, model)
    weight = float(bestfit[model.config.par_slice("mu_modelB")][0])
    remu_weight = results["fits"]["modelB_syst"]["x"][0]
    n_pc = sum(1 for p in model.config.par_order if p.startswith("remu_response_pc"))
    print(f"pyhf: model B weight {weight:.1f} (remu {remu_weight:.1f}), {n_pc} histosys components")
    return {"modelB_syst": {"pyhf": weight, "remu": remu_weight, "histosys_components": n_pc}}


def main(settings: common.Settings) -> dict[str, Any]:
    vary(settings)
    plot_data(settings.n_detector_toys)
    build_response_matrix(settings.n_detector_toys)
    results = fit_models(settings)
    results["pyhf"] = export_pyhf(results)
    return results


if __name__ == "__main__":
    common.run_step("03", main, __doc__.splitlines()[0])
