"""The set of variable names a bin or binning is defined on."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from remu._formats.yaml_codec import check_alias_expansion
from remu._formats.yaml_tags import RemuYAMLObject, located_error, sequence_node

__all__ = ["PhaseSpace", "ordered"]


def ordered(variables: Iterable[Any]) -> list[Any]:
    """Variables in a stable (sorted) order for printing and dumping."""
    try:
        return sorted(variables)
    except TypeError:
        return sorted(variables, key=repr)


class PhaseSpace(RemuYAMLObject):
    """A set of variable names.

    Parameters
    ----------
    variables : iterable of str
        The variable names. A plain string is an iterable of its characters.

    Notes
    -----
    ``a * b`` is the union ("cartesian product" of the spaces), ``a / b`` the set
    difference; ``<``, ``<=``, ``>``, ``>=`` are the (proper) subset relations.

    Examples
    --------
    >>> a = PhaseSpace(["x"]); ab = PhaseSpace(["x", "y"])
    >>> a < ab, ab >= a, a < a
    (True, True, False)
    >>> (ab / a) == PhaseSpace(["y"]), "y" in ab, len(ab)
    (True, True, 2)
    >>> str(ab), repr(ab)
    ("('x' X 'y')", "PhaseSpace(variables={'x', 'y'})")
    """

    yaml_tag = "!PhaseSpace"

    def __init__(self, variables: Iterable[str]) -> None:
        self.variables = set(variables)

    def __contains__(self, var: object) -> bool:
        return var in self.variables

    def __len__(self) -> int:
        return len(self.variables)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return self.variables == other.variables

    __hash__ = None  # type: ignore[assignment]

    def __le__(self, other: PhaseSpace) -> bool:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return self.variables <= other.variables

    def __ge__(self, other: PhaseSpace) -> bool:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return self.variables >= other.variables

    def __lt__(self, other: PhaseSpace) -> bool:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return self.variables < other.variables

    def __gt__(self, other: PhaseSpace) -> bool:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return self.variables > other.variables

    def __mul__(self, other: PhaseSpace) -> PhaseSpace:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return PhaseSpace(self.variables | other.variables)

    def __truediv__(self, other: PhaseSpace) -> PhaseSpace:
        if not isinstance(other, PhaseSpace):
            return NotImplemented
        return PhaseSpace(self.variables - other.variables)

    def clone(self) -> PhaseSpace:
        """Return a deep copy."""
        if type(self) is PhaseSpace:
            # the variables are hashable (immutable) names: a new set is a deep copy,
            # and much cheaper than copy.deepcopy when dumping thousands of bins
            return PhaseSpace(self.variables)
        return copy.deepcopy(self)

    def __str__(self) -> str:
        return "('" + "' X '".join(str(v) for v in ordered(self.variables)) + "')"

    def __repr__(self) -> str:
        if not self.variables:
            return "PhaseSpace(variables=set())"
        inner = ", ".join(repr(v) for v in ordered(self.variables))
        return f"PhaseSpace(variables={{{inner}}})"

    @classmethod
    def from_yaml(cls, loader: Any, node: Any) -> PhaseSpace:
        """Build from a YAML sequence of variable names."""
        check_alias_expansion(loader, node)
        variables = loader.construct_sequence(node, deep=True)
        try:
            return cls(variables=variables)
        except (TypeError, ValueError) as error:
            raise located_error(error, node, cls.yaml_tag) from error

    @classmethod
    def to_yaml(cls, dumper: Any, data: PhaseSpace) -> Any:
        """Write as a YAML sequence of variable names (sorted)."""
        return sequence_node(dumper, cls.yaml_tag, ordered(data.variables))
