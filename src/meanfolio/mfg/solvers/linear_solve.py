"""Newton's linear solves, checked: the achieved residual, restarts, the count of failures.

``problem.linear_solve`` runs GMRES with an iteration cap and returns its
last iterate whether or not it reached the requested tolerance. Newton must
not use such a direction as if it were exact, so :func:`checked_solve`
measures the true relative residual ``|b - J x| / |b|`` with one product by
the Jacobian, restarts GMRES on the remaining residual (warm restart: more
iterations from where the cap stopped it) while that helps, and reports what
was achieved. The one exception: a solve that met its tolerance with a
certified bound (the 1D GMRES: its estimate plus the rounding floor of its
products, see ``MFGProblem.linear_solve``) is taken at its word, which saves
a product. A right-hand side whose squared norm would under- or overflow is
scaled first.
Inexact-Newton theory (Eisenstat & Walker 1994) then tells the line search
what it may expect: with ``|F + J d| <= eta |F|`` and eta < 1,
d is a descent direction of ``|F|^2`` with slope at most ``-2 (1 - eta) |F|^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._parallel import numba_threads
from meanfolio._vector_kernels import max_abs, vdot

from . import _newton_kernels

__all__ = ["LinearSolve", "apply_jacobian", "apply_preconditioner", "checked_solve"]

#: warm restarts after a solve that stopped at the iteration cap
MAX_RESTARTS = 2


@dataclass
class LinearSolve:
    """One checked solve: the direction, GMRES iterations, achieved and requested relative residuals."""

    x: np.ndarray
    iterations: int
    relative_residual: float
    rtol: float

    @property
    def converged(self) -> bool:
        return bool(self.relative_residual <= self.rtol)


def _norm(v: np.ndarray) -> float:
    """|v| by a compiled loop (numpy's norm goes to the threaded BLAS: slow on a busy machine)."""
    flat = np.ascontiguousarray(v, dtype=np.float64).reshape(-1)
    return float(np.sqrt(vdot(flat, flat)))


def apply_jacobian(problem, ops, v: np.ndarray) -> np.ndarray:
    """``J v`` for Newton's operator ``ops``: ``problem.matvec`` (2D), the compiled product in 1D."""
    if hasattr(problem, "matvec"):
        return problem.matvec(ops, v)
    out = np.empty(v.size)
    _newton_kernels.newton_matvec(ops, np.ascontiguousarray(v, dtype=np.float64), out)
    return out


def _residual(problem, ops, rhs: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """``rhs - J x`` (one array; the compiled product in 1D) and its norm."""
    if hasattr(problem, "matvec"):
        r = rhs - problem.matvec(ops, x)
        return r, _norm(r)
    out = problem._spare((x.size,))
    with numba_threads(problem.threads()):
        squares = _newton_kernels.newton_residual(ops, np.ascontiguousarray(x, dtype=np.float64), rhs, out)
    return out, float(np.sqrt(squares))


def apply_preconditioner(problem, ops, r: np.ndarray) -> np.ndarray:
    """The decoupled sweep ``P^{-1} r`` (HJB backward, then FP forward) of a 1D or 2D problem."""
    if hasattr(problem, "preconditioner"):
        return problem.preconditioner(ops)(r)
    out = np.empty_like(r)
    _newton_kernels.newton_preconditioner(ops, np.ascontiguousarray(r), out)
    return out


def checked_solve(problem, ops, rhs: np.ndarray, rtol: float) -> LinearSolve:
    """Solve ``J x = rhs`` to ``rtol`` (relative), restarting GMRES while the cap stops it short.

    Returns the best x found and its true relative residual (which may exceed
    ``rtol`` when even the restarts stall: the caller decides what to do).
    """
    flat = np.ascontiguousarray(rhs, dtype=np.float64).reshape(-1)
    squares = vdot(flat, flat)
    if not 1e-200 <= squares <= 1e200:  # zero, non-finite, or |rhs|^2 near under- or overflow
        scale = max_abs(flat)
        if 0.0 < scale < np.inf and scale != 1.0:  # solve for rhs / scale: the same relative residual
            solve = checked_solve(problem, ops, rhs / scale, rtol)
            solve.x *= scale
            return solve
    bnorm = float(np.sqrt(squares))
    if bnorm == 0.0 or not np.isfinite(bnorm):
        return LinearSolve(np.zeros_like(rhs), 0, 0.0 if bnorm == 0.0 else np.inf, rtol)
    x, its, estimate = problem.linear_solve(ops, rhs, rtol)
    if estimate is not None and estimate <= rtol:  # met, by a residual that can be trusted
        return LinearSolve(x, int(its), float(estimate), rtol)
    r, rnorm = _residual(problem, ops, rhs, x)
    rel = rnorm / bnorm
    total = int(its)
    for _ in range(MAX_RESTARTS):
        if rel <= rtol or not np.isfinite(rel):
            break
        # Solve for the correction: the same cap again, from where the last solve stopped.
        dx, its, _ = problem.linear_solve(ops, r, min(0.5, rtol / rel))
        total += int(its)
        x_new = x + dx
        r_new, rnorm = _residual(problem, ops, rhs, x_new)
        rel_new = rnorm / bnorm
        if not rel_new < rel:
            break
        progress = rel_new / rel
        x, r, rel = x_new, r_new, rel_new
        if progress > 0.5:  # GMRES stalls (poor preconditioner): more restarts would not pay
            break
    if not np.isfinite(rel):
        return LinearSolve(np.zeros_like(rhs), total, np.inf, rtol)
    return LinearSolve(x, total, rel, rtol)
