"""200 kinetic-market runs (N = 10^5 agents) serially vs on the local Dask cluster, and the per-task overhead.

Serial: a plain loop in this process, numba using every core inside each run
(what one would write without Dask), and the same loop on one core (what
the cluster's single-threaded worker processes scale; same numbers, the
kernel being thread-count independent). Cluster: ``meanfolio.scale.sweep`` on a
LocalCluster with one single-threaded worker process per core, chunked
tasks, results streamed into DuckDB. Overhead: 200 tasks that do nothing,
one point per task, timed end to end (cluster start excluded).

    python benchmarks/sweep.py [runs] [steps]   # default 200 runs of 300 steps
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numba
from distributed import Client, LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report  # noqa: E402
from meanfolio.scale import kinetic_ensemble, sweep  # noqa: E402


def main(runs: int = 200, steps: int = 300) -> None:
    grid = {"beta": [0.5, 1.0, 2.0, 4.0], "agents": [100_000], "steps": [steps]}
    seeds = runs // 4
    report = Report("sweep")
    kinetic_ensemble({"beta": 1.0, "agents": 1000, "steps": 10}, 0)  # compile outside the timings

    def serial_loop():
        return [kinetic_ensemble({"beta": b, "agents": 100_000, "steps": steps}, s) for b in grid["beta"]
                for s in range(seeds)]  # fmt: skip

    start = time.perf_counter()
    serial = serial_loop()
    t_serial = time.perf_counter() - start
    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the same loop on one core: what the workers' processes scale
    start = time.perf_counter()
    single = serial_loop()
    t_single = time.perf_counter() - start
    numba.set_num_threads(threads)
    assert single == serial  # the kinetic kernel is thread-count independent
    with tempfile.TemporaryDirectory() as tmp:
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # fmt: skip
        client = Client(cluster)
        try:
            client.run(kinetic_ensemble, {"beta": 1.0, "agents": 1000, "steps": 10}, 0)  # compile on the workers
            res = sweep("kinetic", grid, seeds=seeds, client=client, store=Path(tmp) / "k.duckdb")
            t0 = time.perf_counter()
            noop = sweep("sleep", {"x": list(range(200))}, seeds=1, client=client, store=Path(tmp) / "n.duckdb",
                         chunk_size=1)  # fmt: skip
            t_noop = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
    assert res.done == len(serial), res.failed[:3]
    report.add(f"{len(serial)} kinetic runs, N = 1e5, {steps} steps vs serial (numba on all cores)", res.wall_time,
               t_serial, workers=res.workers, tasks=res.tasks, task_seconds=res.task_seconds)  # fmt: skip
    report.add(f"{len(serial)} kinetic runs vs serial on one core", res.wall_time, t_single, workers=res.workers)
    report.add("200 empty tasks (1 point each)", t_noop, None, per_task_overhead_ms=1000 * t_noop / noop.tasks)
    report.print()
    print(report.write_json())


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
