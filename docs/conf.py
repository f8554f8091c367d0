"""Sphinx configuration of remu's documentation site (``make docs``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from remu import __version__

project = "remu"
author = "remu developers"
copyright = "2026, remu developers"
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "remu_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "figures/README.md"]
templates_path: list[str] = []

html_theme = "furo"
html_title = f"remu {release}"
html_static_path: list[str] = []

# The site is built offline: no intersphinx inventories are fetched.
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # the numpydoc sections already give the types
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

nitpicky = False
suppress_warnings: list[str] = []
