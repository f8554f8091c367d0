"""Single bins: the base :class:`Bin`, boxes and bins of cartesian products."""

from __future__ import annotations

import copy
import functools
import operator
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from remu._binning.arguments import as_flag, as_variable_names
from remu._binning.phasespace import PhaseSpace
from remu._binning.structure import ARRAY_KEYS, PHASESPACE, Field, Structured, dummy_clones

if TYPE_CHECKING:
    from remu._binning.binning import Binning
    from remu._binning.events import Columns

__all__ = ["ARRAY_KEYS", "Bin", "CartesianProductBin", "RectangularBin"]


def _has_len(obj: Any) -> bool:
    try:
        len(obj)
    except TypeError:
        return False
    return True


class Bin(Structured):
    """A bin holding a value (sum of weights), a number of entries and a sum of squared weights.

    Parameters
    ----------
    phasespace : PhaseSpace
        Required keyword.
    value, entries, sumw2 : float, int, float
        Initial content (``sumw2`` defaults to ``value**2``); only used when the
        matching ``*_array`` is not given.
    value_array, entries_array, sumw2_array : numpy.ndarray, optional
        Storage to use (element 0); not copied.
    dummy : bool
        Structure only: no data arrays.

    Raises
    ------
    TypeError
        Without a phasespace, or for unknown keywords.

    Examples
    --------
    >>> b = Bin(phasespace=PhaseSpace(["x"]), value=2.0)
    >>> b.fill([1.0, 1.0])
    >>> float(b.value), int(b.entries), float(b.sumw2)
    (4.0, 2, 6.0)
    >>> int((b + b).entries), int((b - b).entries)
    (4, 2)
    """

    yaml_tag = "!Bin"
    _fields: ClassVar[tuple[Field, ...]] = (PHASESPACE,)

    def __init__(self, **kwargs: Any) -> None:
        phasespace = kwargs.pop("phasespace", None)
        if phasespace is None:
            msg = "Undefined phase space!"
            raise TypeError(msg)
        self.phasespace = phasespace
        if as_flag(kwargs.pop("dummy", False), "dummy", type(self).__name__):
            for key in ARRAY_KEYS:
                kwargs.pop(key, None)
        else:
            value_array = kwargs.pop("value_array", None)
            if value_array is None:
                value_array = np.array([kwargs.pop("value", 0.0)], dtype=float)
            entries_array = kwargs.pop("entries_array", None)
            if entries_array is None:
                entries_array = np.array([kwargs.pop("entries", 0)], dtype=int)
            sumw2_array = kwargs.pop("sumw2_array", None)
            if sumw2_array is None:
                if "sumw2" in kwargs:
                    sumw2 = kwargs.pop("sumw2")
                else:
                    with np.errstate(under="ignore"):
                        sumw2 = value_array[0] ** 2
                sumw2_array = np.array([sumw2], dtype=float)
            self.value_array = value_array
            self.entries_array = entries_array
            self.sumw2_array = sumw2_array
        if kwargs:
            msg = f"Unknown kwargs: {kwargs}"
            raise TypeError(msg)

    # -- content ----------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """Sum of weights (element 0 of ``value_array``)."""
        return self.value_array[0]

    @value.setter
    def value(self, v: Any) -> None:
        self.value_array[0] = v

    @property
    def entries(self) -> Any:
        """Number of entries (element 0 of ``entries_array``)."""
        return self.entries_array[0]

    @entries.setter
    def entries(self, v: Any) -> None:
        self.entries_array[0] = v

    @property
    def sumw2(self) -> Any:
        """Sum of squared weights (element 0 of ``sumw2_array``)."""
        return self.sumw2_array[0]

    @sumw2.setter
    def sumw2(self, v: Any) -> None:
        self.sumw2_array[0] = v

    def is_dummy(self) -> bool:
        """Whether the bin has no data arrays."""
        return not hasattr(self, "value_array")

    def fill(self, weight: Any = 1.0) -> None:
        """Add one event with ``weight``, or one event per element of a weight list.

        Parameters
        ----------
        weight : float or sequence of float
        """
        if _has_len(weight):
            w = np.asarray(weight, dtype=float)
            self.value_array[0] += w.sum()
            self.entries_array[0] += len(w)
            with np.errstate(under="ignore"):
                self.sumw2_array[0] += (w**2).sum()
        else:
            self.value_array[0] += weight
            self.entries_array[0] += 1
            with np.errstate(under="ignore"):
                self.sumw2_array[0] += weight**2

    # -- events -----------------------------------------------------------------------
    def event_in_bin(self, event: Any) -> bool:
        """Whether the event lies in the bin (abstract in the base class)."""
        msg = "The base Bin class does not define a region; use a subclass."
        raise NotImplementedError(msg)

    def __contains__(self, event: Any) -> bool:
        return self.event_in_bin(event)

    def _event_mask(self, cols: Columns) -> np.ndarray:
        """Boolean mask of the events in the bin (generic per-event fallback)."""
        return np.fromiter(
            (bool(self.event_in_bin(cols.row(i))) for i in range(cols.n)), dtype=bool, count=cols.n
        )

    # -- arithmetic: as in ReMU, only ``+`` combines entries and sumw2; ``-``, ``*``
    # and ``/`` combine the values and keep the left operand's entries and sumw2 -----
    def __add__(self, other: Bin) -> Bin:
        ret = copy.deepcopy(self)
        ret.value = self.value + other.value
        ret.entries = self.entries + other.entries
        ret.sumw2 = self.sumw2 + other.sumw2
        return ret

    def __sub__(self, other: Bin) -> Bin:
        ret = copy.deepcopy(self)
        ret.value = self.value - other.value
        return ret

    def __mul__(self, other: Bin) -> Bin:
        ret = copy.deepcopy(self)
        ret.value = self.value * other.value
        return ret

    def __truediv__(self, other: Bin) -> Bin:
        ret = copy.deepcopy(self)
        ret.value = self.value / other.value
        return ret


