"""The seed documentation page (ReMU example 06) runs unchanged against remu.

The code blocks are read from the page itself (``shared/seed``) and executed in
order, in a temporary copy of the example folder layout. The files the page reads
come from the reference examples in ``shared/data/upstream-examples`` (binnings,
the reference-written ``05/response_matrix.npz``) plus event files generated here
with the tutorial's toy experiment (events are random anyway; only their format
and rough content matter).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from remu.errors import RemuWarning

SEED_PAGE = "000_f281dc49e1e6657e.readable.txt"

# (first line, last line, text of the first line) of every code block on the page.
CODE_BLOCKS = [
    (82, 92, "import numpy as np"),
    (113, 115, "# Define flux binning"),
    (120, 126, "# Create cross-section binnings"),
    (129, 139, "# Check binning structure"),
    (153, 160, "# Fill flux with exposure units (proportional to neutrinos per m^2)"),
    (167, 169, "pltr = plotting.get_plotter(flux_binning)"),
    (173, 183, "# Create fluctuated flux predictions"),
    (190, 207, "# Create event number predictors"),
    (210, 229, "# Test cross-section predictions"),
    (243, 244, "# Create noise predictor"),
    (249, 253, "# Combine into single predictor"),
    (270, 272, "parameter_binning = truth_binning.marginalize_subbinnings()"),
    (284, 285, "noise_template = np.zeros(parameter_binning.data_size)"),
    (289, 297, "for i, b in enumerate(bg_xsec_binning.bins):"),
    (310, 364, "from scipy.stats import expon, norm, uniform"),
    (373, 379, "bg_xsec_plot_binning = binning.RectilinearBinning("),
    (390, 399, "bg_truth_binning.reset()"),
    (406, 473, "def calculate_model_A_xsec(E_min, E_max, x_min, x_max, y_min, y_max):"),
    (475, 551, "model_B_xsec = np.zeros(signal_xsec_binning.data_size)"),
    (555, 558, "# Template predictor for noise, bg, model A, model B"),
    (562, 581, "# Load data and response matrix"),
    (603, 609, "# Likelihood caclulator and hypothesis tester"),
    (632, 638, "# Calculate p-values for hypotheses overall"),
    (644, 662, "# Get Wilks' p-values for models"),
]

# Outputs printed on the page that do not depend on random numbers.
EXPECTED_OUTPUT = ["48 120 9", "432 1080", "(0, 0)", "(0, 1)", "(1, 0)", "(100, 9)"]


def read_code_blocks(seed_dir: Path) -> list[str]:
    lines = (seed_dir / SEED_PAGE).read_text(encoding="utf-8").splitlines()
    blocks = []
    for first, last, text in CODE_BLOCKS:
        assert lines[first - 1] == text, f"page line {first} is {lines[first - 1]!r}"
        blocks.append("\n".join(lines[first - 1 : last]) + "\n")
    return blocks


# --- the tutorial's toy experiment (its generators of truth and reco events) -----------

GENERATORS = {
    "modelA": (100.0, [0.1, 0.2], [[1.0, 0.0], [0.0, 1.0]]),
    "modelB": (100.0, [0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]]),
    "background": (30.0, [0.5, 0.5], [[0.5, 0.0], [0.0, 0.5]]),
    "noise": (20.0, [0.0, 0.0], [[4.0, 0.0], [0.0, 4.0]]),
}


def generate(rng, model, exposure):
    sigma, mean, cov = GENERATORS[model]
    n = rng.poisson(sigma * exposure)
    return rng.multivariate_normal(mean, cov, size=n)


def detect(rng, truth, smearing=1.0):
    efficiency = 0.9 * ndtr(1.0 * (truth[:, 1] - 0.0))
    kept = truth[rng.uniform(size=len(truth)) <= efficiency]
    reco_x = kept[:, 0] + rng.normal(0.0, smearing, size=len(kept))
    return np.column_stack([reco_x, kept[:, 1]])


def write_csv(path, columns, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, values, delimiter=",", header=",".join(columns), comments="", fmt="%.17g")


def build_example_tree(root: Path, shared_data: Path) -> Path:
    """The files example 06 reads, laid out as in the ReMU docs/examples folder."""
    examples = shared_data / "upstream-examples"
    for rel in (
        "05/truth-binning.yml",
        "05/response_matrix.npz",
        "06/flux-binning.yml",
        "01/reco-binning.yml",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(examples / rel, root / rel)
    rng = np.random.default_rng(20240606)
    real = np.concatenate(
        [
            detect(rng, generate(rng, "modelB", 10)),
            detect(rng, generate(rng, "background", 10), smearing=2.0),
            generate(rng, "noise", 10),
        ]
    )
    rng.shuffle(real)
    write_csv(root / "05/real_data.txt", ["reco_x", "reco_y"], real)
    write_csv(root / "05/bg_truth.txt", ["true_x", "true_y"], generate(rng, "background", 100))
    write_csv(root / "00/modelA_truth.txt", ["true_x", "true_y"], generate(rng, "modelA", 100))
    write_csv(root / "00/modelB_truth.txt", ["true_x", "true_y"], generate(rng, "modelB", 100))
    return root / "06"


@pytest.mark.shared
def test_code_blocks_are_read_verbatim(shared_seed):
    blocks = read_code_blocks(shared_seed)
    page = (shared_seed / SEED_PAGE).read_text(encoding="utf-8")
    assert all(block.rstrip("\n") in page for block in blocks)
    assert "likelihood.mapper = pool.map" in blocks[7]
    assert "maxi.maximize_log_likelihood(calc)" in blocks[21]


def run_page(blocks, workdir, monkeypatch):
    """Execute code blocks in order in one namespace, as a reader of the page would."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from remu import likelihood

    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "example_06"}
    try:
        for block in blocks:
            exec(compile(block, f"{SEED_PAGE} example 06", "exec"), namespace)  # noqa: S102
    finally:
        pool = namespace.get("pool")
        if pool is not None:
            pool.terminate()
            pool.join()
        likelihood.mapper = map
        plt.close("all")
    return namespace


