"""Full space-time Newton for the discrete MFG system, with line search.

Each step solves ``J delta = -R`` by GMRES right-preconditioned with the
decoupled sweep (HJB backward, then FP forward; ``_kernels.gmres``), then
backtracks on the residual norm (Armijo). Everything inside GMRES is
compiled; the Jacobian is never formed as a matrix.
"""

from __future__ import annotations

import numpy as np

from .iterative import IterationLog

__all__ = ["newton"]

LINE_SEARCH_MIN_STEP = 1.0 / 64.0


def _evaluate(problem, u: np.ndarray, m: np.ndarray):
    """Residuals, upwind terms, the merit sqrt(|R_H|^2 + |R_F|^2) and the stopping norm."""
    rh, rf, terms = problem.residual_and_terms(u, m)
    nh, nf = problem.norm(rh), problem.norm(rf)
    return rh, rf, terms, float(np.hypot(nh, nf)), max(nh, nf)


def newton(problem, log: IterationLog, initial: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Run Newton from the problem's initial guess, recording iterates in ``log``.

    ``problem`` is an ``MFGProblem`` (1D, compiled GMRES) or an
    ``MFGProblem2D`` (sparse LU per step); both provide ``initial_guess``,
    ``residual_and_terms``, ``newton_operator`` and ``linear_solve``.

    ``log`` keeps the residuals, GMRES iterations and line-search steps, and
    decides when to stop (tolerance, iteration cap, non-finite values, a
    callback asking to stop).
    """
    N, dt = problem.steps, problem.grid.dt
    if initial is None:
        u, m = problem.initial_guess()
    else:
        u, m = (np.array(a, dtype=np.float64) for a in initial)
        if u.shape != (problem.config.nt, *problem.m0.shape) or m.shape != u.shape:
            raise ValueError(
                f"initial has shapes {u.shape}, {m.shape} which is not allowed: "
                f"expected two arrays of shape {(problem.config.nt, *problem.m0.shape)}"
            )
    shape = (N, *u.shape[1:])
    size = int(np.prod(shape))
    rh, rf, terms, merit, res = _evaluate(problem, u, m)
    while not log.record(res, u, m):
        ops = problem.newton_operator(u, m, terms)
        rhs = -dt * np.concatenate((rh.ravel(), rf.ravel()))
        # Inexact Newton (Eisenstat-Walker flavour): solve loosely far away,
        # tightly near the solution so the final steps stay quadratic.
        rtol = min(1e-2, max(1e-10, 0.1 * res))
        delta, its = problem.linear_solve(ops, rhs, rtol)
        log.linear_iterations.append(int(its))
        du = delta[:size].reshape(shape)
        dm = delta[size:].reshape(shape)
        step = 1.0
        while True:
            u_new = u.copy()
            m_new = m.copy()
            u_new[:-1] += step * du
            m_new[1:] += step * dm
            u_new[-1] = problem.terminal_cost(m_new[-1])
            new = _evaluate(problem, u_new, m_new)
            accept = np.isfinite(new[3]) and new[3] <= (1.0 - 1e-4 * step) * merit
            if accept or step <= LINE_SEARCH_MIN_STEP:
                break
            step *= 0.5
        log.steps.append(step)
        u, m = u_new, m_new
        rh, rf, terms, merit, res = new
