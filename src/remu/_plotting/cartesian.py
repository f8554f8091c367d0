"""Corner plots of cartesian-product binnings: 2-D panels for pairs, 1-D margins."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._plotting.array import (
    _apply_density,
    apply_stack_functions,
    density_factors,
    draw_band,
    get_stack_functions,
)
from remu._plotting.binning import BinningPlotter, finite_bin_edges
from remu._rng import as_generator

__all__ = ["CartesianProductBinningPlotter", "RectilinearBinningPlotter"]


def _grid_layout(x_sizes: list[int], y_sizes: list[int]) -> dict[str, Any]:
    """``subplots`` keywords for a corner plot with the given numbers of bins."""
    widths = [0.1 * n for n in x_sizes]
    heights = [0.1 * n for n in reversed(y_sizes)]
    extent = min(max(sum(widths), sum(heights)), 4.0)
    if extent <= 0:
        msg = "nothing to plot: the binnings on the axes have no bins"
        raise ValueError(msg)
    scale = 4.0 / extent
    widths.append((6.0 if sum(widths) == 0 else 1.5) / scale)
    heights.insert(0, (4.0 if sum(heights) == 0 else 1.5) / scale)
    return {
        "nrows": len(heights),
        "ncols": len(widths),
        "sharex": "col",
        "sharey": "row",
        "squeeze": False,
        "figsize": (sum(widths) * scale, sum(heights) * scale),
        "gridspec_kw": {
            "width_ratios": widths,
            "height_ratios": heights,
            "wspace": 0.1 * widths[-1] / (sum(widths) / len(widths)),
            "hspace": 0.1 * heights[0] / (sum(heights) / len(heights)),
        },
    }


class CartesianProductBinningPlotter(BinningPlotter):
    """Corner plot of a :class:`~remu.binning.CartesianProductBinning`.

    The constituent binnings listed in ``x_axis_binnings`` are shown along the
    x axes, those in ``y_axis_binnings`` along the y axes (stacked bottom to
    top). Every (x, y) pair gets a 2-D panel; the top row shows the 1-D
    projections of the x binnings, the right-hand column those of the y
    binnings, and the top-right panel holds the legend. Axes show bin numbers
    (data indices of the constituents).

    Parameters
    ----------
    binning : CartesianProductBinning
    x_axis_binnings : list of int, optional
        Constituent indices on the x axes; default the first half
        (``range(ceil(n / 2))``).
    y_axis_binnings : list of int, optional
        Constituent indices on the y axes; default the rest.
    **kwargs
        Passed to :class:`BinningPlotter` (``figax``). ``marginalize_subbinnings``
        is always true and ``bins_per_row`` always -1.

    Attributes
    ----------
    x_axis_binnings, y_axis_binnings : list of int

    Examples
    --------
    >>> import io
    >>> from remu import binning
    >>> bx = binning.LinearBinning("x", [0, 1, 2, 3, 4, 5], dummy=True)
    >>> by = binning.LinearBinning("y", [0, 1, 2, 3, 4], dummy=True)
    >>> cp = binning.CartesianProductBinning([bx, by])
    >>> cp.set_values_from_ndarray(np.arange(20.0))
    >>> p = CartesianProductBinningPlotter(cp)
    >>> p.plot_values(label="values")
    >>> p.legend()
    >>> fig, axes = p.figax
    >>> axes.shape, [round(float(s), 2) for s in fig.get_size_inches()]
    ((2, 2), [5.5, 4.7])
    >>> axes[1, 0].get_xlabel(), axes[1, 0].get_ylabel()
    ('Binning 0 Bin #', 'Binning 1 Bin #')
    >>> p.savefig(io.BytesIO(), format="png")
    """

    def __init__(
        self,
        binning: Any,
        x_axis_binnings: Iterable[int] | None = None,
        y_axis_binnings: Iterable[int] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["marginalize_subbinnings"] = True
        kwargs["bins_per_row"] = -1
        super().__init__(binning, **kwargs)
        n_b = len(binning.binnings)
        half = math.ceil(n_b / 2)
        x = list(range(half)) if x_axis_binnings is None else list(x_axis_binnings)
        y = list(range(half, n_b)) if y_axis_binnings is None else list(y_axis_binnings)
        for name, indices in (("x_axis_binnings", x), ("y_axis_binnings", y)):
            for i in indices:
                if not isinstance(i, numbers.Integral) or not 0 <= i < n_b:
                    msg = (
                        f"{name} must list indices of the {n_b} constituent binnings "
                        f"(0 ... {n_b - 1}); got {i!r}"
                    )
                    raise ValueError(msg)
        both = sorted(set(x) & set(y))
        if both:
            msg = f"binnings {both} are on both the x and the y axes; use each on one axis only"
            raise ValueError(msg)
        self.x_axis_binnings = [int(i) for i in x]
        self.y_axis_binnings = [int(i) for i in y]

    # The constituent index is part of the API code written for ReMU calls, so this
    # override deliberately takes one argument more than ArrayPlotter's. Integer-centred
    # edges are the same for every constituent; subclasses with real edges use it.
    def get_bin_edges(  # type: ignore[override]
        self,
        i_min: int,
        i_max: int,
        j_binning: int,  # noqa: ARG002
    ) -> NDArray[np.float64]:
        """Edges of bins ``i_min`` ... ``i_max - 1`` of constituent ``j_binning``.

        Integer-centred, as in :meth:`ArrayPlotter.get_bin_edges`.

        Parameters
        ----------
        i_min, i_max : int
        j_binning : int
            Ignored here; subclasses use it.

        Returns
        -------
        ndarray of float
        """
        return np.arange(i_min, i_max + 1, dtype=float) - 0.5

    def get_axis_label(self, j_binning: int) -> str:  # type: ignore[override]
        """Axis label of constituent ``j_binning``: ``"Binning <j> Bin #"``."""
        return f"Binning {j_binning:d} Bin #"

    def _conform(self, a: NDArray[Any]) -> NDArray[Any]:
        # Extra to the reference: arrays shaped like the grid, (..., *bins_shape),
        # are accepted and flattened in the binning's (C) order.
        shape = tuple(int(n) for n in self.binning.bins_shape)
        k = len(shape)
        if k > 1 and a.ndim >= k and a.shape[a.ndim - k :] == shape:
            a = a.reshape((*a.shape[: a.ndim - k], -1))
        return super()._conform(a)

    def _density_set(self, density: Any) -> set[int]:
        if isinstance(density, (list, tuple, set, frozenset, np.ndarray)):
            return {int(i) for i in np.asarray(list(density)).ravel()}
        if density:
            return set(range(len(self.binning.binnings)))
        return set()

    def _project(
        self,
        grid: NDArray[Any],
        keep: tuple[int, ...],
        margin_function: Callable[..., Any],
    ) -> NDArray[np.float64]:
        """Reduce all binning axes of ``grid (n_stack, *bins_shape)`` except ``keep``."""
        n_b = grid.ndim - 1
        axes = tuple(1 + k for k in range(n_b) if k not in keep)
        projected = margin_function(grid, axis=axes) if axes else grid
        projected = np.asarray(projected, dtype=float)
        expected = (grid.shape[0], *(grid.shape[1 + k] for k in sorted(keep)))
        if projected.shape != expected:
            msg = (
                f"margin_function {margin_function!r} returned shape {projected.shape}; "
                f"expected {expected} (a reduction over the axes {axes})"
            )
            raise ValueError(msg)
        return projected

    def plot_array(
        self,
        array: ArrayLike | None = None,
        density: Any = True,
        stack_function: Any = np.mean,
        margin_function: Callable[..., Any] | None = np.sum,
        scatter: int = -1,
        *,
        rng: Any = None,
        **kwargs: Any,
    ) -> None:
        """Add one layer to the corner plot.

        Parameters
        ----------
        array : array_like, optional
            One array of the binning's data size (or of ``nbins`` when it has
            top-level subbinnings), a sequence of them or a 2-D stack. Default:
            the binning's values.
        density : bool or list of int
            Divide by the relative bin widths of all constituents (``True``),
            none (``False``) or only of those listed.
        stack_function : float, callable or pair of callables
            How the stack is summarised, see
            :func:`remu._plotting.array.get_stack_functions`. The 2-D panels
            show the upper value.
        margin_function : callable, optional
            ``f(array, axis=tuple)`` that projects out the other constituents,
            default (also for ``None``) :func:`numpy.sum` (e.g. ``np.max``,
            ``np.median``).
        scatter : int
            If ``>= 0``, draw the 2-D panels as a scatter of this many random
            points (distributed like the cell values, so layers can be
            overlaid) instead of colour maps; ``0`` draws nothing there.
        rng : optional
            Random numbers for ``scatter`` (extra to the reference); see
            :func:`remu._rng.as_generator`.
        **kwargs
            Passed to the 1-D ``fill_between``/``fill_betweenx`` calls; ``color``
            is also used for the scatter points.

        Raises
        ------
        TypeError
            For arrays of the wrong shape or an unknown stack function.
        ValueError
            For a quantile outside [0, 1] or a margin function returning the
            wrong shape.
        """
        lower, upper = get_stack_functions(stack_function)
        if margin_function is None:
            margin_function = np.sum
        arrays = self._get_arrays(array)
        bins_shape = tuple(int(n) for n in self.binning.bins_shape)
        grid = arrays.reshape((arrays.shape[0], *bins_shape))
        dens = self._density_set(density)
        x_bins, y_bins = self.x_axis_binnings, self.y_axis_binnings

        # Everything is computed before anything is drawn: bad input leaves no half layer.
        maps = {}
        for i in x_bins:
            for j in y_bins:
                _, data = apply_stack_functions(
                    lower, upper, self._project(grid, (i, j), margin_function)
                )
                maps[i, j] = data.T if i < j else data  # rows: y bins, columns: x bins
        margins = {
            i: apply_stack_functions(lower, upper, self._project(grid, (i,), margin_function))
            for i in (*x_bins, *y_bins)
        }
        edges = {i: self.get_bin_edges(0, bins_shape[i], i) for i in (*x_bins, *y_bins)}

        _, axes = self.subplots(
            **_grid_layout([bins_shape[i] for i in x_bins], [bins_shape[j] for j in y_bins])
        )
        color, hatch = self._next_style(kwargs)
        axes[0, -1].set_axis_off()
        generator = as_generator(rng) if scatter > 0 else None

        for c, i in enumerate(x_bins):
            for k, j in enumerate(y_bins):
                ax = axes[-k - 1, c]
                if scatter >= 0:
                    self._draw_scatter(
                        ax, maps[i, j], edges[i], edges[j], scatter, color, generator
                    )
                else:
                    self._draw_map(ax, maps[i, j], edges[i], edges[j], i in dens, j in dens)
        for position, i in enumerate((*x_bins, *y_bins)):
            vertical = position >= len(x_bins)
            ax = axes[-(position - len(x_bins)) - 1, -1] if vertical else axes[0, position]
            lo, hi = margins[i]
            if i in dens:
                factors = density_factors(edges[i])
                lo, hi = _apply_density(lo, factors), _apply_density(hi, factors)
            draw_band(ax, edges[i], hi, lo, color, hatch, kwargs, vertical=vertical)

        for c, i in enumerate(x_bins):
            axes[-1, c].set_xlabel(self.get_axis_label(i))
        for k, j in enumerate(y_bins):
            axes[-k - 1, 0].set_ylabel(self.get_axis_label(j))

    @staticmethod
    def _draw_map(
        ax: Any,
        data: NDArray[np.float64],
        x_edges: NDArray[np.float64],
        y_edges: NDArray[np.float64],
        x_density: bool,
        y_density: bool,
    ) -> None:
        if x_density:
            data = _apply_density(data, density_factors(x_edges)[np.newaxis, :])
        if y_density:
            data = _apply_density(data, density_factors(y_edges)[:, np.newaxis])
        if data.sum() == 0:
            # An all-zero map has no colour scale; draw it uniformly instead.
            data = np.full_like(data, 0.001)
        # What ``hist2d`` of the cell centres weighted by the values draws, without
        # histogramming: one colour-mapped cell per bin, limits at the outer edges.
        ax.pcolormesh(x_edges, y_edges, data)
        ax.set_xlim(x_edges[0], x_edges[-1])
        ax.set_ylim(y_edges[0], y_edges[-1])

    @staticmethod
    def _draw_scatter(
        ax: Any,
        data: NDArray[np.float64],
        x_edges: NDArray[np.float64],
        y_edges: NDArray[np.float64],
        n_points: int,
        color: Any,
        generator: np.random.Generator | None,
    ) -> None:
        weights = np.clip(np.nan_to_num(data.ravel(), nan=0.0, posinf=0.0), 0.0, None)
        total = weights.sum()
        if not total > 0:
            # Nothing to sample from: draw no points. (ReMU 0.8.0 divides by the zero
            # total here and fails with an IndexError.)
            return
        if n_points <= 0 or generator is None:
            # An empty point cloud, as the reference draws for scatter=0.
            ax.scatter(np.zeros(0), np.zeros(0), s=1, color=color, marker="s", linewidths=0)
            return
        cumulative = np.cumsum(weights) / total
        cell = np.searchsorted(cumulative, generator.uniform(size=n_points), side="right")
        cell = np.minimum(cell, weights.size - 1)
        y_bin, x_bin = np.divmod(cell, data.shape[1])
        x = generator.uniform(x_edges[x_bin], x_edges[x_bin + 1])
        y = generator.uniform(y_edges[y_bin], y_edges[y_bin + 1])
        # Tiny squares: the pixel marker "," is not supported by scatter() (it warns).
        ax.scatter(x, y, s=1, color=color, marker="s", linewidths=0)

    def legend(self, **kwargs: Any) -> None:
        """Draw the legend into the empty top-right panel.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`~matplotlib.axes.Axes.legend` (defaults
            ``loc="center"``, ``borderaxespad=0.0``, ``frameon=False``).

        Raises
        ------
        TypeError
            If nothing has been plotted yet.
        """
        axes = self._require_figure("draw a legend")[1]
        # Layers are labelled in every 1-D panel; take them from the first one.
        source = axes[0, 0] if self.x_axis_binnings else axes[-1, -1]
        handles, labels = source.get_legend_handles_labels()
        options = {"loc": "center", "borderaxespad": 0.0, "frameon": False, **kwargs}
        axes[0, -1].legend(handles, labels, **options)


class RectilinearBinningPlotter(CartesianProductBinningPlotter):
    """Corner plot of a :class:`~remu.binning.RectilinearBinning` in real coordinates.

    Parameters
    ----------
    binning : RectilinearBinning
    x_axis_binnings, y_axis_binnings : list of str or int, optional
        Variables (names or indices) on the x and y axes; defaults as in
        :class:`CartesianProductBinningPlotter` (first half of the variables on
        x, the rest on y). A single name may be given as a string.
    **kwargs
        Passed to :class:`CartesianProductBinningPlotter` (``figax``).

    Raises
    ------
    ValueError
        For a variable the binning does not have.

    Examples
    --------
    >>> import io
    >>> from remu import binning
    >>> rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    >>> rb.set_values_from_ndarray(np.arange(6.0))
    >>> p = RectilinearBinningPlotter(rb, x_axis_binnings=["x"], y_axis_binnings=["y"])
    >>> p.plot_values(density=False, margin_function=np.max, label="max")
    >>> p.plot_values(density=False, margin_function=np.min, label="min", scatter=500, rng=1)
    >>> p.legend()
    >>> fig, axes = p.figax
    >>> axes.shape
    (2, 2)
    >>> axes[1, 0].get_xlabel(), axes[1, 0].get_ylabel()
    ('x', 'y')
    >>> p.savefig(io.BytesIO(), format="png")
    """

    def __init__(
        self,
        binning: Any,
        x_axis_binnings: Iterable[str | int] | str | None = None,
        y_axis_binnings: Iterable[str | int] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            binning,
            x_axis_binnings=self._variable_indices(binning, x_axis_binnings),
            y_axis_binnings=self._variable_indices(binning, y_axis_binnings),
            **kwargs,
        )

    @staticmethod
    def _variable_indices(binning: Any, variables: Any) -> list[int] | None:
        if variables is None:
            return None
        if isinstance(variables, (str, numbers.Integral)):
            variables = [variables]
        indices = []
        for variable in variables:  # a handful of axis names, not data
            if isinstance(variable, numbers.Integral):
                indices.append(int(variable))
                continue
            try:
                indices.append(binning.get_variable_index(variable))
            except ValueError:
                msg = (
                    f"the binning has no variable {variable!r} "
                    f"(variables: {', '.join(map(str, binning.variables))})"
                )
                raise ValueError(msg) from None
        return indices

    # The constituent index is part of the API code written for ReMU calls, so this
    # override deliberately takes one argument more than ArrayPlotter's.
    def get_bin_edges(  # type: ignore[override]
        self, i_min: int, i_max: int, j_binning: int
    ) -> NDArray[np.float64]:
        """Real edges of bins ``i_min`` ... ``i_max - 1`` of variable ``j_binning``.

        Infinite outer edges are made finite as for
        :meth:`LinearBinningPlotter.get_bin_edges`.

        Parameters
        ----------
        i_min, i_max : int
        j_binning : int

        Returns
        -------
        ndarray of float
        """
        return finite_bin_edges(self.binning.binnings[j_binning].bin_edges[i_min : i_max + 1])

    def get_axis_label(self, j_binning: int) -> str:  # type: ignore[override]
        """Axis label of variable ``j_binning``: its name."""
        return str(self.binning.binnings[j_binning].variable)
