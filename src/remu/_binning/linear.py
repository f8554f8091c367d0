"""One-dimensional binning defined by consecutive bin edges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from remu._binning.arguments import as_flag, as_variable_name, describe
from remu._binning.binning import Binning, LazyBins
from remu._binning.bins import RectangularBin
from remu._binning.edge_lookup import bin_indices
from remu._binning.events import Columns
from remu._binning.phasespace import PhaseSpace
from remu._binning.structure import (
    ARRAY_KEYS,
    PHASESPACE_NOT_COMPARED,
    SUBBINNINGS,
    Field,
    same_arrays,
)
from remu._binning.uhi import GridHistogramMethods as _Grid

__all__ = ["LinearBinning", "check_edges", "merge_edges_along_axis"]


def check_edges(variable: Any, bin_edges: Any, dtype: Any = float) -> np.ndarray:
    """Check bin edges and return them as a 1-D array.

    The edges must be numbers, at least two (one bin), strictly increasing and not
    NaN (±inf is allowed). Strings and booleans are refused rather than converted
    (``'1'`` is not an edge), and messages show the edges shortened, however many
    there are.

    Raises
    ------
    ValueError
        Naming the variable and showing the edges.

    Examples
    --------
    >>> check_edges("x", [0, 1, float("inf")])
    array([ 0.,  1., inf])
    >>> check_edges("x", [0])
    Traceback (most recent call last):
    ...
    ValueError: bin edges of variable 'x' must hold at least two edges (one bin); got [0.0]
    """
    try:
        raw = np.asarray(bin_edges)
    except (TypeError, ValueError) as err:  # e.g. ragged nested lists
        msg = f"bin edges of variable {variable!r} must be numbers; got {describe(bin_edges)}"
        raise ValueError(msg) from err
    # strings, booleans, None and mixtures are refused, not converted ('1' is no edge)
    if raw.dtype.kind not in "iuf":
        msg = f"bin edges of variable {variable!r} must be numbers; got {describe(bin_edges)}"
        raise ValueError(msg)
    if raw.ndim != 1:
        msg = (
            f"bin edges of variable {variable!r} must be a flat sequence of numbers; "
            f"got {describe(bin_edges)}"
        )
        raise ValueError(msg)
    edges = raw if dtype is None else raw.astype(dtype, copy=True)
    if edges is bin_edges:
        edges = edges.copy()
    if edges.size < 2:
        msg = (
            f"bin edges of variable {variable!r} must hold at least two edges (one bin); "
            f"got {edges.tolist()}"
        )
        raise ValueError(msg)
    if edges.dtype.kind == "f" and np.isnan(edges).any():
        msg = f"bin edges of variable {variable!r} contain NaN: {describe(edges.tolist())}"
        raise ValueError(msg)
    if np.any(edges[1:] <= edges[:-1]):
        msg = (
            f"bin edges of variable {variable!r} must be strictly increasing; "
            f"got {describe(edges.tolist())}"
        )
        raise ValueError(msg)
    return edges


def merge_edges_along_axis(
    edges: np.ndarray, arrays: dict[str, np.ndarray], remove: Iterable[int], axis: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Delete edges and merge the data along ``axis``.

    For each removed edge ``i`` in descending order, with ``n`` current bins:
    ``0 < i < n`` adds bin ``i`` into bin ``i-1``; ``i == 0`` drops the first bin and
    ``i >= n`` the last one: removing an outer edge shrinks the range, and the
    contents of the bin that falls out are lost, as in ReMU. Negative ``i`` drops
    bin ``i`` (NumPy semantics) without merging.
    """
    order = sorted(remove, reverse=True)
    new_edges = list(edges)
    for i in order:
        del new_edges[i]
    arrays = {key: np.moveaxis(arr, axis, 0).copy() for key, arr in arrays.items()}
    for i in order:
        for key, arr in arrays.items():
            n = arr.shape[0]
            if 0 < i < n:
                arr[i - 1] += arr[i]
                arrays[key] = np.delete(arr, i, axis=0)
            elif i >= n:
                arrays[key] = np.delete(arr, n - 1, axis=0)
            else:
                arrays[key] = np.delete(arr, i, axis=0)
    arrays = {key: np.moveaxis(arr, 0, axis) for key, arr in arrays.items()}
    return np.asarray(new_edges, dtype=edges.dtype), arrays


