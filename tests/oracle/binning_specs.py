"""Hypothesis strategies for random binning specs (see ``scenarios_binning``) and events."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

VARIABLES = ("x", "y", "z")
#: edges come from a coarse grid, so events often sit exactly on an edge
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0)
EVENT_DTYPE = [(v, np.float64) for v in VARIABLES]


def sizes(spec: dict) -> tuple[int, int]:
    """(nbins, data_size) of a spec, from the numbering rules of the binnings.

    A bin with a subbinning takes as many data indices as the subbinning has; a
    product has one bin per combination of its constituents' data indices.
    """
    kind = spec["kind"]
    if kind == "linear":
        nbins = len(spec["edges"]) - 1
    elif kind == "rectilinear":
        nbins = math.prod(len(e) - 1 for e in spec["edges"])
    elif kind == "cartesian":
        nbins = math.prod(sizes(b)[1] for b in spec["binnings"])
    elif kind == "rectangular":
        nbins = len(spec["bin_edges"])
    else:
        nbins = len(spec["bins"])
    data_size = nbins + sum(sizes(s)[1] - 1 for s in spec.get("subbinnings", {}).values())
    return nbins, data_size


def has_single_bin_linear(spec: dict) -> bool:
    """True if a 1-bin LinearBinning occurs anywhere (upstream adjacency differs: D24)."""
    kind = spec["kind"]
    own = False
    if kind == "linear":
        own = len(spec["edges"]) == 2
    elif kind == "rectilinear":
        own = any(len(e) == 2 for e in spec["edges"])
    elif kind == "cartesian":
        own = any(has_single_bin_linear(b) for b in spec["binnings"])
    return own or any(has_single_bin_linear(s) for s in spec.get("subbinnings", {}).values())


@st.composite
def edges(draw, min_bins: int = 1, max_bins: int = 4, infinite: bool = True) -> list[float]:
    e = sorted(draw(st.sets(st.sampled_from(GRID), min_size=min_bins + 1, max_size=max_bins + 1)))
    if infinite and draw(st.booleans()) and draw(st.booleans()):
        e[0] = -math.inf
    if infinite and draw(st.booleans()) and draw(st.booleans()):
        e[-1] = math.inf
    return e


@st.composite
def box(draw, variables) -> list[list[float]]:
    out = []
    for _ in variables:
        lo, hi = sorted(draw(st.lists(st.sampled_from(GRID), min_size=2, max_size=2)))
        out.append([lo, hi])
    return out


def _variables(min_size=1, max_size=2):
    return st.lists(st.sampled_from(VARIABLES), min_size=min_size, max_size=max_size, unique=True)


@st.composite
def binning_spec(draw, depth: int = 0, kinds=None, max_depth: int = 2) -> dict:
    kinds = kinds or ("linear", "rectilinear", "cartesian", "rectangular", "generic")
    kind = draw(st.sampled_from(kinds))
    spec: dict = {"kind": kind}
    if kind == "linear":
        spec["variable"] = draw(st.sampled_from(VARIABLES))
        spec["edges"] = draw(edges())
        spec["include_upper"] = draw(st.booleans())
    elif kind == "rectilinear":
        spec["variables"] = draw(_variables(1, 2))
        spec["edges"] = [draw(edges(max_bins=3)) for _ in spec["variables"]]
        spec["include_upper"] = draw(st.booleans())
    elif kind == "cartesian":
        n = draw(st.integers(1, 3))
        spec["binnings"] = [
            draw(binning_spec(depth + 1, kinds=("linear", "rectilinear"), max_depth=max_depth))
            for _ in range(n)
        ]
    elif kind == "rectangular":
        spec["variables"] = draw(_variables(1, 2))
        spec["bin_edges"] = [draw(box(spec["variables"])) for _ in range(draw(st.integers(1, 4)))]
        spec["include_upper"] = draw(st.booleans())
    else:
        spec["bins"] = [
            {
                "variables": (vs := draw(_variables(1, 2))),
                "edges": draw(box(vs)),
                "include_lower": draw(st.booleans()),
                "include_upper": draw(st.booleans()),
            }
            for _ in range(draw(st.integers(1, 4)))
        ]
    nbins, _ = sizes(spec)
    if depth < max_depth and nbins > 0 and draw(st.booleans()):
        keys = draw(st.sets(st.integers(0, min(nbins, 12) - 1), min_size=1, max_size=2))
        spec["subbinnings"] = {
            str(k): draw(binning_spec(depth + 1, max_depth=max_depth)) for k in sorted(keys)
        }
    if sizes(spec)[1] > 200:  # keep the oracle's per-bin Python loops cheap
        spec.pop("subbinnings", None)
    return spec


def random_events(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Events on, between and outside the grid (with NaN and inf), and weights."""
    rng = np.random.default_rng(seed)
    candidates = np.concatenate(
        [np.array(GRID), rng.uniform(-1.0, 6.0, size=len(GRID)), [np.nan, np.inf, -np.inf]]
    )
    p = np.ones(len(candidates))
    p[-3:] = 0.15  # NaN and inf rarely
    p /= p.sum()
    events = np.zeros(n, dtype=EVENT_DTYPE)
    for v in VARIABLES:
        events[v] = rng.choice(candidates, size=n, p=p)
    weights = np.round(rng.normal(1.0, 0.7, size=n), 3)
    return events, weights
