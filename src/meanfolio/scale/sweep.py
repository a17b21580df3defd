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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from meanfolio._validation import check_integer
from meanfolio.data.store import ResultStore

from ._cluster import interrupt_handler, make_client
from .tasks import resolve

__all__ = ["SweepResult", "expand_grid", "load_sweep", "point_id", "sweep"]

_SCHEMA = """CREATE TABLE IF NOT EXISTS sweep_points (
    point_id VARCHAR PRIMARY KEY, function VARCHAR, params VARCHAR, seed BIGINT, status VARCHAR,
    metrics VARCHAR, error VARCHAR, seconds DOUBLE, worker VARCHAR, finished TIMESTAMP)"""


@dataclass
class SweepResult:
    """What a :func:`sweep` call did: points in the sweep, computed now (done / failed), skipped (done before).

    Attributes
    ----------
    function : str
        The task's stable name.
    total : int
        Points of the grid times the seeds.
    done : int
        Points computed successfully in this call.
    failed : list of dict
        The points that raised, with their params, seed and error.
    skipped : int
        Points already done in the store (not recomputed).
    computed : int
        Points computed in this call (done + failed).
    tasks : int
        Dask tasks (chunks of points) submitted.
    wall_time : float
        Seconds of the call.
    interrupted : bool
        Whether a Ctrl-C cancelled the rest (every finished point is stored).
    dashboard : str
        The Dask dashboard's link.
    task_seconds : float
        Seconds spent inside the tasks (summed over workers).
    workers : int
        Dask workers used.
    errors : dict of str to str
        Errors by point id.
    """

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
    """The stable id of a sweep point: the first 24 hex digits of the SHA-256 of (function, params, seed).

    Parameters
    ----------
    function : str
        The task's stable name.
    params : dict
        The point's parameters (key order does not matter).
    seed : int
        The seed.

    Returns
    -------
    str

    Examples
    --------
    >>> from meanfolio.scale import point_id
    >>> point_id("mfg", {"nu": 0.1}, 0)
    'bfe6c544912ac1a68d4cc078'
    """
    text = json.dumps({"function": function, "params": params, "seed": int(seed)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def expand_grid(grid, seeds) -> list[tuple[dict[str, Any], int]]:
    """The points of a sweep: (params, seed) pairs of a grid times the seeds.

    Parameters
    ----------
    grid : dict of lists or list of dicts
        A dict of non-empty lists is a cartesian product; a list of dicts is taken as is.
    seeds : int or iterable of int
        A count n (the seeds 0..n-1) or a list of seeds >= 0.

    Returns
    -------
    list of (dict, int)

    Raises
    ------
    ValueError
        If the grid or the seeds are empty or malformed.

    Examples
    --------
    >>> from meanfolio.scale import expand_grid
    >>> expand_grid({"nu": [0.1, 0.2], "coupling": [1.0]}, 2)
    [({'nu': 0.1, 'coupling': 1.0}, 0), ({'nu': 0.1, 'coupling': 1.0}, 1),
     ({'nu': 0.2, 'coupling': 1.0}, 0), ({'nu': 0.2, 'coupling': 1.0}, 1)]
    """
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
    dashboard_address: str = "127.0.0.1:0",
    announce: Callable[[str], None] | None = None,
) -> SweepResult:
    """Evaluate ``function(params, seed)`` on every point of ``grid`` x ``seeds`` with Dask, streamed into a store.

    Points are grouped in chunks (one Dask task each) and every finished chunk is
    written to the store in one transaction. Each point has a stable id
    (:func:`point_id`), so re-running the same sweep skips the points already
    done and computes the missing or failed ones; a worker that dies has its
    task rescheduled. A first Ctrl-C cancels what is left and returns with
    ``interrupted`` set (every finished point is stored); a second one kills
    the sweep and its worker processes at once.

    Parameters
    ----------
    function : str or callable
        A task name of :data:`TASKS` (``"mfg"``, ``"kinetic"``, ``"de"``), a
        ``"module:function"`` path, or a top-level callable returning a dict of numbers.
    grid : dict of lists or list of dicts
        A dict of lists is a cartesian product (see :func:`expand_grid`).
    seeds : int or iterable of int, default 1
        Number of seeds (0..n-1) or a list of seeds.
    client : None, str or distributed.Client
        None: a ``LocalCluster`` with one single-threaded worker process per
        core; a string: the address of a scheduler; a ``Client``: used as is.
    store : str or Path, default "sweeps.duckdb"
        The DuckDB file that receives every finished point (table ``sweep_points``).
    chunk_size : int, optional
        Points per Dask task; default about four tasks per worker, at most 50 points.
    threads_per_task : int, default 1
        Numba threads inside a task (1: the workers already fill the cores).
    retries : int, default 2
        Dask retries of a task whose worker died.
    progress : callable, optional
        ``progress(points_finished, points_to_compute, dashboard_link)`` after each chunk.
    dashboard_address : str, default "127.0.0.1:0"
        Where the LocalCluster's dashboard listens (localhost unless asked).
    announce : callable, optional
        ``announce(message)`` when a Ctrl-C is received.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        If the function cannot be resolved or the grid is malformed.

    See Also
    --------
    load_sweep, phase_plot

    Examples
    --------
    >>> from meanfolio.scale import load_sweep, phase_plot, sweep
    >>> res = sweep("mfg", {"nu": [0.05, 0.1, 0.2], "coupling": [0.0, 1.0]}, seeds=2,
    ...             store="sweeps.duckdb")  # doctest: +SKIP
    >>> frame = load_sweep("sweeps.duckdb", "mfg")  # doctest: +SKIP
    >>> phase_plot(frame, "nu", "iterations", y="coupling", path="phase.png")  # doctest: +SKIP
    """
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
        with interrupt_handler(announce) as stop:
            _run(client, dashboard_address, rs, fname, spec, todo, chunk_size, threads_per_task, retries, progress,
                 result, stop)  # fmt: skip
    finally:
        rs.close()
    result.wall_time = time.perf_counter() - start
    return result


def _run(client, dashboard_address, rs, fname, spec, todo, chunk_size, threads_per_task, retries, progress, result,
         stop) -> None:  # fmt: skip
    """Submit the chunks and store each as it finishes, until done or stopped (Ctrl-C)."""
    from distributed import wait

    client_obj, cluster, owned = make_client(client, dashboard_address)
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
        pending = {f: chunk for f, chunk in zip(futures, chunks, strict=True)}
        try:
            while pending and not stop.requested:
                try:
                    done = wait(list(pending), timeout=0.25, return_when="FIRST_COMPLETED").done
                except TimeoutError:  # nothing finished yet: look at the Ctrl-C flag again
                    continue
                for fut in done:
                    _collect(rs, fname, fut, pending.pop(fut), result)
                    if progress is not None:
                        progress(result.computed, len(todo), result.dashboard)
        except KeyboardInterrupt:  # raised by a progress callback, or Ctrl-C outside the main thread
            stop.requested = True
        if pending:
            result.interrupted = stop.requested
            client_obj.cancel(list(pending))
    finally:
        if owned:
            client_obj.close()
            if cluster is not None:
                cluster.close(timeout=20)


def _collect(rs, fname, fut, chunk, result) -> None:
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


def load_sweep(store: str | Path, function: str | None = None, status: str | None = "done"):
    """The points of a sweep store as a polars DataFrame: params and metrics as columns, plus seed, status, seconds.

    Parameters
    ----------
    store : str or Path
        The DuckDB file of :func:`sweep`.
    function : str, optional
        Keep the points of this task only.
    status : {"done", "failed"} or None, default "done"
        Keep the points of this status (None: all).

    Returns
    -------
    polars.DataFrame
    """
    import polars as pl

    rs = ResultStore(store, read_only=True)
    try:
        if not rs.has_table("sweep_points"):
            return pl.DataFrame()
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
