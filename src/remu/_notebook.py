"""Summaries of binnings and response matrices for notebooks and the console.

``binning_html`` is the ``_repr_html_`` of every binning, ``response_repr`` and
``response_html`` the ``__repr__`` and ``_repr_html_`` of ``ResponseMatrix``. The
binnings' own ``__repr__`` is not touched: it rebuilds the object through ``eval``.
Every user string (variable names) is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["binning_html", "binning_summary", "response_html", "response_repr"]

_STYLE = "border-collapse:collapse;text-align:left"
_MAX_LISTED = 8


def _number(x: Any) -> str:
    """Format a compact number: integers as such, floats with 6 significant digits."""
    value = float(x)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _variables(b: Any) -> list[str]:
    if hasattr(b, "variables") and not isinstance(b.variables, set):
        return [str(v) for v in b.variables]
    if hasattr(b, "variable"):
        return [str(b.variable)]
    return sorted(str(v) for v in getattr(b.phasespace, "variables", ()))


def _edges_text(variable: str, edges: Any) -> str:
    e = np.asarray(edges, dtype=float)
    return f"{variable}: {len(e) - 1} bins in [{_number(e[0])}, {_number(e[-1])}]"


def _axes_text(b: Any) -> list[str]:
    if hasattr(b, "variable") and hasattr(b, "bin_edges"):
        return [_edges_text(b.variable, b.bin_edges)]
    if hasattr(b, "variables") and isinstance(getattr(b, "bin_edges", None), tuple):
        return [_edges_text(v, e) for v, e in zip(b.variables, b.bin_edges, strict=True)]
    return []


def _listed(indices: Sequence[Any]) -> str:
    items = [str(int(i)) for i in indices]
    if not items:
        return "none"
    if len(items) > _MAX_LISTED:
        return f"{len(items)}: {', '.join(items[:_MAX_LISTED])}, …"
    return ", ".join(items)


def binning_summary(b: Any) -> list[tuple[str, str]]:
    """``(field, text)`` rows describing a binning: structure and, if filled, totals.

    Examples
    --------
    >>> from remu.binning import RectilinearBinning
    >>> rl = RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 5, 10, float("inf")]])
    >>> rl.fill({"x": [0.5, 1.5], "y": [1.0, 20.0]}, weight=[1.0, 2.5])
    >>> for row in binning_summary(rl):
    ...     print(*row, sep=": ")
    variables: x, y
    bins: 6 (2 × 3)
    axes: x: 2 bins in [0, 2]; y: 3 bins in [0, inf]
    data size: 6
    sum of weights: 3.5
    entries: 2
    sum of squared weights: 7.25
    """
    rows = [("variables", ", ".join(_variables(b)) or "none")]
    shape = getattr(b, "bins_shape", None)
    bins = str(b.nbins)
    if shape is not None and len(shape) > 1:
        bins += " (" + " × ".join(str(n) for n in shape) + ")"
    rows.append(("bins", bins))
    axes = _axes_text(b)
    if axes:
        rows.append(("axes", "; ".join(axes)))
    if getattr(b, "include_upper", False):
        rows.append(("bin convention", "(lower, upper]"))
    if b.subbinnings:
        rows.append(
            ("subbinnings", f"{len(b.subbinnings)} at bins {_listed(sorted(b.subbinnings))}")
        )
    rows.append(("data size", str(b.data_size)))
    if b.is_dummy():
        rows.append(("data", "none (dummy binning: structure only)"))
    else:
        rows.append(("sum of weights", _number(np.sum(b.value_array))))
        rows.append(("entries", _number(np.sum(b.entries_array))))
        rows.append(("sum of squared weights", _number(np.sum(b.sumw2_array))))
    return rows


def _table(title: str, rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th style='padding-right:1em'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table style='{_STYLE}'><caption><b>{html.escape(title)}</b></caption>{body}</table>"


def binning_html(b: Any) -> str:
    """Render :func:`binning_summary` as a compact HTML table.

    Examples
    --------
    >>> from remu.binning import LinearBinning
    >>> binning_html(LinearBinning("<E>", [0, 1]))[:60]
    "<table style='border-collapse:collapse;text-align:left'><cap"
    >>> "&lt;E&gt;" in binning_html(LinearBinning("<E>", [0, 1]))
    True
    """
    return _table(type(b).__name__, binning_summary(b))


def _short(b: Any) -> str:
    """``RectilinearBinning(x, y; 6 bins)`` with the data size if it differs."""
    text = f"{type(b).__name__}({', '.join(_variables(b))}; {b.nbins} bins"
    if b.data_size != b.nbins:
        text += f", data size {b.data_size}"
    return text + ")"


def _totals(r: Any) -> dict[str, str]:
    truth, reco, response = r.truth_binning, r.reco_binning, r.response_binning
    if truth.is_dummy() or reco.is_dummy() or response.is_dummy():
        return {}
    truth_w = float(np.sum(truth.value_array))
    reco_w = float(np.sum(reco.value_array))
    filled = len(r.filled_truth_indices)
    out = {
        "truth events": f"{_number(np.sum(truth.entries_array))} (weight {_number(truth_w)})",
        "reco events": f"{_number(np.sum(reco.entries_array))} (weight {_number(reco_w)})",
        "response entries": _number(np.sum(response.entries_array)),
        "filled truth bins": f"{filled} of {truth.data_size}",
    }
    if truth_w > 0:
        out["reconstructed fraction"] = f"{reco_w / truth_w:.4g}"
    return out


def response_repr(r: Any) -> str:
    """One line: binnings, filled events, nuisance and impossible indices.

    Examples
    --------
    >>> from remu import binning, migration
    >>> r = migration.ResponseMatrix(binning.LinearBinning("reco_x", [0, 1, 2]),
    ...                              binning.LinearBinning("true_x", [0, 1, 2, 3]),
    ...                              nuisance_indices=[2])
    >>> r.fill({"true_x": [0.5, 1.5, 2.5], "reco_x": [0.4, 1.6, float("nan")]})
    >>> print(response_repr(r))
    <ResponseMatrix reco=LinearBinning(reco_x; 2 bins) truth=LinearBinning(true_x; 3 bins), truth events 3 (weight 3), reco events 2 (weight 2), filled truth bins 3 of 3, nuisance_indices [2], impossible_indices none>
    """
    parts = [f"reco={_short(r.reco_binning)} truth={_short(r.truth_binning)}"]
    totals = _totals(r)
    parts += [
        f"{key} {totals[key]}"
        for key in ("truth events", "reco events", "filled truth bins")
        if key in totals
    ]
    parts.append(f"nuisance_indices {_listed_bracket(r.nuisance_indices)}")
    parts.append(f"impossible_indices {_listed_bracket(r.impossible_indices)}")
    return f"<{type(r).__name__} " + ", ".join(parts) + ">"


def _listed_bracket(indices: Sequence[Any]) -> str:
    text = _listed(indices)
    return text if text == "none" else f"[{text}]"


def response_html(r: Any) -> str:
    """Summarise a response matrix in HTML: totals and both binnings.

    Examples
    --------
    >>> from remu import binning, migration
    >>> r = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1]),
    ...                              binning.LinearBinning("t", [0, 1]))
    >>> "filled truth bins" in response_html(r)
    True
    """
    rows = [
        ("reco binning", _short(r.reco_binning)),
        ("truth binning", _short(r.truth_binning)),
        (
            "matrix shape",
            f"{r.reco_binning.data_size} × {r.truth_binning.data_size} (reco × truth)",
        ),
        *_totals(r).items(),
        ("nuisance indices", _listed(r.nuisance_indices)),
        ("impossible indices", _listed(r.impossible_indices)),
    ]
    return (
        "<div>"
        + _table(type(r).__name__, rows)
        + "<details><summary>reco binning</summary>"
        + binning_html(r.reco_binning)
        + "</details><details><summary>truth binning</summary>"
        + binning_html(r.truth_binning)
        + "</details></div>"
    )
