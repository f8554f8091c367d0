"""How scenario inputs and outputs cross the process boundary (``.npz`` + JSON).

Plain NumPy and standard library only: this module is imported both by our test
process and by the oracle driver running in ``.venv-oracle`` (numpy<2).

A *payload* is any nesting of dicts (string keys), lists, tuples, strings, numbers,
booleans, ``None``, NumPy scalars and NumPy arrays (numeric or structured, no object
dtype). Arrays are stored in the ``.npz`` under generated names; everything else goes
into one JSON document stored in the same file. Tuples come back as lists and NumPy
scalars as Python numbers, in both processes alike, so our in-process result is
passed through the same encoding before it is compared.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

#: "ours" in our test process; the oracle driver sets "oracle". Scenarios read it
#: only where remu 0.8.0 cannot take the same input (documented at each use).
SIDE = "ours"

_ARRAY = "__array__"
_JSON = "__json__"


def _encode(obj, arrays):
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            msg = f"object arrays cannot cross the process boundary (dtype {obj.dtype})"
            raise TypeError(msg)
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {_ARRAY: key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                msg = f"payload dict keys must be str; got {k!r}"
                raise TypeError(msg)
            out[k] = _encode(v, arrays)
        return out
    if isinstance(obj, (list, tuple)):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    msg = f"cannot encode {type(obj).__name__} for the oracle exchange"
    raise TypeError(msg)


def _decode(obj, arrays):
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY}:
            return arrays[obj[_ARRAY]]
        return {k: _decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    return obj


def dump_payload(obj, file) -> None:
    """Write a payload to a path or binary file object as ``.npz``."""
    arrays: dict = {}
    doc = _encode(obj, arrays)
    arrays[_JSON] = np.array(json.dumps(doc))
    np.savez(file, **arrays)


def load_payload(file):
    """Read a payload written by :func:`dump_payload`."""
    with np.load(file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    doc = json.loads(str(arrays.pop(_JSON)))
    return _decode(doc, arrays)


def roundtrip(obj):
    """Encode and decode in memory: the same normalisation the oracle's output gets."""
    buf = io.BytesIO()
    dump_payload(obj, buf)
    buf.seek(0)
    return load_payload(buf)


def write_atomic(obj, path: str) -> None:
    """Write a payload so that the reader never sees a half-written file."""
    fd, tmp = tempfile.mkstemp(suffix=".npz", dir=Path(path).parent)
    with os.fdopen(fd, "wb") as f:
        dump_payload(obj, f)
    Path(tmp).replace(path)


def error_record(exc: BaseException) -> dict:
    """What a scenario that raised returns instead of its result."""
    record = {
        "__error__": type(exc).__name__,
        "message": str(exc)[:500],
        # so that a subclass (e.g. remu.errors.BinningError(ValueError)) matches its base
        "mro": [c.__name__ for c in type(exc).__mro__],
    }
    if SIDE == "ours":
        # never for the oracle: a traceback would quote the reference's source code
        import traceback

        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        record["traceback"] = tb[-2500:]
    return record


def is_error(result) -> bool:
    return isinstance(result, dict) and "__error__" in result


def run_case(func, case):
    """Run a scenario function on one case; an exception becomes an error record."""
    try:
        return func(case)
    except Exception as exc:  # noqa: BLE001  (compared like a result)
        return error_record(exc)


def run_cases(func, cases: list) -> list:
    """Run a scenario function on each case; an exception becomes an error record."""
    return [run_case(func, case) for case in cases]
