"""Opening a DuckDB store: a checked path, read-only when only reading, and a one-line message (or a wait)
when another process holds the file's lock."""

from __future__ import annotations

import re
import time
from pathlib import Path

__all__ = ["StoreBusyError", "check_store_path", "connect"]

SUFFIXES = (".duckdb", ".db")
_PID = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


class StoreBusyError(RuntimeError):
    """Another process holds the store's lock; the message names it and the ``--wait`` option.

    A :class:`RuntimeError`, raised by :class:`ResultStore`.
    """


def check_store_path(path) -> Path:
    """``path`` as a Path if it names a DuckDB file (``.duckdb`` or ``.db``), else a ValueError saying so."""
    if path is None or isinstance(path, bool) or not isinstance(path, (str, Path)) or str(path) in ("", "None"):
        raise ValueError(f"store = {path!r} is not allowed: expected a path ending in .duckdb")
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(f"store = {str(path)!r} is not allowed: expected a path ending in .duckdb (or .db); "
                         "the store is a DuckDB database, not a CSV or Parquet file")  # fmt: skip
    if path.is_dir():
        raise ValueError(f"store = {str(path)!r} is a folder: expected a path ending in .duckdb")
    return path


def _holder(message: str) -> str:
    """'PID 123: meanfolio pipeline run cfg.yaml' from DuckDB's lock message (the command line from /proc)."""
    match = _PID.search(message)
    if not match:
        return "another process"
    exe, pid = match.group(1), match.group(2)
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = exe
    return f"process {pid} ({cmd[:120]})"


def connect(path: Path, *, read_only: bool = False, wait: float = 0.0):
    """A DuckDB connection to ``path``; if another process holds the lock, retry for ``wait`` seconds and then
    raise :class:`StoreBusyError` naming that process."""
    import duckdb

    deadline = time.monotonic() + max(0.0, float(wait))
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise ValueError(f"store {str(path)!r} could not be opened: {text.splitlines()[0]}") from exc
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait:g} s" if wait else ""
                raise StoreBusyError(
                    f"store {str(path)!r} is in use by {_holder(text)}{waited}: let it finish, or pass "
                    "--wait SECONDS (>= 0) to wait for it"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise ValueError(f"store {str(path)!r} is not a DuckDB database: {str(exc).splitlines()[0]}") from exc
