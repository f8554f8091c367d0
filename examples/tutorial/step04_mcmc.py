"""Step 04 — Markov chain Monte Carlo with emcee.

Sample the posterior of the model A weight (flat prior) with the likelihood
that includes the detector systematics of step 03: a short chain shows why a
burn-in is needed, a long one provides it, and a production run gives the
posterior. Then the posterior predictive distributions in truth and reco
space, and the joint posterior of a two-template (A + B) model.

Run inside ``<output>/04``; reads steps 00, 01 and 03.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tutorial_common as common
from matplotlib import pyplot as plt

from remu import binning, likelihood, likelihood_utils, plotting


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def template(truth_binning: binning.Binning, filename: str) -> np.ndarray:
    truth_binning.reset()
    truth_binning.fill_from_csv_file(filename)
    values = truth_binning.get_values_as_ndarray()
    return values / np.sum(values)


def autocorrelation(sampler: Any, filename: str) -> list[float] | str:
    """Integrated autocorrelation time, or emcee's complaint that the chain is too short."""
    import emcee

    try:
        tau = sampler.get_autocorr_time()
    except emcee.autocorr.AutocorrError as error:
        common.write_text(filename, error)
        return str(error)
    common.write_text(filename, tau)
    return tau.tolist()


def histogram(values: np.ndarray, xlabel: str, filename: str) -> None:
    fig, ax = plt.subplots()
    ax.hist(values, bins=50)
    ax.set_xlabel(xlabel)
    fig.savefig(filename)
    plt.close(fig)


def main(settings: common.Settings) -> dict[str, Any]:
    results: dict[str, Any] = {"tau": {}}
    reco_binning = load("../01/reco-binning.yml")
    truth_binning = load("../01/optimised-truth-binning.yml")
    reco_binning.fill_from_csv_file("../00/real_data.txt")
    data = reco_binning.get_entries_as_ndarray()
    data_model = likelihood.PoissonData(data)
    matrix_predictor = likelihood.ResponseMatrixPredictor("../03/response_matrix.npz")
    calc = likelihood.LikelihoodCalculator(data_model, matrix_predictor)

    modelA = template(truth_binning, "../00/modelA_truth.txt")
    modelA_shape = likelihood.TemplatePredictor([modelA])
    calcA = calc.compose(modelA_shape)

    # A short chain from the initial guess: far from converged
    sampler = likelihood_utils.emcee_sampler(calcA)
    guessA = likelihood_utils.emcee_initial_guess(calcA)
    sampler.run_mcmc(guessA, settings.mcmc_short)
    chain = sampler.get_chain(flat=True)
    common.write_text("chain_shape.txt", chain.shape)
    histogram(chain[:, 0], "model A weight", "burn_short.png")
    results["tau"]["burn_short"] = autocorrelation(sampler, "burn_short_tau.txt")

    # A long burn-in, then a production run starting from its final state
    sampler.reset()
    state = sampler.run_mcmc(guessA, settings.mcmc_burn, progress=common.show_progress())
    results["tau"]["burn_long"] = autocorrelation(sampler, "burn_long_tau.txt")
    histogram(sampler.get_chain(flat=True)[:, 0], "model A weight", "burn_long.png")
    sampler.reset()
    sampler.run_mcmc(state, settings.mcmc_production, progress=common.show_progress())
    results["tau"]["modelA"] = autocorrelation(sampler, "tauA.txt")
    chain = sampler.get_chain(flat=True)
    histogram(chain[:, 0], "model A weight", "weightA.png")
    results["posterior"] = {
        "modelA_weight": {
            "median": float(np.median(chain[:, 0])),
            "q16": float(np.quantile(chain[:, 0], 0.16)),
            "q84": float(np.quantile(chain[:, 0], 0.84)),
        }
    }

    # Posterior predictive distributions
    truth, _weights = modelA_shape(chain)
    truth = truth.reshape((-1, truth_binning.data_size))
    pltr = plotting.get_plotter(truth_binning)
    pltr.plot_array(truth, stack_function=np.median, label="Post. median", hatch=None)
    pltr.plot_array(truth, stack_function=0.68, label="Post. 68%", scatter=0)
    pltr.legend()
    pltr.savefig("truthA.png")

    reco, _weights = calcA.predictor(chain)
    reco = reco.reshape((-1, reco_binning.data_size))
    pltr = plotting.get_plotter(reco_binning)
    pltr.plot_array(reco, stack_function=np.median, label="Post. median", hatch=None)
    pltr.plot_array(reco, stack_function=0.68, label="Post. 68%")
    pltr.plot_array(data, label="Data", hatch=None, linewidth=2)
    pltr.legend()
    pltr.savefig("recoA.png")
    plt.close("all")

    # Two templates: the joint posterior of both weights
    modelB = template(truth_binning, "../00/modelB_truth.txt")
    combined = likelihood.TemplatePredictor([modelA, modelB])
    calcC = calc.compose(combined)
    sampler = likelihood_utils.emcee_sampler(calcC)
    guessC = likelihood_utils.emcee_initial_guess(calcC)
    state = sampler.run_mcmc(guessC, settings.mcmc_burn, progress=common.show_progress())
    chain = sampler.get_chain(flat=True)
    common.write_text("combined_chain_shape.txt", chain.shape)
    results["tau"]["burn_combined"] = autocorrelation(sampler, "burn_combined_tau.txt")
    sampler.reset()
    sampler.run_mcmc(state, settings.mcmc_production, progress=common.show_progress())
    results["tau"]["combined"] = autocorrelation(sampler, "combined_tau.txt")
    chain = sampler.get_chain(flat=True)
    total = chain[:, 0] + chain[:, 1]
    results["posterior"]["combined"] = {
        "modelA_weight_median": float(np.median(chain[:, 0])),
        "modelB_weight_median": float(np.median(chain[:, 1])),
        "total_median": float(np.median(total)),
        "total_q16": float(np.quantile(total, 0.16)),
        "total_q84": float(np.quantile(total, 0.84)),
    }

    fig, ax = plt.subplots()
    ax.hist2d(chain[:, 0], chain[:, 1], bins=50)
    ax.set_xlabel("model A weight")
    ax.set_ylabel("model B weight")
    fig.savefig("combined.png")
    plt.close(fig)
    histogram(total, "model A weight + model B weight", "total.png")
    return results


if __name__ == "__main__":
    common.run_step("04", main, __doc__.splitlines()[0])
