"""The two CSV readers (pandas' C parser and NumPy's loadtxt) give identical arrays and errors.

``remu._formats.csv_events.READER`` is the module's own switch: "pandas" uses pandas
whenever the file allows it, "numpy" never. pandas is installed in the test
environment (the ``pandas`` extra), so both paths run for real.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remu import binning
from remu._formats import csv_events


def _read(path, reader, monkeypatch, chunksize=10000):
    """(array, None) or (None, (exception type, message)) from one reader."""
    monkeypatch.setattr(csv_events, "READER", reader)
    try:
        return csv_events.read_csv_file(path, chunksize=chunksize), None
    except (ValueError, OSError) as err:
        return None, (type(err), str(err))


def _assert_identical(a, b):
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    for name in a.dtype.names:
        x, y = a[name], b[name]
        # bit for bit, but every NaN is NaN (loadtxt and pandas may differ in payload)
        same = (x.view(np.uint64) == y.view(np.uint64)) | (np.isnan(x) & np.isnan(y))
        assert same.all(), (name, x[~same][:5], y[~same][:5])


def _both(path, monkeypatch, chunksize=10000):
    ours_pandas = _read(path, "pandas", monkeypatch, chunksize)
    ours_numpy = _read(path, "numpy", monkeypatch, chunksize)
    if ours_numpy[1] is None:
        assert ours_pandas[1] is None, ours_pandas[1]
        _assert_identical(ours_pandas[0], ours_numpy[0])
    else:
        assert ours_pandas[1] == ours_numpy[1]
    return ours_pandas, ours_numpy


def _pandas_parsed(path) -> bool:
    """Whether the pandas reader itself read the file (no fall-back to NumPy)."""
    raw = path.read_bytes()
    return csv_events._read_with_pandas(pandas, str(path), raw) is not None


def test_plain_numbers_are_read_by_pandas_identically(tmp_path, monkeypatch):
    rng = np.random.default_rng(11)
    n = 5000
    with np.errstate(under="ignore"):  # some products are subnormal: that is the point
        x = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)
    texts = {
        "repr": [repr(float(v)) for v in x],
        "17g": [f"{v:.17g}" for v in x],
        "25e": [f"{v:.25e}" for v in x],  # more digits than a double holds
        "6f": [f"{v:.6f}" for v in rng.uniform(-1e3, 1e3, n)],
        "int": [str(int(v)) for v in rng.integers(-(10**15), 10**15, n)],
        "tiny": [f"{v:.3f}e-310" for v in rng.uniform(1, 2, n)],  # subnormal
        "huge": ["1e400", "-1e400", "1e-400", "-0", "+5", "5.", ".5", "1E5"] * (n // 8),
        "nan": ["nan", "NaN", "NAN", "inf", "-inf", "+inf", "Infinity", "-INFINITY"] * (n // 8),
    }
    for label, values in texts.items():
        path = tmp_path / f"{label}.csv"
        lines = [f"{a},{b}" for a, b in zip(values, values[::-1], strict=True)]
        path.write_text("a, b\n" + "\n".join(lines) + "\n")
        assert _pandas_parsed(path), label
        (data, error), _ = _both(path, monkeypatch)
        assert error is None
        assert data.dtype.names == ("a", "b")
        assert len(data) == len(values)
        # and both equal what Python's float() makes of each value
        expected = np.array([float(v) for v in values])
        same = (data["a"].view(np.uint64) == expected.view(np.uint64)) | (
            np.isnan(data["a"]) & np.isnan(expected)
        )
        assert same.all(), label


def test_spacing_line_ends_and_a_missing_last_line_end(tmp_path, monkeypatch):
    for text in (
        "x , y\r\n1 , 2\r\n 3,4 \r\n",
        "x,y\n1,2\n3,4",
        "x\n1\n2\n",
        "x,y\n",
        "x,y",
    ):
        path = tmp_path / "file.csv"
        path.write_bytes(text.encode())
        assert _pandas_parsed(path), text
        _both(path, monkeypatch)


BAD = {
    "word": "x,y\n1,2\nabc,4\n",
    "empty line": "x,y\n1,2\n\n3,4\n",
    "empty line at the end": "x,y\n1,2\n\n",
    "empty first line": "x\n\n1\n",
    "blank single column": "x\n1\n   \n2\n",
    "too few": "x,y\n1,2\n3\n",
    "too many": "x,y\n1,2\n3,4,5\n",
    "too many for one column": "x\n0.0,nan\n",
    "trailing comma": "x,y\n1,2,\n",
    "compensating rows": "x,y\n1,2,3\n4\n",
    "empty field": "x,y\n1,\n",
    "lone space field": "x,y\n1, \n",
    "two numbers in a field": "x,y\n1 2,3\n",
    "bad exponent": "x,y\n1e,2\n",
    "sign only": "x,y\n+,2\n",
    "point only": "x,y\n.,2\n",
    "double point": "x,y\n1..2,2\n",
    "hex": "x,y\n0x10,2\n",
    "underscore": "x,y\n1_000,2\n",
    "boolean": "x,y\nTrue,2\n",
    "quoted": 'x,y\n"1",2\n',
    "comment": "x,y\n#1,2\n",
    "tab": "x,y\n1\t,2\n",
    "lone carriage return": "x,y\r1,2\r3,4\r",
    "nan word with spaces": "x,y\n nan ,2\n",
    "signed nan": "x,y\n-nan,+nan\n",
    "partial infinity": "x,y\ninfinit,2\n",
    "nan suffix": "x,y\nnanx,2\n",
    "duplicate header": "x,x\n1,2\n",
    "empty header name": "x,,y\n1,2,3\n",
    "empty file": "",
    "non-ascii number": "x,y\n١,2\n",
    "non-ascii header": "é,y\n1,2\n",
    "binary": "x,y\n\x00\x01,2\n",
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_and_unusual_files_give_identical_results_or_errors(tmp_path, monkeypatch, case):
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD[case].encode("utf-8"))
    (_, error), _ = _both(path, monkeypatch)
    if error is not None:
        kind, message = error
        assert issubclass(kind, ValueError)
        assert message.startswith(str(path))  # names the file
        assert "\n" not in message


def test_errors_name_the_line(tmp_path, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n" + "1,2\n" * 500 + "3,abc\n")
    for reader in ("pandas", "numpy"):
        _, (_, message) = _read(path, reader, monkeypatch, chunksize=64)
        assert message == f"{path}, line 502: 'abc' is not a number"


def test_missing_file_gives_the_same_error(tmp_path, monkeypatch):
    path = tmp_path / "missing.csv"
    a = _read(path, "pandas", monkeypatch)[1]
    b = _read(path, "numpy", monkeypatch)[1]
    assert a == b
    assert a[0] is FileNotFoundError


TOKENS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.text(alphabet="0123456789+-.eEnNaAiIfFtTyY ", min_size=0, max_size=8),
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e308", "1e309", "-0.0", ".5", "5."]),
)


@settings(deadline=None, max_examples=200)
@given(
    ncols=st.integers(1, 3),
    rows=st.lists(st.lists(TOKENS, min_size=1, max_size=4), min_size=0, max_size=6),
    crlf=st.booleans(),
    last_newline=st.booleans(),
)
def test_random_files_of_the_plain_alphabet_agree(
    tmp_path_factory, ncols, rows, crlf, last_newline
):
    header = ",".join(f"c{i}" for i in range(ncols))
    end = "\r\n" if crlf else "\n"
    text = end.join([header, *(",".join(row) for row in rows)]) + (end if last_newline else "")
    path = tmp_path_factory.mktemp("csv") / "random.csv"
    path.write_bytes(text.encode())
    with pytest.MonkeyPatch.context() as monkeypatch:
        _both(path, monkeypatch, chunksize=2)


def test_auto_reader_uses_numpy_for_small_files_until_pandas_is_imported(monkeypatch):
    # the switch decides only which reader runs, never the result
    monkeypatch.setattr(csv_events, "READER", "auto")
    assert csv_events._pandas(csv_events.PANDAS_MIN_BYTES) is not None
    monkeypatch.setattr(csv_events, "_pandas_module", None)
    monkeypatch.delitem(sys.modules, "pandas")
    assert csv_events._pandas(100) is None  # small file, pandas not imported: NumPy
    monkeypatch.setattr(csv_events, "READER", "numpy")
    assert csv_events._pandas(10**9) is None


def test_fill_from_csv_file_is_the_same_with_either_reader(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    n = 20000
    cols = {"x": rng.uniform(-0.2, 2.2, n), "y": rng.normal(0, 1, n), "w": rng.uniform(0, 2, n)}
    cols["x"][::97] = np.nan
    path = tmp_path / "events.csv"
    rows = zip(*(c.tolist() for c in cols.values()), strict=True)
    lines = ["x,y,w"] + [f"{a!r},{b!r},{c!r}" for a, b, c in rows]
    path.write_text("\n".join(lines) + "\n")
    assert _pandas_parsed(path)
    results = []
    for reader in ("pandas", "numpy"):
        monkeypatch.setattr(csv_events, "READER", reader)
        rl = binning.RectilinearBinning(["x", "y"], [[0, 1, 2], [-1, 0, 1]])
        rl.fill_from_csv_file(str(path), weightfield="w")
        results.append((rl.get_values_as_ndarray(), rl.get_sumw2_as_ndarray()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_every_short_token_is_read_alike(tmp_path):
    # every token of up to two characters of the plain alphabet, and the words of
    # nan and inf in several cases: where the pandas reader takes a token, NumPy's
    # takes it too and makes the same number of it
    alphabet = "0123456789+-.eEnNaAiIfFtTyY "
    tokens = set(alphabet) | {a + b for a in alphabet for b in alphabet}
    for word in ("nan", "inf", "infinity", "+inf", "-inf", "+nan", "-nan", "in", "na", "1e5"):
        tokens |= {word, word.upper(), word.title(), word.swapcase(), f" {word}", f"{word} "}
    taken = 0
    path = tmp_path / "token.csv"
    for token in sorted(tokens):
        raw = f"c\n{token}\n".encode()
        path.write_bytes(raw)
        ours = csv_events._read_with_pandas(pandas, str(path), raw)
        try:
            theirs = csv_events._loadtxt([token])
        except ValueError:
            theirs = None
        if ours is None:
            continue  # left to the NumPy reader
        taken += 1
        assert theirs is not None, token
        assert theirs.size == 1, token
        a, b = ours["c"], theirs.reshape(-1)
        assert (a.view(np.uint64) == b.view(np.uint64)).all() or np.isnan([a, b]).all(), token
    assert taken > 100
