"""File helpers shared by all modules: atomic writes.

A crash (or an exception) while writing never leaves a half-written file behind:
everything is written to a temporary file in the target directory, flushed, and
then renamed over the target in one step.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_open", "atomic_savez"]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only when the block succeeds.

    Parameters
    ----------
    path : path-like
        The file to write.
    mode : {"w", "wb"}
        Text or binary writing.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_open(os.path.join(d, "a.txt")) as f:
    ...     _ = f.write("hello")
    >>> with open(os.path.join(d, "a.txt")) as f:
    ...     f.read()
    'hello'
    """
    if mode not in ("w", "wb"):
        msg = f"atomic_open only writes whole files (mode 'w' or 'wb'); got mode {mode!r}"
        raise ValueError(msg)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path()
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    tmp = Path(name)
    try:
        # mkstemp makes the file private (0600); give it the mode an ordinary open()
        # would: the existing file's mode, or 0666 less the umask for a new file
        tmp.chmod(_mode_for(target))
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # one rename (os.replace) in the same directory: readers see the old or the new file
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_savez(path: str | os.PathLike[str], compress: bool = False, **arrays: Any) -> None:
    """Write arrays to an ``.npz`` file atomically.

    Parameters
    ----------
    path : path-like
        The file to write. As with :func:`numpy.savez`, ``.npz`` is appended when
        the name does not already end with it.
    compress : bool
        Use :func:`numpy.savez_compressed`.
    **arrays
        The arrays to store, by key.
    """
    target = os.fspath(path)
    if not target.endswith(".npz"):
        target += ".npz"
    save = np.savez_compressed if compress else np.savez
    with atomic_open(target, "wb") as handle:
        save(handle, **arrays)
