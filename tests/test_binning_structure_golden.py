"""Every binning type's YAML, ``repr``, pickles and ``==`` are what remu wrote before.

The expectations in ``tests/golden/binning_structure.json`` were written by
``tests/structure_cases.py`` before the binning classes derived ``clone``, ``==``,
``repr`` and YAML from one declaration of their structure; these tests make sure that
the declaration changes nothing a user can see: YAML text byte for byte (in every
dump style), ``repr`` strings, equality including the reference's own rules (values,
and for generic binnings types, do not count; a ``LinearBinning`` ignores its
phasespace), and pickles written by the earlier code.
"""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

import numpy as np
import pytest
import yaml as pyyaml

from remu import binning as bn
from remu import yaml as ryaml
from structure_cases import DUMP_STYLES, GOLDEN, cases, equality_cases

EXPECTED = json.loads(GOLDEN.read_text(encoding="utf-8"))
CASES = sorted(cases())


def test_the_golden_file_covers_every_case():
    assert sorted(EXPECTED["reprs"]) == CASES
    assert sorted(EXPECTED["pickles"]) == CASES
    assert set(EXPECTED["dumps"]) == {*CASES, "list_with_repeats"}
    assert sorted(EXPECTED["equal"]) == sorted(equality_cases())


@pytest.mark.parametrize("name", CASES)
def test_repr_is_unchanged_and_evaluates_to_an_equal_object(name):
    obj = cases()[name]
    assert repr(obj) == EXPECTED["reprs"][name]
    namespace = {**vars(bn), "array": np.array, "inf": np.inf, "nan": np.nan}
    rebuilt = eval(repr(obj), namespace)
    assert type(rebuilt) is type(obj)
    assert rebuilt == obj
    assert repr(rebuilt) == repr(obj)


@pytest.mark.parametrize("name", [*CASES, "list_with_repeats"])
@pytest.mark.parametrize("style", [*DUMP_STYLES, "pure_python"])
def test_yaml_text_is_byte_identical(name, style):
    if name == "list_with_repeats":
        shared = cases()["linear_sub"]
        obj: Any = [shared, shared, shared.phasespace]
    else:
        obj = cases()[name]
    dump = pyyaml.dump if style == "pure_python" else ryaml.dump
    text = dump(obj, **DUMP_STYLES.get(style, {}))
    assert text == EXPECTED["dumps"][name][style]


@pytest.mark.parametrize("name", CASES)
def test_yaml_round_trip_gives_an_equal_structure(name):
    obj = cases()[name]
    loaded = ryaml.full_load(EXPECTED["dumps"][name]["default"])
    assert type(loaded) is type(obj)
    assert loaded == obj
    assert ryaml.dump(loaded) == EXPECTED["dumps"][name]["default"]


def _equal(a: Any, b: Any) -> Any:
    try:
        return bool(a == b)
    except Exception as error:  # noqa: BLE001 - the expectation records the error type
        return type(error).__name__


def test_equality_table_is_unchanged():
    objects = equality_cases()
    table = {a: {b: _equal(objects[a], objects[b]) for b in objects} for a in objects}
    differences = [
        (a, b, EXPECTED["equal"][a][b], table[a][b])
        for a in table
        for b in table[a]
        if table[a][b] != EXPECTED["equal"][a][b]
    ]
    assert not differences


def _has_data(obj: Any) -> bool:
    return isinstance(obj, (bn.Binning, bn.Bin)) and not obj.is_dummy()


@pytest.mark.parametrize("name", CASES)
def test_pickles_written_before_still_load(name):
    restored = pickle.loads(base64.b64decode(EXPECTED["pickles"][name]))
    assert repr(restored) == EXPECTED["reprs"][name]
    assert restored == cases()[name]
    if isinstance(restored, bn.Binning) and _has_data(restored) and restored.nbins:
        # the bins and subbinnings are views of the restored arrays again
        before = restored.get_values_as_ndarray()
        restored.set_values_from_ndarray(before + 1.0)
        bins = restored.bins if isinstance(restored.bins, tuple) else [restored.bins[0]]
        data_index = restored.get_bin_data_index(0)
        if 0 not in restored.subbinnings:
            assert float(bins[0].value) == before[data_index] + 1.0
        for k, sub in restored.subbinnings.items():
            start = restored.get_bin_data_index(k)
            np.testing.assert_array_equal(
                sub.get_values_as_ndarray(), before[start : start + sub.data_size] + 1.0
            )


@pytest.mark.parametrize("name", CASES)
def test_pickle_round_trip_keeps_everything(name):
    obj = cases()[name]
    restored = pickle.loads(pickle.dumps(obj))
    assert repr(restored) == repr(obj)
    assert ryaml.dump(restored) == ryaml.dump(obj)
