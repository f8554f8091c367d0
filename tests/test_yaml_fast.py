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
