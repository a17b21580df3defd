import numpy as np
import pytest

from meanfolio.mfg import Grid1D, MFGConfig, lq_reference


@pytest.fixture(scope="session")
def lq():
    """The LQ reference of mfg.md (nu = 0.3, a = 1, b = 0.5, cT = 0.8, T = 1, mu0 = 1, s0 = 0.5)."""
    return lq_reference()


def lq_config(nx: int, nt: int, **kw) -> MFGConfig:
    base = dict(nx=nx, nt=nt, x_min=-2.5, x_max=4.0, time_horizon=1.0, viscosity=0.3, tolerance=1e-9)
    base.update(kw)
    return MFGConfig(**base)


def gaussian(x: np.ndarray, mu: float = 0.0, s: float = 1.0) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def grid_of(config: MFGConfig) -> Grid1D:
    return Grid1D.from_config(config)


@pytest.fixture(scope="session")
def lq_problem_operator(lq):
    """Newton's operator of a small LQ problem (market impact added for a U-coupling)."""
    from meanfolio.mfg import MarketImpact, MFGProblem
    from meanfolio.mfg.solvers.iterative import initial_guess

    config = lq_config(12, 6)
    grid = grid_of(config)
    problem = MFGProblem.create(config, lq.m0(grid.x), lq.coupling() + MarketImpact(0.5), terminal=lq.terminal)
    u, m = initial_guess(problem)
    ops = problem.newton_operator(u, m)
    return ops, 2 * problem.steps * config.nx


def dense_operator(ops, size: int) -> np.ndarray:
    """Newton's operator as a dense matrix, column by column."""
    from meanfolio.mfg.solvers import _newton_kernels

    JT = np.empty((size, size))
    e = np.zeros(size)
    for j in range(size):
        e[:] = 0.0
        e[j] = 1.0
        _newton_kernels.newton_matvec(ops, e, JT[j])
    return JT.T.copy()
