"""Fits, scans, toy p-values and MCMC through ``remu.likelihood`` (issue: one fitting engine).

The models: a ``ResponseMatrixPredictor`` with 100 detector variations (8 reco x
120 truth bins, the shape of the tutorial's step 03; per-truth-bin efficiencies
varied by +-10 % and every element by +-3 %), composed with 1, 2 or 4 smooth truth
templates (``TemplatePredictor``), marginal or profile treatment of the variations.
The data are a Poisson draw (seeded) of about 800 events from the first variation.

* ``fits/single/{1,2,4}-templates/{marginal,profile}``: ``BasinHoppingMaximizer``
  fits of the model, ``np.random.seed(i)`` before fit ``i`` (10 fits per run;
  5 "quick").
* ``fits/wilks-scan/100-points/{marginal,profile}/loop``: the seed page's way: a
  ``HypothesisTester`` of the 4-template model with the last weight fixed to 0,
  ``wilks_max_likelihood_ratio_p_value([None, None, v])`` for 100 values ``v`` of
  the third weight (20 "quick"), a fresh tester per run.
* ``fits/wilks-scan/100-points/{marginal,profile}/vectorised``: the same scan in one
  call of ``wilks_max_likelihood_ratio_p_values`` where the ``remu`` package has it
  (0.8.0 does not: it runs the loop).
* ``fits/toys/max-likelihood-p-value/{1,2,4}-templates/{marginal,profile}``:
  ``max_likelihood_p_value(N=100)`` (20 "quick"), each toy re-fitted.
* ``fits/toys/max-likelihood-ratio-p-value/4-templates/{marginal,profile}``: H0 = the
  last weight fixed to 0, ``max_likelihood_ratio_p_value(N=100)`` (20 "quick").
* ``fits/emcee/{1-template-default-walkers,2-templates-32-walkers}``:
  ``likelihood_utils.emcee_sampler`` run for 200 steps (50 "quick") from walkers
  spread 1 % around the truth. The "NumPy ref" column is emcee's own cost: the same
  sampler with a log-probability that costs nothing, the floor of any likelihood.
* ``fits/seed-page/end-to-end``: the code of the seed documentation page (ReMU's
  example 06, as kept in ``examples/tutorial/step06_cross_sections.py``) run as
  written in a temporary copy of the example folder layout, with the reference's
  example files from ``../shared/data/upstream-examples`` (set ``REMU_SHARED`` to
  move it) and event files drawn by the tutorial's toy experiment. It fits, runs
  two ``max_likelihood_p_value`` with 250 toys through a ``multiprocess.Pool(8)``,
  100 Wilks p-values and saves 12 figures.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

try:
    from _harness import Workload
except ImportError:  # imported as benchmarks.bench_fits
    from benchmarks._harness import Workload

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REMU_SHARED", ROOT.parent / "shared"))
_N_RECO, _N_TRUTH, _N_SYST = 8, 120, 100
_TRUTH_WEIGHTS = np.array([300.0, 250.0, 500.0, 150.0])
_FITS = {"quick": 5, "full": 10}
_SCAN = {"quick": 20, "full": 100}
_TOYS = {"quick": 20, "full": 100}
_STEPS = {"quick": 50, "full": 200}


def _likelihood(remu):
    return importlib.import_module(remu.__name__ + ".likelihood")


def _inputs(seed: int = 20260601) -> dict:
    rng = np.random.default_rng(seed)
    truth_pos = np.linspace(0.0, 1.0, _N_TRUTH)
    reco_pos = np.linspace(0.0, 1.0, _N_RECO)
    smearing = np.exp(-0.5 * ((reco_pos[:, None] - truth_pos[None, :]) / 0.12) ** 2)
    # At most 0.88 x 1.1 x 1.03 < 1: every truth bin's probabilities sum to at most 1
    # (a response matrix file with more is rejected when it is read).
    efficiency = 0.5 + 0.38 * truth_pos
    nominal = smearing / smearing.sum(axis=0) * efficiency
    matrices = (
        nominal
        * rng.uniform(0.9, 1.1, size=(_N_SYST, 1, _N_TRUTH))
        * rng.uniform(0.97, 1.03, size=(_N_SYST, _N_RECO, _N_TRUTH))
    )
    centres, widths = [0.2, 0.45, 0.6, 0.8], [0.15, 0.3, 0.1, 0.12]
    templates = np.array(
        [np.exp(-0.5 * ((truth_pos - c) / w) ** 2) for c, w in zip(centres, widths, strict=True)]
    )
    templates /= templates.sum(axis=1, keepdims=True)
    path = str(Path(tempfile.mkdtemp(prefix="remu-bench-")) / "response_matrix.npz")
    np.savez(
        path,
        matrices=matrices,
        weights=np.ones(_N_SYST),
        truth_entries=np.full(_N_TRUTH, 1000),
        sparse_indices=np.arange(_N_TRUTH),
        is_sparse=np.array(True),
    )
    expected = matrices[0] @ (_TRUTH_WEIGHTS @ templates)
    return {"path": path, "templates": templates, "data": rng.poisson(expected)}


def _calculator(likelihood, inputs: dict, n_templates: int, systematics: str):
    response = likelihood.ResponseMatrixPredictor(inputs["path"])
    calc = likelihood.LikelihoodCalculator(
        likelihood.PoissonData(inputs["data"]), response, systematics
    )
    return calc.compose(likelihood.TemplatePredictor(inputs["templates"][:n_templates]))


def _model_setup(n_templates: int, systematics: str):
    def setup(size: str) -> dict:
        import remu

        inputs = _inputs()
        calc = _calculator(_likelihood(remu), inputs, n_templates, systematics)
        return {"calc": calc, "size": size}

    return setup


# --- single fits --------------------------------------------------------------------------


def _single_fits(remu, data):
    likelihood = _likelihood(remu)
    out = []
    for i in range(_FITS[data["size"]]):
        np.random.seed(i)
        out.append(float(likelihood.BasinHoppingMaximizer()(data["calc"]).log_likelihood))
    return out


# --- Wilks scans ---------------------------------------------------------------------------


def _scan_points(size: str) -> np.ndarray:
    return np.linspace(0.5, 1.5, _SCAN[size]) * _TRUTH_WEIGHTS[2]


def _scan_loop(remu, data):
    likelihood = _likelihood(remu)
    np.random.seed(0)
    tester = likelihood.HypothesisTester(data["calc"].fix_parameters([None, None, None, 0.0]))
    return [
        float(tester.wilks_max_likelihood_ratio_p_value([None, None, v]))
        for v in _scan_points(data["size"])
    ]


def _scan_vectorised(remu, data):
    likelihood = _likelihood(remu)
    np.random.seed(0)
    tester = likelihood.HypothesisTester(data["calc"].fix_parameters([None, None, None, 0.0]))
    points = [[None, None, v] for v in _scan_points(data["size"])]
    scan = getattr(tester, "wilks_max_likelihood_ratio_p_values", None)
    if scan is None:  # remu 0.8.0: one call per point
        return [float(tester.wilks_max_likelihood_ratio_p_value(p)) for p in points]
    return [float(p) for p in scan(points)]


# --- toys ----------------------------------------------------------------------------------


def _toy_p_value(remu, data):
    likelihood = _likelihood(remu)
    np.random.seed(0)
    return float(
        likelihood.HypothesisTester(data["calc"]).max_likelihood_p_value(N=_TOYS[data["size"]])
    )


def _toy_ratio_p_value(remu, data):
    likelihood = _likelihood(remu)
    np.random.seed(0)
    tester = likelihood.HypothesisTester(data["calc"])
    return float(
        tester.max_likelihood_ratio_p_value([None, None, None, 0.0], N=_TOYS[data["size"]])
    )


# --- emcee ---------------------------------------------------------------------------------


def _emcee_setup(n_templates: int, nwalkers: int | None):
    def setup(size: str) -> dict:
        data = _model_setup(n_templates, "marginal")(size)
        rng = np.random.default_rng(5)
        walkers = nwalkers or 2 * n_templates
        truth = _TRUTH_WEIGHTS[:n_templates]
        data["start"] = truth * (1.0 + 0.01 * rng.standard_normal((walkers, n_templates)))
        data["nwalkers"] = nwalkers
        return data

    return setup


def _emcee_floor(data):
    """emcee's own cost: the same sampler and steps with a log-probability that costs nothing."""
    import emcee

    walkers, ndim = data["start"].shape
    np.random.seed(0)
    sampler = emcee.EnsembleSampler(walkers, ndim, lambda p: np.zeros(len(p)), vectorize=True)
    sampler.run_mcmc(data["start"], _STEPS[data["size"]])
    return sampler.get_chain().shape


