"""Fixtures of the differential tests against remu 0.8.0 (``.venv-oracle``)."""

from __future__ import annotations

import pytest
from oracle_client import ORACLE_PYTHON, OracleWorker, skip_without_oracle


@pytest.fixture(scope="session")
def oracle(tmp_path_factory):
    """One persistent remu 0.8.0 worker process for the whole session."""
    skip_without_oracle()
    worker = OracleWorker(ORACLE_PYTHON, tmp_path_factory.mktemp("oracle"))
    yield worker
    worker.close()


def pytest_collection_modifyitems(items):
    """Every test in this folder carries the ``oracle`` marker."""
    for item in items:
        if "tests/oracle/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.oracle)
