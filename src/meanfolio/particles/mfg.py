"""A particle solver of the 1D MFG: HJB on the grid, the population as particles.

Each iteration solves the HJB backward on the grid for the costs of the
current population law, then moves N particles with the equilibrium feedback
alpha*(t, x) of that u and diffusion sqrt(2 nu) (reflecting walls for the
no-flux box), and takes their histograms at the grid times as the new law;
the law is updated by damping (``config.relaxation``). The particles use the
same random numbers in every iteration, so the iteration converges to the
equilibrium of the N-particle game instead of wandering with the noise.

As N grows the particle law approaches the grid FP law at the rate N^(-1/2)
in W2 (propagation of chaos), down to the floor set by the grid's own error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_integer, check_number
from meanfolio.mfg.config import MFGConfig
from meanfolio.mfg.hjb import solve_hjb, upwind_terms
from meanfolio.mfg.problem import MFGProblem
from meanfolio.transport import wasserstein_1d

from .model import GridControl, McKeanVlasov, simulate_particles

__all__ = ["ParticleMFGSolution", "histogram_density", "sample_density", "solve_mfg_particles"]


@dataclass
class ParticleMFGSolution:
    """u (nt, nx) on the grid; m (nt, nx) the damped particle law; particles (N,) at T;
    history: max_t W1 between the laws of successive iterations."""

    u: np.ndarray
    m: np.ndarray
    alpha: np.ndarray
    particles: np.ndarray
    x: np.ndarray
    t: np.ndarray
    converged: bool
    iterations: int
    history: list[float]
    wall_time: float
    message: str


def sample_density(m: np.ndarray, x: np.ndarray, n: int, seed: SeedLike = None) -> np.ndarray:
    """n samples of the piecewise-constant density m on the cells of the nodes x, kept inside [x0, x_end]."""
    rng = as_generator(seed)
    dx = x[1] - x[0]
    p = np.maximum(m, 0.0) / np.maximum(m, 0.0).sum()
    cells = rng.choice(x.size, size=n, p=p)
    return np.clip(x[cells] + dx * (rng.random(n) - 0.5), x[0], x[-1])


def histogram_density(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Density on the nodes x (mass ``dx * sum`` = 1): each sample counts for its nearest node."""
    dx = x[1] - x[0]
    idx = np.clip(np.rint((samples - x[0]) / dx).astype(np.int64), 0, x.size - 1)
    return np.bincount(idx, minlength=x.size) / (samples.size * dx)


def solve_mfg_particles(
    config: MFGConfig,
    m0,
    f=None,
    *,
    terminal=None,
    hamiltonian=None,
    n_particles: int = 10_000,
    substeps: int = 4,
    seed: SeedLike = None,
    tolerance: float = 1e-3,
) -> ParticleMFGSolution:
    """Solve the 1D MFG of ``config`` with N particles for the population.

    Parameters as for :func:`meanfolio.mfg.solve_mfg` (no-flux box, couplings
    of m only), plus ``n_particles``, ``substeps`` (Euler steps per grid
    step), ``seed`` and ``tolerance`` on the W1 change of the law between
    iterations (``config.max_iterations`` caps them).
    """
    if config.dim != 1 or config.boundary != "neumann":
        raise ValueError(
            f"config with dim = {config.dim}, boundary = {config.boundary!r} is not allowed: expected a 1D no-flux box"
        )
    n_particles = check_integer("n_particles", n_particles, low=2)
    substeps = check_integer("substeps", substeps, low=1)
    tolerance = check_number("tolerance", tolerance, low=0, low_inclusive=False)
    problem = MFGProblem.create(config, m0, f, terminal=terminal, hamiltonian=hamiltonian)
    if problem.coupling.uses_control:
        raise ValueError("f = MarketImpact is not allowed in the particle solver: expected a coupling of m")
    grid, nu, nt = problem.grid, config.viscosity, config.nt
    rng = as_generator(seed)
    x0 = sample_density(problem.m0, grid.x, n_particles, rng)
    stream = int(rng.integers(0, 2**62))
    model = McKeanVlasov(sigma=float(np.sqrt(2.0 * nu)), box=(config.x_min, config.x_max))
    start = time.perf_counter()
    m = np.broadcast_to(problem.m0, (nt, grid.nx)).copy()
    u = np.broadcast_to(problem.terminal_cost(m[-1]), m.shape).copy()
    history: list[float] = []
    previous = None
    converged, message = False, ""
    for _ in range(config.max_iterations):
        u, _ = solve_hjb(grid, nu, problem.hamiltonian, problem.running_cost(u, m), problem.terminal_cost(m[-1]),
                         u_init=u)  # fmt: skip
        alpha = upwind_terms(grid, problem.hamiltonian, u).drift
        laws = np.empty_like(m)
        laws[0] = histogram_density(x0, grid.x)

        def record(done, x, laws=laws):
            laws[done // substeps] = histogram_density(x, grid.x)

        run = simulate_particles(
            model, x0, grid.t[-1], (nt - 1) * substeps, seed=stream, control=GridControl(alpha, grid.x, grid.t),
            chunk=substeps, callback=record,
        )  # fmt: skip
        if previous is not None:
            history.append(max(wasserstein_1d(grid.x, grid.x, previous[n], laws[n]) for n in range(nt)))
        previous = laws
        m = (1.0 - config.relaxation) * m + config.relaxation * laws
        if history and history[-1] <= tolerance:
            converged, message = True, f"converged: W1 change {history[-1]:.3e} <= tolerance {tolerance:.1e}"
            break
    if not converged:
        message = f"not converged after max_iterations = {config.max_iterations}"
    return ParticleMFGSolution(
        u=u, m=m, alpha=alpha, particles=run.x, x=grid.x.copy(), t=grid.t.copy(), converged=converged,
        iterations=len(history) + 1, history=history, wall_time=time.perf_counter() - start, message=message,
    )  # fmt: skip
