"""Bad input gets a clear exception naming the field, file or array; no number changes silently.

The reference (remu 0.8.0) accepts most of these; the differences are listed in
``docs/differences.md`` (D5-D12) and pinned on both sides in
``tests/oracle/test_oracle_differences.py``.
"""

from __future__ import annotations

import copy
import io
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import yaml as pyyaml
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from remu import binning, likelihood
from remu._formats.npz_response import load_response_npz
from remu.errors import FileFormatError, InputError, RemuWarning

# --- pickling re-links the views of bins and subbinnings (D5) ------------------------


def _generic_with_subbinning():
    bins = [binning.RectangularBin(["x"], [(0, 1)]), binning.RectangularBin(["x"], [(1, 2)])]
    sub = binning.LinearBinning("y", [0, 1, 2], subbinnings={1: binning.LinearBinning("z", [0, 1])})
    b = binning.Binning(bins, subbinnings={1: sub})
    b.fill([{"x": 0.5, "y": 0.5, "z": 0.5}, {"x": 1.5, "y": 1.5, "z": 0.5}])
    return b


def _assert_linked(b):
    """Bins and subbinnings show (and follow) the parent's arrays."""
    values = b.get_values_as_ndarray()
    assert [float(bin_.value) for bin_ in b.bins] == [values[0], values[1]]
    assert_array_equal(b.subbinnings[1].get_values_as_ndarray(), values[1:])
    assert_array_equal(b.subbinnings[1].subbinnings[1].get_values_as_ndarray(), values[2:])
    b.fill([{"x": 0.5, "y": 0.5, "z": 0.5}, {"x": 1.5, "y": 1.5, "z": 0.5}] * 2)
    after = b.get_values_as_ndarray()
    assert_array_equal(after, values + np.array([2.0, 0.0, 2.0]))
    assert float(b.bins[0].value) == after[0]
    assert_array_equal(b.subbinnings[1].get_values_as_ndarray(), after[1:])
    assert_array_equal(b.subbinnings[1].subbinnings[1].get_values_as_ndarray(), after[2:])
    b.subbinnings[1].fill({"y": 0.5}, weight=5.0)  # and the other way round
    assert b.get_values_as_ndarray()[1] == after[1] + 5.0


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_unpickled_generic_binning_keeps_bins_and_subbinnings_linked(protocol):
    original = _generic_with_subbinning()
    clone = pickle.loads(pickle.dumps(original, protocol=protocol))
    assert clone == original
    assert_array_equal(clone.get_values_as_ndarray(), original.get_values_as_ndarray())
    _assert_linked(clone)
    _assert_linked(copy.copy(original))


def test_unpickled_linear_and_cartesian_binnings_keep_subbinnings_linked():
    lb = binning.LinearBinning("x", [0, 1, 2], subbinnings={0: binning.LinearBinning("y", [0, 1])})
    cart = binning.CartesianProductBinning(
        [binning.LinearBinning("a", [0, 1, 2]), binning.LinearBinning("b", [0, 1])],
        subbinnings={1: binning.LinearBinning("c", [0, 1, 2])},
    )
    for b, event in ((lb, {"x": 0.5, "y": 0.5}), (cart, {"a": 1.5, "b": 0.5, "c": 1.5})):
        clone = pickle.loads(pickle.dumps(b))
        clone.fill(event, weight=3.0)
        sub = next(iter(clone.subbinnings.values()))
        start = clone.get_bin_data_index(next(iter(clone.subbinnings)))
        assert_array_equal(
            sub.get_values_as_ndarray(),
            clone.get_values_as_ndarray()[start : start + sub.data_size],
        )
        assert sub.get_values_as_ndarray().sum() == 3.0


# --- response-matrix files: one validation for every reader (D6) -----------------------

GOOD = {
    "matrices": np.full((2, 3, 2), 0.25),
    "truth_entries": np.array([1, 0, 4]),
    "sparse_indices": np.array([0, 2]),
    "is_sparse": np.array(True),
    "weights": np.array([1.0, 0.5]),
}

