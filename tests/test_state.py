"""User-settable state: the facades' ``mapper`` attributes live in remu._state."""

from __future__ import annotations

import numpy as np
import pytest

from remu import _state, binning, likelihood


def test_defaults_are_the_builtin_map():
    assert binning.mapper is map
    assert likelihood.mapper is map
    assert _state.get_mapper("binning") is map


def test_assigning_the_facade_attribute_sets_the_private_state():
    calls = []

    def recording_map(function, items):
        items = list(items)
        calls.append(len(items))
        return map(function, items)

    try:
        binning.mapper = recording_map
        assert _state.get_mapper("binning") is recording_map
        assert binning.mapper is recording_map
        lin = binning.LinearBinning("x", [0.0, 1.0, 2.0])
        lin.fill({"x": np.array([0.5, 1.5, 1.7])})
        assert calls, "fill did not go through the mapper set on remu.binning"
        np.testing.assert_array_equal(lin.get_entries_as_ndarray(), [1, 2])
    finally:
        binning.mapper = map
    assert _state.get_mapper("binning") is map


def test_likelihood_mapper_is_separate_from_binning_mapper():
    try:
        likelihood.mapper = list
        assert _state.get_mapper("likelihood") is list
        assert binning.mapper is map
    finally:
        likelihood.mapper = map


def test_import_forms_see_the_current_value():
    try:
        likelihood.mapper = list
        from remu.likelihood import mapper

        assert mapper is list
        assert "mapper" in dir(likelihood)
    finally:
        likelihood.mapper = map


def test_a_mapper_must_be_callable():
    with pytest.raises(TypeError, match=r"binning\.mapper must be a map-like callable"):
        binning.mapper = 3
    assert binning.mapper is map
