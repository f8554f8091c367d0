"""Response matrices: how a detector maps true event properties to reconstructed ones.

:class:`ResponseMatrix` fills truth, reco and joint (response) histograms from
simulated events and estimates the response with its Bayesian statistical
uncertainty; :class:`ResponseMatrixArrayBuilder` collects many of them
(detector variations) into one ``.npz`` file for
:class:`remu.likelihood.ResponseMatrixPredictor`.
"""

from __future__ import annotations

# Names the reference module also exposes (it imports them at module level).
from copy import deepcopy  # noqa: F401
from warnings import warn  # noqa: F401

import numpy as np  # noqa: F401

from remu._migration.builder import ResponseMatrixArrayBuilder
from remu._migration.response import ResponseMatrix
from remu.binning import Binning, CartesianProductBinning  # noqa: F401

__all__ = ["ResponseMatrix", "ResponseMatrixArrayBuilder"]
