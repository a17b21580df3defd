"""Accuracy per second: the second-order scheme against the upwind scheme on the LQ closed form.

The LQ game of ``mfg.md`` (1D) and its separable 2D version, solved on grids
that double in space and time by ``scheme="upwind"`` (implicit Euler, upwind)
and ``scheme="second_order"`` (Crank-Nicolson, centred). The error is the
largest of |mean - exact| and |variance - exact| of m(T) (each marginal in
2D). Prints the table (error, observed order, time) and writes
``results/mfg_second_order.json`` and the convergence plot
``results/mfg_second_order.png`` (error against grid size and against time).

    python benchmarks/mfg_second_order.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import RESULTS, Report  # noqa: E402
from meanfolio.mfg import Grid2D, MeanTracking, MFGConfig, RunningCost, lq_reference, solve_mfg  # noqa: E402
from meanfolio.mfg.examples import lq_example  # noqa: E402

LQ = lq_reference()


def _moment_error(m: np.ndarray, z: np.ndarray, dz: float) -> float:
    mean = dz * np.sum(z * m)
    var = dz * np.sum(z**2 * m) - mean**2
    return max(abs(mean - LQ.mean(1.0)), abs(var - LQ.variance(1.0)))


def error_1d(nx: int, nt: int, scheme: str) -> tuple[float, float, bool]:
    game = lq_example(nx, nt, LQ, tolerance=1e-10, scheme=scheme)
    start = time.perf_counter()
    sol = solve_mfg(**game)
    wall = time.perf_counter() - start
    return _moment_error(sol.m[-1], sol.x, sol.x[1] - sol.x[0]), wall, sol.converged


def error_2d(n: int, nt: int, scheme: str) -> tuple[float, float, bool]:
    config = MFGConfig(
        nx=n, nt=nt, x_min=-2.5, x_max=4.0, time_horizon=LQ.T, viscosity=LQ.nu, tolerance=1e-9, dim=2, scheme=scheme
    )
    X, Y = Grid2D.from_config(config).mesh()
    f = MeanTracking(LQ.a) + RunningCost(lambda t, x, y: 0.5 * LQ.b * (x**2 + y**2))
    start = time.perf_counter()
    sol = solve_mfg(config, LQ.m0(X) * LQ.m0(Y), f, terminal=lambda X, Y: LQ.terminal(X) + LQ.terminal(Y))
    wall = time.perf_counter() - start
    dx = sol.x[1] - sol.x[0]
    err = max(_moment_error(sol.m[-1].sum(axis=a) * dx, sol.x, dx) for a in (0, 1))
    return err, wall, sol.converged


CASES = {
    ("1D", "upwind"): [(100, 51), (200, 101), (400, 201), (800, 401), (1600, 801)],
    ("1D", "second_order"): [(50, 26), (100, 51), (200, 101), (400, 201)],
    ("2D", "upwind"): [(20, 11), (40, 21), (80, 41), (160, 81)],
    ("2D", "second_order"): [(20, 11), (40, 21), (80, 41)],
}


def main() -> None:
    report = Report("mfg_second_order")
    curves = {}
    for (dim, scheme), grids in CASES.items():
        run = error_1d if dim == "1D" else error_2d
        points = []
        for nx, nt in grids:
            run(nx, nt, scheme) if not points else None  # warm-up (compilation) on the first grid
            err, wall, converged = run(nx, nt, scheme)
            order = None if not points else float(np.log2(points[-1][1] / err))
            points.append((nx, err, wall))
            report.add(f"{dim} {scheme} {nx}x{nt}", wall, None, error=err, order=order, converged=converged)
        curves[f"{dim} {scheme}"] = points
    report.print()
    print("written", report.write_json())
    _plot(curves, RESULTS / "mfg_second_order.png")


def _plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for label, points in curves.items():
        nx, err, wall = (np.array(v) for v in zip(*points, strict=True))
        style = "-o" if "second" in label else "--s"
        left.loglog(nx, err, style, label=label)
        right.loglog(wall, err, style, label=label)
    ref = np.array([20, 1600])
    left.loglog(ref, 0.3 * (ref / 20.0) ** -1.0, ":", color="grey", label="order 1")
    left.loglog(ref, 3e-4 * (ref / 20.0) ** -2.0, "-.", color="grey", label="order 2")
    left.set(xlabel="nx (nt doubles with nx)", ylabel="max error of mean, variance at T", title="LQ: error vs grid")
    right.set(xlabel="wall time (s)", ylabel="error", title="LQ: error vs time")
    left.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print("written", path)


if __name__ == "__main__":
    main()
