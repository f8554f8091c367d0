"""The shared logger hierarchy and the opt-in progress bars."""

from __future__ import annotations

import io
import logging

import pytest

from remu._logging import get_logger
from remu._progress import progress_bar


def test_loggers_are_children_of_remu_and_silent_by_default(capsys):
    log = get_logger("likelihood.engine")
    assert log.name == "remu.likelihood.engine"
    assert log.parent is not None
    assert logging.getLogger("remu").handlers
    log.warning("a fallback happened")
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_configured_logging_sees_remu_messages(caplog):
    with caplog.at_level(logging.INFO, logger="remu"):
        get_logger("binning").info("3 events outside the binning")
    assert caplog.records[-1].name == "remu.binning"
    assert "3 events outside" in caplog.records[-1].getMessage()


def test_silent_bar_counts():
    with progress_bar(False, total=5, desc="toys") as bar:
        bar.update(2)
        bar.update(3)
        bar.set_postfix_str("ignored")
    assert bar.n == 5
    assert bar.total == 5
    assert progress_bar(None, total=None, desc="x").n == 0


def test_tqdm_bar_writes_to_the_given_file():
    import tqdm  # the progress extra; make venv installs it

    assert tqdm.__version__
    out = io.StringIO()
    with progress_bar({"file": out, "mininterval": 0}, total=4, desc="toys", unit="toy") as bar:
        bar.update(4)
    text = out.getvalue()
    assert "toys" in text
    assert "4/4" in text


def test_bad_progress_argument_is_named():
    with pytest.raises(TypeError, match="progress must be True, False or a dict"):
        progress_bar("yes", total=1, desc="x")
