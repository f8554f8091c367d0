"""Exceptions and warnings raised by remu.

Every exception subclasses the built-in that callers of the reference
implementation already catch, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "BinMergeError",
    "FileFormatError",
    "IllegalResponseError",
    "InputError",
    "InsufficientStatisticsError",
    "InvalidEventError",
    "IrregularFieldError",
    "MissingFieldError",
    "MissingVariableError",
    "NoMergeNeighbourError",
    "RemuWarning",
]


class RemuWarning(UserWarning):
    """A warning about questionable, but not invalid, use of remu."""


class InputError(ValueError):
    """Input values that cannot be used: wrong shape, length, sign or range."""


class FileFormatError(ValueError):
    """A file (YAML, CSV, ``.npz``) that is malformed or lacks required content."""


class MissingVariableError(KeyError):
    """Event data lacks a variable (column, field, branch) that is needed.

    ``str()`` shows the message as written, not the quoted ``repr`` that
    :class:`KeyError` uses by default.
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class MissingFieldError(MissingVariableError, ValueError):
    """A structured array (or CSV file) lacks a field that is needed.

    It is both a :class:`KeyError` (like a missing dict key) and a
    :class:`ValueError` (what NumPy raises for a missing field name).
    """


class InvalidEventError(TypeError, IndexError):
    """Input to ``fill`` that is not a collection of events (e.g. a plain numeric array).

    It subclasses :class:`TypeError` and :class:`IndexError`, the two errors the
    reference raises for lists of numbers and numeric arrays.
    """


class IllegalResponseError(RuntimeError):
    """Response matrix contents that contradict each other.

    For example a truth bin with more reconstructed than true events, which no
    detector can produce: the response would have an efficiency above 1. The
    message names the offending bins. A :class:`RuntimeError`, as in ReMU.
    """


class InsufficientStatisticsError(RuntimeError):
    """Too few events for the requested statistical statement.

    Raised by ``matrix_utils.compatibility`` when no truth bin holds enough
    reconstructed events to reach ``min_quality``: with so few events the shared
    prior dominates both matrices and a compatibility test says nothing. The
    message gives the threshold and the best bin. A :class:`RuntimeError`, as in
    ReMU.
    """


class BinMergeError(RuntimeError):
    """A truth bin that ``matrix_utils.improve_stats`` cannot merge with a neighbour.

    Raised for binning types without a notion of neighbouring bins, and for a
    plain bin of a binning that has sub-binnings elsewhere (merging it would
    need a sub-binning on one side only). A :class:`RuntimeError`, as in ReMU.
    """


class NoMergeNeighbourError(BinMergeError, ValueError):
    """The truth bin to merge has no neighbour: its binning holds a single bin.

    Both a :class:`BinMergeError` and a :class:`ValueError` (what ReMU raises
    in this case, from ``argmin`` of an empty sequence).
    """


class IrregularFieldError(InputError):
    """An event field that is not one number per event: jagged, option-typed or nested.

    Raised for awkward arrays (and ROOT branches) whose field holds a list per
    event (``var * float32``), values that may be missing (``?float64``), records
    or nested lists; the message names the field. ``fill_from_root(...,
    flatten=[name])`` flattens jagged fields and reads missing values as NaN.
    A :class:`ValueError`, as NumPy raises for ragged sequences.
    """
