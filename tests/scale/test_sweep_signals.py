"""`meanfolio sweep run` under real signals, as a terminal sends them (SIGINT to the whole process group):
a first Ctrl-C stops cleanly and keeps the finished points, a second kills at once, no process is left, and
every socket of the local cluster (the Dask dashboard included) listens on localhost only."""

import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import psutil
import pytest

TOTAL = 40


def _start(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"function: sleep\ngrid: {{x: {list(range(10))}, seconds: [0.5]}}\nseeds: 4\n"
                   f"store: {tmp_path / 's.duckdb'}\nchunk_size: 1\n")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "meanfolio.cli", "sweep", "run", str(cfg)], cwd=tmp_path,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not any("Dask dashboard" in line for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the sweep did not start: " + "".join(lines)[-2000:])
        time.sleep(0.1)
    return proc, lines, reader


def _tree(proc) -> list[psutil.Process]:
    root = psutil.Process(proc.pid)
    return [root, *root.children(recursive=True)]


def _gone(procs, timeout=20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = procs
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    return [p.pid for p in alive]


def _stored(tmp_path) -> int:
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM sweep_points WHERE status = 'done'").fetchone()[0]
    finally:
        con.close()


def test_first_ctrl_c_stops_cleanly_and_the_cluster_listens_on_localhost_only(tmp_path):
    proc, lines, reader = _start(tmp_path)
    try:
        procs = _tree(proc)
        assert len(procs) >= 2  # the sweep and its worker processes
        listening = [c.laddr for p in procs for c in p.net_connections(kind="inet") if c.status == "LISTEN"]
        assert listening and all(ipaddress.ip_address(a.ip).is_loopback for a in listening), listening
        link = next(line for line in lines if "Dask dashboard" in line)
        assert "127.0.0.1:" in link and any(f":{a.port}/" in link for a in listening), (link, listening)
        time.sleep(3)  # some points finish
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    reader.join(timeout=10)
    out = "".join(lines)
    assert code == 130, out[-3000:]
    assert "interrupted: run the same command again" in out and "Traceback" not in out, out[-3000:]
    assert _gone(procs) == []
    stored = _stored(tmp_path)
    assert 1 <= stored < TOTAL
    assert f"│ {stored:>8} │" in out  # the summary's "done now" is what the store holds


def test_second_ctrl_c_kills_at_once_and_leaves_no_process(tmp_path):
    proc, lines, reader = _start(tmp_path)
    try:
        procs = _tree(proc)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        start = time.monotonic()
        code = proc.wait(timeout=30)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    reader.join(timeout=10)
    assert code == 130 and elapsed < 5, ("".join(lines)[-3000:], elapsed)
    assert "second Ctrl-C" in "".join(lines)
    assert _gone(procs) == []
