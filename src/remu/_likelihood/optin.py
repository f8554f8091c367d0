"""Opt-in hooks: how a class declares that a fast path fits it.

The fitting engine (:mod:`remu._likelihood.engine`) fits many problems at once with
exact derivatives. It applies to a predictor, systematics consumer, data model or
maximizer only when the class says so through a *hook*:

============================================  ==========================================
hook                                          declared by (and valid for)
============================================  ==========================================
``Predictor._linear_form()``                  matrix predictors, fixed-parameter
                                              wrappers of linear predictors, einsum
                                              predictors: ``(A, c)`` with
                                              ``prediction = A @ x + c``
``Predictor._engine_box_bounds``              every predictor whose valid parameters
                                              are the box ``bounds`` (stale when
                                              ``check_bounds`` is overridden)
``SystematicsConsumer._engine_kind``          ``"marginal"`` / ``"profile"``
``DataModel._engine_poisson``                 :class:`PoissonData`
``LikelihoodCalculator._engine_likelihood``   :class:`LikelihoodCalculator` (its
                                              log-likelihood is that of its parts)
``LikelihoodMaximizer._engine_settings``      :class:`BasinHoppingMaximizer`
``LikelihoodMaximizer._toy_engine_settings``  the maxima of toy p-values only (default:
                                              ``_engine_settings``); ``MinuitMaximizer``
                                              (its fits are Minuit's, its toys the
                                              engine's)
============================================  ==========================================

Every base class defines the hook's *default*, which means "no fast path" (``None``
or ``False``).

The YAML dumper uses the same rule for the binning classes
(:class:`remu._binning.structure.Structured`, which declares both hooks itself):
``_yaml_from_fields`` (write the declared fields' YAML forms, e.g. the bins of a
generic binning without cloning them; stale when ``_structure_args`` or
``_yaml_args`` is overridden) and ``_yaml_dummy_without_clone`` (write a bin's
dummy clone without making it; stale when ``clone``, ``to_yaml`` or the argument
methods are overridden).

A hook describes the behaviour of the class that declares it. A subclass that
changes that behaviour (overrides ``prediction``, ``check_bounds``, ``consume_axis``,
``log_likelihood`` or ``minimize``...) without declaring the hook again would
silently keep a fast path that computes something else. To rule that out, the
base classes call :func:`reset_stale_hooks` from ``__init_subclass__``: when a
class's behaviour method is defined further down the inheritance chain (earlier in
the MRO) than its hook, the hook is reset to the default on that class, and the
class gets the generic (scipy) path. A subclass that overrides the behaviour and
still fits the fast path declares the hook itself, next to its override.

The rule compares *where* the methods are defined (their position in the MRO), so
it also catches an override that comes from a mixin class.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["reset_stale_hooks"]


def _owner_index(mro: tuple[type, ...], name: str) -> int | None:
    """Position in ``mro`` of the first class that defines ``name`` itself."""
    for index, klass in enumerate(mro):
        if name in vars(klass):
            return index
    return None


def reset_stale_hooks(cls: type, hook: str, behaviour: Iterable[str], default: Any) -> bool:
    """Reset ``cls.<hook>`` to ``default`` if ``cls`` overrides behaviour below the hook.

    Parameters
    ----------
    cls : type
        The class being created (call from ``__init_subclass__``).
    hook : str
        Name of the opt-in attribute or method.
    behaviour : iterable of str
        Names of the methods whose results the hook describes.
    default : object
        The "no fast path" value of the hook (a function for method hooks).

    Returns
    -------
    bool
        Whether the hook was reset.

    Examples
    --------
    >>> class Base:
    ...     fast = False
    ...     def compute(self): return 0
    >>> class Fast(Base):
    ...     fast = True
    ...     def compute(self): return 1
    >>> class Changed(Fast):
    ...     def compute(self): return 2
    >>> reset_stale_hooks(Changed, "fast", ["compute"], False), Changed.fast, Fast.fast
    (True, False, True)
    >>> class Declared(Fast):
    ...     fast = True
    ...     def compute(self): return 3
    >>> reset_stale_hooks(Declared, "fast", ["compute"], False), Declared.fast
    (False, True)
    """
    mro = cls.__mro__
    hook_index = _owner_index(mro, hook)
    if hook_index is None or hook_index == len(mro) - 1:
        return False
    for name in behaviour:
        index = _owner_index(mro, name)
        if index is not None and index < hook_index:
            setattr(cls, hook, default)
            return True
    return False
