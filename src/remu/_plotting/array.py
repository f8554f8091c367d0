"""Histograms of plain arrays over bin numbers, stack functions and step bands.

A *layer* is one ``plot_*`` call. It draws a step band from ``lower(stack)`` to
``upper(stack)`` per bin, where ``stack`` holds one or more arrays (e.g. toy
variations, shape ``(n_stack, n_bins)``) and ``(lower, upper)`` come from the
*stack function* (:func:`get_stack_functions`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from remu._plotting.base import Plotter

__all__ = [
    "ArrayPlotter",
    "apply_stack_functions",
    "density_factors",
    "draw_band",
    "get_stack_functions",
]

StackFunction = Callable[..., Any]


def _quantile_band(q: float) -> tuple[StackFunction, StackFunction]:
    low_q = (1.0 - q) / 2.0
    high_q = 1.0 - low_q

    def lower(x: NDArray[Any], axis: int = 0) -> NDArray[np.float64]:
        return np.asarray(np.quantile(x, low_q, axis=axis), dtype=float)

    def upper(x: NDArray[Any], axis: int = 0) -> NDArray[np.float64]:
        return np.asarray(np.quantile(x, high_q, axis=axis), dtype=float)

    return lower, upper


def _zeros(x: NDArray[Any], axis: int = 0) -> NDArray[Any]:
    return np.asarray(np.zeros_like(x).sum(axis=axis))


def get_stack_functions(stack_function: Any) -> tuple[StackFunction, StackFunction]:
    """Turn a ``stack_function`` argument into ``(lower, upper)`` reductions.

    Parameters
    ----------
    stack_function : float, callable or pair of callables
        * a number ``q`` in [0, 1]: the equal-tailed quantile band holding the
          fraction ``q`` of the stack (``0.68`` is the central 68 % band);
        * a pair ``(f_lower, f_upper)`` of functions ``f(x, axis=0)``: used as
          given;
        * a single function ``f(x, axis=0)`` (e.g. ``np.mean``): the band spans
          from 0 to ``f(stack)``, i.e. an ordinary histogram.

    Returns
    -------
    (lower, upper) : tuple of callables

    Raises
    ------
    ValueError
        For a number outside [0, 1].
    TypeError
        For anything else that is not one of the forms above.

    Examples
    --------
    >>> import numpy as np
    >>> lo, hi = get_stack_functions(0.5)
    >>> x = np.arange(5.0)[:, np.newaxis]
    >>> lo(x, axis=0), hi(x, axis=0)
    (array([1.]), array([3.]))
    >>> lo, hi = get_stack_functions(np.max)
    >>> lo(x, axis=0), hi(x, axis=0)
    (array([0.]), array([4.]))
    """
    if isinstance(stack_function, numbers.Real) or (
        isinstance(stack_function, np.ndarray)
        and stack_function.ndim == 0
        and np.issubdtype(stack_function.dtype, np.number)
    ):
        q = float(stack_function)
        if not 0.0 <= q <= 1.0:
            msg = (
                f"stack_function as a number is the fraction of the stack inside the band "
                f"and must be within [0, 1]; got {stack_function!r}"
            )
            raise ValueError(msg)
        return _quantile_band(q)
    if callable(stack_function):
        return _zeros, stack_function
    if isinstance(stack_function, (tuple, list)) and len(stack_function) == 2:
        lower, upper = stack_function
        if callable(lower) and callable(upper):
            return lower, upper
    msg = (
        "unknown stack_function: expected a number in [0, 1] (quantile band), a function "
        f"f(x, axis=0) or a pair of such functions; got {stack_function!r}"
    )
    raise TypeError(msg)


def apply_stack_functions(
    lower: StackFunction, upper: StackFunction, stack: NDArray[Any]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Reduce ``stack`` over its first axis to the band's lower and upper edges.

    Parameters
    ----------
    lower, upper : callable
        From :func:`get_stack_functions`.
    stack : ndarray, shape (n_stack, ...)

    Returns
    -------
    (lo, hi) : tuple of float ndarrays of shape ``stack.shape[1:]``

    Raises
    ------
    ValueError
        If a stack function returns an array of the wrong shape.
    """
    expected = stack.shape[1:]
    result = []
    for name, function in (("lower", lower), ("upper", upper)):
        edge = np.asarray(function(stack, axis=0), dtype=float)
        if edge.shape != expected:
            msg = (
                f"the {name} stack function {function!r} returned shape {edge.shape}; "
                f"expected {expected} (a reduction over axis 0 of the stack {stack.shape})"
            )
            raise ValueError(msg)
        result.append(edge)
    return result[0], result[1]


