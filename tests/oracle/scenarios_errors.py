"""Bad inputs: the exception raised by our remu and by remu 0.8.0 for each probe."""

from __future__ import annotations

import numpy as np


def _probes():
    from remu import binning as bn
    from remu import likelihood as lh
    from remu import migration

    def lin(**kw):
        return bn.LinearBinning("x", [0.0, 1.0, 2.0], **kw)

    def sub():
        return lin(subbinnings={0: bn.LinearBinning("y", [-np.inf, 0.0, np.inf])})

    rec = np.zeros(2, dtype=[("y", float)])
    rl = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1]])
    mp = lh.MatrixPredictor([[[1.0, 0.0], [0.0, 1.0]]] * 2)

    def bad_response_sum():
        rm = migration.ResponseMatrix(lin(), bn.LinearBinning("t", [0.0, 1.0]))
        rm.fill({"x": 0.5, "t": 0.5})
        rm.set_response_values_from_ndarray(np.array([5.0, 0.0]))
        return rm + rm

    return {
        "fill outside with raise_error": lambda: lin().fill([{"x": 5.0}], raise_error=True),
        "fill weight length": lambda: lin().fill([{"x": 0.5}, {"x": 1.5}], weight=[1, 2, 3]),
        "fill dict missing variable": lambda: lin().fill([{"y": 1.0}]),
        "fill structured missing field": lambda: lin().fill(rec),
        "Bin without phasespace": lambda: bn.Bin(),
        "Bin unknown kwarg": lambda: bn.Bin(phasespace=bn.PhaseSpace(["x"]), foo=1),
        "RectangularBin upper < lower": lambda: bn.RectangularBin(["x"], [(1.0, 0.0)]),
        "RectangularBin variable not in phasespace": lambda: bn.RectangularBin(
            ["x"], [(0.0, 1.0)], phasespace=bn.PhaseSpace(["y"])
        ),
        "Binning wrong array shape": lambda: lin(value_array=np.zeros(5)),
        "LinearBinning bins=": lambda: bn.LinearBinning("x", [0, 1], bins=[1]),
        "RectilinearBinning bins=": lambda: bn.RectilinearBinning(["x"], [[0, 1]], bins=[1]),
        "marginalize_subbinnings without one": lambda: lin().marginalize_subbinnings([0]),
        "insert_subbinning twice": lambda: sub().insert_subbinning(0, lin()),
        "get_variable_index unknown": lambda: rl.get_variable_index("nope"),
        "project invalid index": lambda: rl.project([5]),
        "marginalize duplicate": lambda: rl.marginalize([0, 0]),
        "values reshape mismatch": lambda: lin().get_values_as_ndarray(shape=(3,)),
        "response sum impossible": bad_response_sum,
        "einsum predictor without size": lambda: lh.LinearEinsumPredictor("ij,...j->...i", [[1.0]]),
        "systematics index out of range": lambda: mp([1.0, 1.0], systematics_index=2),
        "summed scale factors": lambda: lh.SummedPredictor([mp, mp], scale_factors=[1.0])(
            [1.0, 1.0, 1.0, 1.0]
        ),
        "bad combine_systematics": lambda: lh.ComposedPredictor([mp, mp], "nonsense")([1.0, 1.0]),
        "toys from a batch of parameters": lambda: lh.LikelihoodCalculator(
            lh.PoissonData([1, 2]), mp
        ).generate_toy_likelihood_calculators([[1.0, 1.0]]),
    }


def probe(case: dict):
    """Run one named bad call; its exception is the result (an error record)."""
    _probes()[case["name"]]()
    return "no exception"


def names(_case: dict) -> list:
    return sorted(_probes())
