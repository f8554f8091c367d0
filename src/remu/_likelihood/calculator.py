"""The likelihood calculator: data model + predictor + systematics strategy."""

from __future__ import annotations

import inspect
import numbers
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from remu._likelihood.data import DataModel, PoissonData
from remu._likelihood.optin import reset_stale_hooks
from remu._likelihood.systematics import (
    MarginalLikelihoodSystematics,
    ProfileLikelihoodSystematics,
)
from remu._rng import RNGLike, as_generator
from remu.errors import InputError

__all__ = ["LikelihoodCalculator"]

_SLICE = slice(None)

_SYSTEMATICS = {
    "marginal": MarginalLikelihoodSystematics,
    "average": MarginalLikelihoodSystematics,
    "profile": ProfileLikelihoodSystematics,
    "maximum": ProfileLikelihoodSystematics,
}


def _resolve_systematics(systematics: Any) -> Any:
    if isinstance(systematics, str):
        try:
            return _SYSTEMATICS[systematics]
        except KeyError:
            valid = ", ".join(repr(s) for s in _SYSTEMATICS)
            msg = (
                f"unknown systematics strategy {systematics!r}; valid strings are {valid}, "
                "or pass a SystematicsConsumer class or instance"
            )
            raise ValueError(msg) from None
    if not hasattr(systematics, "consume_axis"):
        msg = (
            "systematics must be 'marginal', 'average', 'profile', 'maximum' or an object "
            f"with a consume_axis method; got {systematics!r}"
        )
        raise TypeError(msg)
    return systematics


def _is_integer(index: Any) -> bool:
    return isinstance(index, numbers.Integral)


def _draw_toy_data(
    model_class: type[DataModel], expectations: NDArray[np.float64], gen: np.random.Generator
) -> NDArray[Any]:
    """Toy data for a batch of expectations, with the generator if the model takes one."""
    draw = model_class.generate_toy_data
    if "rng" in inspect.signature(draw).parameters:
        return draw(expectations, rng=gen)
    return draw(expectations)


def _toy_data_model(model_class: type[DataModel], data: Any) -> DataModel:
    if issubclass(model_class, PoissonData):
        return model_class._from_counts(data)
    return model_class(data)


