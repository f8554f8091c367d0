"""``ResponseMatrixPredictor``: a matrix predictor read from an exported ``.npz`` archive.

The archive layout is the one written by ``ResponseMatrix.export`` and
``ResponseMatrixArrayBuilder.export`` in :mod:`remu.migration`: ``matrices``
``(n_systematics, n_reco, n_columns)``, ``truth_entries`` ``(n_truth,)``, optional
``weights`` ``(n_systematics,)``, and for the sparse form ``is_sparse`` plus
``sparse_indices`` (the truth bins the columns belong to).
"""

from __future__ import annotations

import os
from typing import IO, Any

import numpy as np

from remu._likelihood.predictors_matrix import MatrixPredictor
from remu._npz import describe_source, read_npz_arrays, require_array
from remu.errors import FileFormatError

__all__ = ["ResponseMatrixPredictor"]


class ResponseMatrixPredictor(MatrixPredictor):
    """Matrix predictor whose parameters are the expected true events per truth bin.

    Parameters
    ----------
    filename : str, path-like or binary file object
        An archive written by ``ResponseMatrix.export`` or
        ``ResponseMatrixArrayBuilder.export``.

    Notes
    -----
    Parameter ``i`` is bounded to ``[0, truth_entries[i] + eps]`` and defaults to
    ``truth_entries[i] / 2``. In the sparse form, parameters of truth bins without
    a matrix column have no effect.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    remu.errors.FileFormatError
        If the file is not a readable ``.npz`` archive or its arrays do not fit
        together; a missing required array raises a subclass that is also a
        :class:`KeyError`.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, matrices=np.ones((1, 2, 2)) * 0.5, truth_entries=[10, 0, 20],
    ...          sparse_indices=[0, 2], is_sparse=True)
    >>> _ = buffer.seek(0)
    >>> R = ResponseMatrixPredictor(buffer)
    >>> R.defaults
    array([ 5.,  0., 10.])
    >>> R([2.0, 100.0, 4.0])
    (array([[3., 3.]]), array([1.]))
    """

    def __init__(self, filename: str | os.PathLike[str] | IO[bytes]) -> None:
        arrays = read_npz_arrays(filename)
        matrices = np.asarray(require_array(arrays, "matrices", filename))
        truth_entries = np.asarray(require_array(arrays, "truth_entries", filename))
        weights = np.asarray(arrays.get("weights", 1.0))
        is_sparse = bool(arrays.get("is_sparse", False))
        where = describe_source(filename)
        if matrices.ndim > 3 or matrices.ndim == 0:
            msg = f"'matrices' in {where} must be (n_systematics, n_reco, n_columns); got {matrices.shape}"
            raise FileFormatError(msg)
        if truth_entries.ndim != 1:
            msg = f"'truth_entries' in {where} must be 1-D; got shape {truth_entries.shape}"
            raise FileFormatError(msg)
        n_truth, n_columns = len(truth_entries), matrices.shape[-1]
        sparse_indices: Any = slice(None)
        if is_sparse:
            sparse_indices = np.asarray(require_array(arrays, "sparse_indices", filename))
            if (
                sparse_indices.shape != (n_columns,)
                or not np.issubdtype(sparse_indices.dtype, np.integer)
                or np.any((sparse_indices < 0) | (sparse_indices >= n_truth))
            ):
                msg = (
                    f"'sparse_indices' in {where} must list one truth bin (0..{n_truth - 1}) per "
                    f"matrix column ({n_columns}); got {sparse_indices!r}"
                )
                raise FileFormatError(msg)
        elif n_columns != n_truth:
            msg = (
                f"'matrices' in {where} has {n_columns} columns but 'truth_entries' lists "
                f"{n_truth} truth bins (and the archive is not sparse)"
            )
            raise FileFormatError(msg)
        n_syst = matrices.shape[0] if matrices.ndim == 3 else 1
        if weights.ndim > 1 or (weights.ndim == 1 and len(weights) not in (1, n_syst)):
            msg = f"'weights' in {where} must have {n_syst} entries; got shape {weights.shape}"
            raise FileFormatError(msg)
        eps = np.finfo(float).eps
        bounds = np.stack([np.zeros(n_truth), truth_entries + eps], axis=-1)
        MatrixPredictor.__init__(
            self,
            matrices,
            constants=0.0,
            weights=weights,
            bounds=bounds,
            defaults=truth_entries / 2.0,
            sparse_indices=sparse_indices,
        )
