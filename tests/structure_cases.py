"""Every kind of binning object, built the same way each time, and what it looks like.

``tests/golden/binning_structure.json`` holds the YAML dumps, ``repr`` strings,
pickles and pairwise ``==`` results of these objects as remu wrote them before the
binning classes declared their structure once (``tests/test_binning_structure_golden.py``
compares today's output with it). Regenerate only on a deliberate change of the
output, with ``python tests/structure_cases.py``.
"""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import yaml as pyyaml

from remu import binning as bn
from remu import yaml as ryaml

GOLDEN = Path(__file__).resolve().parent / "golden" / "binning_structure.json"

#: the ``yaml.dump`` variants compared: name -> keyword arguments
DUMP_STYLES: dict[str, dict[str, Any]] = {
    "default": {},
    "block_none": {"default_flow_style": None},
    "flow": {"default_flow_style": True},
    "unsorted": {"sort_keys": False},
}


def _filled(binning: Any, seed: int) -> Any:
    """``binning`` with reproducible, distinct values, entries and sumw2."""
    rng = np.random.default_rng(seed)
    n = binning.data_size
    binning.set_values_from_ndarray(rng.integers(0, 50, n) / 4.0)
    binning.set_entries_from_ndarray(rng.integers(0, 20, n))
    binning.set_sumw2_from_ndarray(rng.integers(0, 50, n) / 8.0)
    return binning


def cases() -> dict[str, Any]:
    """name -> object; every call builds new, equal objects."""
    inf = float("inf")
    x = bn.LinearBinning("x", [0.0, 1.0, 2.5, inf])
    y_int = bn.LinearBinning("y", [0, 1, 3], include_upper=True)
    sub_rect = bn.RectangularBinning(
        ["a", "b"], [((0, 1), (0, 1)), ((0, 1), (1, 2.5))], include_upper=True
    )
    out: dict[str, Any] = {
        "phasespace": bn.PhaseSpace(["y", "x", "z"]),
        "phasespace_empty": bn.PhaseSpace([]),
        "bin": bn.Bin(phasespace=bn.PhaseSpace(["x"]), value=2.5, entries=3, sumw2=1.25),
        "bin_dummy": bn.Bin(phasespace=bn.PhaseSpace(["x", "y"]), dummy=True),
        "rectangular_bin": bn.RectangularBin(
            ["x", "y"], [(0, 1), (5.5, inf)], include_lower=False, include_upper=True, value=1.0
        ),
        "rectangular_bin_dummy": bn.RectangularBin(["q"], [(-inf, 0.0)], dummy=True),
        "cartesian_bin": bn.CartesianProductBin(
            [x.clone(dummy=True), y_int.clone(dummy=True)], [1, 0], value=4.0, entries=2
        ),
        "linear": _filled(bn.LinearBinning("x", [0, 1, 2, 4]), 1),
        "linear_upper_inf": _filled(
            bn.LinearBinning("e", [-inf, -1.5, 0.0, 1e-3, inf], include_upper=True), 2
        ),
        "linear_dummy": bn.LinearBinning("x", [0.0, 0.5], dummy=True),
        "linear_sub": _filled(
            bn.LinearBinning(
                "x", [0, 1, 2, 3], subbinnings={1: y_int.clone(), 2: sub_rect.clone()}
            ),
            3,
        ),
        "rectilinear": _filled(
            bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [-inf, 0.0, 10.0, 20.0]]), 4
        ),
        "rectilinear_int_upper_sub": _filled(
            bn.RectilinearBinning(
                ["u", "v"],
                [[0, 2, 4], [1, 2]],
                include_upper=True,
                subbinnings={0: bn.LinearBinning("w", [0.0, 1.0, 2.0])},
            ),
            5,
        ),
        "rectilinear_dummy": bn.RectilinearBinning(["x"], [[0.0, 1.0]], dummy=True),
        "rectangular": _filled(
            bn.RectangularBinning(
                ["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3)), ((1, 2), (2, 3.5))]
            ),
            6,
        ),
        "rectangular_upper_sub": _filled(
            bn.RectangularBinning(
                ["x"],
                [((0.0, 1.0),), ((1.0, 2.0),)],
                include_upper=True,
                subbinnings={1: bn.LinearBinning("z", [0, 5, 10])},
            ),
            7,
        ),
        "cartesian": _filled(
            bn.CartesianProductBinning([x.clone(dummy=True), sub_rect.clone(dummy=True)]), 8
        ),
        "cartesian_sub": _filled(
            bn.CartesianProductBinning(
                [y_int.clone(dummy=True), bn.LinearBinning("t", [0, 1, 2], dummy=True)],
                subbinnings={3: bn.LinearBinning("s", [0.0, 1.0, 2.0, 3.0])},
            ),
            9,
        ),
        "cartesian_nested": _filled(
            bn.CartesianProductBinning(
                [
                    bn.LinearBinning(
                        "x", [0, 1, 2], subbinnings={0: bn.LinearBinning("k", [0, 1, 2])}
                    ).clone(dummy=True),
                    bn.RectilinearBinning(["p", "q"], [[0, 1], [0, 1, 2]], dummy=True),
                ]
            ),
            10,
        ),
        "generic": _filled(
            bn.Binning(
                [bn.RectangularBin(["x"], [(0, 1)]), bn.RectangularBin(["x"], [(1, 2)])],
                subbinnings={0: bn.LinearBinning("y", [0.0, 0.5, 1.0])},
            ),
            11,
        ),
        "generic_dummy": bn.Binning(
            [bn.RectangularBin(["x", "y"], [(0, 1), (0, 1)], include_upper=True)], dummy=True
        ),
        "generic_cartesian_bins": _filled(
            bn.Binning(list(bn.CartesianProductBinning([x.clone(dummy=True), y_int]).bins)), 12
        ),
        "generic_plain_bins": _filled(
            bn.Binning(
                [bn.Bin(phasespace=bn.PhaseSpace(["m"])), bn.Bin(phasespace=bn.PhaseSpace(["n"]))],
                phasespace=bn.PhaseSpace(["m", "n", "o"]),
            ),
            13,
        ),
    }
    return out


