"""The ``!ClassName`` YAML tags of the binning classes, both directions.

Each public binning class derives from :class:`RemuYAMLObject` (a
:class:`yaml.YAMLObject`) with a ``yaml_tag`` of ``!ClassName``. Loading builds the
tagged mapping deeply and passes it as keyword arguments to the constructor, which
checks the type of every field (so ``include_upper: 'false'`` is an error, never
``True``); an error names the file, line and tag. Before anything is built, the
node is checked against alias bombs (:func:`remu._formats.yaml_codec.check_alias_expansion`).
Dumping writes the structural arguments (never the data arrays), as each class
declares them (:mod:`remu._binning.structure`).
Constructors are registered on ``FullLoader`` (as the reference does) and on
``SafeLoader``, which only ever builds these classes and plain YAML types.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from remu._formats.yaml_codec import check_alias_expansion, node_location
from remu.errors import FileFormatError

__all__ = ["LOADERS", "DummyBins", "RemuYAMLObject", "located_error", "sequence_node"]

LOADERS = [yaml.FullLoader, yaml.SafeLoader]


def located_error(error: Exception, node: Any, tag: str) -> Exception:
    """``error`` again, its message prefixed with the node's file, line and tag.

    The type is kept (callers catch what the constructor raises); an exception
    class that cannot be rebuilt from a message becomes a :class:`TypeError` or a
    :class:`remu.errors.FileFormatError` (a :class:`ValueError`).
    """
    where = node_location(node)
    text = str(error)
    what = text if text.startswith(f"{tag[1:]}: ") else f"{tag}: {text}"
    message = f"{where}: {what}" if where else what
    try:
        located = type(error)(message)
    except Exception:  # noqa: BLE001 - any constructor signature
        located = None
    if located is None or str(located) != message:
        located = (TypeError if isinstance(error, TypeError) else FileFormatError)(message)
    return located


class RemuYAMLObject(yaml.YAMLObject):
    """Base of all tagged remu objects: kwargs-based loading, structural dumping."""

    yaml_loader = LOADERS
    yaml_dumper = yaml.Dumper

    @classmethod
    def from_yaml(cls, loader: Any, node: Any) -> Any:
        """Build the object from a tagged YAML mapping of constructor arguments.

        Raises
        ------
        TypeError, ValueError
            What the constructor raises for a bad field, the message prefixed with
            the file, line and tag.
        remu.errors.FileFormatError
            For a document that aliases expand beyond reason.
        """
        check_alias_expansion(loader, node)
        if isinstance(node, yaml.ScalarNode) and not loader.construct_scalar(node):
            mapping: dict[str, Any] = {}
        else:
            mapping = loader.construct_mapping(node, deep=True)
        try:
            return cls(**mapping)
        except (TypeError, ValueError) as error:
            raise located_error(error, node, cls.yaml_tag) from error

    @classmethod
    def to_yaml(cls, dumper: Any, data: Any) -> Any:
        """Write the object as a tagged mapping of its structural arguments.

        Builds the nodes of plain values (strings, numbers, lists of them) directly,
        exactly as PyYAML's representers would, and leaves everything else to the
        dumper: a binning of many bins is mostly such values.
        """
        return _mapping_node(dumper, cls.yaml_tag, data._yaml_args())


class DummyBins(list):  # type: ignore[type-arg]
    """Bins to be written as their structure-only clones (``clone(dummy=True)``).

    The dumper writes the clones of classes that opt in
    (``_yaml_dummy_without_clone``) without making them, and makes the others.
    """


_STR = "tag:yaml.org,2002:str"
_FLOAT = "tag:yaml.org,2002:float"
_SEQ = "tag:yaml.org,2002:seq"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"


def _float_text(value: float) -> str:
    """PyYAML's text for a float (``represent_float``)."""
    if math.isnan(value):
        return ".nan"
    if value == float("inf"):
        return ".inf"
    if value == -float("inf"):
        return "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _node(dumper: Any, value: Any) -> Any:
    """Build the node PyYAML's ``represent_data`` would build, fast for plain values."""
    kind = type(value)
    if kind is str:
        return yaml.ScalarNode(_STR, value)
    if kind is float:
        return yaml.ScalarNode(_FLOAT, _float_text(value))
    if kind is bool:
        return yaml.ScalarNode(_BOOL, "true" if value else "false")
    if kind is int:
        return yaml.ScalarNode(_INT, str(value))
    if value is None:
        return yaml.ScalarNode(_NULL, "null")
    if kind is list and dumper.default_flow_style is not None:
        known = dumper.represented_objects.get(id(value))
        if known is not None:
            return known  # the serializer writes an anchor and aliases
        dumper.object_keeper.append(value)
        return _filled_sequence(dumper, _SEQ, value, id(value))
    if kind is DummyBins:
        return _dummy_bins_node(dumper, value)
    return dumper.represent_data(value)


def _cloned(value: Any) -> Any:
    """``value``, with :class:`DummyBins` replaced by the clones they stand for."""
    if type(value) is DummyBins:
        return [item.clone(dummy=True) for item in value]
    return value


def _dummy_bins_node(dumper: Any, bins: DummyBins) -> Any:
    """Build the sequence of the bins' dummy clones, without cloning where possible."""
    if dumper.default_flow_style is None:
        return dumper.represent_data(_cloned(bins))
    items = []
    for item in bins:
        kind = type(item)
        if getattr(kind, "_yaml_dummy_without_clone", False):
            # The class declares that its dummy clone is written as its tag over its
            # structural arguments (remu._binning.structure.Structured): write that
            # directly. A fresh clone is never repeated, so it gets no anchor.
            args = item._structure_args()
            args["dummy"] = True
            dumper.alias_key = None
            items.append(_mapping_node(dumper, kind.yaml_tag, args))
        else:
            items.append(dumper.represent_data(item.clone(dummy=True)))
    return yaml.SequenceNode(_SEQ, items, flow_style=dumper.default_flow_style)


def sequence_node(dumper: Any, tag: str, sequence: list[Any]) -> Any:
    """``represent_sequence(tag, sequence)`` with the items built by :func:`_node`."""
    if dumper.default_flow_style is None:
        return dumper.represent_sequence(tag, sequence)
    return _filled_sequence(dumper, tag, sequence, dumper.alias_key)


def _filled_sequence(dumper: Any, tag: str, items: list[Any], alias_key: Any) -> Any:
    """Build a sequence node of the items' nodes.

    The node is registered under ``alias_key`` first (as PyYAML does), so that the
    object can refer to itself.
    """
    node = yaml.SequenceNode(tag, [], flow_style=dumper.default_flow_style)
    if alias_key is not None:
        dumper.represented_objects[alias_key] = node
    node.value.extend(_node(dumper, item) for item in items)
    return node


def _mapping_node(dumper: Any, tag: str, mapping: dict[str, Any]) -> Any:
    """``represent_mapping(tag, mapping)`` with the values built by :func:`_node`."""
    if dumper.default_flow_style is None:
        # PyYAML chooses the style from the nodes built: leave it all to PyYAML.
        plain = {key: _cloned(value) for key, value in mapping.items()}
        return dumper.represent_mapping(tag, plain)
    node = yaml.MappingNode(tag, [], flow_style=dumper.default_flow_style)
    if dumper.alias_key is not None:
        dumper.represented_objects[dumper.alias_key] = node
    items = list(mapping.items())
    if dumper.sort_keys:
        items.sort(key=lambda item: item[0])
    node.value.extend((_node(dumper, key), _node(dumper, value)) for key, value in items)
    return node
