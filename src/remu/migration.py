"""Response matrices: how a detector maps true event properties to reconstructed ones.

:class:`ResponseMatrix` fills truth, reco and joint (response) histograms from
simulated events and estimates the response with its Bayesian statistical
uncertainty; :class:`ResponseMatrixArrayBuilder` collects many of them
(detector variations) into one ``.npz`` file for
:class:`remu.likelihood.ResponseMatrixPredictor`.
"""

from __future__ import annotations

from remu import _facade
from remu._migration.builder import ResponseMatrixArrayBuilder
from remu._migration.response import ResponseMatrix

__all__ = ["ResponseMatrix", "ResponseMatrixArrayBuilder"]

#: Names ReMU's ``migration`` module imported at its top; imported on first use.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    "np": "numpy",
    "deepcopy": "copy:deepcopy",
    "warn": "warnings:warn",
    "Binning": "remu.binning:Binning",
    "CartesianProductBinning": "remu.binning:CartesianProductBinning",
}

_facade.install(__name__, legacy=_LEGACY_NAMES)
