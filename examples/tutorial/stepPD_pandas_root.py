"""Step PD — filling binnings from pandas DataFrames and ROOT files (uproot).

1. Fill a 3-D momentum binning from a DataFrame of random momenta.
2. Read a flat ROOT tree (one di-muon candidate per row) into a DataFrame and
   fill the binning with the first muon, renaming columns on the fly.
3. Read a tree with variable-length muon collections, flatten it into a
   (entry, subentry) DataFrame, keep the first muon of every event and fill.

The ROOT files are the public scikit-hep samples ``Zmumu.root`` and
``HZZ.root`` when they are available (``$REMU_SHARED/data/upstream-examples/PD``,
by default ``../shared`` next to the repository); otherwise the step first
writes small substitutes with the same tree name and branch names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import tutorial_common as common

from remu import binning, plotting

FLAT_BRANCHES = [
    "Type",
    "Run",
    "Event",
    "E1",
    "px1",
    "py1",
    "pz1",
    "pt1",
    "eta1",
    "phi1",
    "Q1",
    "E2",
    "px2",
    "py2",
    "pz2",
    "pt2",
    "eta2",
    "phi2",
    "Q2",
    "M",
]
COLLECTIONS = {
    "Jet": ("Px", "Py", "Pz", "E", "btag", "ID"),
    "Muon": ("Px", "Py", "Pz", "E", "Charge", "Iso"),
    "Electron": ("Px", "Py", "Pz", "E", "Charge", "Iso"),
    "Photon": ("Px", "Py", "Pz", "E", "Iso"),
}
MC_PARTICLES = (
    "MChadronicBottom",
    "MCleptonicBottom",
    "MChadronicWDecayQuark",
    "MChadronicWDecayQuarkBar",
    "MClepton",
)
MUON_BRANCHES = ["NMuon", "Muon_Px", "Muon_Py", "Muon_Pz"]


def shared_root_files() -> Path:
    repository = common.HERE.parents[1]
    shared = Path(os.environ.get("REMU_SHARED", repository.parent / "shared"))
    return shared / "data" / "upstream-examples" / "PD"


def write_substitute_files(rng: np.random.Generator) -> None:
    """Small stand-ins for Zmumu.root (flat) and HZZ.root (jagged), written with uproot."""
    import awkward as ak
    import uproot

    # Flat: one di-muon candidate per row, Z -> mu mu-like kinematics
    n = 2304
    flat: dict[str, np.ndarray] = {
        "Type": rng.integers(0, 3, size=n).astype(np.int32),  # uproot writes no strings: a code
        "Run": rng.integers(148029, 148032, size=n).astype(np.int32),
        "Event": rng.integers(10**7, 10**8, size=n).astype(np.int32),
    }
    for i in ("1", "2"):
        pt = rng.exponential(20.0, size=n) + 10.0
        eta = rng.normal(0.0, 1.2, size=n)
        phi = rng.uniform(-np.pi, np.pi, size=n)
        flat |= {
            f"E{i}": pt * np.cosh(eta),
            f"px{i}": pt * np.cos(phi),
            f"py{i}": pt * np.sin(phi),
            f"pz{i}": pt * np.sinh(eta),
            f"pt{i}": pt,
            f"eta{i}": eta,
            f"phi{i}": phi,
            f"Q{i}": rng.choice([-1, 1], size=n).astype(np.int32),
        }
    flat["M"] = rng.normal(91.0, 5.0, size=n)
    with uproot.recreate("Zmumu.root") as f:
        # mktree keeps the branch order (assigning a dict would sort the names)
        f.mktree("events", {name: flat[name].dtype for name in FLAT_BRANCHES})
        f["events"].extend({name: flat[name] for name in FLAT_BRANCHES})

    # Jagged: per-event particle collections plus per-event scalars
    n = 2421
    jagged: dict[str, Any] = {}
    for collection, fields in COLLECTIONS.items():
        counts = rng.poisson(1.6 if collection == "Muon" else 1.0, size=n)
        total = int(counts.sum())
        for field in fields:
            scale = 30.0 if field in ("Px", "Py", "Pz") else 1.0
            values = rng.normal(0.0, scale, size=total)
            if field == "E":
                values = np.abs(values) * 50.0
            jagged[f"{collection}_{field}"] = ak.unflatten(values.astype(np.float32), counts)
    scalars = {"MET_px": rng.normal(0.0, 20.0, size=n), "MET_py": rng.normal(0.0, 20.0, size=n)}
    for particle in MC_PARTICLES:
        scalars |= {f"{particle}_{c}": rng.normal(0.0, 40.0, size=n) for c in ("px", "py", "pz")}
    scalars["MCleptonPDGid"] = rng.choice([-13, -11, 11, 13], size=n).astype(np.int32)
    scalars |= {f"MCneutrino_{c}": rng.normal(0.0, 40.0, size=n) for c in ("px", "py", "pz")}
    scalars["NPrimaryVertices"] = rng.poisson(8, size=n).astype(np.int32)
    scalars["triggerIsoMu24"] = rng.uniform(size=n) < 0.7
    scalars["EventWeight"] = rng.uniform(0.1, 0.2, size=n)
    branches = {name: array.type for name, array in jagged.items()}
    branches |= {name: array.dtype for name, array in scalars.items()}
    with uproot.recreate("HZZ.root") as f:
        f.mktree("events", branches, counter_name=lambda name: "N" + name.split("_")[0])
        f["events"].extend(jagged | scalars)


def open_tree(filename: str | os.PathLike[str], branches: list[str] | None = None) -> Any:
    """The ``events`` tree of a ROOT file, checking that the wanted branches exist."""
    import uproot

    tree = uproot.open(filename)["events"]
    available = set(tree.keys())
    missing = [name for name in branches or [] if name not in available]
    if missing:
        msg = f"{filename}: tree 'events' has no branch {', '.join(map(repr, missing))}"
        raise KeyError(msg)
    return tree


def tree_to_dataframe(tree: Any, branches: list[str] | None = None) -> Any:
    """``tree.arrays(library="pd")``, as ReMU's example does.

    uproot hands string and variable-length branches to pandas through the
    ``awkward-pandas`` package, which the ``root`` extra installs
    (``pip install remu[root]``).
    """
    return tree.arrays(branches, library="pd")


def plot_muons(muon_binning: binning.Binning, filename: str) -> None:
    pltr = plotting.get_plotter(muon_binning, ["py", "pz"], ["px"])
    pltr.plot_values()
    pltr.savefig(filename)


def main(settings: common.Settings) -> dict[str, Any]:
    import awkward as ak
    import pandas as pd

    pd.set_option("display.max_rows", 10)
    results: dict[str, Any] = {}

    # 1. A DataFrame of random momenta
    rng = settings.rng(9, 1)
    df = pd.DataFrame({name: rng.standard_normal(1000) * 20 for name in ("px", "py", "pz")})
    common.write_text("df.txt", df)
    with open("muon-binning.yml") as f:
        muon_binning = binning.yaml.full_load(f)
    muon_binning.fill(df)
    plot_muons(muon_binning, "pandas.png")
    results["random"] = {
        "rows": len(df),
        "filled": float(muon_binning.get_values_as_ndarray().sum()),
    }

    # Input files: the public samples if present, otherwise our own substitutes
    source = shared_root_files()
    if (source / "Zmumu.root").is_file() and (source / "HZZ.root").is_file():
        zmumu, hzz = source / "Zmumu.root", source / "HZZ.root"
        results["root_files"] = "scikit-hep samples"
    else:
        write_substitute_files(settings.rng(9, 2))
        zmumu, hzz = Path("Zmumu.root"), Path("HZZ.root")
        results["root_files"] = "substitutes written by this step"

    # 2. A flat tree: one row per di-muon candidate
    tree = open_tree(zmumu, ["px1", "py1", "pz1"])
    common.write_text("flat_keys.txt", tree.keys())
    df = tree_to_dataframe(tree)
    common.write_text("flat_df.txt", df)
    muon_binning.reset()
    muon_binning.fill(df, rename={"px1": "px", "py1": "py", "pz1": "pz"})
    plot_muons(muon_binning, "flat_muons.png")
    results["flat"] = {
        "rows": len(df),
        "branches": len(tree.keys()),
        "filled": float(muon_binning.get_values_as_ndarray().sum()),
    }

    # 3. A tree of variable-length muon collections
    tree = open_tree(hzz, MUON_BRANCHES)
    common.write_text("structured_keys.txt", tree.keys())
    df = tree_to_dataframe(tree, MUON_BRANCHES)
    common.write_text("structured_df.txt", df)
    df = ak.to_dataframe(tree.arrays(MUON_BRANCHES))  # one row per muon: (entry, subentry)
    common.write_text("flattened_df.txt", df)
    df = df.loc[pd.IndexSlice[:, 0], :]  # the first muon of every event
    common.write_text("sliced_df.txt", df)
    muon_binning.reset()
    muon_binning.fill(df, rename={"Muon_Px": "px", "Muon_Py": "py", "Muon_Pz": "pz"})
    plot_muons(muon_binning, "sliced_muons.png")
    results["jagged"] = {
        "events": int(tree.num_entries),
        "branches": len(tree.keys()),
        "muons": int(ak.sum(tree["NMuon"].array())),
        "first_muons": len(df),
        "filled": float(muon_binning.get_values_as_ndarray().sum()),
    }
    return results


if __name__ == "__main__":
    common.run_step("PD", main, __doc__.splitlines()[0])
