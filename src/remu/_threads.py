"""Keep BLAS single-threaded around many tiny linear-algebra calls.

SciPy's L-BFGS-B (the local minimiser of every fit) makes thousands of BLAS calls on
vectors as long as the number of parameters. A multi-threaded OpenBLAS wakes its
thread pool for each of them, which made a basin-hopping fit about ten times
slower on a busy two-core machine than with one thread. Fits therefore run with
BLAS limited to one thread (through threadpoolctl); the limit is lifted afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_controller: Any = None


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS libraries to one thread inside the block.

    Without threadpoolctl installed this does nothing.

    Examples
    --------
    >>> with single_blas_thread():
    ...     pass
    """
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
