"""A start for the stationary solver from the same game on a coarser grid (nested iteration).

Far from the solution, Newton on the stationary system crawls: the
best response to the uniform law is a poor start, and damped steps make
little progress for many iterations (80x80 log games: 13 Newton steps, most
of them damped). The same game on a grid with half the points is solved
first (recursively, down to ``COARSE_MIN`` points per axis), and its
(u, m, lambda) interpolated bilinearly: the fine Newton then starts inside
its region of quadratic convergence. The interpolated density is renormalised
to unit mass; u is shifted to mean zero, as the solver normalises it.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from ..config import MFGConfig
from ..grid import Grid1D, Grid2D

__all__ = ["COARSE_MIN", "coarse_start"]

#: only grids with at least this many points per axis start from a coarse solve
COARSE_MIN = 40
#: the coarse solve's tolerance (a start, not an answer)
COARSE_TOLERANCE = 1e-8


def coarse_start(config: MFGConfig, f, hamiltonian, solve) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(u, m, lambda) on the grid of ``config`` from ``solve`` on the coarse grid, or None.

    None when the grid is small, when f cannot be evaluated on the
    coarse grid (an array of the fine grid's shape), or when the coarse
    solve does not converge.
    """
    sizes = (config.nx,) if config.dim == 1 else (config.nx, config.ny)
    if min(sizes) < COARSE_MIN:
        return None
    halves = (
        {"nx": (config.nx + 1) // 2} if config.dim == 1 else {"nx": (config.nx + 1) // 2, "ny": (config.ny + 1) // 2}
    )
    coarse = config.replace(**halves, tolerance=max(config.tolerance, COARSE_TOLERANCE))
    try:
        sol = solve(coarse, f, hamiltonian=hamiltonian)
    except ValueError:  # f given on the fine grid only
        return None
    if not sol.converged:
        return None
    if config.dim == 1:
        grid1 = Grid1D.from_config(config)
        u = np.interp(grid1.x, sol.x, sol.u)
        m = np.maximum(np.interp(grid1.x, sol.x, sol.m), 0.0)
        mass = m.sum() * grid1.dx
        return (u - u.mean(), m / mass, float(sol.lam)) if mass > 0 else None
    grid = Grid2D.from_config(config)
    x, y = grid.gx.x, grid.gy.x  # (periodic: beyond the last coarse node, linear extrapolation)
    Y, X = np.meshgrid(y, x, indexing="ij")
    points = np.stack([Y.ravel(), X.ravel()], axis=1)

    def fine(values: np.ndarray) -> np.ndarray:
        interp = RegularGridInterpolator((sol.y, sol.x), values, bounds_error=False, fill_value=None)
        return interp(points).reshape(config.ny, config.nx)

    u = fine(sol.u)
    m = np.maximum(fine(sol.m), 0.0)
    mass = m.sum() * grid.cell
    if not mass > 0:
        return None
    return u - u.mean(), m / mass, float(sol.lam)
