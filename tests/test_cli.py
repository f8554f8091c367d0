"""The ``remu`` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from extras import require
from numeric_asserts import assert_allclose
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
        assert_allclose(h["values"], [2.0, 0.0, 0.0, 1.5])
        np.testing.assert_array_equal(h["entries"], [1, 0, 0, 2])
        assert_allclose(h["sumw2"], [4.0, 0.0, 0.0, 1.25])
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


# --- ROOT and Parquet inputs, --scheduler, --progress ----------------------------------

EDGES = [0.0, 1.0, 2.0, 5.0, 10.0]
LINEAR = f"!LinearBinning {{variable: x, bin_edges: {EDGES}}}\n"


def _events(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "a": rng.uniform(-1.0, 11.0, n),  # read as x through --rename a=x
        "w": rng.uniform(0.5, 1.5, n),
    }


def _write_tree(path, data, name="events"):
    import uproot

    with uproot.recreate(path) as f:
        tree = f.mktree(name, {k: v.dtype for k, v in data.items()})
        if len(data["a"]):
            tree.extend(data)


def _in_memory(parts, weight=1.0):
    """The binning filled in memory with the concatenated events (x = a, weight w)."""
    from remu.binning import LinearBinning

    a = np.concatenate([p["a"] for p in parts])
    w = np.concatenate([p["w"] for p in parts])
    lb = LinearBinning("x", EDGES)
    lb.fill({"x": a}, weight=w * weight)
    return lb


def _assert_output_equals(out, expected, exact=True):
    with np.load(out) as h:
        np.testing.assert_array_equal(h["entries"], expected.get_entries_as_ndarray())
        if exact:
            np.testing.assert_array_equal(h["values"], expected.get_values_as_ndarray())
            np.testing.assert_array_equal(h["sumw2"], expected.get_sumw2_as_ndarray())
        else:
            assert_allclose(h["values"], expected.get_values_as_ndarray(), rtol=1e-12)
            assert_allclose(h["sumw2"], expected.get_sumw2_as_ndarray(), rtol=1e-12)


@pytest.fixture(scope="module")
def event_files(tmp_path_factory):
    """ROOT files (trees 'events', one empty) and Parquet partitions of the same events."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("events")
    (folder / "b.yml").write_text(LINEAR)
    parts = [_events(3000, 1), _events(0, 2), _events(2500, 3)]
    for k, part in enumerate(parts):
        _write_tree(folder / f"mc_{k}.root", part)
        (folder / "pq").mkdir(exist_ok=True)
        pd.DataFrame(part).to_parquet(folder / "pq" / f"part-{k}.parquet", index=False)
    return folder, parts


FILL_ARGS = ["--weightfield", "w", "--weight", "2", "--rename", "a=x"]


