"""Step 00 — simulate the experiment, fill binnings, plot them.

1. Record the "real data" (10 years of model B, signal only) and simulate
   100 years of model A and model B as Monte Carlo (truth and selected events).
2. Fill a 2-D reco binning with each data set and plot it; overlay the three
   data sets as pseudo scatter plots.
3. Same for the truth distributions of the two models.

Run inside ``<output>/00``; writes the five CSV event files used by every later step.
"""

from __future__ import annotations

from typing import Any

import simple_experiment as experiment
import tutorial_common as common

from remu import binning, plotting


def simulate(settings: common.Settings) -> dict[str, Any]:
    """Write real_data.txt and the model A/B Monte Carlo files."""
    counts = {
        "real_data": experiment.run_experiment(10, "real_data.txt", rng=settings.rng(0, 1)),
        "modelA": experiment.simulate_experiment(
            100, "modelA", "modelA_data.txt", "modelA_truth.txt", rng=settings.rng(0, 2)
        ),
        "modelB": experiment.simulate_experiment(
            100, "modelB", "modelB_data.txt", "modelB_truth.txt", rng=settings.rng(0, 3)
        ),
    }
    return counts


def plot_reco(filenames: dict[str, str]) -> None:
    """One figure per reco data set, then all three overlaid."""
    with open("reco-binning.yml") as f:
        reco_binning = binning.yaml.full_load(f)

    for stem in ("real_data", "modelA_data", "modelB_data"):
        reco_binning.reset()
        reco_binning.fill_from_csv_file(f"{stem}.txt")
        pltr = plotting.get_plotter(reco_binning)
        pltr.plot_values()
        pltr.savefig(f"{stem}.png")

    pltr = plotting.get_plotter(reco_binning)
    for label, filename in filenames.items():
        reco_binning.reset()
        reco_binning.fill_from_csv_file(filename)
        pltr.plot_values(label=label, scatter=500)
    pltr.legend()
    pltr.savefig("compare_data.png")


def plot_truth() -> None:
    """The true distributions of the two models, alone and overlaid."""
    with open("truth-binning.yml") as f:
        truth_binning = binning.yaml.full_load(f)

    for stem in ("modelA_truth", "modelB_truth"):
        truth_binning.reset()
        truth_binning.fill_from_csv_file(f"{stem}.txt")
        pltr = plotting.get_plotter(truth_binning)
        pltr.plot_values()
        pltr.savefig(f"{stem}.png")

    pltr = plotting.get_plotter(truth_binning)
    for label, filename in (("model A", "modelA_truth.txt"), ("model B", "modelB_truth.txt")):
        truth_binning.reset()
        truth_binning.fill_from_csv_file(filename)
        pltr.plot_values(label=label, scatter=500)
    pltr.legend()
    pltr.savefig("compare_truth.png")


def main(settings: common.Settings) -> dict[str, Any]:
    counts = simulate(settings)
    plot_reco({"data": "real_data.txt", "model A": "modelA_data.txt", "model B": "modelB_data.txt"})
    plot_truth()
    return {"events": counts}


if __name__ == "__main__":
    common.run_step("00", main, __doc__.splitlines()[0])