class LinearBinning(Binning):
    """A 1-D binning of one variable by consecutive edges.

    Parameters
    ----------
    variable : str
    bin_edges : sequence of float
        Strictly increasing; ``±inf`` allowed. There are no under-/overflow bins.
    include_upper : bool
        Bins are ``[e_i, e_i+1)`` by default, ``(e_i, e_i+1]`` if true.
    **kwargs
        Passed to :class:`Binning` (``subbinnings``, arrays, ``phasespace``, ``dummy``).

    Raises
    ------
    ValueError
        If the edges are not numbers, fewer than two (no bin), not strictly
        increasing, or contain NaN.
    TypeError
        If ``variable`` is not a string or ``include_upper`` not a boolean.

    Examples
    --------
    >>> lo = LinearBinning("x", [0, 1, 2])
    >>> [lo.get_event_bin_index({"x": v}) for v in (0, 1, 2)]
    [0, 1, None]
    >>> hi = LinearBinning("x", [0, 1, 2], include_upper=True)
    >>> [hi.get_event_bin_index({"x": v}) for v in (0, 1, 2)]
    [None, 0, 1]
    """

    yaml_tag = "!LinearBinning"
    # As in ReMU, == compares the edges and subbinnings but not the phasespace, and
    # only with binnings of exactly this class.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("variable"),
        Field("bin_edges", copy=np.ndarray.tolist, compare=same_arrays),
        Field("include_upper"),
        SUBBINNINGS,
        PHASESPACE_NOT_COMPARED,
    )
    _equal_among_subclasses = False

    def __init__(
        self, variable: str, bin_edges: Any, include_upper: bool = False, **kwargs: Any
    ) -> None:
        if kwargs.pop("bins", None) is not None:
            msg = "Cannot define bins of LinearBinning! Define bin edges instead."
            raise TypeError(msg)
        self.variable = as_variable_name(variable, "LinearBinning")
        self.bin_edges = check_edges(variable, bin_edges)
        self.include_upper = as_flag(include_upper, "include_upper", "LinearBinning")
        self.nbins = len(self.bin_edges) - 1
        if kwargs.get("phasespace") is None:
            kwargs["phasespace"] = PhaseSpace([variable])
        Binning.__init__(self, bins=LazyBins(self), **kwargs)

    def _make_bin(self, i: int) -> RectangularBin:
        kwargs: dict[str, Any] = {}
        if self.value_array is not None:
            j = self.get_bin_data_index(i)
            kwargs = {key: getattr(self, key)[j : j + 1] for key in ARRAY_KEYS}
        return RectangularBin(
            variables=[self.variable],
            edges=[(self.bin_edges[i], self.bin_edges[i + 1])],
            include_lower=not self.include_upper,
            include_upper=self.include_upper,
            **kwargs,
        )

    def _native_indices(self, cols: Columns) -> np.ndarray:
        # np.searchsorted(edges, x, side) - 1, computed faster; NaN lands outside.
        return bin_indices(self.bin_edges, cols[self.variable], include_upper=self.include_upper)

    def _required_variables(self) -> set[str] | None:
        names = {self.variable}
        for sub in self.subbinnings.values():
            more = sub._required_variables()
            if more is None:
                return None
            names |= more
        return names

    def get_adjacent_bin_indices(self) -> list[np.ndarray]:
        """``[i-1, i+1]`` within range for each bin (empty for a single bin)."""
        i = np.arange(self.nbins)
        pairs = np.stack([i - 1, i + 1], axis=1)
        valid = (pairs >= 0) & (pairs < self.nbins)
        return [row[ok].astype(int) for row, ok in zip(pairs, valid, strict=False)]

    def slice(self, start: int | None, stop: int | None, step: int | None = 1) -> LinearBinning:
        """Return a new binning of the selected bins (Python slice semantics), contents kept.

        Subbinnings are summed into their bins first. With ``step != 1`` the new
        edges are the selected lower edges plus the last upper edge, as in ReMU:
        each new bin then reaches up to the next selected bin.
        """
        selected = range(self.nbins)[start:stop:step]
        if len(selected) == 0:
            msg = f"slice({start}, {stop}, {step}) selects no bins of {self.nbins}"
            raise IndexError(msg)
        index = np.asarray(selected, dtype=np.int64)
        edges = [*self.bin_edges[index].tolist(), float(self.bin_edges[selected[-1] + 1])]
        flat = self.marginalize_subbinnings()
        return LinearBinning(
            self.variable,
            edges,
            include_upper=self.include_upper,
            **{key: getattr(flat, key)[index] for key in ARRAY_KEYS},
        )

    def remove_bin_edges(self, bin_edge_indices: Iterable[int]) -> LinearBinning:
        """Merge bins by deleting edges (see :func:`merge_edges_along_axis`).

        Removing an inner edge merges the two bins beside it; removing the first or
        last edge drops the outer bin with its contents, as in ReMU.
        """
        flat = self.marginalize_subbinnings()
        arrays = {key: getattr(flat, key) for key in ARRAY_KEYS}
        edges, arrays = merge_edges_along_axis(self.bin_edges, arrays, bin_edge_indices, 0)
        return LinearBinning(self.variable, edges, include_upper=self.include_upper, **arrays)

    # -- UHI PlottableHistogram protocol and hist conversion (remu._binning.uhi) -------
    axes = _Grid.axes
    kind = _Grid.kind
    values = _Grid.values
    variances = _Grid.variances
    counts = _Grid.counts
    to_hist = _Grid.to_hist

    @classmethod
    def from_hist(
        cls,
        histogram: Any,
        *,
        variable: str | None = None,
        include_upper: bool = False,
        flow: bool = True,
    ) -> LinearBinning:
        """Make a filled binning from a 1-D ``hist.Hist``, boost-histogram or UHI histogram.

        Parameters
        ----------
        histogram : UHI PlottableHistogram
            One continuous axis (``Regular``, ``Variable``), kind ``"COUNT"``, with
            variances (``Weight``, ``Int64`` or unweighted ``Double`` storage).
        variable : str, optional
            The variable name; default the axis name.
        include_upper : bool
            Bin convention of the new binning (hist bins are ``[lower, upper)``).
        flow : bool
            Whether the histogram's flow bins become open-ended outer bins (edges
            ``-inf``/``+inf``) with their contents; if false they are left out.

        Returns
        -------
        LinearBinning
            Values and ``sumw2`` exactly as stored; entries are the effective
            entries ``round(values**2 / variances)`` (0 where the variance is 0): the
            true entries for unweighted fills, ``Int64`` storage or equal weights.

        Raises
        ------
        TypeError
            If the input is no UHI histogram, or its axis is discrete or circular.
        ValueError
            For another number of axes, kind ``"MEAN"``, missing or negative variances,
            non-finite values, or an axis without a name when `variable` is not given.

        Examples
        --------
        >>> import hist
        >>> h = hist.Hist.new.Reg(4, 0, 2, name="x").Weight()
        >>> _ = h.fill([0.1, 0.7, 1.9, 5.0], weight=[1.0, 2.0, 1.0, 3.0])
        >>> lb = LinearBinning.from_hist(h)
        >>> lb.bin_edges.tolist()
        [-inf, 0.0, 0.5, 1.0, 1.5, 2.0, inf]
        >>> lb.get_values_as_ndarray().tolist()
        [0.0, 1.0, 2.0, 0.0, 1.0, 3.0]
        """
        from remu._interop.hist import read_histogram

        name, edges, arrays = read_histogram(
            histogram,
            n_axes=1,
            variables=None if variable is None else [variable],
            flow=flow,
            what="LinearBinning.from_hist",
        )
        return cls(name[0], edges[0], include_upper=include_upper, **arrays)
