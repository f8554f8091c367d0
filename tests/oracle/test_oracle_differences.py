"""Deliberate differences from remu 0.8.0, pinned on both sides.

Each test runs the same probe in both implementations and checks that the
reference still shows the bug described in ``docs/differences.md`` and that ours
does the sane thing instead. If the reference ever stops showing a bug (another
pin of the oracle venv), the entry in the document is out of date. Test names
carry the ids (``D<n>``) of the document's rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracle_client import run_both, skip_without_oracle

from numeric_asserts import assert_allclose

skip_without_oracle()

import scenarios_binning as sb


def _probe(oracle, **case):
    ours, theirs = run_both(oracle, sb.difference, [case])
    return ours[0], theirs[0]


def _raised(result, name):
    return isinstance(result, dict) and result.get("__error__") == name


def test_d1_fill_with_more_than_32_dict_events(oracle):
    """D1: a list of more than 32 dicts is "Too many operands" for 0.8.0 on numpy<2."""
    n = 40
    x = np.linspace(0.0, 2.0, n)
    w = np.arange(1.0, n + 1.0)
    spec = {"kind": "linear", "variable": "x", "edges": [0.0, 1.0, 2.0]}
    ours, theirs = run_both(oracle, sb.fill_many_dicts, [{"spec": spec, "x": x, "w": w}])
    assert _raised(theirs[0], "ValueError")
    assert "operands" in theirs[0]["message"]
    # ours: one call fills all 40 events (x == 2.0 is outside the last bin)
    inside = x < 2.0
    expected = [w[inside & (x < 1.0)].sum(), w[inside & (x >= 1.0)].sum()]
    assert_allclose(ours[0]["value"], expected)
    np.testing.assert_array_equal(ours[0]["entries"], [20, 19])


def test_d22_event_inside_bin_but_outside_its_subbinning(oracle):
    ours, theirs = _probe(oracle, name="D22_lookup")
    assert _raised(theirs, "TypeError")
    assert ours == -1  # outside the binning
    ours, theirs = _probe(oracle, name="D22_fill")
    assert _raised(theirs, "TypeError")
    np.testing.assert_array_equal(ours["entries"], [1, 1])  # the stray event is skipped
    np.testing.assert_array_equal(ours["value"], [1.0, 1.0])


def test_d23_marginalize_subbinnings_on_2d_array_sums_axis_0(oracle):
    ours, theirs = _probe(oracle, name="D23")
    np.testing.assert_array_equal(theirs, [[6.0, 6.0], [4.0, 5.0]])  # whole block summed
    np.testing.assert_array_equal(ours, [[2.0, 4.0], [4.0, 5.0]])


def test_d24_single_bin_linear_binning_has_no_neighbour(oracle):
    ours, theirs = _probe(oracle, name="D24")
    assert [list(a) for a in theirs] == [[1]]  # a bin that does not exist
    assert [list(a) for a in ours] == [[]]


def test_d25_linear_binnings_with_different_edge_counts_are_unequal(oracle):
    ours, theirs = _probe(oracle, name="D25")
    assert _raised(theirs, "ValueError")  # already with numpy 1.26
    assert ours is False


def test_d26_rectilinear_marginalize_by_multi_letter_name(oracle):
    ours, theirs = _probe(oracle, name="D26")
    assert _raised(theirs, "ValueError")
    np.testing.assert_array_equal(ours, [3.0, 5.0, 7.0])


@pytest.mark.parametrize(
    ("arg", "reference_ok"), [(1, False), ("y", True), ([1], True)], ids=["int", "str", "list"]
)
def test_d27_rectilinear_project(oracle, arg, reference_ok):
    ours, theirs = _probe(oracle, name="D27", arg=arg)
    expected_type = "RectilinearBinning" if isinstance(arg, list) else "LinearBinning"
    assert ours["type"] == expected_type
    np.testing.assert_array_equal(ours["value"], [3.0, 5.0, 7.0])
    if reference_ok:
        assert theirs["type"] == ours["type"]
        np.testing.assert_array_equal(theirs["value"], ours["value"])
    else:
        assert _raised(theirs, "TypeError")


@pytest.mark.parametrize("name", ["D20", "D21"])
def test_d20_d21_equality_with_foreign_objects_is_false(oracle, name):
    ours, theirs = _probe(oracle, name=name)
    assert _raised(theirs, "AttributeError")
    assert ours is False


def test_d28_bins_of_a_dummy_product(oracle):
    ours, theirs = _probe(oracle, name="D28")
    assert _raised(theirs, "TypeError")
    assert ours == [1]


def test_d2_derivative_ignores_order_for_first_derivatives(oracle):
    """D2: 0.8.0's ``likelihood.derivative`` is scipy.misc.derivative; ours is a 3-point one."""
    import scenarios_likelihood as sl

    case = {"x0": 0.3, "dx": 1e-2, "orders": [[1, 5], [2, 2]]}
    ours, theirs = run_both(oracle, sl.derivative, [case])
    o, t = ours[0], theirs[0]
    h = 1e-2
    central = (np.sin(0.3 + h) - np.sin(0.3 - h)) / (2 * h)
    assert_allclose(o["sin-1-5"], central, rtol=1e-12)  # 3 points whatever the order
    # scipy's 5-point stencil is closer to cos(0.3)
    assert abs(t["sin-1-5"] - np.cos(0.3)) < abs(central - np.cos(0.3)) / 100
    # n=2 with order=2: scipy refuses, ours gives the 3-point second difference
    assert isinstance(t["sin-2-2"], str)
    assert t["sin-2-2"].startswith("ValueError")
    second = (np.sin(0.3 + h) - 2 * np.sin(0.3) + np.sin(0.3 - h)) / h**2
    assert_allclose(o["sin-2-2"], second, rtol=1e-12)


