"""A YAML loader that knows nothing about remu, for checking files independently.

Each local tag (``!LinearBinning`` ...) of a mapping becomes the key ``__tag__``;
tagged sequences and scalars load as plain ones.
"""

from __future__ import annotations

import yaml


class UntaggedLoader(yaml.SafeLoader):
    """SafeLoader without remu's constructors; local tags become ``__tag__`` keys."""


def _construct_tagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        out = loader.construct_mapping(node, deep=True)
        out["__tag__"] = suffix
        return out
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


# remu may register its tags on SafeLoader too (a permitted extension): drop them here.
UntaggedLoader.yaml_constructors = {
    tag: func
    for tag, func in yaml.SafeLoader.yaml_constructors.items()
    if not (isinstance(tag, str) and tag.startswith("!"))
}
UntaggedLoader.add_multi_constructor("!", _construct_tagged)
