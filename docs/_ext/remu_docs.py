"""Sphinx extension that writes remu's generated pages before a build.

Two kinds of pages are derived from the code, so they never drift from it:

* ``_generated/api/<module>.rst``: one page per public module, documenting every
  name in the module's ``__all__`` (remu's own names). The module's legacy names,
  which it offers because code written for ReMU 0.8.0 imports them from it
  (``remu.binning.np``, ``remu.migration.deepcopy``, PyYAML's names in
  ``remu.yaml``: its ``_LEGACY_NAMES`` table, read with
  :func:`remu._facade.legacy_names`), are listed in a table at the end of the page
  instead of being documented again; the private ones (``_SLICE``...) are not.
* ``_generated/tutorial/<step>.md``: one page per tutorial step, from the step
  script's docstring, the script itself and the figures that ``make demo`` wrote
  (the demo's output folder is ``REMU_DEMO_OUTPUT``, default
  ``docs/_build/demo``; ``make docs`` runs the quick demo there first).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import shutil
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
TUTORIAL = ROOT / "examples" / "tutorial"
GENERATED = DOCS / "_generated"

#: public modules, in the order of the API index, with a one-line summary
MODULES: dict[str, str] = {
    "remu.binning": "binnings, bins, phase spaces and filling",
    "remu.migration": "response matrices and their toy variations",
    "remu.matrix_utils": "quality checks and plots of response matrices",
    "remu.likelihood": "data models, predictors, likelihoods, fits and hypothesis tests",
    "remu.likelihood_utils": "helpers around likelihoods (MCMC, export)",
    "remu.plotting": "plots of binnings and arrays",
    "remu.yaml": "reading and writing binnings as YAML",
    "remu.errors": "exceptions and warnings",
}


def _is_own(obj: Any) -> bool:
    """Whether ``obj`` is defined by remu (not a NumPy/PyYAML object or a module)."""
    if inspect.ismodule(obj):
        return False
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] == "remu"


def _legacy_target(target: Any) -> str:
    """What a legacy-table entry is, for the table: ``numpy``, ``copy.deepcopy``..."""
    if isinstance(target, str):
        return target.replace(":", ".")
    return f"{target.__module__}.{target.__qualname__}()"


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoclass"
    if callable(obj):
        return "autofunction"
    return "autodata"


def api_page(module_name: str, summary: str) -> str:
    """The reST page of one public module."""
    from remu._facade import legacy_names

    module = importlib.import_module(module_name)
    names = list(module.__all__)
    data = [n for n in names if n in _DATA_NAMES]
    own = [n for n in names if n not in data]
    legacy = {n: t for n, t in legacy_names(module).items() if not n.startswith("_")}
    title = f"``{module_name}``: {summary}"
    lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", ""]
    for name in own:
        obj = getattr(module, name)
        lines += [f".. {_directive(obj)}:: {module_name}.{name}"]
        if inspect.isclass(obj):
            lines += ["   :members:", "   :show-inheritance:", ""]
            lines += [f"   .. automethod:: {m}" for m in _methods_from_private_bases(obj)]
        lines += [""]
    for name in data:
        lines += [f".. autodata:: {module_name}.{name}", "   :no-value:", ""]
    if legacy:
        lines += [
            "Compatibility names",
            "-------------------",
            "",
            (
                "These names are importable from this module because code written for ReMU "
                "uses them; they are not remu's own here and are documented where they "
                "come from. They are imported on first use and are not in ``__all__``."
            ),
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "",
            "   * - name",
            "     - is",
        ]
        for name, target in legacy.items():
            lines += [f"   * - ``{name}``", f"     - ``{_legacy_target(target)}``"]
        lines += [""]
    return "\n".join(lines)


def _shown_classes() -> set[type]:
    """The classes that have an entry on some API page."""
    shown = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        shown |= {obj for obj in map(module.__dict__.get, module.__all__) if inspect.isclass(obj)}
    return shown


#: methods of PyYAML's YAMLObject protocol, which users do not call
_YAML_PROTOCOL = {"from_yaml", "to_yaml"}


def _methods_from_private_bases(cls: type) -> list[str]:
    """Public methods ``cls`` inherits from a private base class (no page shows them).

    ``:members:`` documents a class's own members only. A method defined once in a
    private base (``clone`` in remu._binning.structure.Structured) is shown on the
    first public class that inherits it (``Bin``, ``Binning``), not again on their
    subclasses.
    """
    shown = _shown_classes()
    names = []
    for name in sorted(dir(cls)):
        if name.startswith("_") or name in vars(cls) or name in _YAML_PROTOCOL:
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or owner in shown or not _is_own(owner):
            continue
        public_bases = [k for k in cls.__mro__[1:] if k in shown and owner in k.__mro__]
        defined = vars(owner)[name]
        is_method = inspect.isfunction(defined) or isinstance(defined, classmethod | staticmethod)
        if not public_bases and is_method:
            names.append(name)
    return names


#: user-settable module attributes documented with their comment
_DATA_NAMES = {"mapper"}


def _steps() -> dict[str, tuple[str, str]]:
    """``STEPS`` of examples/tutorial/run_all.py, read without running the driver."""
    tree = ast.parse((TUTORIAL / "run_all.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "STEPS" for t in targets):
                value = ast.literal_eval(node.value)
                return {str(k): (str(v[0]), str(v[1])) for k, v in value.items()}
    msg = f"no STEPS table found in {TUTORIAL / 'run_all.py'}"
    raise RuntimeError(msg)


def tutorial_page(step: str, script: str, description: str, demo: Path, out: Path) -> str:
    """The Markdown page of one tutorial step, with its figures copied next to it."""
    source = (TUTORIAL / script).read_text(encoding="utf-8")
    doc = ast.get_docstring(ast.parse(source)) or description
    title, _, body = doc.partition("\n")
    figures = sorted((demo / step).glob("*.png"))
    if not figures and not (demo / step).is_dir():
        msg = (
            f"tutorial step {step}: no demo output in {demo / step}; run `make docs` "
            "(it runs the quick demo first) or set REMU_DEMO_OUTPUT"
        )
        raise RuntimeError(msg)
    target = out / "figures" / step
    target.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title.strip()}", "", body.strip(), ""]
    lines += [f"Script: `examples/tutorial/{script}` ({description}).", ""]
    if figures:
        lines += ["## Figures", ""]
        for figure in figures:
            shutil.copy2(figure, target / figure.name)
            lines += [
                f"```{{figure}} figures/{step}/{figure.name}",
                ":width: 80%",
                "",
                f"`{step}/{figure.name}`",
                "```",
                "",
            ]
    log = demo / step / "log.txt"
    if log.is_file():
        lines += ["## Printout (quick mode)", "", "```text", log.read_text().rstrip(), "```", ""]
    lines += [
        "## Code",
        "",
        f"```{{literalinclude}} ../../../examples/tutorial/{script}",
        ":language: python",
        "```",
        "",
    ]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    """Write only when the text changed, so Sphinx rebuilds only what is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate(_app: Any) -> None:
    """Write every generated page (``builder-inited`` hook)."""
    api = GENERATED / "api"
    index = ["API reference", "=============", "", ".. toctree::", "   :maxdepth: 1", ""]
    for name, summary in MODULES.items():
        _write(api / f"{name}.rst", api_page(name, summary))
        index.append(f"   {name}")
    _write(api / "index.rst", "\n".join(index) + "\n")

    demo = Path(os.environ.get("REMU_DEMO_OUTPUT", DOCS / "_build" / "demo"))
    tutorial = GENERATED / "tutorial"
    steps = _steps()
    toc = ["# Tutorial", "", _TUTORIAL_INTRO, "", "```{toctree}", ":maxdepth: 1", ""]
    for step, (script, description) in steps.items():
        _write(tutorial / f"{step}.md", tutorial_page(step, script, description, demo, tutorial))
        toc.append(step)
    toc += ["```", ""]
    _write(tutorial / "index.md", "\n".join(toc))


_TUTORIAL_INTRO = (
    "The analysis of the original ReMU tutorial, run on a seeded toy experiment. Each "
    "step is one script in `examples/tutorial/` that reads the files the earlier steps "
    "wrote; `make demo` runs them all and writes the figures and `results.md`. The "
    "figures and printouts on these pages come from the quick mode "
    "(`make demo DEMO_ARGS=--quick`), which uses fewer toys and scan points."
)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
