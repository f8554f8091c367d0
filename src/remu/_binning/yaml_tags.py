"""YAML registration shared by every binning class.

Each public class derives from :class:`yaml.YAMLObject` with a ``yaml_tag`` of
``!ClassName``. Loading builds the tagged mapping deeply and passes it as keyword
arguments to the constructor; dumping writes the structural clone arguments
(never the data arrays). Constructors are registered on ``FullLoader`` (as the
reference does) and on ``SafeLoader``, which only ever builds these classes and
plain YAML types.
"""

from __future__ import annotations

from typing import Any

import yaml

import remu.yaml  # noqa: F401  (registers the NumPy scalar representer on yaml.Dumper)

LOADERS = [yaml.FullLoader, yaml.SafeLoader]


class RemuYAMLObject(yaml.YAMLObject):
    """Base of all tagged remu objects: kwargs-based loading, structural dumping."""

    yaml_loader = LOADERS
    yaml_dumper = yaml.Dumper

    @classmethod
    def from_yaml(cls, loader: Any, node: Any) -> Any:
        """Build the object from a tagged YAML mapping of constructor arguments."""
        if isinstance(node, yaml.ScalarNode) and not loader.construct_scalar(node):
            mapping: dict[str, Any] = {}
        else:
            mapping = loader.construct_mapping(node, deep=True)
        return cls(**mapping)

    @classmethod
    def to_yaml(cls, dumper: Any, data: Any) -> Any:
        """Write the object as a tagged mapping of its structural arguments."""
        return dumper.represent_mapping(cls.yaml_tag, data._yaml_args())


def format_repr(obj: Any) -> str:
    """``ClassName(k=repr(v), ...)`` over the object's clone arguments.

    Arrays are printed in full and floats with their shortest round-tripping
    digits, so that ``eval(repr(obj))`` rebuilds an equal object with equal data.
    """
    import sys

    import numpy as np

    with np.printoptions(threshold=sys.maxsize, floatmode="unique"):
        inner = ", ".join(f"{key}={value!r}" for key, value in obj._clone_args().items())
    return f"{type(obj).__name__}({inner})"
