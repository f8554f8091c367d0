"""A small finite-difference helper (stand-in for the removed ``scipy.misc.derivative``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["derivative"]


def derivative(
    func: Callable[..., Any],
    x0: Any,
    dx: Any = 1.0e-6,
    n: int = 1,
    args: tuple[Any, ...] = (),
    order: int = 3,
) -> Any:
    """Finite-difference derivative of ``func`` at ``x0``.

    Parameters
    ----------
    func : callable
        Function ``func(x, *args)``.
    x0 : float or ndarray
        Point of evaluation; must support ``+`` with a float.
    dx : float or array_like, optional
        Step size. An array of several steps evaluates one central difference per
        element: ``result[i]`` uses ``x0[i]`` and ``dx[i]`` (``func`` must then map
        a scalar to a scalar).
    n : int, optional
        Order of the derivative: ``1`` (central difference) or ``2``.
    args : tuple, optional
        Extra positional arguments of ``func``.
    order : int, optional
        Number of points minus one for the fallback branch (``n >= 3``). That
        branch reproduces the reference's formula, which is not a derivative.

    Returns
    -------
    float or ndarray
        The finite-difference estimate.

    Examples
    --------
    >>> round(float(derivative(lambda x: x**3, 2.0, dx=1e-3)), 6)
    12.000001
    >>> round(float(derivative(lambda x: x**3, 2.0, dx=1e-3, n=2)), 6)
    12.0
    >>> derivative(lambda x: x**2, np.array([1.0, 3.0]), dx=[1e-3, 1e-3]).round(6)
    array([2., 6.])
    """
    if np.iterable(dx) and not isinstance(dx, str):
        steps = np.asarray(dx, dtype=float)
        if steps.size == 1:
            # float() of a 1-d size-1 array is an error in NumPy >= 2.4; item() is not.
            dx = float(steps.reshape(-1)[0])
        else:
            x0 = np.asarray(x0)
            result = np.empty_like(x0, dtype=float)
            for i, h in enumerate(steps.reshape(-1)):
                x0_i = x0 if x0.ndim == 0 else x0[i]
                result[i] = (func(x0_i + h, *args) - func(x0_i - h, *args)) / (2 * h)
            return result
    h = dx
    if n == 1:
        return (func(x0 + h, *args) - func(x0 - h, *args)) / (2 * h)
    if n == 2 and order >= 2:
        return (func(x0 + h, *args) - 2 * func(x0, *args) + func(x0 - h, *args)) / h**2
    # Reference behaviour for higher orders (not a derivative; kept for compatibility).
    values = [func(x0 + i * h, *args) for i in range(order + 1)]
    total = 0.0
    for i in range(1, min(n + 1, len(values))):
        total = total + (-1) ** (i + 1) * values[i] / h**i
    return total
