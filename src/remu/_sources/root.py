"""Filling from ROOT files through uproot: streamed in constant memory, or as Dask tasks.

``files`` is anything ``uproot.iterate`` and ``uproot.dask`` accept: a string
``"file.root:tree"`` (wildcards allowed: ``"data/*.root:events"``), a list of
such strings, or a dict ``{path: tree_name}``. Only the branches the fill needs
are read: the binnings' variables (through ``rename``), ``weightfield`` and the
extra ``branches`` a cut function uses.

Each chunk of entries (``step_size``: a number of entries or a memory size such
as ``"50 MB"``) goes through the same steps as a CSV file in
``fill_from_csv_file``: rename (branch name -> binning variable), the cut
function (on an awkward record array with the renamed fields; it may drop
entries or add fields), flattening of the fields named in ``flatten``
(:mod:`remu._sources.awkward_columns`), then ``weight = chunk[weightfield] *
weight`` and the fill. ``uproot.iterate`` keeps one chunk in memory at a time;
``dask=True`` reads the files with ``uproot.dask``, one task per chunk, on the
current Dask scheduler (:mod:`remu._sources.dask_fill`).

With ``progress``, a bar advances chunk by chunk, by the entries read (its total
is the number of entries of all trees, from ``uproot.num_entries``), or, with
Dask, by partition. Trees without entries are logged (INFO) as skipped, and after
the fill the number of entries and those outside each histogram (see
:func:`remu._binning.fill.report_fill`); a wildcard that matches no file is an
error (uproot's ``FileNotFoundError``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any

from remu._binning.events import DictColumns
from remu._binning.fill import FillPlan, PartialFill
from remu._logging import get_logger
from remu._optional import optional_import
from remu._progress import ProgressLike, progress_bar
from remu._sources.awkward_columns import flat_columns, rename_fields
from remu._sources.weights import weight_multiplier
from remu.errors import MissingFieldError

__all__ = ["DEFAULT_STEP_SIZE", "RootChunks", "fill_from_root"]

#: entries read at a time: large enough for fast vectorised filling, small enough
#: to keep the memory constant (uproot holds the compressed and decompressed
#: baskets of a chunk, the fill its look-ups: a few times this size in all)
DEFAULT_STEP_SIZE = "16 MB"


class RootChunks:
    """How each chunk of ROOT entries becomes columns and weights (picklable).

    Parameters
    ----------
    variables : set of str or None
        The binning variables (``None``: every field is converted).
    weightfield : str, optional
    weight : float
    rename : dict, optional
    cut_function : callable, optional
    flatten : bool or collection of str, optional
        Names may be branch names or renamed names.
    """

    def __init__(
        self,
        variables: set[str] | None,
        weightfield: str | None,
        weight: float,
        rename: Mapping[str, str] | None,
        cut_function: Callable[[Any], Any] | None,
        flatten: bool | Collection[str] | None,
    ) -> None:
        self.variables = variables
        self.weightfield = weightfield
        self.weight = weight
        self.rename = dict(rename or {})
        self.cut_function = cut_function
        if flatten is True or not flatten:
            self.flatten: bool | set[str] = bool(flatten)
        else:
            names = {flatten} if isinstance(flatten, str) else set(flatten)
            self.flatten = names | {self.rename[n] for n in names if n in self.rename}

    def branches(self, extra: Iterable[str] | None) -> list[str] | None:
        """Return the branch names to read (``None``: all)."""
        if self.variables is None:
            return None
        source = {new: old for old, new in self.rename.items()}
        names = {source.get(v, v) for v in self.variables}
        if self.weightfield is not None:
            names.add(source.get(self.weightfield, self.weightfield))
        names |= set(extra or ())
        return sorted(names)

    def columns(self, chunk: Any, where: str) -> tuple[DictColumns, Any] | None:
        """Return the chunk's events as columns and their weights (``None``: no event left)."""
        chunk = rename_fields(chunk, self.rename)
        if self.cut_function is not None:
            chunk = self.cut_function(chunk)
        if len(chunk) == 0:
            return None
        names = list(chunk.fields) if self.variables is None else sorted(self.variables)
        wanted = [*names, self.weightfield] if self.weightfield is not None else names
        columns = flat_columns(chunk, wanted, self.flatten, where=where)
        weight: Any = self.weight
        if self.weightfield is not None:
            weight = columns[self.weightfield] * self.weight
            if self.weightfield not in names:
                del columns[self.weightfield]
        return DictColumns(columns), weight

    def partial(self, plan: FillPlan, chunk: Any, where: str) -> PartialFill:
        """Compute the partial fill of one chunk (a task of a Dask fill)."""
        converted = self.columns(chunk, where)
        if converted is None:
            return plan.empty_partial()
        return plan.partial(*converted)


def _describe(files: Any) -> str:
    if isinstance(files, str):
        return files
    if isinstance(files, Mapping):
        return ", ".join(f"{k}:{v}" for k, v in files.items())
    try:
        return ", ".join(str(f) for f in files)
    except TypeError:
        return str(files)


def _check_branches(available: Iterable[str], wanted: list[str] | None, where: str) -> None:
    if wanted is None:
        return
    have = set(available)
    for name in wanted:
        if name not in have:
            msg = (
                f"{where}has no branch {name!r} (branches read: "
                f"{', '.join(sorted(have)) or 'none'}; pass branches=[...] for the ones a "
                "cut function needs)"
            )
            raise MissingFieldError(msg)


