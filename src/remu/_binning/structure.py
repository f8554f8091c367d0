"""The structure of bins and binnings, declared once per class.

A bin or binning is rebuilt from its *structural arguments*: the constructor
keywords that describe it without its data (a ``LinearBinning``'s ``variable``,
``bin_edges``, ``include_upper``, ``subbinnings`` and ``phasespace``). Each class
lists them once, in ``_fields``, as :class:`Field` objects, and everything that
depends on the structure derives from that list (:class:`Structured`):

``clone(**kwargs)``
    the structural arguments plus copies of the data arrays (or ``dummy=True``),
    updated by ``kwargs``, passed to the constructor;
``repr(obj)``
    ``ClassName(name=value, ...)`` over the same arguments, in declaration order,
    which ``eval`` turns back into an equal object with equal data;
YAML
    a mapping of the structural arguments (``dummy: true`` for a dummy), written by
    :class:`remu._formats.yaml_tags.RemuYAMLObject`;
``==``
    the fields that declare a comparison, compared pairwise. Data never count. A
    field may take part in the comparison only (``argument=False``), e.g. the
    bins of a ``RectangularBinning``, which are built from its arguments but are
    what two such binnings are compared by, as in ReMU.

By default ``==`` compares objects of exactly the same class (anything else is
unequal). A class that sets ``_equal_among_subclasses = True`` compares equal to
any instance of itself or of its subclasses whose fields match (ReMU's generic
``Binning`` does, so a ``RectangularBinning`` equals the ``Binning`` of the same
boxes), and returns ``NotImplemented`` for other objects.

Examples
--------
>>> from remu.binning import LinearBinning
>>> [field.name for field in LinearBinning._fields if field.argument]
['variable', 'bin_edges', 'include_upper', 'subbinnings', 'phasespace']
>>> b = LinearBinning("x", [0, 1, 2])
>>> b._structure_args()["bin_edges"]
[0.0, 1.0, 2.0]
>>> b.clone(bin_edges=[0, 5, 10]) == LinearBinning("x", [0, 5, 10])
True
"""

from __future__ import annotations

import copy
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from remu._formats.yaml_tags import RemuYAMLObject
from remu._likelihood.optin import reset_stale_hooks

if TYPE_CHECKING:
    # typing.Self is Python 3.11+; only the type checker reads this import
    from typing_extensions import Self

__all__ = [
    "ARRAY_KEYS",
    "DATA_ARRAYS",
    "PHASESPACE",
    "PHASESPACE_NOT_COMPARED",
    "SUBBINNINGS",
    "DataArray",
    "Field",
    "Structured",
    "dummy_clones",
    "dummy_subbinnings",
    "same_arrays",
]


@dataclass(frozen=True)
class DataArray:
    """One of the three data arrays every bin and binning holds.

    Parameters
    ----------
    key : str
        The attribute (``value_array``) and constructor keyword.
    quantity : str
        The plural in accessor names: ``get_<quantity>_as_ndarray``.
    label : str
        The word used in error messages.
    dtype : type
        The type of a new, zero-filled array.
    """

    key: str
    quantity: str
    label: str
    dtype: type

    @property
    def getter(self) -> str:
        """Name of the binning method that returns a copy of the array."""
        return f"get_{self.quantity}_as_ndarray"

    @property
    def setter(self) -> str:
        """Name of the binning method that writes the array in place."""
        return f"set_{self.quantity}_from_ndarray"


