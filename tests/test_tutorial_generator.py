"""The tutorial's toy experiment (examples/tutorial/simple_experiment.py)."""

from __future__ import annotations

import doctest
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.special import ndtr

from numeric_asserts import assert_allclose

TUTORIAL = Path(__file__).resolve().parents[1] / "examples" / "tutorial"


def _load():
    spec = importlib.util.spec_from_file_location(
        "simple_experiment", TUTORIAL / "simple_experiment.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["simple_experiment"] = module
    spec.loader.exec_module(module)
    return module


sx = _load()


def _lines(path):
    return Path(path).read_text().splitlines()


def test_doctests():
    result = doctest.testmod(sx, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5
    assert result.failed == 0


# --------------------------------------------------------------------------- generators
@pytest.mark.parametrize(
    ("model", "sigma", "mean", "cov"),
    [
        ("modelA", 100, [0.1, 0.2], [[1.0, 0.0], [0.0, 1.0]]),
        ("modelB", 100, [0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]]),
        ("background", 30, [0.5, 0.5], [[0.5, 0.0], [0.0, 0.5]]),
        ("noise", 20, [0.0, 0.0], [[4.0, 0.0], [0.0, 4.0]]),
    ],
)
def test_generator_distributions(model, sigma, mean, cov):
    exposure = 400
    ev = sx.GENERATORS[model].generate(exposure, rng=11)
    names = ["reco_x", "reco_y"] if model == "noise" else ["true_x", "true_y"]
    assert list(ev) == names
    n = len(ev[names[0]])
    expected = sigma * exposure
    assert abs(n - expected) < 5 * np.sqrt(expected)
    xy = np.stack([ev[names[0]], ev[names[1]]])
    cov = np.array(cov)
    # 5 sigma of the sample mean and of the sample (co)variances
    assert np.all(np.abs(xy.mean(axis=1) - mean) < 5 * np.sqrt(np.diag(cov) / n))
    sample_cov = np.cov(xy)
    tol = 5 * np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
    assert np.all(np.abs(sample_cov - cov) < tol)


def test_generator_is_reproducible_from_the_seed():
    a = sx.GENERATORS["modelB"].generate(10, rng=5)
    b = sx.GENERATORS["modelB"].generate(10, rng=5)
    c = sx.GENERATORS["modelB"].generate(10, rng=6)
    assert_array_equal(a["true_x"], b["true_x"])
    assert len(c["true_x"]) != len(a["true_x"]) or not np.array_equal(c["true_x"], a["true_x"])


def test_generator_rejects_bad_exposure():
    with pytest.raises(ValueError, match="exposure"):
        sx.GENERATORS["modelA"].generate(-1.0)


# --------------------------------------------------------------------------- detector
@pytest.mark.parametrize(
    ("model", "efficiency", "width"),
    [
        ("modelA", 0.9 * ndtr(0.2 / np.sqrt(2.0)), 1.0),
        ("modelB", 0.45, 1.0),
        ("background", 0.9 * ndtr(0.5 / np.sqrt(1.5)), 2.0),
    ],
)
def test_detector_efficiency_and_smearing(model, efficiency, width):
    truth = sx.GENERATORS[model].generate(300, rng=3)
    detector = sx.DETECTORS[model]
    reco = detector.reconstruct(truth, rng=4, keep_truth=True)
    assert list(reco) == ["reco_x", "reco_y", "true_x", "true_y"]
    n_true, n_reco = len(truth["true_x"]), len(reco["reco_x"])
    assert abs(n_reco / n_true - efficiency) < 5 * np.sqrt(efficiency * (1 - efficiency) / n_true)
    assert_array_equal(reco["reco_y"], reco["true_y"])
    residual = reco["reco_x"] - reco["true_x"]
    assert abs(residual.mean()) < 5 * width / np.sqrt(n_reco)
    assert abs(residual.std() - width) < 5 * width / np.sqrt(2 * n_reco)
    # the selected events are a subset of the generated ones
    assert np.isin(reco["true_x"], truth["true_x"]).all()


def test_efficiency_curve():
    d = sx.Detector(eff_slope=2.0, eff_offset=0.5, max_eff=0.8)
    y = np.array([-np.inf, 0.5, 1.0, np.inf])
    assert_allclose(d.efficiency(y), 0.8 * ndtr(2.0 * (y - 0.5)))
    assert_allclose(d.efficiency(y)[[0, 1, 3]], [0.0, 0.4, 0.8])


def test_detector_names_missing_column():
    with pytest.raises(KeyError, match="true_y"):
        sx.NOMINAL_DETECTOR.reconstruct({"true_x": [1.0]})


# --------------------------------------------------------------------------- files
def test_write_csv_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(0)
    values = {"a": rng.normal(size=50) * 1e-7, "b": rng.normal(size=50) * 1e7, "c": np.arange(50.0)}
    path = tmp_path / "x.txt"
    sx.write_csv(path, values)
    lines = _lines(path)
    assert lines[0] == "a,b,c"
    assert len(lines) == 51
    first = [float(v) for v in lines[1].split(",")]
    assert first == [values["a"][0], values["b"][0], 0.0]
    back = sx.read_csv(path)
    for name, value in values.items():
        assert_array_equal(back[name], value)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    table = np.genfromtxt(path, delimiter=",", names=True)
    assert table.dtype.names == ("a", "b", "c")


def test_write_csv_empty_and_errors(tmp_path):
    path = tmp_path / "e.txt"
    sx.write_csv(path, {"x": [], "y": []})
    assert path.read_text() == "x,y\n"
    assert sx.read_csv(path)["x"].shape == (0,)
    with pytest.raises(ValueError, match="same length"):
        sx.write_csv(path, {"x": [1.0], "y": [1.0, 2.0]})
    with pytest.raises(ValueError, match="comma"):
        sx.write_csv(path, {"x,y": [1.0]})


def test_run_experiment_files(tmp_path):
    counts = sx.run_experiment(10, tmp_path / "real.txt", rng=1)
    lines = _lines(tmp_path / "real.txt")
    assert lines[0] == "reco_x,reco_y"
    assert len(lines) - 1 == counts["recorded"] == counts["reco_signal"]
    assert abs(counts["true_signal"] - 1000) < 5 * np.sqrt(1000)

    counts = sx.run_experiment(10, tmp_path / "bg.txt", enable_background=True, rng=1)
    data = sx.read_csv(tmp_path / "bg.txt")
    assert list(data) == ["reco_x", "reco_y"]
    assert len(data["reco_x"]) == (
        counts["reco_signal"] + counts["reco_background"] + counts["noise"]
    )
    # the same seed gives the same file
    sx.run_experiment(10, tmp_path / "bg2.txt", enable_background=True, rng=1)
    assert (tmp_path / "bg.txt").read_text() == (tmp_path / "bg2.txt").read_text()


def test_simulate_experiment_files(tmp_path):
    counts = sx.simulate_experiment(20, "modelA", tmp_path / "d.txt", tmp_path / "t.txt", rng=2)
    truth, data = _lines(tmp_path / "t.txt"), _lines(tmp_path / "d.txt")
    assert truth[0] == "true_x,true_y"
    assert data[0] == "reco_x,reco_y,true_x,true_y"
    assert (len(truth) - 1, len(data) - 1) == (counts["truth"], counts["data"])
    sx.simulate_experiment(20, "modelA", tmp_path / "d2.txt", tmp_path / "t2.txt", rng=2)
    assert (tmp_path / "d.txt").read_text() == (tmp_path / "d2.txt").read_text()

    sx.simulate_experiment(20, "noise", tmp_path / "nd.txt", tmp_path / "nt.txt", rng=2)
    assert _lines(tmp_path / "nt.txt")[0] == "reco_x,reco_y"
    assert (tmp_path / "nd.txt").read_text() == (tmp_path / "nt.txt").read_text()

    with pytest.raises(ValueError, match="unknown model"):
        sx.simulate_experiment(1, "modelC", tmp_path / "a", tmp_path / "b")


# --------------------------------------------------------------------------- variations
def test_toy_detectors_follow_the_fixed_seed_recipe():
    toys = sx.toy_detectors()
    state = np.random.RandomState(1337)
    assert_array_equal(toys["eff_slope"], np.abs(1.0 + 0.1 * state.randn(100)))
    assert_array_equal(toys["eff_offset"], 0.1 * state.randn(100))
    assert_array_equal(toys["smear_sigma"], np.abs(1.0 + 0.1 * state.randn(100)))
    assert_array_equal(toys["max_eff"], 1.0 - np.abs(0.1 + 0.03 * state.randn(100)))


def test_vary_detector_file(tmp_path):
    sx.simulate_experiment(5, "modelB", tmp_path / "d.txt", tmp_path / "t.txt", rng=9)
    n = sx.vary_detector(tmp_path / "d.txt", tmp_path / "v.txt")
    header = _lines(tmp_path / "v.txt")[0].split(",")
    assert len(header) == 203
    assert header[:3] == ["reco_y", "true_x", "true_y"]
    assert header[3:103] == [f"weight_{i}" for i in range(100)]
    assert header[103:] == [f"reco_x_{i}" for i in range(100)]

    original = sx.read_csv(tmp_path / "d.txt")
    varied = sx.read_csv(tmp_path / "v.txt")
    assert n == len(original["reco_x"]) == len(varied["true_x"])
    toys = sx.toy_detectors()
    for i in (0, 57, 99):
        eff_toy = toys["max_eff"][i] * ndtr(
            toys["eff_slope"][i] * (original["true_y"] - toys["eff_offset"][i])
        )
        eff_nom = 0.9 * ndtr(original["true_y"])
        assert_allclose(varied[f"weight_{i}"], eff_toy / eff_nom, rtol=1e-10)
        resmeared = original["true_x"] + toys["smear_sigma"][i] * (
            original["reco_x"] - original["true_x"]
        )
        assert_allclose(varied[f"reco_x_{i}"], resmeared, rtol=1e-12, atol=1e-12)

    # a second file gets exactly the same toy detectors
    sx.simulate_experiment(5, "modelA", tmp_path / "d2.txt", tmp_path / "t2.txt", rng=10)
    sx.vary_detector(tmp_path / "d2.txt", tmp_path / "v2.txt")
    other = sx.read_csv(tmp_path / "v2.txt")
    y = other["true_y"][0]
    expected = (
        toys["max_eff"] * ndtr(toys["eff_slope"] * (y - toys["eff_offset"])) / (0.9 * ndtr(y))
    )
    assert_allclose([other[f"weight_{i}"][0] for i in range(100)], expected, rtol=1e-10)


def test_vary_detector_names_missing_column():
    with pytest.raises(KeyError, match="true_x"):
        sx.vary_events({"reco_x": [0.0], "reco_y": [0.0]})


def test_flux_energies():
    e = sx.flux_energies(1000, n_throws=50, rng=4)
    assert e.shape == (50, 1000)
    assert abs(e.mean() - 8.0) < 5 * 2.0 / np.sqrt(e.size)
    assert abs(e.std() - 2.0) < 5 * 2.0 / np.sqrt(2 * e.size)
    assert sx.flux_energies(10, rng=1).shape == (10,)


def test_command_line(tmp_path, capsys):
    sx.main(
        [
            "simulate-experiment",
            "3",
            "background",
            str(tmp_path / "d"),
            str(tmp_path / "t"),
            "--seed",
            "1",
        ]
    )
    assert "truth:" in capsys.readouterr().out
    assert _lines(tmp_path / "d")[0] == "reco_x,reco_y,true_x,true_y"
    sx.main(["run-experiment", "2", str(tmp_path / "r"), "--enable-background", "--seed", "1"])
    assert _lines(tmp_path / "r")[0] == "reco_x,reco_y"
    sx.main(["vary-detector", str(tmp_path / "d"), str(tmp_path / "v")])
    assert len(_lines(tmp_path / "v")[0].split(",")) == 203