def test_d19_a_mapper_returning_futures(oracle):
    """D19: ``likelihood.mapper = client.map`` gives futures; 0.8.0 fails without a hint."""
    import scenarios_likelihood as sl

    case = {
        "data": np.array([12, 9, 2]),
        "spec": {
            "type": "matrix",
            "matrices": np.array([[1.0, 0.2], [0.3, 1.0], [0.1, 0.1]]),
            "bounds": np.array([[0.0, np.inf], [0.0, np.inf]]),
        },
        "fix": [None, 7.0],
        "seed": 3,
    }
    ours, theirs = run_both(oracle, sl.futures_mapper, [case])
    for name in ("max_likelihood", "ratio"):
        assert isinstance(theirs[0][name], str), theirs[0][name]
        assert "Future" in theirs[0][name]  # an error about Future objects ...
        assert "executor" not in theirs[0][name]  # ... that does not say what to do
        assert ours[0][name].startswith("TypeError: remu.likelihood.mapper returned a future")
        assert "executor=client" in ours[0][name]


# --- bad input that 0.8.0 accepts and remu refuses (D5-D12) ---------------------------


def _bad(oracle, name):
    import scenarios_bad_input as sbi

    ours, theirs = run_both(oracle, sbi.probe, [{"name": name}])
    return ours[0], theirs[0]


def test_d5_unpickled_binning_keeps_bins_linked(oracle):
    ours, theirs = _bad(oracle, "unpickled_generic_binning")
    # the parent's arrays are right on both sides
    np.testing.assert_array_equal(theirs["values"], [2.0, 1.0, 1.0])
    np.testing.assert_array_equal(ours["values"], [2.0, 1.0, 1.0])
    # 0.8.0: the bins and the subbinning still show the values from before pickling
    assert theirs["bin0"] == 1.0
    np.testing.assert_array_equal(theirs["sub"], [0.0, 1.0])
    assert ours["bin0"] == 2.0
    np.testing.assert_array_equal(ours["sub"], [1.0, 1.0])


@pytest.mark.parametrize("name", ["npz_nan_matrices", "npz_2d_matrices"])
def test_d6_response_files_are_validated(oracle, name):
    ours, theirs = _bad(oracle, name)
    assert "log_likelihood" in theirs  # 0.8.0 loads both files and evaluates them
    if name == "npz_nan_matrices":
        assert np.isnan(theirs["log_likelihood"]) or theirs["log_likelihood"] == -np.inf
    assert _raised(ours, "FileFormatError")
    assert "'matrices'" in ours["message"]
    assert "ValueError" in ours["mro"]


def test_d7_yaml_flag_given_as_a_string(oracle):
    ours, theirs = _bad(oracle, "yaml_flag_string")
    assert theirs["include_upper"] is True  # the string 'false' is truthy
    assert _raised(ours, "TypeError")
    assert "include_upper must be a boolean" in ours["message"]
    ours, theirs = _bad(oracle, "yaml_edges_strings")
    assert theirs["edges"] == [0.0, 1.0]  # quoted numbers silently converted
    assert _raised(ours, "ValueError")
    assert "must be numbers" in ours["message"]


def test_d9_set_values_of_the_wrong_size(oracle):
    ours, theirs = _bad(oracle, "set_values_short")
    np.testing.assert_array_equal(theirs["values"], [1.0, 2.0, 1.0])  # repeated
    assert _raised(ours, "InputError")
    ours, theirs = _bad(oracle, "set_values_stack")
    # a stack of vectors: both keep the first, remu says so
    np.testing.assert_array_equal(theirs["values"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ours["values"], [0.0, 1.0, 2.0])
    assert theirs["warnings"] == []
    assert len(ours["warnings"]) == 1
    assert "first one is used" in ours["warnings"][0]


def test_d10_a_binning_needs_a_bin(oracle):
    ours, theirs = _bad(oracle, "single_edge")
    assert theirs == 0
    assert _raised(ours, "ValueError")
    assert "at least two edges" in ours["message"]


def test_d11_poisson_counts_beyond_int64(oracle):
    ours, theirs = _bad(oracle, "huge_counts")
    assert theirs[0] < 0  # 1e308 wraps around to a negative count
    assert _raised(ours, "InputError")
    assert "64-bit" in ours["message"]


def test_d12_weights_whose_square_overflows(oracle):
    ours, theirs = _bad(oracle, "huge_weights")
    assert theirs["sumw2"][0] == np.inf
    assert _raised(ours, "ValueError")
    assert "weight of event 0" in ours["message"]
