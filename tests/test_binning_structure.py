"""Binning classes declare their structure once; the YAML fast paths are opt-in hooks.

``clone``, ``repr``, ``==`` and YAML derive from each class's ``_fields``
(remu._binning.structure). The YAML dumper writes some things without building
them (the bins of a generic binning as their dummy clones); a class says that this
fits it through a hook, and a subclass that overrides the methods the hook describes
gets the generic path, so that its override is honoured.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from remu import binning as bn
from remu import migration
from remu import yaml as ryaml
from remu._binning.structure import Field, Structured

REMU_CLASSES = [
    bn.Bin,
    bn.RectangularBin,
    bn.CartesianProductBin,
    bn.Binning,
    bn.LinearBinning,
    bn.RectilinearBinning,
    bn.RectangularBinning,
    bn.CartesianProductBinning,
]
DERIVED = ("_structure_args", "_clone_args", "_yaml_args", "clone", "__repr__", "__eq__")


@pytest.mark.parametrize("cls", REMU_CLASSES, ids=lambda c: c.__name__)
def test_every_class_declares_its_structure_and_writes_no_boilerplate(cls):
    assert "_fields" in vars(cls), f"{cls.__name__} does not declare its fields"
    assert cls._fields, cls.__name__
    hand_written = [name for name in DERIVED if name in vars(cls)]
    assert not hand_written, f"{cls.__name__} defines {hand_written} by hand"
    assert cls.__hash__ is None


@pytest.mark.parametrize("cls", REMU_CLASSES, ids=lambda c: c.__name__)
def test_remu_classes_keep_the_yaml_fast_paths(cls):
    assert cls._yaml_from_fields is True
    assert cls._yaml_dummy_without_clone is True


def _generic_of_boxes(n: int, kind: type = bn.RectangularBin) -> Any:
    return bn.Binning([kind(["x"], [(i, i + 1)]) for i in range(n)])


def test_the_bins_of_a_generic_binning_are_written_without_cloning_them(monkeypatch):
    calls = []
    original = bn.RectangularBin.clone

    def counting_clone(self, **kwargs):
        calls.append(kwargs)
        return original(self, **kwargs)

    # patched after the class was made: the hook stays, so this only counts
    monkeypatch.setattr(bn.RectangularBin, "clone", counting_clone)
    text = ryaml.dump(_generic_of_boxes(5))
    assert text.count("!RectangularBin") == 5
    assert calls == []
    assert ryaml.full_load(text) == _generic_of_boxes(5)


class LabelledBox(bn.RectangularBin):
    """A user's bin whose YAML carries a label: it overrides to_yaml."""

    yaml_tag = "!LabelledBox"

    @classmethod
    def to_yaml(cls, dumper, data):
        node = super().to_yaml(dumper, data)
        node.value.append((dumper.represent_data("label"), dumper.represent_data("box")))
        return node


class CloningBox(bn.RectangularBin):
    """A user's bin whose clones remember that they are clones: it overrides clone."""

    yaml_tag = "!CloningBox"
    clones: ClassVar[int] = 0

    def clone(self, **kwargs):
        type(self).clones += 1
        return super().clone(**kwargs)


class DeclaredBox(bn.RectangularBin):
    """Overrides clone, and declares that its dummy clone is still written the same way."""

    yaml_tag = "!DeclaredBox"
    _yaml_dummy_without_clone = True
    clones: ClassVar[int] = 0

    def clone(self, **kwargs):
        type(self).clones += 1
        return super().clone(**kwargs)


def test_a_bin_class_overriding_to_yaml_is_written_by_its_own_to_yaml():
    assert LabelledBox._yaml_dummy_without_clone is False
    text = ryaml.dump(_generic_of_boxes(2, LabelledBox))
    assert text.count("label: box") == 2
    assert text.count("!LabelledBox") == 2


def test_a_bin_class_overriding_clone_gets_its_clone_called():
    assert CloningBox._yaml_dummy_without_clone is False
    CloningBox.clones = 0
    ryaml.dump(_generic_of_boxes(3, CloningBox))
    assert CloningBox.clones == 3


def test_a_subclass_that_declares_the_hook_again_keeps_the_fast_path():
    assert DeclaredBox._yaml_dummy_without_clone is True
    DeclaredBox.clones = 0
    text = ryaml.dump(_generic_of_boxes(3, DeclaredBox))
    assert DeclaredBox.clones == 0
    assert text.count("!DeclaredBox") == 3


class NamedBinning(bn.Binning):
    """A user's generic binning with a name, written by overriding _structure_args."""

    yaml_tag = "!NamedBinning"

    def __init__(self, bins, name="unnamed", **kwargs):
        self.name = name
        super().__init__(bins, **kwargs)

    def _structure_args(self):
        args = super()._structure_args()
        args["name"] = self.name
        return args


def test_a_binning_overriding_structure_args_gets_it_honoured_in_yaml():
    assert NamedBinning._yaml_from_fields is False
    named = NamedBinning([bn.RectangularBin(["x"], [(0, 1)])], name="signal")
    text = ryaml.dump(named)
    assert "name: signal" in text
    loaded = ryaml.full_load(text)
    assert type(loaded) is NamedBinning
    assert loaded.name == "signal"
    assert named.clone().name == "signal"
    assert "name='signal'" in repr(named)


