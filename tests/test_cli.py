"""The ``remu`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from remu._cli import main

BINNING = """!RectilinearBinning
variables: [x, y]
bin_edges:
- [0, 1, 2]
- [0, 5, 10]
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "b.yml").write_text(BINNING)
    (tmp_path / "ev.csv").write_text("x,y,w\n0.5,1,2\n1.5,7,1\n1.5,8,0.5\n3,1,1\n")
    return tmp_path


def test_info_binning_json(files, capsys):
    assert main(["info", "--json", str(files / "b.yml")]) == 0
    info = json.loads(capsys.readouterr().out)[str(files / "b.yml")]
    assert info["type"] == "RectilinearBinning"
    assert info["data_size"] == 4
    assert info["bins_shape"] == [2, 2]
    assert info["variables"] == ["x", "y"]


def test_fill_writes_npz(files, capsys):
    out = files / "h.npz"
    assert (
        main(
            [
                "fill",
                str(files / "b.yml"),
                str(files / "ev.csv"),
                "-o",
                str(out),
                "--weightfield",
                "w",
            ]
        )
        == 0
    )
    with np.load(out) as h:
        np.testing.assert_allclose(h["values"], [2.0, 0.0, 0.0, 1.5])
        np.testing.assert_array_equal(h["entries"], [1, 0, 0, 2])
        np.testing.assert_allclose(h["sumw2"], [4.0, 0.0, 0.0, 1.25])
    assert "filled 3 entries" in capsys.readouterr().out


def test_fill_with_rename_and_csv_output(files):
    (files / "ev2.csv").write_text("a,y\n0.5,6\n")
    out = files / "h.csv"
    assert (
        main(
            [
                "fill",
                str(files / "b.yml"),
                str(files / "ev2.csv"),
                "-o",
                str(out),
                "--rename",
                "a=x",
            ]
        )
        == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0] == "data_index,value,entries,sumw2"
    assert lines[2].startswith("1,1.0,1,")


