"""The scalar weight of a fill from files (ROOT trees, Parquet files)."""

from __future__ import annotations

from typing import Any

__all__ = ["weight_multiplier"]


def weight_multiplier(weight: Any, source: str) -> float:
    """Return ``weight`` as the number that multiplies every event's weight field.

    Fills from files take the per-event weights from a column (``weightfield``);
    ``weight`` can only scale them.

    Parameters
    ----------
    weight : float
        The factor.
    source : str
        What is read, for the message (``"ROOT files"``, ``"Parquet files"``).

    Raises
    ------
    TypeError
        If ``weight`` is not a number (e.g. an array of per-event weights).

    Examples
    --------
    >>> weight_multiplier(2, "ROOT files")
    2.0
    >>> weight_multiplier([1.0, 2.0], "Parquet files")
    Traceback (most recent call last):
    ...
    TypeError: with Parquet files, weight must be a number (it multiplies weightfield); got list
    """
    try:
        return float(weight)
    except (TypeError, ValueError) as err:
        msg = (
            f"with {source}, weight must be a number (it multiplies weightfield); "
            f"got {type(weight).__name__}"
        )
        raise TypeError(msg) from err
