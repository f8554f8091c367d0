"""PyYAML, re-exported, with a representer for NumPy scalars.

Every public name of PyYAML is available here (``remu.yaml.dump``,
``remu.yaml.full_load``, ...). Importing this module registers a
multi-representer on :class:`yaml.Dumper` that writes NumPy scalars
(``np.float64``, ``np.int64``, ``np.bool_``, ...) as plain YAML numbers and
booleans, so dumped binnings load back with :func:`yaml.full_load`.

:func:`full_load`, :func:`full_load_all`, :func:`dump` and :func:`dump_all` behave
exactly like PyYAML's functions of the same name (same tags, constructors and
representers: whatever is registered on :class:`yaml.FullLoader` and
:class:`yaml.Dumper`), but parse and emit with libyaml's C code where PyYAML was
built with it, which makes large binning files several times faster to read and
write. Every other name is PyYAML's own object.

Examples
--------
>>> import numpy as np
>>> from remu import yaml
>>> print(yaml.dump({"a": np.float64(1.5), "b": np.int64(3), "c": np.bool_(True)}), end="")
a: 1.5
b: 3
c: true
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import numpy as _np
import yaml as _pyyaml

__all__ = sorted(name for name in dir(_pyyaml) if not name.startswith("_"))  # noqa: PLE0605

globals().update({name: getattr(_pyyaml, name) for name in __all__})


def _represent_numpy_scalar(dumper: _pyyaml.Dumper, data: _np.generic) -> _pyyaml.Node:
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


_pyyaml.add_multi_representer(_np.generic, _represent_numpy_scalar, Dumper=_pyyaml.Dumper)


# Fast variants of the four functions used for binning files. The C classes get the
# very registries of FullLoader and Dumper (re-linked on every call, as PyYAML
# copies a registry on its first change), so tags, constructors and representers
# registered the usual way apply unchanged; only the parser and emitter differ.
if getattr(_pyyaml, "__with_libyaml__", False):

    class _FastFullLoader(_pyyaml.CFullLoader):  # type: ignore[misc, name-defined]
        """libyaml parser with the constructors of :class:`yaml.FullLoader`."""

    class _FastDumper(_pyyaml.CDumper):  # type: ignore[misc, name-defined]
        """libyaml emitter with the representers of :class:`yaml.Dumper`.

        The emitter asks for the implicit tag of every scalar twice; a binning file
        repeats the same few keys and values thousands of times, so the answers are
        remembered for the length of one dump.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._resolved: dict[tuple[Any, Any, Any], Any] = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            key = (kind, value, implicit)
            try:
                return self._resolved[key]
            except KeyError:
                tag = self._resolved[key] = super().resolve(kind, value, implicit)
                return tag
            except TypeError:  # an unhashable value (never a scalar's text)
                return super().resolve(kind, value, implicit)

else:  # pragma: no cover - PyYAML without libyaml
    _FastFullLoader = _pyyaml.FullLoader  # type: ignore[misc, assignment]
    _FastDumper = _pyyaml.Dumper  # type: ignore[misc, assignment]

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
    if _FastFullLoader is not _pyyaml.FullLoader:
        for name in _LOADER_REGISTRIES:
            setattr(_FastFullLoader, name, getattr(_pyyaml.FullLoader, name))
    return _FastFullLoader


def _dumper(requested: type | None) -> type:
    if requested is not None and requested is not _pyyaml.Dumper:
        return requested
    if _FastDumper is not _pyyaml.Dumper:
        for name in _DUMPER_REGISTRIES:
            setattr(_FastDumper, name, getattr(_pyyaml.Dumper, name))
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

    Examples
    --------
    >>> full_load("edges: [0, 1.5, .inf]")
    {'edges': [0, 1.5, inf]}
    """
    with _no_cyclic_gc():
        return _pyyaml.load(stream, Loader=_loader())


def full_load_all(stream: Any) -> Iterator[Any]:
    """Load every YAML document of ``stream``, as :func:`yaml.full_load_all` does."""
    return _pyyaml.load_all(stream, Loader=_loader())


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

    Examples
    --------
    >>> print(dump({"edges": [0.0, 1.0]}), end="")
    edges:
    - 0.0
    - 1.0
    """
    with _no_cyclic_gc():
        return _pyyaml.dump_all([data], stream, Dumper=_dumper(Dumper), **kwds)


def dump_all(documents: Any, stream: Any = None, Dumper: type | None = None, **kwds: Any) -> Any:
    """Write several YAML documents, as :func:`yaml.dump_all` does, with libyaml's emitter."""
    with _no_cyclic_gc():
        return _pyyaml.dump_all(documents, stream, Dumper=_dumper(Dumper), **kwds)
