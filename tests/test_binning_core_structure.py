"""repr/eval, YAML, clone, equality and errors for every class."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml as pyyaml
from numpy.testing import assert_array_equal

from remu import binning as bn

NS = dict(vars(bn))
NS.update(vars(np))


def _objects():
    ps = bn.PhaseSpace(["x", "y"])
    rect = bn.RectangularBin(["x", "y"], [(0, 1), (5, np.inf)], value=1.25)
    lin = bn.LinearBinning("x", [0, 1, 2], subbinnings={1: bn.LinearBinning("y", [0, 1, 2])})
    rl = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0.0, 10.0, np.inf]])
    cp = bn.CartesianProductBinning(
        [lin.clone(dummy=True), rl.clone(dummy=True)],
        subbinnings={0: bn.LinearBinning("z", [0, 1])},
    )
    generic = bn.Binning(
        [bn.RectangularBin(["x"], [(0, 1)]), bn.RectangularBin(["x"], [(1, 2)])],
        subbinnings={1: bn.LinearBinning("y", [0, 1])},
    )
    rb = bn.RectangularBinning(["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3))], include_upper=True)
    return {
        "PhaseSpace": ps,
        "Bin": bn.Bin(phasespace=ps, value=0.1, entries=3),
        "RectangularBin": rect,
        "CartesianProductBin": cp.bins[5],
        "Binning": generic,
        "RectangularBinning": rb,
        "LinearBinning": lin,
        "RectilinearBinning": rl,
        "CartesianProductBinning": cp,
    }


@pytest.mark.parametrize("name", list(_objects()))
def test_repr_eval_roundtrip(name):
    obj = _objects()[name]
    if hasattr(obj, "value_array") and obj.value_array is not None:
        obj.value_array[...] = np.arange(obj.value_array.size) / 3.0
    copy_ = eval(repr(obj), NS)
    assert type(copy_) is type(obj)
    assert copy_ == obj
    if name == "Bin":
        assert copy_.value == obj.value
        assert copy_.entries == 3
    if isinstance(obj, bn.Binning):
        assert_array_equal(copy_.get_values_as_ndarray(), obj.get_values_as_ndarray())


@pytest.mark.parametrize("name", list(_objects()))
def test_yaml_roundtrip(name):
    obj = _objects()[name]
    text = bn.yaml.dump(obj)
    assert "python/" not in text
    assert text.startswith(f"!{name}")
    for loaded in (pyyaml.full_load(text), bn.yaml.safe_load(text)):
        assert type(loaded) is type(obj)
        assert loaded == obj
    with pytest.raises(pyyaml.constructor.ConstructorError):
        pyyaml.load(text, Loader=pyyaml.Loader)
    if name != "PhaseSpace":
        with pytest.raises(pyyaml.representer.RepresenterError):
            pyyaml.safe_dump(obj)


def test_yaml_values_not_stored_and_dummy_marker():
    lb = bn.LinearBinning("x", [0, 1, 2])
    lb.fill({"x": 0.5})
    loaded = bn.yaml.full_load(bn.yaml.dump(lb))
    assert loaded == lb
    assert loaded.get_values_as_ndarray().tolist() == [0.0, 0.0]
    assert "dummy" not in bn.yaml.dump(lb)
    assert "dummy: true" in bn.yaml.dump(lb.clone(dummy=True))
    assert bn.yaml.full_load(bn.yaml.dump(lb.clone(dummy=True))).is_dummy()


def test_yaml_numpy_scalars_and_handwritten_forms():
    rb = bn.RectangularBinning(["x"], [[(np.float64(0.5), np.float64(1.5))]])
    text = bn.yaml.dump(rb)
    assert "numpy" not in text
    assert bn.yaml.full_load(text) == rb
    assert pyyaml.dump({"a": np.float64(1.5), "b": np.int64(3), "c": np.bool_(True)}) == (
        "a: 1.5\nb: 3\nc: true\n"
    )
    nested = bn.yaml.full_load(
        """!LinearBinning
