"""Hypothesis tests: toy Monte Carlo and Wilks p-values.

The toys of the three toy p-values are drawn, fitted and distributed in blocks
(:mod:`remu._likelihood.toys`): the same seed gives the same p-value whatever
runs them (``executor=``, ``remu.likelihood.mapper``, the number of workers).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from remu._likelihood.calculator import LikelihoodCalculator
from remu._likelihood.engine.api import fit_one, fit_scan
from remu._likelihood.engine.batching import ToyChunkFit
from remu._likelihood.engine.cache import FitCache, fit_key
from remu._likelihood.engine.eligibility import describe, engine_settings
from remu._likelihood.maximizers import BasinHoppingMaximizer
from remu._likelihood.toy_result import ToyResult
from remu._likelihood.toys import (
    EVALUATION_BLOCK,
    FIT_BLOCK,
    EngineFitter,
    Evaluator,
    PerToyFitter,
    ToyRun,
    ToySource,
    ToyValues,
    check_executor,
    child,
    plan_blocks,
    root_sequence,
    run_toys,
    seeded_fit,
    toy_engine_settings,
)
from remu._logging import get_logger
from remu._progress import ProgressLike, progress_bar
from remu._rng import RNGLike, as_generator
from remu._state import get_mapper
from remu.errors import InputError

__all__ = ["HypothesisTester"]

_LOG = get_logger("likelihood")


def _mapper() -> Any:
    """Return the user-replaceable ``remu.likelihood.mapper``, looked up at call time."""
    return get_mapper("likelihood")


def _seeds(gen: np.random.Generator, n: int) -> list[int]:
    """Independent seeds for fits, drawn in the caller so mapped fits are reproducible."""
    return [int(s) for s in gen.integers(0, 2**63 - 1, size=n, dtype=np.int64)]


_fit = seeded_fit


def _statistic_fit(maximizer: Any, calculator: LikelihoodCalculator, seed: int) -> Any:
    """Make the fit that gives the observed test statistic of a toy p-value.

    It is computed as the toys' statistics are: with the engine settings of the
    maximizer's toy fits (``_toy_engine_settings``) where they differ from its
    own fits (e.g. :class:`~remu._likelihood.minuit.MinuitMaximizer`, whose toys
    are fitted by the engine), the maximizer's own fit only where the engine's
    does not converge, the better one kept. Otherwise it is the maximizer's fit.
    """
    n_free = len(calculator.predictor.defaults)
    settings = toy_engine_settings(maximizer, n_free)
    if n_free == 0 or settings is None or settings == engine_settings(maximizer, n_free):
        return _fit(maximizer, calculator, seed)
    fit = fit_one(calculator, settings, seed)
    if fit is not None and fit.success:
        return fit
    other = _fit(maximizer, calculator, seed)
    if fit is not None and fit.log_likelihood >= other.log_likelihood:
        return fit
    return other


def _check_n_toys(N: Any) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        msg = f"the number of toys N must be a positive integer; got {N!r}"
        raise ValueError(msg)
    return int(N)


def _count_free(values: Any) -> int:
    return int(np.sum(np.isnan(np.array(values, dtype=float))))


def _describe_values(values: Any) -> str:
    if values is None:
        return "None"
    return np.array2string(
        np.array(values, dtype=float),
        separator=", ",
        threshold=20,
        max_line_width=10**6,
        formatter={"float_kind": lambda v: f"{v:g}"},
    ).replace("\n", "")


def _identity(test: str, calc: LikelihoodCalculator, *arrays: Any) -> str:
    """Return the fingerprint of a test, compared when toy results are merged."""
    digest = hashlib.blake2b(test.encode(), digest_size=16)
    digest.update(type(calc.predictor).__name__.encode())
    digest.update(str(getattr(calc.systematics, "__name__", type(calc.systematics))).encode())
    for array in (calc.data_model.data_vector, *arrays):
        values = np.ascontiguousarray(np.asarray(array, dtype=float))
        digest.update(f"{values.shape}".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def _engine_refusal(calc: LikelihoodCalculator, maximizer: Any, settings: Any) -> str:
    """Why the engine does not fit these toys (for the log)."""
    if settings is None:
        return f"the maximizer {type(maximizer).__name__} does not use the fitting engine"
    if getattr(calc.data_model, "_engine_poisson", False) is not True:
        return f"the data model {type(calc.data_model).__name__} does not opt in"
    if getattr(calc.systematics, "_engine_kind", None) not in ("marginal", "profile"):
        return f"the systematics treatment {calc.systematics!r} does not opt in"
    return (
        f"the predictor {type(calc.predictor).__name__} does not evaluate batches with "
        "constant weights, or its linear predictions can turn negative within the bounds"
    )


def _log_run(test: str, values: ToyValues, fitters: tuple[Any, ...], maximizer: Any) -> None:
    if values.refits:
        _LOG.info(
            "%s: %d of %d toy fits did not converge in the fitting engine and were "
            "repeated by %s (the better maximum kept)",
            test,
            values.refits,
            len(values.values) * len(fitters),
            type(maximizer).__name__,
        )


class HypothesisTester:
    """p-values of hypotheses about the parameters of a likelihood calculator.

    Toy p-values are Monte-Carlo estimates ``n / N``, where ``n`` counts the toys
    whose test statistic is less than or equal to the observed one.

    Toys come in blocks of a fixed size, each with its own random stream
    (``SeedSequence`` children of a root drawn from ``rng``), so the same seed
    gives the same p-value, to the last bit, whether the toys run in this process,
    through ``remu.likelihood.mapper`` or on an ``executor=`` with any number of
    workers. Without an executor the toys are drawn in this process and their fits
    go through ``remu.likelihood.mapper`` (as in ReMU; e.g. ``pool.map`` of a
    ``multiprocess.Pool``): one item per block of toys for the fitting engine's
    vectorised fits, one item per toy for fits one by one. With ``executor=`` (a
    :class:`concurrent.futures.Executor` or a ``distributed.Client``) chunks of
    blocks are sent to the workers, which draw and fit their toys; ``mapper`` is
    then not used.

    ``return_toys=True`` returns a :class:`~remu.likelihood.ToyResult` (p-value,
    binomial error, observed statistic, the toys' statistics; results of the same
    test merge with ``+``), and ``progress=True`` shows a progress bar of the toys
    (``pip install 'remu[progress]'``). The ``remu.likelihood`` logger reports
    toys that cannot use the fitting engine (INFO), and toy fits repeated without
    it because they did not converge (INFO).

    Parameters
    ----------
    likelihood_calculator : LikelihoodCalculator
        The data, predictor and systematics treatment.
    maximizer : LikelihoodMaximizer, optional
        Used for every fit; default a shared :class:`BasinHoppingMaximizer`.

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, MatrixPredictor, PoissonData
    >>> calc = LikelihoodCalculator(
    ...     PoissonData([0, 1, 2, 3]), MatrixPredictor(np.eye(4), bounds=[(0, np.inf)] * 4))
    >>> tester = HypothesisTester(calc)
    >>> float(tester.likelihood_p_value([0, 1, 2, 3], N=100, rng=0))
    1.0
    >>> float(tester.wilks_max_likelihood_ratio_p_value([0, 1, 2, 3], rng=0))
    1.0
    >>> result = tester.max_likelihood_p_value(N=200, rng=1, return_toys=True)
    >>> result.N, bool(0.0 <= result.p_value <= 1.0), bool(result.error < 0.04)
    (200, True, True)
    """

    _default_maximizer = BasinHoppingMaximizer()

    def __init__(
        self, likelihood_calculator: LikelihoodCalculator, maximizer: Any = _default_maximizer
    ) -> None:
        self.likelihood_calculator = likelihood_calculator
        self.maximizer = maximizer

    def _observed_fit(
        self, calc: LikelihoodCalculator, seed: int, *, statistic: bool = False
    ) -> Any:
        """Fit of the (observed) data of ``calc``, reused when the very same fit repeats.

        Scans call the p-value methods again and again with the same alternative
        hypothesis (and a goodness-of-fit test of the same model often comes first).
        Engine fits of linear predictors are kept by a fingerprint of
        everything they depend on (data, predictor arrays, bounds, defaults,
        systematics and maximizer settings; see ``remu._likelihood.engine.cache``),
        so a changed object never gets an old fit back. Other fits are not kept.
        ``statistic=True`` asks for the fit of a toy test's observed statistic
        (see :func:`_statistic_fit`).
        """
        cache = self.__dict__.get("_fit_cache")
        if cache is None:
            cache = self.__dict__["_fit_cache"] = FitCache()
        n_free = len(calc.predictor.defaults)
        if statistic:
            settings = toy_engine_settings(self.maximizer, n_free)
        else:
            settings = engine_settings(self.maximizer, n_free)
        key = None if settings is None else fit_key(calc, settings)
        fit = cache.get(key)
        if fit is None:
            fit = (_statistic_fit if statistic else _fit)(self.maximizer, calc, seed)
            cache.put(key, fit)
        return fit

    def _toy_fitter(self, calc: LikelihoodCalculator, start: np.ndarray, test: str) -> Any:
        """How the toys of ``calc`` are fitted: by the engine where it applies, else one by one."""
        n_free = len(calc.predictor.defaults)
        settings = toy_engine_settings(self.maximizer, n_free)
        model = None if settings is None else describe(calc, need_counts=False)
        if model is not None:
            if model.n == 0:
                # Nothing to fit: the maximum is the likelihood of the one point.
                return Evaluator(calc, np.empty(0), {})
            return EngineFitter(ToyChunkFit(model, calc, self.maximizer, settings, start))
        if _LOG.isEnabledFor(logging.INFO):
            _LOG.info(
                "%s: the toys are fitted one by one by %s: %s",
                test,
                type(self.maximizer).__name__,
                _engine_refusal(calc, self.maximizer, settings),
            )
        return PerToyFitter(calc, self.maximizer)

    @staticmethod
    def _bar(progress: ProgressLike, total: int, test: str) -> Any:
        return progress_bar(progress, total=total, desc=test.partition("(")[0], unit="toy")

    def likelihood_p_value(
        self,
        parameters: ArrayLike,
        N: int = 2500,
        *,
        rng: RNGLike = None,
        executor: Any = None,
        return_toys: bool = False,
        progress: ProgressLike = False,
        **kwargs: Any,
    ) -> Any:
        """Goodness of fit of simple hypotheses: fixed parameter vectors.

        For every parameter vector, ``N`` toy data sets are drawn from its
        prediction and evaluated (in blocks of 1024 toys, one vectorised call
        each); the p-value is the fraction of toys whose log-likelihood is not
        above the observed one.

        Parameters
        ----------
        parameters : array_like
            Shape ``([c, d, ...,] n_parameters)``.
        N : int, optional
            Number of toys per parameter vector.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness; ``None`` seeds from NumPy's global state.
        executor : concurrent.futures.Executor or distributed.Client, optional
            Runs the blocks of toys on its workers (same result as without).
        return_toys : bool, optional
            Return a :class:`~remu.likelihood.ToyResult` instead of the p-values.
        progress : bool or dict, optional
            A progress bar of the toys (tqdm; a dict holds tqdm options).
        **kwargs
            Passed on to the calculator and predictor (e.g. ``systematics_index=``).

        Returns
        -------
        ndarray or ToyResult
            Shape ``([c, d, ...])`` (0-d for one vector); data with several data
            sets ``(a, ..., n_bins)`` put their axes first. A ``ToyResult`` has
            ``observed`` and ``p_value`` of that shape and ``toys`` of shape
            ``([c, d, ...,] N)``: the toys of each parameter vector, shared by all
            data sets.

        Raises
        ------
        ValueError
            If ``N`` is not a positive integer, or a prediction cannot be drawn
            from.
        TypeError
            If ``executor`` is not an executor or a ``distributed.Client``.
        remu.errors.InputError
            If the parameter vectors have the wrong length.

        Examples
        --------
        >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
        >>> calc = LikelihoodCalculator(PoissonData([[3, 5], [30, 1]]), TemplatePredictor(np.eye(2)))
        >>> result = HypothesisTester(calc).likelihood_p_value(
        ...     [[3.0, 5.0], [4.0, 4.0], [9.0, 9.0]], N=500, rng=2, return_toys=True)
        >>> result.p_value.shape, result.toys.shape
        ((2, 3), (3, 500))
        """
        N = _check_n_toys(N)
        check_executor(executor)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        par = calc._as_parameters(parameters)
        shape = par.shape[:-1]
        flat = par.reshape(-1, par.shape[-1])
        test = f"likelihood_p_value(parameters={_describe_values(par)}"
        test += "".join(f", {k}={v!r}" for k, v in sorted(kwargs.items())) + ")"
        root = root_sequence(gen)
        observed = []
        runs = []
        for j, theta in enumerate(flat):
            observed.append(np.asarray(calc(theta, **kwargs), dtype=float))
            source = ToySource(calc, theta, kwargs)
            blocks = plan_blocks(N, EVALUATION_BLOCK, child(root, j))
            runs.append(ToyRun(source, (Evaluator(calc, theta, kwargs),), blocks))
        with self._bar(progress, N * len(flat), test) as bar:
            results = run_toys(
                runs, executor=executor, mapper=_mapper(), bar=bar, keep=[self.maximizer]
            )
        toys = np.array([r.values for r in results], dtype=float)  # (P, N)
        obs = np.array(observed, dtype=float)  # (P, a...)
        p = np.array(
            [np.sum(o[..., np.newaxis] >= t, axis=-1) / N for o, t in zip(obs, toys, strict=True)],
            dtype=float,
        )
        # Data-set axes (if any) first, then the parameters' batch axes.
        p = np.moveaxis(p, 0, -1) if p.ndim > 1 else p
        p_values = p.reshape(p.shape[:-1] + shape)
        if not return_toys:
            return p_values
        obs = np.moveaxis(obs, 0, -1) if obs.ndim > 1 else obs
        identity = _identity(test, calc, par)
        return ToyResult(
            test,
            obs.reshape(obs.shape[:-1] + shape),
            toys.reshape((*shape, N)),
            identity=identity,
        )

    def max_likelihood_p_value(
        self,
        fix_parameters: ArrayLike | None = None,
        N: int = 250,
        *,
        rng: RNGLike = None,
        executor: Any = None,
        return_toys: bool = False,
        progress: ProgressLike = False,
    ) -> Any:
        """Plug-in goodness of fit of a composite hypothesis.

        Fits the data, draws ``N`` toys from the best fit and re-fits each toy;
        the p-value is the fraction of toys whose maximum log-likelihood is not
        above the observed one.

        Parameters
        ----------
        fix_parameters : sequence, optional
            Values of fixed parameters, ``None``/``nan`` for free ones.
        N : int, optional
            Number of toys.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness for toys and fits.
        executor : concurrent.futures.Executor or distributed.Client, optional
            Fits the blocks of toys on its workers (same result as without).
        return_toys : bool, optional
            Return a :class:`~remu.likelihood.ToyResult` instead of the p-value.
        progress : bool or dict, optional
            A progress bar of the toys (tqdm; a dict holds tqdm options).

        Returns
        -------
        numpy.float64 or ToyResult

        Raises
        ------
        ValueError
            If ``N`` is not a positive integer.
        TypeError
            If ``executor`` is not an executor or a ``distributed.Client``.
        remu.errors.InputError
            If ``fix_parameters`` has the wrong length or a value outside its bounds.
        """
        N = _check_n_toys(N)
        check_executor(executor)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        if fix_parameters is not None:
            calc = calc.fix_parameters(fix_parameters)
        test = f"max_likelihood_p_value(fix_parameters={_describe_values(fix_parameters)})"
        opt = self._observed_fit(calc, _seeds(gen, 1)[0], statistic=True)
        observed = float(opt.log_likelihood)
        best = np.asarray(opt.x, dtype=float)
        blocks = plan_blocks(N, FIT_BLOCK, root_sequence(gen))
        fitter = self._toy_fitter(calc, best, test)
        run = ToyRun(ToySource(calc, best, {}), (fitter,), blocks)
        with self._bar(progress, N, test) as bar:
            (values,) = run_toys(
                [run], executor=executor, mapper=_mapper(), bar=bar, keep=[self.maximizer]
            )
        _log_run(test, values, run.fitters, self.maximizer)
        toy_ll = values.values
        if not return_toys:
            return np.sum(observed >= toy_ll) / N
        fixed = np.array([] if fix_parameters is None else fix_parameters, dtype=float)
        return ToyResult(test, observed, toy_ll, identity=_identity(test, calc, fixed))

    def _max_log_likelihood_ratio(
        self,
        likelihood_calculator: LikelihoodCalculator,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        return_parameters: bool = False,
        *,
        rng: RNGLike = None,
        statistic: bool = False,
    ) -> Any:
        gen = as_generator(rng)
        h0, h1 = self._hypotheses(likelihood_calculator, fix_parameters, alternative_fix_parameters)
        seed0, seed1 = _seeds(gen, 2)
        # H1 is the same at every point of a scan: its fit is kept; H0 changes.
        opt0 = (_statistic_fit if statistic else _fit)(self.maximizer, h0, seed0)
        opt1 = self._observed_fit(h1, seed1, statistic=statistic)
        ratio = opt0.log_likelihood - opt1.log_likelihood
        if return_parameters:
            return ratio, h0.predictor.insert_fixed_parameters(opt0.x)
        return ratio

    @staticmethod
    def _hypotheses(
        calc: LikelihoodCalculator, fix_parameters: ArrayLike, alternative: ArrayLike | None
    ) -> tuple[LikelihoodCalculator, LikelihoodCalculator]:
        h0 = calc.fix_parameters(fix_parameters)
        h1 = calc if alternative is None else calc.fix_parameters(alternative)
        return h0, h1

    def max_likelihood_ratio_p_value(
        self,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        N: int = 250,
        *,
        rng: RNGLike = None,
        executor: Any = None,
        return_toys: bool = False,
        progress: ProgressLike = False,
        **kwargs: Any,  # noqa: ARG002 (accepted and ignored, as by ReMU)
    ) -> Any:
        """Profile plug-in p-value of a hypothesis H0 nested in H1.

        Test statistic: the log of the maximum-likelihood ratio H0/H1. Toys are
        drawn from the H0 best fit; each toy is fitted under both hypotheses.

        Parameters
        ----------
        fix_parameters : sequence
            Fixed values defining H0 (``None``/``nan`` = free).
        alternative_fix_parameters : sequence, optional
            Fixed values defining H1; default all parameters free.
        N : int, optional
            Number of toys.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness for toys and fits.
        executor : concurrent.futures.Executor or distributed.Client, optional
            Fits the blocks of toys on its workers (same result as without).
        return_toys : bool, optional
            Return a :class:`~remu.likelihood.ToyResult` instead of the p-value.
        progress : bool or dict, optional
            A progress bar of the toys (tqdm; a dict holds tqdm options).
        **kwargs
            Ignored (as in ReMU).

        Returns
        -------
        numpy.float64 or ToyResult

        Raises
        ------
        ValueError
            If ``N`` is not a positive integer.
        TypeError
            If ``executor`` is not an executor or a ``distributed.Client``.
        remu.errors.InputError
            If the fixed values have the wrong length or lie outside their bounds.
        """
        N = _check_n_toys(N)
        check_executor(executor)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        test = (
            f"max_likelihood_ratio_p_value(fix_parameters={_describe_values(fix_parameters)}, "
            f"alternative_fix_parameters={_describe_values(alternative_fix_parameters)})"
        )
        observed, theta0 = self._max_log_likelihood_ratio(
            calc,
            fix_parameters,
            alternative_fix_parameters,
            return_parameters=True,
            rng=gen,
            statistic=True,
        )
        h0, h1 = self._hypotheses(calc, fix_parameters, alternative_fix_parameters)
        free0 = np.isnan(np.array(fix_parameters, dtype=float))
        free1 = (
            np.ones_like(free0)
            if alternative_fix_parameters is None
            else np.isnan(np.array(alternative_fix_parameters, dtype=float))
        )
        fitters = (
            self._toy_fitter(h0, theta0[free0], test),
            self._toy_fitter(h1, theta0[free1], test),
        )
        blocks = plan_blocks(N, FIT_BLOCK, root_sequence(gen))
        run = ToyRun(ToySource(calc, np.asarray(theta0, dtype=float), {}), fitters, blocks)
        with self._bar(progress, N, test) as bar:
            (values,) = run_toys(
                [run], executor=executor, mapper=_mapper(), bar=bar, keep=[self.maximizer]
            )
        _log_run(test, values, fitters, self.maximizer)
        ratios = values.values
        if not return_toys:
            return np.sum(observed >= ratios, axis=-1) / N
        alternative = np.array(
            [] if alternative_fix_parameters is None else alternative_fix_parameters, dtype=float
        )
        identity = _identity(test, calc, np.array(fix_parameters, dtype=float), alternative)
        return ToyResult(test, float(observed), ratios, identity=identity)

    def wilks_max_likelihood_ratio_p_value(
        self,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        *,
        rng: RNGLike = None,
        **kwargs: Any,  # noqa: ARG002 (accepted and ignored, as by ReMU)
    ) -> np.float64:
        """Asymptotic (Wilks) p-value of the maximum-likelihood ratio.

        ``chi2.sf(-2 * log(L0_max / L1_max), ndof)`` with ``ndof`` the number of
        parameters fixed in H0 but free in H1. No toys.

        Parameters
        ----------
        fix_parameters : sequence
            Fixed values defining H0 (``None``/``nan`` = free).
        alternative_fix_parameters : sequence, optional
            Fixed values defining H1; default all parameters free.
        rng : None, int, SeedSequence or Generator, optional
            Randomness of the fits.
        **kwargs
            Ignored (as in ReMU).

        Returns
        -------
        numpy.float64
            ``nan`` if ``ndof == 0``.
        """
        ratio = self._max_log_likelihood_ratio(
            self.likelihood_calculator, fix_parameters, alternative_fix_parameters, rng=rng
        )
        ndof = _degrees_of_freedom(fix_parameters, alternative_fix_parameters)
        with np.errstate(invalid="ignore"):  # ndof == 0 gives nan, as in ReMU
            p_value: np.float64 = stats.chi2.sf(-2 * ratio, df=ndof)
        return p_value

    def wilks_max_likelihood_ratio_p_values(
        self,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        *,
        rng: RNGLike = None,
    ) -> np.ndarray:
        """Wilks p-values of many hypotheses at once: a whole scan in one call.

        Row ``i`` of the result is what
        ``wilks_max_likelihood_ratio_p_value(fix_parameters[i],
        alternative_fix_parameters)`` gives, but the alternative H1 is fitted once and,
        where the fitting engine applies, all hypotheses with the same free
        parameters are fitted together (each one warm-started also at the H1 best
        fit).

        Parameters
        ----------
        fix_parameters : array_like
            Shape ``(n_points, n_parameters)``: the fixed values of every H0
            (``None``/``nan`` = free).
        alternative_fix_parameters : sequence, optional
            Fixed values defining H1, shared by all points; default all free.
        rng : None, int, SeedSequence or Generator, optional
            Randomness of the fits.

        Returns
        -------
        ndarray
            Shape ``(n_points,)``; ``nan`` where ``ndof == 0``.

        Raises
        ------
        remu.errors.InputError
            If ``fix_parameters`` is not a 2-D array with one column per parameter,
            or a fixed value is outside its bounds.

        Examples
        --------
        >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
        >>> calc = LikelihoodCalculator(PoissonData([10, 20]), TemplatePredictor(np.eye(2)))
        >>> tester = HypothesisTester(calc)
        >>> scan = [[None, value] for value in (10.0, 20.0, 30.0)]
        >>> tester.wilks_max_likelihood_ratio_p_values(scan, rng=0).round(4)
        array([0.0054, 1.    , 0.0518])
        """
        calc = self.likelihood_calculator
        n = calc._n_parameters
        points = np.array(fix_parameters, dtype=float)
        if points.ndim != 2 or points.shape[1] != n:
            msg = (
                f"fix_parameters must have shape (n_points, {n}): one row of fixed values "
                f"per hypothesis; got shape {points.shape}"
            )
            raise InputError(msg)
        gen = as_generator(rng)
        h0s = [calc.fix_parameters(point) for point in points]  # also checks the bounds
        h1 = (
            calc
            if alternative_fix_parameters is None
            else calc.fix_parameters(alternative_fix_parameters)
        )
        opt1 = self._observed_fit(h1, _seeds(gen, 1)[0])
        best1 = np.asarray(opt1.x, dtype=float)
        if alternative_fix_parameters is not None:
            best1 = h1.predictor.insert_fixed_parameters(best1)
        ll0 = np.empty(len(points))
        free = np.isnan(points)
        for mask in np.unique(free, axis=0):
            rows = np.flatnonzero(np.all(free == mask, axis=-1))
            ll0[rows] = self._scan_maxima(calc, points[rows], [h0s[i] for i in rows], best1, gen)
        ndof = np.array(
            [_degrees_of_freedom(point, alternative_fix_parameters) for point in points]
        )
        with np.errstate(invalid="ignore"):  # ndof == 0 gives nan, as in ReMU
            return np.asarray(stats.chi2.sf(-2 * (ll0 - opt1.log_likelihood), df=ndof))

    def _scan_maxima(
        self,
        calc: LikelihoodCalculator,
        points: np.ndarray,
        h0s: list[LikelihoodCalculator],
        warm_start: np.ndarray,
        gen: np.random.Generator,
    ) -> np.ndarray:
        """Maximum log-likelihood of hypotheses that share their free parameters."""
        n_free = int(np.sum(np.isnan(points[0])))
        if n_free == 0:
            return np.array([float(_fit(self.maximizer, h0, 0).log_likelihood) for h0 in h0s])
        settings = engine_settings(self.maximizer, n_free)
        scan = None if settings is None else fit_scan(calc, points, settings, gen, warm_start)
        if scan is None:
            seeds = _seeds(gen, len(h0s))
            return np.array(
                [
                    float(_fit(self.maximizer, h0, seed).log_likelihood)
                    for h0, seed in zip(h0s, seeds, strict=True)
                ]
            )
        maxima = np.array(scan.log_likelihood, dtype=float)
        for i in np.flatnonzero(~scan.success):
            # Not converged in the engine: scipy's fit of that point, the better one kept.
            fit = self.maximizer._fit_without_engine(h0s[i], gen)
            maxima[i] = max(maxima[i], float(fit.log_likelihood))
        return maxima


def _degrees_of_freedom(fix_parameters: ArrayLike, alternative: ArrayLike | None) -> int:
    """Parameters fixed in H0 but free in H1."""
    n_fix = len(np.atleast_1d(np.array(fix_parameters, dtype=float)))
    if alternative is None:
        return n_fix - _count_free(fix_parameters)
    return _count_free(alternative) - _count_free(fix_parameters)
