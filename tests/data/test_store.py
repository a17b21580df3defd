"""The DuckDB result store: round trips, transactional runs, a killed writer."""

import subprocess
import sys
import textwrap

import numpy as np
import polars as pl
import pytest

from meanfolio.data import ResultStore


def test_round_trip_metrics_and_arrays(tmp_path):
    frame = pl.DataFrame({"name": ["a", "b", None], "x": [1.5, np.nan, -2.0], "n": [1, None, 3],
                          "flag": [True, False, None]})  # fmt: skip
    arr = np.random.default_rng(0).random((3, 4, 5))
    with ResultStore(tmp_path / "r.duckdb") as store:
        with store.run("test", {"alpha": 0.5, "grid": [1, 2], "path": tmp_path}) as run:
            run.save_metrics("table", frame)
            run.save_metrics("rows", [{"k": "x", "v": 1.0}, {"k": "y", "v": 2.0}])
            run.save_array("cube", arr)
            run.save_array("ints", np.arange(7))
        rec = store.get_run(run.run_id)
        assert rec.status == "complete" and rec.config["grid"] == [1, 2] and rec.finished >= rec.created
        back = store.metrics(run.run_id)
        assert back["table"].equals(frame, null_equal=True)
        assert back["table"].schema == frame.schema
        assert back["rows"]["v"].to_list() == [1.0, 2.0]
        np.testing.assert_array_equal(store.array(run.run_id, "cube"), arr)
        assert store.arrays(run.run_id)["ints"].dtype == np.int64
        out = store.export(run.run_id, tmp_path / "export")
        assert (out / "config.json").is_file() and (out / "metrics" / "table.csv").is_file()
        assert (out / "arrays" / "cube.parquet").is_file()
        with pytest.raises(KeyError, match="not in"):
            store.get_run("missing")
        with pytest.raises(ValueError, match="dtype"):
            run.save_array("text", np.array(["a"]))


def test_failed_and_interrupted_runs_leave_earlier_runs_intact(tmp_path):
    with ResultStore(tmp_path / "r.duckdb") as store:
        with store.run("ok", {}) as first:
            first.save_metrics("m", {"v": [1.0, 2.0]})
        with pytest.raises(RuntimeError), store.run("bad", {}) as bad:
            bad.save_metrics("m", {"v": [3.0]})
            raise RuntimeError("stage 3 exploded")
        with pytest.raises(KeyboardInterrupt), store.run("stopped", {}):
            raise KeyboardInterrupt
        runs = {r["kind"]: r for r in store.list_runs().iter_rows(named=True)}
        assert runs["ok"]["status"] == "complete"
        assert runs["bad"]["status"] == "failed" and "stage 3 exploded" in runs["bad"]["message"]
        assert runs["stopped"]["status"] == "incomplete"
        assert store.metrics(first.run_id)["m"]["v"].to_list() == [1.0, 2.0]
        # what the failed run finished writing is kept
        assert store.metrics(bad.run_id)["m"]["v"].to_list() == [3.0]


def test_a_killed_writer_leaves_an_incomplete_run(tmp_path):
    path = tmp_path / "r.duckdb"
    with ResultStore(path) as store, store.run("before", {}) as run:
        run.save_array("x", np.ones(3))
    script = textwrap.dedent(f"""
        import os, numpy as np
        from meanfolio.data import ResultStore
        store = ResultStore({str(path)!r})
        run = store.start_run("killed", {{"n": 1}})
        run.save_array("half", np.arange(4.0))
        os._exit(9)  # no cleanup, no status update: like a kill -9
    """)
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    with ResultStore(path) as store:
        runs = {r["kind"]: r for r in store.list_runs().iter_rows(named=True)}
        assert runs["before"]["status"] == "complete" and runs["killed"]["status"] == "incomplete"
        np.testing.assert_array_equal(store.array(runs["killed"]["run_id"], "half"), np.arange(4.0))
        np.testing.assert_array_equal(store.array(runs["before"]["run_id"], "x"), np.ones(3))


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("file", "../../../../../../etc/hostname", "points to"),
        ("file", "{other}/a.parquet", "points to"),
        ("file", "../{other}/a.parquet", "points to"),
        ("name", "../../escaped", "array name"),
    ],
)
def test_export_refuses_paths_a_crafted_store_points_outside(tmp_path, column, value, message):
    # a store edited by hand (or received from elsewhere) must not make export read or write outside its folders
    with ResultStore(tmp_path / "r.duckdb") as store:
        with store.run("test", {}) as other:
            other.save_array("a", np.arange(3))
        with store.run("test", {}) as run:
            run.save_array("a", np.arange(3))
        crafted = value.format(other=other.run_id)
        store.con.execute(f"UPDATE arrays SET {column} = ? WHERE run_id = ?", [crafted, run.run_id])
        out = tmp_path / "deep" / "out"
        with pytest.raises(ValueError, match=message):
            store.export(run.run_id, out)
        if column == "file":
            with pytest.raises(ValueError, match=message):
                store.array(run.run_id, "a")
    assert not (tmp_path / "deep" / "escaped.parquet").exists()
    written = {p.name for p in (tmp_path / "deep").rglob("*") if p.is_file()}
    assert "hostname.parquet" not in " ".join(written)


def test_a_symlink_leaving_the_run_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    with ResultStore(tmp_path / "r.duckdb") as store:
        with store.run("test", {}) as run:
            run.save_array("a", np.arange(3))
        link = store.array_dir / run.run_id / "link.parquet"
        link.symlink_to(secret)
        store.con.execute("UPDATE arrays SET file = ? WHERE run_id = ?", [f"{run.run_id}/link.parquet", run.run_id])
        with pytest.raises(ValueError, match="points to"):
            store.export(run.run_id, tmp_path / "out")
        with pytest.raises(ValueError, match="run_id"):
            store.start_run("test", {}, run_id="../x")


def test_paths_are_stored_relative_to_the_run_folder_and_older_stores_still_read(tmp_path):
    with ResultStore(tmp_path / "r.duckdb") as store:
        with store.run("test", {}) as run:
            run.save_array("a", np.arange(3.0))
        (file,) = store.con.execute("SELECT file FROM arrays WHERE run_id = ?", [run.run_id]).fetchone()
        assert file == "a.parquet"
        # a store written before the change holds "<run_id>/<file>" (relative to the arrays folder)
        store.con.execute("UPDATE arrays SET file = ? WHERE run_id = ?", [f"{run.run_id}/a.parquet", run.run_id])
        np.testing.assert_array_equal(store.array(run.run_id, "a"), np.arange(3.0))
