"""Plotters for binnings drawn bin by bin, and for 1-D binnings in real coordinates."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._plotting.array import ArrayPlotter

__all__ = [
    "BinningPlotter",
    "LinearBinningPlotter",
    "bin_data_starts",
    "finite_bin_edges",
    "marginalize_top_subbinnings",
]


def finite_bin_edges(bin_edges: ArrayLike) -> NDArray[np.float64]:
    """Replace infinite outer edges with finite ones, for drawing.

    An infinite first edge mirrors the width of the neighbouring bin (or lies
    one unit below the next edge, or at -0.5 when that is infinite too); an
    infinite last edge likewise.

    Parameters
    ----------
    bin_edges : array_like, shape (n + 1,)

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> finite_bin_edges([0, 1, 5, 7, np.inf])
    array([0., 1., 5., 7., 9.])
    >>> finite_bin_edges([-np.inf, 0, 5, 10, np.inf])
    array([-5.,  0.,  5., 10., 15.])
    """
    edges = [float(e) for e in np.asarray(bin_edges, dtype=float)]
    if len(edges) < 2:
        return np.asarray(edges, dtype=float)
    if not np.isfinite(edges[0]):
        if len(edges) >= 3 and np.isfinite(edges[2]):
            edges[0] = edges[1] - (edges[2] - edges[1])
        elif np.isfinite(edges[1]):
            edges[0] = edges[1] - 1.0
        else:
            edges[0] = -0.5
    if not np.isfinite(edges[-1]):
        if len(edges) >= 3 and np.isfinite(edges[-3]):
            edges[-1] = edges[-2] + (edges[-2] - edges[-3])
        else:
            edges[-1] = edges[-2] + 1.0
    return np.asarray(edges, dtype=float)


def bin_data_starts(binning: Any) -> NDArray[np.intp]:
    """Return the data index of every (native) bin of ``binning``.

    Equivalent to ``[binning.get_bin_data_index(i) for i in range(binning.nbins)]``
    but computed with one cumulative sum over the subbinning sizes.
    """
    nbins = int(binning.nbins)
    extra = np.zeros(nbins, dtype=np.intp)
    for k, sub in binning.subbinnings.items():  # one step per subbinning, not per bin
        if 0 <= k < nbins - 1:
            extra[k + 1] += sub.data_size - 1
    return np.arange(nbins, dtype=np.intp) + np.cumsum(extra)


def marginalize_top_subbinnings(binning: Any, stack: NDArray[Any]) -> NDArray[Any]:
    """Sum every top-level subbinning block into its bin, along the last axis.

    The vectorised counterpart of ``binning.marginalize_subbinnings_on_ndarray``
    for a whole stack ``(..., data_size)`` at once.

    Parameters
    ----------
    binning : Binning
    stack : ndarray, shape (..., binning.data_size)

    Returns
    -------
    ndarray, shape (..., binning.nbins)
    """
    if not binning.subbinnings:
        return stack
    return np.add.reduceat(stack, bin_data_starts(binning), axis=-1)


class BinningPlotter(ArrayPlotter):
    """Plot any :class:`~remu.binning.Binning` bin by bin (x axis: bin number).

    Parameters
    ----------
    binning : Binning
        The binning; its ``value_array`` is the reference array.
    marginalize_subbinnings : bool
        Sum every subbinning into its parent bin before plotting, so the x axis
        shows ``binning.nbins`` bins instead of ``binning.data_size``.
    **kwargs
        Passed to :class:`ArrayPlotter` (``bins_per_row``, ``figax``).

    Attributes
    ----------
    binning : Binning
    marginalize_subbinnings : bool

    Examples
    --------
    >>> import io
    >>> from remu import binning
    >>> b = binning.LinearBinning("x", [0.0, 1.0, 2.0, 3.0])
    >>> b.set_values_from_ndarray([1.0, 2.0, 3.0])
    >>> p = BinningPlotter(b)
    >>> p.plot_values(label="values")
    >>> p.figax[1][-1, 0].get_xlabel()
    'Bin #'
    >>> p.savefig(io.BytesIO(), format="png")
    """

    def __init__(self, binning: Any, marginalize_subbinnings: bool = False, **kwargs: Any) -> None:
        self.binning = binning
        self.marginalize_subbinnings = marginalize_subbinnings
        reference = binning.value_array
        if reference is None:
            # A dummy binning has no data; its structure still defines the shape.
            reference = np.zeros(binning.data_size)
        if marginalize_subbinnings:
            reference = marginalize_top_subbinnings(binning, np.asarray(reference))
        super().__init__(reference, **kwargs)

    def _expected_shapes(self) -> str:
        if self.marginalize_subbinnings and self.binning.data_size != self.binning.nbins:
            return f"({self.binning.nbins},) or ({self.binning.data_size},)"
        return super()._expected_shapes()

    def _conform(self, a: NDArray[Any]) -> NDArray[Any]:
        if (
            self.marginalize_subbinnings
            and a.ndim >= 1
            and a.shape[-1] == self.binning.data_size
            and a.shape[-1] != np.shape(self.array)[-1]
        ):
            return marginalize_top_subbinnings(self.binning, a)
        return a

    def _plot_binning_array(self, binning: Any, attribute: str, kwargs: dict[str, Any]) -> None:
        source = self.binning if binning is None else binning
        array = getattr(source, attribute)
        if array is None:
            msg = f"cannot plot {attribute} of a dummy binning (it holds no data)"
            raise TypeError(msg)
        self.plot_array(array, **kwargs)

    def plot_values(self, binning: Any = None, **kwargs: Any) -> None:
        """Plot the ``value_array`` of the binning (default: the plotter's own).

        Parameters
        ----------
        binning : Binning, optional
            Any binning with the same structure (e.g. a clone).
        **kwargs
            Passed to :meth:`plot_array`.
        """
        self._plot_binning_array(binning, "value_array", kwargs)

    def plot_entries(self, binning: Any = None, **kwargs: Any) -> None:
        """Plot the ``entries_array`` of the binning (default: the plotter's own).

        Parameters
        ----------
        binning : Binning, optional
            Any binning with the same structure (e.g. a clone).
        **kwargs
            Passed to :meth:`plot_array`.
        """
        self._plot_binning_array(binning, "entries_array", kwargs)

    def plot_sumw2(self, binning: Any = None, **kwargs: Any) -> None:
        """Plot the ``sumw2_array`` of the binning (default: the plotter's own).

        Parameters
        ----------
        binning : Binning, optional
            Any binning with the same structure (e.g. a clone).
        **kwargs
            Passed to :meth:`plot_array`.
        """
        self._plot_binning_array(binning, "sumw2_array", kwargs)


class LinearBinningPlotter(BinningPlotter):
    """Histogram of a :class:`~remu.binning.LinearBinning` over its variable.

    Subbinnings are always summed into their bins. Values are shown as a
    density (divided by the relative bin width) unless ``density=False``.

    Parameters
    ----------
    binning : LinearBinning
    **kwargs
        Passed to :class:`BinningPlotter`; ``bins_per_row`` defaults to -1 (one
        panel), ``marginalize_subbinnings`` is always true.

    Examples
    --------
    >>> import io
    >>> from remu import binning
    >>> lb = binning.LinearBinning("x", [0, 1, 5, 7, np.inf])
    >>> lb.set_values_from_ndarray([1.0, 4.0, 2.0, 1.0])
    >>> p = LinearBinningPlotter(lb)
    >>> p.plot_values(label="density")
    >>> p.plot_values(density=False, hatch=None, label="absolute")
    >>> p.legend()
    >>> p.get_bin_edges(0, 4)
    array([0., 1., 5., 7., 9.])
    >>> p.figax[1][0, 0].get_xlabel()
    'x'
    >>> p.savefig(io.BytesIO(), format="png")
    """

    def __init__(self, binning: Any, **kwargs: Any) -> None:
        kwargs["marginalize_subbinnings"] = True
        kwargs["bins_per_row"] = kwargs.get("bins_per_row", -1)
        super().__init__(binning, **kwargs)

    def plot_array(self, *args: Any, **kwargs: Any) -> None:
        """As :meth:`ArrayPlotter.plot_array`, but ``density`` defaults to ``True``.

        Parameters
        ----------
        *args, **kwargs
            As for :meth:`ArrayPlotter.plot_array`.
        """
        kwargs["density"] = kwargs.get("density", True)
        super().plot_array(*args, **kwargs)

    def get_bin_edges(self, i_min: int, i_max: int) -> NDArray[np.float64]:
        """Real edges of bins ``i_min`` ... ``i_max - 1``, infinite ones made finite.

        Parameters
        ----------
        i_min, i_max : int

        Returns
        -------
        ndarray of float
        """
        return finite_bin_edges(self.binning.bin_edges[i_min : i_max + 1])

    def get_axis_label(self) -> str:
        """Return the x-axis label: the binning's variable."""
        return str(self.binning.variable)
