"""The binning statements of the seed page (example 06) run unchanged and print what it shows.

The code blocks are cut out of the page text by their first and last lines and run
with ``exec`` in one namespace, in a working folder laid out like the upstream
examples (``06/`` as the working directory, ``../05/truth-binning.yml`` beside it).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import remu.binning
from numeric_asserts import assert_allclose

pytestmark = pytest.mark.shared

PAGE = "000_f281dc49e1e6657e.readable.txt"

# (first line, last line) of each code block with binning statements, in page order
BLOCKS = [
    ("import numpy as np", "signal_truth_binning = truth_binning.subbinnings[2].clone()"),
    ("# Define flux binning", "    flux_binning = binning.yaml.full_load(f)"),
    ("# Create cross-section binnings", ")"),
    ("# Check binning structure", "print(signal_xsec_binning.bins[n_flux].data_indices)"),
    ("# Fill flux with exposure units", 'flux_binning.fill(df, weight=0.01)'),
    ("# Create fluctuated flux predictions", "print(flux.shape)"),
    ("parameter_binning = truth_binning.marginalize_subbinnings()",
     "parameter_binning = parameter_binning.insert_subbinning(2,"),
    ("for i, b in enumerate(bg_xsec_binning.bins):", "    break"),
]  # fmt: skip


def _lines(shared_seed):
    return (shared_seed / PAGE).read_text(encoding="utf-8").splitlines()


def _find(lines, prefix, start=0):
    for i in range(start, len(lines)):
        if lines[i].startswith(prefix):
            return i
    raise AssertionError(f"line starting with {prefix!r} not on the page")


def _block(lines, first, last, start=0):
    i = _find(lines, first, start)
    j = _find(lines, last, i + 1)
    return "\n".join(lines[i : j + 1]) + "\n", j + 1


def _printed_after(lines, last_code_line, n):
    """The ``n`` output lines the page shows after the code block ending at that line."""
    i = _find(lines, last_code_line)
    out = [ln for ln in lines[i + 1 :] if ln.strip()]
    return out[:n]


@pytest.fixture
def example_dir(shared_data, tmp_path):
    for sub, name in (("05", "truth-binning.yml"), ("06", "flux-binning.yml")):
        (tmp_path / sub).mkdir()
        shutil.copy(shared_data / "upstream-examples" / sub / name, tmp_path / sub / name)
    return tmp_path / "06"


def _run(shared_seed, example_dir, monkeypatch):
    lines = _lines(shared_seed)
    namespace: dict = {}
    outputs = []
    start = 0
    monkeypatch.chdir(example_dir)
    for first, last in BLOCKS:
        code, start = _block(lines, first, last, start)
        # the plotting import is not a binning statement; everything else runs as printed
        code = code.replace("from remu import plotting\n", "")
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, f"seed:{first}", "exec"), namespace)  # noqa: S102
        outputs.append(buf.getvalue())
    return lines, namespace, outputs


def _normalise_phasespace(text):
    """Sort the names inside ``PhaseSpace(variables={...})``: ReMU writes them in set order, which changes between processes."""

    def fix(match):
        names = sorted(n.strip() for n in match.group(1).split(","))
        return "PhaseSpace(variables={" + ", ".join(names) + "})"

    return re.sub(r"PhaseSpace\(variables=\{([^}]*)\}\)", fix, text)


def test_seed_binning_statements(shared_seed, example_dir, monkeypatch):
    lines, ns, outputs = _run(shared_seed, example_dir, monkeypatch)
    structure = outputs[3]
    assert structure.splitlines() == _printed_after(lines, BLOCKS[3][1], 5)
    assert structure == "48 120 9\n432 1080\n(0, 0)\n(0, 1)\n(1, 0)\n"
    assert outputs[5] == "(100, 9)\n"
    assert outputs[5].splitlines() == _printed_after(lines, BLOCKS[5][1], 1)

    marginal = outputs[7].splitlines()
    shown = _printed_after(lines, "    break", 3)
    assert marginal[0] == shown[0] == "0"
    assert [_normalise_phasespace(m) for m in marginal[1:]] == [
        _normalise_phasespace(s) for s in shown[1:]
    ]
    ev = dict(vars(remu.binning))
    ev.update(vars(np))
    truth_bin, flux_bin = ns["truth_bin"], ns["flux_bin"]
    assert eval(shown[1], ev) == truth_bin
    assert eval(shown[2], ev) == flux_bin
    assert truth_bin.edges == ((-np.inf, -0.5), (-np.inf, -0.25))
    assert flux_bin.edges == ((0.0, 2.0),)


def test_seed_binning_state(shared_seed, example_dir, monkeypatch):
    _, ns, _ = _run(shared_seed, example_dir, monkeypatch)
    flux_binning = ns["flux_binning"]
    edges = [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, np.inf]
    assert_array_equal(flux_binning.bin_edges, edges)

    # every throw is a weighted histogram of its energies (no overflow bins)
    flux, throws = ns["flux"], ns["E_throws"]
    assert flux.shape == (100, 9)
    for k in (0, 57, 99):
        counts = np.histogram(throws[k], bins=edges)[0]
        assert_allclose(flux[k], 0.01 * counts, rtol=1e-12)
    assert_allclose(flux_binning.get_values_as_ndarray(), flux[-1], rtol=0)
    assert_array_equal(
        flux_binning.get_entries_as_ndarray(), np.histogram(throws[-1], bins=edges)[0]
    )

    bg, sig = ns["bg_xsec_binning"], ns["signal_xsec_binning"]
    assert bg.bins_shape == (48, 9)
    assert sig.bins_shape == (120, 9)
    # the flux binning varies fastest
    assert [sig.bins[i].data_indices for i in (0, 1, 8, 9, 1079)] == [
        (0, 0),
        (0, 1),
        (0, 8),
        (1, 0),
        (119, 8),
    ]

    param = ns["parameter_binning"]
    assert param.data_size == 1 + 432 + 1080
    assert param.get_bin_data_index(1) == 1
    assert param.get_bin_data_index(2) == 1 + 432
    assert param.subbinnings[1] == bg  # re-cloned by the second insert
    assert param.subbinnings[2] is sig
    truth_binning = ns["truth_binning"]
    assert param.nbins == truth_binning.nbins == 3