BAD_FILES = {
    "nan": ({"matrices": np.full((2, 3, 2), np.nan)}, r"'matrices' holds nan at index \(0, 0, 0\)"),
    "inf": ({"matrices": np.where(np.eye(3, 2) > 0, np.inf, 0.1)[None]}, "'matrices' holds inf"),
    "1-D": ({"matrices": np.full(6, 0.25)}, r"'matrices' must be 3-D.*\(6,\)"),
    "2-D": ({"matrices": np.full((3, 2), 0.25)}, r"'matrices' must be 3-D"),
    "4-D": ({"matrices": np.full((1, 2, 3, 2), 0.25)}, r"'matrices' must be 3-D"),
    "integer matrices": ({"matrices": np.zeros((2, 3, 2), dtype=int)}, "'matrices' must hold"),
    "no variation": ({"matrices": np.zeros((0, 3, 2))}, "'matrices' holds no variation"),
    "above 1": ({"matrices": np.full((2, 3, 2), 1.5)}, r"'matrices'.*\[0, 1\]"),
    "negative": ({"matrices": np.full((2, 3, 2), -0.1)}, r"'matrices'.*\[0, 1\]"),
    "column sum": ({"matrices": np.full((2, 3, 2), 0.5)}, "sums to 1.5"),
    "truth 2-D": ({"truth_entries": np.ones((3, 1), dtype=int)}, "'truth_entries' must be 1-D"),
    "truth float": ({"truth_entries": np.ones(3)}, "'truth_entries' must hold integer"),
    "truth negative": ({"truth_entries": np.array([1, -1, 4])}, "'truth_entries' holds -1"),
    "sparse missing": ({"sparse_indices": None}, "no array 'sparse_indices'"),
    "sparse range": ({"sparse_indices": np.array([0, 3])}, r"'sparse_indices'.*\[0, 3\)"),
    "sparse order": ({"sparse_indices": np.array([2, 0])}, "'sparse_indices' must be strictly"),
    "sparse repeated": ({"sparse_indices": np.array([2, 2])}, "'sparse_indices' must be strictly"),
    "sparse length": ({"sparse_indices": np.array([0, 1, 2])}, "'sparse_indices' must list"),
    "sparse float": ({"sparse_indices": np.array([0.0, 2.0])}, "'sparse_indices' must hold"),
    "is_sparse shape": ({"is_sparse": np.array([True])}, "'is_sparse' must be a single"),
    "dense columns": ({"is_sparse": np.array(False)}, "2 columns but 'truth_entries' lists 3"),
    "weights length": ({"weights": np.ones(3)}, "'weights' must have one entry per variation"),
    "weights nan": ({"weights": np.array([1.0, np.nan])}, "'weights' holds nan at index 1"),
    "weights negative": ({"weights": np.array([1.0, -1.0])}, "'weights' holds -1.0"),
    "weights zero": ({"weights": np.zeros(2)}, "'weights' is zero everywhere"),
    "no matrices": ({"matrices": None}, "no array 'matrices'"),
}


def _write(path, change):
    arrays = {**GOOD, **change}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def _read_with_predictor(path):
    return likelihood.ResponseMatrixPredictor(path)


def _read_with_loader(path):
    return load_response_npz(path)


def _read_with_cli(path):
    from remu._cli import main

    return main(["info", str(path)])


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_response_files_are_refused_alike_by_every_reader(tmp_path, case, capsys):
    change, match = BAD_FILES[case]
    path = _write(tmp_path / "response.npz", change)
    for read in (_read_with_loader, _read_with_predictor):
        with pytest.raises(FileFormatError, match=match) as info:
            read(path)
        assert "response.npz" in str(info.value)
        assert isinstance(info.value, ValueError)
    # the command line reports the same message on one line, exit status 2
    assert _read_with_cli(path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "response.npz" in err
    assert str(info.value)[-40:] in err


def test_good_response_file_reads_the_same_everywhere(tmp_path):
    path = _write(tmp_path / "response.npz", {})
    loaded = load_response_npz(path)
    predictor = likelihood.ResponseMatrixPredictor(path)
    assert_array_equal(predictor.matrices, loaded.matrices)
    assert_array_equal(predictor.sparse_indices, loaded.sparse_indices)
    assert_array_equal(predictor(predictor.defaults)[1], loaded.weights)


def test_empty_sparse_file_still_loads():
    # a matrix without filled truth bins exports no column at all (as 0.8.0 does)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        matrices=np.zeros((1, 3, 0)),
        truth_entries=np.zeros(3, dtype=np.int64),
        sparse_indices=np.zeros(0, dtype=np.int64),
        is_sparse=np.array(True),
    )
    buffer.seek(0)
    assert load_response_npz(buffer).matrices.shape == (1, 3, 0)


