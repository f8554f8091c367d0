"""N-dimensional grids: the cartesian product of one linear binning per variable."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from remu._binning.arguments import as_flag, as_variable_names
from remu._binning.bins import RectangularBin
from remu._binning.cartesian import CartesianProductBinning
from remu._binning.edge_lookup import bin_indices
from remu._binning.events import Columns
from remu._binning.linear import LinearBinning, check_edges, merge_edges_along_axis
from remu._binning.phasespace import PhaseSpace
from remu._binning.structure import (
    ARRAY_KEYS,
    DATA_ARRAYS,
    PHASESPACE_NOT_COMPARED,
    SUBBINNINGS,
    Field,
    same_arrays,
)

__all__ = ["RectilinearBinning"]


def _edge_lists(bin_edges: tuple[np.ndarray, ...]) -> list[list[Any]]:
    return [edges.tolist() for edges in bin_edges]


def _same_edge_lists(mine: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> bool:
    return len(mine) == len(theirs) and all(
        same_arrays(a, b) for a, b in zip(mine, theirs, strict=True)
    )


class RectilinearBinning(CartesianProductBinning):
    """An N-D grid of bins, one :class:`LinearBinning` per variable.

    Bin ``i`` is the row-major position of its per-variable bin tuple, with the
    last variable varying fastest.

    Parameters
    ----------
    variables : sequence of str
    bin_edges : sequence of sequences of float
        One strictly increasing edge list per variable (integer edges stay integer).
    include_upper : bool
        Bins are ``[lo, hi)`` by default, ``(lo, hi]`` if true.
    **kwargs
        Passed to :class:`Binning` (``subbinnings``, arrays, ``phasespace``, ``dummy``).

    Examples
    --------
    >>> rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [-10, 0, 10, 20, float("inf")]])
    >>> rl.bins_shape, rl.get_tuple_bin_index((1, 2))
    ((2, 4), 6)
    >>> [rl.get_event_bin_index(e) for e in ({"x": 0, "y": -10}, {"x": 0, "y": 0}, {"x": 1, "y": -10})]
    [0, 1, 4]
    >>> rl.fill({"x": [0.5, 1.5, 1.5], "y": [5, 5, 25]})
    >>> rl.get_values_as_ndarray(shape=rl.bins_shape)
    array([[0., 1., 0., 0.],
           [0., 1., 0., 1.]])
    >>> rl.project("y").get_values_as_ndarray()
    array([0., 2., 0., 1.])
    """

    yaml_tag = "!RectilinearBinning"
    # The constituent LinearBinnings follow from the variables and edges; == ignores
    # the phasespace, as in ReMU.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("variables", copy=list),
        Field("bin_edges", copy=_edge_lists, compare=_same_edge_lists),
        Field("include_upper"),
        SUBBINNINGS,
        PHASESPACE_NOT_COMPARED,
    )
    # one LinearBinning per variable, built in __init__
    binnings: tuple[LinearBinning, ...]

    def __init__(
        self,
        variables: Iterable[str],
        bin_edges: Iterable[Any],
        include_upper: bool = False,
        **kwargs: Any,
    ) -> None:
        if kwargs.pop("bins", None) is not None:
            msg = "Cannot define bins of RectilinearBinning! Define bin edges instead."
            raise TypeError(msg)
        kwargs.pop("binnings", None)
        self.variables = as_variable_names(variables, "RectilinearBinning")
        edges = list(bin_edges)
        if len(edges) != len(self.variables):
            msg = (
                f"RectilinearBinning needs one edge list per variable: {len(self.variables)} "
                f"variables {self.variables} but {len(edges)} edge lists"
            )
            raise ValueError(msg)
        self.bin_edges = tuple(
            check_edges(var, e, dtype=None) for var, e in zip(self.variables, edges, strict=False)
        )
        self.include_upper = as_flag(include_upper, "include_upper", "RectilinearBinning")
        binnings = [
            LinearBinning(var, e, include_upper=self.include_upper, dummy=True)
            for var, e in zip(self.variables, self.bin_edges, strict=False)
        ]
        if kwargs.get("phasespace") is None:
            kwargs["phasespace"] = PhaseSpace(self.variables)
        CartesianProductBinning.__init__(self, binnings, **kwargs)

    def _make_bin(self, i: int) -> RectangularBin:
        kwargs: dict[str, Any] = {}
        if self.value_array is not None:
            j = self.get_bin_data_index(i)
            kwargs = {key: getattr(self, key)[j : j + 1] for key in ARRAY_KEYS}
        tup = self._index_tuple(i)
        return RectangularBin(
            variables=self.variables,
            edges=[(e[t], e[t + 1]) for e, t in zip(self.bin_edges, tup, strict=False)],
            include_lower=not self.include_upper,
            include_upper=self.include_upper,
            **kwargs,
        )

    def _native_indices(self, cols: Columns) -> np.ndarray:
        out = np.zeros(cols.n, dtype=np.int64)
        outside = np.zeros(cols.n, dtype=bool)
        for binning, stride in zip(self.binnings, self._strides, strict=False):
            k = bin_indices(
                binning.bin_edges, cols[binning.variable], include_upper=self.include_upper
            )
            outside |= k < 0
            if stride != 1:
                k *= stride
            out += k
        out[outside] = -1
        return out

    def get_variable_index(self, variable: str | int) -> int:
        """Position of a variable given by name (an integer is returned unchanged)."""
        if isinstance(variable, numbers.Integral) and not isinstance(variable, bool):
            return int(variable)
        try:
            return self.variables.index(variable)
        except ValueError:
            msg = f"{variable!r} is not a variable of this binning {self.variables}"
            raise ValueError(msg) from None

    def _variable_list(self, binning_i: Any) -> list[int]:
        items: list[Any]
        if isinstance(binning_i, (str, numbers.Integral)):
            items = [binning_i]
        else:
            try:
                items = list(binning_i)
            except TypeError:
                items = [binning_i]
        return [self.get_variable_index(v) for v in items]

    def marginalize(
        self, binning_i: Any, reduction_function: Callable[..., Any] = np.sum
    ) -> RectilinearBinning:
        """Remove the listed variables (names or positions), reducing the data over them."""
        remove = self._variable_list(binning_i)
        arrays = self._reduced(remove, reduction_function)
        keep = [k for k in range(len(self.variables)) if k not in remove]
        return RectilinearBinning(
            [self.variables[k] for k in keep],
            [self.bin_edges[k].copy() for k in keep],
            include_upper=self.include_upper,
            **{
                key: np.array(arr, dtype=getattr(self, key).dtype).reshape(-1)
                for key, arr in arrays.items()
            },
        )

    def project(self, binning_i: Any, **kwargs: Any) -> Any:
        """Keep the listed variables, marginalize the rest.

        A single name or integer gives the :class:`LinearBinning` of that variable;
        a list or tuple gives a :class:`RectilinearBinning`.
        """
        single = isinstance(binning_i, (str, numbers.Integral))
        keep = self._variable_list(binning_i)
        remove = list(range(len(self.variables)))
        try:
            for i in keep:
                remove.remove(i)
        except ValueError:
            msg = f"cannot project on variable {i!r}: out of range or listed twice"
            raise ValueError(msg) from None
        result = self.marginalize(remove, **kwargs)
        if not single:
            return result
        return LinearBinning(
            result.variables[0],
            result.bin_edges[0],
            include_upper=self.include_upper,
            **{key: getattr(result, key).copy() for key in ARRAY_KEYS},
        )

    def _grid_arrays(self) -> dict[str, np.ndarray]:
        flat = self.marginalize_subbinnings()
        return {a.key: getattr(flat, a.getter)(shape=self.bins_shape) for a in DATA_ARRAYS}

    def slice(self, slices: Mapping[str, tuple[int, ...]]) -> RectilinearBinning:
        """Keep ranges of bins per variable: ``{name: (start, stop[, step])}``.

        Unknown keys are ignored; unlisted variables are kept whole.
        """
        arrays = self._grid_arrays()
        index = []
        edges = []
        for var, e in zip(self.variables, self.bin_edges, strict=False):
            if var in slices:
                selected = range(len(e) - 1)[slice(*slices[var])]
                if len(selected) == 0:
                    msg = f"slice {slices[var]} selects no bins of variable {var!r}"
                    raise IndexError(msg)
                sel = np.asarray(selected, dtype=np.int64)
                edges.append(np.append(e[sel], e[selected[-1] + 1]))
                index.append(sel)
            else:
                edges.append(e.copy())
                index.append(np.arange(len(e) - 1))
        grid = np.ix_(*index)
        return RectilinearBinning(
            self.variables,
            edges,
            include_upper=self.include_upper,
            **{key: arr[grid].reshape(-1) for key, arr in arrays.items()},
        )

    def remove_bin_edges(self, bin_edge_indices: Mapping[str, Iterable[int]]) -> RectilinearBinning:
        """Merge bins by deleting edges per variable: ``{name: [edge indices]}``.

        Per variable as :meth:`LinearBinning.remove_bin_edges`: an inner edge merges
        the slabs beside it, an outer edge drops its slab with its contents.
        """
        arrays = self._grid_arrays()
        edges = list(self.bin_edges)
        for axis, var in enumerate(self.variables):
            if var in bin_edge_indices:
                edges[axis], arrays = merge_edges_along_axis(
                    edges[axis], arrays, bin_edge_indices[var], axis
                )
        return RectilinearBinning(
            self.variables,
            edges,
            include_upper=self.include_upper,
            **{key: np.ascontiguousarray(arr).reshape(-1) for key, arr in arrays.items()},
        )

    @classmethod
    def from_hist(
        cls,
        histogram: Any,
        *,
        variables: Iterable[str] | None = None,
        include_upper: bool = False,
        flow: bool = True,
    ) -> RectilinearBinning:
        """Make a filled binning from a ``hist.Hist``, boost-histogram or UHI histogram.

        Parameters
        ----------
        histogram : UHI PlottableHistogram
            Continuous axes only (``Regular``, ``Variable``), kind ``"COUNT"``, with
            variances (``Weight``, ``Int64`` or unweighted ``Double`` storage).
        variables : sequence of str, optional
            One name per axis; default the axis names.
        include_upper : bool
            Bin convention of the new binning (hist bins are ``[lower, upper)``).
        flow : bool
            Whether flow bins become open-ended outer bins (edges ``-inf``/``+inf``)
            with their contents; if false they are left out.

        Returns
        -------
        RectilinearBinning
            Values and ``sumw2`` exactly as stored; entries are the effective
            entries ``round(values**2 / variances)`` (0 where the variance is 0): the
            true entries for unweighted fills, ``Int64`` storage or equal weights.

        Raises
        ------
        TypeError
            If the input is no UHI histogram, or an axis is discrete or circular.
        ValueError
            For kind ``"MEAN"``, missing or negative variances, non-finite values,
            `variables` of the wrong length, or unnamed or duplicate axis names.

        Examples
        --------
        >>> import hist
        >>> h = hist.Hist.new.Var([0, 1, 3], name="x").Reg(2, 0, 1, name="y", flow=False).Int64()
        >>> _ = h.fill(x=[0.5, 2.0, 2.5], y=[0.2, 0.7, 0.7])
        >>> rl = RectilinearBinning.from_hist(h)
        >>> rl.variables, rl.bins_shape
        (('x', 'y'), (4, 2))
        >>> rl.get_entries_as_ndarray(shape=rl.bins_shape)[1:3].tolist()
        [[1, 0], [0, 2]]
        """
        from remu._interop.hist import read_histogram

        names, edges, arrays = read_histogram(
            histogram,
            n_axes=None,
            variables=None if variables is None else list(variables),
            flow=flow,
            what="RectilinearBinning.from_hist",
        )
        return cls(names, edges, include_upper=include_upper, **arrays)
