"""The result of a toy Monte-Carlo p-value: the statistics of every toy, mergeable.

``HypothesisTester.likelihood_p_value``, ``max_likelihood_p_value`` and
``max_likelihood_ratio_p_value`` return a :class:`ToyResult` when called with
``return_toys=True``. It keeps the observed test statistic and the statistic of
every toy, so that the p-value, its uncertainty and the distribution of the
statistic can be inspected, and so that the toys of several jobs (batch jobs,
interactive sessions) combine into one p-value with ``+``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from remu.errors import InputError

__all__ = ["ToyResult"]

# Observed statistics of two results of the same test may differ by the rounding of
# their fits (e.g. two jobs that fitted the data with different seeds).
_OBSERVED_RTOL = 1e-9
_OBSERVED_ATOL = 1e-9


def _scalar_or_array(value: NDArray[Any]) -> Any:
    return value[()] if value.ndim == 0 else value


def _short(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    return f"array(shape={array.shape})"


class ToyResult:
    """Toy Monte-Carlo p-value with its uncertainty and the toys' test statistics.

    The p-value is the fraction of toys whose test statistic is less than or equal
    to the observed one (``observed >= toys``: ties count in favour of the
    hypothesis), the same estimate the p-value methods return as a number.

    Parameters
    ----------
    test : str
        What was tested: the method name and the hypothesis, e.g.
        ``"max_likelihood_ratio_p_value(fix_parameters=[nan, 0.0])"``.
    observed : array_like
        The test statistic of the data: the log-likelihood (``likelihood_p_value``),
        the maximum log-likelihood (``max_likelihood_p_value``) or the log of the
        maximum-likelihood ratio H0/H1 (``max_likelihood_ratio_p_value``). Shape
        ``()``, or ``([a, ...,] [c, ...])`` for several data sets and parameter
        vectors of ``likelihood_p_value``.
    toys : array_like
        The statistic of every toy, shape ``(..., N)``: the last axis runs over
        the toys; the other axes broadcast against ``observed`` (for
        ``likelihood_p_value`` they are the parameter vectors' axes ``(c, ...)``,
        the toys drawn from each vector, shared by all data sets).
    identity : str, optional
        A fingerprint of the test (hypothesis, data, options), compared when
        results are merged. Defaults to ``test``.

    Attributes
    ----------
    test : str
    observed : float or ndarray
    toys : ndarray
    N : int
        Number of toys.
    p_value : float or ndarray
        ``sum(observed >= toys) / N`` along the toys' axis.
    error : float or ndarray
        The binomial standard error of the p-value, ``sqrt(p * (1 - p) / N)``. It is
        0 for ``p == 0`` or ``p == 1``; :meth:`interval` gives a Clopper-Pearson
        interval that is useful there.

    Raises
    ------
    remu.errors.InputError
        If there are no toys, or ``toys`` does not broadcast against ``observed``.

    Examples
    --------
    >>> first = ToyResult("demo", observed=1.0, toys=[0.5, 2.0, 1.0, 3.0])
    >>> first
    ToyResult(test='demo', p_value=0.5, error=0.25, observed=1, N=4)
    >>> second = ToyResult("demo", observed=1.0, toys=[0.0, 0.2, 4.0, 0.1])
    >>> merged = first + second
    >>> float(merged.p_value), merged.N
    (0.625, 8)
    >>> sum([first, second]).N
    8
    """

    def __init__(
        self, test: str, observed: ArrayLike, toys: ArrayLike, *, identity: str | None = None
    ) -> None:
        obs = np.array(observed, dtype=float)
        toy = np.array(toys, dtype=float)
        if toy.ndim == 0 or toy.shape[-1] == 0:
            msg = f"a ToyResult needs at least one toy (toys of shape (..., N)); got shape {toy.shape}"
            raise InputError(msg)
        try:
            np.broadcast_shapes((*obs.shape, 1), toy.shape)
        except ValueError:
            msg = (
                f"the toys' statistics (shape {toy.shape}, toys last) do not broadcast "
                f"against the observed statistic (shape {obs.shape})"
            )
            raise InputError(msg) from None
        self.test = str(test)
        self._identity = self.test if identity is None else str(identity)
        self._observed = obs
        self._toys = toy
        self._toys.flags.writeable = False
        self._observed.flags.writeable = False

    @property
    def observed(self) -> Any:
        """The observed test statistic (a float, or an array for many tests at once)."""
        return _scalar_or_array(self._observed)

    @property
    def toys(self) -> NDArray[np.float64]:
        """The test statistic of every toy, toys along the last axis (read-only)."""
        return self._toys

    @property
    def N(self) -> int:
        """The number of toys."""
        return int(self._toys.shape[-1])

    @property
    def p_value(self) -> Any:
        """``sum(observed >= toys) / N``: a float, or an array shaped like ``observed``."""
        passing = np.sum(self._observed[..., np.newaxis] >= self._toys, axis=-1)
        return _scalar_or_array(np.asarray(passing / self.N, dtype=float))

    @property
    def error(self) -> Any:
        """The binomial standard error ``sqrt(p * (1 - p) / N)`` of :attr:`p_value`."""
        p = np.asarray(self.p_value, dtype=float)
        return _scalar_or_array(np.sqrt(p * (1.0 - p) / self.N))

    def interval(self, level: float = 0.6826894921370859) -> tuple[Any, Any]:
        """Clopper-Pearson (exact binomial) confidence interval of the p-value.

        Parameters
        ----------
        level : float, optional
            Confidence level, default one standard deviation (68.27 %).

        Returns
        -------
        (lower, upper) : floats or arrays
            ``lower`` is 0 when no toy passed, ``upper`` is 1 when all did.

        Raises
        ------
        ValueError
            If ``level`` is not strictly between 0 and 1.

        Examples
        --------
        >>> low, high = ToyResult("demo", observed=0.0, toys=[1.0] * 10).interval(0.95)
        >>> float(low), round(float(high), 4)
        (0.0, 0.3085)
        """
        if not 0.0 < level < 1.0:
            msg = f"the confidence level must be between 0 and 1; got {level!r}"
            raise ValueError(msg)
        n = self.N
        k = np.asarray(np.round(np.asarray(self.p_value) * n))
        alpha = 1.0 - level
        with np.errstate(invalid="ignore", divide="ignore"):
            lower = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
            upper = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
        return _scalar_or_array(np.asarray(lower)), _scalar_or_array(np.asarray(upper))

    def _check_mergeable(self, other: ToyResult) -> None:
        if other._identity != self._identity:
            msg = (
                f"cannot merge the toys of different tests: {self.test!r} and {other.test!r} "
                "(their hypotheses, data or options differ)"
            )
            raise InputError(msg)
        if (
            other._observed.shape != self._observed.shape
            or other._toys.shape[:-1] != (self._toys.shape[:-1])
        ):
            msg = (
                f"cannot merge toy results of {self.test!r} with different shapes: observed "
                f"{self._observed.shape} and {other._observed.shape}, toys "
                f"{self._toys.shape} and {other._toys.shape}"
            )
            raise InputError(msg)
        same = np.isclose(
            self._observed,
            other._observed,
            rtol=_OBSERVED_RTOL,
            atol=_OBSERVED_ATOL,
            equal_nan=True,
        )
        if not np.all(same):
            msg = (
                f"cannot merge toy results of {self.test!r}: the observed statistics differ "
                f"({_short(self.observed)} and {_short(other.observed)}), so the toys test "
                "different data or models"
            )
            raise InputError(msg)

    def __add__(self, other: Any) -> ToyResult:
        """Merge the toys of two results of the same test (the observed statistic of ``self``).

        Raises
        ------
        remu.errors.InputError
            If the results belong to different tests, shapes or observed statistics.
        """
        if not isinstance(other, ToyResult):
            return NotImplemented
        self._check_mergeable(other)
        toys = np.concatenate([self._toys, other._toys], axis=-1)
        return ToyResult(self.test, self._observed, toys, identity=self._identity)

    def __radd__(self, other: Any) -> ToyResult:
        """``0 + result`` is ``result``, so that ``sum(results)`` merges a list of results."""
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented

    def __repr__(self) -> str:
        return (
            f"ToyResult(test={self.test!r}, p_value={_short(self.p_value)}, "
            f"error={_short(self.error)}, observed={_short(self.observed)}, N={self.N})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (self.test, np.array(self._observed), np.array(self._toys), self._identity),
        )


def _rebuild(test: str, observed: Any, toys: Any, identity: str) -> ToyResult:
    return ToyResult(test, observed, toys, identity=identity)