def test_nan_in_matrices_never_reaches_a_likelihood(tmp_path):
    path = _write(tmp_path / "nan.npz", {"matrices": np.full((2, 3, 2), np.nan)})
    with pytest.raises(ValueError, match="non-finite"):
        likelihood.LikelihoodCalculator(
            likelihood.PoissonData([1, 2, 3]), likelihood.ResponseMatrixPredictor(path)
        )


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: likelihood.MatrixPredictor(np.zeros((0, 3, 2))), "matrices"),
        (lambda: likelihood.TemplatePredictor(np.zeros((0, 2, 3))), "templates"),
        (lambda: likelihood.MatrixPredictor(np.ones((2, 3, 2)), weights=[]), "weights"),
    ],
)
def test_an_empty_systematics_axis_is_refused_by_name(build, name):
    # numpy's "zero-size array to reduction" used to surface from the first likelihood
    with pytest.raises(InputError, match=rf"^{name}: .*empty"):
        build()


# --- YAML field types (D7) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        (
            "!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: 'false'}",
            TypeError,
            "include_upper must be a boolean.*the str 'false'",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: null}",
            TypeError,
            "include_upper must be a boolean.*NoneType",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: 2}",
            TypeError,
            "include_upper must be a boolean",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: [0, 1], dummy: 'no'}",
            TypeError,
            "dummy must be a boolean",
        ),
        (
            "!RectilinearBinning {variables: [x], bin_edges: [[0, 1]], include_upper: 'true'}",
            TypeError,
            "RectilinearBinning: include_upper must be a boolean",
        ),
        (
            "!RectangularBinning {variables: [x], bin_edges: [[[0, 1]]], include_upper: 'yes'}",
            TypeError,
            "RectangularBinning: include_upper must be a boolean",
        ),
        (
            "!RectangularBin {variables: [x], edges: [[0, 1]], include_lower: 'false'}",
            TypeError,
            "RectangularBin: include_lower must be a boolean",
        ),
        (
            "!LinearBinning {variable: [x], bin_edges: [0, 1]}",
            TypeError,
            r"variable must be a variable name \(a string\); got the list \['x'\]",
        ),
        (
            "!LinearBinning {variable: 3, bin_edges: [0, 1]}",
            TypeError,
            "variable must be a variable name",
        ),
        (
            "!RectilinearBinning {variables: x, bin_edges: [[0, 1]]}",
            TypeError,
            "variables must be a list of names; got the single string 'x'",
        ),
        (
            "!RectilinearBinning {variables: [[x]], bin_edges: [[0, 1]]}",
            TypeError,
            r"variables\[0\] must be a variable name",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: ['0', '1']}",
            ValueError,
            "bin edges of variable 'x' must be numbers",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: [0, .nan, 1]}",
            ValueError,
            "contain NaN",
        ),
        (
            "!LinearBinning {variable: x, bin_edges: [[0, 1], [1, 2]]}",
            ValueError,
            "must be a flat sequence of numbers",
        ),
    ],
)
def test_yaml_field_types_are_checked(text, error, match):
    with pytest.raises(error, match=match) as info:
        binning.yaml.full_load(text)
    message = str(info.value)
    # the file, line and tag come first, the class is not named twice
    assert message.startswith("<unicode string>, line 1, column 1: ")
    assert message.count("Binning:") + message.count("Bin:") == 1


def test_yaml_flag_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "binning.yml"
    path.write_text(
        "!LinearBinning\nvariable: x\nbin_edges: [0, 1, 2]\n"
        "subbinnings:\n  1: !LinearBinning {variable: y, bin_edges: [0, 1], "
        "include_upper: 'false'}\n"
    )
    with path.open() as handle, pytest.raises(TypeError) as info:
        binning.yaml.full_load(handle)
    assert str(info.value).startswith(f"{path}, line 5, column 6: LinearBinning: include_upper")


@pytest.mark.parametrize("flag", [True, False, 1, 0, np.bool_(True), np.int64(0)])
def test_boolean_flags_still_accept_booleans_and_0_1(flag):
    lb = binning.LinearBinning("x", [0, 1], include_upper=flag)
    assert lb.include_upper is bool(flag)
    loaded = binning.yaml.full_load(binning.yaml.dump(lb))
    assert loaded == lb


@pytest.mark.parametrize("loader", ["remu", "pyyaml-full", "pyyaml-safe"])
def test_field_types_are_checked_whichever_loader(loader):
    text = "!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: 'false'}"
    load = {
        "remu": binning.yaml.full_load,
        "pyyaml-full": pyyaml.full_load,
        "pyyaml-safe": pyyaml.safe_load,
    }[loader]
    with pytest.raises(TypeError, match="include_upper must be a boolean"):
        load(text)


