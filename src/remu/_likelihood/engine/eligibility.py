"""Which fits the engine takes over: read the opt-in hooks, describe the model.

The engine fits a :class:`LikelihoodCalculator` only if every part opts in
(see :mod:`remu._likelihood.optin`):

* the data model declares ``_engine_poisson`` (Poisson counts, one data set);
* the systematics consumer declares ``_engine_kind`` (``"marginal"`` or
  ``"profile"``);
* the maximizer returns settings from ``_engine_settings(n_free)``;
* the predictor evaluates batches of parameter points with weights that do not
  depend on the parameters. Its ``_linear_form()`` (if any) gives the exact linear
  map; without one the engine uses finite differences of ``prediction``.

Linear predictions that can turn negative inside the bounds are left to scipy: the
edge of the region where every prediction is positive is then a constraint that no
bound describes.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Model", "describe", "engine_settings", "linear_form"]


@dataclass(frozen=True)
class Model:
    """What the engine needs to know about a calculator.

    Attributes
    ----------
    kind : {"marginal", "profile"}
        Treatment of the systematic variations.
    predictor : Predictor
        Evaluated for the finite-difference path and the final values.
    lower, upper, defaults : ndarray
        Per free parameter, shape ``(n,)``.
    weights : ndarray
        Weights of the ``S`` systematic variations, shape ``(S,)``.
    n_bins : int
        Number of data bins ``B``.
    linear : tuple of ndarray or None
        ``(A, c)`` with shapes ``(S, B, n)`` and ``(S, B)``: the prediction is
        ``A[s] @ x + c[s]``. ``None`` for the finite-difference path.
    """

    kind: str
    predictor: Any
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    defaults: NDArray[np.float64]
    weights: NDArray[np.float64]
    n_bins: int
    linear: tuple[NDArray[np.float64], NDArray[np.float64]] | None

    @property
    def n(self) -> int:
        """Number of free parameters."""
        return len(self.defaults)

    @property
    def n_syst(self) -> int:
        """Number of systematic variations."""
        return len(self.weights)


def engine_settings(maximizer: Any, n_free: int) -> Any:
    """Return the maximizer's engine settings, or ``None`` if it does not opt in."""
    hook = getattr(maximizer, "_engine_settings", None)
    if hook is None:
        return None
    return hook(n_free)


def _systematics_kind(systematics: Any) -> str | None:
    kind = getattr(systematics, "_engine_kind", None)
    return kind if kind in ("marginal", "profile") else None


def poisson_counts(data_model: Any) -> NDArray[np.int64] | None:
    """Return the counts of an opted-in Poisson data model, or ``None``."""
    if getattr(data_model, "_engine_poisson", False) is not True:
        return None
    counts = np.asarray(data_model.data_vector)
    return counts if counts.dtype.kind in "iu" else None


