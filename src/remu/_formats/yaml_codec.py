"""Reading and writing YAML documents: libyaml speed, NumPy scalars, limits on aliases.

:mod:`remu.yaml` is the public face of this module: it re-exports PyYAML and the
four functions here.

* :func:`full_load`, :func:`full_load_all`, :func:`dump` and :func:`dump_all`
  behave exactly like PyYAML's functions of the same name (same tags, constructors
  and representers: whatever is registered on :class:`yaml.FullLoader` and
  :class:`yaml.Dumper`), but parse and emit with libyaml's C code where PyYAML was
  built with it, which makes large binning files several times faster.
* Importing this module registers a multi-representer on :class:`yaml.Dumper` that
  writes NumPy scalars (``np.float64``, ``np.int64``, ``np.bool_``, ...) as plain
  YAML numbers and booleans, so dumped binnings load back with
  :func:`yaml.full_load`.
* :func:`check_alias_expansion` bounds the work a document can cause through
  aliases. An alias re-uses an anchored node, so a file of a kilobyte can stand for
  a billion nodes (an "alias bomb"); PyYAML shares the node, but the binning
  constructors walk the expanded data. Every remu tag checks its node before it is
  built, whichever loader is used.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import numpy as np
import yaml

from remu.errors import FileFormatError

__all__ = [
    "MAX_ALIAS_AMPLIFICATION",
    "MAX_EXPANDED_NODES",
    "check_alias_expansion",
    "dump",
    "dump_all",
    "full_load",
    "full_load_all",
    "node_location",
]

#: Expanded size (nodes, counting every alias as a copy of its anchor) above which a
#: document is refused when it is also more than :data:`MAX_ALIAS_AMPLIFICATION` times
#: the number of its distinct nodes. A binning file without aliases is never refused.
MAX_EXPANDED_NODES = 1_000_000
MAX_ALIAS_AMPLIFICATION = 100


def _represent_numpy_scalar(dumper: yaml.Dumper, data: np.generic) -> yaml.Node:
    """Write a NumPy scalar as the matching plain YAML scalar."""
    value = data.item()
    # bool before int: bool is a subclass of int
    if isinstance(value, bool):
        return dumper.represent_bool(value)
    if isinstance(value, int):
        return dumper.represent_int(value)
    if isinstance(value, float):
        return dumper.represent_float(value)
    return dumper.represent_str(str(value))


# np.generic is abstract in NumPy's stubs; PyYAML only matches instances against it
yaml.add_multi_representer(np.generic, _represent_numpy_scalar, Dumper=yaml.Dumper)  # type: ignore[type-abstract]


def node_location(node: Any) -> str:
    """``"<file>, line L, column C"`` of a node, for messages (empty when unknown)."""
    mark = getattr(node, "start_mark", None)
    if mark is None:
        return ""
    return f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}"


class _ExpansionLedger:
    """What one loader has walked, to spot documents that aliases blow up.

    The expanded size of every collection node seen, the number of distinct nodes,
    and the total size of the nodes built so far.
    """

    __slots__ = ("distinct", "nodes", "sizes", "work")

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.nodes: list[Any] = []  # keeps the walked nodes alive, so ids stay unique
        self.distinct = 0
        self.work = 0


_COLLECTIONS = (yaml.SequenceNode, yaml.MappingNode)


def _items(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return node.value  # type: ignore[no-any-return]
    return [item for pair in node.value for item in pair]


def _expanded_size(ledger: _ExpansionLedger, root: Any) -> int:
    """Nodes under ``root`` with every alias expanded (each distinct node walked once).

    Scalars count 1 and are not stored; a collection inside its own subtree (a
    recursive document, which PyYAML refuses to build anyway) counts 1 there.
    """
    if not isinstance(root, _COLLECTIONS):
        return 1
    sizes = ledger.sizes
    known = sizes.get(id(root))
    if known is not None:
        return known
    on_path = {id(root)}  # the ancestors of the node being walked
    stack = [(root, _items(root), 0)]  # node, its items, the next item to look at
    while stack:
        node, items, i = stack[-1]
        descended = False
        while i < len(items):
            child = items[i]
            i += 1
            key = id(child)
            if isinstance(child, _COLLECTIONS) and key not in sizes and key not in on_path:
                stack[-1] = (node, items, i)
                on_path.add(key)
                stack.append((child, _items(child), 0))
                descended = True
                break
        if descended:
            continue
        stack.pop()
        on_path.discard(id(node))
        total = 1 + len(items)
        scalars = len(items)
        for child in items:
            if isinstance(child, _COLLECTIONS):
                total += sizes.get(id(child), 1) - 1
                scalars -= 1
        sizes[id(node)] = total
        ledger.nodes.append(node)
        ledger.distinct += 1 + scalars  # an aliased scalar counts more than once: harmless
    return sizes[id(root)]


def check_alias_expansion(loader: Any, node: Any) -> None:
    r"""Refuse to build ``node`` when aliases blow the document up beyond reason.

    Called by every remu tag before its node is built. The loader keeps a ledger of
    the distinct nodes seen and of the expanded sizes of the nodes built so far;
    when that total exceeds :data:`MAX_EXPANDED_NODES` and
    :data:`MAX_ALIAS_AMPLIFICATION` times the distinct nodes, loading stops. The
    walk visits each distinct node once, so checking costs no more than parsing.

    Parameters
    ----------
    loader : yaml loader
    node : yaml.Node
        The node about to be built.

    Raises
    ------
    remu.errors.FileFormatError
        Naming the file and line, before anything large is built.

    Examples
    --------
    >>> from remu import binning  # registers the tags
    >>> bomb = "a: &a [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
    >>> for level in "bcdefg":
    ...     bomb += f"{level}: &{level} [" + ", ".join([f"*{chr(ord(level) - 1)}"] * 10) + "]\n"
    >>> bomb += "h: !LinearBinning {variable: x, bin_edges: *g}\n"
    >>> full_load(bomb)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    remu.errors.FileFormatError: <unicode string>, line 8, column 4: the YAML document ...
    """
    ledger = loader.__dict__.get("_remu_expansion")
    if ledger is None:
        ledger = loader.__dict__["_remu_expansion"] = _ExpansionLedger()
    ledger.work += _expanded_size(ledger, node)
    distinct = max(ledger.distinct, 1)
    if ledger.work > MAX_EXPANDED_NODES and ledger.work > MAX_ALIAS_AMPLIFICATION * distinct:
        msg = (
            f"{node_location(node)}: the YAML document expands to more than "
            f"{ledger.work:,} nodes through its aliases (*name), from only {distinct:,} "
            "distinct nodes: refused as a likely alias bomb"
        )
        raise FileFormatError(msg)


# Fast variants of the four functions used for binning files. The C classes get the
# very registries of FullLoader and Dumper (re-linked on every call, as PyYAML
# copies a registry on its first change), so tags, constructors and representers
# registered the usual way apply unchanged; only the parser and emitter differ.
_WITH_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))
if _WITH_LIBYAML:

    class _FastFullLoader(yaml.CFullLoader):
        """libyaml parser with the constructors of :class:`yaml.FullLoader`."""

    class _FastDumper(yaml.CDumper):
        """libyaml emitter with the representers of :class:`yaml.Dumper`.

        The emitter asks for the implicit tag of every scalar twice; a binning file
        repeats the same few keys and values thousands of times, so the answers are
        remembered for the length of one dump.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._resolved: dict[tuple[Any, Any, Any], Any] = {}

        # types-PyYAML leave BaseResolver.resolve unannotated (no-untyped-call below)
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            key = (kind, value, implicit)
            try:
                return self._resolved[key]
            except KeyError:
                tag = self._resolved[key] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                return tag
            except TypeError:  # an unhashable value (never a scalar's text)
                return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

