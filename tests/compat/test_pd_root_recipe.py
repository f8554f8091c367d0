"""ReMU's example PD, as written: uproot -> ``tree.arrays(library="pd")`` -> ``fill``.

Runs on the public scikit-hep sample files kept with the reference outputs
(``../shared/data/upstream-examples/PD``; skipped with a reason where ``../shared``
is absent). ``library="pd"`` needs ``awkward-pandas`` for the string and
variable-length branches: the ``root`` extra installs it, so a venv made with
``pip install remu[all]`` runs the recipe unchanged. The expected numbers are the
reference run's printed outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import uproot  # the root extra (installed by `make test`): a missing one fails here
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning

pytestmark = pytest.mark.shared


@pytest.fixture
def pd_folder(shared_data):
    folder = shared_data / "upstream-examples" / "PD"
    for name in ("muon-binning.yml", "Zmumu.root", "HZZ.root"):
        assert (folder / name).is_file(), f"{folder / name} is missing from the shared data"
    return folder


@pytest.fixture
def muon_binning(pd_folder):
    with (pd_folder / "muon-binning.yml").open() as handle:
        obj = binning.yaml.full_load(handle)
    assert isinstance(obj, binning.RectilinearBinning)
    assert obj.variables == ("px", "py", "pz")
    assert obj.data_size == 22**3
    return obj


def _histogram(muon_binning, px, py, pz):
    """The same fill computed independently with numpy.histogramdd."""
    counts, _ = np.histogramdd(np.column_stack([px, py, pz]), bins=muon_binning.bin_edges)
    return counts.reshape(-1)


def test_the_root_extra_installs_the_pandas_backend_of_uproot():
    import importlib.metadata

    requirements = importlib.metadata.requires("remu") or []
    root = [r for r in requirements if 'extra == "root"' in r or "extra == 'root'" in r]
    assert any(r.startswith("awkward-pandas") for r in root), root
    import awkward_pandas  # noqa: F401 - installed by the extra


def test_flat_tree_to_dataframe_and_fill(pd_folder, muon_binning):
    import pandas as pd

    tree = uproot.open(pd_folder / "Zmumu.root")["events"]
    assert len(tree.keys()) == 20
    df = tree.arrays(library="pd")  # the recipe: needs awkward-pandas for "Type"
    assert isinstance(df, pd.DataFrame)
    assert df.shape == (2304, 20)
    first, last = df.iloc[0], df.iloc[-1]
    assert str(first["Type"]) == "GT"
    assert (int(first["Run"]), int(first["Event"])) == (148031, 10507008)
    assert_allclose([first["E1"], first["px1"], first["M"]], [82.201866, -41.195288, 82.462692])
    assert str(last["Type"]) == "GG"
    assert_allclose(last["M"], 96.656728)

    muon_binning.fill(df, rename={"px1": "px", "py1": "py", "pz1": "pz"})
    values = muon_binning.get_values_as_ndarray()
    assert values.sum() == 2304  # the outer bins reach to infinity: every row lands
    assert_array_equal(values, _histogram(muon_binning, df["px1"], df["py1"], df["pz1"]))
    assert_array_equal(muon_binning.get_entries_as_ndarray(), values)


def test_jagged_tree_to_dataframe_flatten_slice_and_fill(pd_folder, muon_binning):
    import awkward as ak
    import pandas as pd

    branches = ["NMuon", "Muon_Px", "Muon_Py", "Muon_Pz"]
    tree = uproot.open(pd_folder / "HZZ.root")["events"]
    assert len(tree.keys()) == 51
    structured = tree.arrays(branches, library="pd")  # list-valued cells
    assert structured.shape == (2421, 4)
    assert int(structured["NMuon"].iloc[0]) == 2
    assert_allclose(
        np.asarray(structured["Muon_Pz"].iloc[0], dtype=float),
        [-8.16079330444336, -11.307581901550293],
        rtol=1e-6,
    )

    flattened = ak.to_dataframe(tree.arrays(branches))  # one row per muon
    assert flattened.shape == (3825, 4)
    assert list(flattened.index.names) == ["entry", "subentry"]
    assert_allclose(
        flattened.iloc[0][["Muon_Px", "Muon_Py", "Muon_Pz"]].to_numpy(dtype=float),
        [-52.899456, -11.654672, -8.160793],
        rtol=1e-6,
    )
    sliced = flattened.loc[pd.IndexSlice[:, 0], :]  # the first muon of every event
    assert sliced.shape == (2362, 4)  # 59 of the 2421 events have no muon

    muon_binning.fill(sliced, rename={"Muon_Px": "px", "Muon_Py": "py", "Muon_Pz": "pz"})
    values = muon_binning.get_values_as_ndarray()
    assert values.sum() == 2362
    expected = _histogram(muon_binning, sliced["Muon_Px"], sliced["Muon_Py"], sliced["Muon_Pz"])
    assert_array_equal(values, expected)
