"""Conversion between remu binnings / response matrices and ``hist.Hist`` objects.

``hist`` is imported only inside the converters (``pip install 'remu[hist]'``).
Reading goes through the UHI ``PlottableHistogram`` protocol, so anything that
follows it (hist, boost-histogram, uproot's TH1/TH2/TH3, other remu binnings) can be
read back.

What a round trip keeps: values and sums of squared weights exactly, and the
edges. ``Weight`` storage has no entry count, so reading a histogram sets the
entries to the effective number of entries ``round(sum(w)**2 / sum(w**2))``
(values² / variances), which is the true number of entries for unweighted fills,
``Int64`` storage and equal weights within a bin.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._binning.uhi import BinningAxis, effective_counts, grid_axes
from remu._optional import optional_import

__all__ = ["binning_to_hist", "read_histogram", "response_to_hist"]

_PROTOCOL = ("axes", "kind", "values", "variances")
_MAX_ENTRIES = float(2**62)
_RESPONSE_CONTENTS = ("mean", "values", "entries")


def _hist_module(feature: str) -> Any:
    return optional_import("hist", feature=feature)


def binning_to_hist(binning: Any) -> Any:
    """Make a ``hist.Hist`` (``Weight`` storage) of a grid binning's values and ``sumw2``.

    See ``LinearBinning.to_hist``; open-ended outer bins become flow bins.
    """
    feature = f"{type(binning).__name__}.to_hist"
    axes = grid_axes(binning)
    if binning.value_array is None:
        msg = f"a dummy {type(binning).__name__} has no data to put in a histogram"
        raise TypeError(msg)
    names = [ax.name for ax in axes]
    if len(set(names)) != len(names):
        msg = f"{feature}: the axes need distinct variable names; got {names}"
        raise ValueError(msg)
    hist = _hist_module(feature)
    h = hist.Hist(
        *(_variable_axis(hist, ax, ax.name, ax.label) for ax in axes), storage=hist.storage.Weight()
    )
    shape = tuple(ax._n_native for ax in axes)
    view = h.view(flow=True)
    view["value"] = np.asarray(binning.value_array, dtype=float).reshape(shape)
    view["variance"] = np.asarray(binning.sumw2_array, dtype=float).reshape(shape)
    return h


def _variable_axis(hist: Any, ax: BinningAxis, name: str, label: str) -> Any:
    # Variable axes store the edges exactly (a Regular axis would recompute them).
    return hist.axis.Variable(
        ax.edges,
        name=name,
        label=label,
        underflow=ax.has_underflow_bin,
        overflow=ax.has_overflow_bin,
    )


# ------------------------------------------------------------------------------ reading
def _with_flow(method: Callable[..., Any]) -> Any:
    """``method(flow=True)``, or ``None`` if the histogram has no flow support."""
    try:
        return method(flow=True)
    except TypeError:
        return None


def _axis_edges(ax: Any, i: int, what: str) -> NDArray[np.float64]:
    edges = getattr(ax, "edges", None)
    if callable(edges):  # uproot's axes have an edges() method
        edges = edges()
    if edges is None:
        pairs = [tuple(ax[k]) for k in range(len(ax))]
        if not pairs:
            msg = f"{what}: axis {i} has no bins"
            raise ValueError(msg)
        if any(a[1] != b[0] for a, b in itertools.pairwise(pairs)):
            msg = f"{what}: the bins of axis {i} are not contiguous: {pairs}"
            raise ValueError(msg)
        edges = [pairs[0][0]] + [p[1] for p in pairs]
    out = np.asarray(edges, dtype=float)
    if out.ndim != 1 or len(out) != len(ax) + 1:
        msg = f"{what}: axis {i} has {len(ax)} bins but edges of shape {out.shape}"
        raise ValueError(msg)
    if not np.all(np.isfinite(out)) or np.any(np.diff(out) <= 0):
        msg = f"{what}: the edges of axis {i} must be finite and increasing; got {out.tolist()}"
        raise ValueError(msg)
    return out


def _axis_name(ax: Any) -> str:
    """Return the name of a hist axis; a ROOT axis read by uproot has none, but its title."""
    if hasattr(ax, "name"):
        # hist's default label ("Axis 0") is no variable name: only the name counts
        return str(ax.name or "")
    if callable(getattr(ax, "has_member", None)) and ax.has_member("fTitle"):
        return str(ax.member("fTitle") or "")
    return str(getattr(ax, "label", None) or "")


def _axis_names(axes: Sequence[Any], variables: list[str] | None, what: str) -> list[str]:
    if variables is not None:
        if len(variables) != len(axes):
            msg = (
                f"{what}: variables={variables} names {len(variables)} variables for a "
                f"histogram with {len(axes)} axes"
            )
            raise ValueError(msg)
        names = [str(v) for v in variables]
    else:
        names = []
        for i, ax in enumerate(axes):
            name = _axis_name(ax)
            if not name:
                msg = f"{what}: axis {i} has no name; give the variable names explicitly"
                raise ValueError(msg)
            names.append(str(name))
    if len(set(names)) != len(names):
        msg = f"{what}: variable names must be distinct; got {names}"
        raise ValueError(msg)
    return names


def _flow_sides(ax: Any, extra: int, i: int, what: str) -> tuple[bool, bool]:
    """Which flow slots axis ``i`` has, from the size difference of the flow array."""
    if extra == 0:
        return False, False
    if extra == 2:
        return True, True
    traits = getattr(ax, "traits", None)
    under = bool(getattr(traits, "underflow", False))
    over = bool(getattr(traits, "overflow", False))
    if extra == 1 and under != over:
        return under, over
    msg = f"{what}: cannot tell the flow bins of axis {i} ({extra} extra bins with flow=True)"
    raise ValueError(msg)


def read_histogram(
    histogram: Any,
    *,
    n_axes: int | None,
    variables: list[str] | None,
    flow: bool,
    what: str,
) -> tuple[list[str], list[NDArray[np.float64]], dict[str, NDArray[Any]]]:
    """Variable names, bin edges (with ``±inf`` for flow bins) and flat data arrays.

    Raises
    ------
    TypeError
        Not a UHI histogram, or a discrete or circular axis.
    ValueError
        Wrong number of axes, kind other than ``"COUNT"``, missing or negative
        variances, non-finite values, unnamed or duplicate axes, inconsistent shapes.
    """
    missing = [a for a in _PROTOCOL if not hasattr(histogram, a)]
    if missing:
        msg = (
            f"{what} needs a UHI PlottableHistogram (hist.Hist, boost_histogram.Histogram, "
            f"an uproot TH1/TH2/TH3, ...); a {type(histogram).__name__} has no {missing[0]!r}"
        )
        raise TypeError(msg)
    kind = histogram.kind
    if kind != "COUNT":
        msg = (
            f"{what}: a histogram of kind {getattr(kind, 'value', kind)!r} (a profile of "
            "means) cannot become a binning of sums of weights; only kind 'COUNT' can"
        )
        raise ValueError(msg)
    axes = list(histogram.axes)
    if not axes or (n_axes is not None and len(axes) != n_axes):
        expected = f"{n_axes}" if n_axes is not None else "at least 1"
        msg = f"{what} needs a histogram with {expected} axis; got {len(axes)} axes"
        raise ValueError(msg)
    for i, ax in enumerate(axes):
        traits = getattr(ax, "traits", None)
        label = getattr(ax, "name", "") or i
        if getattr(traits, "discrete", False):
            msg = (
                f"{what}: axis {label!r} is discrete (an integer, boolean or category axis); "
                "its bins are values, not intervals with edges"
            )
            raise TypeError(msg)
        if getattr(traits, "circular", False):
            msg = f"{what}: axis {label!r} is circular; a binning has no wrap-around bins"
            raise TypeError(msg)
    names = _axis_names(axes, variables, what)
    edges = [_axis_edges(ax, i, what) for i, ax in enumerate(axes)]
    finite_shape = tuple(len(e) - 1 for e in edges)

    # Third-party code may compute variances on the fly; keep its floating point
    # warnings from turning into errors and check the results instead.
    with np.errstate(all="ignore"):
        values = _with_flow(histogram.values) if flow else None
        if values is not None:
            values = np.asarray(values)
            variances = histogram.variances(flow=True)
        else:
            values = np.asarray(histogram.values())
            variances = histogram.variances()
    if values.ndim != len(axes):
        msg = f"{what}: values of shape {values.shape} for a histogram with {len(axes)} axes"
        raise ValueError(msg)
    if values.shape != finite_shape:
        for i, ax in enumerate(axes):
            under, over = _flow_sides(ax, values.shape[i] - finite_shape[i], i, what)
            edges[i] = np.concatenate([[-np.inf] * under, edges[i], [np.inf] * over])
    if variances is None:
        msg = (
            f"{what}: the histogram has no variances (a Double storage filled with weights?); "
            "use Weight storage so that the sums of squared weights are known"
        )
        raise ValueError(msg)
    values = np.asarray(values, dtype=float)
    variances = np.asarray(variances, dtype=float)
    if variances.shape != values.shape:
        msg = f"{what}: variances of shape {variances.shape} do not match values {values.shape}"
        raise ValueError(msg)
    checks = (
        ("values", "finite", ~np.isfinite(values)),
        ("variances", "finite and non-negative", ~np.isfinite(variances) | (variances < 0)),
    )
    for label, rule, bad in checks:
        if np.any(bad):
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            arr = values if label == "values" else variances
            msg = f"{what}: {label} must be {rule}; got {arr[where]} at bin {where}"
            raise ValueError(msg)
    # The histogram's own counts() are not used: boost-histogram and uproot return the
    # sums of weights there for weighted storages, not the effective entries.
    counts = effective_counts(values, variances)
    bad = counts > _MAX_ENTRIES
    if bad.any():
        where = tuple(int(k) for k in np.argwhere(bad)[0])
        msg = f"{what}: {counts[where]} effective entries at bin {where} exceed the int64 range"
        raise ValueError(msg)
    arrays = {
        "value_array": values.reshape(-1).copy(),
        "entries_array": np.rint(counts).astype(np.int64).reshape(-1),
        "sumw2_array": variances.reshape(-1).copy(),
    }
    return names, edges, arrays


# --------------------------------------------------------------------- response matrices
def _matrix_axis(hist: Any, binning: Any, name: str) -> Any:
    """Make a Variable axis for a plain 1-D binning with finite edges, else data indices.

    Open-ended bins would become flow bins, which plots do not show and which uproot
    drops when the other axis has none; so such binnings are numbered instead.
    """
    from remu._binning.linear import LinearBinning

    if (
        isinstance(binning, LinearBinning)
        and not binning.subbinnings
        and np.all(np.isfinite(binning.bin_edges))
    ):
        return _variable_axis(
            hist, BinningAxis(binning.variable, binning.bin_edges), name, binning.variable
        )
    return hist.axis.Integer(
        0, binning.data_size, name=name, label=f"{name} data index", underflow=False, overflow=False
    )


def response_to_hist(
    response: Any,
    content: str = "mean",
    *,
    expected_weight: float = 1.0,
    nuisance_indices: Any = None,
    impossible_indices: Any = None,
) -> Any:
    """Make the 2-D ``hist.Hist`` (reco × truth) of ``ResponseMatrix.to_hist``."""
    if content not in _RESPONSE_CONTENTS:
        valid = ", ".join(repr(c) for c in _RESPONSE_CONTENTS)
        msg = f"ResponseMatrix.to_hist: content must be one of {valid}; got {content!r}"
        raise ValueError(msg)
    hist = _hist_module("ResponseMatrix.to_hist")
    axes = (
        _matrix_axis(hist, response.reco_binning, "reco"),
        _matrix_axis(hist, response.truth_binning, "truth"),
    )
    shape = (response.reco_binning.data_size, response.truth_binning.data_size)
    if content == "entries":
        h = hist.Hist(*axes, storage=hist.storage.Int64())
        h.view(flow=True)[...] = response.get_response_entries_as_ndarray(shape=shape)
        return h
    if content == "mean":
        options = {
            "expected_weight": expected_weight,
            "nuisance_indices": nuisance_indices,
            "impossible_indices": impossible_indices,
        }
        values = response.get_mean_response_matrix_as_ndarray(**options)
        variances = response.get_statistical_variance_as_ndarray(**options)
    else:
        values = response.get_response_values_as_ndarray(shape=shape)
        variances = response.get_response_sumw2_as_ndarray(shape=shape)
    h = hist.Hist(*axes, storage=hist.storage.Weight())
    view = h.view(flow=True)
    view["value"] = values
    view["variance"] = variances
    return h
