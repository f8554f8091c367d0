"""Content fingerprints of engine fits, so repeated fits can be reused safely.

A scan of likelihood-ratio p-values fits the same unconstrained model (H1) to the
same data at every point. The hypothesis tester keeps such fits, keyed by a
fingerprint of everything the fit depends on:

* the data counts (values, shape and dtype);
* the systematics treatment and the variations' weights;
* the exact linear prediction ``A @ x + c``: the arrays themselves, so a matrix
  changed in place after a fit gives another key;
* the bounds and defaults (the starting point);
* the basin-hopping settings, including a fixed integer seed.

Only fits of linear predictors get a fingerprint: their prediction is fully
described by arrays. Any other predictor may depend on state that no fingerprint
can see (closures, globals), so its fits are never reused. Neither are fits whose
maximizer holds a stateful generator as its seed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from remu._likelihood.engine.eligibility import describe
from remu._likelihood.engine.hopping import HopSettings

__all__ = ["FitCache", "fit_key"]

_VERSION = b"remu-engine-fit-1"


def _update(digest: Any, array: Any) -> None:
    array = np.ascontiguousarray(array)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())


def fit_key(calculator: Any, settings: HopSettings) -> bytes | None:
    """Fingerprint of the fit of ``calculator`` with ``settings``, or ``None``.

    Parameters
    ----------
    calculator : LikelihoodCalculator
    settings : HopSettings

    Returns
    -------
    bytes or None
        ``None`` when the fit must not be reused (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from remu.likelihood import LikelihoodCalculator, PoissonData, TemplatePredictor
    >>> predictor = TemplatePredictor([[1.0, 2.0]])
    >>> calc = LikelihoodCalculator(PoissonData([3, 5]), predictor)
    >>> key = fit_key(calc, HopSettings())
    >>> predictor.matrices[0, 0, 0] = 1.5
    >>> fit_key(calc, HopSettings()) == key
    False
    """
    seed = settings.seed
    if not (seed is None or isinstance(seed, (int, np.integer))):
        return None
    model = describe(calculator)
    if model is None or model.linear is None:
        return None
    digest = hashlib.blake2b(_VERSION, digest_size=32)
    digest.update(model.kind.encode())
    digest.update(repr(settings).encode())
    _update(digest, calculator.data_model.data_vector)
    for array in (model.weights, model.lower, model.upper, model.defaults, *model.linear):
        _update(digest, array)
    return digest.digest()


class FitCache:
    """A small store of fit results by fingerprint (oldest dropped first).

    Parameters
    ----------
    size : int
        Number of fits kept.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._fits: dict[bytes, Any] = {}

    def get(self, key: bytes | None) -> Any:
        """Return the fit stored under ``key``, or ``None``."""
        return None if key is None else self._fits.get(key)

    def put(self, key: bytes | None, fit: Any) -> None:
        """Store ``fit`` under ``key`` (nothing for ``None``)."""
        if key is None:
            return
        self._fits.pop(key, None)
        self._fits[key] = fit
        while len(self._fits) > self.size:
            self._fits.pop(next(iter(self._fits)))
