"""The Dask client of a sweep, bound to localhost, and Ctrl-C handling: a first Ctrl-C stops cleanly (the
finished points are kept), a second one kills the sweep and its worker processes at once."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Interrupt", "make_client", "interrupt_handler"]


class Interrupt:
    """Set by the first Ctrl-C (SIGINT); the sweep polls it between chunks."""

    def __init__(self) -> None:
        self.requested = False


def _kill_children() -> None:
    """SIGKILL every process this one started (the Dask workers), then this one."""
    try:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
    finally:
        os._exit(130)


@contextmanager
def interrupt_handler(announce=None) -> Iterator[Interrupt]:
    """Within the block, SIGINT sets ``flag.requested`` (first) or kills (second). Outside the main thread
    (where Python cannot handle signals) the flag is never set and Ctrl-C keeps its usual meaning."""
    flag = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handle(signum, frame) -> None:
        if flag.requested:
            sys.stderr.write("\nsecond Ctrl-C: killing the sweep and its workers\n")
            _kill_children()
        flag.requested = True
        if announce is not None:
            announce("Ctrl-C: stopping after the running chunks are cancelled; finished points are kept "
                     "(Ctrl-C again to kill)")  # fmt: skip

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def make_client(client, dashboard_address: str = "127.0.0.1:0"):
    """(client, owned cluster or None, owned) from None / a scheduler address / a Client.

    ``None`` starts a LocalCluster on 127.0.0.1 (scheduler, workers and the dashboard at
    ``dashboard_address``: localhost unless asked), one single-threaded worker process per core; its
    worker processes ignore SIGINT, so a Ctrl-C in the terminal reaches the sweep only, which stops them.
    """
    from distributed import Client, LocalCluster

    if client is None:
        host = dashboard_address.rpartition(":")[0] or "127.0.0.1"
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None  # inherited by the workers
        try:
            cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                   host="127.0.0.1" if host in ("127.0.0.1", "localhost") else None,
                                   dashboard_address=dashboard_address)  # fmt: skip
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        return Client(cluster), cluster, True
    if isinstance(client, str):
        return Client(client, timeout="30s"), None, True
    return client, None, False
