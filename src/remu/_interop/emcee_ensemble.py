"""emcee's ensemble sampler, with a lean log-probability step for the engine's function.

This module imports emcee when it is imported (the sampler class derives from
emcee's): :func:`remu._interop.emcee.emcee_sampler` imports it after emcee was found.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._likelihood.engine.logprob import LogProbability
from remu._optional import optional_import

# the base class is needed when the module is read: without emcee, an ImportError
# that names the extra to install
emcee = optional_import("emcee", feature="remu.likelihood_utils.emcee_sampler")
_Sampler: Any = emcee.EnsembleSampler  # emcee is untyped

__all__ = ["EnsembleSampler"]


class EnsembleSampler(_Sampler):  # type: ignore[misc]  # a subclass of an untyped class
    """An ``emcee.EnsembleSampler`` for the engine's log-probability of a calculator.

    emcee's ``compute_log_prob`` serves every kind of log-probability function:
    named parameters, blobs of metadata next to each value, values given as
    sequences. That generality costs about 30 microseconds per call, as much as the
    engine's whole evaluation of one walker, and with the default two walkers per
    parameter emcee calls it twice per step with one walker each. The engine's
    :class:`~remu._likelihood.engine.logprob.LogProbability` returns one float per
    walker, no blobs, and ``-inf`` (never NaN) where the likelihood is zero. For
    it, this class checks the walkers' coordinates as emcee does (the same errors)
    and returns the values as they are: the same numbers, the same chains.

    Anything else goes through emcee's own method: a log-probability function, or
    extra arguments for it, set after the sampler was made, or a sampler that is
    not vectorised.

    Parameters
    ----------
    nwalkers, ndim : int
        As for ``emcee.EnsembleSampler``.
    log_prob_fn : LogProbability
        The engine's log-probability of a calculator.
    **kwargs
        Passed to ``emcee.EnsembleSampler`` (``vectorize=True`` for the lean step).

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> from remu._likelihood.engine.logprob import log_probability
    >>> calc = LikelihoodCalculator(PoissonData([3, 5]), TemplatePredictor([[1.0, 1.0]]))
    >>> sampler = EnsembleSampler(2, 1, log_probability(calc), vectorize=True)
    >>> values, blobs = sampler.compute_log_prob(np.array([[4.0], [-1.0]]))
    >>> bool(values[0] == calc([4.0])), float(values[1]), blobs
    (True, -inf, None)
    """

    def __init__(self, nwalkers: int, ndim: int, log_prob_fn: Any, **kwargs: Any) -> None:
        super().__init__(nwalkers, ndim, log_prob_fn, **kwargs)
        # emcee's args and kwargs are checked on its wrapper at every call
        lean = isinstance(log_prob_fn, LogProbability)
        self._lean: LogProbability | None = log_prob_fn if lean else None

    def compute_log_prob(self, coords: Any) -> tuple[Any, Any]:
        """Return the log-probabilities of the walkers at ``coords`` ``(m, ndim)``, and no blobs.

        Raises
        ------
        ValueError
            If a coordinate is infinite or NaN (emcee's own messages).
        """
        lean = self._lean
        # emcee keeps the function and its extra arguments in a wrapper (attributes f,
        # args and kwargs); a user who replaced any of them gets emcee's own step
        wrapper = self.log_prob_fn
        function: Any = getattr(wrapper, "f", None)
        if (
            lean is None
            or function is not lean
            or getattr(wrapper, "args", None)
            or getattr(wrapper, "kwargs", None)
            or not self.vectorize
            or self.params_are_named
        ):
            return super().compute_log_prob(coords)  # type: ignore[no-any-return]
        p = np.asarray(coords, dtype=float)
        if not np.isfinite(p).all():
            if np.isinf(p).any():
                msg = "At least one parameter value was infinite"
                raise ValueError(msg)
            msg = "At least one parameter value was NaN"
            raise ValueError(msg)
        values: NDArray[np.float64] = np.asarray(lean(p), dtype=np.float64)
        if math.isnan(values.sum()):  # only where the calculator itself was called
            msg = "Probability function returned NaN"
            raise ValueError(msg)
        return values, None
