"""Grid binnings seen as UHI ``PlottableHistogram`` objects (plotting and ROOT writing).

The Unified Histogram Interface (``uhi.typing.plottable``) is what mplhep plots and
uproot writes. A binning qualifies when its bins form a grid of intervals:

- a :class:`~remu._binning.linear.LinearBinning` (one axis),
- a :class:`~remu._binning.rectilinear.RectilinearBinning` (one axis per variable),
- a :class:`~remu._binning.cartesian.CartesianProductBinning` whose constituents
  qualify (their axes are concatenated in order),

all without subbinnings. Nothing here imports ``uhi``, ``hist`` or any other optional
package: the protocol is structural.

Open-ended outer bins become flow bins: an axis whose first edge is ``-inf`` has its
first bin as the underflow bin, one whose last edge is ``+inf`` its last bin as the
overflow bin; the finite bins are the axis. ``values(flow=True)`` always has one flow
slot on each side of every axis (as a boost-histogram ``Regular`` axis and ROOT do);
the slots of a finite outer edge are zero, since such a binning counts nothing
outside its range.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu.errors import NotAGridError

__all__ = [
    "AxisTraits",
    "BinningAxis",
    "GridHistogramMethods",
    "effective_counts",
    "grid_array",
    "grid_axes",
]

#: The UHI histogram kind of every remu binning: sums of weights.
KIND_COUNT = "COUNT"


@dataclass(frozen=True)
class AxisTraits:
    """Traits of a :class:`BinningAxis`: continuous, not circular, flow slots on both sides.

    Examples
    --------
    >>> AxisTraits()
    AxisTraits(circular=False, discrete=False, underflow=True, overflow=True)
    """

    circular: bool = False
    discrete: bool = False
    underflow: bool = True
    overflow: bool = True


_TRAITS = AxisTraits()


class BinningAxis:
    """One variable of a grid binning as a UHI ``PlottableAxis``.

    Parameters
    ----------
    name : str
        The binning variable; also the axis ``label``.
    bin_edges : array_like
        All edges of the binning's variable, including infinite outer edges.

    Raises
    ------
    ValueError
        If fewer than two edges are finite (the axis would have no bin).

    Examples
    --------
    >>> ax = BinningAxis("x", [-np.inf, 0.0, 1.0, 3.0])
    >>> len(ax), ax[1], ax.edges.tolist()
    (2, (1.0, 3.0), [0.0, 1.0, 3.0])
    >>> ax.has_underflow_bin, ax.has_overflow_bin
    (True, False)
    """

    __slots__ = ("_edges", "_n_native", "_start", "_stop", "label", "name")

    def __init__(self, name: str, bin_edges: Any) -> None:
        edges: NDArray[np.float64] = np.asarray(bin_edges, dtype=float)
        self.name = str(name)
        self.label = self.name
        self._n_native = len(edges) - 1
        self._start = 1 if np.isneginf(edges[0]) else 0
        self._stop = len(edges) - (1 if np.isposinf(edges[-1]) else 0)
        self._edges: NDArray[np.float64] = edges[self._start : self._stop].copy()
        self._edges.flags.writeable = False
        if len(self._edges) < 2:
            msg = (
                f"variable {self.name!r} has no bin between finite edges (edges "
                f"{edges.tolist()}); a histogram axis needs at least one finite bin"
            )
            raise ValueError(msg)

    @property
    def traits(self) -> AxisTraits:
        """Not circular, not discrete; flow slots exist on both sides."""
        return _TRAITS

    @property
    def edges(self) -> NDArray[np.float64]:
        """The finite edges (a read-only array)."""
        return self._edges

    @property
    def has_underflow_bin(self) -> bool:
        """Whether the binning's first bin is open-ended (``-inf``): the underflow bin."""
        return self._start == 1

    @property
    def has_overflow_bin(self) -> bool:
        """Whether the binning's last bin is open-ended (``+inf``): the overflow bin."""
        return self._stop == self._n_native

    def __len__(self) -> int:
        return len(self._edges) - 1

    def __getitem__(self, index: int) -> tuple[float, float]:
        n = len(self)
        i = int(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            msg = f"bin {index} out of range for axis {self.name!r} with {n} bins"
            raise IndexError(msg)
        return float(self._edges[i]), float(self._edges[i + 1])

    def __iter__(self) -> Iterator[tuple[float, float]]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BinningAxis):
            return NotImplemented
        return (
            self.name == other.name
            and self.has_underflow_bin == other.has_underflow_bin
            and self.has_overflow_bin == other.has_overflow_bin
            and np.array_equal(self._edges, other._edges)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"BinningAxis({self.name!r}, {len(self)} bins in [{self._edges[0]}, {self._edges[-1]}])"
        )

    # -- position of the binning's bins in the flow array -------------------------------
    def _native_in_flow(self) -> slice:
        """Where the binning's bins sit in an array with one flow slot on each side."""
        first = 0 if self.has_underflow_bin else 1
        return slice(first, first + self._n_native)

    def _finite_in_native(self) -> slice:
        """Return the finite bins among the binning's bins."""
        return slice(self._start, self._n_native - (1 if self.has_overflow_bin else 0))


