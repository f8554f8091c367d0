"""Every exception and warning class of ``remu.errors`` is raised by a public call.

One row per class: a public call that raises (or warns) it, and the built-in types
the reference raises in that case, so that ``except ValueError`` (or ``KeyError``,
``RuntimeError``...) written for ReMU 0.8.0 keeps catching it.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import remu
import remu.errors
from remu import binning, likelihood, matrix_utils, migration

# -- the public calls --------------------------------------------------------------------


def _response(truth_edges: Any = (0.0, 1.0, 2.0), *, nuisance: Any = None) -> Any:
    reco = binning.LinearBinning("r", [0.0, 1.0, 2.0])
    truth = binning.LinearBinning("t", list(truth_edges))
    return migration.ResponseMatrix(reco, truth, nuisance_indices=nuisance)


def _bad_values() -> None:
    binning.LinearBinning("x", [0, 1, 2]).set_values_from_ndarray([1.0, 2.0, 3.0])


def _index_out_of_range() -> None:
    matrix = _response()
    matrix.fill({"t": [0.5, 1.5], "r": [0.5, 1.5]})
    matrix_utils.improve_stats(matrix, data_index=2)


def _fix_values_length() -> None:
    likelihood.TemplatePredictor([[1.0, 2.0]]).fix_parameters([1.0, 2.0])


def _alias_bomb() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    lines += ["b: !LinearBinning {variable: x, bin_edges: *a7}"]
    binning.yaml.full_load("\n".join(lines))


def _missing_array() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.ones(1))
    buffer.seek(0)
    likelihood.ResponseMatrixPredictor(buffer)


def _missing_variable() -> None:
    binning.LinearBinning("y", [0, 1]).fill({"x": [0.5]})


def _missing_field() -> None:
    events = np.zeros(2, dtype=[("x", float)])
    binning.LinearBinning("y", [0, 1]).fill(events)


def _invalid_event() -> None:
    binning.LinearBinning("x", [0, 1]).fill(np.array([0.5, 0.7]))


def _illegal_response() -> None:
    matrix = _response()
    matrix.fill({"t": [0.5], "r": [0.5]}, weight=-1.0)
    _ = matrix + matrix


def _insufficient_statistics() -> None:
    first, second = _response(), _response()
    first.fill({"t": [0.5], "r": [0.5]})
    second.fill({"t": [1.5], "r": [1.5]})
    matrix_utils.compatibility(first, second)


def _bin_merge() -> None:
    reco = binning.LinearBinning("r", [0.0, 1.0, 2.0])
    truth = binning.RectangularBinning(["t"], [((0.0, 1.0),), ((1.0, 2.0),)])
    matrix = migration.ResponseMatrix(reco, truth)
    matrix.fill({"t": [0.5, 1.5, 1.6], "r": [0.5, 1.5, 1.6]})
    matrix_utils.improve_stats(matrix)


def _no_merge_neighbour() -> None:
    matrix = _response((0.0, 2.0))
    matrix.fill({"t": [0.5], "r": [0.5]})
    matrix_utils.improve_stats(matrix)


def _irregular_field() -> None:
    import awkward as ak

    events = ak.Array({"x": [[0.5, 0.7], [0.2]]})
    binning.LinearBinning("x", [0, 1]).fill(events)


def _incompatible_matrices() -> None:
    builder = migration.ResponseMatrixArrayBuilder(0)
    for nuisance in ([], [1]):
        matrix = _response(nuisance=nuisance)
        matrix.fill({"t": [0.5, 1.5], "r": [0.5, 1.5]})
        builder.add_matrix(matrix)


def _empty_builder() -> None:
    migration.ResponseMatrixArrayBuilder(1).get_random_response_matrices_as_ndarray()


def _not_a_grid() -> None:
    sub = binning.LinearBinning("y", [0, 1, 2])
    binning.LinearBinning("x", [0, 1, 2], subbinnings={0: sub}).values()


def _stack_of_vectors() -> None:
    binning.LinearBinning("x", [0, 1, 2]).set_values_from_ndarray(np.ones((3, 2)))


def _smaller_truth_sample() -> None:
    matrix = _response()
    matrix.fill({"t": [0.5, 0.6, 1.5], "r": [0.5, 0.6, 1.5]})
    matrix.fill_up_truth({"t": [0.5, 1.5, 1.6]})


#: class name -> (public call, built-ins the reference raises or warns in that case)
RAISED_BY: dict[str, tuple[Callable[[], None], tuple[type[BaseException], ...]]] = {
    "InputError": (_bad_values, (ValueError,)),
    "IndexOutOfRangeError": (_index_out_of_range, (IndexError, ValueError)),
    "FixValuesLengthError": (_fix_values_length, (IndexError,)),
    "FileFormatError": (_alias_bomb, (ValueError,)),
    "MissingArrayError": (_missing_array, (KeyError,)),
    "MissingVariableError": (_missing_variable, (KeyError,)),
    "MissingFieldError": (_missing_field, (ValueError, KeyError)),
    "InvalidEventError": (_invalid_event, (TypeError, IndexError)),
    "IllegalResponseError": (_illegal_response, (RuntimeError,)),
    "InsufficientStatisticsError": (_insufficient_statistics, (RuntimeError,)),
    "BinMergeError": (_bin_merge, (RuntimeError,)),
    "NoMergeNeighbourError": (_no_merge_neighbour, (ValueError, RuntimeError)),
    "IrregularFieldError": (_irregular_field, (ValueError,)),
    "IncompatibleMatricesError": (_incompatible_matrices, (RuntimeError,)),
    "EmptyBuilderError": (_empty_builder, (TypeError, RuntimeError)),
    "NotAGridError": (_not_a_grid, (TypeError,)),
}

#: warning class name -> the public calls that issue it, and its built-in category
WARNED_BY: dict[str, tuple[tuple[Callable[[], None], ...], type[Warning]]] = {
    "RemuWarning": ((_stack_of_vectors, _smaller_truth_sample), UserWarning),
}


def test_every_class_has_a_row():
    assert set(remu.errors.__all__) == set(RAISED_BY) | set(WARNED_BY)
    for name in remu.errors.__all__:
        cls = getattr(remu.errors, name)
        assert cls.__module__ == "remu.errors"
        assert inspect.getdoc(cls), f"remu.errors.{name} has no docstring"


@pytest.mark.parametrize("name", sorted(RAISED_BY))
def test_public_call_raises_the_class(name):
    call, builtins = RAISED_BY[name]
    cls = getattr(remu.errors, name)
    with pytest.raises(cls) as info:
        call()
    assert type(info.value) is cls, f"{call.__name__} raised {type(info.value).__name__}"
    for builtin in builtins:
        assert builtin in cls.__mro__, f"{name} is not a {builtin.__name__}"
        assert isinstance(info.value, builtin)
    assert str(info.value).strip(), "the message must say what was wrong"


@pytest.mark.parametrize("name", sorted(WARNED_BY))
def test_public_calls_warn_with_the_class(name):
    calls, category = WARNED_BY[name]
    cls = getattr(remu.errors, name)
    assert category in cls.__mro__
    for call in calls:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            call()
        issued = [w for w in record if issubclass(w.category, cls)]
        assert issued, f"{call.__name__} did not warn with {name}"
        assert all(w.category is cls for w in issued)
        assert all(w.filename == __file__ for w in issued), "stacklevel must point at the caller"


def test_the_message_names_the_culprit():
    with pytest.raises(remu.errors.IncompatibleMatricesError, match=r"this one: \[1\]"):
        _incompatible_matrices()
    with pytest.raises(remu.errors.MissingArrayError, match="'matrices'") as info:
        _missing_array()
    assert not str(info.value).startswith('"'), "str() is the message, not a quoted repr"


def _private_modules() -> list[str]:
    return sorted(module.name for module in pkgutil.walk_packages(remu.__path__, prefix="remu."))


#: exception classes that stay private, with the reason
PRIVATE_EXCEPTIONS = {
    # control flow of the command line: main() turns it into a message and exit status 2;
    # it never reaches a caller of the library
    "remu._cli.CommandError",
}


def test_no_exception_class_is_defined_outside_remu_errors():
    found = set()
    for name in _private_modules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == name
                and name != "remu.errors"
            ):
                found.add(f"{name}.{obj.__qualname__}")
    assert found == PRIVATE_EXCEPTIONS
