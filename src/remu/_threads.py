"""Keep BLAS single-threaded around many tiny linear-algebra calls.

SciPy's L-BFGS-B (the local minimiser of every fit) makes thousands of BLAS calls on
vectors as long as the number of parameters. A multi-threaded OpenBLAS wakes its
thread pool for each of them, which made a basin-hopping fit about ten times
slower on a busy two-core machine than with one thread. Fits therefore run with
BLAS limited to one thread (through threadpoolctl); the limit is lifted afterwards.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

_controller: Any = None
# Threads inside a limited block (toys fitted on a ThreadPoolExecutor overlap): the
# first one in sets the limit, the last one out restores the original.
_lock = threading.Lock()
_depth = 0
_limiter: Any = None


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS libraries to one thread inside the block.

    Safe for overlapping blocks in several threads: the limit holds while any of
    them is inside, and the original number of threads comes back when the last
    one leaves. Without threadpoolctl installed this does nothing.

    Examples
    --------
    >>> with single_blas_thread():
    ...     pass
    """
    global _controller, _depth, _limiter
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with _lock:
        if _controller is None:
            _controller = ThreadpoolController()
        if _depth == 0:
            _limiter = _controller.limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _limiter.restore_original_limits()
                _limiter = None
