"""PyYAML, re-exported, with fast loading and dumping of binnings.

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

Whichever loader builds them, the remu tags (``!LinearBinning``, ...) check the
types of their fields (``include_upper: 'false'`` is an error, not ``True``) and
refuse documents that aliases expand beyond reason (an "alias bomb"), with a
short message naming the file and line.

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

import yaml as _pyyaml

from remu import _facade
from remu._formats.yaml_codec import dump, dump_all, full_load, full_load_all

__all__ = ["dump", "dump_all", "full_load", "full_load_all"]

#: Every other public name of PyYAML (``yaml.safe_load``, ``yaml.YAMLObject``,
#: ``yaml.Dumper``...): PyYAML's own objects, as the ``remu.yaml`` module of later
#: ReMU versions re-exports them.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {
    name: f"yaml:{name}"
    for name in dir(_pyyaml)
    if not name.startswith("_") and name not in __all__
}

_facade.install(__name__, legacy=_LEGACY_NAMES)