# --- alias bombs (D8) ------------------------------------------------------------------


def _bomb(levels: int = 9, width: int = 9, tag: str = "!LinearBinning") -> str:
    """About a kilobyte of YAML standing for width**levels numbers."""
    lines = ["a0: &a0 [" + ", ".join(["0"] * width) + "]"]
    lines.extend(
        f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]"
        for level in range(1, levels)
    )
    lines.append(f"binning: {tag} {{variable: x, bin_edges: *a{levels - 1}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("loader", ["remu", "pyyaml-full", "pyyaml-safe"])
def test_alias_bomb_fails_fast_with_a_short_message(loader):
    text = _bomb()
    assert len(text) < 1100
    load = {
        "remu": binning.yaml.full_load,
        "pyyaml-full": pyyaml.full_load,
        "pyyaml-safe": pyyaml.safe_load,
    }[loader]
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="likely alias bomb") as info:
            load(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"
    message = str(info.value)
    assert len(message) < 250
    assert "\n" not in message
    assert message.startswith("<unicode string>, line 10")


def test_alias_expansion_budget_is_shared_by_the_objects_of_a_document():
    # each binning alone is small, but 2000 of them re-read one anchored list of
    # 1000 edges: 2 million edges from a file of 11 000 distinct nodes
    edges = ", ".join(str(i) for i in range(1000))
    items = "\n".join("  - !LinearBinning {variable: x, bin_edges: *e}" for _ in range(2000))
    text = f"edges: &e [{edges}]\nbinnings:\n{items}\n"
    with pytest.raises(FileFormatError, match="alias bomb"):
        binning.yaml.full_load(text)


def test_documents_with_ordinary_aliases_still_load():
    # one anchored edge list shared by many binnings: aliases, but no bomb
    edges = ", ".join(str(i) for i in range(200))
    items = "\n".join(f"  - !LinearBinning {{variable: x{i}, bin_edges: *e}}" for i in range(300))
    text = f"edges: &e [{edges}]\nbinnings:\n{items}\n"
    loaded = binning.yaml.full_load(text)["binnings"]
    assert len(loaded) == 300
    assert all(b.nbins == 199 for b in loaded)
    # a dumped binning that repeats objects (anchors and aliases) round-trips
    sub = binning.LinearBinning("y", [0, 1, 2], dummy=True)
    b = binning.LinearBinning("x", [0, 1, 2, 3], subbinnings={0: sub, 2: sub})
    assert binning.yaml.full_load(binning.yaml.dump(b)) == b


# --- Poisson counts beyond int64 (D11) ---------------------------------------------------


@pytest.mark.parametrize(
    "counts",
    [
        np.array([1e308, 1.0]),
        np.array([2.0**63, 1.0]),
        np.array([np.iinfo(np.uint64).max, 1], dtype=np.uint64),
        [[1, 2], [3e19, 4]],
    ],
    ids=["1e308", "2**63", "uint64 max", "nested"],
)
def test_poisson_counts_beyond_int64_are_refused(counts):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning on the way
        with pytest.raises(InputError, match=r"fit a 64-bit integer.*at index"):
            likelihood.PoissonData(counts)


def test_large_but_representable_counts_are_kept():
    data = likelihood.PoissonData(np.array([2.0**62, 1e15, 3.0]))
    assert data.data_vector.tolist() == [2**62, 10**15, 3]
    assert (data.data_vector >= 0).all()


# --- event weights whose square overflows (D12) ------------------------------------------


@pytest.mark.parametrize(
    "weight",
    [
        np.array([1.0, 1e308]),
        np.array([1.0, -1e200]),
        np.array([1.0, np.inf]),
        1e308,
        -np.inf,
    ],
    ids=["1e308", "-1e200", "inf", "scalar 1e308", "scalar -inf"],
)
def test_weights_whose_square_overflows_are_refused(weight):
    lb = binning.LinearBinning("x", [0, 1])
    events = np.array([(0.5,), (0.5,)], dtype=[("x", float)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"weight.* is .*must be finite") as info:
            lb.fill(events, weight=weight)
    if np.ndim(weight):
        assert "weight of event 1" in str(info.value)
    assert_array_equal(lb.get_values_as_ndarray(), [0.0])  # nothing filled


def test_large_finite_weights_still_fill():
    lb = binning.LinearBinning("x", [0, 1])
    lb.fill({"x": np.array([0.5])}, weight=np.array([1e150]))
    assert lb.get_sumw2_as_ndarray()[0] == pytest.approx(1e300)


# --- set_*_from_ndarray sizes (D9) -------------------------------------------------------


@pytest.mark.parametrize("method", ["values", "entries", "sumw2"])
@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_set_from_ndarray_of_the_wrong_size_is_refused(method, size):
    lb = binning.LinearBinning("x", [0, 1, 2, 3, 4])
    setter = getattr(lb, f"set_{method}_from_ndarray")
    before = getattr(lb, f"get_{method}_as_ndarray")()
    with pytest.raises(InputError, match=f"set_{method}_from_ndarray: cannot set the 4 data"):
        setter(np.ones(size))
    assert_array_equal(getattr(lb, f"get_{method}_as_ndarray")(), before)


def test_set_from_ndarray_accepts_scalars_shapes_and_warns_for_stacks():
    rl = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2, 3]])
    rl.set_values_from_ndarray(2.5)
    assert_array_equal(rl.get_values_as_ndarray(), np.full(6, 2.5))
    rl.set_values_from_ndarray(np.arange(6.0).reshape(rl.bins_shape))
    assert_array_equal(rl.get_values_as_ndarray(), np.arange(6.0))
    rl.set_entries_from_ndarray(np.arange(6.0))  # cast to int, as in ReMU
    assert_array_equal(rl.get_entries_as_ndarray(), np.arange(6))
    with pytest.warns(RemuWarning, match="got 3 vectors of 6 elements.*first one is used"):
        rl.set_values_from_ndarray(np.arange(18.0).reshape(3, 6))
    assert_array_equal(rl.get_values_as_ndarray(), np.arange(6.0))
    with pytest.raises(InputError, match="12 elements"):
        rl.set_values_from_ndarray(np.ones((6, 2)))  # last axis is not the data axis