def density_factors(edges: NDArray[np.float64]) -> NDArray[np.float64]:
    """Factors that divide values by their *relative* bin width.

    Parameters
    ----------
    edges : ndarray, shape (n + 1,)

    Returns
    -------
    ndarray, shape (n,)
        ``(edges[-1] - edges[0]) / np.diff(edges)``; infinite for zero-width bins.

    Examples
    --------
    >>> density_factors(np.array([0.0, 1.0, 4.0]))
    array([4.        , 1.33333333])
    """
    widths = np.diff(edges)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((edges[-1] - edges[0]) / widths, dtype=float)


def _apply_density(values: NDArray[np.float64], factors: NDArray[np.float64]) -> NDArray[Any]:
    # Zero-width bins give inf (or nan for empty ones): intended, nothing to hide.
    with np.errstate(invalid="ignore", over="ignore"):
        return values * factors


def draw_band(
    ax: Axes,
    edges: NDArray[np.float64],
    hi: NDArray[np.float64],
    lo: NDArray[np.float64],
    color: Any,
    hatch: Any,
    kwargs: dict[str, Any],
    *,
    vertical: bool = False,
) -> Any:
    """Draw one step band of a layer.

    Parameters
    ----------
    ax : Axes
    edges : ndarray, shape (n + 1,)
    hi, lo : ndarray, shape (n,)
        Upper and lower edge of the band per bin.
    color, hatch
        Defaults of the layer for the outline colour and the hatch.
    kwargs : dict
        User keywords for :meth:`~matplotlib.axes.Axes.fill_between`; they
        override the defaults (``color=`` therefore fills the band).
    vertical : bool
        Draw along the y axis (:meth:`~matplotlib.axes.Axes.fill_betweenx`), as
        in the right-hand margins of corner plots.

    Returns
    -------
    matplotlib.collections.FillBetweenPolyCollection
    """
    hi_ext = np.append(hi, hi[-1])
    lo_ext = np.append(lo, lo[-1])
    options = {
        "step": "post",
        "edgecolor": color,
        "hatch": hatch,
        "facecolor": "none",
        **kwargs,
    }
    if vertical:
        band = ax.fill_betweenx(edges, hi_ext, lo_ext, **options)
        band.sticky_edges.x.append(float(np.min(lo)))
        ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    else:
        band = ax.fill_between(edges, hi_ext, lo_ext, **options)
        band.sticky_edges.y.append(float(np.min(lo)))
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    ax.autoscale_view()
    return band


