"""The documented behaviour of remu.binning and remu.yaml, example by example.

The tests are grouped by class and concern (the first word after ``test_`` names
the group). The group near the end checks the behaviour remu chose where ReMU
0.8.0 behaves oddly; that is not necessarily ReMU's own behaviour. Where remu
deliberately differs, the test name carries the row id of docs/differences.md
(``test_d22_...``); the others reproduce ReMU.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml
from numpy.testing import assert_array_equal

import remu.binning
import remu.yaml
from extras import require
from numeric_asserts import assert_allclose
from remu import binning as bn
from remu.binning import (
    Bin,
    Binning,
    CartesianProductBin,
    CartesianProductBinning,
    LinearBinning,
    PhaseSpace,
    RectangularBin,
    RectangularBinning,
    RectilinearBinning,
)
from untagged_yaml import UntaggedLoader

INF = float("inf")


def _as_lists(arrays):
    return [np.asarray(a).tolist() for a in arrays]


def _untagged(text):
    return yaml.load(text, Loader=UntaggedLoader)


# ---------------------------------------------------------------------------
# public names and class hierarchy


def test_api_public_names_and_hierarchy():
    for name in (
        "PhaseSpace",
        "Bin",
        "RectangularBin",
        "CartesianProductBin",
        "Binning",
        "RectangularBinning",
        "CartesianProductBinning",
        "LinearBinning",
        "RectilinearBinning",
        "mapper",
        "yaml",
    ):
        assert hasattr(bn, name), name
    assert bn.yaml is remu.yaml
    assert bn.mapper is map
    assert issubclass(RectangularBin, Bin)
    assert issubclass(CartesianProductBin, Bin)
    for cls in (RectangularBinning, LinearBinning, CartesianProductBinning):
        assert issubclass(cls, Binning)
    assert issubclass(RectilinearBinning, CartesianProductBinning)
    for cls in (PhaseSpace, Bin, Binning):
        assert issubclass(cls, yaml.YAMLObject)
    assert not issubclass(LinearBinning, CartesianProductBinning)
    assert not issubclass(RectangularBinning, CartesianProductBinning)


# ---------------------------------------------------------------------------
# remu.yaml


def test_yaml_module_reexports_pyyaml():
    for name in ("load", "safe_load", "YAMLObject", "FullLoader", "Dumper"):
        assert getattr(remu.yaml, name) is getattr(yaml, name)
    # full_load/dump are libyaml-backed twins of PyYAML's (tests/test_yaml_fast.py)
    for name in ("dump", "full_load"):
        assert callable(getattr(remu.yaml, name))
    public = {n for n in dir(yaml) if not n.startswith("_")}
    assert public <= set(dir(remu.yaml))


def test_yaml_module_numpy_scalar_representer():
    text = yaml.dump({"a": np.float64(1.5), "b": np.int64(3), "c": np.bool_(True)})
    assert text == "a: 1.5\nb: 3\nc: true\n"
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump({"a": np.float64(1.5)})


def test_yaml_module_full_load_variants_read_remu_tags():
    text = "!LinearBinning {variable: x, bin_edges: [0, 1, 2]}"
    expected = LinearBinning("x", [0, 1, 2])
    assert yaml.full_load(text) == expected
    assert yaml.load(text, Loader=yaml.FullLoader) == expected
    assert bn.yaml.full_load(text) == expected


def test_yaml_module_safe_dump_of_binning_refused():
    with pytest.raises(yaml.representer.RepresenterError):
        yaml.safe_dump(LinearBinning("x", [0, 1, 2]))


# ---------------------------------------------------------------------------
# shared storage


def test_storage_bins_passed_to_binning_are_kept_and_linked():
    b0 = RectangularBin(["x"], [(0, 1)], value=7.0)
    b1 = RectangularBin(["x"], [(1, 2)])
    binning = Binning(bins=[b0, b1])
    assert binning.bins[0] is b0
    assert b0.value == 0.0  # old content discarded
    binning.fill({"x": 0.5}, weight=2.0)
    assert b0.value == 2.0
    assert b0.entries == 1
    b1.fill(3.0)
    assert_array_equal(binning.get_values_as_ndarray(), [2.0, 3.0])


def test_storage_constructor_arrays_are_not_copied():
    v = np.zeros(2)
    e = np.zeros(2, dtype=int)
    s = np.zeros(2)
    lb = LinearBinning("x", [0, 1, 2], value_array=v, entries_array=e, sumw2_array=s)
    assert lb.value_array is v
    lb.fill({"x": 1.5}, weight=2.0)
    assert_array_equal(v, [0.0, 2.0])
    assert_array_equal(e, [0, 1])
    assert_array_equal(s, [0.0, 4.0])


def test_storage_data_array_dtypes():
    lb = LinearBinning("x", [0, 1, 2])
    assert lb.value_array.dtype == np.float64
    assert lb.entries_array.dtype.kind == "i"
    assert lb.sumw2_array.dtype == np.float64
    b = Bin(phasespace=PhaseSpace(["x"]))
    assert b.value_array.shape == (1,)


def test_storage_subbinning_bin_shows_first_element():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={1: LinearBinning("y", [0, 1, 2])})
    lb.set_values_from_ndarray([1.0, 2.0, 3.0])
    assert lb.bins[1].value == 2.0
    lb.bins[1].fill(10.0)
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 12.0, 3.0])
    assert_array_equal(lb.subbinnings[1].get_values_as_ndarray(), [12.0, 3.0])


def test_storage_dummies():
    lb = LinearBinning("x", [0, 1, 2], dummy=True)
    assert lb.is_dummy()
    assert lb.value_array is None
    assert lb.entries_array is None
    assert lb.sumw2_array is None
    b = Bin(phasespace=PhaseSpace(["x"]), dummy=True)
    assert b.is_dummy()
    assert not hasattr(b, "value_array")
    with pytest.raises(AttributeError):
        _ = b.value
    # Linking a dummy into a parent makes it a non-dummy.
    sub = LinearBinning("y", [0, 1, 2], dummy=True)
    parent = LinearBinning("x", [0, 1, 2], subbinnings={0: sub})
    assert not parent.subbinnings[0].is_dummy()


# ---------------------------------------------------------------------------
# PhaseSpace


def test_phasespace_example():
    a = PhaseSpace(["x"])
    ab = PhaseSpace(["x", "y"])
    assert a < ab
    assert ab >= a
    assert not (a < a.clone())
    assert (a * PhaseSpace(["y"])) == ab
    assert (ab / a) == PhaseSpace(["y"])
    assert "y" in ab
    assert len(ab) == 2


def test_phasespace_table():
    ps = PhaseSpace("abc")
    assert ps.variables == {"a", "b", "c"}
    x = PhaseSpace(["x"])
    xy = PhaseSpace(["y", "x"])
    assert xy == PhaseSpace(["x", "y"])
    assert xy != x
    assert x <= xy
    assert x <= x.clone()
    assert xy >= xy.clone()
    assert xy > x
    assert not (x > x.clone())
    y = x
    x *= PhaseSpace(["z"])
    assert x == PhaseSpace(["x", "z"])
    assert y == PhaseSpace(["x"])  # *= rebinds, does not mutate
    with pytest.raises(TypeError):
        hash(xy)
    c = xy.clone()
    assert c == xy
    assert c is not xy
    c.variables.add("q")
    assert "q" not in xy
    assert str(PhaseSpace(["x"])) == "('x')"
    assert str(PhaseSpace([])) == "('')"
    assert str(xy) in ("('x' X 'y')", "('y' X 'x')")
    assert eval(repr(xy), {"PhaseSpace": PhaseSpace}) == xy
    assert repr(PhaseSpace(["x"])) == "PhaseSpace(variables={'x'})"


def test_phasespace_yaml():
    text = yaml.dump(PhaseSpace(["x", "y"]))
    assert text.startswith("!PhaseSpace")
    assert yaml.full_load(text) == PhaseSpace(["x", "y"])
    assert yaml.dump(PhaseSpace([])).strip() == "!PhaseSpace []"
    assert yaml.full_load("!PhaseSpace\n- y\n- x\n") == PhaseSpace(["x", "y"])


# ---------------------------------------------------------------------------
# Bin


def test_bin_example():
    ps = PhaseSpace(["x"])
    b = Bin(phasespace=ps, value=2.0)
    assert b.sumw2 == 4.0
    b.fill([1.0, 1.0])
    assert b.value == 4.0
    assert b.entries == 2
    assert b.sumw2 == 6.0
    assert (b + b).entries == 4
    assert (b - b).entries == 2


def test_bin_fill_sequence():
    b = Bin(phasespace=PhaseSpace(["x"]))
    assert b.fill() is None
    b.fill(0.5)
    b.fill([0.5, 0.5, 0.5])
    assert b.value == 3.0
    assert b.entries == 5
    assert b.sumw2 == 2.0


def test_bin_scalars_and_cast():
    b = Bin(phasespace=PhaseSpace(["x"]))
    assert isinstance(b.value, np.floating)
    assert isinstance(b.entries, np.integer)
    b.entries = 2.7
    assert b.entries == 2
    b.value = 1.5
    assert b.value_array[0] == 1.5


def test_bin_constructor_and_kwargs():
    ps = PhaseSpace(["x"])
    with pytest.raises(TypeError, match="Undefined phase space"):
        Bin()
    with pytest.raises(TypeError, match="Undefined phase space"):
        Bin(phasespace=None)
    with pytest.raises(TypeError, match="Unknown kwargs"):
        Bin(phasespace=ps, dummy=True, value=3)
    with pytest.raises(TypeError, match="Unknown kwargs"):
        Bin(phasespace=ps, foo=1)
    b = Bin(phasespace=ps, value=1.0, entries=3, sumw2=0.5)
    assert (b.value, b.entries, b.sumw2) == (1.0, 3, 0.5)
    arr = np.array([5.0, 6.0])
    b = Bin(phasespace=ps, value_array=arr)
    assert b.value == 5.0
    assert b.sumw2 == 25.0  # default sumw2 is the current value squared
    b.fill(1.0)
    assert arr[0] == 6.0  # not copied
    d = Bin(phasespace=ps, dummy=True, value_array=arr)  # arrays dropped silently
    assert d.is_dummy()


def test_bin_event_in_bin_abstract():
    b = Bin(phasespace=PhaseSpace(["x"]))
    with pytest.raises(NotImplementedError):
        b.event_in_bin({"x": 1})
    with pytest.raises(NotImplementedError):
        _ = {"x": 1} in b


def test_bin_clone_and_eq_and_arithmetic():
    ps = PhaseSpace(["x"])
    a = Bin(phasespace=ps, value=6.0, entries=3, sumw2=10.0)
    b = Bin(phasespace=ps, value=2.0, entries=1, sumw2=1.0)
    c = a.clone()
    assert c == a
    c.fill(1.0)
    assert a.value == 6.0  # deep copy of the arrays
    assert a.clone(dummy=True).is_dummy()
    assert a == b  # values ignored
    assert a != Bin(phasespace=PhaseSpace(["y"]))
    assert a != RectangularBin(["x"], [(0, 1)])  # type compared
    with pytest.raises(TypeError):
        hash(a)
    s = a + b
    assert (s.value, s.entries, s.sumw2) == (8.0, 4, 11.0)
    d = a - b
    assert (d.value, d.entries, d.sumw2) == (4.0, 3, 10.0)
    m = a * b
    assert (m.value, m.entries, m.sumw2) == (12.0, 3, 10.0)
    q = a / b
    assert (q.value, q.entries, q.sumw2) == (3.0, 3, 10.0)
    assert a.value == 6.0  # operands untouched
    assert type(s) is Bin


def test_bin_yaml():
    b = Bin(phasespace=PhaseSpace(["x"]), value=3.0)
    text = yaml.dump(b)
    assert text.startswith("!Bin")
    assert "3.0" not in text  # values never written
    assert "dummy" not in text
    loaded = yaml.full_load(text)
    assert loaded == b
    assert loaded.value == 0.0
    assert "dummy: true" in yaml.dump(b.clone(dummy=True))


# ---------------------------------------------------------------------------
# RectangularBin


def test_rectangular_bin_example():
    b = RectangularBin(["x", "y"], [(0, 1), (5, float("inf"))])
    assert {"x": 0.0, "y": 10} in b
    assert {"x": 1.0, "y": 10} not in b
    b.include_upper = True
    assert {"x": 1.0, "y": 10} in b
    assert list(b.get_center()) == [0.5, INF]


def test_rectangular_bin_construction():
    b = RectangularBin(["x", "y"], [[0, 1], [np.float64(0.5), 2]])
    assert b.variables == ("x", "y")
    assert b.edges == ((0, 1), (0.5, 2))
    assert type(b.edges[0][0]) is int
    assert isinstance(b.edges[1][0], np.float64)
    assert b.include_lower is True
    assert b.include_upper is False
    assert b.phasespace == PhaseSpace(["x", "y"])
    b = RectangularBin(["x"], [(0, 1), (7, 8)])  # extra edge pairs ignored
    assert b.variables == ("x",)
    assert RectangularBin(["x"], [(1, 1)]).edges == ((1, 1),)  # lo == hi allowed
    assert RectangularBin(["x"], [(0, 1)], include_lower=0, include_upper=1).include_upper is True


@pytest.mark.parametrize(
    ("lower", "upper", "inside"),
    [
        (True, False, [True, True, False]),
        (False, True, [False, True, True]),
        (True, True, [True, True, True]),
        (False, False, [False, True, False]),
    ],
)
def test_rectangular_bin_include_flags(lower, upper, inside):
    b = RectangularBin(["x"], [(0, 1)], include_lower=lower, include_upper=upper)
    assert [{"x": v} in b for v in (0, 0.5, 1)] == inside
    assert {"x": -0.1} not in b
    assert {"x": 1.1} not in b


def test_rectangular_bin_stops_at_first_failing_variable_and_nan():
    b = RectangularBin(["x", "y"], [(0, 1), (0, 1)])
    assert not b.event_in_bin({"x": 5.0})  # "y" never looked up
    with pytest.raises(KeyError):
        b.event_in_bin({"x": 0.5})
    assert b.event_in_bin({"x": math.nan, "y": math.nan})  # NaN passes every comparison, as in ReMU
    inf_bin = RectangularBin(["x"], [(-INF, 0)])
    assert {"x": -INF} in inf_bin


def test_rectangular_bin_centers():
    assert_array_equal(RectangularBin(["x", "y"], [(0, 1), (2, 6)]).get_center(), [0.5, 4.0])
    c = RectangularBin(["x", "y"], [(-INF, 0), (-INF, INF)]).get_center()
    assert c[0] == -INF
    assert np.isnan(c[1])


def test_rectangular_bin_eq_and_clone():
    a = RectangularBin(["x", "y"], [(0, 1), (2, 3)])
    b = RectangularBin(["y", "x"], [(2.0, 3.0), (0.0, 1.0)])
    assert a == b
    assert a != RectangularBin(["x", "y"], [(0, 1), (2, 4)])
    assert a != RectangularBin(["x", "y"], [(0, 1), (2, 3)], include_upper=True)
    assert a != RectangularBin(["x", "y"], [(0, 1), (2, 3)], include_lower=False)
    assert RectangularBin(["x"], [(0, 1)]).clone(edges=[(2, 3)]).edges == ((2, 3),)
    c = a.clone()
    assert c == a
    assert c.include_lower is True


def test_rectangular_bin_validation():
    with pytest.raises(ValueError, match="Variable not part of PhaseSpace: y"):
        RectangularBin(["x", "y"], [(0, 1), (0, 1)], phasespace=PhaseSpace(["x"]))
    with pytest.raises(ValueError, match="Upper edge is smaller than lower edge for variable x"):
        RectangularBin(["x"], [(1, 0)])
    with pytest.raises(ValueError):
        RectangularBin(["x"], [(0, 1, 2)])
    with pytest.raises(IndexError):
        RectangularBin(["x", "y"], [(0, 1)])


def test_rectangular_bin_yaml_dump_and_load():
    b = RectangularBin(["x", "y"], [(0.0, 1.0), (5.0, INF)])
    text = yaml.dump(b)
    assert text.startswith("!RectangularBin")
    data = _untagged(text)
    assert data["__tag__"] == "RectangularBin"
    assert data["edges"] == [[0.0, 1.0], [5.0, INF]]
    assert data["include_lower"] is True
    assert data["include_upper"] is False
    assert data["variables"] == ["x", "y"]
    assert sorted(data["phasespace"]) == ["x", "y"]
    assert "dummy" not in data
    assert yaml.full_load(text) == b


# ---------------------------------------------------------------------------
# CartesianProductBin


def _three_binnings():
    return [
        LinearBinning("x", [0, 1, 2]),
        LinearBinning("y", [0, 1, 2]),
        LinearBinning("z", [0, 1, 2]),
    ]


def test_cartesian_product_bin():
    bx, by, bz = _three_binnings()
    b = CartesianProductBin([bx, by, bz], [0, 1, 0])
    assert b.binnings == (bx, by, bz)
    assert b.data_indices == (0, 1, 0)
    assert b.phasespace == PhaseSpace(["x", "y", "z"])
    assert {"x": 0.5, "y": 1.5, "z": 0.5} in b
    assert {"x": 0.5, "y": 0.5, "z": 0.5} not in b
    marg = b.get_marginal_bins()
    assert len(marg) == 3
    assert [m.edges for m in marg] == [((0.0, 1.0),), ((1.0, 2.0),), ((0.0, 1.0),)]
    subs = b.get_marginal_subbins()
    assert [len(s) for s in subs] == [1, 1, 1]
    assert subs[1][0] == by.bins[1]
    assert CartesianProductBin([], []).event_in_bin({})
    with pytest.raises(TypeError, match="Undefined phase space"):
        CartesianProductBin([bx], [0], phasespace=None)


def test_cartesian_bin_marginal_subbins_with_subbinnings():
    by = LinearBinning("y", [0, 1, 2], subbinnings={1: LinearBinning("z", [0, 1, 2])})
    bx = LinearBinning("x", [0, 1, 2])
    b = CartesianProductBin([bx, by], [1, 2])
    sub = b.get_marginal_subbins()
    assert len(sub[1]) == 2
    assert sub[1][0].edges == ((1.0, 2.0),)
    assert sub[1][1].edges == ((1.0, 2.0),)
    assert sub[1][1].variables == ("z",)
    assert b.get_marginal_bins()[1].variables == ("y",)


def test_cartesian_bin_eq_order_independent_and_yaml():
    bx, by, _ = _three_binnings()
    a = CartesianProductBin([bx, by], [0, 1])
    b = CartesianProductBin([by, bx], [1, 0])
    assert a == b
    assert a != CartesianProductBin([bx, by], [1, 1])
    text = yaml.dump(a)
    assert text.startswith("!CartesianProductBin")
    assert "dummy: true" in text  # constituents are dumped as dummies
    loaded = yaml.full_load(text)
    assert loaded == a
    assert loaded.data_indices == (0, 1)
    c = CartesianProductBin([bx, by], [np.int64(0), np.int64(1)])
    assert "!!python" not in yaml.dump(c)


# ---------------------------------------------------------------------------
# Binning construction and the bins sequence


def test_binning_construction():
    lb = LinearBinning("y", [0, 1, 2, 3])
    b = Binning(
        bins=[RectangularBin(["x"], [(0, 1)]), RectangularBin(["x"], [(1, 2)])],
        subbinnings={1: lb},
    )
    assert b.nbins == 2
    assert b.data_size == 4
    assert b.phasespace == PhaseSpace(["x", "y"])  # generic Binning includes sub variables
    assert isinstance(b.bins, tuple)
    assert b.subbinnings[1] is lb
    assert b.value_array.shape == (4,)
    assert np.shares_memory(lb.value_array, b.value_array)
    d = Binning(bins=[RectangularBin(["x"], [(0, 1)])], dummy=True, value_array=np.zeros(1))
    assert d.value_array is None


def test_binning_out_of_range_subbinning_key_counts():
    b = LinearBinning("x", [0, 1, 2], subbinnings={5: LinearBinning("y", [0, 1, 2])})
    assert b.data_size == 3


def test_binning_link_arrays_after_replacing():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={0: LinearBinning("y", [0, 1, 2])})
    lb.value_array = np.array([1.0, 2.0, 3.0])
    lb.link_arrays()
    assert_array_equal(lb.subbinnings[0].get_values_as_ndarray(), [1.0, 2.0])
    assert lb.bins[1].value == 3.0


def test_binning_lazy_bins():
    lb = LinearBinning("x", [0, 1, 2, 3])
    assert len(lb.bins) == 3
    assert [b.edges for b in lb.bins] == [((0.0, 1.0),), ((1.0, 2.0),), ((2.0, 3.0),)]
    assert lb.bins[0] is not lb.bins[0]
    lb.bins[2].fill(2.0)
    assert_array_equal(lb.get_values_as_ndarray(), [0, 0, 2.0])
    assert isinstance(lb.bins[0].edges[0][0], np.float64)
    with pytest.raises(IndexError):
        lb.bins[3]
    assert lb.bins == LinearBinning("x", [0, 1, 2, 3]).bins
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    assert type(rl.bins[1]) is RectangularBin
    assert rl.bins[1].edges == ((1, 2), (0, 1))
    cp = CartesianProductBinning([lb.clone(dummy=True), lb.clone(dummy=True)])
    assert type(cp.bins[4]) is CartesianProductBin
    assert cp.bins[4].data_indices == (1, 1)
    # bins of a dummy LinearBinning have their own storage
    dl = LinearBinning("x", [0, 1, 2], dummy=True)
    assert not dl.bins[0].is_dummy()


# ---------------------------------------------------------------------------
# data-index arithmetic


def test_data_index_example():
    lb = LinearBinning(
        "x",
        [0, 1, 2, 3, 4],
        subbinnings={
            1: LinearBinning("y", [0, 1, 2, 3]),
            2: LinearBinning("z", [0, 1, 2]),
        },
    )
    assert lb.data_size == 7
    assert [lb.get_bin_data_index(i) for i in range(4)] == [0, 1, 4, 6]
    assert [lb.get_data_bin_index(d) for d in range(7)] == [0, 1, 1, 1, 2, 2, 3]
    assert lb.get_bin_data_index(None) is None
    assert lb.get_data_bin_index(None) is None


# ---------------------------------------------------------------------------
# look-ups


def _nested_example():
    def pair():
        return (
            RectangularBin(["x", "y"], [(0, 1), (5, INF)]),
            RectangularBin(["x", "y"], [(1, 2), (5, INF)]),
        )

    binning = Binning(pair())
    binning1 = Binning(pair(), subbinnings={0: binning})
    binning2 = Binning(pair(), subbinnings={0: binning1})
    return binning, binning1, binning2


def test_lookup_example():
    binning, binning1, binning2 = _nested_example()
    assert binning2.data_size == 4
    b0, b1 = binning.bins
    expected = [(b0, b0, b0), (b0, b0, b1), (b0, b1), (b1,)]
    got = list(binning2.iter_subbins())
    assert len(got) == 4
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e)
        for gb, eb in zip(g, e, strict=True):
            assert gb == eb
            assert gb.edges == eb.edges
    event = {"x": 1, "y": 10}
    assert binning.get_event_data_index(event) == 1
    assert binning1.get_event_data_index(event) == 2
    assert binning2.get_event_data_index(event) == 3
    assert binning2.get_event_bin_index(event) == 1
    assert binning2.get_event_bin(event).edges == ((1, 2), (5, INF))
    sub = binning2.get_event_subbins({"x": 0.5, "y": 6})
    assert [s.edges for s in sub] == [((0, 1), (5, INF))] * 3
    assert binning2.get_event_subbins({"x": 0.5, "y": 0}) is None
    assert binning2.get_event_bin({"x": 0.5, "y": 0}) is None
    assert event in binning2
    assert binning2.event_in_binning(event)
    assert {"x": 5, "y": 10} not in binning2


def test_lookup_overlapping_first_match():
    b = Binning([RectangularBin(["x"], [(0, 2)]), RectangularBin(["x"], [(1, 3)])])
    assert b.get_event_bin_index({"x": 1.5}) == 0
    assert b.get_event_bin_index({"x": 2.5}) == 1


# ---------------------------------------------------------------------------
# adjacency


def test_adjacency_example():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={0: LinearBinning("y", [0, 1, 2])})
    assert _as_lists(lb.get_adjacent_bin_indices()) == [[1], [0]]
    assert _as_lists(lb.get_adjacent_data_indices()) == [[1], [0], []]
    for a in lb.get_adjacent_data_indices():
        assert a.dtype.kind == "i"


def test_adjacency_generic_binning_has_no_neighbours():
    b = Binning([RectangularBin(["x"], [(0, 1)]), RectangularBin(["x"], [(1, 2)])])
    adj = b.get_adjacent_bin_indices()
    assert len(adj) == 2
    assert all(len(a) == 0 for a in adj)


# ---------------------------------------------------------------------------
# fill


def test_fill_example():
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill({"x": 0.5})
    lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[2.0, 3.0])
    arr = np.array([(0.2,), (7.0,)], dtype=[("x", float)])
    lb.fill(arr)
    lb.fill([{"t": 1.2}], rename={"t": "x"})
    assert_array_equal(lb.get_values_as_ndarray(), [4.0, 4.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [3, 2])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [6.0, 10.0])


def test_fill_input_kinds():
    pd = require("pandas", "pandas")
    lb = LinearBinning("x", [0, 1, 2])
    assert lb.fill([]) is None
    lb.fill(np.array([], dtype=[("x", float)]))
    assert lb.get_entries_as_ndarray().sum() == 0
    rec = np.array([(0.5,), (1.5,)], dtype=[("x", float)])
    lb.fill(rec[0])  # a single np.void record
    lb.fill(rec.reshape(2, 1))  # N-D structured array, flattened
    lb.fill(({"x": 1.5},))  # a tuple of mappings
    lb.fill(pd.DataFrame({"x": [0.5, 1.5, 9.0]}), weight=pd.Series([1.0, 2.0, 3.0]))
    assert_array_equal(lb.get_entries_as_ndarray(), [3, 3])
    assert_array_equal(lb.get_values_as_ndarray(), [3.0, 4.0])
    lb.fill({"x": 0.5}, weight=[3.0])
    assert lb.get_values_as_ndarray()[0] == 6.0
    lb.fill({"x": 0.5}, weight=np.float64(2.0))  # 0-d weight is a scalar
    assert lb.get_values_as_ndarray()[0] == 8.0


def test_fill_raise_error_is_atomic():
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match="Event not part of binning"):
        lb.fill([{"x": 0.5}, {"x": 5.0}], raise_error=True)
    assert lb.get_entries_as_ndarray().sum() == 0
    lb.fill([{"x": 0.5}, {"x": 5.0}])
    assert lb.get_entries_as_ndarray().sum() == 1


def test_fill_weight_length_mismatch():
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match="Different length of event and weight lists"):
        lb.fill({"x": 0.5}, weight=[1, 2])
    assert lb.get_entries_as_ndarray().sum() == 0


def test_fill_negative_and_fractional_weights():
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5}, {"x": 0.5}], weight=[-1.5, 0.25])
    assert_allclose(lb.get_values_as_ndarray(), [-1.25, 0.0])
    assert_allclose(lb.get_sumw2_as_ndarray(), [2.3125, 0.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 0])


def test_fill_structured_rename_leaves_input():
    rec = np.array([(0.5,)], dtype=[("t", float)])
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill(rec, rename={"t": "x", "absent": "y"})
    assert rec.dtype.names == ("t",)
    assert lb.get_entries_as_ndarray()[0] == 1


def test_fill_dummy():
    d = LinearBinning("x", [0, 1, 2], dummy=True)
    d.fill(
        {"x": 5.0}
    )  # outside: ignored, as in ReMU (only events in a bin touch the missing arrays)
    with pytest.raises(TypeError):
        d.fill({"x": 0.5})


def test_fill_data_index():
    lb = LinearBinning("x", [0, 1, 2, 3])
    lb.fill_data_index(1)
    lb.fill_data_index(1, 2.0)
    lb.fill_data_index(-1, [1.0, 3.0])
    assert_array_equal(lb.get_values_as_ndarray(), [0.0, 3.0, 4.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 2, 2])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [0.0, 5.0, 10.0])
    with pytest.raises(IndexError):
        lb.fill_data_index(3)


# ---------------------------------------------------------------------------
# CSV


def test_csv_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.csv").write_text("x,y,w\n0.5,10,2\n1.5,10,1\n")
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill_from_csv_file("file.csv", weightfield="w", weight=0.5)
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 0.5])
    lb.fill_from_csv_file(["file.csv", "file.csv"], weight=[1.0, 10.0])
    assert_array_equal(lb.get_values_as_ndarray(), [12.0, 11.5])
    assert_array_equal(lb.get_entries_as_ndarray(), [3, 3])


def test_csv_format_details(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text(" x , y \n 0.5 , 3\n1.5,4 \n")
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill_from_csv_file(str(f))
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])
    h = tmp_path / "h.csv"
    h.write_text("x,y\n")
    lb.fill_from_csv_file(str(h))
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])


def test_csv_multiple_binnings_rename_cut_chunks(tmp_path):
    from numpy.lib import recfunctions as rfn

    f = tmp_path / "f.csv"
    rows = "\n".join(f"{(i % 4) * 0.5},{i % 3}" for i in range(25))
    f.write_text("a,b\n" + rows + "\n")
    a = np.array([(i % 4) * 0.5 for i in range(25)])
    b = np.array([i % 3 for i in range(25)], dtype=float)
    lx = LinearBinning("x", [0, 1, 2])
    ly = LinearBinning("y", [0, 1, 2, 3])

    def cut(data):
        data = data[data["x"] < 1.4]
        return rfn.append_fields(data, "double", data["x"] * 2, usemask=False)

    Binning.fill_multiple_from_csv_file(
        [lx, ly], str(f), weightfield="double", rename={"a": "x", "b": "y"},
        cut_function=cut, chunksize=4,
    )  # fmt: skip
    keep = a < 1.4
    wx = np.bincount(np.searchsorted([0, 1, 2], a[keep], side="right") - 1, 2 * a[keep], 2)
    assert_allclose(lx.get_values_as_ndarray(), wx)
    wy = np.bincount(b[keep].astype(int), 2 * a[keep], 3)
    assert_allclose(ly.get_values_as_ndarray(), wy)
    assert ly.get_entries_as_ndarray().sum() == keep.sum()


def test_csv_buffer(tmp_path):
    f = tmp_path / "buffered.csv"
    f.write_text("x\n0.5\n")
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill_from_csv_file(str(f), buffer_csv_files=True)
    f.write_text("x\n1.5\n1.5\n")
    lb.fill_from_csv_file(str(f), buffer_csv_files=True)
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 0])  # cached content reused
    lb.fill_from_csv_file(str(f))  # unbuffered: reads the file again
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 2])


def test_csv_raise_error_kwarg(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text("x\n0.5\n7\n")
    lb = LinearBinning("x", [0, 1, 2])
    with pytest.raises(ValueError, match="Event not part of binning"):
        lb.fill_from_csv_file(str(f), raise_error=True)


# ---------------------------------------------------------------------------
# arrays


def test_arrays_example():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2, 3, 4]])
    rl.bins[5].fill([0.5, 0.5])
    assert rl.get_values_as_ndarray().shape == (8,)
    assert rl.get_values_as_ndarray((2, 4))[1, 1] == 1.0
    assert_array_equal(rl.get_entries_as_ndarray(indices=[5, 0]), [2, 0])
    rl.set_values_from_ndarray(np.zeros((2, 4)))
    assert_array_equal(rl.get_values_as_ndarray(), np.zeros(8))
    assert rl.get_entries_as_ndarray()[5] == 2


def test_arrays_getters_copy_and_indices():
    lb = LinearBinning("x", [0, 1, 2, 3])
    lb.set_values_from_ndarray([1.0, 2.0, 3.0])
    v = lb.get_values_as_ndarray()
    v[0] = 99.0
    assert lb.value_array[0] == 1.0
    assert lb.get_values_as_ndarray(indices=1).shape == (1,)
    assert_array_equal(lb.get_values_as_ndarray(indices=slice(1, None)), [2.0, 3.0])
    assert_array_equal(lb.get_values_as_ndarray(indices=[True, False, True]), [1.0, 3.0])
    assert lb.get_values_as_ndarray(shape=(-1, 1)).shape == (3, 1)
    assert lb.get_entries_as_ndarray().dtype.kind == "i"
    with pytest.raises(ValueError):
        lb.get_values_as_ndarray(shape=(2, 2))
    d = lb.clone(dummy=True)
    with pytest.raises(TypeError):
        d.get_values_as_ndarray()


def test_arrays_setters_and_reset():
    lb = LinearBinning("x", [0, 1, 2, 3], subbinnings={0: LinearBinning("y", [0, 1, 2])})
    lb.set_values_from_ndarray(np.arange(4.0).reshape(2, 2))
    assert_array_equal(lb.get_values_as_ndarray(), [0, 1, 2, 3])
    assert_array_equal(lb.subbinnings[0].get_values_as_ndarray(), [0, 1])
    lb.set_entries_from_ndarray([1.7, 2.2, 3.9, 4.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 2, 3, 4])
    lb.set_sumw2_from_ndarray(5.0)  # scalar broadcast
    assert_array_equal(lb.get_sumw2_as_ndarray(), [5.0] * 4)
    assert lb.reset() is None
    assert_array_equal(lb.get_values_as_ndarray(), np.zeros(4))
    assert_array_equal(lb.get_sumw2_as_ndarray(), np.zeros(4))
    lb.reset(value=1.0, entries=2, sumw2=3.0)
    assert_array_equal(lb.subbinnings[0].get_entries_as_ndarray(), [2, 2])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [3.0] * 4)
    d = lb.clone(dummy=True)
    with pytest.raises(AttributeError):
        d.reset()
    with pytest.raises(AttributeError):
        d.set_values_from_ndarray(np.zeros(4))


# ---------------------------------------------------------------------------
# subbinning manipulation


def _sub_example():
    lb = LinearBinning(
        "x",
        [0, 1, 2, 3],
        subbinnings={0: LinearBinning("y", [0, 1, 2]), 2: LinearBinning("z", [0, 1, 2, 3])},
    )
    lb.set_values_from_ndarray(np.arange(1.0, 7.0))  # [1 2 | 3 | 4 5 6]
    lb.set_entries_from_ndarray(np.arange(1, 7))
    lb.set_sumw2_from_ndarray(np.arange(1.0, 7.0) ** 2)
    return lb


def test_subbinnings_marginalize_subbinnings_on_ndarray():
    lb = _sub_example()
    arr = np.arange(1.0, 7.0)
    assert_array_equal(lb.marginalize_subbinnings_on_ndarray(arr), [3, 3, 15])
    assert_array_equal(lb.marginalize_subbinnings_on_ndarray(arr, [2]), [1, 2, 3, 15])
    assert_array_equal(lb.marginalize_subbinnings_on_ndarray(arr, [0]), [3, 3, 4, 5, 6])
    assert_array_equal(arr, np.arange(1.0, 7.0))
    with pytest.raises(ValueError, match="No subbinning at bin index 1"):
        lb.marginalize_subbinnings_on_ndarray(arr, [1])


def test_subbinnings_marginalize_subbinnings():
    lb = _sub_example()
    m = lb.marginalize_subbinnings()
    assert type(m) is LinearBinning
    assert m.subbinnings == {}
    assert_array_equal(m.get_values_as_ndarray(), [3, 3, 15])
    assert_array_equal(m.get_entries_as_ndarray(), [3, 3, 15])
    assert_array_equal(m.get_sumw2_as_ndarray(), [5, 9, 77])
    m2 = lb.marginalize_subbinnings([0])
    assert list(m2.subbinnings) == [2]
    assert_array_equal(m2.subbinnings[2].get_values_as_ndarray(), [4, 5, 6])
    assert_array_equal(lb.get_values_as_ndarray(), np.arange(1.0, 7.0))  # unchanged
    with pytest.raises(ValueError, match="No subbinning at bin index 1"):
        lb.marginalize_subbinnings([1])
    d = lb.clone(dummy=True).marginalize_subbinnings([1])
    assert d.is_dummy()


def test_subbinnings_insert_subbinning():
    lb = LinearBinning("x", [0, 1, 2, 3])
    lb.set_values_from_ndarray([1.0, 2.0, 3.0])
    sub = LinearBinning("y", [0, 1, 2])
    sub.set_values_from_ndarray([10.0, 20.0])
    new = lb.insert_subbinning(1, sub)
    assert new.subbinnings[1] is sub
    assert_array_equal(new.get_values_as_ndarray(), [1.0, 10.0, 20.0, 3.0])
    new.fill({"x": 1.5, "y": 0.5})
    assert sub.get_values_as_ndarray()[0] == 11.0  # re-linked to the new arrays
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Bin 1 already has a subbinning"):
        new.insert_subbinning(1, LinearBinning("z", [0, 1, 2]))
    arr = lb.insert_subbinning_on_ndarray(np.array([1.0, 2.0, 3.0]), 1, np.array([7.0, 8.0]))
    assert_array_equal(arr, [1.0, 7.0, 8.0, 3.0])


def test_subbinnings_round_trip():
    lb = _sub_example()
    for k in (0, 2):
        back = lb.marginalize_subbinnings([k]).insert_subbinning(k, lb.subbinnings[k].clone())
        assert back == lb
        assert back.get_values_as_ndarray().sum() == lb.get_values_as_ndarray().sum()
        assert_array_equal(back.get_values_as_ndarray(), lb.get_values_as_ndarray())


# ---------------------------------------------------------------------------
# equality, addition, clone


def test_binning_equality_and_add():
    bins = [RectangularBin(["x"], [(0, 1)]), RectangularBin(["x"], [(1, 2)])]
    b = Binning([x.clone() for x in bins])
    rb = RectangularBinning(["x"], [[(0, 1)], [(1, 2)]])
    assert rb == b  # a generic binning compares bins, not types
    assert b == rb
    assert b != Binning([bins[0].clone()])
    with pytest.raises(TypeError):
        hash(b)
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[1.0, 2.0])
    s = lb + lb
    assert type(s) is LinearBinning
    assert_array_equal(s.get_values_as_ndarray(), [2.0, 4.0])
    assert_array_equal(s.get_entries_as_ndarray(), [2, 2])
    assert_array_equal(s.get_sumw2_as_ndarray(), [2.0, 8.0])
    with pytest.raises(TypeError):
        sum([lb, lb])


def test_binning_clone():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={1: LinearBinning("y", [0, 1, 2])})
    lb.fill({"x": 1.5, "y": 0.5}, weight=2.0)
    c = lb.clone()
    assert c == lb
    assert not np.shares_memory(c.value_array, lb.value_array)
    assert_array_equal(c.get_values_as_ndarray(), lb.get_values_as_ndarray())
    assert np.shares_memory(c.subbinnings[1].value_array, c.value_array)
    d = lb.clone(dummy=True)
    assert d.is_dummy()
    assert d == lb
    z = d.clone(dummy=False)
    assert not z.is_dummy()
    assert_array_equal(z.get_values_as_ndarray(), np.zeros(3))
    moved = LinearBinning("x", [0, 1, 2]).clone(bin_edges=[0, 5, 10])
    assert_array_equal(moved.bin_edges, [0.0, 5.0, 10.0])
    with pytest.raises(TypeError):
        LinearBinning("x", [0, 1, 2]).clone(bin_edges=[0, 1, 2, 3])
    dc = copy.deepcopy(lb)
    assert dc == lb
    dc.fill({"x": 0.5})
    assert lb.get_entries_as_ndarray()[0] == 0


# ---------------------------------------------------------------------------
# RectangularBinning


def test_rectangular_binning_example():
    rb = RectangularBinning(["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3)), ((1, 2), (2, 3))])
    events = ({"x": 1, "y": 1}, {"x": 0, "y": 2}, {"x": 1, "y": 2})
    assert [rb.get_event_data_index(e) for e in events] == [0, 1, 2]
    assert rb.variables == ("x", "y")
    assert rb.nbins == 3
    assert all(type(b) is RectangularBin and b.include_lower for b in rb.bins)


def test_rectangular_binning_include_upper_and_bins_keyword():
    rb = RectangularBinning(["x"], [[(0, 1)], [(1, 2)]], include_upper=True)
    assert rb.get_event_data_index({"x": 1}) == 0
    assert rb.get_event_data_index({"x": 0}) is None
    assert rb.bins[0].include_lower is False
    with pytest.raises(TypeError):
        RectangularBinning(["x"], [[(0, 1)]], bins=[])
    with pytest.raises(ValueError, match="Upper edge is smaller"):
        RectangularBinning(["x"], [[(1, 0)]])


def test_rectangular_binning_yaml():
    rb = RectangularBinning(["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3))])
    text = yaml.dump(rb)
    assert text.startswith("!RectangularBinning")
    loaded = yaml.full_load(text)
    assert loaded == rb
    assert loaded.variables == ("x", "y")
    e = RectangularBinning(["x"], [[(np.float64(0), np.float64(1))]])
    assert "!!python" not in yaml.dump(e)
    assert yaml.full_load(yaml.dump(e)) == e


# ---------------------------------------------------------------------------
# CartesianProductBinning


def _product_example():
    x = LinearBinning("x", [0, 1, 2])
    y = LinearBinning("y", [0, 1, 2], subbinnings={0: LinearBinning("z", [0, 1, 2])})
    return CartesianProductBinning([x, y], subbinnings={2: LinearBinning("z", [0, 1, 2])})


def test_cartesian_construction():
    x = LinearBinning("x", [0, 1, 2])
    y = LinearBinning("y", [0, 1, 2, 3])
    cp = CartesianProductBinning([x, y])
    assert cp.binnings[0] is x
    assert cp.bins_shape == (2, 3)
    assert cp.nbins == 6
    cp.fill({"x": 0.5, "y": 0.5})
    assert x.get_entries_as_ndarray().sum() == 0  # constituents untouched
    assert CartesianProductBinning([]).nbins == 1
    with pytest.raises(TypeError, match="Cannot define bins of CartesianProductBinning"):
        CartesianProductBinning([x], bins=[1])


def test_cartesian_numbering_example():
    cp = _product_example()
    assert cp.bins_shape == (2, 3)
    assert cp.nbins == 6
    assert cp.data_size == 7
    tuples = [cp.get_bin_index_tuple(i) for i in range(6)]
    assert tuples == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert [cp.get_tuple_bin_index(t) for t in tuples] == list(range(6))
    events = [
        (0, 0, 0),
        (0, 0, 1),
        (0, 1, 0),
        (0, 1, 1),
        (1, 0, 0),
        (1, 0, 1),
        (1, 1, 0),
        (1, 1, 1),
    ]
    got = [cp.get_event_data_index({"x": x, "y": y, "z": z}) for x, y, z in events]
    assert got == [0, 1, 2, 3, 4, 5, 6, 6]
    assert cp.get_event_tuple({"x": 0, "y": 1, "z": 0}) == (0, 2)
    assert cp.get_bin_index_tuple(None) == (None, None)
    assert cp.get_bin_index_tuple(6) == (None, None)
    assert cp.get_bin_index_tuple(-1) == (None, None)
    assert cp.get_tuple_bin_index((0, None)) is None
    assert cp.get_event_bin_index({"x": 5, "y": 0, "z": 0}) is None
    assert cp.phasespace == PhaseSpace(
        ["x", "y"]
    )  # the subbinnings' variables are not added, as in ReMU
    b2 = cp.bins[2]
    assert b2.data_indices == (0, 2)
    assert b2.binnings[0] is cp.binnings[0]


def test_cartesian_adjacency():
    cp = _product_example()
    bins = _as_lists(cp.get_adjacent_bin_indices())
    assert bins == [[1, 3], [0, 4], [5], [0, 4], [1, 3], [2]]
    data = _as_lists(cp.get_adjacent_data_indices())
    assert len(data) == 7
    assert data[0] == [1, 4]
    assert data[2] == [3]
    assert data[3] == [2]
    assert data[6] == []


def test_cartesian_marginalize_example():
    bx = LinearBinning("x", [0, 1, 2], dummy=True)
    by = LinearBinning("y", [0, 1, 2, 3], dummy=True)
    cp = CartesianProductBinning([bx, by])
    cp.set_values_from_ndarray(np.arange(6.0))
    m = cp.marginalize(0)
    assert type(m) is CartesianProductBinning
    assert_array_equal(m.get_values_as_ndarray(), [3.0, 5.0, 7.0])
    assert m.subbinnings == {}
    p = cp.project(1)
    assert type(p) is LinearBinning
    assert p.variable == "y"
    assert_array_equal(p.get_values_as_ndarray(), [3.0, 5.0, 7.0])
    q = cp.project([0])
    assert type(q) is CartesianProductBinning
    assert_array_equal(q.get_values_as_ndarray(), [3.0, 12.0])
    assert_array_equal(cp.marginalize([0, 1]).get_values_as_ndarray(), [15.0])
    assert_array_equal(
        cp.marginalize(1, reduction_function=np.max).get_values_as_ndarray(), [2.0, 5.0]
    )
    assert_array_equal(cp.project(0, reduction_function=np.max).get_values_as_ndarray(), [2.0, 5.0])
    with pytest.raises(ValueError):
        cp.marginalize([0, 0])
    with pytest.raises(ValueError):
        cp.project([0, 5])


def test_cartesian_marginalize_sums_top_level_subbinnings():
    cp = _product_example()
    cp.set_values_from_ndarray(np.arange(7.0))
    # top-level subbinning on bin 2 (data 2, 3) is summed first: grid [[0,1,5],[4,5,6]]
    m = cp.marginalize(1)
    assert_array_equal(m.get_values_as_ndarray(), [6.0, 15.0])
    p = cp.project(1)
    assert type(p) is LinearBinning
    assert p.subbinnings.keys() == {0}  # the constituent keeps its own subbinning
    assert_array_equal(p.get_values_as_ndarray(), [4.0, 6.0, 11.0])
    kept = cp.project([1, 0])
    assert kept.binnings[0].phasespace == PhaseSpace(["x"])  # original order


def test_cartesian_equality_and_yaml():
    cp = _product_example()
    assert cp == _product_example()
    x, y = cp.binnings
    assert CartesianProductBinning([x, y]) != CartesianProductBinning([y, x])
    text = yaml.dump(cp)
    assert text.startswith("!CartesianProductBinning")
    loaded = yaml.full_load(text)
    assert loaded == cp
    assert loaded.data_size == 7


# ---------------------------------------------------------------------------
# LinearBinning


def test_linear_construction():
    lb = LinearBinning("x", [0, 1, 2])
    assert lb.bin_edges.dtype == np.float64
    assert lb.nbins == 2
    assert lb.variable == "x"
    assert lb.include_upper is False
    assert lb.phasespace == PhaseSpace(["x"])
    sub = LinearBinning("x", [0, 1], subbinnings={0: LinearBinning("y", [0, 1])})
    assert sub.phasespace == PhaseSpace(["x"])  # without the subbinning's variable
    with pytest.raises(TypeError, match="Cannot define bins of LinearBinning"):
        LinearBinning("x", [0, 1], bins=[1])
    # ReMU accepts a single edge as a binning of no bins; remu requires one bin (D10)
    with pytest.raises(ValueError, match="at least two edges"):
        LinearBinning("x", [0])


def test_linear_edge_table():
    lo = LinearBinning("x", [0, 1, 2])
    hi = LinearBinning("x", [0, 1, 2], include_upper=True)
    vals = (-1, 0, 0.5, 1, 2, 3, math.nan)
    assert [lo.get_event_bin_index({"x": v}) for v in vals] == [None, 0, 0, 1, None, None, None]
    assert [hi.get_event_bin_index({"x": v}) for v in vals] == [None, None, 0, 0, 1, None, None]
    lo_inf = LinearBinning("x", [-INF, 0, INF])
    hi_inf = LinearBinning("x", [-INF, 0, INF], include_upper=True)
    assert lo_inf.get_event_bin_index({"x": -INF}) == 0
    assert lo_inf.get_event_bin_index({"x": INF}) is None
    assert hi_inf.get_event_bin_index({"x": -INF}) is None
    assert hi_inf.get_event_bin_index({"x": INF}) == 1
    assert lo.bins[0].include_lower
    assert not lo.bins[0].include_upper
    assert hi.bins[0].include_upper
    assert not hi.bins[0].include_lower


def test_linear_adjacency():
    lb = LinearBinning("x", [0, 1, 2, 3, 4])
    assert _as_lists(lb.get_adjacent_bin_indices()) == [[1], [0, 2], [1, 3], [2]]


def test_linear_slice():
    lb = LinearBinning("x", [0, 1, 2, 3, 4], subbinnings={1: LinearBinning("y", [0, 1, 2])})
    lb.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0, 5.0])
    s = lb.slice(1, 3)
    assert type(s) is LinearBinning
    assert_array_equal(s.bin_edges, [1, 2, 3])
    assert s.subbinnings == {}
    assert not s.is_dummy()
    assert_array_equal(s.get_values_as_ndarray(), [5.0, 4.0])
    assert_array_equal(lb.slice(-2, None).bin_edges, [2, 3, 4])
    assert_array_equal(lb.slice(-2, None).get_values_as_ndarray(), [4.0, 5.0])
    with pytest.raises(IndexError):
        lb.slice(2, 2)
    hi = LinearBinning("x", [0, 1, 2], include_upper=True)
    assert hi.slice(0, 1).include_upper is True


def test_linear_slice_step():
    lb = LinearBinning("x", [0, 1, 2, 3, 4])
    lb.set_values_from_ndarray([1.0, 2.0, 3.0, 4.0])
    # as ReMU: with a step, the new edges are the lower edges of the selected bins
    # (plus the last upper edge), so the new bins do not span the old ones
    s = lb.slice(0, 4, 2)
    assert_array_equal(s.bin_edges, [0, 2, 3])
    assert_array_equal(s.get_values_as_ndarray(), [1.0, 3.0])


def test_linear_remove_bin_edges():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={0: LinearBinning("y", [0, 1, 2])})
    lb.set_values_from_ndarray([1.0, 2.0, 5.0])
    lb.set_entries_from_ndarray([1, 1, 3])
    r1 = lb.remove_bin_edges([1])
    assert_array_equal(r1.bin_edges, [0, 2])
    assert_array_equal(r1.get_values_as_ndarray(), [8.0])
    assert_array_equal(r1.get_entries_as_ndarray(), [5])
    r0 = lb.remove_bin_edges([0])
    assert_array_equal(r0.bin_edges, [1, 2])
    assert_array_equal(r0.get_values_as_ndarray(), [5.0])
    r2 = lb.remove_bin_edges([2])
    assert_array_equal(r2.bin_edges, [0, 1])
    assert_array_equal(r2.get_values_as_ndarray(), [3.0])
    for r in (r0, r1, r2):
        assert r.subbinnings == {}
        assert r.variable == "x"


def test_linear_remove_several():
    lb = LinearBinning("x", [0, 1, 2, 3, 4], include_upper=True)
    lb.set_values_from_ndarray([1.0, 2.0, 4.0, 8.0])
    r = lb.remove_bin_edges([1, 3])
    assert_array_equal(r.bin_edges, [0, 2, 4])
    assert_array_equal(r.get_values_as_ndarray(), [3.0, 12.0])
    assert r.include_upper is True


def test_linear_equality_and_yaml():
    lb = LinearBinning("E", [0, 2, 4, float("inf")])
    assert lb == LinearBinning("E", [0.0, 2.0, 4.0, INF])
    assert lb != LinearBinning("F", [0, 2, 4, INF])
    assert lb != LinearBinning("E", [0, 2, 4, INF], include_upper=True)
    assert lb != LinearBinning("E", [0, 2, 4, INF], subbinnings={0: LinearBinning("x", [0, 1])})
    assert lb == lb.clone(dummy=True)
    text = yaml.dump(lb)
    assert text.startswith("!LinearBinning")
    expected = {
        "__tag__": "LinearBinning",
        "bin_edges": [0.0, 2.0, 4.0, INF],
        "include_upper": False,
        "phasespace": ["E"],
        "subbinnings": {},
        "variable": "E",
    }
    assert _untagged(text) == expected
    assert yaml.full_load(text) == lb
    minimal = yaml.full_load("!LinearBinning {variable: x, bin_edges: [0, 1, 2]}")
    assert minimal == LinearBinning("x", [0, 1, 2])
    assert not minimal.is_dummy()
    assert_array_equal(minimal.get_values_as_ndarray(), [0.0, 0.0])


# ---------------------------------------------------------------------------
# RectilinearBinning


def test_rectilinear_numbering_example():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [-10, 0, 10, 20, INF]])
    assert rl.bins_shape == (2, 4)
    assert rl.get_tuple_bin_index((1, 2)) == 6
    assert rl.get_event_bin_index({"x": 0, "y": -10}) == 0
    assert rl.get_event_bin_index({"x": 0, "y": 0}) == 1
    assert rl.get_event_bin_index({"x": 1, "y": -10}) == 4
    hi = RectilinearBinning(["x", "y"], [[0, 1, 2], [-10, 0, 10, 20, INF]], include_upper=True)
    assert hi.get_event_bin_index({"x": 2, "y": 30}) == 7
    assert rl.get_bin_index_tuple(8) == (None, None)
    assert rl.get_bin_index_tuple(-1) == (None, None)
    assert rl.variables == ("x", "y")
    assert all(isinstance(b, LinearBinning) and b.is_dummy() for b in rl.binnings)
    assert rl.binnings[0].bin_edges.dtype == np.float64
    assert rl.phasespace == PhaseSpace(["x", "y"])
    b6 = rl.bins[6]
    assert b6.variables == ("x", "y")
    assert b6.edges == ((1, 2), (10, 20))
    rl.fill([{"x": 0.5, "y": 5}, {"x": 1.5, "y": 15}, {"x": 1.5, "y": 25}])
    grid = rl.get_values_as_ndarray(shape=rl.bins_shape)
    assert grid[0, 1] == 1.0
    assert grid[1, 2] == 1.0
    assert grid[1, 3] == 1.0
    assert grid.sum() == 3.0
    with pytest.raises(TypeError, match="Cannot define bins of RectilinearBinning"):
        RectilinearBinning(["x"], [[0, 1]], bins=[1])


def test_rectilinear_get_variable_index():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    assert rl.get_variable_index("y") == 1
    assert rl.get_variable_index(0) == 0
    assert rl.get_variable_index(7) == 7  # no range check for ints
    with pytest.raises(ValueError):
        rl.get_variable_index("q")


def _xyz():
    return RectilinearBinning(
        ["x", "y", "z"], [[0, 1, 2], [-10, 0, 10, 20, float("inf")], [0, 1, 2]]
    )


def test_rectilinear_project_example():
    rl = _xyz()
    rl.fill({"x": 0, "y": 0, "z": 0})
    rl.fill({"x": 0, "y": 0, "z": 1}, weight=2.0)
    xy = rl.project(["x", "y"])
    assert type(xy) is RectilinearBinning
    assert xy.variables == ("x", "y")
    assert (xy.bins[1].value, xy.bins[1].entries) == (3.0, 2)
    assert xy == rl.marginalize(["z"])
    assert_array_equal(xy.get_values_as_ndarray(), rl.marginalize(["z"]).get_values_as_ndarray())
    assert_array_equal(xy.get_sumw2_as_ndarray()[1], 5.0)
    yx = rl.project(["y", "x"])
    assert yx.variables == ("x", "y")  # original order kept


def test_rectilinear_slice():
    rl = _xyz()
    rl.fill({"x": 0, "y": 10, "z": 0}, weight=2)
    rl.fill({"x": 1, "y": 10, "z": 1}, weight=1)
    rl.fill({"x": 0, "y": 0, "z": 0}, weight=2)
    s = rl.slice({"x": (0, 1), "y": (2, -1)})
    assert type(s) is RectilinearBinning
    assert s.get_values_as_ndarray().sum() == 2
    assert s.get_entries_as_ndarray().sum() == 1
    assert s.bins_shape == (1, 1, 2)
    assert_array_equal(s.bin_edges[1], [10, 20])
    assert s.subbinnings == {}
    same = rl.slice({"q": (0, 1), 0: (0, 1)})  # unknown keys ignored
    assert same.bins_shape == rl.bins_shape
    assert_array_equal(same.get_values_as_ndarray(), rl.get_values_as_ndarray())


def test_rectilinear_remove_bin_edges():
    rl = _xyz()
    rl.fill({"x": 0, "y": 10, "z": 0}, weight=2)
    rl.fill({"x": 1, "y": 10, "z": 1}, weight=1)
    rl.fill({"x": 0, "y": 0, "z": 0}, weight=2)
    r = rl.remove_bin_edges({"x": [2], "y": [0, 2]})
    assert type(r) is RectilinearBinning
    assert r.nbins == 4
    assert r.bins_shape == (1, 2, 2)
    assert r.get_values_as_ndarray().sum() == 4
    assert r.get_entries_as_ndarray().sum() == 2
    assert r.get_sumw2_as_ndarray().sum() == 8
    assert_array_equal(r.bin_edges[0], [0, 1])
    assert_array_equal(r.bin_edges[1], [0, 20, INF])
    grid = r.get_values_as_ndarray(shape=r.bins_shape)
    assert_array_equal(grid, [[[4.0, 0.0], [0.0, 0.0]]])


def test_rectilinear_equality():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    assert rl == RectilinearBinning(["x", "y"], [[0.0, 1.0, 2.0], [0, 1]])
    assert rl != RectilinearBinning(["y", "x"], [[0, 1, 2], [0, 1]])
    assert rl != RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1]])
    assert rl != RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]], include_upper=True)
    assert rl != CartesianProductBinning(rl.binnings)
    assert CartesianProductBinning(rl.binnings) != rl


# ---------------------------------------------------------------------------
# YAML


def test_yaml_rectilinear_dump():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0.0, 10.0, INF]])
    text = yaml.dump(rl)
    assert text.startswith("!RectilinearBinning")
    data = _untagged(text)
    assert sorted(data.pop("phasespace")) == ["x", "y"]
    assert data == {
        "__tag__": "RectilinearBinning",
        "bin_edges": [[0, 1, 2], [0.0, 10.0, INF]],
        "include_upper": False,
        "subbinnings": {},
        "variables": ["x", "y"],
    }
    loaded = yaml.full_load(text)
    assert loaded == rl
    assert loaded.data_size == 4


def test_yaml_product_dump():
    x = LinearBinning("x", [0, 1, 2], dummy=True)
    y = LinearBinning("y", [0, 1, 2], subbinnings={0: LinearBinning("z", [0, 1, 2])}, dummy=True)
    cp = CartesianProductBinning([x, y])
    text = yaml.dump(cp)
    assert text.count("dummy: true") == 3
    data = _untagged(text)
    assert set(data) == {"__tag__", "binnings", "phasespace", "subbinnings"}
    assert [b["variable"] for b in data["binnings"]] == ["x", "y"]
    assert data["binnings"][1]["subbinnings"][0]["variable"] == "z"
    assert data["binnings"][1]["subbinnings"][0]["dummy"] is True
    loaded = yaml.full_load(text)
    assert loaded == cp
    assert loaded.bins_shape == (2, 3)
    assert loaded.data_size == 6


def test_yaml_generic_binning_dump():
    b = Binning(
        [RectangularBin(["x"], [(0, 1)]), RectangularBin(["x"], [(1, 2)])],
        subbinnings={1: LinearBinning("y", [0, 1])},
    )
    text = yaml.dump(b)
    assert text.startswith("!Binning")
    data = _untagged(text)
    assert set(data) == {"__tag__", "bins", "phasespace", "subbinnings"}
    assert list(data["subbinnings"]) == [1]  # an int key
    assert [b["edges"] for b in data["bins"]] == [[[0, 1]], [[1, 2]]]
    assert text.count("dummy: true") == 3
    loaded = yaml.full_load(text)
    assert loaded == b
    assert loaded.data_size == 2
    assert not loaded.is_dummy()


HAND_WRITTEN = [
    (
        """\
