"""The GMRES of mean-field couplings on N K numbers (``_gmres_lowrank``) against the full one and
the dense operator: the solution to the tolerance in fewer iterations, its residual the true one,
and a fallback when its assumptions do not hold."""

import numpy as np
import pytest

from meanfolio.mfg import Congestion, MarketImpact, MeanInteraction, MeanTracking, MFGProblem
from meanfolio.mfg.problems._coupling_arrays import lowrank_only as _lowrank
from meanfolio.mfg.solvers import _gmres_lowrank, _newton_kernels

from .conftest import dense_operator, grid_of, lq_config

COUPLINGS = {
    "tracking": lambda lq: lq.coupling(),  # C_M of rank one (and a static f(t, x))
    "tracking+impact": lambda lq: lq.coupling() + MarketImpact(0.5),  # C_M and C_U
    "tracking+interaction": lambda lq: MeanTracking(1.0) + MeanInteraction(0.7),  # two C_M columns
}


def _operator(lq, f, periodic=False, nx=40, nt=20):
    cfg = lq_config(nx, nt, boundary="periodic") if periodic else lq_config(nx, nt)
    problem = MFGProblem.create(cfg, lq.m0(grid_of(cfg).x), f, terminal=lq.terminal)
    u, m = problem.initial_guess()
    ops = problem.newton_operator(u, m)
    return problem, ops, 2 * problem.steps * cfg.nx


def _solve(kernel, ops, b, rtol, restart=40):
    N, nx = ops[4].shape
    x = np.zeros(b.size)
    if kernel is _gmres_lowrank.gmres_lowrank:  # (unwritten rows must not leak: NaN)
        work = tuple(np.full(N * nx, np.nan) for _ in range(_gmres_lowrank.ROWS))
    else:
        work = np.full((_newton_kernels.gmres_rows(restart), N * nx), np.nan)
    its, rel, _ = kernel(ops, b, rtol, restart, 400, x, work)
    return x, its, rel


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("name", sorted(COUPLINGS))
def test_compressed_gmres_is_the_same_gmres(lq, name, periodic):
    problem, ops, size = _operator(lq, COUPLINGS[name](lq), periodic)
    assert _lowrank(ops)
    J = dense_operator(ops, size)
    b = np.random.default_rng(7).normal(size=size)
    x_exact = np.linalg.solve(J, b)
    for rtol in (1e-2, 1e-5, 1e-8, 1e-11):
        x_full, its_full, rel_full = _solve(_newton_kernels.gmres_into, ops, b, rtol)
        x, its, rel = _solve(_gmres_lowrank.gmres_lowrank, ops, b, rtol)
        true = np.linalg.norm(b - J @ x) / np.linalg.norm(b)
        assert true <= 1.001 * rtol
        assert rel == pytest.approx(true, rel=1e-4, abs=1e-15)  # the coordinates' norm is the full one
        # another Krylov space (from the preconditioner's x0) but the same operator: about the
        # same number of iterations as the full GMRES, and never a stalled run
        assert 0 <= its <= its_full + 1
        err = np.abs(x - x_exact).max() / np.abs(x_exact).max()
        assert err <= 1e4 * rtol
    x, _, _ = _solve(_gmres_lowrank.gmres_lowrank, ops, b, 1e-12)
    np.testing.assert_allclose(x, x_exact, rtol=0, atol=1e-9 * np.abs(x_exact).max())


@pytest.mark.parametrize("restart", [1, 2, 12])
def test_compressed_gmres_restarts_and_long_cycles(lq, restart):
    # restart 1 and 2: many cycles (the residual carried in coordinates); 12 > STORED: the solution
    # is made by two more sweeps instead of a combination of kept ones
    problem, ops, size = _operator(lq, COUPLINGS["tracking+impact"](lq))
    J = dense_operator(ops, size)
    b = np.random.default_rng(8).normal(size=size)
    x, its, rel = _solve(_gmres_lowrank.gmres_lowrank, ops, b, 1e-10, restart)
    true = np.linalg.norm(b - J @ x) / np.linalg.norm(b)
    assert true <= 1.001e-10 and rel == pytest.approx(true, rel=1e-3, abs=1e-15)
    assert its > restart or restart == 12
    assert rel <= 1e-10


def test_dependent_or_local_couplings_use_the_full_gmres(lq):
    # two proportional columns per level: no orthonormal basis, the kernel declines (x untouched)
    problem, ops, size = _operator(lq, MeanTracking(1.0) + MeanTracking(2.0))
    b = np.random.default_rng(9).normal(size=size)
    x, its, rel = _solve(_gmres_lowrank.gmres_lowrank, ops, b, 1e-10)
    assert its == -1 and not np.isfinite(rel) and not x.any()
    delta, its, estimate = problem.linear_solve(ops, b, 1e-10)  # ... and the problem falls back
    J = dense_operator(ops, size)
    assert its > 0 and np.linalg.norm(b - J @ delta) / np.linalg.norm(b) <= 1.001e-10
    _, ops_local, _ = _operator(lq, lq.coupling() + Congestion(0.3))
    assert not _lowrank(ops_local)
