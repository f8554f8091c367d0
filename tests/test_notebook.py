"""Notebook displays: ``ResponseMatrix.__repr__`` and ``_repr_html_`` of binnings and matrices."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
from numpy import array  # noqa: F401 - for eval(repr(...))

from remu import binning, migration
from remu.binning import (  # noqa: F401 - names for eval(repr(...))
    CartesianProductBinning,
    LinearBinning,
    PhaseSpace,
    RectilinearBinning,
)


class _StrictParser(HTMLParser):
    """Collects the text and fails on unbalanced or misnested tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ARG002 (HTMLParser's signature)
        self.stack.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag):
        assert self.stack, f"</{tag}> without an open tag"
        top = self.stack.pop()
        assert top == tag, f"</{tag}> closes <{top}>"

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(markup)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    return parser


def text_of(markup: str) -> str:
    return " ".join(parse(markup).text)


def response() -> migration.ResponseMatrix:
    reco = binning.RectilinearBinning(["reco_x", "reco_y"], [[0, 1, 2], [0, 1, 2, np.inf]])
    truth = binning.LinearBinning("true_x", [0, 1, 2, 3])
    r = migration.ResponseMatrix(reco, truth, nuisance_indices=[2], impossible_indices=[0, 5])
    rng = np.random.default_rng(1)
    tx = rng.uniform(0, 2.9, 100)
    reco_x = np.where(rng.uniform(size=100) < 0.7, tx * 0.6, np.nan)
    r.fill({"true_x": tx, "reco_x": reco_x, "reco_y": rng.uniform(0, 3, 100)})
    return r


def test_response_matrix_repr_is_informative():
    r = response()
    text = repr(r)
    assert " object at 0x" not in text
    assert text.startswith("<ResponseMatrix ")
    assert text.endswith(">")
    assert "reco=RectilinearBinning(reco_x, reco_y; 6 bins)" in text
    assert "truth=LinearBinning(true_x; 3 bins)" in text
    truth_entries = int(r.get_truth_entries_as_ndarray().sum())
    reco_entries = int(r.get_reco_entries_as_ndarray().sum())
    assert f"truth events {truth_entries} (weight {truth_entries})" in text
    assert f"reco events {reco_entries}" in text
    assert "filled truth bins 3 of 3" in text
    assert "nuisance_indices [2]" in text
    assert "impossible_indices [0, 5]" in text
    assert "\n" not in text


def test_empty_and_long_index_lists():
    r = migration.ResponseMatrix(
        binning.LinearBinning("r", np.arange(20)),
        binning.LinearBinning("t", [0, 1]),
        impossible_indices=list(range(12)),
    )
    text = repr(r)
    assert "filled truth bins 0 of 1" in text
    assert "nuisance_indices none" in text
    assert "impossible_indices [12: 0, 1, 2, 3, 4, 5, 6, 7, …]" in text


def test_response_matrix_html():
    r = response()
    markup = r._repr_html_()
    parsed = parse(markup)
    assert {"table", "details", "summary"} <= set(parsed.tags)
    text = " ".join(parsed.text)
    for expected in (
        "ResponseMatrix",
        "6 × 3 (reco × truth)",
        "filled truth bins",
        "reconstructed fraction",
        "reco_x: 2 bins in [0, 2]; reco_y: 3 bins in [0, inf]",
        "true_x: 3 bins in [0, 3]",
    ):
        assert expected in text, expected
    fraction = r.get_reco_values_as_ndarray().sum() / r.get_truth_values_as_ndarray().sum()
    assert f"{fraction:.4g}" in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: binning.LinearBinning("x", [0, 1, 2], include_upper=True),
        lambda: binning.RectilinearBinning(["x", "y"], [[0, 1], [0, 1, 2]]),
        lambda: binning.CartesianProductBinning(
            [binning.LinearBinning("x", [0, 1, 2]), binning.LinearBinning("y", [0, 1])]
        ),
        lambda: binning.LinearBinning(
            "x", [0, 1, 2], subbinnings={1: binning.LinearBinning("y", [0, 1, 2])}
        ),
        lambda: binning.Binning([binning.RectangularBin(["x"], [(0, 1)])]),
        lambda: binning.LinearBinning("x", [0, 1], dummy=True),
    ],
)
def test_binning_html_is_well_formed(make):
    b = make()
    text = text_of(b._repr_html_())
    assert type(b).__name__ in text
    assert f"data size {b.data_size}" in text
    if b.is_dummy():
        assert "dummy" in text
    else:
        assert "sum of weights" in text


def test_binning_html_content():
    b = binning.LinearBinning(
        "x", [0, 1, 2], subbinnings={1: binning.LinearBinning("y", [0, 1, 2])}
    )
    b.fill({"x": [0.5, 1.5, 1.5], "y": [0.5, 0.5, 1.5]}, weight=[1.0, 2.0, 0.5])
    text = text_of(b._repr_html_())
    assert "subbinnings 1 at bins 1" in text
    assert "data size 3" in text
    assert "sum of weights 3.5" in text
    assert "entries 3" in text
    assert "sum of squared weights 5.25" in text


def test_user_strings_are_escaped():
    name = "<script>alert('x')</script>&\""
    b = binning.LinearBinning(name, [0, 1])
    markup = b._repr_html_()
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    # the parser sees the original text again
    assert name in text_of(markup)
    r = migration.ResponseMatrix(b, binning.LinearBinning("t<1>", [0, 1]))
    markup = r._repr_html_()
    assert "<script>" not in markup
    assert "t<1>" not in markup
    assert name in text_of(markup)


def test_binning_repr_still_rebuilds_the_binning():
    b = binning.RectilinearBinning(["x", "y"], [[0, 1], [0, 1, 2]])
    b.fill({"x": [0.5], "y": [1.5]})
    again = eval(repr(b))
    assert again == b
    assert np.array_equal(again.get_values_as_ndarray(), b.get_values_as_ndarray())
