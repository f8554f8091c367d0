"""Step 00 — simulate the experiment, fill binnings, plot them.

1. Record the "real data" (10 years of model B, signal only) and simulate
   100 years of model A and model B as Monte Carlo (truth and selected events).
2. Fill a 2-D reco binning with each data set and plot it; overlay the three
   data sets as pseudo scatter plots.
3. Same for the truth distributions of the two models.
4. Hand the binnings to the scikit-hep tools: a remu binning is a UHI histogram,
   so mplhep draws it and uproot writes it to a ROOT file (open-ended outer bins
   become the under-/overflow bins); ``to_hist`` gives a ``hist.Hist``.

Run inside ``<output>/00``; writes the five CSV event files used by every later step.
"""

from __future__ import annotations

from typing import Any

import simple_experiment as experiment
import tutorial_common as common

from remu import binning, plotting


def simulate(settings: common.Settings) -> dict[str, Any]:
    """Write real_data.txt and the model A/B Monte Carlo files."""
    return {
        "real_data": experiment.run_experiment(10, "real_data.txt", rng=settings.rng(0, 1)),
        "modelA": experiment.simulate_experiment(
            100, "modelA", "modelA_data.txt", "modelA_truth.txt", rng=settings.rng(0, 2)
        ),
        "modelB": experiment.simulate_experiment(
            100, "modelB", "modelB_data.txt", "modelB_truth.txt", rng=settings.rng(0, 3)
        ),
    }


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


def scikit_hep() -> dict[str, Any]:
    """mplhep figures of the real data and a ROOT file of all reco histograms."""
    import matplotlib.pyplot as plt
    import mplhep
    import uproot

    with open("reco-binning.yml") as f:
        reco_binning = binning.yaml.full_load(f)
    histograms = {}
    for stem in ("real_data", "modelA_data", "modelB_data"):
        reco_binning.reset()
        reco_binning.fill_from_csv_file(f"{stem}.txt")
        histograms[stem] = reco_binning.clone()

    data = histograms["real_data"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    mplhep.histplot(data.project("reco_x"), ax=ax1, histtype="errorbar", label="data")
    for stem, label in (("modelA_data", "model A"), ("modelB_data", "model B")):
        # 100 years of Monte Carlo against 10 years of data
        mc = histograms[stem].project("reco_x")
        mc.set_values_from_ndarray(mc.get_values_as_ndarray() / 10)
        mc.set_sumw2_from_ndarray(mc.get_sumw2_as_ndarray() / 100)
        mplhep.histplot(mc, ax=ax1, label=f"{label} / 10")
    ax1.set_xlabel("reco_x")
    ax1.legend()
    mplhep.hist2dplot(data, ax=ax2)
    ax2.set_xlabel("reco_x")
    ax2.set_ylabel("reco_y")
    fig.savefig("real_data_mplhep.png")
    plt.close(fig)

    with uproot.recreate("reco_histograms.root") as f:
        for stem, hist2d in histograms.items():
            f[stem] = hist2d  # a TH2D; the open-ended bins are its flow bins
            f[f"{stem}_x"] = hist2d.project("reco_x")  # a TH1D
    with uproot.open("reco_histograms.root") as f:
        th2 = f["real_data"]
        written = {key.split(";")[0]: f[key].classname for key in f.keys(cycle=False)}
        inside = float(th2.values().sum())
        total = float(th2.values(flow=True).sum())
    print(f"reco_histograms.root: {written}; real data {inside:g} events inside, {total:g} in all")
    return {"root_file": "reco_histograms.root", "histograms": written, "events_in_all": total}


def main(settings: common.Settings) -> dict[str, Any]:
    counts = simulate(settings)
    plot_reco({"data": "real_data.txt", "model A": "modelA_data.txt", "model B": "modelB_data.txt"})
    plot_truth()
    return {"events": counts, "scikit_hep": scikit_hep()}


if __name__ == "__main__":
    common.run_step("00", main, __doc__.splitlines()[0])
