"""The response-matrix ``.npz`` file: the one module that writes, reads and checks it.

``ResponseMatrix.export`` and ``ResponseMatrixArrayBuilder.export`` write it;
``ResponseMatrixPredictor``, :func:`load_response_npz` and ``remu info`` read it,
all through :func:`validate_response_arrays`, so that every reader accepts and
refuses the same files.

==================  =========  ================================  ===========================
key                 dtype      shape                             meaning
==================  =========  ================================  ===========================
``matrices``        float      ``(n_variations, n_reco, n_cols)``  response probabilities
``truth_entries``   integer    ``(n_truth,)``                    simulated events per truth bin
``is_sparse``       bool       ``()``, optional                  columns are ``sparse_indices``
``sparse_indices``  integer    ``(n_cols,)``, if sparse          truth bin of each column
``weights``         float      ``(n_variations,)``, optional     weight of each variation
==================  =========  ================================  ===========================

The rules a file must follow (remu writes exactly this; so does ReMU 0.8.0):

* ``matrices`` is 3-D, one ``(n_reco, n_cols)`` matrix per detector variation (a
  single mean matrix is ``(1, n_reco, n_cols)``), with at least one variation. Its
  elements are finite probabilities in ``[0, 1]`` and every column sums to at most
  1 (the efficiency of its truth bin), up to a rounding tolerance of ``1e-9``.
* ``truth_entries`` holds non-negative integers, one per truth bin.
* Without ``is_sparse`` (or with it false) there is one column per truth bin and
  ``sparse_indices`` is ignored. With it, ``sparse_indices`` lists the truth bin of
  each column: distinct, increasing and within ``[0, n_truth)`` (the writers store
  ``np.flatnonzero(truth_entries)``). A file may have no columns at all.
* ``weights``, when present, is one finite, non-negative number per variation (or
  a single number for all), not all zero; without it every variation weighs 1.

Examples
--------
>>> import io
>>> buffer = io.BytesIO()
>>> write_response_npz(buffer, matrices=np.full((1, 2, 3), 0.25),
...                    truth_entries=np.array([1, 0, 2, 5]),
...                    sparse_indices=np.array([0, 2, 3]))
>>> _ = buffer.seek(0)
>>> response = load_response_npz(buffer)
>>> response.matrices.shape, response.sparse_indices, response.weights
((1, 2, 3), array([0, 2, 3]), None)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from remu._formats.npz_archive import describe_source, read_npz_arrays, require_array
from remu._io import atomic_savez
from remu.errors import FileFormatError, MissingArrayError

__all__ = [
    "ResponseArrays",
    "load_response_npz",
    "validate_response_arrays",
    "write_response_npz",
]

#: Tolerance for probabilities (and column sums) slightly outside [0, 1] through rounding.
PROBABILITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ResponseArrays:
    """The validated content of a response-matrix file.

    Attributes
    ----------
    matrices : ndarray of float64, shape (n_variations, n_reco, n_cols)
    truth_entries : ndarray of int64, shape (n_truth,)
    is_sparse : bool
    sparse_indices : ndarray of int64, shape (n_cols,)
        The truth bin of each column (``arange(n_truth)`` when not sparse).
    weights : ndarray of float64, shape (n_variations,), or None
        As stored (a single stored weight is repeated); ``None`` when the file has
        none, which means 1 for every variation.
    """

    matrices: NDArray[np.float64]
    truth_entries: NDArray[np.int64]
    is_sparse: bool
    sparse_indices: NDArray[np.int64]
    weights: NDArray[np.float64] | None

    @property
    def n_variations(self) -> int:
        """Number of response matrices (detector variations or statistical throws)."""
        return int(self.matrices.shape[0])

    def weights_or_ones(self) -> NDArray[np.float64]:
        """Return the weights, ones where the file has none."""
        if self.weights is None:
            return np.ones(self.n_variations)
        return self.weights


def _fail(where: str, message: str) -> FileFormatError:
    return FileFormatError(f"{where}: {message}")


def _require_kind(array: NDArray[Any], key: str, kinds: str, what: str, where: str) -> None:
    if array.dtype.kind not in kinds:
        msg = f"array {key!r} must hold {what}; got dtype {array.dtype}"
        raise _fail(where, msg)


def _first_bad(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _check_matrices(matrices: NDArray[Any], where: str) -> NDArray[np.float64]:
    _require_kind(matrices, "matrices", "f", "floating-point probabilities", where)
    if matrices.ndim != 3:
        msg = (
            "array 'matrices' must be 3-D, (n_variations, n_reco, n_cols), one matrix per "
            f"variation (a single matrix as matrices[np.newaxis]); got shape {matrices.shape}"
        )
        raise _fail(where, msg)
    if matrices.shape[0] == 0:
        msg = f"array 'matrices' holds no variation (shape {matrices.shape}); at least one needed"
        raise _fail(where, msg)
    matrices = matrices.astype(np.float64, copy=False)
    if matrices.size == 0:
        return matrices
    finite = np.isfinite(matrices)
    if not finite.all():
        where_bad = _first_bad(~finite)
        msg = (
            f"array 'matrices' holds {matrices[where_bad]} at index {where_bad} "
            f"({int((~finite).sum())} non-finite elements); response probabilities must be finite"
        )
        raise _fail(where, msg)
    low, high = -PROBABILITY_TOLERANCE, 1.0 + PROBABILITY_TOLERANCE
    outside = (matrices < low) | (matrices > high)
    if outside.any():
        where_bad = _first_bad(outside)
        msg = (
            f"array 'matrices' holds {matrices[where_bad]} at index {where_bad}; "
            "response probabilities must lie in [0, 1]"
        )
        raise _fail(where, msg)
    efficiency = matrices.sum(axis=1)
    too_high = efficiency > high
    if too_high.any():
        variation, column = _first_bad(too_high)
        msg = (
            f"column {column} of variation {variation} of array 'matrices' sums to "
            f"{efficiency[variation, column]}; the probabilities of one truth bin sum to "
            "at most 1"
        )
        raise _fail(where, msg)
    return matrices


def _check_truth_entries(truth_entries: NDArray[Any], where: str) -> NDArray[np.int64]:
    _require_kind(truth_entries, "truth_entries", "iu", "integer event counts", where)
    if truth_entries.ndim != 1:
        msg = f"array 'truth_entries' must be 1-D (n_truth,); got shape {truth_entries.shape}"
        raise _fail(where, msg)
    too_large = truth_entries.dtype.kind == "u" and truth_entries.size > 0
    if too_large and truth_entries.max() > np.iinfo(np.int64).max:
        msg = f"array 'truth_entries' holds counts beyond int64: {truth_entries.max()}"
        raise _fail(where, msg)
    truth_entries = truth_entries.astype(np.int64, copy=False)
    negative = truth_entries < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        msg = f"array 'truth_entries' holds {truth_entries[i]} at index {i}; counts are >= 0"
        raise _fail(where, msg)
    return truth_entries


def _check_is_sparse(arrays: Mapping[str, NDArray[Any]], where: str) -> bool:
    if "is_sparse" not in arrays:
        return False
    flag = arrays["is_sparse"]
    if flag.shape != () or flag.dtype.kind not in "biu" or flag.item() not in (0, 1):
        msg = (
            "array 'is_sparse' must be a single boolean (0-d); "
            f"got dtype {flag.dtype} and shape {flag.shape}"
        )
        raise _fail(where, msg)
    return bool(flag)


def _check_sparse_indices(
    arrays: Mapping[str, NDArray[Any]], n_cols: int, n_truth: int, where: str
) -> NDArray[np.int64]:
    if "sparse_indices" not in arrays:
        msg = f"{where} has no array 'sparse_indices' (required because 'is_sparse' is true)"
        raise MissingArrayError(msg)
    indices = arrays["sparse_indices"]
    _require_kind(indices, "sparse_indices", "iu", "integer truth-bin indices", where)
    if indices.shape != (n_cols,):
        msg = (
            f"array 'sparse_indices' must list the truth bin of each of the {n_cols} columns "
            f"of 'matrices'; got shape {indices.shape}"
        )
        raise _fail(where, msg)
    if n_cols == 0:
        return indices.astype(np.int64)
    if indices.min() < 0 or indices.max() >= n_truth:
        msg = (
            f"array 'sparse_indices' must hold truth bins in [0, {n_truth}); "
            f"got values in [{indices.min()}, {indices.max()}]"
        )
        raise _fail(where, msg)
    indices = indices.astype(np.int64, copy=False)
    step = np.diff(indices)
    if np.any(step <= 0):
        k = int(np.flatnonzero(step <= 0)[0])
        msg = (
            "array 'sparse_indices' must be strictly increasing (each truth bin once, in "
            f"order); got {indices[k]} then {indices[k + 1]} at positions {k}, {k + 1}"
        )
        raise _fail(where, msg)
    return indices


def _check_weights(
    arrays: Mapping[str, NDArray[Any]], n_variations: int, where: str
) -> NDArray[np.float64] | None:
    if "weights" not in arrays:
        return None
    weights = arrays["weights"]
    _require_kind(weights, "weights", "fiu", "numbers", where)
    if weights.shape not in ((), (1,), (n_variations,)):
        msg = (
            f"array 'weights' must have one entry per variation ({n_variations}); "
            f"got shape {weights.shape}"
        )
        raise _fail(where, msg)
    checked: NDArray[np.float64] = np.broadcast_to(
        weights.astype(np.float64), (n_variations,)
    ).copy()
    bad = ~np.isfinite(checked) | (checked < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"array 'weights' holds {checked[i]} at index {i}; weights must be finite and >= 0"
        raise _fail(where, msg)
    if not checked.any():
        raise _fail(where, "array 'weights' is zero everywhere; at least one must be positive")
    return checked


def validate_response_arrays(arrays: Mapping[str, NDArray[Any]], where: str) -> ResponseArrays:
    """Check the arrays of a response-matrix file against the format.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        The arrays by key (e.g. all arrays of an ``.npz`` archive).
    where : str
        The file, for messages.

    Returns
    -------
    ResponseArrays

    Raises
    ------
    remu.errors.FileFormatError
        Naming the file, the array and what is wrong with it; a missing required
        array raises a subclass that is also a :class:`KeyError`.

    Examples
    --------
    >>> arrays = {"matrices": np.full((1, 2, 2), 0.5), "truth_entries": np.array([3, 4])}
    >>> validate_response_arrays(arrays, "example").sparse_indices
    array([0, 1])
    >>> validate_response_arrays({**arrays, "matrices": np.full((2, 2), 0.5)}, "example")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    remu.errors.FileFormatError: example: array 'matrices' must be 3-D, ...
    """
    raw_matrices = np.asarray(require_array(arrays, "matrices", where))
    raw_truth_entries = np.asarray(require_array(arrays, "truth_entries", where))
    matrices = _check_matrices(raw_matrices, where)
    truth_entries = _check_truth_entries(raw_truth_entries, where)
    n_variations, _, n_cols = matrices.shape
    n_truth = truth_entries.shape[0]
    is_sparse = _check_is_sparse(arrays, where)
    if is_sparse:
        sparse_indices = _check_sparse_indices(arrays, n_cols, n_truth, where)
    elif n_cols != n_truth:
        msg = (
            f"array 'matrices' has {n_cols} columns but 'truth_entries' lists {n_truth} "
            "truth bins (and the file is not sparse: 'is_sparse' is absent or false)"
        )
        raise _fail(where, msg)
    else:
        sparse_indices = np.arange(n_truth, dtype=np.int64)
    weights = _check_weights(arrays, n_variations, where)
    return ResponseArrays(
        matrices=matrices,
        truth_entries=truth_entries,
        is_sparse=is_sparse,
        sparse_indices=sparse_indices,
        weights=weights,
    )


def load_response_npz(filename: str | os.PathLike[str] | IO[bytes]) -> ResponseArrays:
    """Read and validate a response-matrix file.

    Parameters
    ----------
    filename : path-like or binary file object

    Returns
    -------
    ResponseArrays

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    remu.errors.FileFormatError
        If it is not a readable ``.npz`` archive, or breaks a rule of the format
        (see the module documentation), naming the file and the array.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, matrices=np.full((1, 2, 2), np.nan), truth_entries=[1, 2])
    >>> _ = buffer.seek(0)
    >>> load_response_npz(buffer)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    remu.errors.FileFormatError: '<file object>': array 'matrices' holds nan at index (0, 0, 0) ...
    """
    arrays = read_npz_arrays(filename)
    return validate_response_arrays(arrays, describe_source(filename))


def write_response_npz(
    filename: str | os.PathLike[str] | IO[bytes],
    *,
    matrices: NDArray[np.float64],
    truth_entries: NDArray[np.integer[Any]],
    sparse_indices: NDArray[np.integer[Any]] | None = None,
    weights: NDArray[np.float64] | None = None,
    compress: bool = False,
) -> None:
    """Write response matrices in this format (checked first, so it always reads back).

    Parameters
    ----------
    filename : path-like or binary file object
        A path is written atomically (``.npz`` is appended when missing, as
        :func:`numpy.savez` does); a file object is written directly.
    matrices : ndarray, shape (n_variations, n_reco, n_cols)
    truth_entries : ndarray, shape (n_truth,)
    sparse_indices : ndarray, optional
        When given, ``sparse_indices`` and ``is_sparse=True`` are stored.
    weights : ndarray, optional
        Per-variation weights (only the builder writes them).
    compress : bool
        Use :func:`numpy.savez_compressed`.

    Raises
    ------
    remu.errors.FileFormatError
        If the arrays break a rule of the format (nothing is written).
    """
    arrays: dict[str, Any] = {"matrices": np.asarray(matrices, dtype=np.float64)}
    if weights is not None:
        arrays["weights"] = np.asarray(weights, dtype=np.float64)
    arrays["truth_entries"] = np.asarray(truth_entries, dtype=np.int64)
    if sparse_indices is not None:
        arrays["sparse_indices"] = np.asarray(sparse_indices, dtype=np.int64)
        arrays["is_sparse"] = np.array(True)
    validate_response_arrays(arrays, f"response matrices to write to {describe_source(filename)}")
    if hasattr(filename, "write"):
        save = np.savez_compressed if compress else np.savez
        save(filename, **arrays)
    else:
        atomic_savez(filename, compress=compress, **arrays)
