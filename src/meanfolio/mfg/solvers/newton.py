"""Full space-time Newton for the discrete MFG system, globalised.

Each step solves ``J delta = -dt R`` by GMRES right-preconditioned with the
decoupled sweep (HJB backward, then FP forward), checks what the solve
achieved (``linear_solve.checked_solve``: the true relative residual eta,
warm restarts when the iteration cap stopped it), and then:

1. backtracks on the merit ``phi = |R_H|^2 + |R_F|^2`` (Armijo, halving the
   step): a step is taken only if
   ``phi(new) <= phi (1 - 2 c s (1 - eta))``, the decrease an inexact Newton
   direction promises;
2. if no step along the Newton direction decreases phi (or the linear solve
   failed, eta > 0.9), or only a short one, tries a damped best-response
   sweep from the current iterate (policy iteration: the HJB solved for the
   frozen density, then the exact Fokker-Planck density of that policy,
   mixed with the current pair by weights 1, 1/2, ..., accepted under the
   same sufficient decrease), and keeps the better of the two;
3. if that fails too, stops with ``converged = False`` and a message saying
   what failed.

phi never increases, so the last iterate is the best one seen. The
homotopies (continuation in viscosity, coupling strength, or the smoothing of
a kinked Hamiltonian) are driven from outside (``solver``, ``regularization``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meanfolio._vector_kernels import axpy_into

from .iterative import IterationLog
from .linear_solve import apply_preconditioner, checked_solve

__all__ = ["NewtonStats", "newton"]

#: Armijo constant of the sufficient decrease
ARMIJO = 1e-4
#: smallest step of the backtracking before the fallback sweep is tried
LINE_SEARCH_MIN_STEP = 1e-4
#: a linear solve with relative residual above this is not used as a direction
MAX_FORCING = 0.9
#: weights of the damped best-response sweep
SWEEP_WEIGHTS = (1.0, 0.5, 0.25, 0.125, 0.0625)
#: Newton steps on the HJB (frozen density) of one best response
BEST_RESPONSE_STEPS = 30
#: a Newton step shorter than this is compared with the best-response sweep
SHORT_STEP = 1.0 / 16.0
#: with ``stagnation``: fail when sqrt(phi) did not fall by this factor over the window ...
STAGNATION_FACTOR = 0.5
STAGNATION_WINDOW = 10
#: ... or after this many linear solves in a row above their tolerance
MAX_UNCONVERGED = 3
#: the stagnation window with a ``budget`` (a probe near a solution)
PROBE_WINDOW = 5


@dataclass
class NewtonStats:
    """Diagnostics of one Newton run beyond the residual history of the log.

    ``linear_residuals`` and ``linear_tolerances``: achieved and requested
    relative residuals of each step's linear solve; ``unconverged_linear``:
    solves that stopped above their tolerance even after restarts;
    ``sweeps``: steps taken by the best-response fallback; ``failure``: why
    Newton gave up (None if it did not).
    """

    linear_residuals: list[float] = field(default_factory=list)
    linear_tolerances: list[float] = field(default_factory=list)
    unconverged_linear: int = 0
    sweeps: int = 0
    failure: str | None = None


@dataclass
class _Point:
    """An iterate with its residuals, upwind terms, merit sqrt(phi) and stopping norm."""

    u: np.ndarray
    m: np.ndarray
    rh: np.ndarray
    rf: np.ndarray
    terms: object
    merit: float
    res: float


def _evaluate(problem, u: np.ndarray, m: np.ndarray, owned: bool = False, terms=None) -> _Point:
    """The point (u, m) with u[-1] = g(m[-1]); ``owned``: u is a fresh array that may be changed;
    ``terms``: the upwind terms of u[:-1] when known (1D)."""
    u = u if owned else u.copy()
    u[-1] = problem.terminal_cost(m[-1])
    known = () if terms is None else (terms,)
    rh, rf, terms = problem.residual_and_terms(u, m, *known)
    nh, nf = problem.norm(rh), problem.norm(rf)
    return _Point(u, m, rh, rf, terms, float(np.hypot(nh, nf)), max(nh, nf))


def _accept(new: _Point, merit: float, decrease: float) -> bool:
    """Sufficient decrease of phi = merit^2 by the fraction ``decrease`` (finite values only)."""
    return bool(np.isfinite(new.merit) and new.merit**2 <= (1.0 - decrease) * merit**2)


def _line_search(problem, p: _Point, du, dm, eta: float, scale: float = 1.0) -> tuple[float, _Point] | None:
    """Backtracking on phi along scale (du, dm); None when no step down to the minimum decreases it."""
    step = 1.0
    while step >= LINE_SEARCH_MIN_STEP:
        # (new arrays written in one pass each: no temporary for step * scale * du)
        u, m = problem._spare(p.u.shape), problem._spare(p.m.shape)
        u[-1] = p.u[-1]
        m[0] = p.m[0]
        axpy_into(step * scale, du.reshape(-1), p.u[:-1].reshape(-1), u[:-1].reshape(-1))
        axpy_into(step * scale, dm.reshape(-1), p.m[1:].reshape(-1), m[1:].reshape(-1))
        new = _evaluate(problem, u, m, owned=True)
        if _accept(new, p.merit, 2.0 * ARMIJO * step * (1.0 - eta)):
            return step, new
        step *= 0.5 if np.isfinite(new.merit) else 0.1
    return None


def best_response(problem, u: np.ndarray, m: np.ndarray) -> np.ndarray | None:
    """u solving the HJB for the frozen density m (policy iteration from u); None if it fails.

    Each step is the HJB block of Newton's preconditioner (one backward sweep
    of the policy's linear HJB), i.e. Howard's algorithm.
    """
    if hasattr(problem, "best_response"):  # 1D: the compiled HJB solve
        try:
            u = problem.best_response(u, m)
        except (RuntimeError, FloatingPointError):
            return None
        return u if np.all(np.isfinite(u)) else None
    dt, N = problem.grid.dt, problem.steps
    size = int(np.prod((N, *u.shape[1:])))
    u = u.copy()
    start = None
    for _ in range(BEST_RESPONSE_STEPS):
        p = _evaluate(problem, u, m)
        nh = problem.norm(p.rh)
        if not np.isfinite(nh):
            return None
        start = nh if start is None else start
        if nh <= 1e-12 * (1.0 + start):
            break
        ops = problem.newton_operator(p.u, m, p.terms)
        r = np.concatenate((-dt * p.rh.ravel(), np.zeros(p.rf.size)))
        z = apply_preconditioner(problem, ops, r)
        u = p.u
        u[:-1] += z[:size].reshape(u[:-1].shape)
    return u if np.all(np.isfinite(u)) else None


def _sweep(problem, p: _Point) -> _Point | None:
    """The damped best-response step from p, or None if no weight decreases phi."""
    u_br = best_response(problem, p.u, p.m)
    if u_br is None:
        return None
    m_br = problem.fokker_planck(u_br)
    for w in SWEEP_WEIGHTS:
        new = _evaluate(problem, p.u + w * (u_br - p.u), p.m + w * (m_br - p.m))
        if _accept(new, p.merit, 2.0 * ARMIJO * w):
            return new
    return None


def _start(problem, initial):
    """Newton's first point: ``(u, m, terms)``, terms the upwind terms of u[:-1] if the problem made them."""
    if initial is None:
        return problem.initial_point()
    u, m = (np.array(a, dtype=np.float64) for a in initial)
    if u.shape != (problem.config.nt, *problem.m0.shape) or m.shape != u.shape:
        raise ValueError(
            f"initial has shapes {u.shape}, {m.shape} which is not allowed: "
            f"expected two arrays of shape {(problem.config.nt, *problem.m0.shape)}"
        )
    return u, m, None


