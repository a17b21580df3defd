"""
A parameter sweep on Dask
=========================

:func:`meanfolio.scale.sweep` evaluates a task on every point of a parameter
grid (times seeds) on a ``dask.distributed`` cluster and streams each result
into a DuckDB store as it arrives; a second call skips the points already done,
so an interrupted sweep resumes. Here: the equilibrium spread of a congested
1D mean-field game over viscosity x congestion (the ``mfg`` task,
:func:`meanfolio.scale.mfg_point`), on an in-process cluster with one worker,
closed at the end. Pass ``client=Client("tcp://scheduler:8786")`` to use a
real cluster instead.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from dask.distributed import Client, LocalCluster

from meanfolio.scale import load_sweep, phase_plot, sweep

grid = {"nu": [0.05, 0.1, 0.2, 0.4], "coupling": [0.0, 0.5, 1.0, 2.0], "nx": [100], "nt": [50]}
with tempfile.TemporaryDirectory() as tmp:
    store = Path(tmp) / "sweeps.duckdb"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:  # fmt: skip
        first = sweep("mfg", grid, seeds=1, client=client, store=store)
        again = sweep("mfg", grid, seeds=1, client=client, store=store)  # resumes: nothing left to do
    print(f"first call: {first.computed} points computed in {first.wall_time:.1f} s; "
          f"second call: {again.skipped} skipped, {again.computed} computed")  # fmt: skip
    frame = load_sweep(store, "mfg")
    print(frame.select("nu", "coupling", "iterations", "spread").sort("nu", "coupling"))
    fig = phase_plot(frame, "nu", "spread", y="coupling", title="equilibrium spread std m(T)")
plt.show()
