"""Bad input raises the same exception type as remu 0.8.0 (or a subclass of it)."""

from __future__ import annotations

import pytest
from oracle_client import run_both, run_ours, skip_without_oracle

skip_without_oracle()

import scenarios_errors as se

NAMES = run_ours(se.names, [{}])[0]


def test_probes_exist():
    assert len(NAMES) >= 20


@pytest.fixture(scope="module")
def outcomes(oracle):
    cases = [{"name": n} for n in NAMES]
    ours, theirs = run_both(oracle, se.probe, cases)
    return dict(zip(NAMES, zip(ours, theirs, strict=True), strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_same_exception_type(outcomes, name):
    ours, theirs = outcomes[name]
    assert isinstance(theirs, dict), f"remu 0.8.0 did not raise: {theirs!r}"
    assert isinstance(ours, dict), f"ours did not raise where 0.8.0 raised {theirs['__error__']}"
    assert theirs["__error__"] in ours["mro"], (
        f"0.8.0 raised {theirs['__error__']}: {theirs['message']}; "
        f"ours {ours['__error__']}: {ours['message']}"
    )