#: The data arrays, in the order of the constructor keywords.
DATA_ARRAYS = (
    DataArray("value_array", "values", "Value", float),
    DataArray("entries_array", "entries", "Entries", int),
    DataArray("sumw2_array", "sumw2", "Sumw2", float),
)
ARRAY_KEYS = tuple(array.key for array in DATA_ARRAYS)


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    """One declared part of a class's structure.

    Parameters
    ----------
    name : str
        The constructor keyword (and YAML key, and name in ``repr``).
    read : callable, optional
        ``read(obj)`` is the field's value on an object; default the attribute
        ``name``.
    copy : callable
        The constructor argument made from the value: a plain, structure-only copy
        (lists of floats, dummy clones). Default: the value itself.
    yaml : callable, optional
        What YAML writes for the value, if not what ``copy`` makes (it must describe
        the same: the dumper may write something cheaper to build).
    compare : callable or None
        ``compare(mine, theirs)`` for ``==`` on the two values; ``None`` if the field
        does not count (e.g. derived from fields that do).
    argument : bool
        Whether the field is a constructor argument (else it is compared only).
    """

    name: str
    read: Callable[[Any], Any] | None = None
    copy: Callable[[Any], Any] = _unchanged
    yaml: Callable[[Any], Any] | None = None
    compare: Callable[[Any, Any], bool] | None = operator.eq
    argument: bool = True
    _get: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        get = self.read if self.read is not None else operator.attrgetter(self.name)
        object.__setattr__(self, "_get", get)


# -- helpers for declarations -------------------------------------------------------------
def dummy_clones(items: Iterable[Any]) -> list[Any]:
    """Structure-only clones (``clone(dummy=True)``) of bins or binnings, as a list."""
    return [item.clone(dummy=True) for item in items]


def dummy_subbinnings(subbinnings: Mapping[int, Any]) -> dict[int, Any]:
    """Structure-only clones of subbinnings, keyed by (plain ``int``) bin index."""
    return {int(k): s.clone(dummy=True) for k, s in subbinnings.items()}


def same_arrays(mine: Any, theirs: Any) -> bool:
    """Equal shape and elements (``False``, not an error, for different lengths)."""
    return bool(np.array_equal(mine, theirs))


def _clone(value: Any) -> Any:
    return value.clone()


#: The fields every binning shares: subbinnings (compared) and the phasespace.
SUBBINNINGS = Field("subbinnings", copy=dummy_subbinnings)
PHASESPACE = Field("phasespace", copy=_clone)
#: The phasespace of binnings whose ``==`` ignores it, as ReMU's do (it follows from
#: the variables, unless given explicitly).
PHASESPACE_NOT_COMPARED = Field("phasespace", copy=_clone, compare=None)


@dataclass(frozen=True)
class _Plan:
    """A class's ``_fields`` arranged for the derived methods (made once per class)."""

    fields: tuple[Field, ...]
    #: (name, read, copy) of the constructor arguments
    arguments: tuple[tuple[str, Callable[[Any], Any], Callable[[Any], Any]], ...]
    #: (name, read, YAML form) of the constructor arguments
    yaml: tuple[tuple[str, Callable[[Any], Any], Callable[[Any], Any]], ...]
    #: (read, compare) of the compared fields
    comparisons: tuple[tuple[Callable[[Any], Any], Callable[[Any, Any], bool]], ...]

    @classmethod
    def of(cls, fields: tuple[Field, ...]) -> _Plan:
        arguments = tuple((f.name, f._get, f.copy) for f in fields if f.argument)
        yaml = tuple(
            (f.name, f._get, f.yaml if f.yaml is not None else f.copy) for f in fields if f.argument
        )
        comparisons = tuple((f._get, f.compare) for f in fields if f.compare is not None)
        return cls(fields, arguments, yaml, comparisons)


