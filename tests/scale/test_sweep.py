"""Sweeps on real Dask clusters: equal to the serial loop, a killed worker, interrupt and resume,
a scheduler and two workers started as separate processes on loopback, the CLI."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from meanfolio.cli import app
from meanfolio.scale import expand_grid, load_sweep, mfg_point, point_id, sweep
from meanfolio.scale.tasks import resolve

GRID = {"nu": [0.1, 0.3], "coupling": [0.0, 2.0], "nx": [60], "nt": [30]}


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def rows(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute("SELECT point_id, status FROM sweep_points").fetchall()
    finally:
        con.close()


def test_cluster_gives_the_serial_numbers(client, tmp_path):
    res = sweep("mfg", GRID, seeds=2, client=client, store=tmp_path / "s.duckdb", chunk_size=1)
    assert res.done == 8 and not res.failed and res.tasks == 8 and res.workers == 2
    frame = load_sweep(tmp_path / "s.duckdb", "mfg")
    assert frame.height == 8 and frame["worker"].n_unique() == 2  # both workers did work
    for row in frame.iter_rows(named=True):
        params = {k: row[k] for k in GRID}
        params["nx"], params["nt"] = int(params["nx"]), int(params["nt"])
        serial = mfg_point(params, row["seed"])
        for key, value in serial.items():
            assert row[key] == value, (params, key)


def test_interrupt_and_resume_recompute_only_the_missing_points(client, tmp_path):
    store = tmp_path / "s.duckdb"
    grid = {"x": [0.0, 10.0, 20.0], "seconds": [0.05]}

    def stop_after_two(finished, total, dashboard):
        if finished >= 2:
            raise KeyboardInterrupt

    first = sweep("sleep", grid, seeds=4, client=client, store=store, chunk_size=1, progress=stop_after_two)
    assert first.interrupted and first.done >= 2
    saved = len(rows(store))
    assert saved == first.done < 12
    second = sweep("sleep", grid, seeds=4, client=client, store=store, chunk_size=1)
    assert second.skipped == saved and second.computed == 12 - saved and not second.interrupted
    third = sweep("sleep", grid, seeds=4, client=client, store=store)
    assert third.skipped == 12 and third.computed == 0
    ids = [r[0] for r in rows(store)]
    assert len(ids) == len(set(ids)) == 12


def test_failures_are_reported_and_retried_on_resume(client, tmp_path):
    store = tmp_path / "s.duckdb"
    res = sweep("sleep", {"x": [1.0], "fail_seed": [1]}, seeds=3, client=client, store=store)
    assert res.done == 2 and len(res.failed) == 1 and "fails on purpose" in res.failed[0]["error"]
    again = sweep("sleep", {"x": [1.0], "fail_seed": [1]}, seeds=3, client=client, store=store)
    assert again.skipped == 2 and again.computed == 1  # only the failed point is tried again


def test_a_killed_worker_loses_nothing(tmp_path):
    store = tmp_path / "s.duckdb"
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    try:
        pids = [w.process.pid for w in cluster.workers.values()]

        def kill_one():
            time.sleep(1.5)
            os.kill(pids[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_one)
        killer.start()
        res = sweep("sleep", {"x": [0.0, 1.0, 2.0, 3.0], "seconds": [0.25]}, seeds=5, client=client, store=store,
                    chunk_size=1, retries=3)  # fmt: skip
        killer.join()
    finally:
        client.close()
        cluster.close()
    assert res.done == 20 and not res.failed
    found = rows(store)
    assert len(found) == 20 and len({r[0] for r in found}) == 20 and {r[1] for r in found} == {"done"}
    frame = load_sweep(store, "sleep")
    assert sorted(frame["value"].to_list()) == sorted(x + 2 * s for x in range(4) for s in range(5))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scheduler_and_two_workers_as_separate_processes(tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address",
                               ":0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    try:
        for name in ("hostA", "hostB"):
            procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--name", name,
                                           "--host", "127.0.0.1", "--no-dashboard"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        res = sweep("mfg", GRID, seeds=1, client=address, store=tmp_path / "s.duckdb", chunk_size=1)
        assert res.done == 4 and res.workers == 2
        frame = load_sweep(tmp_path / "s.duckdb", "mfg")
        row = frame.row(0, named=True)
        params = {k: row[k] for k in GRID}
        params["nx"], params["nt"] = int(params["nx"]), int(params["nt"])
        assert row["spread"] == mfg_point(params, row["seed"])["spread"]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_cli_run_resume_and_plot(client, tmp_path):
    cfg = tmp_path / "s.yaml"
    store = tmp_path / "s.duckdb"
    cfg.write_text(f"function: sleep\ngrid: {{x: [0.0, 1.0], seconds: [0.0]}}\nseeds: 3\nstore: {store}\n"
                   "plot: {x: x, metric: value}\n")  # fmt: skip
    runner = CliRunner()
    address = client.scheduler.address
    res = runner.invoke(app, ["sweep", "run", str(cfg), "--scheduler", address, "--plot", str(tmp_path / "p.png")])
    assert res.exit_code == 0, res.output
    assert "Dask dashboard" in res.output and "phase plot written" in res.output
    assert (tmp_path / "p.png").stat().st_size > 5000
    again = runner.invoke(app, ["sweep", "run", str(cfg), "--scheduler", address])
    assert again.exit_code == 0 and "│        0 │      0 │                     6 │" in again.output
    cfg.write_text("function: sleep\n")
    bad = runner.invoke(app, ["sweep", "run", str(cfg)])
    assert bad.exit_code == 2 and "grid" in bad.output


def test_grid_and_function_validation():
    assert len(expand_grid({"a": [1, 2], "b": [3]}, 2)) == 4
    assert expand_grid([{"a": 1}, {"a": 2}], [5]) == [({"a": 1}, 5), ({"a": 2}, 5)]
    assert point_id("f", {"a": 1, "b": 2}, 0) == point_id("f", {"b": 2, "a": 1}, 0) != point_id("f", {"a": 1}, 0)
    with pytest.raises(ValueError, match="grid"):
        expand_grid({"a": []}, 1)
    with pytest.raises(ValueError, match="seeds"):
        expand_grid({"a": [1]}, [])
    with pytest.raises(ValueError, match="top-level"):
        resolve(lambda p, s: {})
    with pytest.raises(ValueError, match="expected one of"):
        resolve("nope")
    assert resolve("meanfolio.scale.tasks:sleep_point")[1](dict(x=1.0), 1) == {"value": 3.0}