class LikelihoodCalculator:
    """Log-likelihood of parameters given data, a predictor and a systematics strategy.

    Parameters
    ----------
    data_model : DataModel
        The measured data and their statistics, e.g. :class:`PoissonData`.
    predictor : Predictor
        Maps parameters to predictions ``(..., n_systematics, n_bins)`` and weights.
    systematics : str or SystematicsConsumer, optional
        ``"marginal"``/``"average"`` (default: weighted mean of the likelihoods),
        ``"profile"``/``"maximum"`` (best variation), or a consumer class/instance
        such as :class:`NoSystematics`.

    Raises
    ------
    ValueError
        For an unknown systematics string.
    TypeError
        If the data model, predictor or systematics object lacks the needed methods.
    remu.errors.InputError
        If the predictor's number of outputs differs from the number of data bins.

    Examples
    --------
    >>> from remu.likelihood import MatrixPredictor, PoissonData
    >>> detector = MatrixPredictor([[[0.8, 0.1], [0.1, 0.7], [0.0, 0.1]],
    ...                             [[0.7, 0.1], [0.2, 0.6], [0.0, 0.2]]],
    ...                            bounds=[(0, np.inf)] * 2, defaults=[10.0, 10.0])
    >>> calc = LikelihoodCalculator(PoissonData([9, 8, 1]), detector)
    >>> round(float(calc([10.0, 10.0])), 10)
    -5.1625935032
    >>> calc([[10.0, 10.0], [-1.0, 5.0]]).round(6)
    array([-5.162594,      -inf])
    """

    #: Opt-in hook of the fitting engine (see :mod:`remu._likelihood.optin`): the
    #: log-likelihood is that of the data model, predictor and systematics alone, so
    #: the engine may compute it from them. Reset on subclasses that override
    #: ``log_likelihood`` or ``__call__`` (a prior, a penalty...).
    _engine_likelihood: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        reset_stale_hooks(cls, "_engine_likelihood", ("log_likelihood", "__call__"), False)

    def __init__(self, data_model: Any, predictor: Any, systematics: Any = "marginal") -> None:
        if not callable(getattr(data_model, "log_likelihood", None)):
            msg = (
                f"data_model must be a DataModel (with a log_likelihood method); got {data_model!r}"
            )
            raise TypeError(msg)
        for attribute in ("prediction", "bounds", "defaults"):
            if not hasattr(predictor, attribute):
                msg = f"predictor must be a Predictor; {predictor!r} has no {attribute!r}"
                raise TypeError(msg)
        self.data_model = data_model
        self.predictor = predictor
        self.systematics = _resolve_systematics(systematics)
        self._check_output_length()

    @classmethod
    def _trusted(cls, data_model: Any, predictor: Any, systematics: Any) -> LikelihoodCalculator:
        """Build from parts already validated (toys, fixed or composed calculators)."""
        new = cls.__new__(cls)
        new.data_model = data_model
        new.predictor = predictor
        new.systematics = systematics
        return new

    def _check_output_length(self) -> None:
        data = getattr(self.data_model, "data_vector", None)
        if data is None or np.ndim(data) == 0:
            return
        try:
            prediction, _ = self.predictor.prediction(np.asarray(self.predictor.defaults))
        except Exception:  # noqa: BLE001
            # Only a probe: a predictor that cannot evaluate its defaults will
            # report its own error, with context, at the first real evaluation.
            return
        n_out = np.shape(prediction)[-1] if np.ndim(prediction) else None
        n_bins = np.shape(data)[-1]
        if n_out is not None and n_out != n_bins:
            msg = (
                f"the predictor gives {n_out} outputs but the data have {n_bins} bins "
                f"(data shape {np.shape(data)})"
            )
            raise InputError(msg)

    @property
    def _n_parameters(self) -> int:
        return len(self.predictor.defaults)

    def _as_parameters(self, parameters: ArrayLike) -> NDArray[np.float64]:
        par = np.asarray(parameters, dtype=float)
        n = self._n_parameters
        if par.ndim == 0 or par.shape[-1] != n:
            msg = (
                f"expected parameter vectors of length {n} (shape (..., {n})); "
                f"got an array of shape {par.shape}"
            )
            raise InputError(msg)
        return par

    def log_likelihood(self, parameters: ArrayLike, *args: Any, **kwargs: Any) -> Any:
        """Log-likelihood of the data for one or many parameter vectors.

        Parameters
        ----------
        parameters : array_like
            Shape ``([c, d, ...,] n_parameters)``.
        *args, **kwargs
            Passed on to the predictor, e.g. ``systematics_index=``. An integer
            index selects one variation (no systematics treatment is then needed).

        Returns
        -------
        numpy.float64 or ndarray
            Shape ``([a, b, ...,] [c, d, ...])`` for data of shape
            ``([a, b, ...,] n_bins)``; ``-inf`` where the parameters are out of bounds.

        Raises
        ------
        remu.errors.InputError
            If the parameter vectors have the wrong length.
        """
        par = self._as_parameters(parameters)
        prediction, weights = self.predictor.prediction(par, *args, **kwargs)
        ll = self.data_model.log_likelihood(prediction)
        # Axes of the raw log-likelihood: data sets, then the prediction's leading axes.
        n_data_axes = np.ndim(ll) - (np.ndim(prediction) - 1)
        index = kwargs.get("systematics_index", args[0] if args else _SLICE)
        if not _is_integer(index):
            ll = self.systematics.consume_axis(ll, weights)
        check = np.asarray(self.predictor.check_bounds(par))
        if check.all():
            return ll
        ll = np.asarray(ll, dtype=float)
        # Whatever the consumer left after the parameter axes (NoSystematics keeps one).
        extra = ll.ndim - n_data_axes - check.ndim
        mask = check.reshape(check.shape + (1,) * max(extra, 0))
        ll = np.where(mask, ll, -np.inf)
        return ll[()] if ll.ndim == 0 else ll

    def __call__(self, parameters: ArrayLike, *args: Any, **kwargs: Any) -> Any:
        """Return :meth:`log_likelihood` (a subclass's override of it included)."""
        return self.log_likelihood(parameters, *args, **kwargs)

    def _generate_toy_data(
        self, parameters: ArrayLike, N: int, gen: np.random.Generator, **kwargs: Any
    ) -> Any:
        """All toy data sets for one parameter vector, drawn at once: ``(N, n_bins)``."""
        par = np.asarray(parameters, dtype=float)
        if par.ndim != 1:
            msg = f"Parameters must be 1D array! Got shape {par.shape}"
            raise ValueError(msg)
        self._as_parameters(par)
        prediction, weights = self.predictor(par, **kwargs)
        prediction = np.asarray(prediction, dtype=float)
        weights = np.asarray(weights, dtype=float)
        if prediction.ndim == 1:
            prediction = prediction[np.newaxis]
            weights = weights.reshape(1)
        total = np.sum(weights)
        if not (np.isfinite(total) and total > 0 and np.all(weights >= 0)):
            msg = f"cannot draw toys: systematics weights must be >= 0 with a positive sum; got {weights}"
            raise ValueError(msg)
        if len(weights) == 1:
            chosen = np.zeros(N, dtype=np.intp)
        else:
            # Each toy picks one systematic variation with probability ∝ weight.
            chosen = gen.choice(len(weights), size=N, p=weights / total)
        return _draw_toy_data(type(self.data_model), prediction[chosen], gen)

    def generate_toy_likelihood_calculators(
        self, parameters: ArrayLike, N: int = 1, *, rng: RNGLike = None, **kwargs: Any
    ) -> list[LikelihoodCalculator]:
        """Make calculators for toy data drawn from the prediction at ``parameters``.

        Every toy first picks a systematic variation with probability proportional
        to its weight, then draws data around that prediction. All draws happen at
        once (one array of shape ``(N, n_bins)``).

        Parameters
        ----------
        parameters : array_like
            One parameter vector, shape ``(n_parameters,)`` (bounds are not checked).
        N : int, optional
            Number of toys.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness; ``None`` seeds from NumPy's global state.
        **kwargs
            Passed on to the predictor (e.g. ``systematics_index=``).

        Returns
        -------
        list of LikelihoodCalculator
            Sharing this calculator's predictor and systematics strategy.

        Raises
        ------
        ValueError
            If ``parameters`` is not 1-D, or a prediction is negative.
        """
        toys = self._generate_toy_data(parameters, N, as_generator(rng), **kwargs)
        model_class = type(self.data_model)
        return [
            LikelihoodCalculator._trusted(
                _toy_data_model(model_class, toy), self.predictor, self.systematics
            )
            for toy in toys
        ]

    def _with_data(self, data: Any) -> LikelihoodCalculator:
        """Return the same calculator for other (already valid) data, e.g. many toys at once."""
        return LikelihoodCalculator._trusted(
            _toy_data_model(type(self.data_model), data), self.predictor, self.systematics
        )

    def fix_parameters(self, fix_values: ArrayLike) -> LikelihoodCalculator:
        """Return a calculator with some parameters fixed.

        Parameters
        ----------
        fix_values : sequence
            One entry per parameter: a value to fix it to, or ``None``/``nan`` for
            a free parameter.

        Returns
        -------
        LikelihoodCalculator
            Taking only the free parameters.

        Raises
        ------
        remu.errors.InputError
            If ``fix_values`` has the wrong length or a fixed value is out of bounds.
        """
        values = np.array(fix_values, dtype=float)
        n = self._n_parameters
        if values.shape != (n,):
            msg = f"fix_values needs one entry per parameter ({n}); got shape {values.shape}"
            raise InputError(msg)
        bounds = np.asarray(self.predictor.bounds, dtype=float).reshape(n, 2)
        fixed = ~np.isnan(values)
        outside = fixed & ((values < bounds[:, 0]) | (values > bounds[:, 1]))
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            msg = (
                f"cannot fix parameter {i} to {values[i]}: outside its bounds "
                f"[{bounds[i, 0]}, {bounds[i, 1]}]"
            )
            raise InputError(msg)
        return LikelihoodCalculator._trusted(
            self.data_model, self.predictor.fix_parameters(values), self.systematics
        )

    def compose(self, predictor: Any) -> LikelihoodCalculator:
        """Return a calculator whose parameters are first passed through ``predictor``.

        Parameters
        ----------
        predictor : Predictor
            Its outputs become the parameters of this calculator's predictor.

        Returns
        -------
        LikelihoodCalculator
            With predictor ``self.predictor.compose(predictor)``.
        """
        return LikelihoodCalculator._trusted(
            self.data_model, self.predictor.compose(predictor), self.systematics
        )