def _same_box(mine: tuple[Any, Any], theirs: tuple[Any, Any]) -> bool:
    """Whether two boxes have the same ``(lower, upper)`` edges for the same variables."""
    try:
        return sorted(zip(*mine, strict=False)) == sorted(zip(*theirs, strict=False))
    except TypeError:
        return False


class RectangularBin(Bin):
    """A box: one ``(lower, upper)`` edge pair per variable.

    Parameters
    ----------
    variables : sequence of str
    edges : sequence of (float, float)
        One pair per variable (extra pairs are ignored).
    include_lower, include_upper : bool
        Whether the lower/upper edges belong to the bin (default ``[lo, hi)``).
    **kwargs
        Passed to :class:`Bin`; ``phasespace`` defaults to ``PhaseSpace(variables)``.

    Raises
    ------
    ValueError
        If a variable is not in the phasespace, an edge is NaN, or an upper edge is
        below its lower edge.

    Examples
    --------
    >>> b = RectangularBin(["x", "y"], [(0, 1), (5, float("inf"))])
    >>> {"x": 0.0, "y": 10} in b, {"x": 1.0, "y": 10} in b
    (True, False)
    >>> b.include_upper = True
    >>> {"x": 1.0, "y": 10} in b
    True
    >>> b.get_center().tolist()
    [0.5, inf]
    """

    yaml_tag = "!RectangularBin"
    # Equal boxes have the same edges per variable, in whatever order the variables
    # are listed.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("include_upper"),
        Field("include_lower"),
        Field("variables", copy=list, compare=None),
        Field("edges", copy=lambda edges: np.asarray(edges).tolist(), compare=None),
        PHASESPACE,
        Field("box", read=lambda b: (b.variables, b.edges), compare=_same_box, argument=False),
    )

    def __init__(
        self,
        variables: Iterable[str],
        edges: Iterable[Sequence[float]],
        include_lower: bool = True,
        include_upper: bool = False,
        **kwargs: Any,
    ) -> None:
        self.variables = as_variable_names(variables, "RectangularBin")
        self.edges = tuple(tuple(e) for e in edges)
        self.include_lower = as_flag(include_lower, "include_lower", "RectangularBin")
        self.include_upper = as_flag(include_upper, "include_upper", "RectangularBin")
        if kwargs.get("phasespace") is None:
            kwargs["phasespace"] = PhaseSpace(self.variables)
        Bin.__init__(self, **kwargs)
        for i, var in enumerate(self.variables):
            if var not in self.phasespace:
                msg = f"Variable not part of PhaseSpace: {var}"
                raise ValueError(msg)
            lower, upper = self.edges[i]
            if lower != lower or upper != upper:  # noqa: PLR0124  (NaN test for any number type)
                msg = f"Edges of variable {var!r} must not be NaN; got ({lower}, {upper})"
                raise ValueError(msg)
            if upper < lower:
                msg = f"Upper edge is smaller than lower edge for variable {var}."
                raise ValueError(msg)

    def event_in_bin(self, event: Any) -> bool:
        """Whether the event is inside the box.

        A NaN coordinate passes every comparison here, as in ReMU; the vectorised
        look-ups of the binnings put NaN outside.
        """
        for var, (lower, upper) in zip(self.variables, self.edges, strict=False):
            v = event[var]
            if (v < lower) if self.include_lower else (v <= lower):
                return False
            if (v > upper) if self.include_upper else (v >= upper):
                return False
        return True

    def _event_mask(self, cols: Columns) -> np.ndarray:
        inside = np.ones(cols.n, dtype=bool)
        for var, (lower, upper) in zip(self.variables, self.edges, strict=False):
            if not inside.any():
                break
            v = cols[var]
            outside = (v < lower) if self.include_lower else (v <= lower)
            outside |= (v > upper) if self.include_upper else (v >= upper)
            inside &= ~outside
        return inside

    def get_center(self) -> np.ndarray:
        """Centre of the box, one value per variable (``nan`` for ``(-inf, inf)``)."""
        with np.errstate(invalid="ignore"):
            pairs = np.asarray(self.edges, dtype=float).reshape(-1, 2)
            centre: np.ndarray = pairs.sum(axis=1) / 2
            return centre


