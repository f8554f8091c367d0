"""Systematics consumers: how the systematics axis of the log-likelihood is reduced."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from remu._likelihood.optin import reset_stale_hooks

__all__ = [
    "MarginalLikelihoodSystematics",
    "NoSystematics",
    "ProfileLikelihoodSystematics",
    "SystematicsConsumer",
]


class SystematicsConsumer:
    """Abstract strategy that removes the last (systematics) axis of log-likelihoods.

    Used as a class (``consume_axis`` is a static method); instances are callable too.

    Notes
    -----
    ``_engine_kind`` tells the fitting engine which reduction ``consume_axis``
    computes (``"marginal"`` or ``"profile"``), so that fits can use its exact
    derivatives. It is ``None`` (the engine does not apply) unless a class declares
    it; a subclass that overrides ``consume_axis`` without declaring it again gets
    ``None``.

    Examples
    --------
    A conservative strategy that keeps the worst systematic variation:

    >>> import numpy as np
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> class WorstVariation(SystematicsConsumer):
    ...     @staticmethod
    ...     def consume_axis(log_likelihood, weights=None):
    ...         return np.min(log_likelihood, axis=-1)
    >>> WorstVariation.consume_axis(np.array([[-1.0, -2.0], [-4.0, -3.0]]))
    array([-2., -4.])
    >>> predictor = TemplatePredictor([[[1.0, 2.0]], [[1.5, 2.5]]])  # two variations
    >>> calculator = LikelihoodCalculator(PoissonData([1, 2]), predictor, WorstVariation())
    >>> round(float(calculator([1.0])), 4)
    -2.4551
    """

    _engine_kind: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # An overridden reduction is not the one an inherited _engine_kind names.
        super().__init_subclass__(**kwargs)
        reset_stale_hooks(cls, "_engine_kind", ("consume_axis",), None)

    @staticmethod
    def consume_axis(log_likelihood: ArrayLike, weights: ArrayLike | None = None) -> Any:
        """Reduce the last axis (implemented in subclasses).

        Raises
        ------
        NotImplementedError
            Always, in the base class.
        """
        msg = "Must be implemented in a subclass!"
        raise NotImplementedError(msg)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Shortcut for :meth:`consume_axis`."""
        return self.consume_axis(*args, **kwargs)


class NoSystematics(SystematicsConsumer):
    """Keep the systematics axis: one log-likelihood per systematic variation.

    Examples
    --------
    >>> NoSystematics.consume_axis(np.array([-1.0, -2.0]))
    array([-1., -2.])
    """

    # ``weights`` is part of every consumer's signature; without systematics it is unused.
    @staticmethod
    def consume_axis(log_likelihood: ArrayLike, weights: ArrayLike | None = None) -> Any:  # noqa: ARG004
        """Return the log-likelihoods unchanged."""
        return log_likelihood


class MarginalLikelihoodSystematics(SystematicsConsumer):
    """Weighted mean of the likelihoods (not the log-likelihoods) over the systematics.

    ``log( sum_s w_s exp(logL_s) / sum_s w_s )``, computed stably in log space.
    Accepted by :class:`LikelihoodCalculator` as ``"marginal"`` or ``"average"``.

    Examples
    --------
    >>> x = np.array([0.1, 0.2, 0.6])
    >>> bool(np.isclose(MarginalLikelihoodSystematics.consume_axis(np.log(x)), np.log(0.3)))
    True
    """

    _engine_kind: ClassVar[str | None] = "marginal"

    @staticmethod
    def consume_axis(log_likelihood: ArrayLike, weights: ArrayLike | None = None) -> Any:
        """Log of the weighted mean likelihood along the last axis.

        Parameters
        ----------
        log_likelihood : array_like
            Shape ``(..., n_systematics)``.
        weights : array_like, optional
            Unnormalised weights broadcastable against ``log_likelihood`` along the
            trailing axes; default equal weights. Zero weights are allowed.

        Returns
        -------
        numpy.float64 or ndarray
            Shape ``log_likelihood.shape[:-1]``; ``-inf`` if every term is ``-inf``.
        """
        ll = np.asarray(log_likelihood, dtype=float)
        if ll.ndim == 0:
            msg = "the log-likelihood needs a systematics axis; got a scalar"
            raise TypeError(msg)
        if weights is None:
            log_w = -np.log(ll.shape[-1])
        else:
            w = np.asarray(weights, dtype=float)
            # tiny weights may underflow when normalised: they then count as zero
            with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
                log_w = np.log(w / np.sum(w, axis=-1, keepdims=True))
        with np.errstate(invalid="ignore"):
            terms = ll + log_w
        top = np.max(terms, axis=-1, keepdims=True)
        top[~np.isfinite(top)] = 0.0
        with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
            return top[..., 0] + np.log(np.sum(np.exp(terms - top), axis=-1))


class ProfileLikelihoodSystematics(SystematicsConsumer):
    """Maximum of the log-likelihoods over the systematics (the best variation).

    Accepted by :class:`LikelihoodCalculator` as ``"profile"`` or ``"maximum"``.

    Examples
    --------
    >>> ProfileLikelihoodSystematics.consume_axis(np.array([[-1.0, -2.0], [-4.0, -3.0]]))
    array([-1., -3.])
    """

    _engine_kind: ClassVar[str | None] = "profile"

    # ``weights`` is part of every consumer's signature; they do not change a maximum.
    @staticmethod
    def consume_axis(log_likelihood: ArrayLike, weights: ArrayLike | None = None) -> Any:  # noqa: ARG004
        """Maximum along the last axis; ``weights`` are ignored."""
        return np.max(log_likelihood, axis=-1)
