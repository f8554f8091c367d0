"""Pin the public names users import: the drop-in surface of the reference remu 0.8.0.

A name removed here breaks user scripts; a name added must be a deliberate choice.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "remu.binning": {
        "PhaseSpace",
        "Bin",
        "RectangularBin",
        "CartesianProductBin",
        "Binning",
        "RectangularBinning",
        "CartesianProductBinning",
        "LinearBinning",
        "RectilinearBinning",
    },
    "remu.migration": {"ResponseMatrix", "ResponseMatrixArrayBuilder"},
    "remu.matrix_utils": {
        "mahalanobis_distance",
        "plot_mahalanobis_distance",
        "compatibility",
        "plot_compatibility",
        "improve_stats",
        "plot_mean_response_matrix",
        "plot_in_bin_variation",
        "plot_relative_in_bin_variation",
        "plot_statistical_uncertainty",
        "plot_mean_efficiency",
    },
    "remu.likelihood": {
        "derivative",
        "JeffreysPrior",
        "DataModel",
        "PoissonData",
        "SystematicsConsumer",
        "NoSystematics",
        "MarginalLikelihoodSystematics",
        "ProfileLikelihoodSystematics",
        "Predictor",
        "ComposedPredictor",
        "SummedPredictor",
        "ConcatenatedPredictor",
        "FixedParameterPredictor",
        "LinearEinsumPredictor",
        "MatrixPredictor",
        "ComposedMatrixPredictor",
        "LinearizedPredictor",
        "FixedParameterMatrixPredictor",
        "ResponseMatrixPredictor",
        "TemplatePredictor",
        "LikelihoodCalculator",
        "LikelihoodMaximizer",
        "BasinHoppingMaximizer",
        "HypothesisTester",
        # remu's own additions (issue: toy results, iminuit)
        "MinuitMaximizer",
        "ToyResult",
    },
    "remu.likelihood_utils": {"emcee_sampler", "emcee_initial_guess"},
    "remu.plotting": {
        "get_plotter",
        "Plotter",
        "ArrayPlotter",
        "BinningPlotter",
        "CartesianProductBinningPlotter",
        "LinearBinningPlotter",
        "RectilinearBinningPlotter",
    },
}

# Names the specification says do not exist; inventing them would change the API.
ABSENT = {
    "remu.binning": {"fill_from_csv", "cut_overflow"},
    "remu.migration": {"fill_from_csv", "maximize_stats_by_rebinning"},
    "remu.matrix_utils": {"in_bin_variation", "maximize_stats_by_rebinning"},
    "remu.likelihood": {
        "ScipyMaximizer",
        "AffineLinearPredictor",
        "SelectiveSystematicsPredictor",
        "LinearPredictor",
    },
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist(module):
    mod = importlib.import_module(module)
    missing = {name for name in PUBLIC[module] if not hasattr(mod, name)}
    assert not missing, f"{module} lacks {sorted(missing)}"


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_lists_public_names(module):
    mod = importlib.import_module(module)
    assert PUBLIC[module] <= set(mod.__all__)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which does not exist"


@pytest.mark.parametrize("module", sorted(ABSENT))
def test_names_that_do_not_exist(module):
    mod = importlib.import_module(module)
    for name in ABSENT[module]:
        assert not hasattr(mod, name), f"{module}.{name} should not exist"


def test_module_hooks():
    from remu import binning, likelihood

    assert binning.mapper is map
    assert likelihood.mapper is map
    assert binning.yaml is importlib.import_module("remu.yaml")


def test_remu_yaml_reexports_pyyaml():
    import yaml

    import remu.yaml

    # every public PyYAML name is there; all but the four fast variants are PyYAML's own
    fast = {"full_load", "full_load_all", "dump", "dump_all"}
    for name in dir(yaml):
        if not name.startswith("_"):
            assert name in remu.yaml.__all__
            if name not in fast:
                assert getattr(remu.yaml, name) is getattr(yaml, name), name


def test_import_remu_is_light():
    code = (
        "import sys, remu; "
        "heavy = [m for m in ('matplotlib', 'scipy', 'pandas', 'emcee', 'remu.binning') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_likelihood_does_not_import_plotting_or_emcee():
    code = (
        "import sys, remu.likelihood; "
        "print([m for m in ('emcee', 'matplotlib', 'remu.plotting', 'remu.migration') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
