"""Differential test: the figures we draw match remu 0.8.0's, drawn in ``.venv-oracle``.

The same scenario script runs under both interpreters (ours and the reference's,
used as a black box) and summarises each figure: grid shape, size, labels,
legends, the lower/upper edge of every step band at the bin centres, the values
of every 2-D colour map and the number of scatter points. The summaries must
agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from numeric_asserts import assert_allclose

ROOT = Path(__file__).resolve().parents[1]
ORACLE_PYTHON = Path(
    os.environ.get("REMU_ORACLE_PYTHON", str(ROOT / ".venv-oracle" / "bin" / "python"))
)

pytestmark = pytest.mark.oracle

SCENARIOS = r"""
import json
import sys

import numpy as np
from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
from matplotlib.colors import to_rgba

from remu import binning, plotting


def band_summary(band, vertical):
    verts = np.concatenate([p.vertices for p in band.get_paths()])
    along = verts[:, 1] if vertical else verts[:, 0]
    edges = np.unique(along)
    centres = (edges[1:] + edges[:-1]) / 2
    lo = np.full(centres.shape, np.inf)
    hi = np.full(centres.shape, -np.inf)
    for path in band.get_paths():
        v = path.vertices[:, ::-1] if vertical else path.vertices
        a, b = v, np.roll(v, -1, axis=0)
        x0, x1 = np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0])
        flat = a[:, 1] == b[:, 1]
        cross = (x0[None] < centres[:, None]) & (centres[:, None] < x1[None]) & flat[None]
        lo = np.minimum(lo, np.where(cross, a[None, :, 1], np.inf).min(axis=1))
        hi = np.maximum(hi, np.where(cross, a[None, :, 1], -np.inf).max(axis=1))
    face = band.get_facecolor()
    return {
        "edges": edges.tolist(),
        "lo": lo.tolist(),
        "hi": hi.tolist(),
        "hatch": band.get_hatch(),
        "edgecolor": [round(float(c), 6) for c in band.get_edgecolor()[0]],
        "filled": bool(len(face) and face[0][3] > 0),
    }


def summary(plotter, vertical_column=None):
    fig, axes = plotter.figax
    out = {
        "shape": list(axes.shape),
        "size": [round(float(s), 6) for s in fig.get_size_inches()],
        "axes": [],
    }
    for r in range(axes.shape[0]):
        for c in range(axes.shape[1]):
            ax = axes[r, c]
            vertical = vertical_column is not None and c == axes.shape[1] - 1 and r > 0
            legend = ax.get_legend()
            out["axes"].append(
                {
                    "xlabel": ax.get_xlabel(),
                    "ylabel": ax.get_ylabel(),
                    "on": bool(ax.axison),
                    "legend": [t.get_text() for t in legend.get_texts()] if legend else None,
                    "bands": [
                        band_summary(col, vertical)
                        for col in ax.collections
                        if isinstance(col, PolyCollection)
                    ],
                    "maps": [
                        np.asarray(col.get_array(), dtype=float).ravel().tolist()
                        for col in ax.collections
                        if isinstance(col, QuadMesh)
                    ],
                    "points": [
                        len(col.get_offsets())
                        for col in ax.collections
                        if isinstance(col, PathCollection)
                    ],
                }
            )
    return out


def scenario_array():
    global arr, lb, rb, rb3, cp, gen
    arr = np.array([1.0, 3.0, 2.0, 5.0])
    p = plotting.get_plotter(arr, bins_per_row=3)
    p.plot_array(hatch=None, label="nominal")
    p.plot_array([arr * 0.9, arr, arr * 1.1], stack_function=0.68, label="toys")
    p.plot_array(arr, density=True, color="red", label="density")
    p.plot_array([arr, 2 * arr], stack_function=(np.min, np.max), edgecolor="k", alpha=0.5)
    p.legend()
    return summary(p)


def scenario_linear():
    global arr, lb, rb, rb3, cp, gen

    lb = binning.LinearBinning("x", [0, 1, 5, 7, np.inf])
    lb.set_values_from_ndarray([1.0, 4.0, 2.0, 1.0])
    p = plotting.get_plotter(lb)
    p.plot_values(label="density")
    p.plot_values(density=False, hatch=None, label="absolute")
    p.legend()
    return summary(p)


def scenario_linear_rows():
    global arr, lb, rb, rb3, cp, gen
    p = plotting.get_plotter(lb, bins_per_row=2)
    p.plot_values()
    return summary(p)


def scenario_corner2():
    global arr, lb, rb, rb3, cp, gen

    rb = binning.RectilinearBinning(["x", "y"], [[0, 1, 2, 3], [0, 1, 2]])
    rb.set_values_from_ndarray(np.arange(6.0))
    p = plotting.get_plotter(rb, x_axis_binnings=["x"], y_axis_binnings=["y"])
    p.plot_values(density=False, margin_function=np.max, label="max")
    p.plot_values(density=False, margin_function=np.min, label="min", scatter=500)
    p.legend()
    return summary(p, vertical_column=True)