def linear_form(
    predictor: Any, n_free: int, n_syst: int, n_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Return the predictor's ``(A, c)`` broadcast to ``(S, B, n)`` and ``(S, B)``, or ``None``."""
    form = _raw_linear_form(predictor)
    return None if form is None else _broadcast_form(form, n_free, n_syst, n_bins)


def _raw_linear_form(
    predictor: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Return the arrays of the predictor's ``_linear_form()`` hook as floats, or ``None``."""
    hook = getattr(predictor, "_linear_form", None)
    form = None if hook is None else hook()
    if form is None:
        return None
    matrices, constants = form
    return np.asarray(matrices, dtype=float), np.asarray(constants, dtype=float)


def _broadcast_form(
    form: tuple[NDArray[np.float64], NDArray[np.float64]], n_free: int, n_syst: int, n_bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Return ``(A, c)`` as C-contiguous arrays ``(S, B, n)`` and ``(S, B)``, or ``None``."""
    matrices, constants = form
    if matrices.ndim != 3 or matrices.shape[1:] != (n_bins, n_free):
        return None
    if matrices.shape[0] not in (1, n_syst):
        return None
    try:
        constants = np.broadcast_to(constants, (n_syst, n_bins))
    except ValueError:
        return None
    if matrices.shape[0] != n_syst:
        matrices = np.broadcast_to(matrices, (n_syst, n_bins, n_free))
    return np.ascontiguousarray(matrices), np.ascontiguousarray(constants)


def _range(array: NDArray[Any]) -> tuple[float, float]:
    return (0.0, 0.0) if array.size == 0 else (float(array.min()), float(array.max()))


def non_negative(matrices: NDArray[Any], constants: NDArray[Any], lower: NDArray[Any]) -> bool:
    """Whether ``matrices @ x + constants >= 0`` (up to rounding) for all ``x >= lower >= 0``.

    Every entry must also be finite.
    """
    (low_a, high_a), (low_c, high_c) = _range(matrices), _range(constants)
    scale = max(abs(low_a), abs(high_a), abs(low_c), abs(high_c))
    tolerance = -1e-9 * scale
    # nan compares false, so an array with a nan fails here too.
    return bool(
        low_a >= tolerance
        and low_c >= tolerance
        and scale <= np.finfo(float).max
        and _range(lower)[0] >= 0
    )


def _probe(
    predictor: Any, defaults: NDArray[Any], n_bins: int, batch: int = 2
) -> NDArray[np.float64] | None:
    """Return the weights ``(S,)`` if the predictor evaluates batches with constant weights.

    ``batch=1`` only reads the weights (for predictors with a linear form, whose
    predictions of batches are the engine's own).
    """
    try:
        prediction, weights = predictor.prediction(np.stack([defaults] * batch))
    except Exception:  # noqa: BLE001 - a predictor without batches is fitted by scipy
        return None
    prediction = np.asarray(prediction)
    if prediction.ndim != 3 or prediction.shape[0] != batch or prediction.shape[-1] != n_bins:
        return None
    try:
        weights = np.broadcast_to(np.asarray(weights, dtype=float), prediction.shape[:2])
    except ValueError:
        return None
    if batch > 1 and not np.array_equal(weights[0], weights[1]):
        # Weights that depend on the parameters are not modelled by the engine.
        return None
    return np.array(weights[0])


def _same(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Whether two float arrays hold the same numbers bit for bit (a stricter test than ==)."""
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@dataclass(frozen=True)
class _Described:
    """A linear model described before, with private copies of what it was built from."""

    kind: str
    n_bins: int
    inputs: tuple[NDArray[np.float64], ...]
    #: the model without its predictor (the cache must not keep predictors alive)
    model: Model | None

    def matches(self, kind: str, n_bins: int, inputs: tuple[NDArray[np.float64], ...]) -> bool:
        """Whether the model was built from exactly these inputs."""
        return (
            self.kind == kind
            and self.n_bins == n_bins
            and len(self.inputs) == len(inputs)
            and all(_same(a, b) for a, b in zip(self.inputs, inputs, strict=True))
        )


#: Per predictor object, the last linear model described from it. Every look-up
#: compares the inputs of the model (bounds, defaults, weights and the arrays of the
#: linear form, read afresh) with the copies kept here, so a predictor changed in place
#: is described anew: an entry can never be stale.
_DESCRIBED: weakref.WeakKeyDictionary[Any, _Described] = weakref.WeakKeyDictionary()


def _remember(predictor: Any, entry: _Described) -> None:
    # A predictor that is not weakly referenceable or not hashable is not kept.
    with contextlib.suppress(TypeError):
        _DESCRIBED[predictor] = entry


def _recall(predictor: Any) -> _Described | None:
    try:
        return _DESCRIBED.get(predictor)
    except TypeError:
        return None


def _frozen(array: NDArray[Any]) -> NDArray[np.float64]:
    """Return a private, read-only copy."""
    copy = np.array(array, dtype=float)
    copy.flags.writeable = False
    return copy


def _linear_model(
    kind: str,
    n_bins: int,
    inputs: tuple[NDArray[np.float64], ...],
) -> Model | None:
    """Make the model of private ``(defaults, lower, upper, weights, A, c)`` (without predictor).

    ``None`` if the linear form does not fit the engine.
    """
    defaults, lower, upper, weights, *form = inputs
    linear = _broadcast_form((form[0], form[1]), len(defaults), len(weights), n_bins)
    if linear is None or not non_negative(*linear, lower):
        return None
    return Model(
        kind=kind,
        predictor=None,
        lower=lower,
        upper=upper,
        defaults=defaults,
        weights=weights,
        n_bins=n_bins,
        linear=(_frozen(linear[0]), _frozen(linear[1])),
    )


def describe(calculator: Any, *, need_counts: bool = True) -> Model | None:
    """Return the engine's view of ``calculator``, or ``None`` if the engine does not apply.

    Models of linear predictors are kept per predictor object and reused while
    everything they were built from is unchanged (compared value by value).

    Parameters
    ----------
    calculator : LikelihoodCalculator
    need_counts : bool
        Whether the calculator's own data must be a single data set (single fits);
        toys bring their own counts.
    """
    if not getattr(calculator, "_engine_likelihood", False):
        return None
    data = calculator.data_model
    counts = poisson_counts(data)
    if counts is None or (need_counts and counts.ndim != 1):
        return None
    kind = _systematics_kind(calculator.systematics)
    if kind is None:
        return None
    predictor = calculator.predictor
    if not getattr(predictor, "_engine_box_bounds", False):
        return None
    defaults = np.asarray(predictor.defaults, dtype=float)
    n = len(defaults)
    n_bins = counts.shape[-1]
    bounds = np.asarray(predictor.bounds, dtype=float).reshape(n, 2)
    lower, upper = bounds[:, 0].copy(), bounds[:, 1].copy()
    form = _raw_linear_form(predictor)
    weights = _probe(predictor, defaults, n_bins, batch=1 if form is not None else 2)
    if weights is None:
        return None
    if form is not None:
        inputs = (defaults, lower, upper, weights, *form)
        entry = _recall(predictor)
        if entry is None or not entry.matches(kind, n_bins, inputs):
            copies = tuple(_frozen(a) for a in inputs)
            model = _linear_model(kind, n_bins, copies)
            _remember(predictor, _Described(kind, n_bins, copies, model))
        else:
            model = entry.model
        if model is not None:
            return Model(
                kind=model.kind,
                predictor=predictor,
                lower=model.lower,
                upper=model.upper,
                defaults=model.defaults,
                weights=model.weights,
                n_bins=model.n_bins,
                linear=model.linear,
            )
        if _broadcast_form(form, n, len(weights), n_bins) is not None:
            # A linear prediction that may turn negative: scipy fits it.
            return None
        # No usable linear form after all: the finite-difference path needs batches.
        weights = _probe(predictor, defaults, n_bins)
        if weights is None:
            return None
    return Model(
        kind=kind,
        predictor=predictor,
        lower=lower,
        upper=upper,
        defaults=defaults,
        weights=weights,
        n_bins=n_bins,
        linear=None,
    )
