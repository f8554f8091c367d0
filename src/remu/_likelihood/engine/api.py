"""Entry points of the fitting engine: single fits, toy fits, scans, toy evaluations.

Each returns ``None`` when the engine does not apply (see
:mod:`~remu._likelihood.engine.eligibility`); the caller then fits with scipy, as
ReMU does.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from remu._likelihood.engine.batching import (
    ToyChunkFit,
    caller_errstate,
    chains_per_problem,
    chunk_size,
    make_objective,
    numeric_context,
)
from remu._likelihood.engine.eligibility import describe, engine_settings, non_negative
from remu._likelihood.engine.hopping import HopSettings, global_fits
from remu._likelihood.engine.objective import GenericFamily, LinearFamily, Objective
from remu._rng import RNGLike, as_generator

__all__ = ["ScanFits", "fit_one", "fit_scan", "fit_toys", "toy_log_likelihoods"]

_MESSAGE = "remu fitting engine: basin hopping with bounded Newton local fits"


def _generator(settings: HopSettings, rng: RNGLike) -> np.random.Generator:
    return as_generator(settings.seed if settings.seed is not None else rng)


def fit_one(
    calculator: Any, settings: HopSettings, rng: RNGLike = None
) -> optimize.OptimizeResult | None:
    """Maximum-likelihood fit of one data set, or ``None`` if the engine does not apply.

    Parameters
    ----------
    calculator : LikelihoodCalculator
        With at least one free parameter.
    settings : HopSettings
        The maximizer's basin-hopping settings.
    rng : None, int, SeedSequence or Generator
        Randomness of the steps, unless ``settings`` has a seed of its own.

    Returns
    -------
    scipy.optimize.OptimizeResult or None
        ``x``, ``fun`` (``-max log L``), ``log_likelihood``, ``success`` (whether the
        best local fit converged), ``message``, ``nfev`` (predictor evaluations),
        ``nit`` (basin-hopping steps), ``minimization_failures`` and
        ``lowest_optimization_result``, as scipy's ``basinhopping`` gives them.
    """
    model = describe(calculator)
    if model is None or model.n == 0:
        return None
    gen = _generator(settings, rng)
    counts = np.asarray(calculator.data_model.data_vector)[np.newaxis]
    errstate = caller_errstate()
    chains = chains_per_problem(settings)
    with numeric_context(chains * model.n_syst * model.n_bins * (model.n + 1)):
        objective = make_objective(model, counts, errstate)
        x, value, ok = global_fits(
            objective,
            model.defaults[np.newaxis],
            settings,
            gen,
            chains_per_problem=chains,
        )
    return _result(x[0], float(value[0]), bool(ok[0]), int(objective.nfev[0]), settings.niter)


def _result(x: NDArray[Any], value: float, ok: bool, nfev: int, nit: int) -> Any:
    message = _MESSAGE if ok else f"{_MESSAGE}: the best local fit did not converge"
    local = optimize.OptimizeResult(x=x.copy(), fun=value, success=ok, nfev=nfev, message=message)
    return optimize.OptimizeResult(
        x=x,
        fun=value,
        log_likelihood=-value,
        success=ok and bool(np.isfinite(value)),
        message=[message],
        nfev=nfev,
        nit=nit,
        minimization_failures=0 if ok else 1,
        lowest_optimization_result=local,
    )


def fit_toys(
    calculator: Any,
    maximizer: Any,
    toys: NDArray[Any],
    gen: np.random.Generator,
    mapper: Any,
    start: NDArray[np.float64] | None = None,
) -> NDArray[np.float64] | None:
    """Maximum log-likelihood of every toy data set, or ``None`` if the engine does not apply.

    Parameters
    ----------
    calculator : LikelihoodCalculator
        Predictor and systematics treatment of the fits.
    maximizer : LikelihoodMaximizer
        The maximizer the caller would use per toy (it must opt in).
    toys : ndarray
        Toy counts, shape ``(N, n_bins)``.
    gen : numpy.random.Generator
        Seeds the basin-hopping steps (one seed per chunk of toys).
    mapper : callable
        ``map``-like; called once with the chunks of toys.
    start : ndarray, optional
        A further starting point of every toy's fit, shape ``(n_free,)``: the fit
        the toys were drawn from.

    Returns
    -------
    ndarray or None
        Shape ``(N,)``.
    """
    if np.ndim(toys) != 2:
        return None
    model = describe(calculator, need_counts=False)
    if model is None:
        return None
    settings = engine_settings(maximizer, model.n)
    if settings is None:
        return None
    if model.n == 0:
        # Nothing to fit: the maximum is the likelihood of the one point, for all toys.
        return toy_log_likelihoods(calculator, toys, np.empty(0))
    chains = chains_per_problem(settings)
    size = chunk_size(model.n_syst * model.n_bins, len(toys), model.n, chains, mapper)
    chunks = [toys[i : i + size] for i in range(0, len(toys), size)]
    seeds = gen.integers(0, 2**63 - 1, size=len(chunks), dtype=np.int64)
    fit = ToyChunkFit(model, calculator, maximizer, settings, start)
    results = list(mapper(fit, [(c, int(s)) for c, s in zip(chunks, seeds, strict=True)]))
    return np.concatenate([np.asarray(r, dtype=float) for r in results])


def toy_log_likelihoods(
    calculator: Any, toys: NDArray[Any], parameters: Any, **kwargs: Any
) -> NDArray[np.float64]:
    """Log-likelihood of every toy data set at one parameter vector.

    One vectorised call per chunk of toys, the chunks bounding the (toys x
    systematics x bins) array. ``kwargs`` go to the calculator (e.g.
    ``systematics_index=``).
    """
    per_point = int(np.size(calculator.predictor(parameters, **kwargs)[0]))
    size = chunk_size(per_point, len(toys), 0, 1, builtins.map)
    return np.concatenate(
        [
            np.asarray(calculator._with_data(toys[i : i + size])(parameters, **kwargs), dtype=float)
            for i in range(0, len(toys), size)
        ]
    )


class ScanFits:
    """Fits of the points of a scan (see :func:`fit_scan`).

    Attributes
    ----------
    x : ndarray
        Best free parameters of every point, shape ``(P, n_free)``.
    log_likelihood : ndarray
        Maximum log-likelihood of every point, shape ``(P,)``.
    success : ndarray of bool
        Whether each point's best local fit converged.
    """

    def __init__(
        self, x: NDArray[np.float64], log_likelihood: NDArray[np.float64], success: NDArray[Any]
    ) -> None:
        self.x = x
        self.log_likelihood = log_likelihood
        self.success = success


def fit_scan(
    calculator: Any,
    fixed: NDArray[np.float64],
    settings: HopSettings,
    rng: RNGLike = None,
    warm_start: NDArray[np.float64] | None = None,
) -> ScanFits | None:
    """Fit many constrained variants of one model, or ``None`` if the engine does not apply.

    Parameters
    ----------
    calculator : LikelihoodCalculator
        The unconstrained model.
    fixed : ndarray
        Shape ``(P, N)``: per scan point the value of every parameter, ``nan`` for
        the free ones. Every point must have the same free parameters (at least one).
    settings : HopSettings
    rng : None, int, SeedSequence or Generator
    warm_start : ndarray, optional
        A full parameter vector (e.g. the unconstrained best fit) whose free entries
        are a second starting point of every point's first fit.

    Returns
    -------
    ScanFits or None
    """
    model = describe(calculator)
    if model is None:
        return None
    free = np.isnan(fixed[0])
    n_free = int(free.sum())
    if n_free == 0 or np.any(np.isnan(fixed) != free):
        return None
    lower, upper = model.lower[free], model.upper[free]
    defaults = model.defaults[free]
    n_points = len(fixed)
    values = np.where(free, 0.0, fixed)
    if model.linear is not None:
        matrices, constants = model.linear
        folded = constants + np.einsum("sbk,pk->psb", matrices[..., ~free], values[:, ~free])
        if not non_negative(matrices[..., free], folded, lower):
            return None
        family: Any = LinearFamily(matrices[..., free], folded, np.arange(n_points))
    else:
        family = GenericFamily(
            model.predictor,
            model.n_bins,
            lower,
            upper,
            free,
            values,
            np.arange(n_points),
            errstate=caller_errstate(),
        )
    gen = _generator(settings, rng)
    counts = np.tile(np.asarray(calculator.data_model.data_vector), (n_points, 1))
    extra = None
    if warm_start is not None:
        extra = np.tile(
            np.clip(np.asarray(warm_start, dtype=float)[free], lower, upper), (n_points, 1)
        )
    chains = chains_per_problem(settings)
    with numeric_context(n_points * chains * model.n_syst * model.n_bins * (n_free + 1)):
        objective = Objective(family, counts, model.kind, model.weights, lower, upper)
        x, value, ok = global_fits(
            objective,
            np.tile(defaults, (n_points, 1)),
            settings,
            gen,
            chains_per_problem=chains_per_problem(settings),
            extra_starts=extra,
        )
    return ScanFits(x, -value, ok & np.isfinite(value))