class Structured(RemuYAMLObject):
    """Clone, ``repr``, YAML arguments and ``==`` of a class, from its ``_fields``.

    Subclasses declare ``_fields`` (a tuple of :class:`Field`) and implement
    ``is_dummy()``; their data are the arrays of :data:`ARRAY_KEYS`.
    """

    #: the structure of the class: see :class:`Field`
    _fields: ClassVar[tuple[Field, ...]] = ()
    #: whether ``==`` compares with subclasses (see the module docstring)
    _equal_among_subclasses: ClassVar[bool] = False
    #: the class whose instances ``==`` compares (``None``: exactly the same class)
    _equality_domain: ClassVar[type | None] = None
    _plan_of_fields: ClassVar[_Plan | None] = None

    # Opt-in hooks of the YAML dumper's fast paths (see remu._likelihood.optin for the
    # rule): they describe the methods defined here, and are reset to ``False`` on a
    # subclass that overrides those methods without declaring the hook again.
    #: ``_yaml_args`` may write the fields' ``yaml`` forms (e.g. bins that are written
    #: as their dummy clones without building them) instead of ``_structure_args()``.
    _yaml_from_fields: ClassVar[bool] = True
    #: The YAML of ``clone(dummy=True)`` is this class's tag over
    #: ``_structure_args()`` plus ``dummy: true``, so the dumper may write it
    #: without making the clone.
    _yaml_dummy_without_clone: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_equal_among_subclasses" in vars(cls):
            cls._equality_domain = cls if cls._equal_among_subclasses else None
        reset_stale_hooks(cls, "_yaml_from_fields", ["_structure_args", "_yaml_args"], False)
        reset_stale_hooks(
            cls,
            "_yaml_dummy_without_clone",
            ["_structure_args", "_yaml_args", "_clone_args", "clone", "to_yaml"],
            False,
        )

    def is_dummy(self) -> bool:
        """Whether the object has no data arrays."""
        raise NotImplementedError

    @classmethod
    def _plan(cls) -> _Plan:
        """Arrange the class's fields once (again if ``_fields`` was replaced)."""
        plan: _Plan | None = cls.__dict__.get("_plan_of_fields")
        if plan is None or plan.fields is not cls._fields:
            plan = _Plan.of(cls._fields)
            cls._plan_of_fields = plan
        return plan

    # -- clone --------------------------------------------------------------------------
    def _structure_args(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild the structure (no data)."""
        return {name: make(read(self)) for name, read, make in self._plan().arguments}

    def _clone_args(self, dummy: bool = False) -> dict[str, Any]:
        """:meth:`_structure_args` plus copies of the data (or ``dummy=True``)."""
        args = self._structure_args()
        if dummy or self.is_dummy():
            args["dummy"] = True
        else:
            for key in ARRAY_KEYS:
                args[key] = copy.deepcopy(getattr(self, key))
        return args

    def clone(self, **kwargs: Any) -> Self:
        """Return a new object of the same type with copied data; ``kwargs`` override arguments.

        ``clone(dummy=True)`` gives a structure-only copy; ``clone(dummy=False)`` of a
        dummy binning a zero-filled one.
        """
        args = self._clone_args(dummy=bool(kwargs.get("dummy", False)))
        args.update(kwargs)
        return type(self)(**args)

    # -- YAML ---------------------------------------------------------------------------
    def _yaml_args(self) -> dict[str, Any]:
        """Return the mapping YAML writes: the structural arguments, ``dummy: true`` for a dummy."""
        if self._yaml_from_fields:
            args = {name: convert(read(self)) for name, read, convert in self._plan().yaml}
        else:
            args = self._structure_args()
        if self.is_dummy():
            args["dummy"] = True
        return args

    # -- repr and == ----------------------------------------------------------------------
    def __repr__(self) -> str:
        """``ClassName(name=value, ...)`` over the clone arguments (``eval`` rebuilds it).

        Arrays are printed in full and floats with their shortest round-tripping
        digits, so that the rebuilt object has equal data too.
        """
        with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
            inner = ", ".join(f"{key}={value!r}" for key, value in self._clone_args().items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        domain = self._equality_domain
        if domain is None:
            if type(self) is not type(other):
                return False
        elif not isinstance(other, domain):
            return NotImplemented
        return all(compare(read(self), read(other)) for read, compare in self._plan().comparisons)

    __hash__ = None  # type: ignore[assignment]
