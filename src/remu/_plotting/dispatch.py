"""Choose the plotter class for an object."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from remu._plotting.array import ArrayPlotter
from remu._plotting.base import Plotter
from remu._plotting.binning import BinningPlotter, LinearBinningPlotter
from remu._plotting.cartesian import CartesianProductBinningPlotter, RectilinearBinningPlotter

__all__ = ["get_plotter"]


@functools.cache
def _plotter_for() -> Callable[..., Plotter]:
    """Choose the plotter of an object by its type (a :func:`functools.singledispatch` function).

    Each plotter is registered for the class it draws; an object gets the plotter of
    the nearest class in its method resolution order, so a subclass of
    ``LinearBinning`` is drawn like one, and a ``RectilinearBinning`` (a Cartesian
    product of linear binnings) gets its own plotter rather than the product's.
    Built on first use, so that importing the plotting module does not import the
    binning classes.
    """
    from remu._binning.binning import Binning
    from remu._binning.cartesian import CartesianProductBinning
    from remu._binning.linear import LinearBinning
    from remu._binning.rectilinear import RectilinearBinning

    @functools.singledispatch
    # The fallback of the dispatch: the plotter's arguments do not matter here.
    def plotter_for(obj: Any, *_args: Any, **_kwargs: Any) -> Plotter:
        msg = f"No known Plotter class for type {type(obj)}"
        raise TypeError(msg)

    registry: dict[type, type[Plotter]] = {
        np.ndarray: ArrayPlotter,
        Binning: BinningPlotter,
        LinearBinning: LinearBinningPlotter,
        CartesianProductBinning: CartesianProductBinningPlotter,
        RectilinearBinning: RectilinearBinningPlotter,
    }
    for kind, plotter in registry.items():
        plotter_for.register(kind, plotter)
    return plotter_for


def get_plotter(obj: Any, *args: Any, **kwargs: Any) -> Plotter:
    """Return a plotter suited to ``obj``.

    The plotter is the one registered for the nearest class of ``obj`` (its own
    class first, then its bases in method resolution order):

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
    return _plotter_for()(obj, *args, **kwargs)
