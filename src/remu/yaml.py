"""PyYAML, re-exported, with a representer for NumPy scalars.

Every public name of PyYAML is available here (``remu.yaml.dump``,
``remu.yaml.full_load``, ...). Importing this module registers a
multi-representer on :class:`yaml.Dumper` that writes NumPy scalars
(``np.float64``, ``np.int64``, ``np.bool_``, ...) as plain YAML numbers and
booleans, so dumped binnings load back with :func:`yaml.full_load`.

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
