"""The predictor protocol and the generic composites.

A predictor maps parameter vectors of shape ``(..., n_parameters)`` to a pair
``(prediction, weights)`` with shapes ``(..., n_systematics, n_outputs)`` and
``(..., n_systematics)``. Leading axes are batch axes; the systematics axis holds
alternative predictions (detector variations, toy response matrices) with their
unnormalised weights.

The composites combine the systematics axes of their parts by array operations:
``"cartesian"`` forms every combination (first predictor slowest, C order) with
broadcasting and one reshape, ``"same"`` pairs systematic ``s`` of every part.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._likelihood.optin import reset_stale_hooks
from remu.errors import FixValuesLengthError, InputError

__all__ = [
    "ComposedPredictor",
    "ConcatenatedPredictor",
    "FixedParameterPredictor",
    "Predictor",
    "SummedPredictor",
]

_SLICE = slice(None)
_STRATEGIES = ("cartesian", "same")

Prediction = tuple[NDArray[np.float64], NDArray[np.float64]]
#: ``(A, c)``: the prediction of systematic ``s`` is ``A[s] @ x + c[s]``
LinearForm = tuple[NDArray[np.float64], NDArray[np.float64]]
# The methods whose results a ``_linear_form`` describes (see remu._likelihood.optin).
_LINEAR_FORM_BEHAVIOUR = ("prediction", "_columns", "insert_fixed_parameters")


def _parameters(parameters: ArrayLike, expected: int, owner: object) -> NDArray[Any]:
    """Return ``parameters`` as an array whose last axis has length ``expected``."""
    params = np.asarray(parameters)
    if params.ndim == 0 or params.shape[-1] != expected:
        got = "a scalar" if params.ndim == 0 else f"{params.shape[-1]} (shape {params.shape})"
        msg = (
            f"{type(owner).__name__} expects parameter vectors of length {expected} "
            f"(last axis); got {got}"
        )
        raise InputError(msg)
    return params


def _check_strategy(strategy: object) -> None:
    if strategy not in _STRATEGIES:
        valid = ", ".join(repr(s) for s in _STRATEGIES)
        msg = (
            f"{strategy} is not a valid systematics combination strategy. "
            f"Valid strategies: {valid}."
        )
        raise ValueError(msg)


def _is_integer_index(index: object) -> bool:
    return isinstance(index, numbers.Integral)


def _common_systematics(counts: Sequence[int], owner: object) -> int:
    """Count the systematics of a ``"same"`` combination; parts with one systematic broadcast."""
    distinct = {c for c in counts if c != 1}
    if len(distinct) > 1:
        msg = (
            f'{type(owner).__name__} with combine_systematics="same" needs the same number '
            f"of systematics in every part (or 1); got {list(counts)}"
        )
        raise InputError(msg)
    return distinct.pop() if distinct else 1


def _cartesian_shape(k: int, n_parts: int, count: int) -> tuple[int, ...]:
    """Axes layout that places part ``k``'s systematics on axis ``k`` of ``n_parts``."""
    return (1,) * k + (count,) + (1,) * (n_parts - 1 - k)


def _spread(prediction: NDArray[Any], k: int, n_parts: int) -> NDArray[Any]:
    """View ``(..., S_k, n)`` as ``(..., 1, .., S_k, .., 1, n)`` for a cartesian combination."""
    shape = prediction.shape
    return prediction.reshape((*shape[:-2], *_cartesian_shape(k, n_parts, shape[-2]), shape[-1]))


def _n_parameters(predictor: Predictor) -> int:
    return len(predictor.defaults)


