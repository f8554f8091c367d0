"""Maximum-likelihood fits.

:class:`LikelihoodMaximizer` is the extension point: a subclass implements
``minimize(fun, x0, bounds)`` (with or without ``**kwargs``). The default
:class:`BasinHoppingMaximizer` opts in to the fitting engine
(:mod:`remu._likelihood.engine`) through ``_engine_settings``, and falls back to
scipy's ``basinhopping`` wherever the engine does not apply.

Seeds: a maximizer receives ``rng=`` only if it asks for it, by an explicit
parameter named ``rng`` -- of ``maximize_log_likelihood`` (for the hypothesis
tester, which seeds every fit) and of ``minimize`` (for
``LikelihoodMaximizer.maximize_log_likelihood``, which passes its seed on). A
``minimize(self, fun, x0, bounds, **kwargs)`` that forwards its keyword arguments
to scipy therefore never sees a seed it did not ask for.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from remu._likelihood.engine.api import fit_one
from remu._likelihood.engine.hopping import HopSettings
from remu._likelihood.optin import reset_stale_hooks
from remu._logging import get_logger
from remu._rng import RNGLike, as_generator
from remu._threads import single_blas_thread

__all__ = ["BasinHoppingMaximizer", "LikelihoodMaximizer", "accepts_rng"]

# scipy >= 1.15 calls the basinhopping generator argument ``rng``, older versions ``seed``.
_LOG = get_logger("likelihood")

_BASINHOPPING_RNG = (
    "rng" if "rng" in inspect.signature(optimize.basinhopping).parameters else "seed"
)


# The methods whose behaviour an ``_engine_settings`` opt-in describes.
_ENGINE_BEHAVIOUR = ("minimize", "maximize_log_likelihood", "__call__")


def accepts_rng(method: Any) -> bool:
    """Whether ``method`` has an explicit parameter named ``rng`` (``**kwargs`` does not count).

    Parameters
    ----------
    method : callable

    Returns
    -------
    bool

    Examples
    --------
    >>> accepts_rng(lambda fun, x0, bounds, *, rng=None: None)
    True
    >>> accepts_rng(lambda fun, x0, bounds, **kwargs: None)
    False
    """
    try:
        parameter = inspect.signature(method).parameters.get("rng")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


class _NegativeLogLikelihood:
    """``x -> -log L(x)`` as a picklable object (fits may run in worker processes)."""

    def __init__(self, likelihood_calculator: Any) -> None:
        self.likelihood_calculator = likelihood_calculator

    def __call__(self, x: NDArray[np.float64]) -> float:
        return -float(self.likelihood_calculator(x))


class LikelihoodMaximizer:
    """Abstract maximiser of a :class:`LikelihoodCalculator`.

    Subclasses implement :meth:`minimize`, as ``minimize(self, fun, x0, bounds)``
    with or without ``**kwargs``; an explicit ``rng`` parameter receives the seed of
    each fit (see the module notes).

    Notes
    -----
    ``_engine_settings(n_free)`` returns the settings of the fitting engine, or
    ``None`` (the default): fits then call :meth:`minimize`. A subclass that
    overrides :meth:`minimize`, :meth:`maximize_log_likelihood` or ``__call__``
    without defining ``_engine_settings`` itself gets the default, so its own
    method is what fits.

    Examples
    --------
    >>> from scipy import optimize
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> class LocalFit(LikelihoodMaximizer):
    ...     def minimize(self, fun, x0, bounds, **kwargs):
    ...         return optimize.minimize(fun, x0, bounds=bounds, **kwargs)
    >>> calc = LikelihoodCalculator(PoissonData([4, 9]), TemplatePredictor([[1.0, 2.0]]))
    >>> round(float(LocalFit()(calc, rng=1).x[0]), 4)
    4.3333
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass that fits its own way must not keep an inherited engine opt-in.
        super().__init_subclass__(**kwargs)
        reset_stale_hooks(
            cls, "_engine_settings", _ENGINE_BEHAVIOUR, LikelihoodMaximizer._engine_settings
        )
        reset_stale_hooks(
            cls,
            "_toy_engine_settings",
            _ENGINE_BEHAVIOUR,
            LikelihoodMaximizer._toy_engine_settings,
        )

    # ``n_free`` is for the subclasses that fit with the engine; this one has none.
    def _engine_settings(self, n_free: int) -> HopSettings | None:  # noqa: ARG002
        """Return the fitting engine's settings for ``n_free`` parameters; ``None`` (no engine)."""
        return None

    def _toy_engine_settings(self, n_free: int) -> HopSettings | None:
        """Return the engine settings of the maxima of toy p-values; default: those of every fit.

        Toy p-values need only the maximum of each toy. A maximizer whose own fits
        give more (e.g. uncertainties) may still have its toys fitted by the engine,
        all at once, by returning settings here.
        """
        return self._engine_settings(n_free)

    def minimize(self, fun: Any, x0: Any, bounds: Any, **kwargs: Any) -> optimize.OptimizeResult:
        """Minimise ``fun`` from ``x0`` within ``bounds`` (implemented in subclasses).

        Parameters
        ----------
        fun : callable
            Function of one parameter vector.
        x0 : ndarray
            Starting point, shape ``(n,)``.
        bounds : ndarray
            Shape ``(n, 2)``; entries may be infinite.
        **kwargs
            Options of the subclass (``rng=`` for :class:`BasinHoppingMaximizer`).

        Returns
        -------
        scipy.optimize.OptimizeResult
            With at least ``x`` and ``fun``.

        Raises
        ------
        NotImplementedError
            Always, in the base class.
        """
        msg = "Must be implemented in a subclass!"
        raise NotImplementedError(msg)

    def maximize_log_likelihood(
        self, likelihood_calculator: Any, *, rng: RNGLike = None, **kwargs: Any
    ) -> optimize.OptimizeResult:
        """Fit the parameters of a likelihood calculator.

        Parameters
        ----------
        likelihood_calculator : LikelihoodCalculator
            Starts from its predictor's defaults, within its bounds.
        rng : None, int, SeedSequence or Generator, optional
            Randomness of stochastic maximisers; ``None`` seeds from NumPy's global
            state. Passed to :meth:`minimize` only if it has a parameter ``rng``.
        **kwargs
            Passed on to :meth:`minimize`.

        Returns
        -------
        scipy.optimize.OptimizeResult
            With ``x`` (best parameters), ``fun`` (``-max log L``),
            ``log_likelihood`` (``max log L``) and, from the minimiser, ``success``
            etc. Without free parameters: ``x`` is empty and ``success`` is True.
        """
        predictor = likelihood_calculator.predictor
        n_free = len(predictor.defaults)
        if n_free == 0:
            x = np.ndarray(0)
            value = _NegativeLogLikelihood(likelihood_calculator)(x)
            return optimize.OptimizeResult(
                x=x, fun=value, log_likelihood=-value, success=True, nfev=1
            )
        settings = self._engine_settings(n_free)
        fit = None if settings is None else fit_one(likelihood_calculator, settings, rng)
        if fit is not None and fit.success:
            return fit
        if settings is not None and _LOG.isEnabledFor(logging.INFO):
            reason = "does not apply to this model" if fit is None else "did not converge"
            _LOG.info(
                "%s: the fitting engine %s; fitting with %s.minimize (scipy)",
                type(self).__name__,
                reason,
                type(self).__name__,
            )
        other = self._fit_without_engine(likelihood_calculator, rng, **kwargs)
        if fit is not None and fit.log_likelihood >= other.log_likelihood:
            return fit
        return other

    def _fit_without_engine(
        self, likelihood_calculator: Any, rng: RNGLike = None, **kwargs: Any
    ) -> optimize.OptimizeResult:
        """Fit with :meth:`minimize` (also the fallback of the engine)."""
        fun = _NegativeLogLikelihood(likelihood_calculator)
        predictor = likelihood_calculator.predictor
        x0 = np.asarray(predictor.defaults, dtype=float)
        bounds = np.asarray(predictor.bounds, dtype=float).reshape(len(x0), 2)
        if rng is not None and accepts_rng(self.minimize):
            kwargs["rng"] = rng
        # -log L is +inf where the data are impossible: the minimiser's finite
        # differences then meet inf - inf, which it handles (as intended).
        with single_blas_thread(), np.errstate(invalid="ignore", over="ignore"):
            opt = self.minimize(fun, x0, bounds, **kwargs)
        opt.log_likelihood = -opt.fun
        return opt

    def __call__(self, *args: Any, **kwargs: Any) -> optimize.OptimizeResult:
        """Shortcut for :meth:`maximize_log_likelihood`."""
        return self.maximize_log_likelihood(*args, **kwargs)


