"""A binning made only of boxes (:class:`RectangularBin`) over the same variables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from remu._binning.arguments import as_flag, as_variable_names
from remu._binning.binning import Binning
from remu._binning.bins import RectangularBin

__all__ = ["RectangularBinning"]


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

    def _structure_args(self) -> dict[str, Any]:
        return {
            "variables": list(self.variables),
            "bin_edges": [[list(pair) for pair in b.edges] for b in self.bins],
            "include_upper": self.include_upper,
            "subbinnings": self._dummy_subbinnings(),
            "phasespace": self.phasespace.clone(),
        }