def equality_cases() -> dict[str, Any]:
    """Objects that differ in one structural detail, or only in their data or type."""
    inf = float("inf")
    lin = bn.LinearBinning("x", [0.0, 1.0, 2.0])
    rect_bins = [bn.RectangularBin(["x"], [(0, 1)]), bn.RectangularBin(["x"], [(1, 2)])]
    sub = bn.LinearBinning("y", [0.0, 1.0])
    return {
        "lin": lin,
        "lin_filled": _filled(lin.clone(), 20),
        "lin_dummy": lin.clone(dummy=True),
        "lin_int_edges": bn.LinearBinning("x", [0, 1, 2]),
        "lin_upper": bn.LinearBinning("x", [0.0, 1.0, 2.0], include_upper=True),
        "lin_more_edges": bn.LinearBinning("x", [0.0, 1.0, 2.0, 3.0]),
        "lin_other_var": bn.LinearBinning("z", [0.0, 1.0, 2.0]),
        "lin_sub": bn.LinearBinning("x", [0.0, 1.0, 2.0], subbinnings={0: sub.clone()}),
        "lin_sub_other": bn.LinearBinning("x", [0.0, 1.0, 2.0], subbinnings={1: sub.clone()}),
        "lin_phasespace": bn.LinearBinning(
            "x", [0.0, 1.0, 2.0], phasespace=bn.PhaseSpace(["x", "w"])
        ),
        "generic_of_lin_bins": bn.Binning(list(lin.bins)),
        "generic_rect": bn.Binning([b.clone() for b in rect_bins]),
        "generic_rect_filled": _filled(bn.Binning([b.clone() for b in rect_bins]), 21),
        "generic_rect_reversed": bn.Binning([b.clone() for b in reversed(rect_bins)]),
        "generic_rect_phasespace": bn.Binning(
            [b.clone() for b in rect_bins], phasespace=bn.PhaseSpace(["x", "v"])
        ),
        "rectangular": bn.RectangularBinning(["x"], [((0, 1),), ((1, 2),)]),
        "rectangular_upper": bn.RectangularBinning(
            ["x"], [((0, 1),), ((1, 2),)], include_upper=True
        ),
        "rectilinear": bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0.0, 1.0]]),
        "rectilinear_float": bn.RectilinearBinning(["x", "y"], [[0.0, 1.0, 2.0], [0, 1]]),
        "rectilinear_swapped": bn.RectilinearBinning(["y", "x"], [[0.0, 1.0], [0, 1, 2]]),
        "rectilinear_upper": bn.RectilinearBinning(
            ["x", "y"], [[0, 1, 2], [0.0, 1.0]], include_upper=True
        ),
        "cartesian_xy": bn.CartesianProductBinning(
            [bn.LinearBinning("x", [0, 1, 2]), bn.LinearBinning("y", [0.0, 1.0])]
        ),
        "cartesian_yx": bn.CartesianProductBinning(
            [bn.LinearBinning("y", [0.0, 1.0]), bn.LinearBinning("x", [0, 1, 2])]
        ),
        "cartesian_xy_sub": bn.CartesianProductBinning(
            [bn.LinearBinning("x", [0, 1, 2]), bn.LinearBinning("y", [0.0, 1.0])],
            subbinnings={1: sub.clone()},
        ),
        "rbin": bn.RectangularBin(["x", "y"], [(0, 1), (2, inf)]),
        "rbin_reordered": bn.RectangularBin(["y", "x"], [(2, inf), (0, 1)]),
        "rbin_closed": bn.RectangularBin(["x", "y"], [(0, 1), (2, inf)], include_upper=True),
        "rbin_open_lower": bn.RectangularBin(["x", "y"], [(0, 1), (2, inf)], include_lower=False),
        "plain_bin": bn.Bin(phasespace=bn.PhaseSpace(["x", "y"])),
        "plain_bin_valued": bn.Bin(phasespace=bn.PhaseSpace(["x", "y"]), value=3.0),
        "cbin": bn.CartesianProductBin([lin.clone(dummy=True), sub.clone(dummy=True)], [1, 0]),
        "cbin_reordered": bn.CartesianProductBin(
            [sub.clone(dummy=True), lin.clone(dummy=True)], [0, 1]
        ),
        "cbin_other_index": bn.CartesianProductBin(
            [lin.clone(dummy=True), sub.clone(dummy=True)], [0, 0]
        ),
        "cbin_mixed_types": bn.CartesianProductBin(
            [bn.RectangularBinning(["x"], [((0, 1),), ((1, 2),)]), sub.clone(dummy=True)], [1, 0]
        ),
        "cbin_mixed_reordered": bn.CartesianProductBin(
            [sub.clone(dummy=True), bn.RectangularBinning(["x"], [((0, 1),), ((1, 2),)])], [0, 1]
        ),
        "phasespace_xy": bn.PhaseSpace(["x", "y"]),
        "none": None,
        "text": "x",
    }


