"""The ``.npz`` layout of exported response matrices: writing and validated reading.

Keys (see ``shared/spec/migration.md``):

==================  =======  ==============================  ===========================
key                 dtype    shape                           meaning
==================  =======  ==============================  ===========================
``matrices``        float64  ``(n_toys, N_reco, n_cols)``    response probabilities
``truth_entries``   int64    ``(N_truth,)``                  truth entries of all bins
``sparse_indices``  int64    ``(n_cols,)``                   truth bin of each column
``is_sparse``       bool     ``()``                          columns are ``sparse_indices``
``weights``         float64  ``(n_toys,)``                   weight of each toy (builder)
==================  =======  ==============================  ===========================
"""

from __future__ import annotations

import os
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from remu._io import atomic_savez
from remu._npz import describe_source, read_npz_arrays, require_array
from remu.errors import FileFormatError

__all__ = ["load_response_npz", "write_response_npz"]

#: Tolerance for probabilities slightly outside [0, 1] through rounding.
_PROB_TOLERANCE = 1e-9


def write_response_npz(
    filename: str | os.PathLike[str] | IO[bytes],
    *,
    matrices: NDArray[np.float64],
    truth_entries: NDArray[np.integer],
    sparse_indices: NDArray[np.integer] | None = None,
    weights: NDArray[np.float64] | None = None,
    compress: bool = False,
) -> None:
    """Write response matrices in the reference ``.npz`` layout.

    Parameters
    ----------
    filename : path-like or binary file object
        A path is written atomically (``.npz`` is appended when missing, as
        :func:`numpy.savez` does); a file object is written directly.
    matrices : ndarray, shape (n_toys, N_reco, n_cols)
    truth_entries : ndarray, shape (N_truth,)
    sparse_indices : ndarray, optional
        When given, ``sparse_indices`` and ``is_sparse=True`` are stored.
    weights : ndarray, optional
        Per-toy weights (only the builder writes them).
    compress : bool
        Use :func:`numpy.savez_compressed`.
    """
    arrays: dict[str, Any] = {
        "matrices": np.asarray(matrices, dtype=np.float64),
    }
    if weights is not None:
        arrays["weights"] = np.asarray(weights, dtype=np.float64)
    arrays["truth_entries"] = np.asarray(truth_entries, dtype=np.int64)
    if sparse_indices is not None:
        arrays["sparse_indices"] = np.asarray(sparse_indices, dtype=np.int64)
        arrays["is_sparse"] = np.array(True)
    if hasattr(filename, "write"):
        save = np.savez_compressed if compress else np.savez
        save(filename, **arrays)
    else:
        atomic_savez(filename, compress=compress, **arrays)


def _fail(source: str, message: str) -> FileFormatError:
    return FileFormatError(f"{source}: {message}")


def load_response_npz(
    filename: str | os.PathLike[str] | IO[bytes], *, check_values: bool = True
) -> dict[str, Any]:
    """Read and validate an exported response-matrix file.

    Parameters
    ----------
    filename : path-like or binary file object
    check_values : bool
        Also check that the matrices hold probabilities (finite, in [0, 1],
        columns summing to at most 1) and that truth entries are non-negative.

    Returns
    -------
    dict
        ``matrices`` (float64, 3-D), ``truth_entries`` (int64), ``weights``
        (float64, one per toy; ones when the file has none), ``is_sparse``
        (bool) and ``sparse_indices`` (int64; ``arange(N_truth)`` when not sparse).

    Raises
    ------
    remu.errors.FileFormatError
        Naming the file and the key that is missing, mis-shaped or invalid.

    Examples
    --------
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> write_response_npz(buf, matrices=np.full((1, 2, 3), 0.25),
    ...                    truth_entries=np.array([1, 0, 2, 5]),
    ...                    sparse_indices=np.array([0, 2, 3]))
    >>> _ = buf.seek(0)
    >>> d = load_response_npz(buf)
    >>> d["matrices"].shape, d["sparse_indices"], d["weights"]
    ((1, 2, 3), array([0, 2, 3]), array([1.]))
    """
    source = describe_source(filename)
    data = read_npz_arrays(filename)
    for key in ("matrices", "truth_entries"):
        require_array(data, key, filename)

    matrices = data["matrices"]
    if matrices.ndim != 3 or not np.issubdtype(matrices.dtype, np.floating):
        msg = (
            "key 'matrices' must be a float array of shape (n_toys, N_reco, n_cols); "
            f"got dtype {matrices.dtype} and shape {matrices.shape}"
        )
        raise _fail(source, msg)
    truth_entries = data["truth_entries"]
    if truth_entries.ndim != 1 or not np.issubdtype(truth_entries.dtype, np.integer):
        msg = (
            "key 'truth_entries' must be a 1-D integer array; "
            f"got dtype {truth_entries.dtype} and shape {truth_entries.shape}"
        )
        raise _fail(source, msg)
    n_toys, _, n_cols = matrices.shape
    n_truth = truth_entries.shape[0]

    is_sparse = bool(data.get("is_sparse", False))
    if "is_sparse" in data and data["is_sparse"].shape != ():
        msg = f"key 'is_sparse' must be a 0-d bool; got shape {data['is_sparse'].shape}"
        raise _fail(source, msg)
    if is_sparse:
        if "sparse_indices" not in data:
            msg = "missing key 'sparse_indices' (required because 'is_sparse' is True)"
            raise _fail(source, msg)
        sparse = data["sparse_indices"]
        if (
            sparse.shape != (n_cols,)
            or not np.issubdtype(sparse.dtype, np.integer)
            or (n_cols and (sparse.min() < 0 or sparse.max() >= n_truth))
            or np.any(np.diff(sparse) <= 0)
        ):
            msg = (
                f"key 'sparse_indices' must hold {n_cols} increasing truth indices "
                f"in [0, {n_truth}); got dtype {sparse.dtype}, shape {sparse.shape}"
            )
            raise _fail(source, msg)
    else:
        if n_cols != n_truth:
            msg = (
                f"key 'matrices' has {n_cols} columns but 'truth_entries' has "
                f"{n_truth} bins (the file is not sparse)"
            )
            raise _fail(source, msg)
        sparse = np.arange(n_truth)

    if "weights" in data:
        weights = np.asarray(data["weights"], dtype=np.float64)
        try:
            weights = np.broadcast_to(weights, (n_toys,)).copy()
        except ValueError as err:
            msg = f"key 'weights' must have shape ({n_toys},); got {weights.shape}"
            raise _fail(source, msg) from err
    else:
        weights = np.ones(n_toys)

    if check_values:
        if not np.all(np.isfinite(matrices)):
            raise _fail(source, "key 'matrices' contains NaN or infinite values")
        low, high = -_PROB_TOLERANCE, 1.0 + _PROB_TOLERANCE
        if matrices.size and (matrices.min() < low or matrices.max() > high):
            msg = (
                "key 'matrices' must hold probabilities in [0, 1]; "
                f"found values in [{matrices.min()}, {matrices.max()}]"
            )
            raise _fail(source, msg)
        if matrices.size and matrices.sum(axis=1).max() > high:
            msg = "key 'matrices' has columns whose probabilities sum to more than 1"
            raise _fail(source, msg)
        if np.any(truth_entries < 0):
            raise _fail(source, "key 'truth_entries' contains negative entries")

    return {
        "matrices": matrices.astype(np.float64, copy=False),
        "truth_entries": truth_entries.astype(np.int64, copy=False),
        "weights": weights,
        "is_sparse": is_sparse,
        "sparse_indices": sparse.astype(np.int64, copy=False),
    }