def _emcee(remu, data):
    likelihood_utils = importlib.import_module(remu.__name__ + ".likelihood_utils")
    np.random.seed(0)
    kwargs = {} if data["nwalkers"] is None else {"nwalkers": data["nwalkers"]}
    sampler = likelihood_utils.emcee_sampler(data["calc"], **kwargs)
    sampler.run_mcmc(data["start"], _STEPS[data["size"]])
    return sampler.get_chain().shape


# --- the seed page -------------------------------------------------------------------------

_PAGE_START = "# ---------------------------------------------------------------- the documentation page's code"
_PAGE_END = (
    "# ---------------------------------------------------------------- end of the page's code"
)


def _page_code() -> str:
    text = (ROOT / "examples" / "tutorial" / "step06_cross_sections.py").read_text()
    return text[text.index(_PAGE_START) : text.index(_PAGE_END)]


def _write_events(path: Path, columns: tuple[str, str], values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, values, delimiter=",", header=",".join(columns), comments="", fmt="%.17g")


def _seed_page_setup(_size: str) -> dict:
    """The example folder layout: reference files plus events of the tutorial's toy experiment.

    The modules the page imports are imported here, so that import times are not timed.
    """
    import sys

    import remu

    for module in ("binning", "likelihood", "plotting"):
        importlib.import_module(f"{remu.__name__}.{module}")
    for module in ("multiprocess", "pandas", "scipy.stats", "matplotlib.pyplot"):
        importlib.import_module(module)

    sys.path.insert(0, str(ROOT / "examples" / "tutorial"))
    try:
        import simple_experiment as experiment
    finally:
        sys.path.pop(0)
    examples = SHARED / "data" / "upstream-examples"
    root = Path(tempfile.mkdtemp(prefix="remu-bench-seed-"))
    for rel in (
        "05/truth-binning.yml",
        "05/response_matrix.npz",
        "06/flux-binning.yml",
        "01/reco-binning.yml",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(examples / rel, root / rel)
    rng = np.random.default_rng(20240606)
    gen = experiment.GENERATORS
    nominal = experiment.NOMINAL_DETECTOR
    background = experiment.BACKGROUND_DETECTOR
    parts = [
        nominal.reconstruct(gen["modelB"].generate(10, rng=rng), rng=rng),
        background.reconstruct(gen["background"].generate(10, rng=rng), rng=rng),
        gen["noise"].generate(10, rng=rng),
    ]
    real = np.concatenate([np.column_stack([p["reco_x"], p["reco_y"]]) for p in parts])
    rng.shuffle(real)
    _write_events(root / "05/real_data.txt", ("reco_x", "reco_y"), real)
    for name, model in (
        ("05/bg_truth.txt", "background"),
        ("00/modelA_truth.txt", "modelA"),
        ("00/modelB_truth.txt", "modelB"),
    ):
        events = gen[model].generate(100, rng=rng)
        _write_events(
            root / name, ("true_x", "true_y"), np.column_stack([events["true_x"], events["true_y"]])
        )
    return {"folder": root / "06", "code": compile(_page_code(), "seed page (example 06)", "exec")}


def _seed_page(remu, data):
    from matplotlib import pyplot as plt

    likelihood = _likelihood(remu)
    namespace: dict = {"__name__": "example_06"}
    previous = Path.cwd()
    data["folder"].mkdir(parents=True, exist_ok=True)
    os.chdir(data["folder"])
    np.random.seed(6)
    try:
        with Path(os.devnull).open("w") as devnull, contextlib.redirect_stdout(devnull):
            exec(data["code"], namespace)  # noqa: S102 - the documentation page's code
    finally:
        os.chdir(previous)
        pool = namespace.get("pool")
        if pool is not None:
            pool.close()
            pool.join()
        likelihood.mapper = map
        plt.close("all")
    return namespace["p_values_A"], namespace["p_values_B"]


WORKLOADS = [
    *[
        Workload(
            name=f"fits/single/{k}-template{'s' if k > 1 else ''}/{syst}",
            setup=_model_setup(k, syst),
            run=_single_fits,
            target=">= 10x vs oracle",
            unit_count=lambda data: float(_FITS[data["size"]]),
            tags=["fits"],
        )
        for k in (1, 2, 4)
        for syst in ("marginal", "profile")
    ],
    *[
        Workload(
            name=f"fits/wilks-scan/100-points/{syst}/{how}",
            setup=_model_setup(4, syst),
            run=run,
            target=">= 20x vs oracle",
            unit_count=lambda data: float(_SCAN[data["size"]]),
            tags=["fits"],
        )
        for syst in ("marginal", "profile")
        for how, run in (("loop", _scan_loop), ("vectorised", _scan_vectorised))
    ],
    *[
        Workload(
            name=f"fits/toys/max-likelihood-p-value/{k}-template{'s' if k > 1 else ''}/{syst}",
            setup=_model_setup(k, syst),
            run=_toy_p_value,
            target=">= 30x vs oracle",
            unit_count=lambda data: float(_TOYS[data["size"]]),
            tags=["fits"],
        )
        for k in (1, 2, 4)
        for syst in ("marginal", "profile")
    ],
    *[
        Workload(
            name=f"fits/toys/max-likelihood-ratio-p-value/4-templates/{syst}",
            setup=_model_setup(4, syst),
            run=_toy_ratio_p_value,
            target=">= 30x vs oracle",
            unit_count=lambda data: float(_TOYS[data["size"]]),
            tags=["fits"],
        )
        for syst in ("marginal", "profile")
    ],
    Workload(
        name="fits/emcee/1-template-default-walkers",
        setup=_emcee_setup(1, None),
        run=_emcee,
        reference=_emcee_floor,
        target=">= 2x vs oracle",
        unit_count=lambda data: float(_STEPS[data["size"]]),
        tags=["fits"],
    ),
    Workload(
        name="fits/emcee/2-templates-32-walkers",
        setup=_emcee_setup(2, 32),
        run=_emcee,
        reference=_emcee_floor,
        target=">= 2x vs oracle",
        unit_count=lambda data: float(_STEPS[data["size"]]),
        tags=["fits"],
    ),
    Workload(
        name="fits/seed-page/end-to-end",
        setup=_seed_page_setup,
        run=_seed_page,
        target=">= 5x vs oracle",
        tags=["fits"],
    ),
]
