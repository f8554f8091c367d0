"""remu's loggers: ``logging.getLogger("remu")`` and one child per area.

remu reports what a user may want to know but that is not an error: a fit that
falls back to a slow path, events that lie outside every bin, files that were
skipped. Nothing is printed unless the application configures logging; the
``"remu"`` logger carries a :class:`logging.NullHandler`, so that Python's
last-resort handler does not print remu's warnings to stderr by default.

Children are named after the public module a user calls: ``remu.binning``,
``remu.migration``, ``remu.likelihood``, ``remu.cli``, ...

Examples
--------
>>> import logging
>>> log = get_logger("binning")
>>> log.name
'remu.binning'
>>> any(isinstance(h, logging.NullHandler) for h in logging.getLogger("remu").handlers)
True
"""

from __future__ import annotations

import logging

__all__ = ["get_logger"]

_ROOT = "remu"
logging.getLogger(_ROOT).addHandler(logging.NullHandler())


def get_logger(area: str) -> logging.Logger:
    """Return the logger ``remu.<area>`` (e.g. ``"likelihood"``, ``"binning"``).

    Parameters
    ----------
    area : str
        The child's name below ``remu``; dotted names nest further.

    Returns
    -------
    logging.Logger
    """
    return logging.getLogger(f"{_ROOT}.{area}")
