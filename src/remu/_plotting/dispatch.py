"""Choose the plotter class for an object."""

from __future__ import annotations

from typing import Any

import numpy as np

from remu._plotting.array import ArrayPlotter
from remu._plotting.base import Plotter
from remu._plotting.binning import BinningPlotter, LinearBinningPlotter
from remu._plotting.cartesian import CartesianProductBinningPlotter, RectilinearBinningPlotter

__all__ = ["get_plotter"]


def get_plotter(obj: Any, *args: Any, **kwargs: Any) -> Plotter:
    """Return a plotter suited to ``obj``.

    Dispatch, checked in this order with :func:`isinstance`:

    ==============================  =================================
    ``obj``                         plotter
    ==============================  =================================
    ``RectilinearBinning``          :class:`RectilinearBinningPlotter`
    ``LinearBinning``               :class:`LinearBinningPlotter`
    ``CartesianProductBinning``     :class:`CartesianProductBinningPlotter`
    any other ``Binning``           :class:`BinningPlotter`
    ``numpy.ndarray``               :class:`ArrayPlotter`
    ==============================  =================================

    Parameters
    ----------
    obj : Binning or ndarray
    *args, **kwargs
        Passed to the plotter's constructor (e.g. the axis selections of a
        rectilinear plotter).

    Returns
    -------
    Plotter

    Raises
    ------
    TypeError
        For any other type (e.g. a Python list).

    Examples
    --------
    >>> import numpy as np
    >>> type(get_plotter(np.zeros(3))).__name__
    'ArrayPlotter'
    >>> get_plotter([1, 2])
    Traceback (most recent call last):
    ...
    TypeError: No known Plotter class for type <class 'list'>
    """
    # Imported on use: `import remu.plotting` stays light and free of import cycles.
    from remu import binning

    if isinstance(obj, binning.RectilinearBinning):
        return RectilinearBinningPlotter(obj, *args, **kwargs)
    if isinstance(obj, binning.LinearBinning):
        return LinearBinningPlotter(obj, *args, **kwargs)
    if isinstance(obj, binning.CartesianProductBinning):
        return CartesianProductBinningPlotter(obj, *args, **kwargs)
    if isinstance(obj, binning.Binning):
        return BinningPlotter(obj, *args, **kwargs)
    if isinstance(obj, np.ndarray):
        return ArrayPlotter(obj, *args, **kwargs)
    msg = f"No known Plotter class for type {type(obj)}"
    raise TypeError(msg)