def test_missing_column_is_a_clear_error(files, capsys):
    (files / "bad.csv").write_text("x,z\n0.5,1\n")
    status = main(
        ["fill", str(files / "b.yml"), str(files / "bad.csv"), "-o", str(files / "o.npz")]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "'y'" in err
    assert not (files / "o.npz").exists()


def test_bad_rename_is_rejected(files, capsys):
    status = main(
        [
            "fill",
            str(files / "b.yml"),
            str(files / "ev.csv"),
            "-o",
            str(files / "o.npz"),
            "--rename",
            "novalue",
        ]
    )
    assert status == 2
    assert "OLD=NEW" in capsys.readouterr().err


def test_info_missing_file(files, capsys):
    assert main(["info", str(files / "nope.yml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_info_reference_response_matrix(shared_data, capsys):
    path = shared_data / "upstream-examples" / "01" / "response_matrix.npz"
    assert main(["info", "--json", str(path)]) == 0
    info = json.loads(capsys.readouterr().out)[str(path)]
    assert info["variations"] >= 1
    assert info["reco_bins"] > 0
    low, high = info["mean_efficiency_range"]
    assert 0.0 <= low <= high <= 1.0


def test_python_dash_m_entry_point(files):
    out = subprocess.run(
        [sys.executable, "-m", "remu", "info", str(files / "b.yml")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "data_size: 4" in out.stdout


# --- one-line errors (exit status 2, naming the file), --version, round trips --------


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!RectilinearBinning\nvariables: [x, y\nbin_edges: []\n", "line 3, column 10"),
        ("!NoSuchBinning\nvariable: x\n", "could not determine a constructor for the tag"),
        ("!LinearBinning {variable: x, bin_edges: [0, 1], include_upper: 'false'}\n", "boolean"),
        ("!LinearBinning {variable: x, bin_edges: [0]}\n", "at least two edges"),
        ("just: a mapping\n", "expected a binning"),
        ("a: &a [*a, *a]\nb: !LinearBinning {variable: x, bin_edges: [*a, *a]}\n", "b"),
    ],
    ids=["syntax", "unknown tag", "field type", "no bin", "not a binning", "recursive"],
)
@pytest.mark.parametrize("command", ["info", "fill"])
def test_bad_binning_files_are_one_line_errors(files, capsys, text, expected, command):
    bad = files / "bad.yml"
    bad.write_text(text)
    argv = ["info", str(bad)] if command == "info" else ["fill", str(bad), str(files / "ev.csv")]
    if command == "fill":
        argv += ["-o", str(files / "out.npz")]
    assert main(argv) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"remu {command}: error: {bad}")
    assert expected in err
    assert not (files / "out.npz").exists()


def test_python_dash_m_reports_a_yaml_error_without_traceback(files):
    bad = files / "bad.yml"
    bad.write_text("!RectilinearBinning\nvariables: [x\n")
    out = subprocess.run(
        [sys.executable, "-m", "remu", "info", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1
    assert str(bad) in out.stderr


@pytest.mark.parametrize("name", ["x.txt", "x", "x.npz.txt", "x.h5"])
def test_output_with_another_suffix_is_refused_before_any_work(files, capsys, name):
    out = files / name
    status = main(["fill", str(files / "b.yml"), str(files / "missing.csv"), "-o", str(out)])
    assert status == 2
    err = _one_error_line(capsys)
    assert str(out) in err
    assert ".npz or .csv" in err
    assert "missing.csv" not in err  # refused before reading anything
    assert sorted(p.name for p in files.iterdir()) == ["b.yml", "ev.csv"]


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".NPZ"])
def test_info_reads_what_fill_writes(files, capsys, suffix):
    out = files / f"hist{suffix}"
    assert main(["fill", str(files / "b.yml"), str(files / "ev.csv"), "-o", str(out)]) == 0
    assert sorted(p.name for p in files.iterdir()) == sorted(["b.yml", "ev.csv", out.name])
    capsys.readouterr()
    assert main(["info", "--json", str(out)]) == 0
    info = _strict_json(capsys.readouterr().out)[str(out)]
    assert info["data_size"] == 4
    assert info["entries_total"] == 3
    assert info["values_total"] == 3.0
    if suffix.lower() == ".npz":  # the binning travels with the numbers
        assert info["binning"]["type"] == "RectilinearBinning"
        assert info["binning"]["bin_edges"] == {"x": [0.0, 1.0, 2.0], "y": [0.0, 5.0, 10.0]}
    from remu._formats.histogram import read_histogram

    histogram = read_histogram(out)
    np.testing.assert_array_equal(histogram.entries, [1, 0, 0, 2])


def test_info_describes_event_tables(files, capsys):
    assert main(["info", "--json", str(files / "ev.csv")]) == 0
    info = _strict_json(capsys.readouterr().out)[str(files / "ev.csv")]
    assert info == {"type": "event table (.csv)", "columns": ["x", "y", "w"], "events": 4}


def test_json_output_is_strict_json_with_infinite_edges(files, capsys):
    (files / "inf.yml").write_text("!LinearBinning {variable: x, bin_edges: [-.inf, 0, .inf]}\n")
    assert main(["info", "--json", str(files / "inf.yml")]) == 0
    out = capsys.readouterr().out
    assert "Infinity" not in out
    assert "NaN" not in out
    info = _strict_json(out)[str(files / "inf.yml")]
    assert info["bin_edges"] == ["-inf", 0.0, "inf"]
    assert [float(e) for e in info["bin_edges"]] == [-np.inf, 0.0, np.inf]


def test_version(capsys):
    from remu import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"remu {__version__}"


def test_no_event_in_the_binning_is_a_warning(files, capsys):
    (files / "far.csv").write_text("x,y\n5,50\n6,60\n7,70\n")
    out = files / "h.npz"
    assert main(["fill", str(files / "b.yml"), str(files / "far.csv"), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "warning: none of the 3 events of" in captured.err
    assert str(files / "far.csv") in captured.err
    assert "filled 0 entries" in captured.out
    # a file with events inside gives no warning
    assert main(["fill", str(files / "b.yml"), str(files / "ev.csv"), "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda d: ["fill", str(d / "b.yml"), str(d / "nope.csv"), "-o", str(d / "o.npz")],
            "nope.csv",
        ),
        (
            lambda d: ["fill", str(d / "nope.yml"), str(d / "ev.csv"), "-o", str(d / "o.npz")],
            "nope.yml",
        ),
        (lambda d: ["info", str(d / "ev.csv"), str(d / "nope.npz")], "nope.npz"),
        (
            lambda d: [
                "fill",
                str(d / "b.yml"),
                str(d / "ev.csv"),
                "-o",
                str(d / "o.npz"),
                "--plot",
                str(d / "fig.nosuchformat"),
            ],
            "fig.nosuchformat",
        ),
        (
            lambda d: [
                "fill",
                str(d / "b.yml"),
                str(d / "ev.csv"),
                "-o",
                str(d / "o.npz"),
                "--weightfield",
                "q",
            ],
            "ev.csv",
        ),
        (lambda d: ["info", "--no-such-option", str(d / "b.yml")], "--no-such-option"),
    ],
    ids=["missing csv", "missing binning", "missing npz", "plot format", "weight column", "usage"],
)
def test_every_error_is_one_line_with_status_2(files, capsys, make, expected):
    try:
        status = main(make(files))
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code
    assert status == 2
    err = _one_error_line(capsys)
    assert expected in err