def newton(
    problem,
    log: IterationLog,
    initial: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    stagnation: bool = False,
    budget: int | None = None,
) -> NewtonStats:
    """Run Newton from ``initial`` (default: the problem's initial guess), recording iterates in ``log``.

    ``problem`` is an ``MFGProblem`` (1D, compiled GMRES) or an
    ``MFGProblem2D``; both provide ``initial_guess``, ``residual_and_terms``,
    ``newton_operator``, ``linear_solve`` and ``fokker_planck``.

    ``log`` keeps the residuals, GMRES iterations and line-search steps (0
    for a step of the fallback sweep) and decides when to stop (tolerance,
    iteration cap, non-finite values, a callback asking to stop). With
    ``stagnation`` (used when a homotopy can take over), also stop, as a
    failure, when the residual did not halve in ``STAGNATION_WINDOW``
    iterations or ``MAX_UNCONVERGED`` linear solves in a row missed their
    tolerance. With ``budget``, also fail after that many iterations, at
    the first linear solve above its tolerance, or when the residual did not
    halve in ``PROBE_WINDOW`` iterations (a probe: Newton near a solution
    converges fast). Returns the :class:`NewtonStats`.
    """
    stats = NewtonStats()
    dt, N = problem.grid.dt, problem.steps
    u, m, terms = _start(problem, initial)
    p = _evaluate(problem, u, m, terms=terms)
    shape = (N, *u.shape[1:])
    size = int(np.prod(shape))
    merits: list[float] = []
    missed = 0
    while not log.record(p.res, p.u, p.m):
        merits.append(p.merit)
        if stagnation:
            stats.failure = _stagnated(merits, missed, p.res, STAGNATION_WINDOW)
        if budget is not None and stats.failure is None:
            if missed:
                stats.failure = f"a linear solve stopped above its tolerance (residual {p.res:.3e})"
            elif len(merits) > budget:
                stats.failure = f"not converged in {budget} iterations (residual {p.res:.3e})"
            else:
                stats.failure = _stagnated(merits, missed, p.res, PROBE_WINDOW)
        if stats.failure is not None:
            break
        ops = problem.newton_operator(p.u, p.m, p.terms)
        # J delta = -dt R: solved as J x = R (the same relative residual), delta = -dt x
        rhs = _joined(p.rh, p.rf)
        # Inexact Newton: solve loosely far away, tightly near the solution so
        # the final steps stay quadratic, but never tighter than the stopping test
        # needs: the linear part of the next residual is at most about
        # sqrt(2) rtol res, so rtol = 0.1 tol / res lands it below tol / 7
        # (Eisenstat & Walker 1996's safeguard against over-solving).
        rtol = forcing_term(p.res, log.tolerance)
        solve = checked_solve(problem, ops, rhs, rtol)
        ops = rhs = None  # released: the problem may reuse their memory in the next step
        log.linear_iterations.append(solve.iterations)
        stats.linear_residuals.append(solve.relative_residual)
        stats.linear_tolerances.append(rtol)
        stats.unconverged_linear += not solve.converged
        missed = 0 if solve.converged else missed + 1
        found = None
        if solve.relative_residual <= MAX_FORCING:
            du = solve.x[:size].reshape(shape)
            dm = solve.x[size:].reshape(shape)
            found = _line_search(problem, p, du, dm, solve.relative_residual, -dt)
        if found is None or found[0] < SHORT_STEP:
            # No Newton step, or a short one: the best-response sweep may do better.
            swept = _sweep(problem, p)
            if swept is not None and (found is None or swept.merit < found[1].merit):
                found = (0.0, swept)
                stats.sweeps += 1
        if found is None:
            stats.failure = _failure_message(solve, len(log.history) - 1, p.res)
            break
        step, p = found
        log.steps.append(step)
        solve = du = dm = found = None  # released: the next solve may reuse their memory
    if stats.failure is not None and not log.converged:
        log.message = f"not converged: {stats.failure}; the iterate with the lowest residual is returned"
    return stats


