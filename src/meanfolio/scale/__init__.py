"""Scale-out on dask.distributed: parameter sweeps and Monte Carlo ensembles with resume.

::

    from meanfolio.scale import sweep, load_sweep, phase_plot
    res = sweep("mfg", {"nu": [0.05, 0.1, 0.2], "coupling": [0.0, 1.0, 2.0]}, seeds=2, store="sweeps.duckdb")
    phase_plot(load_sweep("sweeps.duckdb", "mfg"), "nu", "iterations", y="coupling", path="phase.png")
"""

from .plots import phase_plot
from .sweep import SweepResult, expand_grid, load_sweep, point_id, sweep
from .tasks import TASKS, de_restart, kinetic_ensemble, mfg_point

__all__ = [
    "TASKS",
    "SweepResult",
    "de_restart",
    "expand_grid",
    "kinetic_ensemble",
    "load_sweep",
    "mfg_point",
    "phase_plot",
    "point_id",
    "sweep",
]
