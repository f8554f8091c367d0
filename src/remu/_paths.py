"""Local paths named by the user: wildcard matches and absolute names.

The command line and the Parquet reader hand local paths on to other code (pyarrow,
uproot, Dask workers whose working directory may differ), so they expand wildcards
and make the paths absolute first. URLs are the callers' to recognise and pass on
unchanged.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

__all__ = ["absolute", "exists", "has_wildcards", "is_dir", "matches"]


def exists(path: str) -> bool:
    """Whether the file or directory ``path`` exists; the empty name never does.

    (``Path("")`` is the working directory, which would always exist.)

    Examples
    --------
    >>> import tempfile
    >>> exists(tempfile.gettempdir()), exists("")
    (True, False)
    """
    return bool(path) and Path(path).exists()


def is_dir(path: str) -> bool:
    """Whether ``path`` is a directory; the empty name is none.

    Examples
    --------
    >>> import tempfile
    >>> is_dir(tempfile.gettempdir()), is_dir("")
    (True, False)
    """
    return bool(path) and Path(path).is_dir()


def has_wildcards(path: str) -> bool:
    """Whether ``path`` contains a wildcard (``*``, ``?`` or ``[...]``).

    Examples
    --------
    >>> has_wildcards("data/run*.parquet"), has_wildcards("data/run1.parquet")
    (True, False)
    """
    return glob.has_magic(path)


def matches(pattern: str) -> list[str]:
    """Return the paths matching the wildcard ``pattern``, sorted (``**`` spans directories).

    ``pattern`` may be absolute or relative to the working directory, which
    :meth:`pathlib.Path.glob` (relative patterns only) does not allow.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for name in ("b.csv", "a.csv", "c.txt"):
    ...     open(os.path.join(d, name), "w").close()
    >>> [os.path.basename(p) for p in matches(os.path.join(d, "*.csv"))]
    ['a.csv', 'b.csv']
    """
    return sorted(glob.glob(pattern, recursive=True))  # noqa: PTH207 (see the docstring)


def absolute(path: str) -> str:
    """``path`` made absolute and normalised, with symbolic links kept.

    Unlike :meth:`pathlib.Path.resolve`, links are not followed, so that messages
    and logs show the names the user gave.

    Examples
    --------
    >>> import os
    >>> absolute(os.path.join("a", "..", "b.csv")) == os.path.join(os.getcwd(), "b.csv")
    True
    """
    return os.path.abspath(path)  # noqa: PTH100 (see the docstring)
