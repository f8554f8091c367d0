"""Binnings: bins, multi-dimensional grids, products and nested subbinnings.

This is the public facade; the implementation lives in :mod:`remu._binning`.

Events are filled with :meth:`Binning.fill` from a dict, a dict of arrays, a
list of dicts, a structured array or a DataFrame. Each binning owns three data
arrays (``value_array``, ``entries_array``, ``sumw2_array``); its bins and
subbinnings are views into them.

``mapper`` is the ``map``-like function used for the event look-ups of
:meth:`Binning.fill`; set ``remu.binning.mapper = pool.map`` to parallelise them.

Examples
--------
>>> from remu import binning
>>> rl = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2, 3, 4]])
>>> rl.fill([{"x": 0.5, "y": 1.5}, {"x": 1.5, "y": 3.5}], weight=2.0)
>>> rl.get_values_as_ndarray(shape=rl.bins_shape)
array([[0., 2., 0., 0.],
       [0., 0., 0., 2.]])
>>> print(binning.yaml.dump(binning.LinearBinning("E", [0, 2, 4])), end="")
!LinearBinning
bin_edges:
- 0.0
- 2.0
- 4.0
include_upper: false
phasespace: !PhaseSpace
- E
subbinnings: {}
variable: E
"""

from __future__ import annotations

from remu import _facade
from remu._binning.binning import Binning
from remu._binning.bins import Bin, CartesianProductBin, RectangularBin
from remu._binning.cartesian import CartesianProductBinning
from remu._binning.linear import LinearBinning
from remu._binning.phasespace import PhaseSpace
from remu._binning.rectangular import RectangularBinning
from remu._binning.rectilinear import RectilinearBinning

__all__ = [
    "Bin",
    "Binning",
    "CartesianProductBin",
    "CartesianProductBinning",
    "LinearBinning",
    "PhaseSpace",
    "RectangularBin",
    "RectangularBinning",
    "RectilinearBinning",
    "mapper",
]

#: Names ReMU's ``binning`` module imported at its top, which scripts use as
#: ``binning.yaml.dump(...)`` or ``binning.np``; imported on first use.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    "np": "numpy",
    "yaml": "remu.yaml",
    "deepcopy": "copy:deepcopy",
    "rename_fields": "numpy.lib.recfunctions:rename_fields",
    "TemporaryFile": "tempfile:TemporaryFile",
}

#: The ``map``-like function used for the event look-ups of :meth:`Binning.fill`,
#: called as ``mapper(function, chunks)`` (default: the builtin :func:`map`). It is
#: read on every call, so ``remu.binning.mapper = pool.map`` takes effect at once.
#: The value lives in remu._state; install() makes this a property of the module.
mapper = map  # for static tools; install() replaces it by the property
_facade.install(__name__, legacy=_LEGACY_NAMES, state={"mapper": "binning"})
