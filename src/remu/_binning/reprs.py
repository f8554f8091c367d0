"""``repr`` of the binning classes and their bins, from their clone arguments."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["format_repr"]


def format_repr(obj: Any) -> str:
    """``ClassName(k=repr(v), ...)`` over the object's clone arguments.

    Arrays are printed in full and floats with their shortest round-tripping
    digits, so that ``eval(repr(obj))`` rebuilds an equal object with equal data.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> format_repr(LinearBinning("x", [0.0, 1.0], dummy=True))
    "LinearBinning(variable='x', bin_edges=[0.0, 1.0], include_upper=False, subbinnings={}, phasespace=PhaseSpace(variables={'x'}), dummy=True)"
    """
    with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
        inner = ", ".join(f"{key}={value!r}" for key, value in obj._clone_args().items())
    return f"{type(obj).__name__}({inner})"