variable: event_type
bin_edges: [-1.5, -0.5, 0.5, 1.5]
subbinnings:
  1: !LinearBinning {variable: x, bin_edges: [0, 1, 2]}
  2: !RectilinearBinning {variables: [x, y], bin_edges: [[0, 1], [0, 1, 2]]}
"""
    )
    assert nested.data_size == 5
    nested.fill({"event_type": 0, "x": 1.5})
    assert nested.subbinnings[1].get_entries_as_ndarray().tolist() == [0, 1]
    with pytest.raises(TypeError):
        bn.yaml.full_load("!LinearBinning {variable: x, bin_edges: [0, 1], foo: 1}")
    assert bn.yaml.full_load("!PhaseSpace []") == bn.PhaseSpace([])
    assert bn.yaml.safe_load is pyyaml.safe_load
    assert "dump" in bn.yaml.__all__


def test_clone_copies_and_overrides():
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1])})
    lb.fill({"x": 1.5})
    c = lb.clone()
    assert c == lb
    assert not np.shares_memory(c.value_array, lb.value_array)
    c.fill({"x": 1.5})
    assert lb.get_entries_as_ndarray().tolist() == [0, 1]
    assert c.subbinnings[0].value_array.base is c.value_array
    d = lb.clone(dummy=True)
    assert d.is_dummy()
    assert d.value_array is None
    z = d.clone(dummy=False)
    assert z.get_values_as_ndarray().tolist() == [0.0, 0.0]
    moved = lb.clone(bin_edges=[0, 5, 10])
    assert moved.get_entries_as_ndarray().tolist() == [0, 1]
    with pytest.raises(TypeError):
        lb.clone(bin_edges=[0, 1, 2, 3])
    deep = copy.deepcopy(lb)
    assert deep == lb
    assert deep.subbinnings[0].value_array.base is deep.value_array
    rect = bn.RectangularBin(["x"], [(0, 1)])
    assert rect.clone(edges=[(2, 3)]).edges == ((2, 3),)
    assert rect.clone(dummy=True).is_dummy()


def test_equality_rules():
    lb = bn.LinearBinning("x", [0, 1, 2])
    assert lb == bn.LinearBinning("x", [0.0, 1.0, 2.0], dummy=True)
    assert lb != bn.LinearBinning("x", [0, 1, 2, 3])  # no error for different edge counts (D25)
    assert lb != bn.LinearBinning("x", [0, 1, 2], include_upper=True)
    assert lb != None
    bins = [bn.RectangularBin(["x"], [(0, 1)])]
    assert bn.RectangularBinning(["x"], [[(0, 1)]]) == bn.Binning(
        bins
    )  # as in ReMU, the types are not compared
    rect_binning = bn.RectangularBinning(["x"], [[(0, 1)]])
    assert (rect_binning == lb) is False  # no AttributeError (D21)
    assert (lb == rect_binning) is False
    assert bn.PhaseSpace(["x"]) != None
    rl = bn.RectilinearBinning(["x"], [[0, 1, 2]])
    cp = bn.CartesianProductBinning([bn.LinearBinning("x", [0, 1, 2], dummy=True)])
    assert rl != cp
    assert rl != bn.RectilinearBinning(["x"], [[0, 1, 2, 3]])
    b1 = bn.RectangularBin(["x", "y"], [(0, 1), (2, 3)])
    b2 = bn.RectangularBin(["y", "x"], [(2.0, 3.0), (0.0, 1.0)])
    assert b1 == b2
    b2.include_upper = True
    assert b1 != b2
    x = bn.LinearBinning("x", [0, 1], dummy=True)
    r = bn.RectangularBinning(["y"], [[(0, 1)]], dummy=True)
    p1 = bn.CartesianProductBin([x, r], [0, 0])
    p2 = bn.CartesianProductBin([r, x], [0, 0])
    assert p1 == p2  # pairs match in any order, never raises
    with pytest.raises(TypeError):
        hash(lb)


def test_phasespace_operations():
    a = bn.PhaseSpace(["x"])
    ab = bn.PhaseSpace(["x", "y"])
    assert a < ab
    assert ab >= a
    same = bn.PhaseSpace(["x"])
    assert not a < same
    assert (a * bn.PhaseSpace(["y"])) == ab
    assert (ab / a) == bn.PhaseSpace(["y"])
    assert "y" in ab
    assert len(ab) == 2
    assert str(ab) == "('x' X 'y')"
    assert str(bn.PhaseSpace([])) == "('')"
    assert bn.PhaseSpace("abc").variables == {"a", "b", "c"}
    with pytest.raises(TypeError):
        a & ab


def test_lazy_bins():
    lb = bn.LinearBinning("x", [0, 1, 2])
    assert len(lb.bins) == 2
    assert lb.bins[0] is not lb.bins[0]
    assert lb.bins[-1].edges == ((1.0, 2.0),)
    with pytest.raises(IndexError):
        lb.bins[2]
    lb.bins[1].fill(2.0)
    assert lb.get_values_as_ndarray().tolist() == [0.0, 2.0]
    assert lb.bins == lb.clone().bins
    dummy_cp = bn.CartesianProductBinning([lb.clone(dummy=True)], dummy=True)
    assert dummy_cp.bins[1].data_indices == (1,)


def test_construction_errors():
    with pytest.raises(ValueError, match=r"'x'.*strictly increasing"):
        bn.LinearBinning("x", [0, 2, 1])
    with pytest.raises(ValueError, match="NaN"):
        bn.RectilinearBinning(["x", "y"], [[0, 1], [0, np.nan]])
    bn.LinearBinning("x", [-np.inf, 0, np.inf])
    with pytest.raises(ValueError, match="Upper edge is smaller"):
        bn.RectangularBin(["x"], [(1, 0)])
    with pytest.raises(ValueError, match="Variable not part of PhaseSpace"):
        bn.RectangularBin(["x"], [(0, 1)], phasespace=bn.PhaseSpace(["y"]))
    with pytest.raises(TypeError, match="Cannot define bins of LinearBinning"):
        bn.LinearBinning("x", [0, 1], bins=[])
    with pytest.raises(TypeError, match="Cannot define bins of CartesianProductBinning"):
        bn.CartesianProductBinning([], bins=[])
    with pytest.raises(TypeError, match="Cannot define bins of RectilinearBinning"):
        bn.RectilinearBinning(["x"], [[0, 1]], bins=[])
    with pytest.raises(TypeError, match="Value array shape"):
        bn.LinearBinning("x", [0, 1, 2], value_array=np.zeros(3))
    with pytest.raises(ValueError, match="No subbinning at bin index 0"):
        bn.LinearBinning("x", [0, 1]).marginalize_subbinnings([0])
    lb = bn.LinearBinning("x", [0, 1], subbinnings={0: bn.LinearBinning("y", [0, 1, 2])})
    with pytest.raises(ValueError, match="Bin 0 already has a subbinning"):
        lb.insert_subbinning(0, bn.LinearBinning("z", [0, 1]))


def test_marginalize_subbinnings_on_2d_sums_axis0():  # not the whole block (D23)
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1, 2])})
    arr = np.arange(9.0).reshape(3, 3)
    out = lb.marginalize_subbinnings_on_ndarray(arr)
    assert_array_equal(out, [[3, 5, 7], [6, 7, 8]])
    assert_array_equal(arr, np.arange(9.0).reshape(3, 3))
    ins = lb.marginalize_subbinnings().insert_subbinning_on_ndarray(out, 0, arr[:2])
    assert_array_equal(ins, arr)


def test_insert_round_trip_preserves_totals():
    lb = bn.LinearBinning("x", [0, 1, 2], subbinnings={1: bn.LinearBinning("y", [0, 1, 2])})
    lb.fill({"x": [0.5, 1.5, 1.5], "y": [0, 0.5, 1.5]})
    sub = lb.subbinnings[1].clone()
    back = lb.marginalize_subbinnings([1]).insert_subbinning(1, sub)
    assert back == lb
    assert back.subbinnings[1] is sub
    assert_array_equal(back.get_values_as_ndarray(), lb.get_values_as_ndarray())
