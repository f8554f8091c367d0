"""Pin the public names users import: the drop-in surface of the reference remu 0.8.0.

A name removed here breaks user scripts; a name added must be a deliberate choice.
"""

from __future__ import annotations

import importlib
import os
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

# Names ReMU 0.8.0 does not have; inventing them would change the API.
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
    assert set(remu.yaml.__all__) == fast
    for name in dir(yaml):
        if not name.startswith("_"):
            assert name in dir(remu.yaml), name
            if name not in fast:
                assert getattr(remu.yaml, name) is getattr(yaml, name), name
    from remu.yaml import YAMLObject, safe_load

    assert (YAMLObject, safe_load) == (yaml.YAMLObject, yaml.safe_load)


# Names that code written for ReMU 0.8.0 imports from its modules (the modules and
# functions those imported at their top, and private helpers scripts and tests use):
# they stay importable, from the module's table of legacy names.
LEGACY = {
    "remu.binning": {"np", "yaml", "deepcopy", "rename_fields", "TemporaryFile"},
    "remu.migration": {"np", "deepcopy", "warn", "Binning", "CartesianProductBinning"},
    "remu.matrix_utils": {
        "np",
        "plt",
        "stats",
        "binning",
        "migration",
        "plotting",
        "_ResponsePlotter",
        "_merge_suggestions",
        "_block_mahalanobis2",
        "_expected_mahalanobis_distance",
    },
    "remu.likelihood": {"np", "scipy", "optimize", "stats", "_SLICE"},
    "remu.likelihood_utils": {"np"},
    "remu.plotting": {"np", "plt", "ticker", "cycle", "binning"},
    "remu.yaml": set(),
    "remu.errors": set(),
}
FACADES = sorted(LEGACY)


@pytest.mark.parametrize("module", FACADES)
def test_legacy_names_are_importable_and_listed(module):
    from remu._facade import legacy_names, resolve

    mod = importlib.import_module(module)
    table = legacy_names(mod)
    assert LEGACY[module] <= set(table)
    for name, target in table.items():
        assert name not in mod.__all__, f"{module}.{name} is legacy and own"
        assert name in dir(mod)
        assert getattr(mod, name) is resolve(target)


@pytest.mark.parametrize("module", FACADES)
def test_one_convention_for_every_public_module(module):
    """``__all__``, ``__dir__`` and one legacy table; nothing else leaks from a facade."""
    from remu._facade import legacy_names

    mod = importlib.import_module(module)
    assert "__dir__" in vars(type(mod)), f"{module} has no __dir__"
    assert "__getattr__" not in vars(mod), f"{module} defines a module __getattr__ itself"
    assert sorted(mod.__all__) == sorted(set(mod.__all__)), "duplicates in __all__"
    assert set(mod.__all__) <= set(dir(mod))
    # (names that are no identifiers are pytest's, when it collects the module for doctests)
    public = {n for n in vars(mod) if n.isidentifier() and not n.startswith("_")}
    public -= {"annotations"}
    stray = public - set(mod.__all__) - set(legacy_names(mod))
    assert not stray, f"{module} exposes {sorted(stray)} outside __all__ and its legacy table"


def test_legacy_names_are_imported_on_first_use():
    code = (
        "import sys, remu.matrix_utils, remu.plotting, remu.binning; "
        "before = [m for m in ('matplotlib.pyplot', 'scipy.stats') if m in sys.modules]; "
        "remu.plotting.plt, remu.matrix_utils.stats; "
        "after = [m for m in ('matplotlib.pyplot', 'scipy.stats') if m in sys.modules]; "
        "print(before, after)"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[] ['matplotlib.pyplot', 'scipy.stats']"


def test_unknown_names_raise_attribute_error():
    from remu import binning

    with pytest.raises(AttributeError, match=r"module 'remu\.binning' has no attribute 'nope'"):
        binning.nope  # noqa: B018
    assert not hasattr(binning, "fill_from_csv")


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
