"""Reading ``.npz`` archives with errors that name the file and the missing array.

Shared by the formats stored as ``.npz``: exported response matrices
(:mod:`remu._formats.npz_response`) and filled binnings (:mod:`remu._formats.histogram`). Every array is read eagerly, so no file stays open.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from remu.errors import FileFormatError, MissingArrayError

__all__ = ["describe_source", "read_npz_arrays", "require_array"]

_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)


def describe_source(source: object) -> str:
    """Name a path or file object (quoted) for messages."""
    if isinstance(source, (str, os.PathLike)):
        return repr(os.fspath(source))
    return repr(getattr(source, "name", "<file object>"))


def read_npz_arrays(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    what: str = "response-matrix",
    expected: str = "'matrices' and 'truth_entries'",
) -> dict[str, NDArray[Any]]:
    """All arrays of an ``.npz`` archive, read eagerly so that no file stays open.

    Parameters
    ----------
    source : path-like or binary file object
    what : str
        What the archive should hold, for messages.
    expected : str
        The keys it should have, for messages.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    remu.errors.FileFormatError
        If it is not a readable ``.npz`` archive (e.g. a text file or a single
        ``.npy`` array), naming the file.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, a=[1, 2])
    >>> _ = buffer.seek(0)
    >>> read_npz_arrays(buffer)
    {'a': array([1, 2])}
    """
    try:
        archive = np.load(source, allow_pickle=False)
    except FileNotFoundError:
        raise
    except _READ_ERRORS as error:
        msg = f"cannot read {describe_source(source)} as a {what} .npz archive: {error}"
        raise FileFormatError(msg) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        msg = (
            f"{describe_source(source)} holds a single array, not a {what} .npz archive "
            f"(keys {expected} expected)"
        )
        raise FileFormatError(msg)
    with archive:
        try:
            return {key: archive[key] for key in archive.files}
        except _READ_ERRORS as error:
            msg = f"cannot read the arrays of {describe_source(source)}: {error}"
            raise FileFormatError(msg) from error


def require_array(arrays: Mapping[str, NDArray[Any]], key: str, where: str) -> NDArray[Any]:
    """``arrays[key]``, or :class:`remu.errors.MissingArrayError` naming the key and what is there.

    ``where`` describes the archive for the message (e.g. :func:`describe_source`).
    """
    if key not in arrays:
        msg = f"{where} has no array {key!r} (found: {', '.join(sorted(arrays)) or 'none'})"
        raise MissingArrayError(msg)
    return arrays[key]
