"""Predictors: maps from model parameters to expected reco-bin counts.

The public names are re-exported by :mod:`remu.likelihood`. Generic composites live
in :mod:`.predictors_base` and the linear family in :mod:`.predictors_matrix`;
:class:`ResponseMatrixPredictor` (here) is the matrix predictor of an exported
response-matrix file, whose format :mod:`remu._formats.npz_response` owns.
"""

from __future__ import annotations

import os
from typing import IO

import numpy as np

from remu._formats.npz_response import load_response_npz
from remu._likelihood.predictors_base import (
    _SLICE,  # noqa: F401 - the default systematics_index, re-exported for the facade
    ComposedPredictor,
    ConcatenatedPredictor,
    FixedParameterPredictor,
    Predictor,
    SummedPredictor,
)
from remu._likelihood.predictors_matrix import (
    ComposedMatrixPredictor,
    FixedParameterMatrixPredictor,
    LinearEinsumPredictor,
    LinearizedPredictor,
    MatrixPredictor,
    TemplatePredictor,
)

# In the reference's source order.
__all__ = [
    "ComposedMatrixPredictor",
    "ComposedPredictor",
    "ConcatenatedPredictor",
    "FixedParameterMatrixPredictor",
    "FixedParameterPredictor",
    "LinearEinsumPredictor",
    "LinearizedPredictor",
    "MatrixPredictor",
    "Predictor",
    "ResponseMatrixPredictor",
    "SummedPredictor",
    "TemplatePredictor",
]


class ResponseMatrixPredictor(MatrixPredictor):
    """Matrix predictor whose parameters are the expected true events per truth bin.

    Parameters
    ----------
    filename : str, path-like or binary file object
        An archive written by ``ResponseMatrix.export`` or
        ``ResponseMatrixArrayBuilder.export`` (the format is described in
        :mod:`remu._formats.npz_response`).

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
        If the file is not a readable ``.npz`` archive or breaks a rule of the
        format (e.g. NaN or values outside [0, 1] in ``matrices``), naming the file
        and the array; a missing required array raises a subclass that is also a
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
        response = load_response_npz(filename)
        truth_entries = response.truth_entries
        eps = np.finfo(float).eps
        bounds = np.stack([np.zeros(len(truth_entries)), truth_entries + eps], axis=-1)
        weights = np.asarray(1.0) if response.weights is None else response.weights
        MatrixPredictor.__init__(
            self,
            response.matrices,
            constants=0.0,
            weights=weights,
            bounds=bounds,
            defaults=truth_entries / 2.0,
            sparse_indices=response.sparse_indices if response.is_sparse else slice(None),
        )
