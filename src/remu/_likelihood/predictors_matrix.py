"""Linear predictors: einsum contractions, matrices, templates and linearisations.

Every systematic variation is one slice of a coefficient array, so a whole batch of
parameter points times all variations is a single contraction. ``MatrixPredictor``
flattens ``(n_systematics, n_outputs, n_columns)`` to one matrix and calls BLAS once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._likelihood.predictors_base import (
    _SLICE,
    ComposedPredictor,
    FixedParameterPredictor,
    LinearForm,
    Prediction,
    Predictor,
    _common_systematics,
    _is_integer_index,
    _parameters,
)
from remu.errors import InputError

__all__ = [
    "ComposedMatrixPredictor",
    "FixedParameterMatrixPredictor",
    "LinearEinsumPredictor",
    "LinearizedPredictor",
    "MatrixPredictor",
    "TemplatePredictor",
]


# Largest linear form (numbers in ``A``) an einsum predictor builds for the engine.
_MAX_LINEAR_FORM = 2**24


def _is_full_slice(index: object) -> bool:
    return isinstance(index, slice) and index == _SLICE


def _resolve_systematics_index(index: Any, n_systematics: int) -> tuple[Any, bool]:
    """Turn an integer index into a length-1 slice; return ``(index, drop_axis)``."""
    if not _is_integer_index(index):
        return index, False
    i = int(index)
    if not -n_systematics <= i < n_systematics:
        msg = (
            f"Systematic index is out of bounds. (index {i} for {n_systematics} "
            f"systematic variation{'s' if n_systematics != 1 else ''})"
        )
        raise IndexError(msg)
    if i < 0:
        i += n_systematics
    return slice(i, i + 1), True


class LinearEinsumPredictor(Predictor):
    """Linear predictor defined by an :func:`numpy.einsum` contraction.

    ``prediction = flatten(einsum(subscripts, coefficients, parameters)) + constants``

    Parameters
    ----------
    subscripts : str
        Subscripts with two operands: the coefficients (first axis = systematics)
        and the parameters (use ``...`` for their batch axes). The output must be
        ``(..., n_systematics, [X, Y, ...,] Z)``; everything after the systematics
        axis is flattened into the output axis.
    coefficients : array_like, shape (n_systematics, ...)
    constants : array_like, shape ([n_systematics,] n_outputs)
        Added to the prediction.
    weights : array_like, shape (n_systematics,)
        Weights of the systematics (a single weight applies to all).
    bounds, defaults : array_like, optional
        Default to ``(-inf, inf)`` and ``1.0`` per parameter.
    reshape_parameters : tuple of int, optional
        Shape each parameter vector is reshaped to before the contraction.

    Raises
    ------
    RuntimeError
        If none of `bounds`, `defaults`, `reshape_parameters` is given (the number
        of parameters is unknown).

    Examples
    --------
    >>> M = [[[1, 0], [0, 1]], [[0.9, 0], [0, 0.8]]]
    >>> p = LinearEinsumPredictor("ijk,...k->...ij", M, defaults=[1, 1])
    >>> p([1.0, 2.0])
    (array([[1. , 2. ],
           [0.9, 1.6]]), array([1., 1.]))
    >>> q = LinearEinsumPredictor("ijk,...kl->...ijl", M, constants=[0.01, 0.02, 0.03, 0.04],
    ...                           reshape_parameters=(2, 2))
    >>> q([1, 2, 3, 4])[0]
    array([[1.01, 2.02, 3.03, 4.04],
           [0.91, 1.82, 2.43, 3.24]])
    >>> q([[1, 2, 3, 4]] * 5, systematics_index=1)[0].shape
    (5, 4)
    """

    constants: NDArray[np.float64]  # at least 2-D, set in __init__

    def __init__(
        self,
        subscripts: str,
        coefficients: ArrayLike,
        constants: ArrayLike = 0.0,
        weights: ArrayLike = 1.0,
        bounds: ArrayLike | None = None,
        defaults: ArrayLike | None = None,
        reshape_parameters: tuple[int, ...] | None = None,
    ) -> None:
        self.subscripts = subscripts
        self.coefficients = np.asarray(coefficients, dtype=float)
        constants = np.asarray(constants, dtype=float)
        self.constants = constants.reshape((1,) * max(0, 2 - constants.ndim) + constants.shape)
        weights = np.asarray(weights, dtype=float)
        self.weights = weights.reshape((1,) * max(0, 1 - weights.ndim) + weights.shape)
        if self.weights.size == 0:
            msg = "weights: empty; the systematics axis needs at least one variation"
            raise InputError(msg)
        if bounds is not None:
            n_parameters = len(bounds)  # type: ignore[arg-type]
        elif defaults is not None:
            n_parameters = len(defaults)  # type: ignore[arg-type]
        elif reshape_parameters is not None:
            n_parameters = math.prod(reshape_parameters)
        else:
            msg = "At least on of `bounds`, `defaults`, or `reshape_parameters` must be provided!"
            raise RuntimeError(msg)
        if bounds is None:
            bounds = np.tile([-np.inf, np.inf], (n_parameters, 1))
        if defaults is None:
            defaults = np.ones(n_parameters)
        Predictor.__init__(self, bounds, defaults)
        self.reshape_parameters = reshape_parameters

    def _expected_parameters(self) -> int:
        if self.reshape_parameters is not None:
            return math.prod(self.reshape_parameters)
        return len(self.defaults)

    def _linear_form(self) -> LinearForm | None:
        """Return ``(A, c)`` from the contraction with every unit vector (for the fitting engine).

        ``None`` when the parameters are not the predictor's ``defaults`` or ``A``
        would exceed ``2**24`` numbers.
        """
        n = self._expected_parameters()
        if n != len(self.defaults):
            return None
        if n * np.size(self.prediction(np.zeros(n))[0]) > _MAX_LINEAR_FORM:
            return None
        basis: NDArray[np.float64] = np.eye(n)
        if self.reshape_parameters is not None:
            basis = basis.reshape((n, *self.reshape_parameters))
        with np.errstate(under="ignore"):
            out = np.einsum(self.subscripts, self.coefficients, basis)
        out = out.reshape((n, out.shape[1], -1))
        return np.moveaxis(out, 0, -1), self.constants

    def _select(self, systematics_index: Any) -> tuple[Any, bool, NDArray[Any], NDArray[Any]]:
        """Index, drop flag, constants and weights for the requested systematics."""
        index, drop = _resolve_systematics_index(systematics_index, len(self.coefficients))
        weights = self.weights[index] if len(self.weights) > 1 else self.weights
        constants = self.constants[index] if len(self.constants) > 1 else self.constants
        return index, drop, constants, weights

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Predictions and weights; see :meth:`Predictor.prediction`.

        Raises
        ------
        ValueError
            If the parameter vectors have the wrong length.
        IndexError
            If an integer `systematics_index` is out of range.
        """
        index, drop, constants, weights = self._select(systematics_index)
        coefficients = self.coefficients[index]
        params = _parameters(parameters, self._expected_parameters(), self)
        n_keep = params.ndim
        if self.reshape_parameters is not None:
            params = params.reshape(params.shape[:-1] + tuple(self.reshape_parameters))
        with np.errstate(under="ignore"):
            out = np.einsum(self.subscripts, coefficients, params)
        out = out.reshape((*out.shape[:n_keep], math.prod(out.shape[n_keep:]))) + constants
        return _finish(out, weights, drop)


