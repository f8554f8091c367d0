"""MCMC sampling of a likelihood calculator's parameters with emcee (``pip install 'remu[mcmc]'``).

emcee is imported when a sampler is made; the initial guess needs NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["emcee_initial_guess", "emcee_sampler"]


def emcee_sampler(likelihood_calculator: Any, nwalkers: int | None = None, **kwargs: Any) -> Any:
    """Make an ``emcee.EnsembleSampler`` of the calculator's parameters.

    The log-probability is the calculator's log-likelihood: a flat prior inside
    the predictor's bounds, ``-inf`` outside. Where the fitting engine applies (a
    linear predictor, one data set, remu's data models and systematics
    treatments), it is evaluated by the engine's model of the calculator, which
    gives the same numbers to rounding at a fraction of the cost per call (2-4
    times less on models of 1-4 templates over 100 variations), ``-inf`` instead
    of ``nan`` where the predictions are not numbers, and never raises for
    floating-point errors. It evaluates all the walkers that emcee
    moves at once (half of the ensemble per call) in one batched call
    (``vectorize=True``), unless the caller passes ``vectorize`` or a ``pool``, or
    the calculator holds several data sets (its result per point is then not one
    number). With the engine's evaluation and ``vectorize=True`` the sampler is a
    subclass of ``emcee.EnsembleSampler`` that hands the walkers to it without
    emcee's generic handling of log-probability results (blobs, named
    parameters), which costs as much per call as the evaluation itself: same
    chains, same errors for infinite or NaN coordinates.

    Parameters
    ----------
    likelihood_calculator : LikelihoodCalculator
        The log-probability function.
    nwalkers : int, optional
        Number of walkers; default twice the number of parameters.
    **kwargs
        Passed to ``emcee.EnsembleSampler`` (e.g. ``pool=``, ``vectorize=``).

    Returns
    -------
    emcee.EnsembleSampler

    Raises
    ------
    ImportError
        If emcee is not installed.
    TypeError
        If ``parameter_names`` is given (emcee would pass dicts to the calculator).

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> calc = LikelihoodCalculator(PoissonData([3, 5]), TemplatePredictor([[1.0, 1.0]]))
    >>> sampler = emcee_sampler(calc)
    >>> sampler.nwalkers, sampler.ndim, sampler.vectorize
    (2, 1, True)
    """
    from remu._optional import optional_import

    emcee = optional_import("emcee", feature="remu.likelihood_utils.emcee_sampler")
    ndim = len(likelihood_calculator.predictor.defaults)
    if nwalkers is None:
        nwalkers = 2 * ndim
    if kwargs.get("parameter_names") is not None:
        msg = (
            "emcee_sampler does not take parameter_names: emcee would hand every walker "
            "to the likelihood calculator as a dict of named values, and a calculator "
            "takes parameter vectors (name the columns of sampler.get_chain() instead)"
        )
        raise TypeError(msg)
    if "vectorize" not in kwargs and kwargs.get("pool") is None:
        data = getattr(likelihood_calculator.data_model, "data_vector", None)
        kwargs["vectorize"] = data is not None and np.ndim(data) == 1
    from remu._likelihood.engine.logprob import log_probability

    # The engine's lean evaluation of the same log-likelihood where it applies (an
    # opted-in calculator with a linear predictor and one data set): two to four
    # times cheaper per call, which is most of a sampler's step on small models.
    # Not with emcee's ``args``/``kwargs``: those go to the predictor through the
    # calculator.
    extra = kwargs.get("args") or kwargs.get("kwargs")
    log_prob = None if extra else log_probability(likelihood_calculator)
    if log_prob is None:
        return emcee.EnsembleSampler(nwalkers, ndim, likelihood_calculator, **kwargs)
    if kwargs.get("vectorize"):
        # emcee's sampler with a lean log-probability step for the engine's function
        from remu._interop.emcee_ensemble import EnsembleSampler

        return EnsembleSampler(nwalkers, ndim, log_prob, **kwargs)
    return emcee.EnsembleSampler(nwalkers, ndim, log_prob, **kwargs)


def emcee_initial_guess(
    likelihood_calculator: Any, nwalkers: int | None = None, *, rng: Any = None
) -> np.ndarray:
    """Random starting points for the walkers, respecting the bounds.

    Per parameter: uniform between two finite bounds; bound plus (or minus) an
    exponential with scale ``|default - bound|`` (1 if that is not positive) for
    one finite bound; a normal around the default with scale ``|default|`` (or 1)
    when unbounded. Points with ``log L = -inf`` are not filtered out.

    Parameters
    ----------
    likelihood_calculator : LikelihoodCalculator
        Provides ``predictor.bounds`` and ``predictor.defaults``.
    nwalkers : int, optional
        Number of walkers; default twice the number of parameters.
    rng : None, int, SeedSequence or Generator, optional
        Source of randomness; ``None`` seeds from NumPy's global state.

    Returns
    -------
    ndarray
        Shape ``(nwalkers, n_parameters)``.

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> calc = LikelihoodCalculator(PoissonData([1, 2, 3, 4]), TemplatePredictor(np.eye(4)))
    >>> emcee_initial_guess(calc, rng=1).shape
    (8, 4)
    """
    from remu._rng import as_generator

    gen = as_generator(rng)
    predictor = likelihood_calculator.predictor
    defaults = np.asarray(predictor.defaults, dtype=float)
    ndim = len(defaults)
    bounds = np.asarray(predictor.bounds, dtype=float).reshape(ndim, 2)
    if nwalkers is None:
        nwalkers = 2 * ndim
    lower, upper = bounds[:, 0], bounds[:, 1]
    has_lower, has_upper = np.isfinite(lower), np.isfinite(upper)
    guess = np.empty((nwalkers, ndim))

    both = has_lower & has_upper
    guess[:, both] = gen.uniform(lower[both], upper[both], size=(nwalkers, int(both.sum())))

    only_lower = has_lower & ~has_upper
    scale = defaults[only_lower] - lower[only_lower]
    scale[scale <= 0] = 1.0
    draws = gen.exponential(scale, size=(nwalkers, int(only_lower.sum())))
    guess[:, only_lower] = lower[only_lower] + draws

    only_upper = ~has_lower & has_upper
    scale = upper[only_upper] - defaults[only_upper]
    scale[scale <= 0] = 1.0
    draws = gen.exponential(scale, size=(nwalkers, int(only_upper.sum())))
    guess[:, only_upper] = upper[only_upper] - draws

    neither = ~has_lower & ~has_upper
    scale = np.abs(defaults[neither])
    scale[scale <= 0] = 1.0
    guess[:, neither] = gen.normal(defaults[neither], scale, size=(nwalkers, int(neither.sum())))
    return guess