def _joint_parameters(predictors: Sequence[Predictor]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Bounds and defaults of the parts' parameter vectors laid end to end, in list order."""
    bounds = np.concatenate([p.bounds for p in predictors], axis=0)
    defaults = np.concatenate([p.defaults for p in predictors], axis=0)
    return bounds, defaults


class Predictor:
    """Abstract map from parameters to predictions with systematic variations.

    Parameters
    ----------
    bounds : array_like, shape (n_parameters, 2)
        Inclusive ``(lower, upper)`` bound of each parameter; may be infinite.
    defaults : array_like, shape (n_parameters,)
        Starting point of fits. Its length is the number of parameters.

    Notes
    -----
    Subclasses implement :meth:`prediction`. Every prediction is a pair
    ``(prediction, weights)`` of shapes ``(..., n_systematics, n_outputs)`` and
    ``(..., n_systematics)``; an integer ``systematics_index`` removes the
    systematics axis.

    Examples
    --------
    >>> import numpy as np
    >>> class Square(Predictor):
    ...     def prediction(self, parameters, systematics_index=slice(None)):
    ...         p = np.asarray(parameters, dtype=float)[..., np.newaxis, :] ** 2
    ...         w = np.ones(p.shape[:-1])
    ...         return p[..., systematics_index, :], w[..., systematics_index]
    >>> sq = Square(bounds=[(0, 10)], defaults=[1.0])
    >>> sq([3.0])
    (array([[9.]]), array([1.]))
    >>> sq.check_bounds([[3.0], [11.0]])
    array([ True, False])
    """

    def __init__(self, bounds: ArrayLike, defaults: ArrayLike) -> None:
        self.bounds = np.asarray(bounds)
        self.defaults = np.asarray(defaults)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass that changes the predictions without declaring its own linear
        # form loses the inherited one (remu._likelihood.optin).
        super().__init_subclass__(**kwargs)
        reset_stale_hooks(cls, "_linear_form", _LINEAR_FORM_BEHAVIOUR, Predictor._linear_form)
        # The engine keeps its fits inside ``bounds`` and knows no other limit.
        reset_stale_hooks(cls, "_engine_box_bounds", ("check_bounds",), False)

    #: Opt-in hook of the fitting engine (remu._likelihood.optin): the valid
    #: parameters are exactly the box ``bounds`` (what :meth:`check_bounds` tests).
    #: Reset on subclasses that override ``check_bounds`` with other limits.
    _engine_box_bounds: ClassVar[bool] = True

    def _linear_form(self) -> LinearForm | None:
        """Return the prediction as ``A[s] @ x + c[s]``, for the fitting engine; ``None`` here.

        Linear predictors return ``(A, c)`` with shapes ``(S | 1, n_outputs,
        n_parameters)`` and ``(S | 1, n_outputs)``; fits then use exact derivatives.
        ``None`` (the default) means the engine evaluates :meth:`prediction` and
        takes finite differences. A subclass that overrides :meth:`prediction` gets
        this default back unless it defines ``_linear_form`` itself.
        """
        return None

    def check_bounds(self, parameters: ArrayLike) -> np.bool_ | NDArray[np.bool_]:
        """Whether each parameter vector lies inside the (inclusive) bounds.

        Parameters
        ----------
        parameters : array_like, shape (..., n_parameters)

        Returns
        -------
        ``numpy.bool_`` or ndarray of bool, shape (...)

        Raises
        ------
        ValueError
            If the last axis does not have ``n_parameters`` entries.
        """
        bounds = np.asarray(self.bounds, dtype=float).reshape(-1, 2)
        params = _parameters(np.asarray(parameters, dtype=float), len(bounds), self)
        inside: np.bool_ | NDArray[np.bool_] = np.all(
            (params >= bounds[:, 0]) & (params <= bounds[:, 1]), axis=-1
        )
        return inside

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Predictions and weights for ``parameters`` (implemented by subclasses).

        Parameters
        ----------
        parameters : array_like, shape (..., n_parameters)
        systematics_index : int, slice or index array
            Selects systematics; an ``int`` removes the axis.

        Returns
        -------
        prediction : ndarray, shape (..., n_systematics, n_outputs)
        weights : ndarray, shape (..., n_systematics)
        """
        msg = "This function must be implemented in a subclass!"
        raise NotImplementedError(msg)

    def fix_parameters(self, fix_values: Sequence[float | None]) -> Predictor:
        """Return a predictor with some parameters fixed.

        Parameters
        ----------
        fix_values : sequence, length n_parameters
            Value of each fixed parameter; ``None`` or ``nan`` for free parameters.

        Returns
        -------
        FixedParameterPredictor
        """
        return FixedParameterPredictor(self, fix_values)

    def compose(self, other: Predictor) -> Predictor:
        """Return the composition ``self(other(parameters))``.

        Parameters
        ----------
        other : Predictor
            Its outputs are the parameters of ``self``.

        Returns
        -------
        ComposedPredictor
        """
        return ComposedPredictor([self, other])

    def __call__(self, *args: Any, **kwargs: Any) -> Prediction:
        """Alias of :meth:`prediction`."""
        return self.prediction(*args, **kwargs)


def _paired_prediction(predictor: Predictor, parameters: NDArray[Any]) -> NDArray[Any]:
    """Apply systematic ``s`` of ``predictor`` to ``parameters[..., s, :]`` for every ``s``.

    Matrix predictors do this directly; any other predictor is evaluated on the whole
    systematics axis as a batch axis and the diagonal is taken.
    """
    paired = getattr(predictor, "_paired_prediction", None)
    if paired is not None:
        pairs: NDArray[Any] = paired(parameters)
        return pairs
    full, _ = predictor.prediction(parameters)
    full = np.asarray(full)
    n_in, n_own = full.shape[-3], full.shape[-2]
    _common_systematics([n_in, n_own], predictor)
    if n_own == 1:
        return full[..., 0, :]
    if n_in == 1:
        return full[..., 0, :, :]
    diagonal = np.arange(n_own)
    return full[..., diagonal, diagonal, :]


class ComposedPredictor(Predictor):
    """Chain of predictors: ``predictors[0](predictors[1](... predictors[-1](p)))``.

    Parameters
    ----------
    predictors : list of Predictor
        Applied last-to-first; the parameters are those of ``predictors[-1]``.
    combine_systematics : {"cartesian", "same"}
        ``"cartesian"``: every combination of systematics, flat index in C order
        with ``predictors[0]`` slowest, weights multiplied. ``"same"``: systematic
        ``s`` of every predictor together (predictors with a single systematic are
        paired with all). Checked when predicting.

    Examples
    --------
    >>> from remu._likelihood.predictors_matrix import MatrixPredictor
    >>> A = MatrixPredictor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], weights=[1, 3])
    >>> B = MatrixPredictor([[[1, 1]], [[10, 10]], [[100, 100]]], weights=[1, 2, 4])
    >>> pred, w = ComposedPredictor([B, A])([1, 1])
    >>> pred.ravel()
    array([  2.,   4.,  20.,  40., 200., 400.])
    >>> w
    array([ 1.,  3.,  2.,  6.,  4., 12.])
    """

    def __init__(self, predictors: list[Predictor], combine_systematics: str = "cartesian") -> None:
        self.predictors = predictors
        self.bounds = predictors[-1].bounds
        self.defaults = predictors[-1].defaults
        self.combine_systematics = combine_systematics

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Predictions of the chain; see :meth:`Predictor.prediction`."""
        params = _parameters(parameters, _n_parameters(self), self)
        if self.combine_systematics == "cartesian":
            return self._cartesian(params, systematics_index)
        if self.combine_systematics == "same":
            return self._same(params, systematics_index)
        _check_strategy(self.combine_systematics)
        raise AssertionError  # pragma: no cover - _check_strategy raised

    def _cartesian(self, params: NDArray[Any], systematics_index: Any) -> Prediction:
        # Each part takes the previous output as a batch of parameter vectors, so every
        # call adds its systematics axis after those of the parts applied before it:
        # after the chain, the axes run from predictors[-1]'s to predictors[0]'s. The
        # weights of a combination are the product of the parts' weights.
        batch = params.shape[:-1]
        prediction, weights = params, np.ones(batch)
        for predictor in reversed(self.predictors):
            prediction, w = predictor.prediction(prediction)
            weights = weights[..., np.newaxis] * w
        # One systematics axis, with predictors[0] varying slowest (C order).
        axes = list(range(len(batch), len(batch) + len(self.predictors)))
        n_systematics = math.prod(prediction.shape[axes[0] : axes[-1] + 1])
        prediction = np.moveaxis(prediction, axes, axes[::-1])
        weights = np.moveaxis(weights, axes, axes[::-1])
        prediction = prediction.reshape((*batch, n_systematics, prediction.shape[-1]))
        weights = weights.reshape((*batch, n_systematics))
        return prediction[..., systematics_index, :], weights[..., systematics_index]

    def _same(self, params: NDArray[Any], systematics_index: Any) -> Prediction:
        if _is_integer_index(systematics_index):
            prediction = params
            for predictor in reversed(self.predictors):
                prediction, weights = predictor.prediction(
                    prediction, systematics_index=systematics_index
                )
            # Weights of predictors[0] (the last call), as the reference returns.
            return prediction, weights
        prediction, weights = self.predictors[-1].prediction(params)
        for predictor in reversed(self.predictors[:-1]):
            prediction = _paired_prediction(predictor, prediction)
        weights = np.broadcast_to(weights, prediction.shape[:-1])
        return prediction[..., systematics_index, :], weights[..., systematics_index]


