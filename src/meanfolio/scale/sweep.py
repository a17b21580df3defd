"""Parameter sweeps and Monte Carlo ensembles on dask.distributed, streamed into the DuckDB store.

A sweep is the set of points (parameters, seed) of a grid times the seeds.
Each point has a stable id: a hash of the function's name, the parameters
and the seed. Points are grouped in chunks (one Dask task each, so the
per-task overhead is paid once per chunk) and every finished chunk is
written to the store in one transaction as soon as it arrives. Re-running
the same sweep skips the points already done and computes the missing or
failed ones; a worker that dies has its task rescheduled by Dask on another
worker, and a KeyboardInterrupt cancels what is left: nothing finished is
lost, and a point is stored once (its id is the primary key).

No scheduler of our own: ``client=None`` starts a ``LocalCluster`` sized to
the machine (one single-threaded worker process per core), a string is the
address of an existing scheduler (``tcp://host:8786``), a ``Client`` is used
as is.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from meanfolio._validation import check_integer
from meanfolio.data.store import ResultStore

from .tasks import resolve

__all__ = ["SweepResult", "expand_grid", "load_sweep", "point_id", "sweep"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS sweep_points (
    point_id VARCHAR PRIMARY KEY, function VARCHAR, params VARCHAR, seed BIGINT, status VARCHAR,
    metrics VARCHAR, error VARCHAR, seconds DOUBLE, worker VARCHAR, finished TIMESTAMP)"""


