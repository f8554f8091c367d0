"""Binning YAML files written for (or by) remu 0.8.0 load, round-trip and fill correctly.

Expected structure comes from two independent sources: the YAML text read with a
plain PyYAML loader that knows nothing about remu (tags are kept as ``__tag__``),
and a table of sizes counted by hand from the files. Filled contents are compared
with a direct NumPy computation from the same CSV files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from numpy.lib import recfunctions as rfn
from numpy.testing import assert_array_equal

from numeric_asserts import assert_allclose
from remu import binning as bn
from shared_paths import SHARED_DATA
from untagged_yaml import UntaggedLoader

pytestmark = pytest.mark.shared

# Sizes counted by hand from the files (edges per variable minus one, multiplied;
# a subbinning adds its data size minus one to its parent):
HAND_COUNTED = {
    # 2 x 2 grid on edges [0, 1, 2] x [0, 1, 2]
    "upstream-testdata/test-truth-binning.yml": ("RectilinearBinning", 4, 4),
    "upstream-testdata/test-reco-binning.yml": ("RectilinearBinning", 4, 4),
    # px, py, pz each with -inf, -100..100 in steps of 10 (21 values), +inf = 23 edges
    # -> 22 bins per axis, 22**3 = 10648
    "upstream-examples/PD/muon-binning.yml": ("RectilinearBinning", 10648, 10648),
    # -inf, -3..3 (7 values), +inf = 9 edges -> 8 x 8
    "upstream-examples/00/truth-binning.yml": ("RectilinearBinning", 64, 64),
    "upstream-examples/00/reco-binning.yml": ("RectilinearBinning", 64, 64),
    # event_type: 4 edges -> 3 bins; bin 1: 7 x 9 edges -> 6 x 8 = 48;
    # bin 2: 11 x 13 edges -> 10 x 12 = 120; data size 3 + 47 + 119 = 169
    "upstream-examples/05/truth-binning.yml": ("LinearBinning", 3, 169),
    # E: 10 edges -> 9 bins
    "upstream-examples/06/flux-binning.yml": ("LinearBinning", 9, 9),
    # 11 x 13 edges -> 10 x 12
    "upstream-examples/01/optimised-truth-binning.yml": ("RectilinearBinning", 120, 120),
    # -inf, -5..5 in steps of 0.5 (21 values), +inf = 23 edges -> 22 bins
    "upstream-examples/01/coarse-truth-binning.yml": ("LinearBinning", 22, 22),
    # true_x as coarse (22 bins); true_y: -5..-1 by 0.5 (9), -0.75..0.75 by 0.25 (7),
    # 1..5 by 0.5 (9), plus two infinities = 27 edges -> 26 bins; 22 x 26 = 572
    "upstream-examples/01/fine-truth-binning.yml": ("RectilinearBinning", 572, 572),
    # -inf, -3..3 (7 values), +inf = 9 edges -> 8 bins
    "upstream-examples/01/reco-binning.yml": ("LinearBinning", 8, 8),
}


def _yaml_files():
    if not SHARED_DATA.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED_DATA} not found"))]
    return sorted(str(p.relative_to(SHARED_DATA)) for p in SHARED_DATA.rglob("*.yml"))


YAML_FILES = _yaml_files()


def _plain(path: Path):
    with path.open() as f:
        return yaml.load(f, Loader=UntaggedLoader)


def _plain_sizes(node) -> tuple[int, int]:
    """(nbins, data_size) of a binning described by a plain YAML mapping."""
    tag = node["__tag__"]
    if tag == "LinearBinning":
        nbins = len(node["bin_edges"]) - 1
    elif tag == "RectilinearBinning":
        nbins = int(np.prod([len(e) - 1 for e in node["bin_edges"]]))
    else:  # pragma: no cover - the reference files only use these two
        raise AssertionError(tag)
    subs = node.get("subbinnings") or {}
    return nbins, nbins + sum(_plain_sizes(s)[1] - 1 for s in subs.values())


def _load(path: Path):
    with path.open() as f:
        return bn.yaml.full_load(f)


@pytest.mark.usefixtures("shared_data")
def test_every_file_is_hand_counted():
    assert sorted(HAND_COUNTED) == YAML_FILES


@pytest.mark.parametrize("rel", YAML_FILES)
def test_file_loads_and_matches_text(shared_data, rel):
    path = shared_data / rel
    obj = _load(path)
    plain = _plain(path)
    kind, nbins, data_size = HAND_COUNTED[rel]
    assert type(obj).__name__ == plain["__tag__"] == kind
    assert (obj.nbins, obj.data_size) == (nbins, data_size)
    assert _plain_sizes(plain) == (nbins, data_size)
    assert not obj.is_dummy()
    assert_array_equal(obj.get_values_as_ndarray(), np.zeros(data_size))
    assert obj.get_entries_as_ndarray().shape == (data_size,)
    if kind == "LinearBinning":
        assert obj.variable == plain["variable"]
        assert_array_equal(obj.bin_edges, np.asarray(plain["bin_edges"], dtype=float))
        assert obj.include_upper is bool(plain.get("include_upper", False))
        assert sorted(obj.subbinnings) == sorted(plain.get("subbinnings") or {})
        for k, sub in (plain.get("subbinnings") or {}).items():
            assert type(obj.subbinnings[k]).__name__ == sub["__tag__"]
            assert obj.subbinnings[k].variables == tuple(sub["variables"])
            for got, want in zip(obj.subbinnings[k].bin_edges, sub["bin_edges"], strict=True):
                assert_array_equal(got, np.asarray(want, dtype=float))
            assert np.shares_memory(obj.subbinnings[k].value_array, obj.value_array)
    else:
        assert obj.variables == tuple(plain["variables"])
        assert len(obj.bin_edges) == len(plain["variables"])
        for got, want in zip(obj.bin_edges, plain["bin_edges"], strict=True):
            assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
        assert obj.bins_shape == tuple(len(e) - 1 for e in plain["bin_edges"])
        assert obj.include_upper is bool(plain.get("include_upper", False))
    assert len(obj.phasespace) == len(
        [plain["variable"]] if kind == "LinearBinning" else plain["variables"]
    )


@pytest.mark.parametrize("rel", YAML_FILES)
def test_plain_pyyaml_full_load_after_import(shared_data, rel):
    text = (shared_data / rel).read_text()
    obj = yaml.full_load(text)
    assert obj == bn.yaml.full_load(text)
    assert obj.data_size == HAND_COUNTED[rel][2]
    assert yaml.load(text, Loader=yaml.FullLoader) == obj


@pytest.mark.parametrize("rel", YAML_FILES)
def test_dump_load_round_trip(shared_data, rel, tmp_path):
    obj = _load(shared_data / rel)
    out = tmp_path / "again.yml"
    with out.open("w") as f:
        bn.yaml.dump(obj, f)
    text = out.read_text()
    assert "!!python" not in text
    again = _load(out)
    assert again == obj
    assert type(again) is type(obj)
    assert again.data_size == obj.data_size
    # what we write is readable without remu and describes the same structure
    assert _plain_sizes(_plain(out)) == (obj.nbins, obj.data_size)
    dummy = yaml.full_load(yaml.dump(obj.clone(dummy=True)))
    assert dummy.is_dummy()
    assert dummy == obj


# ---------------------------------------------------------------------------
# filling from the reference CSV files


def _grid(edges_list, include_upper, columns, weights):
    """values, entries, sumw2 of an N-D grid filled with plain NumPy."""
    side = "left" if include_upper else "right"
    n = len(weights)
    inside = np.ones(n, dtype=bool)
    idx = []
    for edges, col in zip(edges_list, columns, strict=True):
        edges = np.asarray(edges, dtype=float)
        i = np.searchsorted(edges, col, side=side) - 1
        ok = (i >= 0) & (i < len(edges) - 1) & ~np.isnan(col)
        inside &= ok
        idx.append(np.where(ok, i, 0))
    shape = tuple(len(e) - 1 for e in edges_list)
    flat = np.ravel_multi_index(tuple(i[inside] for i in idx), shape)
    size = int(np.prod(shape))
    w = np.asarray(weights, dtype=float)[inside]
    return (
        np.bincount(flat, w, size),
        np.bincount(flat, minlength=size),
        np.bincount(flat, w**2, size),
    )


def _check(binning, expected):
    values, entries, sumw2 = expected
    assert_allclose(binning.get_values_as_ndarray(), values, rtol=1e-12)
    assert_array_equal(binning.get_entries_as_ndarray(), entries)
    assert_allclose(binning.get_sumw2_as_ndarray(), sumw2, rtol=1e-12)


def _csv(path):
    return np.genfromtxt(path, names=True, delimiter=",")


def test_fill_test_data_truth_and_reco(shared_data):
    csv = shared_data / "upstream-testdata/test-data.csv"
    data = _csv(csv)
    truth = _load(shared_data / "upstream-testdata/test-truth-binning.yml")
    reco = _load(shared_data / "upstream-testdata/test-reco-binning.yml")
    bn.Binning.fill_multiple_from_csv_file([truth, reco], str(csv), weightfield="w")
    tp, rp = (
        _plain(csv.with_name("test-truth-binning.yml")),
        _plain(csv.with_name("test-reco-binning.yml")),
    )
    _check(truth, _grid(tp["bin_edges"], False, [data["x_truth"], data["y_truth"]], data["w"]))
    _check(reco, _grid(rp["bin_edges"], False, [data["x_reco"], data["y_reco"]], data["w"]))
    # 9 rows, 3 of them without reconstructed values (NaN): nowhere in the reco binning
    assert truth.get_entries_as_ndarray().sum() == 9
    assert reco.get_entries_as_ndarray().sum() == 6
    assert truth.get_values_as_ndarray().sum() == 10.0


def test_fill_response_from_test_data(shared_data):
    csv = shared_data / "upstream-testdata/test-data.csv"
    data = _csv(csv)
    truth = _load(shared_data / "upstream-testdata/test-truth-binning.yml")
    reco = _load(shared_data / "upstream-testdata/test-reco-binning.yml")
    resp = bn.CartesianProductBinning([reco.clone(dummy=True), truth.clone(dummy=True)])
    resp.fill_from_csv_file(str(csv), weightfield="w", weight=0.5)
    edges = [[0, 1, 2]] * 4
    cols = [data["x_reco"], data["y_reco"], data["x_truth"], data["y_truth"]]
    _check(resp, _grid(edges, False, cols, 0.5 * data["w"]))
    values = resp.get_values_as_ndarray(shape=resp.bins_shape)
    assert_allclose(values.sum(axis=0), resp.project(1).get_values_as_ndarray(), rtol=1e-12)


def test_fill_weighted_csv_with_rename(shared_data):
    csv = shared_data / "upstream-testdata/weighted-csv-test.csv"
    data = _csv(csv)
    truth = _load(shared_data / "upstream-examples/00/truth-binning.yml")
    truth.fill_from_csv_file(
        str(csv), weightfield="w", weight=2.0, rename={"x": "true_x", "y": "true_y"}
    )
    edges = _plain(shared_data / "upstream-examples/00/truth-binning.yml")["bin_edges"]
    _check(truth, _grid(edges, False, [data["x"], data["y"]], 2.0 * data["w"]))
    # every event is inside this binning (its outer edges are infinite)
    assert truth.get_values_as_ndarray().sum() == 2.0 * (1 + 1 + 5)
    assert truth.get_entries_as_ndarray().sum() == 3


def test_fill_unweighted_csv_with_rename(shared_data):
    csv = shared_data / "upstream-testdata/csv-test.csv"
    data = _csv(csv)
    reco = _load(shared_data / "upstream-examples/00/reco-binning.yml")
    reco.fill_from_csv_file(str(csv), rename={"x": "reco_x", "y": "reco_y"})
    edges = _plain(shared_data / "upstream-examples/00/reco-binning.yml")["bin_edges"]
    _check(reco, _grid(edges, False, [data["x"], data["y"]], np.ones(len(data))))
    coarse = _load(shared_data / "upstream-examples/01/coarse-truth-binning.yml")
    coarse.fill_from_csv_file(str(csv), rename={"x": "true_x"}, weight=3.0)
    cedges = _plain(shared_data / "upstream-examples/01/coarse-truth-binning.yml")["bin_edges"]
    _check(coarse, _grid([cedges], False, [data["x"]], np.full(len(data), 3.0)))


def test_fill_with_rename_and_cut(shared_data):
    csv = shared_data / "upstream-testdata/csv-test.csv"
    data = _csv(csv)
    truth = _load(shared_data / "upstream-testdata/test-truth-binning.yml")

    def cut(d):
        # sees the renamed field; y = 10, 20 becomes y_truth = 0, 1
        return rfn.append_fields(d, "y_truth", d["y"] / 10 - 1, usemask=False)

    truth.fill_from_csv_file(str(csv), rename={"x": "x_truth"}, cut_function=cut)
    edges = [[0, 1, 2], [0, 1, 2]]
    _check(truth, _grid(edges, False, [data["x"], data["y"] / 10 - 1], np.ones(len(data))))
    assert truth.get_entries_as_ndarray().tolist() == [1, 1, 1, 0]
    # without the cut, y is outside the [0, 2) edges: nothing is counted anywhere
    plain_truth = _load(shared_data / "upstream-testdata/test-truth-binning.yml")
    plain_truth.fill_from_csv_file(str(csv), rename={"x": "x_truth", "y": "y_truth"})
    assert plain_truth.get_entries_as_ndarray().sum() == 0


def test_fill_subbinned_truth_binning(shared_data, tmp_path):
    truth = _load(shared_data / "upstream-examples/05/truth-binning.yml")
    rng = np.random.default_rng(5)
    n = 500
    # event_type -1, 0, 1 fall into bins 0, 1 (6 x 8 grid) and 2 (10 x 12 grid)
    kind = rng.integers(-1, 2, n).astype(float)
    x = rng.normal(0, 1.5, n)
    y = rng.normal(0, 1.5, n)
    csv = tmp_path / "events.csv"
    rows = "\n".join(f"{k:.17g},{a:.17g},{b:.17g}" for k, a, b in zip(kind, x, y, strict=True))
    csv.write_text("event_type,true_x,true_y\n" + rows + "\n")
    truth.fill_from_csv_file(str(csv))
    plain = _plain(shared_data / "upstream-examples/05/truth-binning.yml")
    ones = np.ones(n)
    expected = [np.array([(kind == -1).sum()])]
    for k in (1, 2):
        sel = kind == k - 1
        edges = plain["subbinnings"][k]["bin_edges"]
        expected.append(_grid(edges, False, [x[sel], y[sel]], ones[sel])[1])
    assert_array_equal(truth.get_entries_as_ndarray(), np.concatenate(expected))
    assert truth.get_entries_as_ndarray().sum() == n  # the sub-grids have infinite edges
