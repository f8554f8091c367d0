"""Plot binnings and arrays with Matplotlib.

A plotter owns one figure; every ``plot_*`` call adds one layer (a step
histogram or a band over a stack of arrays) in the next colour and hatch.
:func:`get_plotter` picks the plotter that suits a binning::

    from remu import plotting
    pltr = plotting.get_plotter(binning)
    pltr.plot_values(label="values")
    pltr.plot_entries(density=False, label="entries", hatch=None)
    pltr.legend()
    pltr.savefig("out.png")

Figures are headless unless the user works with pyplot: see
:mod:`remu._plotting.base` for how figures are created. remu never calls
``show()`` and never changes the Matplotlib backend.
"""

from __future__ import annotations

from remu import _facade
from remu._plotting.array import ArrayPlotter
from remu._plotting.base import Plotter
from remu._plotting.binning import BinningPlotter, LinearBinningPlotter
from remu._plotting.cartesian import CartesianProductBinningPlotter, RectilinearBinningPlotter
from remu._plotting.dispatch import get_plotter

__all__ = [
    "ArrayPlotter",
    "BinningPlotter",
    "CartesianProductBinningPlotter",
    "LinearBinningPlotter",
    "Plotter",
    "RectilinearBinningPlotter",
    "get_plotter",
]

#: Names ReMU's ``plotting`` module imported at its top; imported on first use (so
#: ``import remu.plotting`` does not import pyplot).
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    "np": "numpy",
    "plt": "matplotlib.pyplot",
    "ticker": "matplotlib.ticker",
    "cycle": "itertools:cycle",
    "binning": "remu.binning",
}

_facade.install(__name__, legacy=_LEGACY_NAMES)
