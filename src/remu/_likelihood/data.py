"""Data models (the statistics of the measured data) and the Jeffreys prior."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import scipy.special
from numpy.typing import ArrayLike, NDArray

from remu._likelihood.optin import reset_stale_hooks
from remu._rng import RNGLike, as_generator
from remu.errors import InputError

__all__ = ["DataModel", "JeffreysPrior", "PoissonData"]

_SUBCLASS_MSG = "Must be implemented in a subclass!"


class DataModel:
    """Abstract statistical model of a measured data vector.

    Parameters
    ----------
    data_vector : array_like
        The data, shape ``([a, b, ...,] n_bins)``; leading axes are several data sets.

    Notes
    -----
    Subclasses implement :meth:`log_likelihood` and :meth:`generate_toy_data`.
    ``_engine_poisson`` tells the fitting engine that :meth:`log_likelihood` is the
    Poisson likelihood of integer counts; a subclass that overrides it without
    declaring ``_engine_poisson`` again is fitted without the engine.

    Examples
    --------
    A model of Gaussian measurements with a known resolution:

    >>> import numpy as np
    >>> from remu.likelihood import DataModel, LikelihoodCalculator, TemplatePredictor
    >>> class GaussianData(DataModel):
    ...     sigma = 2.0
    ...
    ...     def log_likelihood(self, reco_vector):
    ...         pulls = (self.data_vector - np.asarray(reco_vector)) / self.sigma
    ...         return -0.5 * np.sum(pulls**2, axis=-1)
    ...
    ...     @classmethod
    ...     def generate_toy_data(cls, reco_vector, size=None, *, rng=None):
    ...         mu = np.asarray(reco_vector, dtype=float)
    ...         shape = mu.shape if size is None else (*np.atleast_1d(size), *mu.shape)
    ...         return np.random.default_rng(rng).normal(mu, cls.sigma, size=shape)
    >>> data = GaussianData([10.0, 12.0])
    >>> float(data.log_likelihood([10.0, 10.0]))
    -0.5
    >>> data([[11.0, 12.0], [8.0, 12.0]]).tolist()  # one value per expectation
    [-0.125, -0.5]
    >>> toy = GaussianData.generate_toy_data_model([10.0, 12.0], rng=42)
    >>> type(toy).__name__, toy.data_vector.shape
    ('GaussianData', (2,))
    >>> calculator = LikelihoodCalculator(data, TemplatePredictor([[1.0, 1.0]]))
    >>> float(calculator([11.0]))
    -0.25
    """

    _engine_poisson: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # An overridden likelihood is not the Poisson one the engine computes.
        super().__init_subclass__(**kwargs)
        reset_stale_hooks(cls, "_engine_poisson", ("log_likelihood",), False)

    def __init__(self, data_vector: ArrayLike) -> None:
        self.data_vector = np.asarray(data_vector)

    def log_likelihood(self, reco_vector: ArrayLike) -> Any:
        """Log-likelihood of the data given an expectation (implemented in subclasses).

        Raises
        ------
        NotImplementedError
            Always, in the base class.
        """
        raise NotImplementedError(_SUBCLASS_MSG)

    @classmethod
    def generate_toy_data(
        cls, reco_vector: ArrayLike, size: Any = None, *, rng: RNGLike = None
    ) -> NDArray[Any]:
        """Draw toy data from an expectation (implemented in subclasses).

        Raises
        ------
        NotImplementedError
            Always, in the base class.
        """
        raise NotImplementedError(_SUBCLASS_MSG)

    @classmethod
    def generate_toy_data_model(cls, *args: Any, **kwargs: Any) -> DataModel:
        """Draw toy data and wrap them in a new data model of this class.

        Parameters
        ----------
        *args, **kwargs
            Passed on to :meth:`generate_toy_data` (including ``rng=``).

        Returns
        -------
        DataModel
            ``cls(cls.generate_toy_data(*args, **kwargs))``.
        """
        return cls(cls.generate_toy_data(*args, **kwargs))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Shortcut for :meth:`log_likelihood`."""
        return self.log_likelihood(*args, **kwargs)


#: The largest count kept exactly: 2**63 - 1024 is the largest float below 2**63.
_MAX_COUNT = 2**63 - 1024