@pytest.mark.parametrize(
    "inputs",
    [
        ["mc_*.root:events"],
        ["mc_0.root:events", "mc_1.root:events", "mc_2.root"],  # one tree: its name may go
    ],
    ids=["wildcard", "files"],
)
def test_fill_from_root_files_equals_in_memory(event_files, capsys, inputs, monkeypatch):
    folder, parts = event_files
    monkeypatch.chdir(folder)  # relative names, as typed
    out = folder / "root.npz"
    assert main(["fill", "b.yml", *inputs, "-o", str(out), *FILL_ARGS]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # the empty tree is no error and no warning
    expected = _in_memory(parts, weight=2.0)
    assert f"filled {expected.get_entries_as_ndarray().sum()} entries" in captured.out
    # streamed chunk by chunk in event order: bit for bit when the files are named in
    # order (uproot expands a wildcard in the file system's order)
    _assert_output_equals(out, expected, exact="*" not in inputs[0])


@pytest.mark.parametrize(
    "inputs",
    [["pq"], ["pq/*.parquet"], ["pq/part-0.parquet", "pq/part-1.parquet", "pq/part-2.parquet"]],
    ids=["directory", "wildcard", "files"],
)
def test_fill_from_parquet_equals_in_memory(event_files, capsys, inputs, monkeypatch):
    folder, parts = event_files
    monkeypatch.chdir(folder)
    out = folder / "pq.npz"
    assert main(["fill", "b.yml", *inputs, "-o", str(out), *FILL_ARGS]) == 0
    assert capsys.readouterr().err == ""
    _assert_output_equals(out, _in_memory(parts, weight=2.0))


def test_fill_mixes_csv_root_and_parquet(event_files, tmp_path):
    import pandas as pd

    folder, parts = event_files
    csv = tmp_path / "more.csv"
    pd.DataFrame(parts[2]).to_csv(csv, index=False)
    out = tmp_path / "mixed.npz"
    argv = ["fill", str(folder / "b.yml"), str(folder / "mc_0.root:events")]
    argv += [str(folder / "pq" / "part-2.parquet"), str(csv), "-o", str(out), *FILL_ARGS]
    assert main(argv) == 0
    expected = _in_memory([parts[0], parts[2], parts[2]], weight=2.0)
    _assert_output_equals(out, expected, exact=False)


@pytest.fixture(scope="module")
def client():
    from dask_cluster import local_client

    with local_client() as c:
        yield c


@pytest.mark.parametrize("kind", ["root", "parquet"])
def test_fill_on_a_scheduler_equals_in_memory(client, event_files, capsys, kind, monkeypatch):
    folder, parts = event_files
    monkeypatch.chdir(folder)  # relative names are made absolute for the workers
    source = "mc_*.root:events" if kind == "root" else "pq"
    out = folder / f"{kind}-dask.npz"
    address = client.scheduler.address
    argv = ["fill", "b.yml", source, "-o", str(out), *FILL_ARGS, "--scheduler", address]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    _assert_output_equals(out, _in_memory(parts, weight=2.0), exact=False)


def test_scheduler_local_starts_a_cluster_for_the_run(event_files, tmp_path):
    folder, parts = event_files
    out = tmp_path / "local.npz"
    argv = [sys.executable, "-m", "remu", "fill", str(folder / "b.yml"), str(folder / "pq")]
    argv += [str(folder / "mc_*.root:events"), "-o", str(out), *FILL_ARGS]
    argv += ["--scheduler", "local:2", "--progress"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "filling" in done.stderr  # the partition bars
    assert "Traceback" not in done.stderr
    _assert_output_equals(out, _in_memory(parts + parts, weight=2.0), exact=False)


def test_the_local_scheduler_s_workers_keep_glibc_s_trim_threshold(monkeypatch):
    # the nanny's MALLOC_TRIM_THRESHOLD_ slows partition fills; the rest of its
    # environment (one BLAS thread per worker) stays, and the configuration is restored
    import dask

    from remu._cli import _scheduler

    require("distributed", "dask")
    # a nanny started earlier in this process copied its variables into os.environ
    # (distributed does so before spawning a worker); `remu fill` starts without them
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    before = dask.config.get("distributed.nanny.pre-spawn-environ")
    assert "MALLOC_TRIM_THRESHOLD_" in before  # distributed's default: what is removed
    with _scheduler("local:1") as client:
        seen = client.run(
            lambda: {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}
        )
    assert list(seen.values()) == [{"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}]
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == before


def test_unreachable_scheduler_is_a_one_line_error(event_files, capsys):
    import dask

    folder, _ = event_files
    argv = ["fill", str(folder / "b.yml"), str(folder / "pq"), "-o", str(folder / "x.npz")]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main([*argv, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = _one_error_line(capsys)
    assert "--scheduler tcp://127.0.0.1:1: cannot connect to a Dask scheduler" in err
    assert main([*argv, "--scheduler", "local:none"]) == 2
    assert "local:N takes a positive number" in _one_error_line(capsys)
    assert not (folder / "x.npz").exists()


def test_progress_bars_only_when_asked(event_files, capsys, tmp_path):
    import pandas as pd

    folder, parts = event_files
    csv = tmp_path / "e.csv"
    pd.DataFrame(parts[0]).to_csv(csv, index=False)
    base = ["fill", str(folder / "b.yml"), str(folder / "mc_*.root:events"), str(folder / "pq")]
    base += [str(csv), "-o", str(tmp_path / "o.npz"), "--rename", "a=x"]
    assert main(base) == 0
    assert capsys.readouterr().err == ""
    assert main([*base, "--progress"]) == 0
    err = capsys.readouterr().err
    assert "reading ROOT" in err
    assert "5500/5500" in err  # entries of all the trees
    assert "reading Parquet" in err
    assert "3/3" in err  # Parquet files
    assert "reading CSV" in err
    assert "1/1" in err


def test_no_event_landed_warning_for_root_and_parquet(tmp_path, capsys):
    import pandas as pd

    far = {"a": np.array([50.0, 60.0, 70.0]), "w": np.ones(3)}
    _write_tree(tmp_path / "far.root", far)
    pd.DataFrame(far).to_parquet(tmp_path / "far.parquet", index=False)
    (tmp_path / "b.yml").write_text(LINEAR)
    for source in ("far.root:events", "far.parquet"):
        name = str(tmp_path / source)
        argv = ["fill", str(tmp_path / "b.yml"), name, "-o", str(tmp_path / "o.npz")]
        assert main([*argv, "--rename", "a=x"]) == 0
        captured = capsys.readouterr()
        assert f"warning: none of the 3 events of {name} landed in the binning" in captured.err
        assert "filled 0 entries" in captured.out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("nothing*.root:events", "no file matches"),
        ("nothing*.parquet", "no file matches"),
        ("nope.root:events", "no such file"),
        ("nope.parquet", "no such file"),
        ("mc_0.root:trees", "not found: 'trees'"),
        ("empty_dir", "no Parquet files"),
        ("b.yml.parquet", "Parquet magic bytes not found"),
    ],
    ids=["root wildcard", "parquet wildcard", "root file", "parquet file", "tree", "dir", "bad"],
)
def test_bad_root_and_parquet_inputs_are_one_line_errors(
    event_files, capsys, source, expected, monkeypatch, tmp_path
):
    folder, _ = event_files
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "b.yml.parquet").write_text(LINEAR)
    (tmp_path / "mc_0.root").write_bytes((folder / "mc_0.root").read_bytes())
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "o.npz"
    assert main(["fill", str(folder / "b.yml"), source, "-o", str(out)]) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"remu fill: error: {source}") or source in err
    assert expected in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("source", "option", "expected"),
    [
        ("mc_0.root:events", "--weightfield", "has no branch 'q'"),
        ("pq", "--weightfield", "has no column 'q'"),
        ("mc_0.root:events", "--rename", "has no branch 'q'"),
        ("pq", "--rename", "has no column 'q'"),
    ],
)
def test_missing_branch_or_column_is_named(event_files, capsys, source, option, expected):
    folder, _ = event_files
    value = ["q", "--rename", "a=x"] if option == "--weightfield" else ["q=x"]
    argv = ["fill", str(folder / "b.yml"), str(folder / source), "-o", str(folder / "o.npz")]
    assert main([*argv, option, *value]) == 2
    err = _one_error_line(capsys)
    assert expected in err
    assert str(folder / source).split(":")[0] in err


@pytest.mark.parametrize(
    ("module", "source", "extra"),
    [
        ("uproot", "mc_0.root:events", "remu[root]"),
        ("pyarrow.dataset", "pq", "remu[dask]"),
        ("distributed", "pq", "remu[dask]"),
        ("tqdm", "pq", "remu[progress]"),
    ],
)
def test_missing_optional_package_names_the_extra(
    event_files, capsys, monkeypatch, module, source, extra
):
    folder, _ = event_files
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    argv = ["fill", str(folder / "b.yml"), str(folder / source), "-o", str(folder / "o.npz")]
    argv += ["--rename", "a=x"]
    if module == "distributed":
        argv += ["--scheduler", "local"]
    if module == "tqdm":
        argv += ["--progress"]
    assert main(argv) == 2
    err = _one_error_line(capsys)
    assert f"pip install '{extra}'" in err
    assert not (folder / "o.npz").exists()


def test_fill_help_documents_inputs_and_scheduler(capsys):
    with pytest.raises(SystemExit) as info:
        main(["fill", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "FILE.root:TREE" in text
    assert "Parquet" in text
    assert "--scheduler ADDRESS" in text
    assert "'local' starts a distributed.LocalCluster" in text
    assert "--progress" in text