def _safe_eq(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (AttributeError, TypeError, ValueError):
        return False


def _plain_indices(indices: Iterable[Any]) -> list[int | None]:
    return [None if d is None else int(d) for d in indices]


def _same_pairs(mine: list[Any], theirs: list[Any]) -> bool:
    """Whether two lists of (binning, data index) pairs match in any order, never raising.

    A binning whose ``==`` with another raises does not match it.
    """
    if len(mine) != len(theirs):
        return False

    def covered(pairs: list[Any], others: list[Any]) -> bool:
        return all(any(i == j and _safe_eq(b, c) for c, j in others) for b, i in pairs)

    return covered(mine, theirs) and covered(theirs, mine)


class CartesianProductBin(Bin):
    """A bin of a cartesian product: one data index in each constituent binning.

    Parameters
    ----------
    binnings : sequence of Binning
        The constituents (used as they are; may be dummies).
    data_indices : sequence of int
        One data index per constituent.
    **kwargs
        Passed to :class:`Bin`; ``phasespace`` defaults to the product of the
        constituents' phasespaces.

    Examples
    --------
    The bins of a :class:`~remu.binning.CartesianProductBinning` are views of its
    data, so they show later fillings:

    >>> from remu.binning import CartesianProductBinning, LinearBinning
    >>> x = LinearBinning("x", [0, 1, 2])
    >>> y = LinearBinning("y", [0, 10, 20, 30])
    >>> product = CartesianProductBinning([x, y])
    >>> b = product.bins[4]
    >>> b.data_indices, sorted(b.phasespace.variables)
    ((1, 1), ['x', 'y'])
    >>> {"x": 1.5, "y": 12} in b, {"x": 0.5, "y": 12} in b
    (True, False)
    >>> product.fill({"x": 1.5, "y": 12}, weight=3.0)
    >>> float(b.value)
    3.0
    >>> b == CartesianProductBin([x, y], [1, 1])
    True
    """

    yaml_tag = "!CartesianProductBin"
    # Equal bins hold the same (binning, data index) pairs, in any order.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("binnings", copy=dummy_clones, compare=None),
        Field("data_indices", copy=_plain_indices, compare=None),
        PHASESPACE,
        Field(
            "pairs",
            read=lambda b: list(zip(b.binnings, b.data_indices, strict=False)),
            compare=_same_pairs,
            argument=False,
        ),
    )

    def __init__(
        self, binnings: Iterable[Binning], data_indices: Iterable[int], **kwargs: Any
    ) -> None:
        self.binnings = tuple(binnings)
        self.data_indices = tuple(data_indices)
        if "phasespace" not in kwargs:
            kwargs["phasespace"] = functools.reduce(
                operator.mul, (b.phasespace for b in self.binnings), PhaseSpace([])
            )
        Bin.__init__(self, **kwargs)

    def event_in_bin(self, event: Any) -> bool:
        """Whether the event has the bin's data index in every constituent."""
        return all(
            b.get_event_data_index(event) == i
            for b, i in zip(self.binnings, self.data_indices, strict=False)
        )

    def _event_mask(self, cols: Columns) -> np.ndarray:
        inside = np.ones(cols.n, dtype=bool)
        for binning, index in zip(self.binnings, self.data_indices, strict=False):
            if index is None:
                inside[:] = False
            if not inside.any():
                break
            inside &= binning._data_indices(cols) == index
        return inside

    def get_marginal_bins(self) -> tuple[Bin, ...]:
        """Return the top-level bin of each constituent that holds this bin's data index."""
        return tuple(
            b.bins[b.get_data_bin_index(d)]
            for b, d in zip(self.binnings, self.data_indices, strict=False)
        )

    def get_marginal_subbins(self) -> tuple[tuple[Bin, ...], ...]:
        """For each constituent, the chain ``(bin, subbin, ...)`` of this bin's data index."""
        return tuple(
            b.get_subbins(d) for b, d in zip(self.binnings, self.data_indices, strict=False)
        )