def _validated_counts(data_vector: ArrayLike) -> NDArray[np.int64]:
    """Turn measured counts into an int array, rejecting what cannot be counts."""
    data = np.asarray(data_vector)
    if data.dtype.kind not in "biuf":
        msg = f"Poisson data must be numbers; got an array of dtype {data.dtype}"
        raise TypeError(msg)
    if data.ndim == 0:
        msg = f"Poisson data must have at least one bin (an array of shape (n_bins,)); got {data!r}"
        raise InputError(msg)
    if data.dtype.kind == "f":
        bad = ~np.isfinite(data)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            msg = f"Poisson data must be finite; got {data[where]} at index {where}"
            raise InputError(msg)
    negative = data < 0
    if negative.any():
        where = tuple(int(i) for i in np.argwhere(negative)[0])
        msg = f"Poisson data must be non-negative counts; got {data[where]} at index {where}"
        raise InputError(msg)
    # Counts become int64 (truncated towards zero, as the reference does): a larger
    # count would wrap around to a negative number.
    too_large = data > _MAX_COUNT if data.dtype.kind in "uf" else np.zeros(data.shape, bool)
    if too_large.any():
        where = tuple(int(i) for i in np.argwhere(too_large)[0])
        msg = (
            f"Poisson data must be counts that fit a 64-bit integer (at most {_MAX_COUNT}); "
            f"got {data[where]} at index {where}"
        )
        raise InputError(msg)
    return data.astype(np.int64)


