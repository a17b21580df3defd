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
from meanfolio.mfg import MFGProblem, solve_hjb
from meanfolio.mfg.config import MFGConfig
from meanfolio.mfg.schemes.hjb import upwind_terms
from meanfolio.transport import wasserstein_1d

from .model import GridControl, McKeanVlasov, simulate_particles

__all__ = ["ParticleMFGSolution", "histogram_density", "sample_density", "solve_mfg_particles"]


@dataclass
class ParticleMFGSolution:
    """The equilibrium of :func:`solve_mfg_particles`.

    Attributes
    ----------
    u : ndarray, shape (nt, nx)
        The value function on the grid.
    m : ndarray, shape (nt, nx)
        The damped particle law (histograms at the grid times).
    alpha : ndarray, shape (nt, nx)
        The equilibrium feedback on the grid.
    particles : ndarray, shape (N,)
        The particles' positions at T.
    x, t : ndarray, shape (nx,), (nt,)
        The grid.
    converged : bool
        Whether the W1 change fell below the tolerance.
    iterations : int
        Fixed-point iterations done.
    history : list of float
        :math:`\\max_t W_1` between the laws of successive iterations.
    wall_time : float
        Seconds.
    message : str
        Why the iteration stopped.
    """

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
    """Draw samples of a piecewise-constant density on the cells of the nodes x.

    Parameters
    ----------
    m : ndarray, shape (nx,)
        Density values on the nodes (negative values count as 0).
    x : ndarray, shape (nx,)
        Uniform nodes.
    n : int
        Number of samples.
    seed : int, numpy.random.Generator or None
        Random seed.

    Returns
    -------
    ndarray, shape (n,)
        Samples, uniform within the chosen cell and kept inside ``[x[0], x[-1]]``.

    See Also
    --------
    histogram_density : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.particles import sample_density
    >>> x = np.linspace(-1.0, 1.0, 5)
    >>> s = sample_density(np.full(5, 0.5), x, 1000, seed=0)
    >>> s.shape, bool(s.min() >= -1.0 and s.max() <= 1.0)
    ((1000,), True)
    """
    rng = as_generator(seed)
    dx = x[1] - x[0]
    p = np.maximum(m, 0.0) / np.maximum(m, 0.0).sum()
    cells = rng.choice(x.size, size=n, p=p)
    return np.clip(x[cells] + dx * (rng.random(n) - 0.5), x[0], x[-1])


def histogram_density(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Histogram density of samples on uniform nodes: each sample counts for its nearest node.

    Parameters
    ----------
    samples : ndarray, shape (n,)
        The samples (those beyond the ends count for the end nodes).
    x : ndarray, shape (nx,)
        Uniform nodes of spacing dx.

    Returns
    -------
    ndarray, shape (nx,)
        The density, of mass ``dx * density.sum() = 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.particles import histogram_density
    >>> histogram_density(np.array([0.0, 0.1, -0.9, 0.4]), np.linspace(-1.0, 1.0, 5))
    array([0.5, 0. , 1. , 0.5, 0. ])
    """
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
    r"""Solve the 1D MFG of ``config`` with N particles for the population.

    Each iteration solves the HJB equation backward on the grid for the costs of
    the current population law, moves N particles with the feedback
    :math:`\alpha^*(t, x) = -\partial_p H(\partial_x u)` and diffusion
    :math:`\sqrt{2\nu}` (reflecting walls), and takes their histograms at the grid
    times as the new law, damped by ``config.relaxation``. The particles reuse the
    same random numbers in every iteration, so the iteration converges to the
    equilibrium of the N-particle game; the law approaches the grid Fokker-Planck
    law at the rate :math:`N^{-1/2}` in :math:`W_2`.

    Parameters
    ----------
    config : MFGConfig
        A 1D no-flux (``boundary="neumann"``) configuration; ``config.max_iterations``
        caps the iterations.
    m0 : array_like, shape (nx,)
        Initial density on the grid.
    f : array_like or Coupling, optional
        The running cost, as for :func:`meanfolio.mfg.solve_mfg` (couplings of m only).
    terminal : array_like, shape (nx,), optional
        Terminal cost.
    hamiltonian : Hamiltonian, optional
        Default :class:`~meanfolio.mfg.Quadratic`.
    n_particles : int, default 10000
        N >= 2.
    substeps : int, default 4
        Euler steps per grid step.
    seed : int, numpy.random.Generator or None
        Random seed.
    tolerance : float, default 1e-3
        Stop when :math:`\max_t W_1` between the laws of successive iterations falls below it.

    Returns
    -------
    ParticleMFGSolution

    Raises
    ------
    ValueError
        If ``config`` is not a 1D no-flux box, the coupling depends on the
        controls (:class:`~meanfolio.mfg.MarketImpact`), or an argument is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import MFGConfig
    >>> from meanfolio.particles import solve_mfg_particles
    >>> config = MFGConfig(nx=41, nt=21, x_min=-3, x_max=3, viscosity=0.1, max_iterations=30)
    >>> x = np.linspace(-3, 3, 41)
    >>> m0 = np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    >>> sol = solve_mfg_particles(config, m0, np.tile(0.5 * x**2, (21, 1)),
    ...                           n_particles=2000, seed=0, tolerance=1e-2)
    >>> sol.converged, sol.m.shape, sol.particles.shape
    (True, (21, 41), (2000,))
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