class TaggedLinear(bn.LinearBinning):
    """A user's LinearBinning with one more declared field: everything follows."""

    yaml_tag = "!TaggedLinear"
    _fields = (*bn.LinearBinning._fields, Field("tag"))

    def __init__(self, variable, bin_edges, tag="", **kwargs):
        self.tag = tag
        super().__init__(variable, bin_edges, **kwargs)


def test_a_declared_field_reaches_clone_repr_equality_and_yaml():
    a = TaggedLinear("x", [0, 1, 2], tag="a")
    assert TaggedLinear._yaml_from_fields is True
    assert a.clone().tag == "a"
    assert a.clone(dummy=True).is_dummy()
    assert "tag='a'" in repr(a)
    namespace = {"TaggedLinear": TaggedLinear, "array": np.array, **vars(bn)}
    assert eval(repr(a), namespace) == a
    assert a == TaggedLinear("x", [0, 1, 2], tag="a")
    assert a != TaggedLinear("x", [0, 1, 2], tag="b")
    assert a != bn.LinearBinning("x", [0, 1, 2])  # another class
    text = ryaml.dump(a)
    assert "tag: a" in text
    assert ryaml.full_load(text) == a


def test_structured_requires_is_dummy():
    class Bare(Structured):
        yaml_tag = "!Bare"

    with pytest.raises(NotImplementedError):
        Bare().clone()


def test_a_generic_binning_equals_its_rectangular_twin_both_ways():
    boxes = [((0, 1),), ((1, 2),)]
    rect = bn.RectangularBinning(["x"], boxes)
    generic = bn.Binning([bn.RectangularBin(["x"], list(b)) for b in boxes])
    assert rect == generic
    assert generic == rect
    assert rect != bn.LinearBinning("x", [0, 1, 2])
    assert bn.LinearBinning("x", [0, 1, 2]) != rect
    assert (rect == None) is False
    assert rect.__eq__(None) is NotImplemented
    assert bn.LinearBinning("x", [0, 1]).__eq__(None) is False


# -- the response matrix accessors, derived from the table of data arrays ----------------
HISTOGRAMS = ("truth", "reco", "response")
QUANTITIES = ("values", "entries", "sumw2")


def _filled_matrix():
    matrix = migration.ResponseMatrix(
        bn.LinearBinning("r", [0.0, 1.0, 2.0, 3.0]), bn.LinearBinning("t", [0.0, 1.0, 2.0])
    )
    matrix.fill(
        {"t": [0.5, 0.6, 1.5, 1.7], "r": [0.5, 2.5, 1.5, np.nan]}, weight=[1.0, 2.0, 0.5, 3.0]
    )
    return matrix


@pytest.mark.parametrize("histogram", HISTOGRAMS)
@pytest.mark.parametrize("quantity", QUANTITIES)
def test_response_getters_are_the_binnings_getters(histogram, quantity):
    matrix = _filled_matrix()
    name = f"get_{histogram}_{quantity}_as_ndarray"
    method = getattr(migration.ResponseMatrix, name)
    assert method.__name__ == name
    assert method.__qualname__ == f"ResponseMatrix.{name}"
    assert method.__doc__
    binning = getattr(matrix, f"{histogram}_binning")
    expected = getattr(binning, f"get_{quantity}_as_ndarray")()
    np.testing.assert_array_equal(getattr(matrix, name)(), expected)
    np.testing.assert_array_equal(
        getattr(matrix, name)(indices=[0]),
        getattr(binning, f"get_{quantity}_as_ndarray")(indices=[0]),
    )
    result = getattr(matrix, name)()
    result[:] = 99  # a copy
    np.testing.assert_array_equal(getattr(matrix, name)(), expected)


@pytest.mark.parametrize("histogram", HISTOGRAMS)
@pytest.mark.parametrize("quantity", QUANTITIES)
def test_response_setters_check_and_write(histogram, quantity):
    from remu.errors import InputError

    matrix = _filled_matrix()
    name = f"set_{histogram}_{quantity}_from_ndarray"
    method = getattr(migration.ResponseMatrix, name)
    assert method.__name__ == name
    assert "Raises" in method.__doc__
    binning = getattr(matrix, f"{histogram}_binning")
    n = binning.data_size
    new = np.arange(n, dtype=float)[::-1] + 1
    getattr(matrix, name)(new.reshape(-1, 1))
    np.testing.assert_array_equal(getattr(binning, f"get_{quantity}_as_ndarray")(), new)
    with pytest.raises(InputError, match=f"{histogram} {quantity} needs {n} elements"):
        getattr(matrix, name)(np.ones(n + 1))
    if quantity == "entries":
        with pytest.raises(InputError, match="must not be negative"):
            getattr(matrix, name)(-np.ones(n))


def test_only_the_truth_entries_setter_refreshes_the_filled_indices():
    matrix = _filled_matrix()
    np.testing.assert_array_equal(matrix.filled_truth_indices, [0, 1])
    matrix.set_truth_values_from_ndarray([0.0, 0.0])
    np.testing.assert_array_equal(matrix.filled_truth_indices, [0, 1])
    matrix.set_truth_entries_from_ndarray([0, 4])
    np.testing.assert_array_equal(matrix.filled_truth_indices, [1])