def grid_axes(binning: Any) -> tuple[BinningAxis, ...]:
    """Return the axes of a grid binning, in the order of its (row-major) data layout.

    Parameters
    ----------
    binning : LinearBinning, RectilinearBinning or CartesianProductBinning

    Returns
    -------
    tuple of BinningAxis

    Raises
    ------
    remu.errors.NotAGridError
        (a ``TypeError``) If the binning, or one of its constituents, has subbinnings
        or is not a grid of intervals.
    ValueError
        If a variable has no bin between finite edges.

    Examples
    --------
    >>> from remu.binning import RectilinearBinning
    >>> rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [-np.inf, 0, 5, np.inf]])
    >>> [(a.name, len(a)) for a in grid_axes(rl)]
    [('x', 2), ('y', 1)]
    """
    from remu._binning.cartesian import CartesianProductBinning
    from remu._binning.linear import LinearBinning

    what = type(binning).__name__
    if getattr(binning, "subbinnings", None):
        where = sorted(binning.subbinnings)
        msg = (
            f"a {what} with subbinnings (at bins {where}) is not a grid of intervals and "
            "cannot be a UHI histogram; use marginalize_subbinnings() first"
        )
        raise NotAGridError(msg)
    if isinstance(binning, LinearBinning):
        return (BinningAxis(binning.variable, binning.bin_edges),)
    if isinstance(binning, CartesianProductBinning):
        axes: list[BinningAxis] = []
        k = 0
        try:
            for k, part in enumerate(binning.binnings):  # noqa: B007 (read by the except clause)
                axes.extend(grid_axes(part))
        except NotAGridError as err:
            msg = f"constituent {k} of the {what}: {err}"
            raise NotAGridError(msg) from None
        if not axes:
            msg = f"a {what} without constituents has no axes"
            raise NotAGridError(msg)
        return tuple(axes)
    msg = (
        f"a {what} is not a grid of intervals; only LinearBinning, RectilinearBinning and "
        "CartesianProductBinnings of those (without subbinnings) are UHI histograms"
    )
    raise NotAGridError(msg)


def grid_array(binning: Any, key: str, *, flow: bool = False) -> NDArray[Any]:
    """One data array of a grid binning, shaped like its axes.

    Parameters
    ----------
    binning : LinearBinning, RectilinearBinning or CartesianProductBinning
    key : {"value_array", "entries_array", "sumw2_array"}
    flow : bool
        Add one flow slot on each side of every axis (filled from open-ended bins).

    Returns
    -------
    ndarray
        A new array; shape ``(len(ax), ...)`` or ``(len(ax) + 2, ...)`` with flow.

    Raises
    ------
    remu.errors.NotAGridError, ValueError
        As :func:`grid_axes`.
    TypeError
        For a dummy binning (it has no data).

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> lb = LinearBinning("x", [-np.inf, 0, 1, 2, np.inf])
    >>> lb.set_values_from_ndarray([5.0, 1.0, 2.0, 7.0])
    >>> grid_array(lb, "value_array")
    array([1., 2.])
    >>> grid_array(lb, "value_array", flow=True)
    array([5., 1., 2., 7.])
    """
    axes = grid_axes(binning)
    data = getattr(binning, key)
    if data is None:
        msg = f"a dummy {type(binning).__name__} has no data ({key} is None)"
        raise TypeError(msg)
    native: NDArray[Any] = np.asarray(data).reshape(tuple(ax._n_native for ax in axes))
    if not flow:
        finite: NDArray[Any] = native[tuple(ax._finite_in_native() for ax in axes)].copy()
        return finite
    out = np.zeros(tuple(len(ax) + 2 for ax in axes), dtype=native.dtype)
    out[tuple(ax._native_in_flow() for ax in axes)] = native
    return out


def effective_counts(values: NDArray[Any], sumw2: NDArray[Any]) -> NDArray[np.float64]:
    """``sum(w)**2 / sum(w**2)`` per bin, 0 where ``sum(w**2) == 0``.

    The UHI definition of the counts of a weighted histogram: the number of
    equal-weight events with the same relative uncertainty. It equals the number of
    entries when all weights in a bin are equal (in particular for unweighted fills).

    Examples
    --------
    >>> effective_counts(np.array([3.0, 2.0, 0.0]), np.array([3.0, 2.5, 0.0]))
    array([3. , 1.6, 0. ])
    """
    v = np.asarray(values, dtype=float)
    s = np.asarray(sumw2, dtype=float)
    out = np.zeros(np.broadcast_shapes(v.shape, s.shape))
    with np.errstate(over="ignore", under="ignore"):
        np.divide(v * v, s, out=out, where=s > 0)
    return out


