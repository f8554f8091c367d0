"""remu: Response Matrix Utilities.

A fast, NumPy-2 ready implementation of the ReMU forward-folding toolkit:
multi-dimensional binnings, detector response matrices with their statistical and
systematic uncertainties, Poisson likelihoods, fits and hypothesis tests.

The public modules are imported on demand (``from remu import binning``), so that
``import remu`` stays cheap.
"""

from __future__ import annotations

from remu._version import __version__

__all__ = ["__version__"]
