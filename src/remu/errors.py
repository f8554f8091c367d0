"""Exceptions and warnings raised by remu.

Every exception subclasses the built-in that callers of the reference
implementation already catch, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "FileFormatError",
    "InputError",
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
