"""Run the whole tutorial analysis: steps 00 to 06, PD and DK, in order.

Each step runs as its own Python process inside ``<output>/<step>/`` (later
steps read the files of earlier ones as ``../00/...``), with its printout in
``<output>/<step>/log.txt``. The driver prints one line per step with its run
time, stops at the first failing step, and writes a summary of the fitted
values, p-values and timings to ``<output>/results.md`` and
``<output>/results.json``.

Usage::

    python examples/tutorial/run_all.py                    # full tutorial (upstream toy counts)
    python examples/tutorial/run_all.py --quick            # fewer toys / scan points / MCMC steps
    python examples/tutorial/run_all.py --steps 00 01      # only some steps (earlier outputs must exist)

``make demo`` runs it with ``--output demo-output`` (``make demo DEMO_ARGS=--quick``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import tutorial_common as common

HERE = Path(__file__).resolve().parent

#: step -> (script, one-line description)
STEPS: dict[str, tuple[str, str]] = {
    "00": ("step00_binnings.py", "simulate data, fill, plot binnings; mplhep, uproot"),
    "01": ("step01_response_matrix.py", "response matrices, truth binning optimisation"),
    "02": ("step02_fit_models.py", "likelihood fits, p-values, confidence intervals"),
    "03": ("step03_detector_systematics.py", "detector systematics with 100 toy matrices, pyhf"),
    "04": ("step04_mcmc.py", "Markov chain Monte Carlo with emcee"),
    "05": ("step05_backgrounds.py", "background and noise templates, nested binnings"),
    "06": ("step06_cross_sections.py", "cross sections, flux folding and flux uncertainties"),
    "PD": ("stepPD_pandas_root.py", "filling from pandas DataFrames and ROOT files"),
    "DK": ("stepDK_dask_fill.py", "the response matrix filled on a Dask cluster from Parquet"),
}

#: what each step should find (the generator's truth and upstream's numbers)
EXPECTATIONS: dict[str, str] = {
    "01": "coarse 1-D truth binning incompatible (C ≈ 0), fine and optimised 2-D binnings "
    "compatible (C ≈ 1); upstream: 572 → 120 truth bins, every bin ≥ 10 entries.",
    "02": "truth: model B with 1000 true events. Model B fits better than model A; the A "
    "normalisation is lower (A has a higher efficiency). Upstream: A 900.3 (log L −25.26), "
    "B 986.5 (log L −24.44), mix [351, 601], p-values A 0.428, B 0.54.",
    "03": "systematics lower the maximum log L by ≈ 0.5–0.7 and raise the p-values. Upstream: "
    "A 900.3 / 905.0 (syst), B 986.5 / 982.0 (syst); p-values A 0.432 / 0.556, B 0.62 / 0.728.",
    "04": "posterior of the model A weight around the step-02/03 best fit (≈ 900 upstream); "
    "A + B total ≈ 950–1000.",
    "05": "truth of the real data: noise 200, background 300, model B 1000 (before efficiency). "
    "Signal-only fits are rejected (p ≲ 0.005); with background both fit, B better. "
    "Upstream B + bg: [210, 188, 1044], p = 0.796. The three weights are strongly correlated "
    "(toy-fit spread ≈ ±130, ±210, ±330), and the p-value of the true model spreads over "
    "(0, 1) from data set to data set (0.035–0.96 over 12 seeds, median ≈ 0.65), so one data "
    "set can give a low one; **truth** checks the generator's parameters on this data set "
    "(Wilks p-value of the truth against the best fit).",
    "06": "truth: noise 200 events, background scale 1, model A scale 0, model B scale 1. "
    "Upstream fit [239.8, 0.398, 0.0, 1.082], p-values A 0.6, B 0.86 (same real data as step "
    "05, so a low step-05 p-value comes with low ones here); **truth** as in step 05, for "
    "hypothesis B.",
    "PD": "scikit-hep samples: flat tree 2304 × 20, jagged tree 2421 events, 3825 muons, "
    "2362 events with a muon.",
    "DK": "the response matrix of step 01 (optimised truth binning, models A + B) filled on a "
    "2-worker LocalCluster from Parquet partitions equals the in-memory one: entries exactly, "
    "values to rounding.",
}


def run_step(
    step: str, output: Path, step_args: list[str], env: dict[str, str]
) -> tuple[int, float]:
    """Run one step script; return its exit code and wall time."""
    script, _ = STEPS[step]
    folder = output / step
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / script), "--output", str(output), *step_args]
    start = time.perf_counter()
    with (folder / "log.txt").open("w") as log:
        # stdout to the log; stderr (progress bars, warnings, errors) to the terminal
        code = subprocess.run(command, stdout=log, env=env, check=False).returncode
    return code, time.perf_counter() - start


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(_format_value(float(v)) for v in value) + "]"
    return str(value)


def render_markdown(summary: dict[str, Any]) -> str:
    """results.md: timings, fitted values and p-values of every step."""
    lines = [
        "# remu tutorial — results",
        "",
        (
            f"Mode: {'quick' if summary['quick'] else 'full'}, seed {summary['seed']}, "
            f"{summary['processes']} worker processes. "
            f"Total time {summary['total_seconds']:.1f} s."
        ),
        "",
        "Settings: "
        + ", ".join(
            f"{key}={value}"
            for key, value in summary["settings"].items()
            if key not in ("quick", "seed", "processes")
        )
        + ".",
        "",
        "| step | what | status | time (s) |",
        "|------|------|--------|----------|",
    ]
    for step, info in summary["steps"].items():
        lines.append(
            f"| {step} | {STEPS[step][1]} | {info['status']} | {info.get('seconds', 0.0):.1f} |"
        )
    for step, info in summary["steps"].items():
        results = info.get("results", {})
        if not results:
            continue
        lines += ["", f"## Step {step} — {STEPS[step][1]}", ""]
        if step in EXPECTATIONS:
            lines += [f"Expected: {EXPECTATIONS[step]}", ""]
        fits = results.get("fits", {})
        if fits:
            lines += ["| fit | best-fit parameters | log L |", "|-----|------|------|"]
            lines += [
                f"| {name} | {_format_value(fit['x'])} | {_format_value(fit['log_likelihood'])} |"
                for name, fit in fits.items()
            ]
            lines.append("")
        for key in ("p_values", "gof"):
            values = results.get(key, {})
            if values:
                title = "p-value" if key == "p_values" else "goodness of fit (likelihood p-value)"
                lines += [f"| {key.replace('_', ' ')} | {title} |", "|---|---|"]
                lines += [f"| {name} | {_format_value(v)} |" for name, v in values.items()]
                lines.append("")
        truth = results.get("truth")
        if truth:
            lines.append(
                f"- **truth** {_format_value(truth['x'])}: log L "
                f"{_format_value(truth['log_likelihood'])}, goodness of fit "
                f"{_format_value(truth['gof'])}, Wilks p-value against the best fit "
                f"{_format_value(truth['wilks_p_value'])}"
            )
        for key, value in results.items():
            if key in ("fits", "p_values", "gof", "scan", "seconds", "truth"):
                continue
            lines.append(f"- **{key}**: {_format_value(value)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = common.argument_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", nargs="+", choices=list(STEPS), default=list(STEPS), help="steps to run"
    )
    args = parser.parse_args(argv)
    output = args.output.resolve()
    output.mkdir(parents=True, exist_ok=True)
    settings = common.Settings.create(quick=args.quick, seed=args.seed, processes=args.processes)
    step_args = ["--seed", str(args.seed), "--processes", str(settings.processes)]
    if args.quick:
        step_args.append("--quick")
    env = dict(os.environ, MPLBACKEND="Agg")
    # One BLAS thread per process: the fits are many tiny L-BFGS-B problems, for which
    # OpenBLAS threads only add synchronisation (5x slower on a loaded machine), and
    # parallelism comes from the process pool instead.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))

    summary: dict[str, Any] = {
        "quick": args.quick,
        "seed": args.seed,
        "processes": settings.processes,
        "settings": dataclasses.asdict(settings),
        "steps": {},
    }
    print(f"remu tutorial ({'quick' if args.quick else 'full'} mode) -> {output}")
    start = time.perf_counter()
    failed = None
    for step in args.steps:
        code, seconds = run_step(step, output, step_args, env)
        info: dict[str, Any] = {"seconds": round(seconds, 2)}
        if code == 0:
            info["status"] = "ok"
            results_file = output / step / "results.json"
            if results_file.is_file():
                info["results"] = json.loads(results_file.read_text())
        else:
            info["status"] = f"failed (exit code {code})"
        summary["steps"][step] = info
        print(
            f"  step {step}  {STEPS[step][1]:<52} {info['status']:<8} {seconds:7.1f} s", flush=True
        )
        if code != 0:
            failed = step
            log = (output / step / "log.txt").read_text().splitlines()
            print(
                f"step {step} failed; last lines of {output / step / 'log.txt'}:", file=sys.stderr
            )
            print("\n".join(log[-20:]), file=sys.stderr)
            break
    summary["total_seconds"] = round(time.perf_counter() - start, 2)
    common.save_json(output / "results.json", summary)
    common.write_text(output / "results.md", render_markdown(summary))
    print(f"total {summary['total_seconds']:.1f} s; summary in {output / 'results.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