def _joined(rh: np.ndarray, rf: np.ndarray) -> np.ndarray:
    """(R_H, R_F) as one contiguous vector: a view when the problem wrote them as the two rows of
    one array (the 1D problem), else a copy."""
    base = rh.base
    if (
        base is not None
        and base is rf.base
        and base.flags.c_contiguous
        and base.shape == (2, *rh.shape)
        and rh.ctypes.data == base.ctypes.data
        and rf.ctypes.data == base.ctypes.data + rh.nbytes
    ):
        return base.reshape(-1)
    return np.concatenate((rh.reshape(-1), rf.reshape(-1)))


def forcing_term(res: float, tolerance: float) -> float:
    """Relative tolerance of the linear solve at a residual ``res``: ``0.05 res`` (quadratic
    convergence), at most 1e-2, at least 1e-10 and at least ``0.1 tolerance / res``.

    (0.05 rather than the textbook 0.1: the linear part of the next residual is then below
    the quadratic part on the LQ game, whose middle step otherwise lands at 8e-5 instead of
    3e-5, and a fourth Newton step follows at 2000 x 1000.)"""
    return min(1e-2, max(1e-10, 0.05 * res, 0.1 * tolerance / res if res > 0.0 else 0.0))


def _stagnated(merits: list[float], missed: int, res: float, window: int) -> str | None:
    """Why Newton should hand over to a homotopy, or None."""
    if missed >= MAX_UNCONVERGED:
        return f"{missed} linear solves in a row stopped above their tolerance (residual {res:.3e})"
    if len(merits) > window and merits[-1] > STAGNATION_FACTOR * merits[-1 - window]:
        return f"Newton stagnated: the residual did not halve in {window} iterations (now {res:.3e})"
    return None


def _failure_message(solve, iteration: int, res: float) -> str:
    if solve.relative_residual > MAX_FORCING:
        why = (
            f"the linear solve failed (GMRES relative residual {solve.relative_residual:.2e} after "
            f"{solve.iterations} iterations and restarts)"
        )
    else:
        why = (
            f"no step along the Newton direction decreased the residual "
            f"(line search down to {LINE_SEARCH_MIN_STEP:g}, GMRES relative residual {solve.relative_residual:.2e})"
        )
    return (
        f"Newton failed at iteration {iteration}: {why}, and the damped best-response sweep "
        f"did not decrease it either (residual {res:.3e})"
    )
