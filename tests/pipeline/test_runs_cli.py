"""`meanfolio runs list / show / export`: full ids, unique prefixes, read-only opens, a store held by another
process (one line naming it, --wait), stores that are not DuckDB files refused."""

import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from meanfolio.cli import app
from meanfolio.data import ResultStore, StoreBusyError

runner = CliRunner()
IDS = ("pipeline-20260101-120000-aaaaaa", "pipeline-20260101-120000-aabbbb", "pipeline-20260102-090000-cccccc")


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "runs.duckdb"
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    with ResultStore(path) as s:
        for run_id in IDS:
            with s.run("pipeline", {"x": 1}, run_id=run_id) as run:
                run.save_metrics("statistics", {"strategy": ["a"], "sharpe": [0.5]})
                run.save_file("report.html", report)
    return path


def _one_line_error(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1, res.output
    for needle in needles:
        assert needle in res.output, res.output


def test_list_prints_full_ids_even_on_a_narrow_terminal(store):
    res = runner.invoke(app, ["runs", "list", "--store", str(store)], terminal_width=60)
    assert res.exit_code == 0, res.output
    for run_id in IDS:
        assert run_id in res.output


def test_show_and_export_accept_a_unique_prefix_and_refuse_an_ambiguous_one(store, tmp_path):
    res = runner.invoke(app, ["runs", "show", "pipeline-20260102", "--store", str(store)], terminal_width=200)
    assert res.exit_code == 0 and IDS[2] in res.output, res.output
    _one_line_error(runner.invoke(app, ["runs", "show", "pipeline-20260101", "--store", str(store)],
                                  terminal_width=300), "ambiguous", IDS[0], IDS[1])  # fmt: skip
    _one_line_error(runner.invoke(app, ["runs", "show", "nope", "--store", str(store)], terminal_width=300),
                    "run_id = 'nope' is not in")  # fmt: skip
    out = tmp_path / "export"
    res = runner.invoke(app, ["runs", "export", "pipeline-20260101-120000-aab", "--output", str(out), "--store",
                              str(store)], terminal_width=300)  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "report" / "report.html").read_text() == "<html>report</html>"
    assert (out / "metrics" / "statistics.csv").is_file() and IDS[1] in (out / "run.json").read_text()
    partial = tmp_path / "partial"
    _one_line_error(runner.invoke(app, ["runs", "export", "pipeline-20260101", "--output", str(partial), "--store",
                                        str(store)], terminal_width=300), "ambiguous")  # fmt: skip
    assert not partial.exists()


def test_read_only_commands_do_not_create_or_change_the_store(store, tmp_path):
    before = store.stat().st_mtime_ns
    assert runner.invoke(app, ["runs", "list", "--store", str(store)]).exit_code == 0
    assert store.stat().st_mtime_ns == before
    with ResultStore(store, read_only=True) as s:
        with pytest.raises(Exception, match="read-only"):
            s.start_run("pipeline", {})
    missing = tmp_path / "missing.duckdb"
    _one_line_error(runner.invoke(app, ["runs", "list", "--store", str(missing)], terminal_width=300),
                    "does not exist")  # fmt: skip
    assert not missing.exists()


@pytest.mark.parametrize("bad", ["x.csv", "runs.parquet", "None"])
def test_a_store_that_is_not_a_duckdb_file_is_refused(tmp_path, bad):
    path = tmp_path / bad
    _one_line_error(runner.invoke(app, ["runs", "list", "--store", str(path)], terminal_width=300),
                    f"store = '{path}' is not allowed", ".duckdb")  # fmt: skip
    with pytest.raises(ValueError, match="expected a path ending in .duckdb"):
        ResultStore(path)
    assert not path.exists()


def _hold(store, seconds: float) -> subprocess.Popen:
    """Another process holding the store's write lock for ``seconds``."""
    code = (f"import duckdb, sys, time; c = duckdb.connect({str(store)!r}); print('locked', flush=True); "
            f"time.sleep({seconds})")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_store_held_by_another_process_is_one_line_or_a_wait(store, tmp_path):
    holder = _hold(store, 60)
    try:
        res = runner.invoke(app, ["runs", "list", "--store", str(store)], terminal_width=400)
        _one_line_error(res, "is in use by process", str(holder.pid), "--wait SECONDS")
        start = time.monotonic()
        with pytest.raises(StoreBusyError, match=r"after waiting 0.5 s"):
            ResultStore(store, wait=0.5)
        assert 0.5 <= time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()
    holder = _hold(store, 1.5)  # it lets go after 1.5 s: --wait 30 gets the store
    try:
        res = runner.invoke(app, ["runs", "list", "--store", str(store), "--wait", "30"], terminal_width=300)
        assert res.exit_code == 0 and IDS[0] in res.output, res.output
    finally:
        holder.kill()
        holder.wait()
    config = tmp_path / "p.yaml"
    config.write_text(f"store: {store}\n")
    holder = _hold(store, 60)
    try:  # the pipeline refuses a busy store before doing any work
        res = runner.invoke(app, ["pipeline", "run", str(config), "--out", str(tmp_path / "o")], terminal_width=400)
        _one_line_error(res, "is in use by process", str(holder.pid))
        assert not (tmp_path / "o").exists()
    finally:
        holder.kill()
        holder.wait()