def scenario_corner3():
    global arr, lb, rb, rb3, cp, gen

    edges = [[0.0, 1.0, 3.0], [-np.inf, 0.0, 2.0, 3.0], [0.0, 0.5, 2.0, 4.0, np.inf]]
    rb3 = binning.RectilinearBinning(["x", "y", "z"], edges)
    rb3.set_values_from_ndarray(np.linspace(1.0, 9.0, rb3.data_size) ** 1.3)
    p = plotting.get_plotter(rb3)
    p.plot_values(label="values")
    p.plot_values(density=[0], label="dens0", hatch=None)
    p.plot_array(
        [rb3.value_array, 2 * rb3.value_array, 0.5 * rb3.value_array],
        stack_function=0.68,
        label="band",
        scatter=0,
    )
    p.legend()
    return summary(p, vertical_column=True)


def scenario_corner3_axes():
    global arr, lb, rb, rb3, cp, gen
    p = plotting.get_plotter(rb3, [0], [1, 2])
    p.plot_values(margin_function=np.median)
    return summary(p, vertical_column=True)


def scenario_corner3_swapped():
    p = plotting.get_plotter(rb3, [1, 2], [0])
    p.plot_values(margin_function=np.median, density=[1], label="median")
    p.plot_values(margin_function=np.mean, label="mean", scatter=100)
    p.legend()
    return summary(p, vertical_column=True)


def scenario_cartesian():
    global arr, lb, rb, rb3, cp, gen

    a = binning.LinearBinning("a", [0.0, 1.0, 2.0], dummy=True)
    sub = binning.LinearBinning("s", [0.0, 1.0, 2.0, 3.0], dummy=True)
    b = binning.LinearBinning("b", [0.0, 1.0, 2.0], subbinnings={0: sub}, dummy=True)
    cp = binning.CartesianProductBinning([a, b])
    cp.set_values_from_ndarray(np.arange(8.0) ** 2)
    p = plotting.get_plotter(cp)
    p.plot_values(margin_function=np.max, label="max")
    p.plot_values(density=False, label="plain")
    p.legend()
    return summary(p, vertical_column=True)


def scenario_generic():
    global arr, lb, rb, rb3, cp, gen

    bins = [binning.RectangularBin(variables=["x"], edges=[(float(i), i + 1.0)]) for i in range(4)]
    subs = {
        1: binning.LinearBinning("y", [0.0, 1.0, 2.0, 3.0], dummy=True),
        2: binning.LinearBinning("y", [0.0, 1.0, 2.0], dummy=True),
    }
    gen = binning.Binning(bins=bins, subbinnings=subs)
    gen.set_values_from_ndarray(np.arange(1.0, 8.0))
    p = plotting.get_plotter(gen)
    p.plot_values(label="all")
    return summary(p)


def scenario_generic_marg():
    global arr, lb, rb, rb3, cp, gen
    p = plotting.BinningPlotter(gen, marginalize_subbinnings=True)
    toys = np.outer(np.linspace(0.5, 1.5, 9), np.arange(1.0, 8.0))
    p.plot_array(toys, stack_function=0.5, label="toys")
    p.plot_array(np.arange(4.0), label="marginal")
    return summary(p)


results = {}
for name, function in list(globals().items()):
    if name.startswith("scenario_"):
        try:
            results[name[9:]] = function()
        except Exception as error:
            results[name[9:]] = {"error": f"{type(error).__name__}: {error}"}

json.dump(results, sys.stdout)
"""


def _run(python: Path, script: Path) -> dict:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        # Only the exception line: the reference's traceback is not ours to read.
        last = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        pytest.fail(f"{python} failed: {last[0]}")
    return json.loads(done.stdout)


def _compare(ours, theirs, path="figure"):
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        assert sorted(ours) == sorted(theirs), path
        for key in theirs:
            _compare(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list) and theirs and isinstance(theirs[0], (dict, list, str)):
        assert isinstance(ours, list), path
        assert len(ours) == len(theirs), f"{path}: {len(ours)} != {len(theirs)}"
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            _compare(o, t, f"{path}[{i}]")
    elif isinstance(theirs, list) and theirs:
        assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=path)
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    if not ORACLE_PYTHON.exists():
        reason = (
            f"reference oracle not built: {ORACLE_PYTHON} is missing "
            "(run `make oracle` to create .venv-oracle with remu 0.8.0)"
        )
        # `make test-oracle` sets REMU_REQUIRE_ORACLE: there a missing oracle fails
        if os.environ.get("REMU_REQUIRE_ORACLE"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    script = tmp_path_factory.mktemp("plotting_oracle") / "scenarios.py"
    script.write_text(SCENARIOS)
    return _run(Path(sys.executable), script), _run(ORACLE_PYTHON, script)


@pytest.mark.parametrize(
    "scenario",
    [
        "array",
        "linear",
        "linear_rows",
        "corner2",
        "corner3",
        "corner3_swapped",
        "cartesian",
        "generic",
        "generic_marg",
    ],
)
def test_figures_match_reference(summaries, scenario):
    ours, theirs = summaries
    assert "error" not in ours[scenario], ours[scenario]
    assert "error" not in theirs[scenario], theirs[scenario]
    _compare(ours[scenario], theirs[scenario], scenario)


def test_two_y_binnings_work_where_the_reference_fails(summaries):
    # remu 0.8.0 raises IndexError for any corner plot with two or more y binnings;
    # we draw the documented layout: one row of panels per y binning.
    ours, theirs = summaries
    assert theirs["corner3_axes"]["error"].startswith("IndexError")
    assert ours["corner3_axes"]["shape"] == [3, 2]
    assert [a["ylabel"] for a in ours["corner3_axes"]["axes"][::2]] == ["", "z", "y"]
