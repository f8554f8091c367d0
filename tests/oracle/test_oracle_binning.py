"""Differential tests of ``remu.binning`` against remu 0.8.0.

Random binnings (hypothesis) are built in both implementations from the same spec;
numbering, geometry, adjacency, event look-ups, fills in every input form and the
YAML files are compared, and each side loads the YAML the other one wrote.
Known, deliberate differences (docs/differences.md) are checked explicitly.
"""

from __future__ import annotations

import numpy as np
from binning_specs import binning_spec, has_single_bin_linear, random_events, sizes
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle_client import ensure_ok, examples, run_both, run_ours, skip_without_oracle

from numeric_asserts import assert_allclose

skip_without_oracle()

import scenarios_binning as sb

# each example is one batch crossing the process boundary: few examples, many cases;
# no shrinking (each shrink step is another round trip): the failing case is printed
BATCH = 8
N_EVENTS = 60
SETTINGS = settings(
    max_examples=examples(8),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FILL_VARIANTS = [
    "list_of_dicts",
    "structured",
    "structured_scalar_weight",
    "structured_renamed",
    "dataframe",
    "dict_of_arrays",
    "one_by_one",
]


def _assert_fill_equal(ours, theirs, label):
    np.testing.assert_array_equal(ours["entries"], theirs["entries"], err_msg=label)
    # the oracle adds event by event, we sum with bincount: same numbers up to rounding
    assert_allclose(ours["value"], theirs["value"], rtol=1e-12, atol=1e-12)
    assert_allclose(ours["sumw2"], theirs["sumw2"], rtol=1e-12, atol=1e-12)


def _compare_description(case, ours, theirs):
    ensure_ok(theirs, "remu 0.8.0", case["spec"])
    ensure_ok(ours, "ours", case["spec"])
    assert ours["structure"] == theirs["structure"], case["spec"]
    if not has_single_bin_linear(case["spec"]):  # D24: upstream names a missing bin
        assert ours["adjacency"] == theirs["adjacency"], case["spec"]
    assert ours["yaml_self_equal"]
    assert theirs["yaml_self_equal"]
    lookup_o, lookup_t = ours["lookup"], theirs["lookup"]
    stray = lookup_t == -2  # upstream TypeError: inside a bin, outside its subbinning (D22)
    np.testing.assert_array_equal(lookup_o[stray], -1, err_msg=f"D22 events {case['spec']}")
    np.testing.assert_array_equal(lookup_o[~stray], lookup_t[~stray], err_msg=str(case["spec"]))
    for variant in case["variants"]:
        _assert_fill_equal(
            ours["fills"][variant], theirs["fills"][variant], f"{variant} {case['spec']}"
        )


def _cross_load(oracle, cases, ours, theirs):
    """Each side loads the YAML (plain and dummy) that the other side dumped."""
    to_oracle, to_ours = [], []
    for case, o, t in zip(cases, ours, theirs, strict=True):
        to_oracle.append({"spec": case["spec"], "text": o["yaml"]})
        to_oracle.append({"spec": case["spec"], "text": o["dummy_yaml"], "dummy": True})
        to_ours.append({"spec": case["spec"], "text": t["yaml"]})
        to_ours.append({"spec": case["spec"], "text": t["dummy_yaml"], "dummy": True})
    loaded_by_oracle = oracle.run(sb.load_yaml, to_oracle)
    loaded_by_ours = run_ours(sb.load_yaml, to_ours)
    for i, (a, b) in enumerate(zip(loaded_by_oracle, loaded_by_ours, strict=True)):
        expected = ours[i // 2]["structure"]
        for side, res, text in (
            ("remu 0.8.0 loading our YAML", a, to_oracle[i]["text"]),
            ("ours loading remu 0.8.0 YAML", b, to_ours[i]["text"]),
        ):
            ensure_ok(res, side, text)
            assert res["equal"], f"{side}: not equal to the binning of the case\n{text}"
            assert res["equal_reversed"], f"{side}: not equal (reversed)\n{text}"
            assert res["dummy"] == (i % 2 == 1), side
            got = dict(res["structure"])
            if res["dummy"] and not got["bins"]:  # D28: no bins of dummy products upstream
                got["bins"] = expected["bins"]
            assert got == expected, f"{side}\n{text}"
            assert res["redump_loads"], side


@st.composite
def described_case(draw, kinds=None):
    # the events are made from the seed in the test (keeps hypothesis' reprs small)
    return {"spec": draw(binning_spec(kinds=kinds)), "seed": draw(st.integers(0, 2**32 - 1))}


def _with_events(cases):
    out = []
    for case in cases:
        events, weights = random_events(case["seed"], N_EVENTS)
        out.append({**case, "events": events, "weights": weights, "variants": FILL_VARIANTS})
    return out


@SETTINGS
@given(st.lists(described_case(), min_size=BATCH, max_size=BATCH))
def test_random_binnings_match_reference(oracle, cases):
    cases = _with_events(cases)
    ours, theirs = run_both(oracle, sb.describe, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        _compare_description(case, o, t)
    _cross_load(oracle, cases, ours, theirs)


@SETTINGS
@given(st.lists(described_case(kinds=("cartesian", "rectilinear")), min_size=BATCH, max_size=BATCH))
def test_random_products_match_reference(oracle, cases):
    """Products and grids: the row-major numbering over constituent data sizes."""
    cases = _with_events(cases)
    ours, theirs = run_both(oracle, sb.describe, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        _compare_description(case, o, t)


@st.composite
def operations_case(draw):
    spec = draw(binning_spec())
    n = sizes(spec)[1]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return {
        "spec": spec,
        "values": np.round(rng.uniform(0, 10, n), 2),
        "entries": rng.integers(0, 20, n),
        "sumw2": np.round(rng.uniform(0, 10, n), 2),
    }


def _compare_tree(ours, theirs, path=""):
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), path
        for k in theirs:
            _compare_tree(ours[k], theirs[k], f"{path}/{k}")
    elif isinstance(theirs, np.ndarray) and theirs.dtype.kind == "f":
        assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=path)
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=path)
    else:
        assert ours == theirs, path


@SETTINGS
@given(st.lists(operations_case(), min_size=BATCH, max_size=BATCH))
def test_marginalize_project_slice_match_reference(oracle, cases):
    ours, theirs = run_both(oracle, sb.operations, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case["spec"])
        ensure_ok(o, "ours", case["spec"])
        _compare_tree(o, t, str(case["spec"]))


def test_reference_files_load_alike(oracle, shared_data):
    """The binning YAML files written by the reference give the same numbering."""
    files = sorted(shared_data.rglob("*.yml"))
    assert files
    cases = [{"path": str(f)} for f in files]
    ours, theirs = run_both(oracle, sb.load_file, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        assert o == t, case


def test_reference_files_fill_alike(oracle, shared_data):
    """Random events filled into the binnings of the reference's example files."""
    files = sorted(shared_data.rglob("*.yml"))
    structures = run_ours(sb.load_file, [{"path": str(f)} for f in files])
    cases = []
    for i, (f, st_) in enumerate(zip(files, structures, strict=True)):
        ensure_ok(st_, "ours", f)
        rng = np.random.default_rng(i)
        names = st_["all_variables"]
        n = 1500
        events = np.zeros(n, dtype=[(v, float) for v in names])
        for v in names:
            small = np.round(rng.normal(0.0, 3.0, n) * 4) / 4  # often on an edge
            large = rng.uniform(-10.0, 300.0, n)
            events[v] = np.where(rng.random(n) < 0.7, small, large)
        weights = np.round(rng.uniform(0.5, 1.5, n), 3)
        cases.append({"path": str(f), "events": events, "weights": weights})
    ours, theirs = run_both(oracle, sb.fill_file, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case["path"])
        ensure_ok(o, "ours", case["path"])
        assert o["entries"].sum() > 0, case["path"]
        _assert_fill_equal(o, t, case["path"])


def test_csv_filling_matches_reference(oracle, tmp_path):
    rng = np.random.default_rng(11)
    paths = []
    for k in range(2):
        path = tmp_path / f"events{k}.csv"
        rows = ["a, y ,w"]  # blanks around names are stripped
        rows.extend(
            f"{rng.normal(1.0, 1.5):.4f},{rng.uniform(-1, 6):.3f},{rng.uniform(0.5, 2):.3f}"
            for _ in range(300)
        )
        path.write_text("\n".join(rows) + "\n")
        paths.append(str(path))
    spec = {
        "kind": "rectilinear",
        "variables": ["x", "y"],
        "edges": [[-1.0, 0.0, 1.0, 2.5, 4.0], [-1.0, 2.0, 6.0]],
        "subbinnings": {"2": {"kind": "linear", "variable": "y", "edges": [-1.0, 0.0, 6.0]}},
    }
    rename = {"a": "x"}
    cases = [
        {"spec": spec, "files": paths[0], "kwargs": {"rename": rename}},
        {"spec": spec, "files": paths[0], "kwargs": {"rename": rename, "weightfield": "w"}},
        {
            "spec": spec,
            "files": paths,
            "kwargs": {"rename": rename, "weightfield": "w", "weight": [0.5, 2.0]},
        },
        {"spec": spec, "files": paths, "kwargs": {"rename": rename, "weight": 3.0}},
        {"spec": spec, "files": paths[1], "kwargs": {"rename": rename}, "cut": "positive_x"},
        {
            "spec": spec,
            "files": paths[1],
            "kwargs": {"rename": rename, "buffer_csv_files": True, "chunksize": 7},
            "twice": True,
        },
    ]
    ours, theirs = run_both(oracle, sb.fill_csv, cases)
    for case, o, t in zip(cases, ours, theirs, strict=True):
        ensure_ok(t, "remu 0.8.0", case)
        ensure_ok(o, "ours", case)
        assert t["entries"].sum() > 0
        _assert_fill_equal(o, t, repr(case))