class ArrayPlotter(Plotter):
    """Plot 1-D arrays as histograms over integer bin numbers.

    Parameters
    ----------
    array : ndarray
        The reference array; every array plotted later must have its shape.
    bins_per_row : int, optional
        Bins per row of panels (default 25); a value below 1 puts all bins in
        one row.
    **kwargs
        Passed to :class:`Plotter` (``figax``).

    Attributes
    ----------
    array : ndarray
    bins_per_row : int

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> arr = np.array([1.0, 3.0, 2.0, 5.0])
    >>> p = ArrayPlotter(arr, bins_per_row=3)
    >>> p.plot_array(hatch=None, label="nominal")
    >>> p.plot_array([arr * 0.9, arr, arr * 1.1], stack_function=0.68, label="toys")
    >>> p.legend()
    >>> p.figax[1].shape
    (2, 1)
    >>> p.savefig(io.BytesIO(), format="png")
    """

    def __init__(
        self,
        array: NDArray[Any],
        bins_per_row: int = 25,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(bins_per_row, numbers.Integral):
            msg = f"bins_per_row must be an integer; got {bins_per_row!r}"
            raise TypeError(msg)
        self.array: NDArray[Any] = array
        self.bins_per_row: int = int(bins_per_row)

    #: The stack-function parser under the reference's (private) name.
    _get_stack_functions = staticmethod(get_stack_functions)

    # -- arrays -------------------------------------------------------------------

    def _expected_shapes(self) -> str:
        return f"{np.shape(self.array)}"

    def _conform(self, a: NDArray[Any]) -> NDArray[Any]:
        """Bring an input array to the reference layout (a hook for subclasses)."""
        return a

    def _shape_error(self, got: tuple[int, ...]) -> TypeError:
        ref = np.shape(self.array)
        msg = (
            "Array must be of equal shape as the initial one: expected shape "
            f"{self._expected_shapes()} (or a stack of shape (n_stack, *{ref})), got {got}"
        )
        return TypeError(msg)

    def _get_array(self, a: ArrayLike | None = None) -> NDArray[Any]:
        """One array in the reference shape (``None`` is the reference array)."""
        if a is None:
            return np.asarray(self.array)
        arr = self._conform(np.asarray(a))
        if arr.shape != np.shape(self.array):
            raise self._shape_error(arr.shape)
        return arr

    def _get_arrays(self, arrays: ArrayLike | None) -> NDArray[Any]:
        """Make a stack ``(n_stack, *reference shape)`` from one array or a sequence of arrays."""
        if arrays is None:
            stack = np.asarray(self.array)[np.newaxis]
        else:
            try:
                candidate = np.asarray(arrays)
            except ValueError:
                # A ragged sequence, e.g. full-size and marginalised arrays mixed.
                if not isinstance(arrays, (list, tuple)):
                    raise
                stack = np.array([self._get_array(a) for a in arrays])
            else:
                ref = np.shape(self.array)
                candidate = self._conform(candidate)
                if candidate.shape == ref:
                    stack = candidate[np.newaxis]
                elif candidate.shape[1:] == ref:
                    stack = candidate
                else:
                    raise self._shape_error(candidate.shape)
        if not (np.issubdtype(stack.dtype, np.number) or stack.dtype == bool):
            msg = f"arrays to plot must be numeric; got dtype {stack.dtype}"
            raise TypeError(msg)
        return stack

    # -- geometry -----------------------------------------------------------------

    def get_bin_edges(self, i_min: int, i_max: int) -> NDArray[np.float64]:
        """Edges of bins ``i_min`` ... ``i_max - 1``, centred on the bin numbers.

        Parameters
        ----------
        i_min, i_max : int

        Returns
        -------
        ndarray, shape (i_max - i_min + 1,)

        Examples
        --------
        >>> ArrayPlotter(np.zeros(3)).get_bin_edges(1, 3)
        array([0.5, 1.5, 2.5])
        """
        return np.arange(i_min, i_max + 1, dtype=float) - 0.5

    def get_axis_label(self) -> str:
        """Return the x-axis label: ``"Bin #"``."""
        return "Bin #"

    def _next_style(self, kwargs: dict[str, Any]) -> tuple[Any, Any]:
        # Both cycles advance on every layer, also when the caller sets the style.
        color = next(self.color)
        hatch = next(self.hatch)
        return kwargs.get("color", color), kwargs.get("hatch", hatch)

    # -- plotting -----------------------------------------------------------------

    def plot_array(
        self,
        array: ArrayLike | None = None,
        density: bool = False,
        stack_function: Any = np.mean,
        margin_function: Callable[..., Any] | None = None,
        *,
        scatter: int = -1,
        rng: Any = None,
        **kwargs: Any,
    ) -> None:
        """Add one layer: a step histogram (band) of an array or a stack of arrays.

        Parameters
        ----------
        array : array_like, optional
            One array of the reference shape, a sequence of them or a 2-D array
            ``(n_stack, n_bins)``. Default: the reference array.
        density : bool
            Divide each value by its bin width relative to the total width of
            the bins in its row of panels.
        stack_function : float, callable or pair of callables
            How the stack is summarised, see :func:`get_stack_functions`.
            Default :func:`numpy.mean`: a histogram of the mean.
        margin_function : callable, optional
            Ignored here; accepted so that the same keywords work with every
            plotter.
        scatter : int
            Ignored here (extra to the reference, for the same reason).
        rng : optional
            Ignored here (extra to the reference, for the same reason).
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.fill_between`, e.g.
            ``label``, ``edgecolor``, ``hatch``, ``linestyle``, ``alpha``,
            ``color`` (which fills the band).

        Raises
        ------
        TypeError
            For arrays of the wrong shape or an unknown stack function.
        ValueError
            For an empty array or a quantile outside [0, 1].
        """
        del margin_function, scatter, rng
        lower, upper = get_stack_functions(stack_function)
        arrays = self._get_arrays(array)
        n = arrays.shape[-1] if arrays.ndim > 1 else 0
        if n == 0:
            msg = "nothing to plot: the array has no bins"
            raise ValueError(msg)
        if arrays.ndim != 2:
            msg = f"ArrayPlotter plots 1-D arrays; got arrays of shape {arrays.shape[1:]}"
            raise TypeError(msg)
        per_row = int(self.bins_per_row)
        if per_row >= 1:
            n_rows = math.ceil(n / per_row)
        else:
            n_rows, per_row = 1, n
        _, axes = self.subplots(
            nrows=n_rows, sharey=True, figsize=(6.4, max(2.4 * n_rows, 4.8)), squeeze=False
        )
        color, hatch = self._next_style(kwargs)
        lo, hi = apply_stack_functions(lower, upper, arrays)
        for row in range(n_rows):
            i_min = row * per_row
            i_max = min((row + 1) * per_row, n)
            edges = self.get_bin_edges(i_min, i_max)
            row_hi, row_lo = hi[i_min:i_max], lo[i_min:i_max]
            if density:
                factors = density_factors(edges)
                row_hi = _apply_density(row_hi, factors)
                row_lo = _apply_density(row_lo, factors)
            draw_band(axes[row, 0], edges, row_hi, row_lo, color, hatch, kwargs)
        axes[-1, 0].set_xlabel(self.get_axis_label())

    def legend(self, **kwargs: Any) -> None:
        """Draw the legend in the top panel.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.legend` (default ``loc="best"``).

        Raises
        ------
        TypeError
            If nothing has been plotted yet.
        """
        axes = self._require_figure("draw a legend")[1]
        axes[0, 0].legend(**{"loc": "best", **kwargs})
