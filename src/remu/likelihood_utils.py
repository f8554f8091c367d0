"""MCMC helpers for likelihood calculators (emcee), and the pyhf export.

Only NumPy is imported at module level; emcee is imported when a sampler is made
(``pip install 'remu[mcmc]'``), pyhf when a workspace is built
(``pip install 'remu[pyhf]'``).
"""

from __future__ import annotations

from remu import _facade
from remu._interop.emcee import emcee_initial_guess, emcee_sampler
from remu._interop.pyhf import to_pyhf_workspace

__all__ = ["emcee_initial_guess", "emcee_sampler", "to_pyhf_workspace"]

#: Names ReMU's ``likelihood_utils`` module imported at its top.
_LEGACY_NAMES: dict[str, _facade.LegacyTarget] = {"np": "numpy"}

_facade.install(__name__, legacy=_LEGACY_NAMES)
