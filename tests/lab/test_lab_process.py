"""`meanfolio lab` under the signals a service manager, a container stop or a terminal send: the server ends
with the command, the port is released and no process is left behind."""

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from meanfolio.lab import lab_command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _start(port: int) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("meanfolio")  # the installed command, as a user runs it
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "meanfolio.cli"]
    proc = subprocess.Popen([*command, "lab", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 90
    while True:
        try:
            if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"meanfolio lab did not start on port {port}")
        time.sleep(0.3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_meanfolio_lab_ends_the_server(sig):
    port = _free_port()
    proc = _start(port)
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    try:
        # the command *is* the server (exec), so the signal reaches Streamlit itself
        assert "streamlit" in " ".join(tree[0].cmdline())
        proc.send_signal(sig)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.time() + 10
    while (_serving(port) or any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)) and (
        time.time() < deadline
    ):
        time.sleep(0.2)
    assert not _serving(port), f"port {port} is still served after {sig.name}"
    assert not [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_the_lab_command_binds_localhost_and_sends_no_usage_statistics():
    command = lab_command(8765)
    assert command[command.index("--server.address") + 1] == "localhost"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"