def poisson_log_likelihood(
    k: NDArray[Any], k0: NDArray[np.bool_], ln_k_factorial: NDArray[Any], mu: NDArray[Any]
) -> Any:
    """``sum_i [k_i log(mu_i) - log(k_i!) - mu_i]`` over the last axis, with broadcasting.

    ``k0`` marks empty bins (``k == 0``) and ``ln_k_factorial`` is ``log(k!)``, both
    shaped like ``k``. A bin with ``mu == 0 == k`` contributes 0; every other bin
    without a finite value (``mu == 0 < k``, negative, infinite or nan ``mu``) makes
    the sum ``-inf``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # The sums over bins as matrix products: far faster than an elementwise
        # expression broadcast over a short last axis and summed along it.
        n_bins = mu.shape[-1]
        log_mu = np.log(mu)
        if np.size(k) == n_bins and np.ndim(k) <= mu.ndim:
            total = log_mu @ np.reshape(k, n_bins).astype(float)
        else:
            total = np.einsum("...b,...b->...", k, log_mu)
        total = total - mu @ np.ones(n_bins) - np.sum(ln_k_factorial, axis=-1)
        if np.all(np.isfinite(total)):
            return total
        # Some sum is not finite: bin by bin, with the special cases.
        ll = k * np.log(mu) - ln_k_factorial - mu
    bad = ~np.isfinite(ll)
    if bad.any():
        ll[bad] = -np.inf
        # 0 * log(0): an empty bin expecting nothing is certain.
        ll[k0 & (mu == 0)] = 0.0
    return np.sum(ll, axis=-1)


class PoissonData(DataModel):
    """Independent Poisson-distributed counts in every bin.

    Parameters
    ----------
    data_vector : array_like
        Measured counts, shape ``([a, b, ...,] n_bins)``. Non-integer values are
        truncated towards zero (as in ReMU).

    Raises
    ------
    TypeError
        If the data are not numbers.
    remu.errors.InputError
        If the data are negative, not finite, too large for a 64-bit integer, or a
        scalar.

    Examples
    --------
    >>> data = PoissonData([0, 1, 2, 3])
    >>> float(data.log_likelihood([0.0, 1.0, 2.0, 3.0]))
    -3.8027754226637804
    >>> data.log_likelihood(np.ones((2, 3, 4))).shape
    (2, 3)
    """

    _engine_poisson: ClassVar[bool] = True

    def __init__(self, data_vector: ArrayLike) -> None:
        self._set_counts(_validated_counts(data_vector))

    def _set_counts(self, counts: NDArray[np.int64]) -> None:
        self.data_vector = counts
        self.k0 = counts == 0
        self.ln_k_factorial = scipy.special.gammaln(counts + 1)

    @classmethod
    def _from_counts(cls, counts: NDArray[np.int64]) -> PoissonData:
        """Build from counts known to be valid (toys), skipping validation."""
        new = cls.__new__(cls)
        new._set_counts(counts)
        return new

    def log_likelihood(self, reco_vector: ArrayLike) -> Any:
        """Poisson log-likelihood of the data given expected counts.

        ``sum_i [k_i log(mu_i) - log(k_i!) - mu_i]``; a bin with ``mu == 0`` and
        ``k == 0`` contributes 0, and every bin that gives no finite value
        (``mu == 0 < k``, negative, infinite or nan ``mu``) makes the result ``-inf``.

        Parameters
        ----------
        reco_vector : array_like
            Expected counts, shape ``([c, d, ...,] n_bins)``.

        Returns
        -------
        numpy.float64 or ndarray
            Shape ``([a, b, ...,] [c, d, ...])``: every data set against every
            expectation.

        Raises
        ------
        remu.errors.InputError
            If the number of bins differs from the data's.
        """
        mu = np.asarray(reco_vector, dtype=float)
        k = self.data_vector
        if mu.ndim == 0 or mu.shape[-1] != k.shape[-1]:
            msg = (
                f"the prediction has {mu.shape[-1] if mu.ndim else 0} bins (shape {mu.shape}) "
                f"but the data have {k.shape[-1]} bins (shape {k.shape})"
            )
            raise InputError(msg)
        extra = (1,) * (mu.ndim - 1)
        shape = k.shape[:-1] + extra + k.shape[-1:]
        return poisson_log_likelihood(
            k.reshape(shape), self.k0.reshape(shape), self.ln_k_factorial.reshape(shape), mu
        )

    @classmethod
    def generate_toy_data(
        cls, reco_vector: ArrayLike, size: Any = None, *, rng: RNGLike = None
    ) -> NDArray[np.int64]:
        """Draw Poisson toy data around an expectation.

        Parameters
        ----------
        reco_vector : array_like
            Expected counts, any shape.
        size : int or tuple of int, optional
            Leading shape of independent draws; the result has shape
            ``(*size, *reco_vector.shape)``.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness; ``None`` seeds from NumPy's global state.

        Returns
        -------
        ndarray of int64

        Raises
        ------
        ValueError
            If an expectation is negative or not finite.

        Examples
        --------
        >>> PoissonData.generate_toy_data(np.arange(4.0), size=(3, 5), rng=1).shape
        (3, 5, 4)
        """
        mu = np.asarray(reco_vector, dtype=float)
        if not np.all(np.isfinite(mu)) or np.any(mu < 0):
            msg = f"cannot draw Poisson toys: expectations must be finite and >= 0; got {mu}"
            raise ValueError(msg)
        if size is not None:
            lead = list(size) if np.iterable(size) else [size]
            size = (*lead, *mu.shape)
        return as_generator(rng).poisson(mu, size=size)


def _limits(values: Iterable[Any], default: float) -> NDArray[np.float64]:
    return np.array([default if v is None else v for v in values], dtype=float)


class JeffreysPrior:
    """Jeffreys prior of the truth parameters, for Bayesian analyses.

    ``log p(theta) = 0.5 * log det F(theta)`` with the Fisher information of the
    Poisson-distributed reco counts ``mu = R @ t(theta)``:
    ``F_ij = sum_r (dmu_r/dtheta_i)(dmu_r/dtheta_j) / mu_r``.

    Parameters
    ----------
    response_matrix : array_like
        Shape ``([s1, s2, ...,] n_reco, n_truth)``; leading axes are toy matrices.
    translation_function : callable
        Maps parameters ``(..., n_par)`` to truth expectations ``(..., n_truth)``.
    parameter_limits : iterable of (lower, upper)
        One pair per parameter; ``None`` means unbounded.
    default_values : array_like
        Default parameter values (stored, not used).
    dx : float or array_like, optional
        Step(s) of the numerical derivatives, default ``1e-3`` for every parameter.
    total_truth_limit : float, optional
        Parameters whose total truth expectation exceeds this have prior ``-inf``.

    Examples
    --------
    >>> R = np.array([[0.5, 0.1], [0.2, 0.6], [0.1, 0.1]])
    >>> prior = JeffreysPrior(R, lambda x: x, [(0, None), (0, None)], [1, 1], dx=1e-3)
    >>> round(float(prior(np.array([1.0, 2.0]))), 10)
    -1.1960986258
    """

    def __init__(
        self,
        response_matrix: ArrayLike,
        translation_function: Callable[[Any], Any],
        parameter_limits: Iterable[tuple[Any, Any]],
        default_values: ArrayLike,
        dx: Any = None,
        total_truth_limit: float | None = None,
    ) -> None:
        matrix = np.asarray(response_matrix, dtype=float)
        if matrix.ndim < 2:
            msg = f"response_matrix must have shape (..., n_reco, n_truth); got {matrix.shape}"
            raise InputError(msg)
        self.response_matrix = matrix.reshape((-1, *matrix.shape[-2:]))
        self._translate = translation_function
        limits = list(parameter_limits)
        self._n_par = len(limits)
        self.lower_limits = _limits((lo for lo, _ in limits), -np.inf)
        self.upper_limits = _limits((hi for _, hi in limits), np.inf)
        self.default_values = np.array(default_values)
        self.total_truth_limit = total_truth_limit or np.inf
        if dx is None:
            dx = np.full(self._n_par, 1e-3)
        steps = np.broadcast_to(np.asarray(dx, dtype=float), (self._n_par,))
        self.dx = dx
        self._steps = np.array(steps)
        self._n_reco = self.response_matrix.shape[-2]
        self._i_diag = np.diag_indices(self._n_par)

    def translate(self, parameters: ArrayLike) -> Any:
        """Truth expectation for the given parameters (the translation function)."""
        return self._translate(parameters)

    def _reco(self, parameters: Any, toy_index: int) -> NDArray[np.float64]:
        truth = np.asarray(self.translate(parameters), dtype=float)
        return np.tensordot(truth, self.response_matrix[toy_index], axes=([-1], [-1]))

    def fisher_matrix(self, parameters: ArrayLike, toy_index: int = 0) -> NDArray[np.float64]:
        """Fisher information matrix of the reco counts at the given parameters.

        Parameters
        ----------
        parameters : array_like
            Shape ``(n_par,)``.
        toy_index : int, optional
            Which of the stacked response matrices to use.

        Returns
        -------
        ndarray
            Shape ``(n_par, n_par)``; reco bins with ``0/0`` terms are ignored.
        """
        par = np.asarray(parameters, dtype=float)
        if par.shape != (self._n_par,):
            msg = f"expected {self._n_par} parameters, got an array of shape {par.shape}"
            raise InputError(msg)
        mu = self._reco(par, toy_index)
        shift = np.zeros((self._n_par, self._n_par))
        shift[self._i_diag] = self._steps
        # All central differences from one call of the translation function.
        both = self._reco(np.concatenate([par + shift, par - shift]), toy_index)
        grad = (both[: self._n_par] - both[self._n_par :]) / (2 * self._steps[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = grad[:, None, :] * grad[None, :, :] / mu
        fisher: NDArray[np.float64] = np.nansum(terms, axis=-1)
        return fisher

    def __call__(self, value: ArrayLike, toy_index: int = 0) -> float:
        """Log prior at ``value`` (``-inf`` outside the limits).

        Parameters
        ----------
        value : array_like
            Parameters, shape ``(n_par,)``.
        toy_index : int, optional
            Which of the stacked response matrices to use.

        Returns
        -------
        float
            ``0.5 * log|det F|``; ``-inf`` for a singular ``F``.
        """
        value = np.asarray(value, dtype=float)
        if np.any(value < self.lower_limits) or np.any(value > self.upper_limits):
            return -np.inf
        if np.sum(self.translate(value)) > self.total_truth_limit:
            return -np.inf
        fisher = self.fisher_matrix(value, toy_index)
        with np.errstate(under="ignore", divide="ignore"):
            _sign, logdet = np.linalg.slogdet(fisher)
        log_prior: float = 0.5 * logdet  # a NumPy float, as before
        return log_prior