def test_set_entries_refuses_non_finite_counts():
    lb = binning.LinearBinning("x", [0, 1, 2])
    with pytest.raises(InputError, match="integer counts; got nan at flat index 1"):
        lb.set_entries_from_ndarray([1.0, np.nan])
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 0])


# --- at least one bin (D10) --------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: binning.LinearBinning("x", [0.0]),
        lambda: binning.LinearBinning("x", []),
        lambda: binning.RectilinearBinning(["x", "y"], [[0, 1], [5]]),
        lambda: binning.yaml.full_load("!LinearBinning {variable: x, bin_edges: [0]}"),
    ],
    ids=["one edge", "no edge", "rectilinear axis", "yaml"],
)
def test_a_binning_needs_at_least_one_bin(build):
    with pytest.raises(ValueError, match="at least two edges \\(one bin\\)"):
        build()


def test_messages_stay_short_for_huge_inputs():
    edges = np.arange(10**6, dtype=float)[::-1]  # decreasing: refused
    with pytest.raises(ValueError, match="strictly increasing") as info:
        binning.LinearBinning("x", edges)
    assert len(str(info.value)) < 200


def _naive_size(node) -> int:
    if isinstance(node, pyyaml.SequenceNode):
        return 1 + sum(_naive_size(child) for child in node.value)
    if isinstance(node, pyyaml.MappingNode):
        return 1 + sum(_naive_size(k) + _naive_size(v) for k, v in node.value)
    return 1


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_expanded_size_counts_every_alias(data):
    # random documents of anchored sequences and mappings that refer to earlier anchors
    from remu._formats.yaml_codec import _expanded_size, _ExpansionLedger

    lines = []
    for i in range(data.draw(st.integers(1, 6))):
        refs = [f"*n{j}" for j in range(i)] + ["0", "x", "[1, 2]"]
        items = data.draw(st.lists(st.sampled_from(refs), min_size=0, max_size=5))
        if data.draw(st.booleans()):
            body = "[" + ", ".join(items) + "]"
        else:
            body = "{" + ", ".join(f"k{k}: {item}" for k, item in enumerate(items)) + "}"
        lines.append(f"n{i}: &n{i} {body}")
    root = data.draw(st.lists(st.sampled_from([f"*n{j}" for j in range(len(lines))]), max_size=4))
    lines.append("root: [" + ", ".join(root) + "]")
    node = pyyaml.compose("\n".join(lines))
    assert _expanded_size(_ExpansionLedger(), node) == _naive_size(node)
