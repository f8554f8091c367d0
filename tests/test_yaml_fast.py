"""remu.yaml's libyaml-backed full_load/dump agree with PyYAML's pure-Python ones."""

from __future__ import annotations

import io

import numpy as np
import pytest
import yaml as pyyaml

from remu import binning as bn
from remu import yaml as ryaml


def _objects():
    sub = bn.LinearBinning("y", [0.0, 1.0, np.inf])
    return [
        bn.LinearBinning("x", [0, 1, 2, np.inf], subbinnings={1: sub}),
        bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [-np.inf, 0.0, 10.0]]),
        bn.CartesianProductBinning([sub.clone(dummy=True), bn.LinearBinning("z", [0, 1])]),
        bn.Binning([bn.RectangularBin(["x"], [(0, 1)]), bn.RectangularBin(["x"], [(1, 2)])]),
        {"a": np.float64(1.5), "b": np.int64(3), "c": np.bool_(True), "d": [1, "two"]},
    ]


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_dump_equals_pure_python_dump(obj):
    assert ryaml.dump(obj) == pyyaml.dump(obj)


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_full_load_equals_pure_python_full_load(obj):
    text = pyyaml.dump(obj)
    assert ryaml.full_load(text) == pyyaml.full_load(text) == obj


def test_dump_to_stream_and_load_all():
    buf = io.StringIO()
    ryaml.dump_all([bn.LinearBinning("x", [0, 1]), bn.PhaseSpace(["q"])], buf)
    docs = list(ryaml.full_load_all(buf.getvalue()))
    assert docs == [bn.LinearBinning("x", [0, 1]), bn.PhaseSpace(["q"])]


def test_registrations_on_fullloader_and_dumper_are_honoured():
    class Point:
        def __init__(self, x):
            self.x = x

    def represent(dumper, p):
        return dumper.represent_scalar("!Point", str(p.x))

    def construct(loader, node):
        return Point(float(loader.construct_scalar(node)))

    pyyaml.add_representer(Point, represent, Dumper=pyyaml.Dumper)
    pyyaml.add_constructor("!Point", construct, Loader=pyyaml.FullLoader)
    try:
        text = ryaml.dump({"p": Point(2.5)})
        assert text.startswith("p: !Point ")
        assert ryaml.full_load(text)["p"].x == 2.5
    finally:
        del pyyaml.Dumper.yaml_representers[Point]
        del pyyaml.FullLoader.yaml_constructors["!Point"]


def test_explicit_dumper_is_used():
    text = ryaml.dump({"a": [1, 2]}, Dumper=pyyaml.SafeDumper, default_flow_style=True)
    assert text == "{a: [1, 2]}\n"


def test_full_load_refuses_python_object_construction(tmp_path):
    marker = tmp_path / "ran"
    text = f"!!python/object/apply:os.system ['touch {marker}']"
    with pytest.raises(pyyaml.YAMLError):
        ryaml.full_load(text)
    assert not marker.exists()


def test_garbage_collector_state_is_restored():
    import gc

    assert gc.isenabled()
    ryaml.full_load("a: 1")
    ryaml.dump({"a": 1})
    assert gc.isenabled()
    gc.disable()
    try:
        ryaml.full_load("a: 1")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(pyyaml.YAMLError):
        ryaml.full_load("a: [1, 2")
    assert gc.isenabled()


def _represented_by_pyyaml(monkeypatch):
    """Register plain representers for every remu class: PyYAML's represent_mapping
    over the structural clone arguments, represent_sequence for phase spaces."""
    from remu._binning.phasespace import PhaseSpace, ordered

    def mapping(dumper, data):
        args = data._structure_args()
        if data.is_dummy():
            args["dummy"] = True
        return dumper.represent_mapping(type(data).yaml_tag, args)

    def sequence(dumper, data):
        return dumper.represent_sequence(type(data).yaml_tag, ordered(data.variables))

    registry = dict(pyyaml.Dumper.yaml_representers)
    for cls in registry:
        if isinstance(cls, type) and cls.__module__.startswith("remu."):
            plain = sequence if issubclass(cls, PhaseSpace) else mapping
            monkeypatch.setitem(pyyaml.Dumper.yaml_representers, cls, plain)


def _tricky_objects():
    shared = ["x", "y"]  # one list in several bins: anchors and aliases
    special = [-np.inf, -1e17, -0.0, 1.5e-300, 123456789.0, 1e17, np.inf]
    return [
        *_objects(),
        bn.LinearBinning("x", special, include_upper=True),
        bn.Binning([bn.RectangularBin(shared, [(0, 1), (0, 1)]) for _ in range(3)]),
    ]


@pytest.mark.parametrize("flow", [False, True, None])
@pytest.mark.parametrize("sort_keys", [True, False])
def test_direct_nodes_equal_pyyaml_representers(monkeypatch, flow, sort_keys):
    # to_yaml builds the nodes of plain values itself; the text must be what
    # PyYAML's representers give, whatever the dumper options.
    options = {"default_flow_style": flow, "sort_keys": sort_keys}
    fast = [ryaml.dump(obj, **options) for obj in _tricky_objects()]
    plain = [pyyaml.dump(obj, **options) for obj in _tricky_objects()]
    _represented_by_pyyaml(monkeypatch)
    reference = [pyyaml.dump(obj, **options) for obj in _tricky_objects()]
    assert fast == plain == reference
