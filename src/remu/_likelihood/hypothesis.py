"""Hypothesis tests: toy Monte Carlo and Wilks p-values."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from remu._likelihood.calculator import LikelihoodCalculator
from remu._likelihood.engine.api import fit_scan, fit_toys, toy_log_likelihoods
from remu._likelihood.engine.cache import FitCache, fit_key
from remu._likelihood.engine.eligibility import engine_settings
from remu._likelihood.maximizers import (
    BasinHoppingMaximizer,
    LikelihoodMaximizer,
    accepts_rng,
)
from remu._rng import RNGLike, as_generator
from remu._state import get_mapper
from remu.errors import InputError

__all__ = ["HypothesisTester"]


def _mapper() -> Any:
    """The user-replaceable ``remu.likelihood.mapper``, looked up at call time."""
    return get_mapper("likelihood")


def _seeds(gen: np.random.Generator, n: int) -> list[int]:
    """Independent seeds for fits, drawn in the caller so mapped fits are reproducible."""
    return [int(s) for s in gen.integers(0, 2**63 - 1, size=n, dtype=np.int64)]


def _fit(maximizer: Any, calculator: LikelihoodCalculator, seed: int) -> Any:
    """One fit, seeded if the maximizer asks for a seed (an explicit ``rng`` parameter)."""
    fit = getattr(maximizer, "maximize_log_likelihood", None)
    if isinstance(maximizer, LikelihoodMaximizer) and fit is not None and accepts_rng(fit):
        return fit(calculator, rng=seed)
    return maximizer(calculator)


class _ToyMaxLogLikelihood:
    """Fit one toy data set: a picklable function for ``mapper``."""

    def __init__(self, calculator: LikelihoodCalculator, maximizer: Any) -> None:
        self.calculator = calculator
        self.maximizer = maximizer

    def __call__(self, toy: tuple[Any, int]) -> float:
        data, seed = toy
        return float(_fit(self.maximizer, self.calculator._with_data(data), seed).log_likelihood)


class _ToyMaxLogLikelihoodRatio:
    """Fit one toy data set under H0 and H1: a picklable function for ``mapper``."""

    def __init__(self, h0: LikelihoodCalculator, h1: LikelihoodCalculator, maximizer: Any) -> None:
        self.h0 = h0
        self.h1 = h1
        self.maximizer = maximizer

    def __call__(self, toy: tuple[Any, int]) -> float:
        data, seed = toy
        seed0, seed1 = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
        opt0 = _fit(self.maximizer, self.h0._with_data(data), int(seed0))
        opt1 = _fit(self.maximizer, self.h1._with_data(data), int(seed1))
        return float(opt0.log_likelihood - opt1.log_likelihood)


def _check_n_toys(N: Any) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        msg = f"the number of toys N must be a positive integer; got {N!r}"
        raise ValueError(msg)
    return int(N)


def _count_free(values: Any) -> int:
    return int(np.sum(np.isnan(np.array(values, dtype=float))))


class HypothesisTester:
    """p-values of hypotheses about the parameters of a likelihood calculator.

    Toy p-values are Monte-Carlo estimates ``n / N``, where ``n`` counts the toys
    whose test statistic is less than or equal to the observed one. Toy data are
    drawn all at once in the calling process; per-toy fits go through
    ``remu.likelihood.mapper`` (set it to ``pool.map`` of a ``multiprocess.Pool``
    to fit in parallel).

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
    """

    _default_maximizer = BasinHoppingMaximizer()

    def __init__(
        self, likelihood_calculator: LikelihoodCalculator, maximizer: Any = _default_maximizer
    ) -> None:
        self.likelihood_calculator = likelihood_calculator
        self.maximizer = maximizer

    def _observed_fit(self, calc: LikelihoodCalculator, seed: int) -> Any:
        """Fit of the (observed) data of ``calc``, reused when the very same fit repeats.

        Scans call the p-value methods again and again with the same alternative
        hypothesis (and a goodness-of-fit test of the same model often comes first).
        Engine fits of linear predictors are kept by a fingerprint of
        everything they depend on (data, predictor arrays, bounds, defaults,
        systematics and maximizer settings; see ``remu._likelihood.engine.cache``),
        so a changed object never gets an old fit back. Other fits are not kept.
        """
        cache = self.__dict__.get("_fit_cache")
        if cache is None:
            cache = self.__dict__["_fit_cache"] = FitCache()
        settings = engine_settings(self.maximizer, len(calc.predictor.defaults))
        key = None if settings is None else fit_key(calc, settings)
        fit = cache.get(key)
        if fit is None:
            fit = _fit(self.maximizer, calc, seed)
            cache.put(key, fit)
        return fit

    def likelihood_p_value(
        self, parameters: ArrayLike, N: int = 2500, *, rng: RNGLike = None, **kwargs: Any
    ) -> np.ndarray:
        """Goodness of fit of simple hypotheses: fixed parameter vectors.

        For every parameter vector, ``N`` toy data sets are drawn from its
        prediction and all evaluated in one vectorised call; the p-value is the
        fraction of toys whose log-likelihood is not above the observed one.

        Parameters
        ----------
        parameters : array_like
            Shape ``([c, d, ...,] n_parameters)``.
        N : int, optional
            Number of toys per parameter vector.
        rng : None, int, SeedSequence or Generator, optional
            Source of randomness; ``None`` seeds from NumPy's global state.
        **kwargs
            Passed on to the calculator and predictor (e.g. ``systematics_index=``).

        Returns
        -------
        ndarray
            Shape ``([c, d, ...])`` (0-d for one vector); data with several data
            sets ``(a, ..., n_bins)`` put their axes first.
        """
        N = _check_n_toys(N)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        par = calc._as_parameters(parameters)
        shape = par.shape[:-1]
        flat = par.reshape(-1, par.shape[-1])
        p_values = []
        for theta in flat:
            observed = np.asarray(calc(theta, **kwargs), dtype=float)
            toys = calc._generate_toy_data(theta, N, gen, **kwargs)
            toy_ll = toy_log_likelihoods(calc, toys, theta, **kwargs)
            p_values.append(np.sum(observed[..., np.newaxis] >= toy_ll, axis=-1) / N)
        p = np.array(p_values, dtype=float)
        # Data-set axes (if any) first, then the parameters' batch axes.
        p = np.moveaxis(p, 0, -1) if p.ndim > 1 else p
        return p.reshape(p.shape[:-1] + shape)

    def max_likelihood_p_value(
        self, fix_parameters: ArrayLike | None = None, N: int = 250, *, rng: RNGLike = None
    ) -> np.float64:
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

        Returns
        -------
        numpy.float64
        """
        N = _check_n_toys(N)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        if fix_parameters is not None:
            calc = calc.fix_parameters(fix_parameters)
        opt = self._observed_fit(calc, _seeds(gen, 1)[0])
        observed = float(opt.log_likelihood)
        toys = calc._generate_toy_data(opt.x, N, gen)
        toy_ll = self._toy_maxima(calc, toys, gen, np.asarray(opt.x, dtype=float))
        return np.sum(observed >= toy_ll) / N

    def _toy_maxima(
        self,
        calc: LikelihoodCalculator,
        toys: Any,
        gen: np.random.Generator,
        start: np.ndarray | None = None,
    ) -> np.ndarray:
        """Maximum log-likelihood of every toy: all at once where possible, else one by one.

        ``start`` (the fit the toys were drawn from) is a further starting point of
        the engine's fits.
        """
        toy_ll = fit_toys(calc, self.maximizer, toys, gen, _mapper(), start)
        return self._fit_each(calc, toys, gen) if toy_ll is None else toy_ll

    def _fit_each(
        self, calc: LikelihoodCalculator, toys: Any, gen: np.random.Generator
    ) -> np.ndarray:
        """Maximum log-likelihood of every toy, one fit per toy through ``mapper``."""
        fit_one = _ToyMaxLogLikelihood(calc, self.maximizer)
        jobs = list(zip(toys, _seeds(gen, len(toys)), strict=True))
        return np.asarray(list(_mapper()(fit_one, jobs)), dtype=float)

    def _max_log_likelihood_ratio(
        self,
        likelihood_calculator: LikelihoodCalculator,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        return_parameters: bool = False,
        *,
        rng: RNGLike = None,
    ) -> Any:
        gen = as_generator(rng)
        h0, h1 = self._hypotheses(likelihood_calculator, fix_parameters, alternative_fix_parameters)
        seed0, seed1 = _seeds(gen, 2)
        # H1 is the same at every point of a scan: its fit is kept; H0 changes.
        opt0 = _fit(self.maximizer, h0, seed0)
        opt1 = self._observed_fit(h1, seed1)
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
        **kwargs: Any,
    ) -> np.float64:
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
        **kwargs
            Ignored (as in ReMU).

        Returns
        -------
        numpy.float64
        """
        N = _check_n_toys(N)
        gen = as_generator(rng)
        calc = self.likelihood_calculator
        observed, theta0 = self._max_log_likelihood_ratio(
            calc, fix_parameters, alternative_fix_parameters, return_parameters=True, rng=gen
        )
        toys = calc._generate_toy_data(theta0, N, gen)
        h0, h1 = self._hypotheses(calc, fix_parameters, alternative_fix_parameters)
        free0 = np.isnan(np.array(fix_parameters, dtype=float))
        free1 = (
            np.ones_like(free0)
            if alternative_fix_parameters is None
            else np.isnan(np.array(alternative_fix_parameters, dtype=float))
        )
        starts = (theta0[free0], theta0[free1])
        ratios = self._toy_ratios(h0, h1, toys, gen, starts)
        return np.sum(observed >= ratios, axis=-1) / N

    def _toy_ratios(
        self,
        h0: LikelihoodCalculator,
        h1: LikelihoodCalculator,
        toys: Any,
        gen: np.random.Generator,
        starts: tuple[np.ndarray, np.ndarray] | tuple[None, None] = (None, None),
    ) -> np.ndarray:
        """Log max-likelihood ratio H0/H1 of every toy (vectorised fits where possible).

        A hypothesis that cannot be fitted vectorised is fitted toy by toy; when
        neither can, each mapped job fits one toy under both (as the reference does).
        """
        mapper = _mapper()
        ll0 = fit_toys(h0, self.maximizer, toys, gen, mapper, starts[0])
        ll1 = fit_toys(h1, self.maximizer, toys, gen, mapper, starts[1])
        if ll0 is None and ll1 is None:
            fit_one = _ToyMaxLogLikelihoodRatio(h0, h1, self.maximizer)
            jobs = list(zip(toys, _seeds(gen, len(toys)), strict=True))
            return np.asarray(list(mapper(fit_one, jobs)), dtype=float)
        if ll0 is None:
            ll0 = self._fit_each(h0, toys, gen)
        if ll1 is None:
            ll1 = self._fit_each(h1, toys, gen)
        return ll0 - ll1

    def wilks_max_likelihood_ratio_p_value(
        self,
        fix_parameters: ArrayLike,
        alternative_fix_parameters: ArrayLike | None = None,
        *,
        rng: RNGLike = None,
        **kwargs: Any,
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
            return stats.chi2.sf(-2 * ratio, df=ndof)

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