def _iterate(
    uproot: Any, files: Any, wanted: list[str] | None, step_size: Any, options: dict[str, Any]
) -> Iterator[tuple[Any, Any]]:
    """``uproot.iterate`` over the wanted branches; a missing one raises MissingFieldError.

    Each chunk's fields are checked against ``wanted`` (by the caller). When no
    branch matches, uproot yields nothing at all, as for empty trees: then one
    entry of every branch is read to tell the two apart.
    """
    seen = False
    for chunk, report in uproot.iterate(
        files, filter_name=wanted, step_size=step_size, report=True, **options
    ):
        seen = True
        yield chunk, report
    if seen or not wanted:
        return
    for chunk, report in uproot.iterate(files, step_size=1, report=True, **options):
        _check_branches(chunk.fields, wanted, _where(report))
        return


def _where(report: Any) -> str:
    tree = str(report.source.object_path).lstrip("/").split(";")[0]
    return (
        f"{report.file_path}:{tree} (entries {report.tree_entry_start}-{report.tree_entry_stop}) "
    )


def _entries(uproot: Any, files: Any, log: logging.Logger) -> int | None:
    """Count the entries of all trees (``None`` if uproot cannot count them); log empty trees."""
    try:
        counts = list(uproot.num_entries(files))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        # e.g. a file without a tree name, or already opened trees: the fill itself
        # reports real problems
        log.debug("cannot count the entries of %s beforehand: %s", _describe(files), err)
        return None
    for path, tree, n in counts:
        if n == 0:
            log.info("skipped %s:%s: the tree has no entries", path, tree)
    return sum(int(n) for *_, n in counts)


def fill_from_root(
    plan: FillPlan,
    files: Any,
    weightfield: str | None = None,
    weight: Any = 1.0,
    rename: Mapping[str, str] | None = None,
    cut_function: Callable[[Any], Any] | None = None,
    *,
    branches: Iterable[str] | None = None,
    flatten: bool | Collection[str] | None = None,
    step_size: int | str | None = None,
    dask: bool = False,
    compute: bool = True,
    raise_error: bool = False,
    progress: ProgressLike = False,
    **uproot_options: Any,
) -> Any:
    """Fill from ROOT files: ``fill_from_root`` of binnings and response matrices."""
    uproot = optional_import("uproot", feature="reading ROOT files")
    log = get_logger(plan.log_area)
    source = f"ROOT files {_describe(files)}"
    if step_size is None:
        step_size = DEFAULT_STEP_SIZE
    chunks = RootChunks(
        plan.required_variables(),
        weightfield,
        weight_multiplier(weight, "ROOT files"),
        rename,
        cut_function,
        flatten,
    )
    wanted = chunks.branches(branches)
    if dask:
        from remu._sources.dask_fill import finish, tree_sum

        dask_module = optional_import("dask", feature="reading ROOT files with Dask")
        optional_import("dask_awkward", feature="reading ROOT files with Dask (uproot.dask)")
        try:
            array = uproot.dask(files, filter_name=wanted, step_size=step_size, **uproot_options)
        except ValueError as err:
            if "in common" not in str(err):  # "no TBranches in common": none matched
                raise
            msg = (
                f"ROOT files {_describe(files)} have no branch {wanted[0] if wanted else ''!r}"
                f" (none of the branches {wanted} was found)"
            )
            raise MissingFieldError(msg) from err
        if cut_function is None:
            _check_branches(array.fields, wanted, f"ROOT files {_describe(files)} ")
        if log.isEnabledFor(logging.INFO):
            _entries(uproot, files, log)
        plan_node = dask_module.delayed(plan.structure(), pure=True)
        blocks = [
            dask_module.delayed(chunks.partial)(plan_node, part, f"chunk {i}: ")
            for i, part in enumerate(array.to_delayed())
        ]
        lazy_total = tree_sum(dask_module, blocks, plan)
        return finish(
            dask_module,
            plan,
            lazy_total,
            plan_node,
            raise_error,
            compute,
            blocks=blocks,
            progress=progress,
            source=source,
        )
    if not compute:
        msg = "compute=False needs dask=True (a lazy fill)"
        raise TypeError(msg)
    bar_wanted = progress is not None and progress is not False
    n_entries = (
        _entries(uproot, files, log) if bar_wanted or log.isEnabledFor(logging.INFO) else None
    )
    total: PartialFill | None = None
    with progress_bar(progress, total=n_entries, desc="reading ROOT", unit="entries") as bar:
        for chunk, report in _iterate(uproot, files, wanted, step_size, uproot_options):
            where = _where(report)
            if cut_function is None:
                _check_branches(chunk.fields, wanted, where)
            converted = chunks.columns(chunk, where.rstrip() + ": ")
            if converted is not None:
                if raise_error:
                    # all or nothing: sum the chunks first, add them once all are inside
                    part = plan.partial(*converted)
                    total = part if total is None else total + part
                else:
                    # in place, chunk after chunk: the same sums as one in-memory fill
                    plan.fill_columns(*converted, raise_error=False, count=True)
            bar.update(int(report.tree_entry_stop - report.tree_entry_start))
    if raise_error:
        plan.add_partial(total if total is not None else plan.empty_partial(), raise_error=True)
    plan.report(source)
    return None