def _safe_equal(a: Any, b: Any) -> Any:
    try:
        return bool(a == b)
    except Exception as error:  # noqa: BLE001 - record which error
        return type(error).__name__


def _dumps(obj: Any) -> dict[str, str]:
    texts = {name: ryaml.dump(obj, **kwargs) for name, kwargs in DUMP_STYLES.items()}
    texts["pure_python"] = pyyaml.dump(obj)
    return texts


def describe() -> dict[str, Any]:
    """The JSON-able expectations of :func:`cases`."""
    objects = cases()
    with np.printoptions(threshold=1000, floatmode="maxprec"):
        reprs = {name: repr(obj) for name, obj in objects.items()}
    shared = cases()["linear_sub"]
    documents = {name: _dumps(obj) for name, obj in objects.items() if not name.startswith("bin")}
    documents.update({name: _dumps(obj) for name, obj in objects.items() if name.startswith("bin")})
    documents["list_with_repeats"] = _dumps([shared, shared, shared.phasespace])
    others = equality_cases()
    equal = {a: {b: _safe_equal(others[a], others[b]) for b in others} for a in others}
    pickles = {
        name: base64.b64encode(pickle.dumps(obj, protocol=4)).decode("ascii")
        for name, obj in objects.items()
    }
    return {"reprs": reprs, "dumps": documents, "equal": equal, "pickles": pickles}


if __name__ == "__main__":
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(describe(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
