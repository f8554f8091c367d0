"""Binning scenarios run identically with our remu and with remu 0.8.0.

Plain NumPy and standard library at module level; ``remu.binning`` is imported
inside each function, so in the oracle driver it is the reference and in our test
process it is ours. A scenario takes one JSON/array *case* and returns a payload
(see ``oracle_exchange``).

A binning is described by a JSON *spec*::

    {"kind": "linear", "variable": "x", "edges": [...], "include_upper": bool,
     "subbinnings": {"<bin index>": spec, ...}}
    {"kind": "rectilinear", "variables": [...], "edges": [[...], ...], ...}
    {"kind": "cartesian", "binnings": [spec, ...], "subbinnings": {...}}
    {"kind": "rectangular", "variables": [...], "bin_edges": [[[lo, hi], ...], ...], ...}
    {"kind": "generic", "bins": [{"variables": [...], "edges": [[lo, hi], ...],
                                  "include_lower": bool, "include_upper": bool}, ...], ...}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import oracle_exchange

#: the most bins whose edges/indices are compared one by one
MAX_BINS_LISTED = 60


def _bn():
    from remu import binning

    return binning


def build(spec: dict, dummy: bool = False):
    """The binning described by ``spec``."""
    bn = _bn()
    subs = {int(k): build(v) for k, v in spec.get("subbinnings", {}).items()}
    kind = spec["kind"]
    kw = {"subbinnings": subs} if subs else {}
    if dummy:
        kw["dummy"] = True
    if kind == "linear":
        return bn.LinearBinning(
            spec["variable"], spec["edges"], include_upper=spec.get("include_upper", False), **kw
        )
    if kind == "rectilinear":
        return bn.RectilinearBinning(
            spec["variables"], spec["edges"], include_upper=spec.get("include_upper", False), **kw
        )
    if kind == "cartesian":
        return bn.CartesianProductBinning([build(b, dummy=True) for b in spec["binnings"]], **kw)
    if kind == "rectangular":
        return bn.RectangularBinning(
            spec["variables"],
            spec["bin_edges"],
            include_upper=spec.get("include_upper", False),
            **kw,
        )
    if kind == "generic":
        bins = [
            bn.RectangularBin(
                variables=b["variables"],
                edges=b["edges"],
                include_lower=b.get("include_lower", True),
                include_upper=b.get("include_upper", False),
                dummy=True,
            )
            for b in spec["bins"]
        ]
        return bn.Binning(bins=bins, **kw)
    msg = f"unknown spec kind {kind!r}"
    raise ValueError(msg)


def _index(i) -> int:
    return -1 if i is None else int(i)


def structure(obj) -> dict:
    """Numbering and geometry of a binning, comparable across implementations."""
    out = {
        "type": type(obj).__name__,
        "nbins": int(obj.nbins),
        "data_size": int(obj.data_size),
        "phasespace": sorted(obj.phasespace.variables),
        "subbinning_keys": sorted(int(k) for k in obj.subbinnings),
        "bin_to_data": [_index(obj.get_bin_data_index(i)) for i in range(obj.nbins)],
        "data_to_bin": [_index(obj.get_data_bin_index(d)) for d in range(obj.data_size)],
    }
    if hasattr(obj, "bins_shape"):
        out["bins_shape"] = [int(n) for n in obj.bins_shape]
    listed = []
    # 0.8.0 cannot build the bins of a dummy product (TypeError); remu can (D28)
    n_listed = 0 if obj.is_dummy() and hasattr(obj, "binnings") else obj.nbins
    for i in range(min(n_listed, MAX_BINS_LISTED)):
        b = obj.bins[i]
        if hasattr(b, "data_indices"):
            listed.append([int(d) for d in b.data_indices])
        else:
            listed.append(
                {
                    "variables": list(b.variables),
                    "edges": [[float(lo), float(hi)] for lo, hi in b.edges],
                    "include_lower": bool(b.include_lower),
                    "include_upper": bool(b.include_upper),
                }
            )
    out["bins"] = listed
    return out


def adjacency(obj) -> dict:
    return {
        "bin": [sorted(int(j) for j in a) for a in obj.get_adjacent_bin_indices()],
        "data": [sorted(int(j) for j in a) for a in obj.get_adjacent_data_indices()],
    }


def _events_as_dicts(events: np.ndarray) -> list[dict]:
    return [{name: float(row[name]) for name in events.dtype.names} for row in events]


def _arrays(obj) -> dict:
    return {
        "value": obj.get_values_as_ndarray(),
        "entries": obj.get_entries_as_ndarray(),
        "sumw2": obj.get_sumw2_as_ndarray(),
    }


def _lookup_one(obj, event: dict) -> int:
    """Data index of one event: -1 outside, -2 when the lookup raised ``TypeError``.

    ReMU 0.8.0 raises ``TypeError`` for an event inside a bin with a subbinning but
    outside every bin of that subbinning; remu returns ``None`` (see D22).
    """
    try:
        return _index(obj.get_event_data_index(event))
    except TypeError:
        return -2


def _lookup(obj, events: list[dict]) -> np.ndarray:
    """Data index per event (see :func:`_lookup_one`)."""
    return np.array([_lookup_one(obj, e) for e in events], dtype=np.int64)


def _fill_variant(spec, variant, events, weights, keep):
    """Fill a fresh binning with the events flagged ``keep`` in one input form."""
    obj = build(spec)
    ev = events[keep]
    w = weights[keep]
    if variant == "list_of_dicts":
        dicts, wl = _events_as_dicts(ev), list(w)
        if oracle_exchange.SIDE == "oracle":
            # remu 0.8.0 on numpy<2 raises "Too many operands" for lists of more than 32
            # events (docs/differences.md, D1): hand them over 32 at a time
            for i in range(0, len(dicts), 32):
                obj.fill(dicts[i : i + 32], weight=wl[i : i + 32])
        else:
            obj.fill(dicts, weight=wl)
    elif variant == "structured":
        obj.fill(ev, weight=w)
    elif variant == "structured_scalar_weight":
        obj.fill(ev, weight=2.5)
    elif variant == "structured_renamed":
        # a new dtype object: renaming ``dtype.names`` in place would rename the
        # fields of every array sharing that dtype
        renamed = np.zeros(len(ev), dtype=[("in_" + n, ev.dtype[n]) for n in ev.dtype.names])
        for n in ev.dtype.names:
            renamed["in_" + n] = ev[n]
        obj.fill(renamed, weight=w, rename={"in_" + n: n for n in ev.dtype.names})
    elif variant == "dataframe":
        import pandas as pd

        frame = pd.DataFrame({n: ev[n] for n in ev.dtype.names})
        obj.fill(frame, weight=w)
    elif variant == "dict_of_arrays":
        # remu 0.8.0 reads a dict as one event; the oracle gets the same events as a
        # structured array, ours the mapping of columns (our documented extension)
        if oracle_exchange.SIDE == "oracle":
            obj.fill(ev, weight=w)
        else:
            obj.fill({n: ev[n].copy() for n in ev.dtype.names}, weight=w)
    elif variant == "one_by_one":
        for e, wi in zip(_events_as_dicts(ev), w, strict=True):
            obj.fill(e, weight=float(wi))
    else:
        msg = f"unknown fill variant {variant!r}"
        raise ValueError(msg)
    return _arrays(obj)


def describe(case: dict) -> dict:
    """Structure, YAML text, event look-ups and fills of one random binning."""
    bn = _bn()
    spec = case["spec"]
    obj = build(spec)
    out = {"structure": structure(obj)}
    if case.get("adjacency", True):
        out["adjacency"] = adjacency(obj)
    text = bn.yaml.dump(obj)
    out["yaml"] = text
    out["yaml_self_equal"] = bool(bn.yaml.full_load(text) == obj)
    out["dummy_yaml"] = bn.yaml.dump(build(spec, dummy=True))
    events = case.get("events")
    if events is not None:
        dicts = _events_as_dicts(events)
        idx = _lookup(obj, dicts)
        out["lookup"] = idx
        keep = idx != -2
        weights = case["weights"]
        out["fills"] = {
            v: _fill_variant(spec, v, events, weights, keep) for v in case.get("variants", [])
        }
    return out


def load_yaml(case: dict) -> dict:
    """Load a YAML text written by the other implementation; compare with ``spec``."""
    bn = _bn()
    loaded = bn.yaml.full_load(case["text"])
    built = build(case["spec"], dummy=case.get("dummy", False))
    return {
        "equal": bool(loaded == built),
        "equal_reversed": bool(built == loaded),
        "dummy": bool(loaded.is_dummy()),
        "structure": structure(loaded),
        "redump_loads": bool(bn.yaml.full_load(bn.yaml.dump(loaded)) == built),
    }


def operations(case: dict) -> dict:
    """Marginalize/project/slice/remove_bin_edges of a binning filled from arrays."""
    spec = case["spec"]
    obj = build(spec)
    n = obj.data_size
    obj.set_values_from_ndarray(case["values"][:n])
    obj.set_entries_from_ndarray(case["entries"][:n])
    obj.set_sumw2_from_ndarray(case["sumw2"][:n])
    out: dict = {}
    if obj.subbinnings:
        flat = obj.marginalize_subbinnings()
        out["marginalize_subbinnings"] = {"structure": structure(flat), **_arrays(flat)}
        for k in sorted(obj.subbinnings):
            part = obj.marginalize_subbinnings([k])
            out[f"marginalize_subbinnings_{k}"] = _arrays(part)
            back = part.insert_subbinning(k, obj.subbinnings[k].clone())
            out[f"reinsert_{k}"] = {"equal": bool(back == obj), **_arrays(back)}
        arr2 = np.stack([case["values"][:n], case["sumw2"][:n]], axis=1)
        out["marginalize_1d_on_ndarray"] = obj.marginalize_subbinnings_on_ndarray(arr2[:, 0])
    kind = spec["kind"]
    if kind in ("cartesian", "rectilinear"):
        nb = len(obj.binnings)
        for k in range(nb):
            p = obj.project([k])
            out[f"project_{k}"] = {"structure": structure(p), **_arrays(p)}
            m = obj.marginalize([k])
            out[f"marginalize_{k}"] = {"structure": structure(m), **_arrays(m)}
        if kind == "cartesian":
            for k in range(nb):
                p = obj.project(k)
                out[f"project_int_{k}"] = {"structure": structure(p), **_arrays(p)}
    if kind == "rectilinear":
        for k, var in enumerate(spec["variables"]):
            if not obj.subbinnings and len(spec["edges"][k]) > 2:
                r = obj.remove_bin_edges({var: [1]})
                out[f"remove_bin_edges_{var}"] = {"structure": structure(r), **_arrays(r)}
    if kind == "linear":
        nbins = obj.nbins
        if nbins >= 2:
            s = obj.slice(1, nbins)
            out["slice"] = {"structure": structure(s), **_arrays(s)}
            # a removal that leaves no bin is refused by remu (difference D10)
            removals = [[1], [0], [nbins]] + ([[1, nbins]] if nbins >= 3 else [])
            for edges in removals:
                r = obj.remove_bin_edges(edges)
                out[f"remove_bin_edges_{edges}"] = {"structure": structure(r), **_arrays(r)}
    return out


def _all_variables(obj) -> set:
    """Variables of a binning, its constituents and its subbinnings (phasespace omits some)."""
    out = set(obj.phasespace.variables)
    for b in getattr(obj, "binnings", ()):
        out |= _all_variables(b)
    for s in obj.subbinnings.values():
        out |= _all_variables(s)
    return out


def load_file(case: dict) -> dict:
    """Structure of a binning YAML file (e.g. one written by the reference)."""
    bn = _bn()
    with Path(case["path"]).open() as f:
        obj = bn.yaml.full_load(f)
    out = {"structure": structure(obj), "adjacency_data": adjacency(obj)["data"]}
    out["all_variables"] = sorted(_all_variables(obj))
    out["yaml_roundtrip_equal"] = bool(bn.yaml.full_load(bn.yaml.dump(obj)) == obj)
    return out


def fill_many_dicts(case: dict) -> dict:
    """One ``fill`` call with a list of ``n`` dict events (upstream limit: 32)."""
    obj = build(case["spec"])
    events = [{"x": float(v)} for v in case["x"]]
    obj.fill(events, weight=list(case["w"]))
    return _arrays(obj)


def difference(case: dict):
    """Small probes of the differences from ReMU 0.8.0 listed in docs/differences.md."""
    bn = _bn()
    name = case["name"]
    if name == "D22_lookup":  # inside bin 0 of x, outside its y subbinning
        b = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1])})
        return _index(b.get_event_data_index({"x": 0.5, "y": 5.0}))
    if name == "D22_fill":
        b = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1])})
        b.fill([{"x": 0.5, "y": 5.0}, {"x": 0.5, "y": 0.5}, {"x": 1.5, "y": 0.0}])
        return _arrays(b)
    if name == "D23":
        b = bn.LinearBinning("x", [0, 1, 2], subbinnings={0: bn.LinearBinning("y", [0, 1, 2])})
        return b.marginalize_subbinnings_on_ndarray(np.arange(6.0).reshape(3, 2))
    if name == "D24":
        return [np.asarray(a) for a in bn.LinearBinning("x", [0, 1]).get_adjacent_bin_indices()]
    if name == "D25":
        return bool(bn.LinearBinning("x", [0, 1, 2]) == bn.LinearBinning("x", [0, 1]))
    if name == "D26":
        r = bn.RectilinearBinning(["xx", "yy"], [[0, 1, 2], [0, 1, 2, 3]])
        r.set_values_from_ndarray(np.arange(6.0))
        return r.marginalize("xx").get_values_as_ndarray()
    if name == "D27":
        r = bn.RectilinearBinning(["x", "y"], [[0, 1, 2], [0, 1, 2, 3]])
        r.set_values_from_ndarray(np.arange(6.0))
        p = r.project(case["arg"])
        return {"type": type(p).__name__, "value": p.get_values_as_ndarray()}
    if name == "D20":
        return bool(bn.PhaseSpace(["x"]) == None)  # the difference is in ==, not "is"
    if name == "D21":
        a = bn.RectangularBinning(["x"], [[(0, 1)]])
        return bool(a == bn.LinearBinning("x", [0, 1]))
    if name == "D28":
        c = bn.CartesianProductBinning([bn.LinearBinning("x", [0, 1, 2], dummy=True)], dummy=True)
        return [int(i) for i in c.bins[1].data_indices]
    msg = f"unknown difference {name!r}"
    raise ValueError(msg)


def fill_file(case: dict) -> dict:
    """Fill a binning loaded from a YAML file with the given events."""
    bn = _bn()
    with Path(case["path"]).open() as f:
        obj = bn.yaml.full_load(f)
    obj.fill(case["events"], weight=case["weights"])
    return _arrays(obj)


def _cut_positive_x(data):
    return data[data["x"] > 0]


CUTS = {None: None, "positive_x": _cut_positive_x}


def fill_csv(case: dict) -> dict:
    """``fill_from_csv_file`` with weights, renaming, cuts, lists of files and buffering."""
    obj = build(case["spec"])
    kw = dict(case.get("kwargs", {}))
    if case.get("cut") is not None:
        kw["cut_function"] = CUTS[case["cut"]]
    obj.fill_from_csv_file(case["files"], **kw)
    if case.get("twice"):
        obj.fill_from_csv_file(case["files"], **kw)
    return _arrays(obj)