@dataclass
class SweepResult:
    """Counts of a sweep call: points in the sweep, computed now (done / failed), skipped (done before)."""

    function: str
    total: int
    done: int
    failed: list[dict[str, Any]]
    skipped: int
    computed: int
    tasks: int
    wall_time: float
    interrupted: bool = False
    dashboard: str = ""
    task_seconds: float = 0.0
    workers: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def point_id(function: str, params: dict[str, Any], seed: int) -> str:
    text = json.dumps({"function": function, "params": params, "seed": int(seed)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def expand_grid(grid, seeds) -> list[tuple[dict[str, Any], int]]:
    """(params, seed) pairs: a dict of lists is a cartesian product, a list of dicts is taken as is;
    ``seeds`` is a count (0..n-1) or a list of ints."""
    if isinstance(grid, dict):
        if not grid or any(not isinstance(v, (list, tuple)) or len(v) == 0 for v in grid.values()):
            raise ValueError(f"grid = {grid!r} is not allowed: expected a dict of non-empty lists")
        keys = list(grid)
        combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]
    elif isinstance(grid, (list, tuple)) and grid and all(isinstance(g, dict) for g in grid):
        combos = [dict(g) for g in grid]
    else:
        raise ValueError(f"grid = {grid!r} is not allowed: expected a dict of lists or a non-empty list of dicts")
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = range(check_integer("seeds", seeds, low=1))
    seeds = [check_integer("seeds", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds = [] is not allowed: expected at least one seed")
    return [(c, s) for c in combos for s in seeds]


def _run_chunk(spec, points: list[tuple[str, dict, int]], threads: int) -> list[tuple]:
    """Evaluate a chunk of points on a worker; an exception fails its point only."""
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    _, fn = resolve(spec)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = "local"
    out = []
    for pid, params, seed in points:
        start = time.perf_counter()
        try:
            metrics, status, error = {k: float(v) for k, v in fn(params, seed).items()}, "done", ""
        except Exception as exc:  # the point fails, the sweep goes on
            metrics, status, error = {}, "failed", f"{type(exc).__name__}: {exc}"
        out.append((pid, params, seed, status, metrics, error, time.perf_counter() - start, worker))
    return out


def _write(store: ResultStore, function: str, results: Iterable[tuple]) -> None:
    rows = [(pid, function, json.dumps(params, sort_keys=True, default=str), int(seed), status,
             json.dumps(metrics), error, seconds, worker, datetime.now())
            for pid, params, seed, status, metrics, error, seconds, worker in results]  # fmt: skip
    store.transaction([("INSERT OR REPLACE INTO sweep_points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)])


def _client(client):
    """(client, owned cluster or None, owned) from None / address / Client."""
    from distributed import Client, LocalCluster

    if client is None:
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # fmt: skip
        return Client(cluster), cluster, True
    if isinstance(client, str):
        return Client(client, timeout="30s"), None, True
    return client, None, False


def sweep(
    function: str | Callable,
    grid,
    seeds: int | Iterable[int] = 1,
    *,
    client=None,
    store: str | Path = "sweeps.duckdb",
    chunk_size: int | None = None,
    threads_per_task: int = 1,
    retries: int = 2,
    progress: Callable[[int, int, str], None] | None = None,
) -> SweepResult:
    """Evaluate ``function(params, seed)`` on every point of ``grid`` x ``seeds`` with Dask.

    Parameters
    ----------
    function : a task name ("mfg", "kinetic", "de"), "module:function", or a top-level callable
        returning a dict of numbers.
    grid : dict of lists (cartesian product) or list of dicts.
    seeds : number of seeds (0..n-1) or a list of seeds.
    client : None (a LocalCluster, one process per core), a scheduler address, or a Client.
    store : the DuckDB file that receives every finished point (table ``sweep_points``).
    chunk_size : points per Dask task; default: about four tasks per worker, at most 50 points.
    threads_per_task : numba threads inside a task (1: the workers already fill the cores).
    retries : Dask retries of a task whose worker died.
    progress : ``progress(points_finished, points_to_compute, dashboard_link)`` after each chunk.
    """
    from distributed import as_completed

    fname, fn = resolve(function)
    spec = fname if isinstance(function, str) else fn
    points = [(point_id(fname, p, s), p, s) for p, s in expand_grid(grid, seeds)]
    threads_per_task = check_integer("threads_per_task", threads_per_task, low=1)
    start = time.perf_counter()
    rs = ResultStore(store)
    try:
        rs.con.execute(_SCHEMA)
        query = "SELECT point_id FROM sweep_points WHERE function = ? AND status = 'done'"
        done_before = {r[0] for r in rs.con.execute(query, [fname]).fetchall()}
        todo = [p for p in points if p[0] not in done_before]
        result = SweepResult(fname, len(points), 0, [], len(points) - len(todo), 0, 0, 0.0)
        if not todo:
            result.wall_time = time.perf_counter() - start
            return result
        client_obj, cluster, owned = _client(client)
        try:
            result.dashboard = str(getattr(client_obj, "dashboard_link", "") or "")
            workers = max(len(client_obj.scheduler_info().get("workers", {})), 1)
            result.workers = workers
            size = chunk_size or max(1, min(50, -(-len(todo) // (4 * workers))))
            size = check_integer("chunk_size", size, low=1)
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            futures = [client_obj.submit(_run_chunk, spec, chunk, threads_per_task, pure=False, retries=retries)
                       for chunk in chunks]  # fmt: skip
            result.tasks = len(futures)
            pending = {f.key: chunk for f, chunk in zip(futures, chunks, strict=True)}
            try:
                for fut in as_completed(futures):
                    chunk = pending.pop(fut.key)
                    try:
                        rows = fut.result()
                    except Exception as exc:  # the task itself was lost (e.g. KilledWorker)
                        error = f"{type(exc).__name__}: {exc}"
                        rows = [(pid, p, s, "failed", {}, error, 0.0, "") for pid, p, s in chunk]
                    _write(rs, fname, rows)
                    for _, p, s, status, _, error, seconds, _ in rows:
                        result.computed += 1
                        result.task_seconds += seconds
                        if status == "done":
                            result.done += 1
                        else:
                            result.failed.append({"params": p, "seed": s, "error": error})
                    if progress is not None:
                        progress(result.computed, len(todo), result.dashboard)
            except KeyboardInterrupt:
                result.interrupted = True
                client_obj.cancel(futures)
        finally:
            if owned:
                client_obj.close()
                if cluster is not None:
                    cluster.close()
    finally:
        rs.close()
    result.wall_time = time.perf_counter() - start
    return result


def load_sweep(store: str | Path, function: str | None = None, status: str | None = "done"):
    """The points of a store as a polars DataFrame: params and metrics as columns, plus seed, status, seconds."""
    import polars as pl

    rs = ResultStore(store)
    try:
        rs.con.execute(_SCHEMA)
        sql = "SELECT function, params, seed, status, metrics, error, seconds, worker FROM sweep_points WHERE 1=1"
        args: list = []
        if function is not None:
            sql += " AND function = ?"
            args.append(function)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        rows = rs.con.execute(sql + " ORDER BY params, seed", args).fetchall()
    finally:
        rs.close()
    records = [{"function": f, **json.loads(p), "seed": s, "status": st, **json.loads(m), "error": e,
                "seconds": sec, "worker": w} for f, p, s, st, m, e, sec, w in rows]  # fmt: skip
    return pl.DataFrame(records) if records else pl.DataFrame()