else:  # pragma: no cover - PyYAML without libyaml
    # the pure-Python classes stand in under the same names (a class name rebound)
    _FastFullLoader = yaml.FullLoader  # type: ignore[misc, assignment]
    _FastDumper = yaml.Dumper  # type: ignore[misc, assignment]

_LOADER_REGISTRIES = ("yaml_constructors", "yaml_multi_constructors", "yaml_implicit_resolvers")
_DUMPER_REGISTRIES = ("yaml_representers", "yaml_multi_representers", "yaml_implicit_resolvers")


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document is built or written.

    Loading or dumping a large binning creates hundreds of thousands of small
    objects, each allocation counting towards a collection of the youngest
    generations, which repeatedly traverse the growing tree; pausing the collector
    halves the time for 10^4 bins. Nothing cyclic becomes garbage meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _loader() -> type:
    if _WITH_LIBYAML:
        for name in _LOADER_REGISTRIES:
            setattr(_FastFullLoader, name, getattr(yaml.FullLoader, name))
    return _FastFullLoader


def _dumper(requested: type | None) -> type:
    if requested is not None and requested is not yaml.Dumper:
        return requested
    if _WITH_LIBYAML:
        for name in _DUMPER_REGISTRIES:
            setattr(_FastDumper, name, getattr(yaml.Dumper, name))
    return _FastDumper


