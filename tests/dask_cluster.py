"""A real two-process ``distributed.LocalCluster`` for the Dask tests (no skipping).

If dask, distributed or pyarrow is missing the import fails, and so do the tests:
``pip install remu[dask]`` installs all three.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def local_client() -> Iterator[Any]:
    """A client of a LocalCluster with 2 worker processes, 1 thread each, no dashboard."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # the scheduler's HTTP server (metrics, health) still starts without the
            # dashboard: on a free port, not on the busy default 8787
            scheduler_kwargs={"dashboard_address": ":0"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2, f"the LocalCluster started {len(workers)} workers, not 2"
        yield client