class BasinHoppingMaximizer(LikelihoodMaximizer):
    """Global maximiser using :func:`scipy.optimize.basinhopping`.

    Defaults: ``niter=10``, temperature ``T`` = number of free parameters (log-
    likelihood changes of the order of the degrees of freedom are expected) and
    bounded local minimisations (L-BFGS-B).

    Poisson data with marginal or profile systematics and a predictor that
    evaluates batches are fitted by remu's fitting engine instead: the same
    basin-hopping steps (the ``niter`` hops run as up to ten parallel chains), with
    bounded Newton local fits that use the exact gradient and Hessian of linear
    predictors (finite differences otherwise), and also fits to every single
    systematic variation of linear predictors. It is never worse than scipy's fit
    (a fit that does not converge is repeated by scipy, and the better one kept).
    Options other than ``niter``, ``T``, ``stepsize``, ``interval``,
    ``niter_success``, ``target_accept_rate``, ``stepwise_factor`` and
    ``seed``/``rng`` (e.g. ``minimizer_kwargs``, ``take_step``) select scipy.

    Parameters
    ----------
    **kwargs
        Passed to ``basinhopping``, replacing the defaults (a ``minimizer_kwargs``
        given here replaces the default ``{"bounds": bounds}`` entirely).

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, MatrixPredictor, PoissonData
    >>> calc = LikelihoodCalculator(
    ...     PoissonData([0, 1, 2, 3]), MatrixPredictor(np.eye(4), bounds=[(0, np.inf)] * 4))
    >>> fit = BasinHoppingMaximizer()(calc, rng=0)
    >>> fit.x.round(3), bool(fit.success)
    (array([0., 1., 2., 3.]), True)
    """

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def _engine_settings(self, n_free: int) -> HopSettings | None:
        """Return the engine's settings from the constructor options, if it can honour them."""
        return HopSettings.from_options(getattr(self, "kwargs", {}), n_free)

    def minimize(
        self,
        fun: Any,
        x0: Any,
        bounds: Any,
        *,
        rng: RNGLike = None,
        **kwargs: Any,  # noqa: ARG002 (accepted and ignored, as by ReMU)
    ) -> optimize.OptimizeResult:
        """Run basinhopping on ``fun`` from ``x0``.

        Parameters
        ----------
        fun : callable
            Function to minimise.
        x0 : ndarray
            Starting point.
        bounds : ndarray
            Shape ``(n, 2)``, given to the local minimiser.
        rng : None, int, SeedSequence or Generator, optional
            Randomness of the steps; ``None`` seeds from NumPy's global state. A
            ``seed``/``rng`` given to the constructor takes precedence.
        **kwargs
            Ignored (as in ReMU); configure the maximiser in its constructor.

        Returns
        -------
        scipy.optimize.OptimizeResult
            basinhopping's result.
        """
        args: dict[str, Any] = {"T": len(x0), "niter": 10, "minimizer_kwargs": {"bounds": bounds}}
        args.update(self.kwargs)
        if "seed" not in self.kwargs and "rng" not in self.kwargs:
            args[_BASINHOPPING_RNG] = as_generator(rng)
        return optimize.basinhopping(fun, x0, **args)