class GridHistogramMethods:
    """The UHI protocol and ``to_hist`` for grid binnings.

    Not a base class: :class:`~remu._binning.linear.LinearBinning` and
    :class:`~remu._binning.cartesian.CartesianProductBinning` take these functions
    as their own methods.
    """

    @property
    def axes(self) -> tuple[BinningAxis, ...]:
        """The UHI axes: one :class:`BinningAxis` per variable (finite bins only).

        Raises
        ------
        TypeError
            If the binning has subbinnings or a constituent that is no grid.
        ValueError
            If a variable has no bin between finite edges.
        """
        return grid_axes(self)

    @property
    def kind(self) -> str:
        """``"COUNT"``: the values are sums of weights (UHI histogram kind)."""
        return KIND_COUNT

    def values(self, flow: bool = False) -> NDArray[np.float64]:
        """Return the sums of weights shaped like :attr:`axes` (UHI ``values``).

        Parameters
        ----------
        flow : bool
            Add the flow slots: open-ended outer bins, zero where an edge is finite.

        Returns
        -------
        ndarray

        Examples
        --------
        >>> from remu.binning import LinearBinning
        >>> lb = LinearBinning("x", [0, 1, 2, np.inf])
        >>> lb.fill({"x": [0.5, 1.5, 1.5, 9.0]})
        >>> lb.values(), lb.values(flow=True)
        (array([1., 2.]), array([0., 1., 2., 1.]))
        """
        return grid_array(self, "value_array", flow=flow)

    def variances(self, flow: bool = False) -> NDArray[np.float64]:
        """Return the sums of squared weights shaped like :attr:`axes` (UHI ``variances``).

        Parameters
        ----------
        flow : bool
            Add the flow slots, as in :meth:`values`.

        Returns
        -------
        ndarray
        """
        return grid_array(self, "sumw2_array", flow=flow)

    def counts(self, flow: bool = False) -> NDArray[np.float64]:
        """Effective numbers of entries, ``values**2 / variances`` (UHI ``counts``).

        The UHI protocol defines the counts of a weighted histogram as the effective
        number of entries; for unweighted fills (or equal weights within a bin) this
        is the number of entries. The raw entries stay available from
        ``get_entries_as_ndarray``. Bins with ``variances == 0`` count 0.

        Parameters
        ----------
        flow : bool
            Add the flow slots, as in :meth:`values`.

        Returns
        -------
        ndarray

        Examples
        --------
        >>> from remu.binning import LinearBinning
        >>> lb = LinearBinning("x", [0, 1, 2])
        >>> lb.fill({"x": [0.5, 0.5, 1.5, 1.5]}, weight=[1.0, 1.0, 1.0, 3.0])
        >>> lb.counts(), lb.get_entries_as_ndarray()
        (array([2. , 1.6]), array([2, 2]))
        """
        return effective_counts(self.values(flow), self.variances(flow))

    def to_hist(self) -> Any:
        """Convert to a ``hist.Hist`` with ``Weight`` storage (``pip install 'remu[hist]'``).

        Each variable becomes a ``hist.axis.Variable`` with the finite edges (named
        and labelled after the variable); open-ended outer bins become its flow bins,
        and an axis has a flow bin only where the binning has one. Values and sums of
        squared weights are copied exactly. The entries are not stored: ``Weight``
        storage has no entry count (``h.counts()`` gives the effective entries).
        Bins are ``[lower, upper)`` in hist; an ``include_upper`` binning's
        ``(lower, upper]`` convention is not carried over.

        To write ROOT files, assign the binning itself (``file["h"] = binning``): it
        always offers both flow slots, whereas uproot drops the flow bins of a hist
        whose axes have only one of them.

        Returns
        -------
        hist.Hist

        Raises
        ------
        ImportError
            If hist is not installed.
        TypeError, ValueError
            As :attr:`axes`.

        Examples
        --------
        >>> from remu.binning import RectilinearBinning
        >>> rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 10, np.inf]])
        >>> rl.fill({"x": [0.5, 1.5], "y": [5, 50]}, weight=2.0)
        >>> h = rl.to_hist()
        >>> h.axes.name, h.values().tolist(), float(h.values(flow=True)[1, -1])
        (('x', 'y'), [[2.0], [0.0]], 2.0)
        """
        from remu._interop.hist import binning_to_hist

        return binning_to_hist(self)