class SummedPredictor(Predictor):
    """Sum of the outputs of several predictors, ``Σ_k f_k · P_k(p_k)``.

    Parameters
    ----------
    predictors : list of Predictor
        All with the same number of outputs. The parameters are the concatenation of
        the predictors' parameters, in list order.
    scale_factors : list, optional
        One factor per predictor (default 1), broadcast against its
        ``(..., n_systematics, n_outputs)`` prediction. Checked when predicting.
    combine_systematics : {"cartesian", "same"}
        See :class:`ComposedPredictor`; ``"same"`` returns the weights of the last
        predictor.

    Examples
    --------
    >>> from remu._likelihood.predictors_matrix import MatrixPredictor
    >>> B = MatrixPredictor([[[1, 1]], [[10, 10]], [[100, 100]]], weights=[1, 2, 4])
    >>> pred, w = SummedPredictor([B, B])([1, 1, 0, 1])
    >>> pred.ravel()
    array([  3.,  12., 102.,  21.,  30., 120., 201., 210., 300.])
    >>> w
    array([ 1.,  2.,  4.,  2.,  4.,  8.,  4.,  8., 16.])
    """

    def __init__(
        self,
        predictors: list[Predictor],
        scale_factors: Sequence[ArrayLike] | None = None,
        combine_systematics: str = "cartesian",
    ) -> None:
        self.predictors = predictors
        self.bounds, self.defaults = _joint_parameters(predictors)
        self.scale_factors = scale_factors
        self.combine_systematics = combine_systematics

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Sum the predictions; see :meth:`Predictor.prediction`."""
        params = _parameters(parameters, _n_parameters(self), self)
        factors = self.scale_factors
        if factors is None:
            factors = [1.0] * len(self.predictors)
        if len(factors) != len(self.predictors):
            msg = (
                "Must provide same number of predictors and scale factors! "
                f"(got {len(self.predictors)} predictors and {len(factors)} scale factors)"
            )
            raise ValueError(msg)
        _check_strategy(self.combine_systematics)
        predictions, weights = _split_predictions(self.predictors, params, share=False)
        predictions = [np.asarray(f) * p for f, p in zip(factors, predictions, strict=True)]
        counts = [p.shape[-2] for p in predictions]
        if self.combine_systematics == "same":
            n_syst = _common_systematics(counts, self)
            total = sum(predictions[1:], predictions[0])
            w = np.broadcast_to(weights[-1], (*weights[-1].shape[:-1], n_syst))
        else:
            n_parts = len(predictions)
            total = sum(
                (_spread(p, k, n_parts) for k, p in enumerate(predictions)),
                start=np.zeros(()),
            )
            w = _cartesian_weights(weights)
            total = total.reshape(
                (*total.shape[: -1 - n_parts], math.prod(counts), total.shape[-1])
            )
        return total[..., systematics_index, :], w[..., systematics_index]


def _split_predictions(
    predictors: Sequence[Predictor], params: NDArray[Any], *, share: bool
) -> tuple[list[NDArray[Any]], list[NDArray[Any]]]:
    """Evaluate every predictor on its slice of ``params`` (or all of it if ``share``)."""
    predictions, weights = [], []
    start = 0
    for predictor in predictors:
        if share:
            sub = params
        else:
            n = _n_parameters(predictor)
            sub = params[..., start : start + n]
            start += n
        p, w = predictor.prediction(sub)
        predictions.append(np.asarray(p))
        weights.append(np.asarray(w))
    return predictions, weights


def _cartesian_weights(weights: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Outer product of the weights along their last axes, flattened in C order."""
    n_parts = len(weights)
    product = np.ones(())
    for k, w in enumerate(weights):
        product = product * w.reshape((*w.shape[:-1], *_cartesian_shape(k, n_parts, w.shape[-1])))
    return product.reshape((*product.shape[: product.ndim - n_parts], -1))


