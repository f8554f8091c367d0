"""The documentation site's generated pages cover the whole public surface."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from remu._facade import legacy_names

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def remu_docs():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        yield importlib.import_module("remu_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))
        sys.modules.pop("remu_docs", None)


def test_every_public_module_has_a_page(remu_docs):
    import remu

    public = {
        f"remu.{p.stem}"
        for p in Path(remu.__file__).parent.glob("*.py")
        if not p.stem.startswith("_")
    }
    assert public == set(remu_docs.MODULES)


@pytest.mark.parametrize(
    "module_name",
    [
        "remu.binning",
        "remu.migration",
        "remu.matrix_utils",
        "remu.likelihood",
        "remu.likelihood_utils",
        "remu.plotting",
        "remu.yaml",
        "remu.errors",
    ],
)
def test_api_page_names_every_public_name(remu_docs, module_name):
    module = importlib.import_module(module_name)
    page = remu_docs.api_page(module_name, "summary")
    for name in module.__all__:
        documented = f":: {module_name}.{name}" in page
        listed = f"``{name}``" in page
        assert documented or listed, f"{module_name}.{name} is not on its API page"
        if remu_docs._is_own(getattr(module, name)):
            assert documented, f"{module_name}.{name} is remu's own but not documented"
    for name in legacy_names(module):
        if not name.startswith("_"):
            assert f"   * - ``{name}``" in page, f"legacy {module_name}.{name} is not listed"
            assert f":: {module_name}.{name}" not in page, f"legacy {name} is documented as own"


def test_tutorial_page_shows_figures_and_code(remu_docs, tmp_path):
    demo = tmp_path / "demo"
    (demo / "00").mkdir(parents=True)
    (demo / "00" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (demo / "00" / "log.txt").write_text("filled 3 events\n")
    out = tmp_path / "tutorial"
    script, description = remu_docs._steps()["00"]
    page = remu_docs.tutorial_page("00", script, description, demo, out)
    assert page.startswith("# Step 00")
    assert "figures/00/plot.png" in page
    assert (out / "figures" / "00" / "plot.png").is_file()
    assert "filled 3 events" in page
    assert f"examples/tutorial/{script}" in page


def test_tutorial_page_without_demo_output_says_how(remu_docs, tmp_path):
    script, description = remu_docs._steps()["00"]
    with pytest.raises(RuntimeError, match="make docs"):
        remu_docs.tutorial_page("00", script, description, tmp_path, tmp_path / "out")


def test_methods_defined_once_in_a_private_base_are_documented_once(remu_docs):
    page = remu_docs.api_page("remu.binning", "summary")
    for cls in ("Bin", "Binning"):
        block = page.split(f".. autoclass:: remu.binning.{cls}\n", 1)[1].split(".. autoclass::")[0]
        assert ".. automethod:: clone" in block, cls
    linear = page.split(".. autoclass:: remu.binning.LinearBinning\n", 1)[1]
    assert ".. automethod:: clone" not in linear.split(".. autoclass::")[0]
