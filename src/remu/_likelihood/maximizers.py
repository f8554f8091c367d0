"""Maximum-likelihood fits."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from remu._rng import RNGLike, as_generator
from remu._threads import single_blas_thread

__all__ = ["BasinHoppingMaximizer", "LikelihoodMaximizer"]

# scipy >= 1.15 calls the basinhopping generator argument ``rng``, older versions ``seed``.
_BASINHOPPING_RNG = (
    "rng" if "rng" in inspect.signature(optimize.basinhopping).parameters else "seed"
)


class _NegativeLogLikelihood:
    """``x -> -log L(x)`` as a picklable object (fits may run in worker processes)."""

    def __init__(self, likelihood_calculator: Any) -> None:
        self.likelihood_calculator = likelihood_calculator

    def __call__(self, x: NDArray[np.float64]) -> float:
        return -float(self.likelihood_calculator(x))


class LikelihoodMaximizer:
    """Abstract maximiser of a :class:`LikelihoodCalculator`.

    Subclasses implement :meth:`minimize`.
    """

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
            state.
        **kwargs
            Passed on to :meth:`minimize`.

        Returns
        -------
        scipy.optimize.OptimizeResult
            With ``x`` (best parameters), ``fun`` (``-max log L``),
            ``log_likelihood`` (``max log L``) and, from the minimiser, ``success``
            etc. Without free parameters: ``x`` is empty and ``success`` is True.
        """
        fun = _NegativeLogLikelihood(likelihood_calculator)
        predictor = likelihood_calculator.predictor
        x0 = np.asarray(predictor.defaults, dtype=float)
        bounds = np.asarray(predictor.bounds, dtype=float).reshape(len(x0), 2)
        if len(x0) == 0:
            x = np.ndarray(0)
            value = fun(x)
            return optimize.OptimizeResult(
                x=x, fun=value, log_likelihood=-value, success=True, nfev=1
            )
        if rng is not None:
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

    def minimize(
        self, fun: Any, x0: Any, bounds: Any, *, rng: RNGLike = None, **kwargs: Any
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
