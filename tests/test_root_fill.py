"""Filling from ROOT files (written here with uproot): streamed, and as Dask tasks.

``uproot.iterate`` fills chunk after chunk in place, so its sums equal an
in-memory fill of the same events bit for bit; the Dask path (``uproot.dask`` on a
real 2-process LocalCluster) equals it to rounding.
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
from numpy.testing import assert_array_equal

from dask_cluster import local_client
from numeric_asserts import assert_allclose
from remu import binning, migration
from remu.errors import IrregularFieldError, MissingFieldError, MissingVariableError


@pytest.fixture(scope="module")
def client():
    with local_client() as c:
        yield c


def flat_events(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    true_x = rng.uniform(-0.5, 10.5, n)
    reco_x = true_x + rng.normal(0.0, 0.5, n)
    reco_x[rng.random(n) < 0.2] = np.nan
    return {
        "true_x": true_x,
        "reco_x": reco_x,
        "y": rng.uniform(0.0, 1.1, n).astype(np.float32),
        "w": rng.uniform(0.5, 1.5, n),
        "run": rng.integers(1, 5, n).astype(np.int32),
    }


def write_tree(path: Path, data: dict, name: str = "events") -> None:
    with uproot.recreate(path) as f:
        tree = f.mktree(
            name, {k: v.dtype if isinstance(v, np.ndarray) else v.type for k, v in data.items()}
        )
        if len(next(iter(data.values()))):
            tree.extend(data)


@pytest.fixture(scope="module")
def root_files(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    """Three TTrees 'events' (3000, 0 and 5000 entries) and the concatenated events."""
    folder = tmp_path_factory.mktemp("root")
    parts = [flat_events(3000, 1), flat_events(0, 2), flat_events(5000, 3)]
    for k, part in enumerate(parts):
        write_tree(folder / f"mc_{k}.root", part)
    allev = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return folder, allev


def grid():
    return binning.RectilinearBinning(
        ["true_x", "y"], [np.linspace(0.0, 10.0, 21), [0.0, 0.25, 0.5, 1.0]]
    )


def matrix():
    reco = binning.LinearBinning("reco_x", np.linspace(0.0, 10.0, 11))
    truth = binning.LinearBinning("true_x", np.linspace(-1.0, 11.0, 7))
    return migration.ResponseMatrix(reco, truth)


def assert_equal_fill(a, b, exact=True):
    assert_array_equal(a.get_entries_as_ndarray(), b.get_entries_as_ndarray())
    if exact:
        assert_array_equal(a.get_values_as_ndarray(), b.get_values_as_ndarray())
        assert_array_equal(a.get_sumw2_as_ndarray(), b.get_sumw2_as_ndarray())
    else:
        assert_allclose(a.get_values_as_ndarray(), b.get_values_as_ndarray(), rtol=1e-12)
        assert_allclose(a.get_sumw2_as_ndarray(), b.get_sumw2_as_ndarray(), rtol=1e-12)


def test_streamed_fill_equals_in_memory_bit_for_bit(root_files):
    folder, events = root_files
    ours, expected = grid(), grid()
    files = [f"{folder / f'mc_{k}.root'}:events" for k in range(3)]  # in order: exact sums
    ours.fill_from_root(files, weightfield="w", weight=0.5, step_size=700)
    expected.fill(events, weight=events["w"] * 0.5)
    assert_equal_fill(ours, expected)
    assert ours.get_entries_as_ndarray().sum() > 5000
    # a wildcard may list the files in another order: the same sums up to rounding
    globbed = grid()
    globbed.fill_from_root(str(folder / "mc_*.root:events"), weightfield="w", weight=0.5)
    assert_equal_fill(globbed, expected, exact=False)


def test_file_name_forms(root_files):
    folder, events = root_files
    names = [str(folder / f"mc_{k}.root") for k in range(3)]
    expected = grid()
    expected.fill(events)
    for files in (
        [f"{n}:events" for n in names],
        dict.fromkeys(names, "events"),
        str(folder / "mc_*.root") + ":events",
    ):
        ours = grid()
        ours.fill_from_root(files)
        assert_equal_fill(ours, expected, exact=False)


def test_reads_only_the_branches_needed(root_files, monkeypatch):
    folder, _ = root_files
    seen = []
    original = uproot.iterate

    def spy(*args, **kwargs):
        for chunk, report in original(*args, **kwargs):
            seen.append(sorted(chunk.fields))
            yield chunk, report

    monkeypatch.setattr(uproot, "iterate", spy)
    grid().fill_from_root(
        str(folder / "mc_0.root:events"),
        weightfield="weight",
        rename={"w": "weight", "true_x": "true_x"},
    )
    assert seen
    assert all(fields == ["true_x", "w", "y"] for fields in seen)
    seen.clear()
    matrix().fill_from_root(str(folder / "mc_0.root:events"), branches=["run"])
    assert seen
    assert all(fields == ["reco_x", "run", "true_x"] for fields in seen)


def test_rename_and_cut_function(root_files):
    folder, events = root_files
    ours = grid()
    keep = events["run"] == 2
    ours.fill_from_root(
        str(folder / "mc_*.root:events"),
        weightfield="weight",
        rename={"w": "weight"},
        cut_function=lambda a: a[a.run == 2],  # sees the renamed fields and 'run'
        branches=["run"],
        step_size=1000,
    )
    expected = grid()
    expected.fill(
        {"true_x": events["true_x"][keep], "y": events["y"][keep]}, weight=events["w"][keep]
    )
    assert_equal_fill(ours, expected, exact=False)
    # renamed branches are known by their new names only
    renamed = binning.LinearBinning("t", np.linspace(0, 10, 11))
    renamed.fill_from_root(str(folder / "mc_*.root:events"), rename={"true_x": "t"})
    inside = np.count_nonzero((events["true_x"] >= 0) & (events["true_x"] < 10))
    assert renamed.get_entries_as_ndarray().sum() == inside
    with pytest.raises(MissingFieldError, match="no field 'true_x'"):
        grid().fill_from_root(str(folder / "mc_0.root:events"), rename={"true_x": "tx"})


def test_missing_branch_and_file_are_named(root_files, tmp_path):
    folder, _ = root_files
    lb = binning.LinearBinning("energy", [0, 1, 2])
    with pytest.raises(
        MissingFieldError, match=r"mc_0\.root:events \(entries 0-1\) has no branch .energy."
    ):
        lb.fill_from_root(str(folder / "mc_0.root:events"))
    assert isinstance(MissingFieldError("x"), KeyError)
    with pytest.raises(FileNotFoundError):
        lb.fill_from_root(str(tmp_path / "absent.root:events"))
    with pytest.raises(MissingFieldError, match="no branch 'nope'"):
        grid().fill_from_root(str(folder / "mc_0.root:events"), weightfield="nope")
    with pytest.raises(TypeError, match="weight must be a number"):
        grid().fill_from_root(str(folder / "mc_0.root:events"), weight=[1.0, 2.0])


def test_raise_error_fills_nothing(root_files):
    folder, _ = root_files
    b = grid()
    with pytest.raises(ValueError, match="not part of binning"):
        b.fill_from_root(str(folder / "mc_*.root:events"), raise_error=True, step_size=500)
    assert b.get_entries_as_ndarray().sum() == 0
    inside = binning.LinearBinning("run", [0, 10])
    inside.fill_from_root(str(folder / "mc_*.root:events"), raise_error=True, step_size=500)
    assert inside.get_entries_as_ndarray().tolist() == [8000]


# --------------------------------------------------------------------------- jagged
@pytest.fixture(scope="module")
def jagged_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jagged")
    rng = np.random.default_rng(4)
    counts = rng.poisson(1.5, 2000)
    total = int(counts.sum())
    data = {
        "Muon_pt": ak.unflatten(rng.exponential(20.0, total), counts),
        "Muon_eta": ak.unflatten(rng.normal(0.0, 1.5, total), counts),
        "weight": rng.uniform(0.5, 1.5, 2000),
    }
    # Jet_pt: another multiplicity than the muons
    jet_counts = rng.poisson(2.0, 2000)
    data["Jet_pt"] = ak.unflatten(rng.exponential(30.0, int(jet_counts.sum())), jet_counts)
    path = folder / "hzz.root"
    with uproot.recreate(path) as f:
        # a TTree with jagged branches (and their counter branches)
        tree = f.mktree(
            "events",
            {
                "Muon_pt": "var * float64",
                "Muon_eta": "var * float64",
                "Jet_pt": "var * float64",
                "weight": np.float64,
            },
        )
        tree.extend(data)
    return path, data, counts


def muon_binning():
    return binning.RectilinearBinning(["Muon_pt", "Muon_eta"], [[0, 10, 20, 50, 1000], [-3, 0, 3]])


def test_jagged_branch_needs_flatten(jagged_file):
    path, _data, _counts = jagged_file
    with pytest.raises(IrregularFieldError, match=r"field 'Muon_(pt|eta)' is jagged.*flatten="):
        muon_binning().fill_from_root(f"{path}:events")
    assert issubclass(IrregularFieldError, ValueError)


def test_flatten_jagged_fields(jagged_file):
    path, data, counts = jagged_file
    ours, expected = muon_binning(), muon_binning()
    ours.fill_from_root(
        f"{path}:events", weightfield="weight", flatten=["Muon_pt", "Muon_eta"], step_size=300
    )
    expected.fill(
        {
            "Muon_pt": ak.to_numpy(ak.flatten(data["Muon_pt"])),
            "Muon_eta": ak.to_numpy(ak.flatten(data["Muon_eta"])),
        },
        weight=np.repeat(data["weight"], counts),
    )
    assert_equal_fill(ours, expected)
    assert ours.get_entries_as_ndarray().sum() == counts.sum() - np.count_nonzero(
        np.abs(ak.to_numpy(ak.flatten(data["Muon_eta"]))) >= 3
    ) - np.count_nonzero(ak.to_numpy(ak.flatten(data["Muon_pt"])) >= 1000)
    both = binning.RectilinearBinning(["Muon_pt", "Jet_pt"], [[0, 50, 1000], [0, 50, 1000]])
    with pytest.raises(IrregularFieldError, match=r"'Jet_pt'.*'Muon_pt'|'Muon_pt'.*'Jet_pt'"):
        both.fill_from_root(f"{path}:events", flatten=True)


def test_awkward_arrays_given_to_fill():
    lb = binning.LinearBinning("x", [0, 1, 2])
    lb.fill(ak.Array({"x": [0.5, 1.5, 1.7], "j": [[1], [], [2, 3]]}))  # 'j' is not needed
    assert lb.get_entries_as_ndarray().tolist() == [1, 2]
    with pytest.raises(IrregularFieldError, match=r"field 'x' is jagged \(var \* float64\)"):
        lb.fill(ak.Array({"x": [[0.5], [1.5, 0.2]]}))
    with pytest.raises(IrregularFieldError, match=r"field 'x' is option-typed \(\?float64\)"):
        lb.fill(ak.Array({"x": [0.5, None]}))
    with pytest.raises(IrregularFieldError, match="field 'x' is a record"):
        lb.fill(ak.Array({"x": [{"a": 1.0}]}))
    with pytest.raises(MissingVariableError, match="'x'"):
        lb.fill(ak.Array({"y": [0.5]}))


def test_option_typed_field_flattened_to_nan(tmp_path):
    path = tmp_path / "opt.root"
    with uproot.recreate(path) as f:
        f["events"] = {
            "x": ak.Array([[0.5], [], [1.5], [1.2]]),
            "t": np.array([0.5, 1.5, 1.5, 1.5]),
        }
    # the leading element of a possibly empty list: option-typed, None for empty lists
    lb = binning.LinearBinning("first", [0, 1, 2])
    cut = lambda a: ak.zip({"first": ak.firsts(a.x), "t": a.t}, depth_limit=1)
    with pytest.raises(IrregularFieldError, match="option-typed"):
        lb.fill_from_root(f"{path}:events", cut_function=cut, branches=["x", "t"])
    lb.fill_from_root(f"{path}:events", cut_function=cut, branches=["x", "t"], flatten=["first"])
    assert lb.get_entries_as_ndarray().tolist() == [1, 2]


# --------------------------------------------------------------------------- response matrix
def test_response_matrix_from_root(root_files):
    folder, events = root_files
    ours, expected = matrix(), matrix()
    files = [f"{folder / f'mc_{k}.root'}:events" for k in range(3)]
    ours.fill_from_root(files, weightfield="w", step_size=1000)
    expected.fill(events, weight=events["w"])
    for name in ("truth", "reco", "response"):
        assert_equal_fill(getattr(ours, f"{name}_binning"), getattr(expected, f"{name}_binning"))
    assert_array_equal(ours.filled_truth_indices, expected.filled_truth_indices)
    ours.fill_up_truth_from_root(files, weightfield="w", weight=1.5)
    expected.fill_up_truth(events, weight=events["w"] * 1.5)
    assert_equal_fill(ours.truth_binning, expected.truth_binning)


# --------------------------------------------------------------------------- Dask
@pytest.mark.usefixtures("client")
def test_dask_fill_from_root(root_files):
    folder, events = root_files
    ours, expected = grid(), grid()
    ours.fill_from_root(
        str(folder / "mc_*.root:events"), weightfield="w", dask=True, step_size=1000
    )
    expected.fill(events, weight=events["w"])
    assert_equal_fill(ours, expected, exact=False)
    m_ours, m_expected = matrix(), matrix()
    lazy = m_ours.fill_from_root(
        str(folder / "mc_*.root:events"), weightfield="w", dask=True, compute=False
    )
    assert m_ours.get_truth_entries_as_ndarray().sum() == 0
    filled = lazy.compute()
    m_expected.fill(events, weight=events["w"])
    for name in ("truth", "reco", "response"):
        assert_equal_fill(
            getattr(filled, f"{name}_binning"), getattr(m_expected, f"{name}_binning"), exact=False
        )
    with pytest.raises(MissingFieldError, match="no branch 'energy'"):
        binning.LinearBinning("energy", [0, 1]).fill_from_root(
            str(folder / "mc_0.root:events"), dask=True
        )


@pytest.mark.usefixtures("client")
def test_dask_fill_from_root_jagged(jagged_file):
    path, data, _counts = jagged_file
    ours, expected = muon_binning(), muon_binning()
    ours.fill_from_root(
        {str(path): "events"},
        flatten=True,
        dask=True,
        step_size=500,
        cut_function=lambda a: a[["Muon_pt", "Muon_eta"]],
    )
    expected.fill(
        {
            "Muon_pt": ak.to_numpy(ak.flatten(data["Muon_pt"])),
            "Muon_eta": ak.to_numpy(ak.flatten(data["Muon_eta"])),
        }
    )
    assert_equal_fill(ours, expected, exact=False)
    with pytest.raises(IrregularFieldError, match="jagged"):
        muon_binning().fill_from_root({str(path): "events"}, dask=True)
