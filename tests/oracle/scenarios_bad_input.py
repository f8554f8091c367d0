"""Probes of bad input that remu refuses and remu 0.8.0 accepts (``docs/differences.md``).

Plain NumPy and the standard library at module level; remu is imported inside the
function, so in the oracle driver it is the reference and here it is ours. Each
probe returns what the implementation made of the input (or raises, which becomes
an error record).
"""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np


def _archive(**arrays) -> io.BytesIO:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    return buffer


def _unpickled_binning() -> dict:
    from remu import binning

    bins = [binning.RectangularBin(["x"], [(0, 1)]), binning.RectangularBin(["x"], [(1, 2)])]
    sub = binning.LinearBinning("y", [0, 1, 2])
    b = binning.Binning(bins, subbinnings={1: sub})
    b.fill([{"x": 0.5, "y": 0.5}, {"x": 1.5, "y": 1.5}])
    clone = pickle.loads(pickle.dumps(b))
    clone.fill([{"x": 0.5, "y": 0.5}, {"x": 1.5, "y": 0.5}])
    return {
        "values": clone.get_values_as_ndarray(),
        "bin0": float(clone.bins[0].value),
        "sub": clone.subbinnings[1].get_values_as_ndarray(),
    }


def _npz_predictor(matrices) -> dict:
    from remu import likelihood

    predictor = likelihood.ResponseMatrixPredictor(
        _archive(matrices=np.asarray(matrices), truth_entries=np.array([10, 20]))
    )
    calc = likelihood.LikelihoodCalculator(likelihood.PoissonData([3, 4]), predictor)
    return {"log_likelihood": float(calc([5.0, 10.0]))}


def _loaded_linear(text: str) -> dict:
    from remu import binning

    obj = binning.yaml.full_load(text)
    return {"include_upper": bool(obj.include_upper), "edges": obj.bin_edges.tolist()}


def _set_values(values) -> dict:
    from remu import binning

    lb = binning.LinearBinning("x", [0, 1, 2, 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lb.set_values_from_ndarray(values)
    return {"values": lb.get_values_as_ndarray(), "warnings": [str(w.message) for w in caught]}


def _huge_weights() -> dict:
    from remu import binning

    lb = binning.LinearBinning("x", [0, 1])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        events = np.array([(0.5,), (0.5,)], dtype=[("x", float)])
        lb.fill(events, weight=np.array([1e308, 1.0]))
    return {"value": lb.get_values_as_ndarray(), "sumw2": lb.get_sumw2_as_ndarray()}


def _huge_counts() -> list:
    from remu import likelihood

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return likelihood.PoissonData(np.array([1e308, 1.0])).data_vector.tolist()


def probe(case: dict):
    """The probe named ``case["name"]``."""
    name = case["name"]
    if name == "unpickled_generic_binning":
        return _unpickled_binning()
    if name == "npz_nan_matrices":
        return _npz_predictor(np.full((1, 2, 2), np.nan))
    if name == "npz_2d_matrices":
        return _npz_predictor(np.full((2, 2), 0.5))
    if name == "yaml_flag_string":
        return _loaded_linear(
            "!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: 'false'}"
        )
    if name == "yaml_edges_strings":
        return _loaded_linear("!LinearBinning {variable: x, bin_edges: ['0', '1']}")
    if name == "set_values_short":
        return _set_values([1.0, 2.0])
    if name == "set_values_stack":
        return _set_values(np.arange(6.0).reshape(2, 3))
    if name == "single_edge":
        from remu import binning

        return int(binning.LinearBinning("x", [0.0]).nbins)
    if name == "huge_weights":
        return _huge_weights()
    if name == "huge_counts":
        return _huge_counts()
    msg = f"unknown probe {name!r}"
    raise ValueError(msg)