def full_load(stream: Any) -> Any:
    """Load one YAML document as :func:`yaml.full_load` does, with libyaml's parser.

    Parameters
    ----------
    stream : str, bytes or file
        The YAML text, e.g. an open binning file.

    Returns
    -------
    object
        The document; remu tags such as ``!LinearBinning`` become remu objects.

    Raises
    ------
    yaml.YAMLError
        For a syntax error or an unknown tag.
    remu.errors.FileFormatError
        For a document whose aliases expand it beyond reason
        (:func:`check_alias_expansion`).

    Examples
    --------
    >>> full_load("edges: [0, 1.5, .inf]")
    {'edges': [0, 1.5, inf]}
    """
    with _no_cyclic_gc():
        return yaml.load(stream, Loader=_loader())


def full_load_all(stream: Any) -> Iterator[Any]:
    r"""Load every YAML document of ``stream``, as :func:`yaml.full_load_all` does.

    Parameters
    ----------
    stream : str, bytes or file

    Returns
    -------
    iterator
        One object per document.

    Examples
    --------
    >>> list(full_load_all("a: 1\n---\nb: 2\n"))
    [{'a': 1}, {'b': 2}]
    """
    return yaml.load_all(stream, Loader=_loader())


def dump(data: Any, stream: Any = None, Dumper: type | None = None, **kwds: Any) -> Any:
    """Write ``data`` as YAML, as :func:`yaml.dump` does, with libyaml's emitter.

    Parameters
    ----------
    data : object
        E.g. a binning.
    stream : file, optional
        Where to write; without it the text is returned.
    Dumper : type, optional
        A custom dumper class is used as given (PyYAML's pure-Python code).
    **kwds
        PyYAML's formatting options (``sort_keys``, ``default_flow_style``, ...).

    Returns
    -------
    str or None
        The text, when no stream is given.

    Examples
    --------
    >>> print(dump({"edges": [0.0, 1.0]}), end="")
    edges:
    - 0.0
    - 1.0
    """
    with _no_cyclic_gc():
        return yaml.dump_all([data], stream, Dumper=_dumper(Dumper), **kwds)


def dump_all(documents: Any, stream: Any = None, Dumper: type | None = None, **kwds: Any) -> Any:
    """Write several YAML documents, as :func:`yaml.dump_all` does, with libyaml's emitter.

    Parameters
    ----------
    documents : iterable
        One object per document.
    stream : file, optional
        Where to write; without it the text is returned.
    Dumper : type, optional
        A custom dumper class is used as given.
    **kwds
        PyYAML's formatting options.

    Returns
    -------
    str or None
        The text, when no stream is given.

    Examples
    --------
    >>> print(dump_all([1, 2]), end="")
    1
    --- 2
    """
    with _no_cyclic_gc():
        return yaml.dump_all(documents, stream, Dumper=_dumper(Dumper), **kwds)
