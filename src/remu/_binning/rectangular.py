"""A binning made only of boxes (:class:`RectangularBin`) over the same variables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from remu._binning.arguments import as_flag, as_variable_names
from remu._binning.binning import Binning, _bins_equal
from remu._binning.bins import RectangularBin
from remu._binning.structure import PHASESPACE, SUBBINNINGS, Field

__all__ = ["RectangularBinning"]


def _box_edges(binning: RectangularBinning) -> list[list[list[Any]]]:
    return [[list(pair) for pair in b.edges] for b in binning.bins]


class RectangularBinning(Binning):
    """A :class:`Binning` of :class:`RectangularBin` boxes.

    Parameters
    ----------
    variables : sequence of str
    bin_edges : sequence
        One entry per bin, each a sequence of ``(low, high)`` pairs, one per variable.
    include_upper : bool
        Bins are ``[lo, hi)`` by default and ``(lo, hi]`` if true.
    **kwargs
        Passed to :class:`Binning` (``subbinnings``, arrays, ``phasespace``, ``dummy``).

    Notes
    -----
    Bins may overlap; an event goes to the lowest-numbered bin containing it.

    Examples
    --------
    >>> rb = RectangularBinning(["x", "y"], [((0, 2), (0, 2)), ((0, 1), (2, 3)), ((1, 2), (2, 3))])
    >>> [rb.get_event_data_index(e) for e in ({"x": 1, "y": 1}, {"x": 0, "y": 2}, {"x": 1, "y": 2})]
    [0, 1, 2]
    """

    yaml_tag = "!RectangularBinning"
    # Built from variables and boxes, but compared like any generic binning (by its
    # bins, phasespace and subbinnings, also with a generic Binning), as in ReMU.
    _fields: ClassVar[tuple[Field, ...]] = (
        Field("variables", copy=list, compare=None),
        Field("bin_edges", read=_box_edges, compare=None),
        Field("include_upper", compare=None),
        SUBBINNINGS,
        PHASESPACE,
        Field("bins", compare=_bins_equal, argument=False),
    )
    # stored boxes, built in __init__
    bins: tuple[RectangularBin, ...]

    def __init__(
        self,
        variables: Iterable[str],
        bin_edges: Iterable[Sequence[Sequence[float]]],
        include_upper: bool = False,
        **kwargs: Any,
    ) -> None:
        self.variables = as_variable_names(variables, "RectangularBinning")
        self.include_upper = as_flag(include_upper, "include_upper", "RectangularBinning")
        bins = [
            RectangularBin(
                self.variables,
                edges,
                include_upper=self.include_upper,
                include_lower=not self.include_upper,
                dummy=True,
            )
            for edges in bin_edges
        ]
        Binning.__init__(self, bins=bins, **kwargs)