!RectilinearBinning
variables:
- reco_x
- reco_y
bin_edges:
- [-.inf, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, +.inf]
- [-.inf, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, +.inf]
include_upper: false
""",
        RectilinearBinning,
        64,
    ),
    (
        """\
!RectilinearBinning
variables: [x_truth, y_truth]
bin_edges:
- [0, 1, 2]
- [0, 1, 2]
""",
        RectilinearBinning,
        4,
    ),
    (
        """\
!LinearBinning
variable: event_type
bin_edges: [-1.5, -0.5, 0.5, 1.5]
subbinnings:
  1: !LinearBinning {variable: x, bin_edges: [0, 1, 2]}
  2: !RectilinearBinning {variables: [x, y], bin_edges: [[0, 1], [0, 1, 2]]}
""",
        LinearBinning,
        5,
    ),
]


@pytest.mark.parametrize(("text", "cls", "size"), HAND_WRITTEN)
def test_yaml_hand_written_inputs(text, cls, size):
    obj = yaml.full_load(text)
    assert type(obj) is cls
    assert obj.data_size == size
    assert not obj.is_dummy()
    assert_array_equal(obj.get_values_as_ndarray(), np.zeros(size))
    assert bn.yaml.full_load(yaml.dump(obj)) == obj


def test_yaml_hand_written_subbinnings_are_linked():
    obj = yaml.full_load(HAND_WRITTEN[2][0])
    assert obj.phasespace == PhaseSpace(["event_type"])
    obj.fill(
        [{"event_type": 0, "x": 1.5}, {"event_type": 1, "x": 0.5, "y": 1.5}, {"event_type": -1}]
    )
    assert_array_equal(obj.get_values_as_ndarray(), [1, 0, 1, 0, 1])
    assert_array_equal(obj.subbinnings[2].get_values_as_ndarray(), [0, 1])
    assert np.shares_memory(obj.subbinnings[1].value_array, obj.value_array)


def test_yaml_optional_keys_and_bin_values():
    b = yaml.full_load("!Bin {phasespace: !PhaseSpace [x], value: 2.0, entries: 3}")
    assert (b.value, b.entries, b.sumw2) == (2.0, 3, 4.0)
    rb = yaml.full_load("!RectangularBin {variables: [x], edges: [[0, 1]], include_lower: false}")
    assert rb.include_lower is False
    d = yaml.full_load("!LinearBinning {variable: x, bin_edges: [0, 1], dummy: true}")
    assert d.is_dummy()


def test_yaml_round_trip_via_file(tmp_path):
    truth_binning = LinearBinning(
        "kind", [0, 1, 2], subbinnings={1: RectilinearBinning(["a", "b"], [[0, 1, 2], [0, 1]])}
    )
    truth_binning.fill({"kind": 0.5}, weight=3.0)
    path = tmp_path / "truth-binning.yml"
    with path.open("w") as f:
        bn.yaml.dump(truth_binning, f)
    with path.open() as f:
        tb = bn.yaml.full_load(f)
    assert tb == truth_binning
    assert tb.data_size == truth_binning.data_size
    assert_array_equal(
        tb.get_values_as_ndarray(), np.zeros(tb.data_size)
    )  # YAML holds no data: a loaded binning is empty


# ---------------------------------------------------------------------------
# repr


def _repr_objects():
    ps = PhaseSpace(["x", "y"])
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill({"x": 0.5}, weight=2.0)
    return [
        ps,
        Bin(phasespace=ps, value=3.0, entries=2, sumw2=5.0),
        Bin(phasespace=ps, dummy=True),
        RectangularBin(["x", "y"], [(0, 1), (2, INF)], include_upper=True),
        CartesianProductBin([lb.clone(dummy=True), lb.clone(dummy=True)], [0, 1]),
        Binning([RectangularBin(["x"], [(0, 1)]), RectangularBin(["x"], [(1, 2)])]),
        RectangularBinning(["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3))]),
        CartesianProductBinning([lb.clone(dummy=True), LinearBinning("y", [0, 1], dummy=True)]),
        lb,
        LinearBinning("x", [0, 1, 2], subbinnings={1: LinearBinning("y", [0, 1, 2])}),
        RectilinearBinning(["x", "y"], [[0, 1, 2], [0.0, 10.0, INF]]),
        _product_example(),
        lb.clone(dummy=True),
    ]


@pytest.mark.parametrize("index", range(13))
def test_repr_eval_round_trip(index):
    obj = _repr_objects()[index]
    ns = dict(vars(remu.binning))
    ns.update(vars(np))
    back = eval(repr(obj), ns)
    assert type(back) is type(obj)
    assert back == obj
    if hasattr(obj, "value_array") and obj.value_array is not None:
        assert_array_equal(back.value_array, obj.value_array)
        assert_array_equal(back.entries_array, obj.entries_array)
        assert_array_equal(back.sumw2_array, obj.sumw2_array)


def test_repr_contents():
    lb = LinearBinning("x", [0, 1, 2])
    text = repr(lb)
    assert text.startswith("LinearBinning(")
    assert "variable='x'" in text
    assert "value_array=" in text
    assert "dummy=True" in repr(lb.clone(dummy=True))
    b = Bin(phasespace=PhaseSpace(["x"]), value=4.0)
    ns = dict(vars(remu.binning))
    ns.update(vars(np))
    assert eval(repr(b), ns).value == 4.0


# ---------------------------------------------------------------------------
# error table rows not covered elsewhere


def test_errors_dummy_cartesian_bins_and_dummy_data_methods():
    cp = CartesianProductBinning([LinearBinning("x", [0, 1, 2])], dummy=True)
    with pytest.raises(TypeError):
        cp.fill_data_index(0)
    with pytest.raises(TypeError):
        cp.get_entries_as_ndarray()
    with pytest.raises(AttributeError):
        cp.set_entries_from_ndarray([0, 0])


def test_errors_non_monotonic_edges_fail_at_lookup_or_earlier():
    with pytest.raises(ValueError):  # noqa: PT012 - stricter validation at construction is allowed
        lb = LinearBinning("x", [0, 2, 1, 3])
        lb.get_event_bin_index({"x": 0.5})


# ---------------------------------------------------------------------------
# worked examples


def test_worked_example_1():
    top = bn.LinearBinning(
        "kind",
        [-0.5, 0.5, 1.5, 2.5],
        subbinnings={
            0: bn.LinearBinning("x", [0, 1, 2, 3]),
            1: bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 5, 10]]),
        },
    )
    assert (top.nbins, top.data_size) == (3, 8)
    assert [top.get_bin_data_index(i) for i in range(3)] == [0, 3, 7]
    assert [top.get_data_bin_index(d) for d in range(8)] == [0, 0, 0, 1, 1, 1, 1, 2]
    top.fill(
        [{"kind": 0, "x": 2.5}, {"kind": 1, "x": 0.5, "y": 7}, {"kind": 2}],
        weight=[1.0, 2.0, 3.0],
    )
    assert_array_equal(top.get_values_as_ndarray(), [0, 0, 1, 0, 2, 0, 0, 3])
    assert_array_equal(top.subbinnings[1].get_values_as_ndarray(), [0, 2, 0, 0])
    flat = top.marginalize_subbinnings()
    assert type(flat) is LinearBinning
    assert flat.subbinnings == {}
    assert_array_equal(flat.get_values_as_ndarray(), [1, 2, 3])
    back = flat.insert_subbinning(1, top.subbinnings[1].clone())
    assert_array_equal(back.get_values_as_ndarray(), [1, 0, 2, 0, 0, 3])


def test_worked_example_2():
    reco = bn.LinearBinning("reco_x", [0, 1, 2])
    true = bn.LinearBinning("true_x", [0, 1, 2])
    resp = bn.CartesianProductBinning([reco.clone(dummy=True), true.clone(dummy=True)])
    assert resp.bins_shape == (2, 2)
    resp.fill([{"reco_x": 0.5, "true_x": 1.5}, {"reco_x": 1.5, "true_x": 1.5}])
    assert_array_equal(resp.get_entries_as_ndarray(shape=resp.bins_shape), [[0, 1], [0, 1]])
    assert_array_equal(resp.project(1).get_entries_as_ndarray(), [0, 2])
    assert resp.bins[1].data_indices == (0, 1)
    assert [b.edges for b in resp.bins[1].get_marginal_bins()] == [((0.0, 1.0),), ((1.0, 2.0),)]


def test_worked_example_3():
    lo = bn.LinearBinning("x", [0, 1, 2])
    hi = bn.LinearBinning("x", [0, 1, 2], include_upper=True)
    assert [lo.get_event_bin_index({"x": v}) for v in (0, 1, 2)] == [0, 1, None]
    assert [hi.get_event_bin_index({"x": v}) for v in (0, 1, 2)] == [None, 0, 1]


def test_worked_example_4():
    pd = require("pandas", "pandas")
    grid = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    grid.fill(pd.DataFrame({"x": [0.5, 1.5], "b": [0.5, 1.5]}), rename={"b": "y"}, weight=2.0)
    rec = np.array([(0.5, 1.5)], dtype=[("x", float), ("y", float)])
    grid.fill(rec)
    assert_array_equal(grid.get_values_as_ndarray(shape=(2, 2)), [[2, 1], [0, 2]])


# ---------------------------------------------------------------------------
# behaviour chosen where ReMU 0.8.0 behaves oddly


def test_d20_foreign_comparisons_are_false():
    ps = PhaseSpace(["x"])
    assert (ps == None) is False
    assert ps != None
    assert ps != {"x"}
    b = Binning([RectangularBin(["x"], [(0, 1)])])
    assert (b == None) is False
    assert b != {"x"}
    assert LinearBinning("x", [0, 1]) != None


def test_bin_arithmetic():
    ps = PhaseSpace(["x"])
    a = Bin(phasespace=ps, value=3.0, entries=2, sumw2=4.0)
    assert (a * a).sumw2 == 4.0
    assert (a / a).entries == 2


def test_nan_in_generic_binning():
    rb = RectangularBinning(["x", "y"], [((0, 1), (0, 1)), ((1, 2), (0, 1))])
    assert rb.get_event_data_index({"x": 1.5, "y": math.nan}) == 1
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    assert rl.get_event_data_index({"x": 1.5, "y": math.nan}) is None


def test_cartesian_bin_mixed_types_compare_without_error():
    rb = RectangularBinning(["x"], [[(0, 1)], [(1, 2)]])
    lb = LinearBinning("y", [0, 1, 2])
    same_order = CartesianProductBin([rb, lb], [0, 1])
    assert same_order == CartesianProductBin([rb, lb], [0, 1])
    assert same_order != CartesianProductBin([rb, lb], [1, 1])
    # ReMU 0.8.0 returns False here (an AttributeError comparing the mixed types is
    # caught); remu matches the (binning, index) pairs in any order, as intended
    assert same_order == CartesianProductBin([lb, rb], [1, 0])


def test_d21_rectangular_vs_linear_is_false():
    rb = RectangularBinning(["x"], [[(0, 1)], [(1, 2)]])
    lb = LinearBinning("x", [0, 1, 2])
    assert (rb == lb) is False
    assert (lb == rb) is False


def test_phasespace_variables():
    sub = {0: LinearBinning("y", [0, 1])}
    assert Binning([RectangularBin(["x"], [(0, 1)])], subbinnings=sub).phasespace == PhaseSpace(
        ["x", "y"]
    )
    rbg = RectangularBinning(["x"], [[(0, 1)]], subbinnings={0: LinearBinning("y", [0, 1])})
    assert rbg.phasespace == PhaseSpace(["x", "y"])
    rl = RectilinearBinning(["x"], [[0, 1]], subbinnings={0: LinearBinning("y", [0, 1])})
    assert len(rl.phasespace) == 1


def test_d22_event_outside_subbinning_is_none():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={1: LinearBinning("y", [0, 1])})
    event = {"x": 1.5, "y": 5.0}
    assert lb.get_event_data_index(event) is None
    assert event not in lb
    lb.fill([event, {"x": 0.5}])
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 0])
    with pytest.raises(ValueError, match="Event not part of binning"):
        lb.fill(event, raise_error=True)


def test_single_dict_rename():
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill({"t": 1.5}, rename={"t": "x"})
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 1])
    events = [{"t": 0.5}]
    lb.fill(events, rename={"t": "x"})
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])
    assert "t" in events[0]  # old key kept whether or not the dict was mutated


def test_dataframe_rows():
    pd = require("pandas", "pandas")
    df = pd.DataFrame({"my var": [0.5, 1.5, 1.5]}, index=[7, 8, 9])
    lb = LinearBinning("my var", [0, 1, 2])
    lb.fill(df)
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 2])
    idx = LinearBinning("Index", [0, 10])
    with pytest.raises(KeyError, match="Index"):
        idx.fill(pd.DataFrame({"x": [0.5]}, index=[3]))


def test_set_from_exact_size_any_shape():
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2]])
    rl.set_values_from_ndarray(np.arange(4.0).reshape(2, 2))
    assert_array_equal(rl.get_values_as_ndarray(), [0, 1, 2, 3])
    rl.set_values_from_ndarray(2.5)
    assert_array_equal(rl.get_values_as_ndarray(), [2.5] * 4)


def test_d23_marginalize_on_2d_sums_axis_0():
    lb = LinearBinning("x", [0, 1, 2], subbinnings={0: LinearBinning("y", [0, 1, 2, 3])})
    arr = np.arange(8.0).reshape(4, 2)  # rows 0..2 belong to the subbinning
    out = lb.marginalize_subbinnings_on_ndarray(arr)
    assert_array_equal(out, [[6.0, 9.0], [6.0, 7.0]])
    assert_array_equal(arr, np.arange(8.0).reshape(4, 2))


def test_d24_adjacency_with_one_bin():
    one = LinearBinning("x", [0, 1]).get_adjacent_bin_indices()
    assert len(one) == 1
    assert one[0].size == 0


def test_d25_linear_eq_different_lengths():
    assert (LinearBinning("x", [0, 1]) == LinearBinning("x", [0, 1, 2])) is False
    assert LinearBinning("x", [0, 1]) != LinearBinning("x", [0, 1, 2])


def test_d26_marginalize_long_name():
    rl = RectilinearBinning(["true_x", "true_y"], [[0, 1, 2], [0, 1, 2, 3]])
    rl.set_values_from_ndarray(np.arange(6.0))
    m = rl.marginalize("true_x")
    assert m.variables == ("true_y",)
    assert_array_equal(m.get_values_as_ndarray(), [3.0, 5.0, 7.0])
    m1 = rl.marginalize(1)
    assert m1.variables == ("true_x",)
    assert_array_equal(m1.get_values_as_ndarray(), [3.0, 12.0])


def test_d27_rectilinear_project_single():
    rl = RectilinearBinning(["true_x", "true_y"], [[0, 1, 2], [0, 1, 2, 3]], include_upper=True)
    rl.set_values_from_ndarray(np.arange(6.0))
    p = rl.project(1)
    assert type(p) is LinearBinning
    assert p.variable == "true_y"
    assert p.include_upper is True
    assert_array_equal(p.bin_edges, [0, 1, 2, 3])
    assert_array_equal(p.get_values_as_ndarray(), [3.0, 5.0, 7.0])
    q = rl.project("true_x")
    assert type(q) is LinearBinning
    assert_array_equal(q.get_values_as_ndarray(), [3.0, 12.0])
    for arg in (["true_x"], ("true_x",), [0]):
        r = rl.project(arg)
        assert type(r) is RectilinearBinning
        assert r.variables == ("true_x",)
        assert_array_equal(r.get_values_as_ndarray(), [3.0, 12.0])


def test_numpy_integers():
    bx = LinearBinning("x", [0, 1, 2], dummy=True)
    by = LinearBinning("y", [0, 1, 2, 3], dummy=True)
    cp = CartesianProductBinning([bx, by])
    cp.set_values_from_ndarray(np.arange(6.0))
    p = cp.project(np.int64(1))
    assert type(p) is LinearBinning
    assert_array_equal(p.get_values_as_ndarray(), [3.0, 5.0, 7.0])
    rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    assert rl.get_variable_index(np.int64(1)) == 1


def test_d28_lazy_bins_index_errors():
    for binning in (
        LinearBinning("x", [0, 1, 2]),
        RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]]),
        CartesianProductBinning([LinearBinning("x", [0, 1, 2], dummy=True)]),
    ):
        n = binning.nbins
        assert binning.bins[0] is not binning.bins[0]
        with pytest.raises(IndexError):
            binning.bins[n]
        with pytest.raises(IndexError):
            binning.bins[n + 5]
        assert len(list(binning.bins)) == n


def test_empty_product():
    cp = CartesianProductBinning([])
    assert cp.nbins == 1
    assert cp.data_size == 1
    cp.fill({"x": 3})
    assert cp.get_entries_as_ndarray()[0] == 1
    bx = LinearBinning("x", [0, 1, 2], dummy=True)
    full = CartesianProductBinning([bx, bx.clone()])
    full.set_values_from_ndarray(np.arange(4.0))
    total = full.marginalize([0, 1])
    assert total.nbins == 1
    assert_array_equal(total.get_values_as_ndarray(), [6.0])


def test_mapper_is_looked_up_per_call(monkeypatch):
    calls = []

    def recording_map(func, iterable):
        calls.append(1)
        return map(func, iterable)

    monkeypatch.setattr(remu.binning, "mapper", recording_map)
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5}, {"x": 1.5}])
    assert calls
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])


# ---------------------------------------------------------------------------
# keys written by dump, per tag (ReMU rejects unknown keys when loading)


def _dump_keys(obj):
    data = _untagged(yaml.dump(obj))
    return data.pop("__tag__"), set(data)


def test_yaml_dumped_keys_per_tag():
    lb = LinearBinning("x", [0, 1, 2])
    cases = [
        (Bin(phasespace=PhaseSpace(["x"])), "Bin", {"phasespace"}),
        (
            RectangularBin(["x"], [(0, 1)]),
            "RectangularBin",
            {"edges", "include_lower", "include_upper", "phasespace", "variables"},
        ),
        (
            CartesianProductBin([lb.clone(dummy=True)], [1]),
            "CartesianProductBin",
            {"binnings", "data_indices", "phasespace"},
        ),
        (
            Binning([RectangularBin(["x"], [(0, 1)])]),
            "Binning",
            {"bins", "phasespace", "subbinnings"},
        ),
        (
            RectangularBinning(["x"], [[(0, 1)]]),
            "RectangularBinning",
            {"bin_edges", "include_upper", "phasespace", "subbinnings", "variables"},
        ),
        (
            CartesianProductBinning([lb.clone(dummy=True)]),
            "CartesianProductBinning",
            {"binnings", "phasespace", "subbinnings"},
        ),
        (
            lb,
            "LinearBinning",
            {"bin_edges", "include_upper", "phasespace", "subbinnings", "variable"},
        ),
        (
            RectilinearBinning(["x"], [[0, 1]]),
            "RectilinearBinning",
            {"bin_edges", "include_upper", "phasespace", "subbinnings", "variables"},
        ),
    ]
    for obj, tag, keys in cases:
        assert _dump_keys(obj) == (tag, keys)
        assert _dump_keys(obj.clone(dummy=True)) == (tag, keys | {"dummy"})


def test_yaml_numpy_scalars_dump_as_plain_numbers():
    objs = [
        LinearBinning("x", np.array([0, 1, 2], dtype=np.float32)),
        RectilinearBinning(["x"], [np.array([0, 1, 2], dtype=np.int32)]),
        RectangularBin(["x"], [(np.int64(0), np.float32(1.5))]),
        Binning([RectangularBin(["x"], [(np.float64(0), np.float64(1))])]),
        LinearBinning("x", [0, 1, 2], subbinnings={np.int64(1): LinearBinning("y", [0, 1])}),
    ]
    for obj in objs:
        text = yaml.dump(obj)
        assert "!!python" not in text
        assert "!!" not in text
        assert yaml.full_load(text) == obj
    sub = _untagged(yaml.dump(objs[-1]))["subbinnings"]
    assert list(sub) == [1]
    assert type(next(iter(sub))) is int


def test_yaml_other_numpy_scalars_dump_as_strings():
    assert yaml.dump({"s": np.str_("abc")}) == "s: abc\n"
    assert yaml.full_load(yaml.dump({"c": np.complex128(1 + 2j)})) == {"c": "(1+2j)"}


# ---------------------------------------------------------------------------
# more of filling and subbinning manipulation that the other modules depend on


def test_more_insert_subbinning_on_2d_array():
    lb = LinearBinning("x", [0, 1, 2, 3])
    arr = np.arange(6.0).reshape(3, 2)
    ins = np.array([[10.0, 11.0], [12.0, 13.0], [14.0, 15.0]])
    out = lb.insert_subbinning_on_ndarray(arr, 1, ins)
    assert_array_equal(out, [[0, 1], [10, 11], [12, 13], [14, 15], [4, 5]])
    assert_array_equal(arr, np.arange(6.0).reshape(3, 2))
    sub = LinearBinning("y", [0, 1, 2, 3])
    back = lb.insert_subbinning(1, sub).marginalize_subbinnings_on_ndarray(out)
    assert_array_equal(back, [[0, 1], [36, 39], [4, 5]])


def test_more_weights_are_positional():
    pd = require("pandas", "pandas")
    lb = LinearBinning("x", [0, 1, 2])
    df = pd.DataFrame({"x": [0.5, 1.5]}, index=[10, 5])
    lb.fill(df, weight=pd.Series([1.0, 2.0], index=[5, 10]))
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 2.0])


def test_more_integer_and_float32_columns():
    pd = require("pandas", "pandas")
    rl = RectilinearBinning(["i", "f"], [[0, 1, 2], [0, 1, 2]])
    rec = np.array([(0, 1.5), (1, 0.5)], dtype=[("i", np.int32), ("f", np.float32)])
    rl.fill(rec)
    rl.fill(rec[0])
    rl.fill(pd.DataFrame({"i": np.array([1], dtype=np.int64), "f": [1.5]}))
    rl.fill({"i": np.int16(0), "f": np.float32(0.5)})
    assert_array_equal(rl.get_entries_as_ndarray(shape=(2, 2)), [[1, 2], [1, 1]])


def test_more_dataframe_rename_leaves_frame():
    pd = require("pandas", "pandas")
    df = pd.DataFrame({"t": [0.5, 1.5, 1.7]})
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill(df, rename={"t": "x"}, weight=[1.0, 2.0, 4.0])
    assert list(df.columns) == ["t"]
    assert_array_equal(lb.get_values_as_ndarray(), [1.0, 6.0])


def test_more_extra_variables_ignored():
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5, "junk": "text"}, {"x": 1.5, "other": None}])
    assert_array_equal(lb.get_entries_as_ndarray(), [1, 1])


def test_more_positional_order_and_weightfield_after_rename(tmp_path):
    f = tmp_path / "w.csv"
    f.write_text("t,w\n0.5,3\n1.5,1\n")
    lb = LinearBinning("x", [0, 1, 2])
    # positional: filename, weightfield, weight, rename
    lb.fill_from_csv_file(str(f), "weight", 2.0, {"t": "x", "w": "weight"})
    assert_array_equal(lb.get_values_as_ndarray(), [6.0, 2.0])
    assert_array_equal(lb.get_sumw2_as_ndarray(), [36.0, 4.0])
    lb.reset()
    # per-file weights multiply the weight column of each file
    lb.fill_from_csv_file([str(f), str(f)], "weight", [1.0, 10.0], {"t": "x", "w": "weight"})
    assert_array_equal(lb.get_values_as_ndarray(), [33.0, 11.0])
    assert_array_equal(lb.get_entries_as_ndarray(), [2, 2])


def test_more_binnings_inside_plain_containers(tmp_path):
    truth = LinearBinning("t", [0, 1, 2])
    reco = RectilinearBinning(["r", "s"], [[0, 1], [0, 1, 2]])
    path = tmp_path / "both.yml"
    with path.open("w") as f:
        bn.yaml.dump({"truth": truth, "reco": [reco, PhaseSpace(["q"])]}, f)
    with path.open() as f:
        loaded = bn.yaml.full_load(f)
    assert loaded["truth"] == truth
    assert loaded["reco"][0] == reco
    assert loaded["reco"][1] == PhaseSpace(["q"])


def test_more_first_match_wins_even_outside_its_subbinning():
    b = Binning(
        [RectangularBin(["x"], [(0, 2)]), RectangularBin(["x"], [(1, 3)])],
        subbinnings={0: LinearBinning("y", [0, 1])},
    )
    events = [{"x": 1.5, "y": 5.0}, {"x": 1.5, "y": 0.5}, {"x": 2.5, "y": 5.0}]
    # the first event is in bin 0 (first match) but outside its subbinning: not in bin 1
    assert [b.get_event_data_index(e) for e in events] == [None, 0, 1]
    rec = np.array([(e["x"], e["y"]) for e in events], dtype=[("x", float), ("y", float)])
    b.fill(rec)
    assert_array_equal(b.get_entries_as_ndarray(), [1, 1])


def test_more_subbinning_refining_the_same_variable():
    lb = LinearBinning("x", [0, 2, 4], subbinnings={0: LinearBinning("x", [0, 0.5, 1, 1.5, 2])})
    assert lb.data_size == 5
    lb.fill([{"x": 0.7}, {"x": 1.9}, {"x": 3.0}, {"x": 4.0}])
    assert_array_equal(lb.get_entries_as_ndarray(), [0, 1, 0, 1, 1])
    assert_array_equal(lb.marginalize_subbinnings().get_entries_as_ndarray(), [2, 1])


def test_more_tiny_weights_underflow_quietly():
    # tests run under np.seterr(all="raise"): squaring a tiny weight must not raise
    lb = LinearBinning("x", [0, 1, 2])
    lb.fill([{"x": 0.5}, {"x": 1.5}], weight=[1e-200, np.float32(1e-45)])
    lb.fill({"x": 0.5}, weight=1e-300)
    lb.fill_data_index(1, 1e-300)
    lb.bins[0].fill(1e-200)
    w32 = float(np.float32(1e-45))  # a float32 subnormal; its square fits in a float64
    assert_allclose(lb.get_sumw2_as_ndarray(), [0.0, w32 * w32], rtol=1e-12, atol=0)
    assert_array_equal(lb.get_entries_as_ndarray(), [3, 2])
    assert Bin(phasespace=PhaseSpace(["x"]), value=1e-200).sumw2 == 0.0
