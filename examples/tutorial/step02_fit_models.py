"""Step 02 — likelihoods, fits, p-values and confidence intervals.

1. Forward-fold truth expectations through the response matrix of step 01 and
   compare them with the real data: Poisson likelihood and the goodness of fit
   of two simple hypotheses (1000 events of model A or of model B).
2. Fit the normalisation of each model template; its uncertainty with iminuit
   (``MinuitMaximizer``); p-values of the fits, and the toys behind one of them
   (``return_toys=True``: binomial error, two halves merged).
3. Fit a mixture of both templates and scan the model A weight: profile
   plug-in p-values (toys) and Wilks' asymptotic p-values.

Run inside ``<output>/02``; reads step 00's data and step 01's matrix and binnings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tutorial_common as common
from matplotlib import pyplot as plt

from remu import binning, likelihood, plotting


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def template(truth_binning: binning.Binning, filename: str) -> np.ndarray:
    """The truth distribution of a model, normalised to unit sum."""
    truth_binning.reset()
    truth_binning.fill_from_csv_file(filename)
    values = truth_binning.get_values_as_ndarray()
    return values / np.sum(values)


def main(settings: common.Settings) -> dict[str, Any]:
    n_gof, n_fit = settings.n_toys_gof, settings.n_toys_fit
    results: dict[str, Any] = {"fits": {}, "p_values": {}}

    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("../01/optimised-truth-binning.yml")
    reco_binning.fill_from_csv_file("../00/real_data.txt")
    data = reco_binning.get_entries_as_ndarray()
    data_model = likelihood.PoissonData(data)
    matrix_predictor = likelihood.ResponseMatrixPredictor("../01/response_matrix.npz")
    calc = likelihood.LikelihoodCalculator(data_model, matrix_predictor)
    test = likelihood.HypothesisTester(calc)

    modelA = template(truth_binning, "../00/modelA_truth.txt")
    modelB = template(truth_binning, "../00/modelB_truth.txt")

    with common.toy_pool(settings):
        # Simple hypotheses: exactly 1000 true events of either model
        simple = [
            calc(modelA * 1000),
            test.likelihood_p_value(modelA * 1000, N=n_gof),
            calc(modelB * 1000),
            test.likelihood_p_value(modelB * 1000, N=n_gof),
        ]
        common.write_text("simple_hypotheses.txt", "\n".join(str(float(v)) for v in simple))
        results["simple_hypotheses"] = {
            "modelA": {"log_likelihood": simple[0], "p_value": simple[1]},
            "modelB": {"log_likelihood": simple[2], "p_value": simple[3]},
        }

        # Template fits: the normalisation is the only free parameter
        modelA_shape = likelihood.TemplatePredictor([modelA])
        modelA_reco_shape = matrix_predictor.compose(modelA_shape)
        calcA = likelihood.LikelihoodCalculator(data_model, modelA_reco_shape)
        maxi = likelihood.BasinHoppingMaximizer()
        retA = maxi(calcA)
        common.write_text("modelA_fit.txt", retA)

        modelB_shape = likelihood.TemplatePredictor([modelB])
        calcB = calc.compose(modelB_shape)
        retB = maxi(calcB)
        common.write_text("modelB_fit.txt", retB)
        results["fits"] |= {"modelA": common.fit_summary(retA), "modelB": common.fit_summary(retB)}

        # The uncertainty of the normalisation: iminuit's HESSE error and MINOS interval
        # (Delta log L = 1/2). Same maximum as the basin-hopping fit.
        minuit_fit = likelihood.MinuitMaximizer(minos=True)(calcA)
        common.write_text("modelA_minuit_fit.txt", minuit_fit)
        (weight,), (error,), ((lower, upper),) = minuit_fit.x, minuit_fit.errors, minuit_fit.minos
        print(
            f"model A weight (iminuit): {weight:.1f} +- {error:.1f} (HESSE), "
            f"MINOS {lower:+.1f} / {upper:+.1f}"
        )
        results["minuit"] = {
            "modelA": {"x": weight, "error": error, "minos": [lower, upper]},
        }

        testA = likelihood.HypothesisTester(calcA, maximizer=maxi)
        testB = likelihood.HypothesisTester(calcB, maximizer=maxi)
        pA = testA.max_likelihood_p_value(N=n_fit)
        pB = testB.max_likelihood_p_value(N=n_fit)
        common.write_text("fit_p-values.txt", f"{pA}\n{pB}")
        results["p_values"] |= {"modelA_fit": pA, "modelB_fit": pB}

        # The toys behind a p-value (return_toys=True): its binomial error, and the
        # toys of two jobs (e.g. two batch jobs) merged into one p-value with +
        half = max(n_fit // 2, 1)
        first = testA.max_likelihood_p_value(N=half, return_toys=True)
        second = testA.max_likelihood_p_value(N=half, return_toys=True)
        merged = first + second
        print("two halves:", first, second, sep="\n  ")
        print("merged:", merged)
        results["toy_result"] = {
            "halves": [float(first.p_value), float(second.p_value)],
            "merged": {"p_value": float(merged.p_value), "error": float(merged.error)},
            "N": merged.N,
        }

        # Data vs. the best-fit predictions in reco space
        pltr = plotting.get_plotter(reco_binning)
        pltr.plot_entries(label="data", hatch=None)
        for name, ret, predictor, tester, style in (
            ("model A", retA, modelA_reco_shape, testA, "dashed"),
            ("model B", retB, calcB.predictor, testB, "dotted"),
        ):
            prediction, _weights = predictor(ret.x)
            log_l = float(tester.likelihood_calculator(ret.x))
            p = float(tester.likelihood_p_value(ret.x, N=n_gof))
            results["p_values"][f"{name.replace(' ', '')}_gof"] = p
            pltr.plot_array(
                prediction,
                label=f"{name}: log L={log_l:.1f}, p={p:.3f}",
                hatch=None,
                linestyle=style,
            )
        pltr.legend(loc="lower center")
        pltr.savefig("reco-comparison.png")

        # Both templates at once
        mix_model = likelihood.TemplatePredictor([modelA, modelB])
        calc_mix = calc.compose(mix_model)
        ret = maxi.maximize_log_likelihood(calc_mix)
        common.write_text("mix_model_fit.txt", ret)
        results["fits"]["mix"] = common.fit_summary(ret)
        test = likelihood.HypothesisTester(calc_mix)
        p_mix = test.max_likelihood_p_value(N=n_fit)
        common.write_text("mix_model_p_value.txt", p_mix)
        results["p_values"]["mix_fit"] = p_mix

        # Confidence interval of the model A weight (model B weight profiled)
        profile_A = np.linspace(0, 1000, settings.n_scan_profile)
        profile_p = [
            float(test.max_likelihood_ratio_p_value((A, None), N=n_fit))
            for A in common.progress(profile_A, desc="profile scan")
        ]
        print("profile plug-in p-values:", dict(zip(profile_A.tolist(), profile_p, strict=True)))
    wilks_A = np.linspace(0, 1000, settings.n_scan_wilks)
    wilks_p = [float(test.wilks_max_likelihood_ratio_p_value((A, None))) for A in wilks_A]
    print("Wilks p-values:", dict(zip(wilks_A.tolist(), wilks_p, strict=True)))
    results["scan"] = {
        "profile": {"A": profile_A, "p": profile_p},
        "wilks": {"A": wilks_A, "p": wilks_p},
    }

    fig, ax = plt.subplots()
    ax.set_xlabel("Model A weight")
    ax.set_ylabel("p-value")
    ax.plot(profile_A, profile_p, label="Profile plug-in")
    ax.plot(wilks_A, wilks_p, label="Wilks")
    ax.axvline(ret.x[0], color="k", linestyle="solid")
    ax.axhline(0.32, color="k", linestyle="dashed")
    ax.axhline(0.05, color="k", linestyle="dashed")
    ax.legend(loc="best")
    fig.savefig("p-values.png")
    plt.close("all")
    return results


if __name__ == "__main__":
    common.run_step("02", main, __doc__.splitlines()[0])
