"""Exceptions and warnings raised by remu.

Every exception subclasses the built-in that callers of the reference
implementation already catch, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "FileFormatError",
    "InputError",
    "InvalidEventError",
    "IrregularFieldError",
    "MissingFieldError",
    "MissingVariableError",
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


class IrregularFieldError(InputError):
    """An event field that is not one number per event: jagged, option-typed or nested.

    Raised for awkward arrays (and ROOT branches) whose field holds a list per
    event (``var * float32``), values that may be missing (``?float64``), records
    or nested lists; the message names the field. ``fill_from_root(...,
    flatten=[name])`` flattens jagged fields and reads missing values as NaN.
    A :class:`ValueError`, as NumPy raises for ragged sequences.
    """
