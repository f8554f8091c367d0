"""Step 01 — build response matrices and optimise the truth binning.

1. A response matrix with a 1-D truth binning (true_x only) depends on the
   physics model: model A and model B give incompatible matrices.
2. A 2-D truth binning (true_x, true_y) captures what the efficiency depends
   on: the two matrices become compatible, so the Monte Carlo of both models
   can be combined.
3. Merge truth bins until every bin holds at least 10 generated events, check
   the model independence again, and export the matrix and the optimised binning.

Run inside ``<output>/01``; reads the model A/B files of step 00.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tutorial_common as common
from matplotlib import pyplot as plt

from remu import binning, matrix_utils, migration, plotting

MIN_ENTRIES = 10


def load(filename: str) -> binning.Binning:
    with open(filename) as f:
        return binning.yaml.full_load(f)


def compatibility(resp_a: migration.ResponseMatrix, resp_b: migration.ResponseMatrix) -> dict:
    """Both compatibility numbers (count-based and chi-square based)."""
    count, chi2 = matrix_utils.compatibility(resp_a, resp_b)
    return {"count": float(count), "chi2": float(chi2)}


def coarse_binning() -> dict[str, Any]:
    """Part 1: a 1-D truth binning is model dependent."""
    reco_binning = load("reco-binning.yml")
    truth_binning = load("coarse-truth-binning.yml")

    respA = migration.ResponseMatrix(reco_binning, truth_binning)
    respA.fill_from_csv_file("../00/modelA_data.txt")
    respA.fill_up_truth_from_csv_file("../00/modelA_truth.txt")
    matrix_utils.plot_mean_response_matrix(respA, "response_matrix_A.png")

    pltr = plotting.get_plotter(respA.truth_binning)
    pltr.plot_entries()
    pltr.savefig("entries_A.png")
    pltr = plotting.get_plotter(respA.truth_binning)
    pltr.plot_entries(density=False, hatch=None)
    pltr.savefig("abs_entries_A.png")

    reco_binning = reco_binning.clone()
    reco_binning.reset()
    truth_binning = truth_binning.clone()
    truth_binning.reset()
    respB = migration.ResponseMatrix(reco_binning, truth_binning)
    respB.fill_from_csv_file("../00/modelB_data.txt")
    respB.fill_up_truth_from_csv_file("../00/modelB_truth.txt")
    matrix_utils.plot_mean_response_matrix(respB, "response_matrix_B.png")

    matrix_utils.plot_mahalanobis_distance(respA, respB, "mahalanobis_distance.png")
    matrix_utils.plot_compatibility(respA, respB, "compatibility.png")
    result = compatibility(respA, respB)
    plt.close("all")
    return result


def fine_binning() -> tuple[migration.ResponseMatrix, dict[str, Any]]:
    """Part 2: a 2-D truth binning makes the response model independent."""
    reco_binning = load("reco-binning.yml")
    truth_binning = load("fine-truth-binning.yml")
    respA = migration.ResponseMatrix(reco_binning, truth_binning)
    respB = migration.ResponseMatrix(reco_binning.clone(), truth_binning.clone())

    respA.fill_from_csv_file("../00/modelA_data.txt")
    respA.fill_up_truth_from_csv_file("../00/modelA_truth.txt")
    respB.fill_from_csv_file("../00/modelB_data.txt")
    respB.fill_up_truth_from_csv_file("../00/modelB_truth.txt")

    pltr = plotting.get_plotter(respB.truth_binning)
    pltr.plot_entries()
    pltr.savefig("fine_entries_B.png")
    # (upstream writes model B's matrix under this "_A" name; we keep the file name)
    matrix_utils.plot_mean_response_matrix(respB, "fine_response_matrix_A.png")
    matrix_utils.plot_mean_efficiency(respA, "fine_efficiency_A.png")
    matrix_utils.plot_mean_efficiency(respB, "fine_efficiency_B.png")
    matrix_utils.plot_mahalanobis_distance(respA, respB, "fine_mahalanobis_distance.png")
    matrix_utils.plot_compatibility(respA, respB, "fine_compatibility.png")
    result = compatibility(respA, respB)
    plt.close("all")

    # Compatible: combine the Monte Carlo of both models into one matrix
    resp = respA + respB
    matrix_utils.plot_in_bin_variation(resp, "fine_inbin_var.png")
    matrix_utils.plot_statistical_uncertainty(resp, "fine_stat_var.png")
    matrix_utils.plot_relative_in_bin_variation(resp, "fine_rel_inbin_var.png")
    pltr = plotting.get_plotter(resp.truth_binning)
    pltr.plot_entries()
    pltr.savefig("fine_entries.png")
    plt.close("all")
    return resp, result


def optimise(resp: migration.ResponseMatrix) -> tuple[migration.ResponseMatrix, int]:
    """Part 3: merge truth bins until each holds at least MIN_ENTRIES events."""
    entries = resp.get_truth_entries_as_ndarray()
    iterations = 0
    with common.counter("improve_stats") as bar:
        while np.min(entries) < MIN_ENTRIES:
            resp = matrix_utils.improve_stats(resp)
            entries = resp.get_truth_entries_as_ndarray()
            iterations += 1
            bar.update()
    return resp, iterations


# Every step's main takes the run's settings; this step needs none of them.
def main(settings: common.Settings) -> dict[str, Any]:  # noqa: ARG001
    coarse = coarse_binning()
    resp, fine = fine_binning()
    n_fine = resp.truth_binning.data_size
    optimised, iterations = optimise(resp)

    pltr = plotting.get_plotter(optimised.truth_binning)
    pltr.plot_entries()
    pltr.savefig("optimised_entries.png")
    pltr = plotting.get_plotter(optimised.truth_binning)
    for label, function in (("min", np.min), ("max", np.max), ("median", np.median)):
        pltr.plot_entries(density=False, label=label, hatch=None, margin_function=function)
    pltr.legend()
    pltr.savefig("optimised_abs_entries.png")
    matrix_utils.plot_mean_efficiency(optimised, "optimised_efficiency.png")
    matrix_utils.plot_relative_in_bin_variation(optimised, "optimised_rel_inbin_var.png")
    plt.close("all")

    # Is the optimised binning still model independent?
    reco_binning = optimised.reco_binning.clone()
    reco_binning.reset()
    truth_binning = optimised.truth_binning.clone()
    truth_binning.reset()
    respA = migration.ResponseMatrix(reco_binning, truth_binning)
    reco_binning = reco_binning.clone()
    truth_binning = truth_binning.clone()
    respB = migration.ResponseMatrix(reco_binning, truth_binning)
    respA.fill_from_csv_file("../00/modelA_data.txt")
    respA.fill_up_truth_from_csv_file("../00/modelA_truth.txt")
    respB.fill_from_csv_file(["../00/modelB_data.txt"])  # the list form of the fill methods
    respB.fill_up_truth_from_csv_file(["../00/modelB_truth.txt"])
    matrix_utils.plot_mahalanobis_distance(respA, respB, "optimised_mahalanobis_distance.png")
    matrix_utils.plot_compatibility(respA, respB, "optimised_compatibility.png")
    optimised_compat = compatibility(respA, respB)
    plt.close("all")

    with open("optimised-truth-binning.yml", "w") as f:
        binning.yaml.dump(optimised.truth_binning, f)
    optimised.export("response_matrix.npz")

    entries = optimised.get_truth_entries_as_ndarray()
    return {
        "compatibility": {"coarse": coarse, "fine": fine, "optimised": optimised_compat},
        "truth_bins": {"fine": n_fine, "optimised": int(optimised.truth_binning.data_size)},
        "improve_stats_iterations": iterations,
        "optimised_bin_edges": [list(map(float, e)) for e in optimised.truth_binning.bin_edges],
        "truth_entries": {"sum": int(entries.sum()), "min": int(entries.min())},
    }


if __name__ == "__main__":
    common.run_step("01", main, __doc__.splitlines()[0])