class ConcatenatedPredictor(Predictor):
    """Concatenation of the outputs of several predictors.

    Parameters
    ----------
    predictors : list of Predictor
    share_parameters : bool
        If true, every predictor receives the full parameter vector (bounds and
        defaults of the first predictor); otherwise the parameters are the
        concatenation of the predictors' parameters.
    combine_systematics : {"cartesian", "same"}
        See :class:`ComposedPredictor`; ``"same"`` returns the weights of the last
        predictor.

    Examples
    --------
    >>> from remu._likelihood.predictors_matrix import MatrixPredictor
    >>> A = MatrixPredictor([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], weights=[1, 3])
    >>> pred, w = ConcatenatedPredictor([A, A], share_parameters=True)([1, 2])
    >>> pred
    array([[1., 2., 1., 2.],
           [1., 2., 2., 4.],
           [2., 4., 1., 2.],
           [2., 4., 2., 4.]])
    >>> w
    array([1., 3., 3., 9.])
    """

    def __init__(
        self,
        predictors: list[Predictor],
        share_parameters: bool = False,
        combine_systematics: str = "cartesian",
    ) -> None:
        self.predictors = predictors
        self.share_parameters = share_parameters
        self.combine_systematics = combine_systematics
        if share_parameters:
            # every part gets the whole vector: the first part's parameters
            self.bounds = predictors[0].bounds
            self.defaults = predictors[0].defaults
        else:
            self.bounds, self.defaults = _joint_parameters(predictors)

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Concatenated predictions; see :meth:`Predictor.prediction`."""
        params = _parameters(parameters, _n_parameters(self), self)
        _check_strategy(self.combine_systematics)
        predictions, weights = _split_predictions(
            self.predictors, params, share=bool(self.share_parameters)
        )
        counts = [p.shape[-2] for p in predictions]
        batch = np.broadcast_shapes(*(p.shape[:-2] for p in predictions))
        if self.combine_systematics == "same":
            n_syst = _common_systematics(counts, self)
            parts = [np.broadcast_to(p, (*batch, n_syst, p.shape[-1])) for p in predictions]
            total = np.concatenate(parts, axis=-1)
            w = np.broadcast_to(weights[-1], (*weights[-1].shape[:-1], n_syst))
        else:
            n_parts = len(predictions)
            parts = [
                np.broadcast_to(
                    _spread(p, k, n_parts),
                    (*batch, *counts, p.shape[-1]),
                )
                for k, p in enumerate(predictions)
            ]
            total = np.concatenate(parts, axis=-1)
            total = total.reshape((*batch, math.prod(counts), total.shape[-1]))
            w = _cartesian_weights(weights)
        return total[..., systematics_index, :], w[..., systematics_index]


class FixedParameterPredictor(Predictor):
    """Wrap a predictor, fixing some of its parameters.

    Parameters
    ----------
    predictor : Predictor
    fix_values : sequence, length n_parameters
        Fixed values; ``None`` or ``nan`` for the parameters that stay free.

    Attributes
    ----------
    fix_values : ndarray
        ``fix_values`` as floats (``nan`` = free).
    insert_indices, insert_values : ndarray
        Where (in the reduced vector) and what :func:`numpy.insert` inserts.

    Raises
    ------
    remu.errors.FixValuesLengthError
        (an ``IndexError`` and a ``ValueError``) If ``fix_values`` does not have
        one entry per parameter.

    Examples
    --------
    >>> from remu._likelihood.predictors_matrix import MatrixPredictor
    >>> P = MatrixPredictor([[1.0, 0.0], [0.5, 1.0]])
    >>> fixed = FixedParameterPredictor(P, [None, 10])
    >>> fixed.insert_fixed_parameters([1.0])
    array([ 1., 10.])
    >>> fixed([1.0])
    (array([[ 1. , 10.5]]), array([1.]))
    """

    def __init__(self, predictor: Predictor, fix_values: Sequence[float | None]) -> None:
        self.fix_values = np.array(fix_values, dtype=float)
        n_parameters = _n_parameters(predictor)
        if self.fix_values.shape != (n_parameters,):
            msg = (
                f"fix_values must have one entry per parameter of the predictor: expected "
                f"{n_parameters}, got shape {self.fix_values.shape}"
            )
            raise FixValuesLengthError(msg)
        free = np.isnan(self.fix_values)
        fixed = np.flatnonzero(~free)
        self.insert_values = self.fix_values[fixed]
        # np.insert puts insert_values[k] before position insert_indices[k] of the reduced
        # (free-only) vector, which lacks the fixed parameters before it: each of those
        # moves the position down by one.
        self.insert_indices = fixed - np.arange(fixed.size)
        self.predictor = predictor
        self.bounds = np.asarray(predictor.bounds)[free]
        self.defaults = np.asarray(predictor.defaults)[free]

    def insert_fixed_parameters(self, parameters: ArrayLike) -> NDArray[Any]:
        """Full parameter vectors of the wrapped predictor.

        Parameters
        ----------
        parameters : array_like, shape (..., n_free)

        Returns
        -------
        ndarray, shape (..., n_parameters)
        """
        params = _parameters(parameters, _n_parameters(self), self)
        return np.insert(params, self.insert_indices, self.insert_values, axis=-1)

    def _linear_form(self) -> LinearForm | None:
        """Return the wrapped predictor's linear form with the fixed parameters folded in."""
        inner = self.predictor._linear_form()
        if inner is None:
            return None
        matrices, constants = (np.asarray(a, dtype=float) for a in inner)
        fixed = self.insert_indices + np.arange(len(self.insert_indices))
        free = np.ones(matrices.shape[-1], dtype=bool)
        free[fixed] = False
        folded = constants + matrices[..., fixed] @ self.insert_values
        return matrices[..., free], folded

    def prediction(self, parameters: ArrayLike, systematics_index: Any = _SLICE) -> Prediction:
        """Prediction of the wrapped predictor; see :meth:`Predictor.prediction`."""
        return self.predictor(self.insert_fixed_parameters(parameters), systematics_index)
