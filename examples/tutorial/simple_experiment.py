"""The toy experiment of the tutorial: event generators, a detector, and its variations.

Events have two properties, ``x`` and ``y``. Truth-level columns are called
``true_x``/``true_y``, reconstructed columns ``reco_x``/``reco_y``.

* Generators draw ``n ~ Poisson(cross_section * exposure)`` events from a 2-D
  normal distribution: model A, model B (the "real" physics), a background and a
  noise source (noise exists only at reco level).
* The detector keeps an event with probability
  ``max_eff * Phi(slope * (true_y - offset))`` and smears ``x`` with a normal
  distribution of width ``smear_sigma`` (``y`` is measured perfectly).
* :func:`vary_detector` turns a reco-with-truth file into 100 "toy universes" of
  the detector as per-event weights and re-smeared ``reco_x`` columns, with the
  toy detector parameters drawn from the fixed seed 1337.

All files are plain CSV: one header line of column names, comma-separated numbers
written with full (shortest round-trip) precision, one event per line -- the
format :meth:`remu.binning.Binning.fill_from_csv_file` reads.

The module doubles as a command line tool::

    python simple_experiment.py run-experiment 10 real_data.txt [--enable-background]
    python simple_experiment.py simulate-experiment 100 modelA modelA_data.txt modelA_truth.txt
    python simple_experiment.py vary-detector modelA_data.txt varied_modelA_data.txt

Everything that draws random numbers takes ``rng=`` (a seed or a
``numpy.random.Generator``), so every file of the demo can be reproduced.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtr

__all__ = [
    "BACKGROUND_DETECTOR",
    "DETECTORS",
    "FLUX_MEAN",
    "FLUX_SD",
    "GENERATORS",
    "NOMINAL_DETECTOR",
    "VARIATION_SEED",
    "Detector",
    "EventGenerator",
    "flux_energies",
    "read_csv",
    "run_experiment",
    "simulate_experiment",
    "toy_detectors",
    "vary_detector",
    "vary_events",
    "write_csv",
]

Events = dict[str, NDArray[np.float64]]

#: Seed of the detector variations: every varied file gets the same 100 toy detectors.
VARIATION_SEED = 1337
#: Neutrino energy spectrum used as "flux" in step 06: Normal(8, 2).
FLUX_MEAN = 8.0
FLUX_SD = 2.0


# --------------------------------------------------------------------------- generators
@dataclass(frozen=True)
class EventGenerator:
    """A source of events: Poisson-distributed count, 2-D normal distribution.

    Parameters
    ----------
    name : str
        Name used on the command line (``modelA``, ``modelB``, ``background``, ``noise``).
    cross_section : float
        Expected number of events per unit exposure ("per year").
    mean : tuple of float
        Mean of ``(x, y)``.
    cov : tuple of tuple of float
        2x2 covariance matrix of ``(x, y)``.
    columns : tuple of str
        Names of the two produced columns.
    """

    name: str
    cross_section: float
    mean: tuple[float, float]
    cov: tuple[tuple[float, float], tuple[float, float]]
    columns: tuple[str, str] = ("true_x", "true_y")

    def generate(self, exposure: float, rng: np.random.Generator | int | None = None) -> Events:
        """Draw the events of ``exposure`` years.

        Parameters
        ----------
        exposure : float
            Exposure in "years"; the number of events is Poisson(cross_section * exposure).
        rng : int, numpy.random.Generator or None
            Source of randomness.

        Returns
        -------
        dict of str to ndarray
            One float array per column.

        Examples
        --------
        >>> ev = GENERATORS["modelA"].generate(10, rng=1)
        >>> sorted(ev), ev["true_x"].shape == ev["true_y"].shape
        (['true_x', 'true_y'], True)
        """
        if not np.isfinite(exposure) or exposure < 0:
            msg = f"exposure must be a finite number >= 0; got {exposure!r}"
            raise ValueError(msg)
        gen = np.random.default_rng(rng)
        n = gen.poisson(self.cross_section * exposure)
        xy = gen.multivariate_normal(self.mean, self.cov, size=n)
        return {self.columns[0]: xy[:, 0], self.columns[1]: xy[:, 1]}


GENERATORS: dict[str, EventGenerator] = {
    "modelA": EventGenerator("modelA", 100.0, (0.1, 0.2), ((1.0, 0.0), (0.0, 1.0))),
    "modelB": EventGenerator("modelB", 100.0, (0.0, 0.0), ((1.0, 0.5), (0.5, 1.0))),
    "background": EventGenerator("background", 30.0, (0.5, 0.5), ((0.5, 0.0), (0.0, 0.5))),
    # noise has no truth: it is generated directly as reconstructed events
    "noise": EventGenerator(
        "noise", 20.0, (0.0, 0.0), ((4.0, 0.0), (0.0, 4.0)), columns=("reco_x", "reco_y")
    ),
}


# --------------------------------------------------------------------------- detector
@dataclass(frozen=True)
class Detector:
    """Efficiency and smearing of the toy detector.

    Parameters
    ----------
    smear_sigma : float
        Width of the normal smearing of ``x`` (``y`` is not smeared).
    eff_slope, eff_offset, max_eff : float
        Efficiency ``max_eff * Phi(eff_slope * (true_y - eff_offset))``.
    """

    smear_sigma: float = 1.0
    eff_slope: float = 1.0
    eff_offset: float = 0.0
    max_eff: float = 0.9

    def efficiency(self, true_y: ArrayLike) -> NDArray[np.float64]:
        """Selection probability of events with the given ``true_y``.

        Examples
        --------
        >>> float(NOMINAL_DETECTOR.efficiency(0.0))
        0.45
        """
        return self.max_eff * ndtr(
            self.eff_slope * (np.asarray(true_y, dtype=float) - self.eff_offset)
        )

    def reconstruct(
        self,
        events: Mapping[str, ArrayLike],
        rng: np.random.Generator | int | None = None,
        *,
        keep_truth: bool = False,
    ) -> Events:
        """Select and smear true events.

        Parameters
        ----------
        events : mapping
            Must hold ``true_x`` and ``true_y``.
        rng : int, numpy.random.Generator or None
            Source of randomness.
        keep_truth : bool
            Also return the truth columns of the selected events.

        Returns
        -------
        dict of str to ndarray
            ``reco_x, reco_y`` (then ``true_x, true_y`` with ``keep_truth``).

        Raises
        ------
        KeyError
            If a truth column is missing.
        """
        for name in ("true_x", "true_y"):
            if name not in events:
                msg = f"events have no column {name!r} (columns: {', '.join(events)})"
                raise KeyError(msg)
        gen = np.random.default_rng(rng)
        true_x = np.asarray(events["true_x"], dtype=float)
        true_y = np.asarray(events["true_y"], dtype=float)
        selected = gen.uniform(size=true_y.shape) <= self.efficiency(true_y)
        true_x, true_y = true_x[selected], true_y[selected]
        reco = {
            "reco_x": true_x + gen.normal(0.0, self.smear_sigma, size=true_x.shape),
            "reco_y": true_y.copy(),
        }
        if keep_truth:
            reco["true_x"] = true_x
            reco["true_y"] = true_y
        return reco


NOMINAL_DETECTOR = Detector()
BACKGROUND_DETECTOR = Detector(smear_sigma=2.0)
#: which detector reconstructs which generator (None: noise is already reco-level)
DETECTORS: dict[str, Detector | None] = {
    "modelA": NOMINAL_DETECTOR,
    "modelB": NOMINAL_DETECTOR,
    "background": BACKGROUND_DETECTOR,
    "noise": None,
}


# --------------------------------------------------------------------------- CSV files
def write_csv(filename: str | os.PathLike[str], columns: Mapping[str, ArrayLike]) -> None:
    """Write columns to a CSV file (header line, then one event per line).

    Numbers are written with the shortest representation that reads back
    exactly. The file is replaced atomically.

    Parameters
    ----------
    filename : path-like
        Output file.
    columns : mapping of str to 1-D array
        Column names and values, all of the same length.

    Raises
    ------
    ValueError
        If the columns have different lengths or a name contains a comma.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ev.txt")
    >>> write_csv(path, {"x": [0.1, 2.0], "y": [1e-20, -3.5]})
    >>> print(Path(path).read_text(), end="")
    x,y
    0.1,1e-20
    2.0,-3.5
    """
    names = list(columns)
    arrays = [np.asarray(columns[name], dtype=float).reshape(-1) for name in names]
    bad = [name for name in names if "," in name or "\n" in name]
    if bad:
        msg = f"column names must not contain commas or newlines; got {bad}"
        raise ValueError(msg)
    lengths = {name: len(a) for name, a in zip(names, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        msg = f"all columns must have the same length; got {lengths}"
        raise ValueError(msg)
    if arrays and len(arrays[0]):
        # numpy's float -> str conversion is the shortest round-trip repr, done in C
        lines = arrays[0].astype(str)
        for a in arrays[1:]:
            lines = np.char.add(np.char.add(lines, ","), a.astype(str))
        body = "\n".join(lines.tolist()) + "\n"
    else:
        body = ""
    target = Path(filename)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(",".join(names) + "\n" + body)
        # mkstemp creates the file private (0600); give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        tmp.replace(target)  # one rename: readers see the old or the new file
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_csv(filename: str | os.PathLike[str]) -> Events:
    """Read a CSV event file written by :func:`write_csv`.

    Returns
    -------
    dict of str to ndarray
        One float array per column, in file order.
    """
    with Path(filename).open() as handle:
        names = [name.strip() for name in handle.readline().split(",")]
        body = handle.read()
    if body.strip():
        values = np.loadtxt(body.splitlines(), delimiter=",", ndmin=2, dtype=float)
    else:
        values = np.empty((0, len(names)))
    if values.shape[1] != len(names):
        msg = f"{filename}: header has {len(names)} names but rows have {values.shape[1]} values"
        raise ValueError(msg)
    return {name: values[:, i].copy() for i, name in enumerate(names)}


def _concatenate(
    parts: Sequence[Mapping[str, NDArray[np.float64]]], names: Sequence[str]
) -> Events:
    return {name: np.concatenate([part[name] for part in parts]) for name in names}


# --------------------------------------------------------------------------- the scripts
def run_experiment(
    exposure: float,
    filename: str | os.PathLike[str],
    *,
    enable_background: bool = False,
    rng: np.random.Generator | int | None = None,
) -> dict[str, int]:
    """Record the "real data": model B signal (plus background and noise).

    Parameters
    ----------
    exposure : float
        Exposure in years.
    filename : path-like
        Output CSV file with the columns ``reco_x, reco_y``.
    enable_background : bool
        Add the reconstructed background and the noise, shuffled with the signal.
    rng : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    dict
        Numbers of generated (``true_*``) and recorded (``reco_*``) events per source.
    """
    gen = np.random.default_rng(rng)
    signal_truth = GENERATORS["modelB"].generate(exposure, gen)
    background_truth = GENERATORS["background"].generate(exposure, gen)
    noise = GENERATORS["noise"].generate(exposure, gen)
    signal = NOMINAL_DETECTOR.reconstruct(signal_truth, gen)
    background = BACKGROUND_DETECTOR.reconstruct(background_truth, gen)
    counts = {
        "true_signal": len(signal_truth["true_x"]),
        "reco_signal": len(signal["reco_x"]),
    }
    if enable_background:
        data = _concatenate([signal, background, noise], ("reco_x", "reco_y"))
        order = gen.permutation(len(data["reco_x"]))
        data = {name: values[order] for name, values in data.items()}
        counts |= {
            "true_background": len(background_truth["true_x"]),
            "reco_background": len(background["reco_x"]),
            "noise": len(noise["reco_x"]),
        }
    else:
        data = signal
    write_csv(filename, data)
    counts["recorded"] = len(data["reco_x"])
    return counts


def simulate_experiment(
    exposure: float,
    model: str,
    data_filename: str | os.PathLike[str],
    truth_filename: str | os.PathLike[str],
    *,
    rng: np.random.Generator | int | None = None,
) -> dict[str, int]:
    """Produce "Monte Carlo" of one model: all true events and the selected ones.

    Parameters
    ----------
    exposure : float
        Exposure in years.
    model : {"modelA", "modelB", "background", "noise"}
        Which generator to run.
    data_filename : path-like
        Reconstructed events with their truth (``reco_x, reco_y, true_x, true_y``);
        for noise the same as the truth file.
    truth_filename : path-like
        All generated events (``true_x, true_y``; for noise ``reco_x, reco_y``).
    rng : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    dict
        ``{"truth": n_generated, "data": n_selected}``.

    Raises
    ------
    ValueError
        If ``model`` is not one of the four generators.
    """
    if model not in GENERATORS:
        msg = f"unknown model {model!r}; choose one of {', '.join(GENERATORS)}"
        raise ValueError(msg)
    gen = np.random.default_rng(rng)
    truth = GENERATORS[model].generate(exposure, gen)
    write_csv(truth_filename, truth)
    detector = DETECTORS[model]
    data = truth if detector is None else detector.reconstruct(truth, gen, keep_truth=True)
    write_csv(data_filename, data)
    return {"truth": len(next(iter(truth.values()))), "data": len(data["reco_x"])}


def toy_detectors(n_toys: int = 100, seed: int = VARIATION_SEED) -> dict[str, NDArray[np.float64]]:
    """Parameters of the toy detectors used for the detector systematics.

    Drawn with NumPy's legacy ``RandomState(seed).randn`` in the order slopes,
    offsets, smearing widths, maximum efficiencies, so the 100 toys are the same
    for every file that is varied.

    Returns
    -------
    dict
        ``eff_slope``, ``eff_offset``, ``smear_sigma``, ``max_eff`` arrays of ``n_toys``.

    Examples
    --------
    >>> toys = toy_detectors()
    >>> toys["eff_slope"].shape
    (100,)
    """
    state = np.random.RandomState(seed)
    slope = np.abs(1.0 + 0.1 * state.randn(n_toys))
    offset = 0.1 * state.randn(n_toys)
    sigma = np.abs(1.0 + 0.1 * state.randn(n_toys))
    max_eff = 1.0 - np.abs(0.1 + 0.03 * state.randn(n_toys))
    return {"eff_slope": slope, "eff_offset": offset, "smear_sigma": sigma, "max_eff": max_eff}


def vary_events(
    events: Mapping[str, ArrayLike],
    *,
    n_toys: int = 100,
    seed: int = VARIATION_SEED,
    nominal: Detector = NOMINAL_DETECTOR,
) -> Events:
    """Re-weight and re-smear reconstructed events for every toy detector.

    ``weight_i = eff_i(true_y) / eff_nominal(true_y)`` and
    ``reco_x_i = true_x + (sigma_i / sigma_nominal) * (reco_x - true_x)``.
    No new random numbers are drawn per event.

    Parameters
    ----------
    events : mapping
        Reconstructed events with truth (``reco_x, reco_y, true_x, true_y``).
    n_toys : int
        Number of toy detectors.
    seed : int
        Seed of the toy detector parameters.
    nominal : Detector
        The detector the events were reconstructed with.

    Returns
    -------
    dict
        The input columns except ``reco_x``, then ``weight_0 ...``, then ``reco_x_0 ...``.
    """
    missing = [name for name in ("reco_x", "true_x", "true_y") if name not in events]
    if missing:
        msg = f"events need the columns {missing} to be varied (columns: {', '.join(events)})"
        raise KeyError(msg)
    toys = toy_detectors(n_toys, seed)
    true_x = np.asarray(events["true_x"], dtype=float)[:, np.newaxis]
    true_y = np.asarray(events["true_y"], dtype=float)[:, np.newaxis]
    reco_x = np.asarray(events["reco_x"], dtype=float)[:, np.newaxis]
    # ratio of efficiencies through log_ndtr: stable far in the tails of Phi
    log_toy = log_ndtr(toys["eff_slope"] * (true_y - toys["eff_offset"]))
    log_nom = log_ndtr(nominal.eff_slope * (true_y - nominal.eff_offset))
    weights = (toys["max_eff"] / nominal.max_eff) * np.exp(log_toy - log_nom)
    smeared = true_x + (toys["smear_sigma"] / nominal.smear_sigma) * (reco_x - true_x)
    out = {
        name: np.asarray(values, dtype=float) for name, values in events.items() if name != "reco_x"
    }
    out |= {f"weight_{i}": weights[:, i] for i in range(n_toys)}
    out |= {f"reco_x_{i}": smeared[:, i] for i in range(n_toys)}
    return out


def vary_detector(
    input_filename: str | os.PathLike[str],
    output_filename: str | os.PathLike[str],
    *,
    n_toys: int = 100,
    seed: int = VARIATION_SEED,
) -> int:
    """Write the detector variations of a reco-with-truth file (see :func:`vary_events`).

    Returns
    -------
    int
        Number of events written.
    """
    varied = vary_events(read_csv(input_filename), n_toys=n_toys, seed=seed)
    write_csv(output_filename, varied)
    return len(varied["true_x"])


def flux_energies(
    n_events: int = 1000,
    n_throws: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> NDArray[np.float64]:
    """Neutrino energies drawn from the step-06 flux spectrum Normal(8, 2).

    Parameters
    ----------
    n_events : int
        Energies per flux throw.
    n_throws : int or None
        Number of throws; None returns one 1-D array.
    rng : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    ndarray
        Shape ``(n_events,)`` or ``(n_throws, n_events)``.
    """
    size = n_events if n_throws is None else (n_throws, n_events)
    return np.random.default_rng(rng).normal(FLUX_MEAN, FLUX_SD, size=size)


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run-experiment", help="record the 'real' data (model B)")
    run.add_argument("years", type=float)
    run.add_argument("filename")
    run.add_argument("--enable-background", action="store_true")
    run.add_argument("--seed", type=int, default=None)

    sim = sub.add_parser("simulate-experiment", help="simulate one model (truth + selected)")
    sim.add_argument("years", type=float)
    sim.add_argument("model", choices=sorted(GENERATORS))
    sim.add_argument("datafilename")
    sim.add_argument("truthfilename")
    sim.add_argument("--seed", type=int, default=None)

    vary = sub.add_parser("vary-detector", help="add 100 toy-detector weights and reco_x columns")
    vary.add_argument("inputfilename")
    vary.add_argument("outputfilename")

    args = parser.parse_args(argv)
    if args.command == "run-experiment":
        counts = run_experiment(
            args.years, args.filename, enable_background=args.enable_background, rng=args.seed
        )
    elif args.command == "simulate-experiment":
        counts = simulate_experiment(
            args.years, args.model, args.datafilename, args.truthfilename, rng=args.seed
        )
    else:
        counts = {"events": vary_detector(args.inputfilename, args.outputfilename)}
    print(", ".join(f"{key}: {value}" for key, value in counts.items()))


if __name__ == "__main__":
    main()
