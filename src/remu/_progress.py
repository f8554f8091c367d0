"""Opt-in progress bars (tqdm) for long computations.

Functions that can run for minutes (toy p-values, toy response matrices, large
fills) take ``progress=False``. ``progress=True`` shows a tqdm bar on stderr
(``pip install 'remu[progress]'``); a dict is passed on to ``tqdm`` as keyword
arguments (``progress={"desc": "toys", "leave": False}``). Without progress the
bar is a no-op object, so library code updates it unconditionally.

Examples
--------
>>> with progress_bar(False, total=3, desc="toys") as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.n
3
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, final

from remu._optional import optional_import

__all__ = ["ProgressLike", "progress_bar"]

#: what a ``progress=`` argument may be
ProgressLike = bool | Mapping[str, Any] | None


@final
class _Silent:
    """The no-op bar used when progress is off: counts, prints nothing."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, text: str) -> None:
        """Ignored."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress_bar(progress: ProgressLike, *, total: int | None, desc: str, unit: str = "it") -> Any:
    """Make a tqdm bar when ``progress`` asks for one, else a silent stand-in.

    Parameters
    ----------
    progress : bool, dict or None
        ``True`` or a dict of tqdm keyword arguments for a bar; ``False``/``None``
        for none.
    total : int or None
        Expected number of updates.
    desc, unit : str
        The bar's label and unit (a dict in ``progress`` may override them).

    Returns
    -------
    tqdm.tqdm or a silent object with the same ``update``/``close`` methods,
    usable as a context manager.

    Raises
    ------
    TypeError
        If ``progress`` is neither a bool, ``None`` nor a mapping.
    ImportError
        If a bar is asked for and tqdm is not installed (names the extra).
    """
    if progress is None or progress is False:
        return _Silent(total)
    if progress is True:
        options: dict[str, Any] = {}
    elif isinstance(progress, Mapping):
        options = dict(progress)
    else:
        msg = f"progress must be True, False or a dict of tqdm options; got {progress!r}"
        raise TypeError(msg)
    tqdm = optional_import("tqdm", feature="progress bars (progress=True)")
    return tqdm.tqdm(**{"total": total, "desc": desc, "unit": unit, **options})
