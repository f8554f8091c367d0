"""Fits with iminuit (MIGRAD, HESSE and MINOS): parameter uncertainties for every fit.

:class:`MinuitMaximizer` is a :class:`~remu._likelihood.maximizers.LikelihoodMaximizer`:
it fits wherever a maximizer is accepted (direct fits, every method of
``HypothesisTester``, toys). Minuit minimises ``-log L``, so ``errordef`` is 0.5
(``Minuit.LIKELIHOOD``): the HESSE errors and MINOS intervals are those of
``Delta log L = 0.5``, one standard deviation.

Toys: a toy p-value needs only the maximum of each toy. Where the fitting engine
applies (see :mod:`remu._likelihood.optin`), the toys of a ``MinuitMaximizer`` --
and the observed statistic they are compared with -- are fitted by the engine,
all at once and with the same algorithm (``_toy_engine_settings``): its global
basin-hopping fits with exact derivatives reach Minuit's local maximum or a higher
one, far faster than one MIGRAD per toy. Toys whose engine fit does not converge
are repeated by MIGRAD, the better maximum kept. ``toy_fits="minuit"`` fits every
toy with MIGRAD instead (as any other maximizer without the engine).

iminuit is an optional dependency (``pip install 'remu[iminuit]'``), imported when
a fit runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from remu._likelihood.engine.hopping import HopSettings
from remu._likelihood.maximizers import LikelihoodMaximizer
from remu._optional import optional_import

__all__ = ["MinuitMaximizer"]

_TOY_FITS = ("engine", "minuit")


def _minuit_class() -> Any:
    return optional_import("iminuit", feature="MinuitMaximizer").Minuit


def _limits(bounds: NDArray[np.float64]) -> list[tuple[float | None, float | None]]:
    return [
        (float(lo) if np.isfinite(lo) else None, float(hi) if np.isfinite(hi) else None)
        for lo, hi in bounds
    ]


def _initial_steps(x0: NDArray[np.float64], bounds: NDArray[np.float64]) -> NDArray[np.float64]:
    """MIGRAD's first steps: a tenth of each value (0.1 for zeros), within the bounds' width."""
    steps = np.where(x0 != 0.0, 0.1 * np.abs(x0), 0.1)
    width = bounds[:, 1] - bounds[:, 0]
    return np.where(np.isfinite(width) & (width > 0), np.minimum(steps, 0.1 * width), steps)


class MinuitMaximizer(LikelihoodMaximizer):
    """Maximum-likelihood fits with iminuit: MIGRAD, then HESSE, MINOS on request.

    A local fit from the predictor's defaults (unlike the global
    :class:`BasinHoppingMaximizer`); on problems with a single maximum both give the
    same result. The result adds Minuit's uncertainties to the usual fields.

    Parameters
    ----------
    minos : bool or sequence of int, optional
        ``True`` runs MINOS for every free parameter, a sequence for the parameters
        of these indices (of the free parameters); default none.
    cl : float, optional
        Confidence level of the MINOS intervals (iminuit's ``cl``: a probability,
        or a number of standard deviations if >= 1); default one standard
        deviation.
    strategy : {0, 1, 2}, optional
        Minuit's strategy (more derivative evaluations for higher values).
    tol : float, optional
        Minuit's tolerance: MIGRAD stops at an estimated distance to the minimum
        (EDM) below ``0.002 * tol * errordef``.
    ncall : int, optional
        Limit on the function calls of MIGRAD (Minuit's default when ``None``).
    toy_fits : {"engine", "minuit"}, optional
        How the toys of ``HypothesisTester``'s toy p-values (and their observed
        statistic) are fitted: by the fitting engine where it applies (default;
        MIGRAD repeats the fits it does not converge), or by MIGRAD, one toy at a
        time.

    Raises
    ------
    ValueError
        For an unknown ``toy_fits`` or ``strategy``, or a non-positive ``tol``.
    TypeError
        If ``minos`` is neither a bool nor a sequence of integers.

    Notes
    -----
    The :class:`scipy.optimize.OptimizeResult` of a fit has ``x``, ``fun``
    (``-max log L``), ``log_likelihood``, ``success`` (a valid MIGRAD minimum),
    ``message``, ``nfev`` (function calls), and

    ``errors`` : ndarray, shape ``(n,)``
        The HESSE standard deviations (``sqrt`` of the covariance's diagonal).
    ``covariance`` : ndarray, shape ``(n, n)``
        The HESSE covariance matrix (the inverse of the Hessian of ``-log L``).
    ``minos`` : ndarray, shape ``(n, 2)``
        The MINOS interval of every parameter as signed offsets from ``x``
        (``x[i] + minos[i, 0]`` to ``x[i] + minos[i, 1]``, ``minos[i, 0] <= 0``);
        ``nan`` for parameters MINOS did not run for. Only with ``minos``.
    ``minos_valid`` : ndarray of bool, shape ``(n,)``
        Whether MINOS found both ends (``False`` also where it did not run).
    ``minuit`` : iminuit.Minuit
        The fitted Minuit object, for everything else (profiles, contours).

    Examples
    --------
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> calc = LikelihoodCalculator(PoissonData([40, 90]), TemplatePredictor([[1.0, 2.0]]))
    >>> fit = MinuitMaximizer(minos=True)(calc)
    >>> round(float(fit.x[0]), 2), round(float(fit.errors[0]), 2)
    (43.33, 3.8)
    >>> fit.minos.round(2)
    array([[-3.69,  3.91]])
    """

    def __init__(
        self,
        *,
        minos: bool | Sequence[int] = False,
        cl: float | None = None,
        strategy: int = 1,
        tol: float = 0.1,
        ncall: int | None = None,
        toy_fits: str = "engine",
    ) -> None:
        if toy_fits not in _TOY_FITS:
            msg = f"toy_fits must be 'engine' or 'minuit'; got {toy_fits!r}"
            raise ValueError(msg)
        if strategy not in (0, 1, 2):
            msg = f"strategy must be 0, 1 or 2; got {strategy!r}"
            raise ValueError(msg)
        if not tol > 0:
            msg = f"tol must be positive; got {tol!r}"
            raise ValueError(msg)
        if not isinstance(minos, bool):
            try:
                minos = [int(i) for i in minos]
            except (TypeError, ValueError):
                msg = f"minos must be True, False or a sequence of parameter indices; got {minos!r}"
                raise TypeError(msg) from None
        self.minos = minos
        self.cl = cl
        self.strategy = strategy
        self.tol = tol
        self.ncall = ncall
        self.toy_fits = toy_fits

    def __repr__(self) -> str:
        return (
            f"MinuitMaximizer(minos={self.minos!r}, cl={self.cl!r}, strategy={self.strategy!r}, "
            f"tol={self.tol!r}, ncall={self.ncall!r}, toy_fits={self.toy_fits!r})"
        )

    def _toy_engine_settings(self, n_free: int) -> HopSettings | None:
        """Return the engine's default basin hopping for the toys, unless ``toy_fits="minuit"``."""
        if self.toy_fits != "engine":
            return None
        return HopSettings.from_options({}, n_free)

    def _minos_indices(self, n: int) -> list[int]:
        if self.minos is True:
            return list(range(n))
        if self.minos is False:
            return []
        indices = list(self.minos)
        bad = [i for i in indices if not -n <= i < n]
        if bad:
            msg = f"minos names parameter {bad[0]}, but the fit has {n} free parameters"
            raise IndexError(msg)
        return sorted({i % n for i in indices})

    def minimize(
        self,
        fun: Any,
        x0: Any,
        bounds: Any,
        **kwargs: Any,  # noqa: ARG002 (accepted and ignored, as by the other maximizers)
    ) -> optimize.OptimizeResult:
        """Minimise ``fun`` (``-log L``) with MIGRAD from ``x0``, then HESSE (and MINOS).

        Parameters
        ----------
        fun : callable
            Function of one parameter vector.
        x0 : array_like
            Starting point, shape ``(n,)``.
        bounds : array_like
            Shape ``(n, 2)``: Minuit's limits (infinite entries: no limit).
        **kwargs
            Ignored; configure the maximizer in its constructor.

        Returns
        -------
        scipy.optimize.OptimizeResult
            See the class notes.

        Raises
        ------
        ImportError
            If iminuit is not installed (names the extra).
        IndexError
            If ``minos`` names a parameter that does not exist.
        """
        minuit_class = _minuit_class()
        start = np.array(x0, dtype=float)
        n = len(start)
        limits = np.asarray(bounds, dtype=float).reshape(n, 2)
        indices = self._minos_indices(n)
        minuit = minuit_class(fun, start)
        minuit.errordef = minuit_class.LIKELIHOOD
        minuit.limits = _limits(limits)
        minuit.errors = _initial_steps(start, limits)
        minuit.strategy = self.strategy
        minuit.tol = self.tol
        minuit.print_level = 0
        minuit.migrad(ncall=self.ncall)
        valid = bool(minuit.valid)
        if valid:
            minuit.hesse()
        x = np.array(minuit.values, dtype=float)
        covariance = (
            np.array(minuit.covariance, dtype=float)
            if minuit.covariance is not None
            else (np.full((n, n), np.nan))
        )
        result = optimize.OptimizeResult(
            x=x,
            fun=float(minuit.fval),
            success=valid,
            nfev=int(minuit.nfcn),
            errors=np.array(minuit.errors, dtype=float),
            covariance=covariance,
            minuit=minuit,
        )
        messages = [
            f"MIGRAD: {'valid' if valid else 'invalid'} minimum, EDM {minuit.fmin.edm:.3g}",
        ]
        if valid:
            accurate = minuit.fmin.has_accurate_covar
            messages.append(f"HESSE: {'accurate' if accurate else 'approximate'} covariance")
        if self.minos is not False:
            result.minos = np.full((n, 2), np.nan)
            result.minos_valid = np.zeros(n, dtype=bool)
            if valid and indices:
                names = [minuit.parameters[i] for i in indices]
                minuit.minos(*names, cl=self.cl)
                for i, name in zip(indices, names, strict=True):
                    error = minuit.merrors[name]
                    result.minos[i] = (error.lower, error.upper)
                    result.minos_valid[i] = bool(error.is_valid)
                result.nfev = int(minuit.nfcn)
                found = int(result.minos_valid.sum())
                messages.append(f"MINOS: {found} of {len(indices)} intervals valid")
        result.message = "; ".join(messages)
        return result
