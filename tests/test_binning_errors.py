"""Bad input to remu.binning / remu.yaml raises a clear exception that names the culprit."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from extras import require
from remu import binning as bn
from remu.binning import (
    Bin,
    Binning,
    CartesianProductBinning,
    LinearBinning,
    PhaseSpace,
    RectangularBin,
    RectangularBinning,
    RectilinearBinning,
)

NAN = float("nan")
INF = float("inf")


# ---------------------------------------------------------------------------
# edges


@pytest.mark.parametrize("edges", [[0, 2, 1], [0, 1, 1, 0], [3, 2, 1], [0, 1, 1, 2]])
def test_unsorted_linear_edges(edges):
    # stricter than upstream (which fails only at the first lookup): rejected at construction
    with pytest.raises(ValueError, match=r"'energy'.*increasing"):
        LinearBinning("energy", edges)


def test_unsorted_rectilinear_edges():
    with pytest.raises(ValueError, match=r"'yy'.*increasing"):
        RectilinearBinning(["x", "yy"], [[0, 1, 2], [0, 5, 3]])


def test_nan_edges():
    with pytest.raises(ValueError, match=r"'x'.*NaN"):
        LinearBinning("x", [0, NAN, 2])
    with pytest.raises(ValueError, match=r"'y'.*NaN"):
        RectilinearBinning(["x", "y"], [[0, 1], [NAN, 1]])


def test_nan_edges_of_rectangular_bins():
    with pytest.raises(ValueError, match=r"(?i)depth.*nan|nan.*depth"):
        RectangularBin(["x", "depth"], [(0, 1), (NAN, 1)])
    with pytest.raises(ValueError, match=r"(?i)depth.*nan|nan.*depth"):
        RectangularBinning(["depth"], [[(0, NAN)]])


def test_infinite_edges_are_allowed():
    lb = LinearBinning("x", [-INF, 0, INF])
    lb.fill([{"x": -1e300}, {"x": 1e300}])
    assert lb.get_entries_as_ndarray().tolist() == [1, 1]
    rl = RectilinearBinning(["x", "y"], [[-INF, INF], [0, INF]])
    rl.fill({"x": 3.0, "y": 2.0})
    assert rl.get_entries_as_ndarray().tolist() == [1]


def test_rectangular_bin_edge_errors():
    with pytest.raises(ValueError, match="variable qq"):
        RectangularBin(["qq"], [(2, 1)])
    with pytest.raises(ValueError, match="qq"):
        RectangularBin(["x", "qq"], [(0, 1), (0, 1)], phasespace=PhaseSpace(["x"]))
    with pytest.raises(ValueError):
        RectangularBinning(["x"], [[(1, 0)]])


# ---------------------------------------------------------------------------
# missing variables


def test_missing_variable_dict():
    lb = LinearBinning("energy", [0, 1, 2])
    with pytest.raises(KeyError, match="energy"):
        lb.fill({"x": 0.5})
    with pytest.raises(KeyError, match="energy"):
        lb.fill([{"x": 0.5}, {"x": 1.5}])
    with pytest.raises(KeyError, match="energy"):
        lb.get_event_bin_index({"x": 0.5})
    assert lb.get_entries_as_ndarray().sum() == 0


def test_missing_variable_structured_array():
    rl = RectilinearBinning(["x", "momentum"], [[0, 1], [0, 1]])
    arr = np.array([(0.5, 0.5)], dtype=[("x", float), ("y", float)])
    # KeyError (a missing column) or ValueError (NumPy's own "no field of name") are both fine.
    with pytest.raises((KeyError, ValueError), match="momentum"):
        rl.fill(arr)


def test_missing_variable_dataframe():
    pd = require("pandas", "pandas")
    cp = CartesianProductBinning(
        [LinearBinning("x", [0, 1], dummy=True), LinearBinning("theta", [0, 1], dummy=True)]
    )
    with pytest.raises(KeyError, match="theta"):
        cp.fill(pd.DataFrame({"x": [0.5], "y": [0.5]}))


def test_missing_variable_in_subbinning():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={1: LinearBinning("depth", [0, 1])})
    with pytest.raises(KeyError, match="depth"):
        lb.fill({"x": 1.5})


def test_rename_of_missing_key():
    lb = LinearBinning("x", [0, 1, 2])
    # the rename source 'tt' does not exist, so the variable 'x' is missing
    with pytest.raises(KeyError, match=r"'tt'|'x'"):
        lb.fill([{"t": 0.5}], rename={"tt": "x"})


# ---------------------------------------------------------------------------
# shapes and lengths


@pytest.mark.parametrize(
    ("kwarg", "word"),
    [("value_array", "Value"), ("entries_array", "Entries"), ("sumw2_array", "Sumw2")],
)
def test_constructor_array_wrong_shape(kwarg, word):
    bad = np.zeros(3) if kwarg != "entries_array" else np.zeros(3, dtype=int)
    with pytest.raises(TypeError, match=f"{word} array shape"):
        LinearBinning("x", [0, 1, 2], **{kwarg: bad})
    with pytest.raises(TypeError, match=f"{word} array shape"):
        LinearBinning("x", [0, 1, 2], **{kwarg: np.zeros((2, 1))})


def test_set_arrays_wrong_size():
    # ReMU repeats a short input cyclically and truncates a long one; remu refuses
    # both (difference D9) and leaves the contents unchanged
    lb = LinearBinning("x", [0, 1, 2, 3, 4])
    lb.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"4 data elements.*3 elements"):
        lb.set_values_from_ndarray([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"set_entries_from_ndarray.*10 elements"):
        lb.set_entries_from_ndarray(np.arange(10))
    assert lb.get_values_as_ndarray().tolist() == [1.0, 2.0, 3.0, 4.0]
    assert lb.get_entries_as_ndarray().tolist() == [0, 0, 0, 0]


def test_weight_list_wrong_length():
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match=r"(?i)length"):
        lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"(?i)length"):
        lb.fill(np.array([(0.5,)], dtype=[("x", float)]), weight=np.ones(2))
    assert lb.get_entries_as_ndarray().sum() == 0


@pytest.mark.parametrize("weight", [NAN, [1.0, NAN]])
def test_nan_weights(weight):
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match=r"(?i)nan"):
        lb.fill([{"x": 0.5}, {"x": 1.5}], weight=weight)
    assert lb.get_entries_as_ndarray().sum() == 0


def test_nan_weight_of_event_outside():
    lb = LinearBinning("x", [0, 1, 2])
    # the whole weight list is invalid, even if the NaN belongs to an event outside
    with pytest.raises(ValueError, match=r"(?i)nan"):
        lb.fill([{"x": 0.5}, {"x": 7.0}], weight=[1.0, NAN])


def test_negative_weights_allowed():
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5}, {"x": 0.5}], weight=[-2.0, 0.5])
    assert lb.get_values_as_ndarray().tolist() == [-1.5, 0.0]
    assert lb.get_sumw2_as_ndarray().tolist() == [4.25, 0.0]


def test_columns_of_different_lengths():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError, match=r"(?i)length"):
        rl.fill({"x": np.array([0.5, 1.5, 0.5]), "y": np.array([0.5, 1.5])})
    assert rl.get_entries_as_ndarray().sum() == 0


def test_raise_error_names_the_problem():
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match="not part of binning"):
        lb.fill([{"x": 0.5}, {"x": 2.5}], raise_error=True)
    assert lb.get_entries_as_ndarray().sum() == 0


def test_invalid_event_containers():
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises((TypeError, IndexError)):
        lb.fill(np.array([0.5, 1.5]))
    with pytest.raises(TypeError):
        lb.fill([0.5, 1.5])


# ---------------------------------------------------------------------------
# constructor and method misuse


def test_constructor_errors():
    with pytest.raises(TypeError, match="Undefined phase space"):
        Bin()
    with pytest.raises(TypeError, match="foo"):
        Bin(phasespace=PhaseSpace(["x"]), foo=1)
    with pytest.raises(TypeError, match="Cannot define bins of LinearBinning"):
        LinearBinning("x", [0, 1], bins=[])
    with pytest.raises(TypeError, match="Cannot define bins of RectilinearBinning"):
        RectilinearBinning(["x"], [[0, 1]], bins=[])
    with pytest.raises(TypeError, match="Cannot define bins of CartesianProductBinning"):
        CartesianProductBinning([], bins=[])
    with pytest.raises(TypeError, match="foo"):
        LinearBinning("x", [0, 1], foo=1)


def test_subbinning_method_errors():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={0: LinearBinning("y", [0, 1, 2])})
    with pytest.raises(ValueError, match="No subbinning at bin index 1"):
        lb.marginalize_subbinnings([1])
    with pytest.raises(ValueError, match="Bin 0 already has a subbinning"):
        lb.insert_subbinning(0, LinearBinning("z", [0, 1]))


def test_variable_index_errors():
    rl = RectilinearBinning(["x", "y"], [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="zeta"):
        rl.get_variable_index("zeta")
    with pytest.raises(ValueError):
        rl.marginalize(["zeta"])
    with pytest.raises(ValueError):
        rl.project(["x", "x"])


def test_shape_mismatch_in_getter():
    lb = LinearBinning("x", [0, 1, 2, 3])
    with pytest.raises(ValueError):
        lb.get_values_as_ndarray(shape=(2, 2))


# ---------------------------------------------------------------------------
# YAML


@pytest.mark.parametrize(
    "text",
    [
        "!LinearBinning {variable: x, bin_edges: [0, 1, 2]",
        "!LinearBinning\nvariable: x\n  bin_edges: [0, 1]\n bad",
        "a: [1, 2\nb: 3",
    ],
)
def test_malformed_yaml(text):
    with pytest.raises(yaml.YAMLError):
        bn.yaml.full_load(text)


def test_unknown_yaml_tag():
    with pytest.raises(yaml.constructor.ConstructorError, match="FancyBinning"):
        bn.yaml.full_load("!FancyBinning {variable: x, bin_edges: [0, 1]}")
    with pytest.raises(yaml.constructor.ConstructorError, match="Nope"):
        bn.yaml.full_load(
            "!LinearBinning {variable: x, bin_edges: [0, 1], subbinnings: {0: !Nope {}}}"
        )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("!LinearBinning {variable: x, bin_edges: [0, 1], colour: red}", "colour"),
        ("!RectilinearBinning {variables: [x], bin_edges: [[0, 1]], foo: 1}", "foo"),
        ("!RectangularBin {variables: [x], edges: [[0, 1]], bar: 2}", "bar"),
        ("!Binning {bins: [], baz: 3}", "baz"),
    ],
)
def test_yaml_unknown_key(text, key):
    with pytest.raises(TypeError, match=key):
        bn.yaml.full_load(text)


def test_yaml_missing_required_key():
    with pytest.raises(TypeError, match="bin_edges"):
        bn.yaml.full_load("!LinearBinning {variable: x}")


def test_yaml_quoted_subbinning_key():
    with pytest.raises(TypeError):
        bn.yaml.full_load(
            "!LinearBinning {variable: x, bin_edges: [0, 1, 2],"
            " subbinnings: {'1': !LinearBinning {variable: y, bin_edges: [0, 1]}}}"
        )


@pytest.mark.parametrize(
    "template",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        (
            "!LinearBinning\nvariable: !!python/object/apply:os.system ['touch {marker}']\n"
            "bin_edges: [0, 1]\n"
        ),
        "- !!python/object/apply:subprocess.call [['touch', '{marker}']]\n",
        "!!python/object/new:os.system ['touch {marker}']",
    ],
)
def test_yaml_code_execution_refused(tmp_path, template):
    marker = tmp_path / "pwned"
    text = template.format(marker=marker)
    with pytest.raises(yaml.YAMLError):
        bn.yaml.full_load(text)
    with pytest.raises(yaml.YAMLError):
        yaml.full_load(text)
    assert not marker.exists()


def test_yaml_safe_dump_refuses_binning():
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump(LinearBinning("x", [0, 1]))


# ---------------------------------------------------------------------------
# CSV


def test_csv_missing_column(tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("x,y\n0.5,1\n")
    rl = RectilinearBinning(["x", "z_reco"], [[0, 1], [0, 2]])
    with pytest.raises(KeyError, match="z_reco"):
        rl.fill_from_csv_file(str(f))
    lb = LinearBinning("x", [0, 1])
    with pytest.raises(KeyError, match="weight_col"):
        lb.fill_from_csv_file(str(f), weightfield="weight_col")
    assert lb.get_entries_as_ndarray().sum() == 0


@pytest.mark.parametrize(
    ("body", "culprit"),
    [
        ("x,y\n0.5,abc\n", r"bad\.csv.*2.*abc"),
        ("x,y\n0.5,1\n1.5,\n", r"bad\.csv.*3"),
        ("x,y\n0.5,1\n\n1.5,2\n", r"bad\.csv.*3"),
    ],
)
def test_csv_bad_values(tmp_path, body, culprit):
    f = tmp_path / "bad.csv"
    f.write_text(body)
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match=culprit):
        lb.fill_from_csv_file(str(f))
    assert lb.get_entries_as_ndarray().sum() == 0


def test_csv_missing_file(tmp_path):
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(FileNotFoundError, match="nothere"):
        lb.fill_from_csv_file(str(tmp_path / "nothere.csv"))


def test_csv_weight_list_errors(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("x\n0.5\n")
    lb = LinearBinning("x", [0, 1, 2])
    Binning.fill_multiple_from_csv_file([lb], [str(f)], weight=[2.0])
    assert lb.get_values_as_ndarray().tolist() == [2.0, 0.0]


# ---------------------------------------------------------------------------
# dummies


def test_dummy_data_access():
    d = LinearBinning("x", [0, 1, 2], dummy=True)
    with pytest.raises(TypeError):
        d.get_values_as_ndarray()
    with pytest.raises(AttributeError):
        d.reset()
    b = Bin(phasespace=PhaseSpace(["x"]), dummy=True)
    with pytest.raises(AttributeError):
        _ = b.entries
    with pytest.raises(NotImplementedError):
        Bin(phasespace=PhaseSpace(["x"])).event_in_bin({"x": 1})


@pytest.mark.parametrize(
    ("body", "culprit"),
    [
        ("x,y\n0.5\n", r"bad\.csv.*line 2"),
        ("x,y\n0.5,1,2\n", r"bad\.csv.*line 2"),
        ("x,y\n# a comment\n0.5,1\n", r"bad\.csv.*line 2"),
        ("x,x\n0.5,1\n", r"bad\.csv.*'x'"),
        ("", r"bad\.csv"),
    ],
)
def test_csv_malformed_structure(tmp_path, body, culprit):
    f = tmp_path / "bad.csv"
    f.write_text(body)
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match=culprit):
        lb.fill_from_csv_file(str(f))


def test_csv_weightfield_uses_renamed_name(tmp_path):
    f = tmp_path / "w.csv"
    f.write_text("t,w\n0.5,3\n")
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(KeyError, match="'w'"):
        lb.fill_from_csv_file(str(f), weightfield="w", rename={"t": "x", "w": "weight"})
