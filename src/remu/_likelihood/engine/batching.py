"""Batches of fit problems: chunk sizes, the objective of a chunk, the mapped workers.

Problems are fitted in chunks that bound the largest temporary array (problems x
chains x systematics x bins x (parameters + 1) numbers). With the builtin ``map``
all problems usually fit in one chunk; a replaced ``remu.likelihood.mapper`` (e.g.
``pool.map``) gets at least one chunk per core. Chunk workers are picklable
objects, so they reach worker processes. The toy p-values of ``HypothesisTester``
fit their toys block by block instead (:mod:`remu._likelihood.toys`), each block
through :meth:`ToyChunkFit.fit` with its own seed.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from remu._likelihood.engine.eligibility import Model
from remu._likelihood.engine.hopping import HopSettings, global_fits
from remu._likelihood.engine.objective import GenericFamily, LinearFamily, Objective
from remu._threads import single_blas_thread

__all__ = [
    "ToyChunkFit",
    "caller_errstate",
    "chains_per_problem",
    "chunk_size",
    "make_objective",
    "numeric_context",
]

# Largest (problems x chains x systematics x bins x (parameters + 1)) array built at once.
_CHUNK_ELEMENTS = 2**22
# Basin-hopping chains per problem: the niter hops of a fit run as this many parallel
# chains (one hop each with the default niter=10), so that a single fit costs two
# rounds of the lockstep loop instead of eleven.
_MAX_CHAINS = 10


def chains_per_problem(settings: HopSettings) -> int:
    """Independent basin-hopping chains per problem (the same for data, toys and scans)."""
    return max(1, min(settings.niter, _MAX_CHAINS))


def chunk_size(per_point: int, n_problems: int, n_free: int, chains: int, mapper: Any) -> int:
    """Problems per chunk for predictions of ``per_point`` numbers (``S * B``).

    Examples
    --------
    >>> chunk_size(800, 100, 4, 10, map)
    100
    """
    per_problem = max(per_point, 1) * (n_free + 1) * max(chains, 1)
    size = max(1, _CHUNK_ELEMENTS // per_problem)
    if mapper is not builtins.map:
        # A parallel mapper gets at least one chunk per core.
        size = min(size, math.ceil(n_problems / (os.cpu_count() or 1)))
    return max(1, min(size, n_problems))


def caller_errstate() -> dict[str, Any]:
    """Apply the caller's NumPy error handling, with underflow ignored, to predictor calls."""
    return {**np.geterr(), "under": "ignore"}


# Below this many numbers in the largest array of a fit, BLAS is not limited to one
# thread: its products are too small to start threads, and limiting costs more than
# a small fit.
_BLAS_LIMIT_SIZE = 2**16


@contextlib.contextmanager
def numeric_context(size: int = _BLAS_LIMIT_SIZE) -> Iterator[None]:
    """Floating-point errors ignored (the engine handles them), one BLAS thread for big fits.

    ``size`` is the number of numbers in the fit's largest arrays (problems x
    systematics x bins x parameters).
    """
    with contextlib.ExitStack() as stack:
        if size >= _BLAS_LIMIT_SIZE:
            stack.enter_context(single_blas_thread())
        stack.enter_context(np.errstate(all="ignore"))
        yield


def make_objective(
    model: Model, counts: NDArray[Any], errstate: dict[str, Any] | None = None
) -> Objective:
    """Make the objective of problems with data ``counts`` ``(M, B)`` and the model's prediction.

    ``errstate`` is the error handling of predictor calls (finite-difference path).
    """
    if model.linear is not None:
        matrices, constants = model.linear
        family: Any = LinearFamily(matrices, constants[np.newaxis])
    else:
        family = GenericFamily(
            model.predictor, model.n_bins, model.lower, model.upper, errstate=errstate
        )
    return Objective(family, counts, model.kind, model.weights, model.lower, model.upper)


class ToyChunkFit:
    """Maximum log-likelihood of a chunk of toy data sets: a picklable job for ``mapper``.

    Toys whose fits never converged (e.g. pressed against the edge of the region
    where every prediction is positive, which no bound describes) are re-fitted one
    by one by the maximizer without the engine; the better maximum is kept.

    Parameters
    ----------
    model : Model
        The engine's view of the calculator.
    calculator : LikelihoodCalculator
        For the per-toy fallback fits.
    maximizer : LikelihoodMaximizer
        Provides ``_fit_without_engine``.
    settings : HopSettings
    start : ndarray, optional
        A further starting point of every toy (the fit the toys were drawn from).
    """

    def __init__(
        self,
        model: Model,
        calculator: Any,
        maximizer: Any,
        settings: HopSettings,
        start: NDArray[np.float64] | None = None,
    ) -> None:
        self.model = model
        self.calculator = calculator
        self.maximizer = maximizer
        self.settings = settings
        self.start = start

    def __call__(self, chunk: tuple[NDArray[Any], int]) -> NDArray[np.float64]:
        """Fit the toys ``chunk[0]`` ``(m, B)`` with the generator seeded by ``chunk[1]``."""
        counts, seed = chunk
        return self.fit(counts, seed)[0]

    def fit(self, counts: NDArray[Any], seed: Any) -> tuple[NDArray[np.float64], int]:
        """Maxima of the toys ``counts`` ``(m, B)`` and how many were re-fitted without the engine.

        The toys are fitted in batches that bound the largest temporary array
        (:func:`chunk_size`), one after the other with the same generator (seeded
        by ``seed``, unless the maximizer has a seed of its own), so the result
        depends only on ``counts`` and ``seed``.
        """
        settings = self.settings
        gen = np.random.default_rng(seed if settings.seed is None else settings.seed)
        chains = chains_per_problem(settings)
        model = self.model
        size = chunk_size(model.n_syst * model.n_bins, len(counts), model.n, chains, builtins.map)
        errstate = caller_errstate()
        result = np.empty(len(counts))
        refits = 0
        for begin in range(0, len(counts), size):
            part = counts[begin : begin + size]
            with numeric_context(part.size * model.n_syst * (model.n + 1)):
                objective = make_objective(model, part, errstate)
                start = np.tile(model.defaults, (len(part), 1))
                hint = None if self.start is None else np.tile(self.start, (len(part), 1))
                _, value, converged = global_fits(
                    objective, start, settings, gen, chains_per_problem=chains, extra_starts=hint
                )
            maxima = -value
            for i in np.flatnonzero(~converged & np.isfinite(value)):
                refits += 1
                data = self.calculator._with_data(part[i])
                fit = self.maximizer._fit_without_engine(data, gen)
                maxima[i] = max(maxima[i], float(fit.log_likelihood))
            result[begin : begin + len(part)] = maxima
        return result, refits