def check_fit(namespace, printed):
    for line in EXPECTED_OUTPUT:
        assert line in printed
    assert re.fullmatch(r"RectangularBin\(.*variables=\['E'\].*", printed[printed.index("0") + 2])
    # the maximum-likelihood fit converges
    ret = namespace["ret"]
    assert ret.success
    assert ret.x.shape == (4,)
    assert np.isfinite(ret.log_likelihood)
    assert ret.log_likelihood == -ret.fun
    calc = namespace["calc"]
    assert calc(ret.x) == pytest.approx(ret.log_likelihood)
    assert ret.log_likelihood >= calc(calc.predictor.defaults)
    # the composed 4-template predictor: 100 flux x detector variations, 8 reco bins
    prediction, weights = namespace["template_predictor"](ret.x)
    assert prediction.shape == (100, 8)
    assert weights.shape == (100,)


N_FIT_BLOCKS = 22  # everything up to and including the maximum-likelihood fit


@pytest.mark.shared
def test_seed_example_06_fit_runs_unchanged(
    shared_seed, shared_data, tmp_path, monkeypatch, capsys
):
    blocks = read_code_blocks(shared_seed)[:N_FIT_BLOCKS]
    # the page writes a (flux variations x truth bins) prediction into a binning:
    # the first variation is used, as in ReMU, with a warning
    with pytest.warns(RemuWarning, match=r"set_values_from_ndarray got 100 vectors"):
        namespace = run_page(blocks, build_example_tree(tmp_path, shared_data), monkeypatch)
    check_fit(namespace, capsys.readouterr().out.splitlines())


@pytest.mark.shared
@pytest.mark.slow  # 2 x 250 toy fits and 200 Wilks fits: minutes on 2 cores
def test_seed_example_06_runs_unchanged(shared_seed, shared_data, tmp_path, monkeypatch, capsys):
    workdir = build_example_tree(tmp_path, shared_data)
    with pytest.warns(RemuWarning, match=r"set_values_from_ndarray got 100 vectors"):
        namespace = run_page(read_code_blocks(shared_seed), workdir, monkeypatch)
    printed = capsys.readouterr().out.splitlines()
    check_fit(namespace, printed)
    p_a, p_b = (float(line) for line in printed[-2:])
    assert 0.0 <= p_a <= 1.0
    assert 0.0 <= p_b <= 1.0
    for name in ("p_values_A", "p_values_B"):
        values = np.asarray(namespace[name], dtype=float)
        assert values.shape == (50,)
        assert np.all((values >= 0.0) & (values <= 1.0))
    for figure in (
        "flux.png",
        "bg_xsec_pretty.png",
        "model_B_prediction.png",
        "wilks-p-values.png",
    ):
        assert (workdir / figure).stat().st_size > 0
