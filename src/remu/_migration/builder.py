"""Collect many response matrices (detector variations) into one array file."""

from __future__ import annotations

import os
from typing import IO

import numpy as np
from numpy.typing import NDArray

from remu._formats.npz_response import write_response_npz
from remu._progress import ProgressLike
from remu._rng import RNGLike, as_generator
from remu.errors import EmptyBuilderError, IncompatibleMatricesError, InputError

from .response import ResponseMatrix

__all__ = ["ResponseMatrixArrayBuilder"]


class ResponseMatrixArrayBuilder:
    """Turn a series of response matrices into arrays of random (or raw) matrices.

    Each added :class:`ResponseMatrix` (typically one per systematic variation
    of the detector) is converted at once into ``nstat`` posterior draws (or
    the raw ratio matrix when ``nstat == 0``), so the matrix object can be
    reset and refilled for the next variation. All matrices must share their
    binnings; filled truth bins may differ only in nuisance bins.

    Parameters
    ----------
    nstat : int
        Number of random draws per added matrix; 0 stores the raw matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from remu import binning, migration
    >>> r = migration.ResponseMatrix(binning.LinearBinning("r", [0, 1, 2]),
    ...                              binning.LinearBinning("t", [0, 1, 2]))
    >>> builder = migration.ResponseMatrixArrayBuilder(3)
    >>> for shift in (0.0, 0.3):
    ...     r.reset()
    ...     r.fill([{"t": 0.5, "r": 0.5 + shift}, {"t": 1.5, "r": 1.5 - shift}])
    ...     builder.add_matrix(r, weight=1.0, rng=1)
    >>> M, w = builder.get_random_response_matrices_as_ndarray()
    >>> M.shape, w
    ((6, 2, 2), array([1., 1., 1., 1., 1., 1.]))
    """

    def __init__(self, nstat: int) -> None:
        self.nstat = nstat
        self.reset()

    def reset(self) -> None:
        """Forget all added matrices (``nstat`` is kept)."""
        self.nmatrices = 0
        self._matrices: list[NDArray[np.float64]] = []
        self._mean_matrices: list[NDArray[np.float64]] = []
        self._truth_values: list[NDArray[np.float64]] = []
        self._filled: list[NDArray[np.bool_]] = []
        self._weights: list[float] = []
        self._truth_entries: NDArray[np.int64] | None = None
        self._nuisance_indices: list[int] | None = None
        self._shape: tuple[int, int] | None = None
        self._nstat_used: int | None = None

    def add_matrix(
        self,
        response_matrix: ResponseMatrix,
        weight: float = 1.0,
        *,
        rng: RNGLike = None,
        progress: ProgressLike = False,
    ) -> None:
        """Convert a response matrix to arrays and store them.

        Parameters
        ----------
        response_matrix : ResponseMatrix
            Its own nuisance and impossible indices are used.
        weight : float
            Weight of this matrix (e.g. of its detector variation).
        rng : None, int, Generator, optional
            Randomness of the ``nstat`` draws.
        progress : bool or dict
            ``True`` shows a tqdm bar over the ``nstat`` draws (``pip install
            'remu[progress]'``); a dict passes options to tqdm. The other methods
            only stack what was drawn here and need no bar.

        Raises
        ------
        remu.errors.IncompatibleMatricesError
            (a ``RuntimeError``) If the nuisance indices differ from those of
            earlier matrices.
        remu.errors.InputError
            (a ``ValueError``) If the matrix dimensions differ from earlier
            matrices, or ``nstat`` is not a non-negative int (or changed after the
            first matrix).
        """
        nstat = self.nstat
        if isinstance(nstat, bool) or not isinstance(nstat, (int, np.integer)) or nstat < 0:
            msg = f"nstat must be a non-negative int; got {nstat!r}"
            raise InputError(msg)
        if self._nstat_used is not None and nstat != self._nstat_used:
            msg = (
                f"nstat changed from {self._nstat_used} to {nstat} after matrices were "
                "added; call reset() first"
            )
            raise InputError(msg)
        nuisance = list(response_matrix.nuisance_indices)
        if self._nuisance_indices is None:
            self._nuisance_indices = nuisance
        elif set(self._nuisance_indices) != set(nuisance):
            msg = (
                "Matrices have different nuisance indices! "
                f"(this one: {sorted(nuisance)}, earlier ones: {sorted(self._nuisance_indices)})"
            )
            raise IncompatibleMatricesError(msg)
        shape = (response_matrix.reco_binning.data_size, response_matrix.truth_binning.data_size)
        if self._shape is not None and shape != self._shape:
            msg = (
                f"response matrix has {shape[0]} reco x {shape[1]} truth bins, but the "
                f"matrices added before have {self._shape[0]} x {self._shape[1]}"
            )
            raise InputError(msg)

        filled = response_matrix.filled_truth_indices
        if nstat > 0:
            matrix = response_matrix.generate_random_response_matrices(
                nstat, truth_indices=filled, rng=as_generator(rng), progress=progress
            )
        else:
            matrix = response_matrix.get_response_matrix_as_ndarray(truth_indices=filled)[
                np.newaxis, ...
            ]
        mean = response_matrix.get_mean_response_matrix_as_ndarray(truth_indices=filled)
        tv = response_matrix.get_truth_values_as_ndarray(indices=filled)
        te = response_matrix.get_truth_entries_as_ndarray()

        # Stored at full truth width (zeros outside the filled bins) so that
        # combining matrices later is one stacking operation.
        n_reco, n_truth = shape
        full = np.zeros((matrix.shape[0], n_reco, n_truth))
        full[..., filled] = matrix
        full_mean = np.zeros((n_reco, n_truth))
        full_mean[:, filled] = mean
        full_tv = np.zeros(n_truth)
        full_tv[filled] = tv
        mask = np.zeros(n_truth, dtype=bool)
        mask[filled] = True

        self._truth_entries = (
            te if self._truth_entries is None else np.maximum(self._truth_entries, te)
        )
        self._matrices.append(full)
        self._mean_matrices.append(full_mean)
        self._truth_values.append(full_tv)
        self._filled.append(mask)
        self._weights.append(float(weight))
        self._shape = shape
        self._nstat_used = nstat
        self.nmatrices += 1

    def _require_matrices(self) -> None:
        if self.nmatrices == 0:
            msg = "no response matrices have been added to the builder yet (use add_matrix)"
            raise EmptyBuilderError(msg)

    def _union_mask(self) -> NDArray[np.bool_]:
        union: NDArray[np.bool_] = np.logical_or.reduce(np.stack(self._filled), axis=0)
        return union

    def get_filled_truth_indices(self) -> list[np.int64]:
        """Sorted union of the filled truth indices of all added matrices.

        Returns
        -------
        list of numpy integers
        """
        self._require_matrices()
        return list(np.flatnonzero(self._union_mask()).astype(np.int64))

    def get_truth_entries_as_ndarray(self) -> NDArray[np.int64] | None:
        """Element-wise maximum of the truth entries of all added matrices (None if none)."""
        return self._truth_entries

    def _columns_and_scale(self) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Union columns, after checking them, and the nuisance scale per matrix/column."""
        filled = np.stack(self._filled)  # (nmatrices, N_truth)
        union = np.logical_or.reduce(filled, axis=0)
        nuisance = np.zeros_like(union)
        nuisance[np.asarray(self._nuisance_indices, dtype=np.intp)] = True
        missing = union & ~filled
        if np.any(missing & ~nuisance):
            where = np.argwhere(missing & ~nuisance)
            matrix, column = (int(i) for i in where[0])
            msg = (
                "Truth difference in non-nuisance index! "
                f"(truth bin {column} is filled in some matrices but not in matrix {matrix}; "
                f"{len(where)} such cases)"
            )
            raise IncompatibleMatricesError(msg)
        cols = np.flatnonzero(union)
        tv = np.stack(self._truth_values)[:, cols]  # (nmatrices, n_all)
        # Nuisance efficiencies are 1 inside each matrix; relative to the
        # largest nuisance count over matrices they become N_tj / max_t N_tj.
        scale = np.ones_like(tv)
        nuis = nuisance[cols]
        if np.any(nuis):
            top = tv[:, nuis].max(axis=0)
            scale[:, nuis] = tv[:, nuis] / np.where(top == 0, 1.0, top)
        return cols, scale

    def get_random_response_matrices_as_ndarray(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """All stored draws, matrix-major, and their weights.

        Returns
        -------
        M : ndarray, shape (nmatrices * max(nstat, 1), N_reco, n_filled)
            Columns are :meth:`get_filled_truth_indices`.
        weights : ndarray, shape (nmatrices * max(nstat, 1),)

        Raises
        ------
        remu.errors.IncompatibleMatricesError
            (a ``RuntimeError``) If a non-nuisance truth bin is filled in some
            matrices only.
        remu.errors.EmptyBuilderError
            (a ``RuntimeError`` and a ``TypeError``) Before any matrix was added.
        """
        self._require_matrices()
        cols, scale = self._columns_and_scale()
        M = np.stack(self._matrices)[..., cols]  # (nmat, nstat, N_reco, n_all)
        M *= scale[:, np.newaxis, np.newaxis, :]
        nmat, nthrow = M.shape[:2]
        weights = np.repeat(np.asarray(self._weights, dtype=np.float64), nthrow)
        return M.reshape((nmat * nthrow, *M.shape[2:])), weights

    def get_mean_response_matrices_as_ndarray(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the posterior mean matrix of every added matrix, and the weights.

        Returns
        -------
        M : ndarray, shape (nmatrices, N_reco, n_filled)
        weights : ndarray, shape (nmatrices,)
        """
        self._require_matrices()
        cols, scale = self._columns_and_scale()
        M = np.stack(self._mean_matrices)[..., cols]
        M *= scale[:, np.newaxis, :]
        return M, np.array(self._weights, dtype=np.float64)

    def export(self, filename: str | os.PathLike[str] | IO[bytes], compress: bool = False) -> None:
        """Write all draws to a sparse ``.npz`` file (atomically for paths).

        Keys: ``matrices``, ``weights``, ``truth_entries``, ``sparse_indices``,
        ``is_sparse``.
        """
        M, weights = self.get_random_response_matrices_as_ndarray()
        truth_entries = self.get_truth_entries_as_ndarray()
        if truth_entries is None:  # not after get_random_response_matrices_as_ndarray
            msg = "no response matrices have been added to the builder yet (use add_matrix)"
            raise EmptyBuilderError(msg)
        write_response_npz(
            filename,
            matrices=M,
            weights=weights,
            truth_entries=truth_entries,
            sparse_indices=np.flatnonzero(truth_entries),
            compress=compress,
        )