def _finish(out: NDArray[Any], weights: NDArray[Any], drop: bool) -> Prediction:
    weights = np.broadcast_to(weights, out.shape[:-1])
    if drop:
        return out[..., 0, :], weights[..., 0]
    return out, weights


class MatrixPredictor(LinearEinsumPredictor):
    """Matrices times parameters plus constants.

    ``out[..., s, r] = Σ_k M[s, r, k] · p[..., idx[k]] + c[s, r]``

    Parameters
    ----------
    matrices : array_like, shape ([n_systematics,] n_outputs, n_columns)
        Promoted to 3-D (a 2-D matrix is one systematic variation).
    constants : array_like, shape ([n_systematics,] n_outputs)
    sparse_indices : index, keyword-only
        Parameters that the matrix columns belong to (default: all, in order).
        Other parameters have no effect; give `bounds`/`defaults` for all of them.
    **kwargs
        `weights`, `bounds`, `defaults` as in :class:`LinearEinsumPredictor`.

    Examples
    --------
    >>> P = MatrixPredictor([[[1.0, 0.0], [0.5, 1.0], [0.0, 1.0]]] * 2, [0.1, 0.2, 0.3],
    ...                     weights=[1.0, 0.5])
    >>> P([1, 10])
    (array([[ 1.1, 10.7, 10.3],
           [ 1.1, 10.7, 10.3]]), array([1. , 0.5]))
    >>> P([[1, 10]] * 5)[0].shape
    (5, 2, 3)
    >>> P([[1, 2]] * 5, systematics_index=1)[1].shape
    (5,)
    >>> P.fix_parameters([None, 10])([1])[0]
    array([[ 1.1, 10.7, 10.3],
           [ 1.1, 10.7, 10.3]])
    """

    matrices: NDArray[np.float64]  # M[s, r, k], at least 3-D, set in __init__

    def __init__(
        self,
        matrices: ArrayLike,
        constants: ArrayLike = 0.0,
        *,
        sparse_indices: Any = _SLICE,
        **kwargs: Any,
    ) -> None:
        matrices = np.asarray(matrices, dtype=float)
        self.matrices = matrices.reshape((1,) * max(0, 3 - matrices.ndim) + matrices.shape)
        if len(self.matrices) == 0:
            # every likelihood would be a maximum or mean over no variation
            msg = (
                f"matrices: the systematics axis (axis 0) is empty (shape {matrices.shape}); "
                "give at least one variation (a 2-D matrix is one variation)"
            )
            raise InputError(msg)
        self.sparse_indices = sparse_indices
        LinearEinsumPredictor.__init__(
            self,
            "ijk,...k->...ij",
            self.matrices,
            constants=constants,
            reshape_parameters=self.matrices.shape[-1:],
            **kwargs,
        )

    def _columns(self, parameters: ArrayLike) -> NDArray[Any]:
        """Return the parameters multiplying the matrix columns, shape ``(..., n_columns)``."""
        n_columns = self.matrices.shape[-1]
        if _is_full_slice(self.sparse_indices):
            return _parameters(parameters, n_columns, self)
        params = np.asarray(parameters)
        n_parameters = len(self.defaults)
        if params.ndim == 0 or (params.shape[-1] != n_parameters and n_parameters != n_columns):
            # bounds/defaults list every parameter: vectors must have that length.
            _parameters(params, n_parameters, self)
        try:
            columns = params[..., self.sparse_indices]
        except IndexError as error:
            msg = (
                f"{type(self).__name__}: parameter vectors of length {params.shape[-1]} do not "
                f"contain the sparse columns {self.sparse_indices!r} ({error})"
            )
            raise InputError(msg) from error
        return _parameters(columns, n_columns, self)

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Predictions and weights; see :meth:`Predictor.prediction`.

        Raises
        ------
        ValueError
            If the parameter vectors have the wrong length.
        IndexError
            If an integer `systematics_index` is out of range.
        """
        index, drop, constants, weights = self._select(systematics_index)
        columns = self._columns(parameters)
        matrices = self.coefficients[index]
        n_syst, n_out, n_columns = matrices.shape
        batch = columns.shape[:-1]
        n_points = math.prod(batch)
        flat_matrices = matrices.reshape(n_syst * n_out, n_columns)
        with np.errstate(under="ignore"):
            if n_points == 1:
                # A matrix-vector product is memory-bound: einsum's single-threaded loop
                # is as fast as BLAS and immune to thread oversubscription.
                flat = np.einsum("ok,k->o", flat_matrices, columns.reshape(n_columns))
            else:
                # One GEMM for every batch point and every systematic variation.
                flat = columns.reshape(n_points, n_columns) @ flat_matrices.T
        out = flat.reshape((*batch, n_syst, n_out)) + constants
        return _finish(out, weights, drop)

    def _linear_form(self) -> LinearForm | None:
        """Return ``(A, c)`` with the matrix columns scattered onto their parameters."""
        matrices = np.asarray(self.coefficients, dtype=float)
        n_columns = matrices.shape[-1]
        n_free = len(self.defaults)
        if _is_full_slice(self.sparse_indices):
            if n_columns != n_free:
                return None
            return matrices, np.asarray(self.constants, dtype=float)
        try:
            columns = np.arange(n_free)[self.sparse_indices]
        except IndexError:
            return None
        if columns.shape != (n_columns,):
            return None
        # Scatter the sparse columns onto their parameters (repeated indices add up).
        onehot = np.zeros((n_columns, n_free))
        np.add.at(onehot, (np.arange(n_columns), columns), 1.0)
        with np.errstate(under="ignore"):
            return matrices @ onehot, np.asarray(self.constants, dtype=float)

    def _paired_prediction(self, parameters: ArrayLike) -> NDArray[Any]:
        """Systematic ``s`` applied to ``parameters[..., s, :]`` (``"same"`` composition)."""
        columns = self._columns(parameters)
        if columns.ndim < 2:
            msg = f"{type(self).__name__}: paired prediction needs a systematics axis"
            raise InputError(msg)
        n_in, n_own = columns.shape[-2], len(self.matrices)
        _common_systematics([n_in, n_own], self)
        transposed = np.swapaxes(self.matrices, -1, -2)
        with np.errstate(under="ignore"):
            if n_own == 1:
                out = columns @ transposed[0]
            else:
                # (..., S_in, 1, K) @ (S, K, R): row s of the parameters meets matrix s
                # (a single parameter row broadcasts over all S).
                out = (columns[..., np.newaxis, :] @ transposed)[..., 0, :]
        predicted: NDArray[Any] = out + self.constants
        return predicted

    def compose(self, other: Predictor) -> Predictor:
        """``self(other(parameters))``; pre-computed if `other` is a matrix predictor.

        Parameters
        ----------
        other : Predictor

        Returns
        -------
        ComposedMatrixPredictor or ComposedPredictor
        """
        if isinstance(other, MatrixPredictor):
            return ComposedMatrixPredictor([self, other])
        return Predictor.compose(self, other)

    def fix_parameters(self, fix_values: Sequence[float | None]) -> Predictor:
        """Fix parameters by folding them into the constants.

        Parameters
        ----------
        fix_values : sequence, length n_parameters
            ``None``/``nan`` for free parameters.

        Returns
        -------
        FixedParameterMatrixPredictor
        """
        return FixedParameterMatrixPredictor(self, fix_values)


class ComposedMatrixPredictor(MatrixPredictor, ComposedPredictor):
    """A chain of predictors replaced by its linearisation, computed once.

    Forward differences at `evaluation_point` give one matrix (and constants) per
    systematic variation; later predictions are a single matrix product. Exact (up
    to rounding) for chains of linear predictors.

    Parameters
    ----------
    predictors : list of Predictor
        As in :class:`ComposedPredictor`.
    evaluation_point : array_like, optional
        Default: the defaults of ``predictors[-1]``.
    evaluation_steps : array_like, optional
        Finite-difference step per parameter. Default ``(upper - lower) / 100``
        (1 where infinite), negated where the step would exceed the upper bound.
    combine_systematics : {"cartesian", "same"}, keyword-only

    Examples
    --------
    >>> A = MatrixPredictor([[1.0, 2.0], [0.0, 1.0]])
    >>> B = MatrixPredictor([[[1.0], [1.0]], [[2.0], [0.0]]])
    >>> C = ComposedMatrixPredictor([A, B])
    >>> C.matrices.round(12)
    array([[[3.],
            [1.]],
    <BLANKLINE>
           [[2.],
            [0.]]])
    >>> C([2.0])
    (array([[6., 2.],
           [4., 0.]]), array([1., 1.]))
    """

    def __init__(
        self,
        predictors: list[Predictor],
        evaluation_point: ArrayLike | None = None,
        evaluation_steps: ArrayLike | None = None,
        **kwargs: Any,
    ) -> None:
        ComposedPredictor.__init__(self, predictors, **kwargs)
        bounds = np.asarray(self.bounds, dtype=float).reshape(-1, 2)
        point = np.array(
            self.defaults if evaluation_point is None else evaluation_point, dtype=float
        )
        n_parameters = len(bounds)
        point = _parameters(point, n_parameters, self)
        if evaluation_steps is None:
            with np.errstate(invalid="ignore", over="ignore"):
                steps = (bounds[:, 1] - bounds[:, 0]) / 100.0
            steps[~np.isfinite(steps)] = 1.0
            with np.errstate(invalid="ignore", over="ignore"):
                steps = np.where(point + steps > bounds[:, 1], -steps, steps)
        else:
            steps = np.asarray(evaluation_steps, dtype=float)
            if steps.shape != (n_parameters,):
                msg = (
                    f"evaluation_steps must have one step per parameter: expected "
                    f"{n_parameters}, got shape {steps.shape}"
                )
                raise InputError(msg)
        y0, weights = ComposedPredictor.prediction(self, point)
        y0 = np.asarray(y0, dtype=float)
        shifted = self._shifted_predictions(point, steps, y0.shape)
        columns = (shifted - y0) / steps[:, np.newaxis, np.newaxis]
        matrices = np.moveaxis(columns, 0, -1)
        constants = y0 - matrices @ point
        MatrixPredictor.__init__(
            self,
            matrices,
            constants=constants,
            weights=weights,
            bounds=self.bounds,
            defaults=self.defaults,
            sparse_indices=slice(None),
        )

    def _shifted_predictions(
        self, point: NDArray[Any], steps: NDArray[Any], shape: tuple[int, ...]
    ) -> NDArray[Any]:
        """Predictions with parameter ``i`` shifted by ``steps[i]``, shape ``(n, *shape)``."""
        points = point + np.diag(steps)
        expected = (len(point), *shape)
        try:
            shifted = np.asarray(ComposedPredictor.prediction(self, points)[0], dtype=float)
        except Exception:  # noqa: BLE001 - a predictor without batch support: retry one by one
            shifted = None
        if shifted is None or shifted.shape != expected:
            # Predictors are supposed to accept batch axes; some hand-written ones do not.
            shifted = np.array(
                [ComposedPredictor.prediction(self, row)[0] for row in points], dtype=float
            ).reshape(expected)
        return shifted


def LinearizedPredictor(
    predictor: Predictor,
    evaluation_point: ArrayLike | None = None,
    evaluation_steps: ArrayLike | None = None,
) -> ComposedMatrixPredictor:
    """Linear approximation of `predictor` around `evaluation_point`.

    Parameters
    ----------
    predictor : Predictor
    evaluation_point, evaluation_steps : array_like, optional
        See :class:`ComposedMatrixPredictor`.

    Returns
    -------
    ComposedMatrixPredictor

    Examples
    --------
    >>> import numpy as np
    >>> class Square(Predictor):
    ...     def prediction(self, parameters, systematics_index=slice(None)):
    ...         p = np.asarray(parameters, dtype=float)[..., np.newaxis, :] ** 2
    ...         return p[..., systematics_index, :], np.ones(p.shape[:-1])[..., systematics_index]
    >>> lin = LinearizedPredictor(Square([(-np.inf, np.inf)], [1.0]), evaluation_steps=[1.0])
    >>> lin([3.0])[0]
    array([[7.]])
    """
    return ComposedMatrixPredictor(
        [predictor], evaluation_point=evaluation_point, evaluation_steps=evaluation_steps
    )


class FixedParameterMatrixPredictor(MatrixPredictor, FixedParameterPredictor):
    """A matrix predictor with some parameters folded into its constants.

    Parameters
    ----------
    predictor : MatrixPredictor
    fix_values : sequence, length n_parameters
        ``None``/``nan`` for the parameters that stay free.

    Notes
    -----
    As in the reference, `fix_values` holds ``0`` (not ``nan``) for the free
    parameters after construction. Sparse predictors keep only the free columns.

    Examples
    --------
    >>> P = MatrixPredictor([[[1.0, 0.0], [0.5, 1.0], [0.0, 1.0]]] * 2, [0.1, 0.2, 0.3],
    ...                     weights=[1.0, 0.5])
    >>> F = FixedParameterMatrixPredictor(P, [1, None])
    >>> F([10])
    (array([[ 1.1, 10.7, 10.3],
           [ 1.1, 10.7, 10.3]]), array([1. , 0.5]))
    >>> F.bounds.shape
    (1, 2)
    """

    def __init__(self, predictor: MatrixPredictor, fix_values: Sequence[float | None]) -> None:
        FixedParameterPredictor.__init__(self, predictor, fix_values)
        free = np.isnan(self.fix_values)
        matrices, sparse = _free_columns(predictor, free)
        # The prediction is linear: with the free parameters at zero it is the constants
        # plus the contribution of the fixed parameters, which is the new constant term
        # (the weights do not depend on the parameters). As in ReMU, fix_values keeps
        # these zeros for the free parameters.
        self.fix_values = np.where(free, 0.0, self.fix_values)
        constants, weights = predictor(self.fix_values)
        MatrixPredictor.__init__(
            self,
            matrices,
            constants=constants,
            weights=weights,
            bounds=self.bounds,
            defaults=self.defaults,
            sparse_indices=sparse,
        )


def _free_columns(predictor: MatrixPredictor, free: NDArray[np.bool_]) -> tuple[NDArray[Any], Any]:
    """Return the matrix columns of the free parameters, and the parameters they belong to.

    A dense matrix has one column per parameter: the free ones stay. The columns of
    a sparse matrix belong to the parameters ``sparse_indices`` (any order, repeats
    allowed): the columns of free parameters stay and point at their parameter's
    position among the free ones. The result is dense (``slice(None)``) when that is
    every free parameter once, in order.
    """
    if _is_full_slice(predictor.sparse_indices):
        return predictor.matrices[..., free], slice(None)
    parameter_of_column = np.arange(len(free))[predictor.sparse_indices]
    kept = free[parameter_of_column]
    position_among_free = np.cumsum(free) - 1
    sparse = position_among_free[parameter_of_column[kept]]
    if np.array_equal(sparse, np.arange(np.count_nonzero(free))):
        return predictor.matrices[..., kept], slice(None)
    return predictor.matrices[..., kept], sparse


class TemplatePredictor(MatrixPredictor):
    """Sum of templates weighted by the parameters, plus constants.

    Parameters
    ----------
    templates : array_like, shape ([n_systematics,] n_templates, n_outputs)
        Note that a 3-D input is read as systematics × templates × outputs.
    constants : array_like, shape ([n_systematics,] n_outputs)
    **kwargs
        `bounds` (default ``(0, inf)`` per template), `defaults` (default 1),
        `weights`, `sparse_indices`.

    Examples
    --------
    >>> TemplatePredictor([[1., 2., 3.]])([2.])
    (array([[2., 4., 6.]]), array([1.]))
    >>> T = TemplatePredictor([[[1.0, 0.5, 0.0], [0.0, 1.0, 1.0]]] * 2,
    ...                       constants=[0.1, 0.2, 0.3], weights=[1.0, 0.5])
    >>> T([1, 10])[0]
    array([[ 1.1, 10.7, 10.3],
           [ 1.1, 10.7, 10.3]])
    """

    def __init__(self, templates: ArrayLike, constants: ArrayLike = 0, **kwargs: Any) -> None:
        templates = np.asarray(templates)
        if templates.ndim == 3 and templates.shape[0] == 0:
            msg = (
                f"templates: the systematics axis (axis 0) is empty (shape {templates.shape}); "
                "give at least one variation (a 2-D array is one variation)"
            )
            raise InputError(msg)
        matrices = np.array(np.swapaxes(templates, -1, -2))
        n_templates = matrices.shape[-1]
        bounds = kwargs.pop("bounds", [(0.0, np.inf)] * n_templates)
        defaults = kwargs.pop("defaults", [1.0] * n_templates)
        MatrixPredictor.__init__(
            self, matrices, constants=constants, bounds=bounds, defaults=defaults, **kwargs
        )
