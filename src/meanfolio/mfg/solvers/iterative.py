"""Fixed point, fictitious play and policy iteration for the discrete MFG.

All three alternate a best response (an HJB solve, exact or one policy
step) with an exact Fokker-Planck sweep; they differ in how m is updated:

- fixed point:     m <- (1 - omega) m + omega FP(HJB(m))  (omega = relaxation)
- fictitious play: the same with omega_k = 1 / (k + 1) (Cardaliaguet &
  Hadikhanloo 2017): slow (error ~ 1/k) but convergent for monotone couplings
- policy iteration (Cacace, Camilli & Goffi 2021): the policy of u gives m
  by one FP sweep, then u solves the *linear* HJB of that policy; for the
  HJB alone this is Newton's method (Howard's algorithm).

Each iteration measures the residual of the pair (u, FP(u)), so the
returned density always solves the discrete Fokker-Planck equation of the
returned u exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..problems.problem import MFGProblem
from ..schemes import _kernels
from ..schemes.fokker_planck import solve_fokker_planck
from ..schemes.hjb import hjb_operator

__all__ = ["IterationLog", "fictitious_play", "fixed_point", "initial_guess", "policy_iteration"]


@dataclass
class IterationLog:
    """Residual history and the stopping rule shared by every method.

    ``callback(iteration, residual)`` is called after each iteration; if it
    returns True the run stops (converged stays False).
    """

    tolerance: float
    max_iterations: int
    callback: Callable[[int, float], bool | None] | None = None
    history: list[float] = field(default_factory=list)
    linear_iterations: list[int] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)
    converged: bool = False
    message: str = ""
    last: tuple[np.ndarray, np.ndarray] | None = None
    #: optional distance(m_previous, m) between successive densities, e.g. (W1, W2)
    distance: Callable[[np.ndarray, np.ndarray], tuple[float, ...]] | None = None
    distance_history: list[tuple[float, ...]] = field(default_factory=list)

    def record(self, residual: float, u: np.ndarray, m: np.ndarray) -> bool:
        """Log one iterate; return True when the run must stop."""
        if not np.isfinite(residual) or not (_all_finite(u) and _all_finite(m)):
            self.message = (
                f"stopped after {len(self.history)} iterations: the residual became non-finite "
                "(the last finite iterate is returned)"
            )
            return True
        self.history.append(float(residual))
        if self.distance is not None and self.last is not None:
            self.distance_history.append(self.distance(self.last[1], m))
        self.last = (u, m)
        iteration = len(self.history) - 1
        if residual <= self.tolerance:
            self.converged = True
            self.message = f"converged: residual {residual:.3e} <= tolerance {self.tolerance:.1e}"
            return True
        if self.callback is not None and self.callback(iteration, float(residual)) is True:
            self.message = f"stopped by the callback after {iteration} iterations"
            return True
        if iteration >= self.max_iterations:
            self.message = (
                f"not converged: residual {residual:.3e} > tolerance {self.tolerance:.1e} "
                f"after max_iterations = {self.max_iterations}"
            )
            return True
        return False


def _all_finite(a: np.ndarray) -> bool:
    """np.all(np.isfinite(a)) without its boolean temporary: a NaN or inf makes the sum non-finite
    (a finite sum settles it; only an overflowing sum needs the exact test)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(a)
    return bool(np.isfinite(total)) or bool(np.all(np.isfinite(a)))


def initial_guess(problem: MFGProblem) -> tuple[np.ndarray, np.ndarray]:
    """One best-response sweep from the frozen population m(t) = m0 (see :meth:`MFGProblem.initial_guess`)."""
    return problem.initial_guess()


def _best_response_loop(problem: MFGProblem, log: IterationLog, weight: Callable[[int], float]) -> None:
    u, m = problem.frozen_start()
    k = 0
    while True:
        u = problem.best_response(u, m)
        m_best = problem.fokker_planck(u)
        if log.record(problem.residual_norm(u, m_best), u, m_best):
            return
        w = weight(k)
        m = (1.0 - w) * m + w * m_best
        k += 1


def fixed_point(problem: MFGProblem, log: IterationLog) -> None:
    """Damped fixed point with omega = config.relaxation (the seed's iteration)."""
    omega = problem.config.relaxation
    _best_response_loop(problem, log, lambda k: omega)


def fictitious_play(problem: MFGProblem, log: IterationLog) -> None:
    """Fictitious play: m is the running average of the best responses."""
    _best_response_loop(problem, log, lambda k: 1.0 / (k + 1.0))


def policy_iteration(problem: MFGProblem, log: IterationLog) -> None:
    """Policy iteration: FP for the current policy, then the linear HJB of that policy."""
    grid, nu, omega = problem.grid, problem.config.viscosity, problem.config.relaxation
    u, m = problem.frozen_start()
    u = problem.best_response(u, m)
    while True:
        terms = problem.terms(u)
        m_best = solve_fokker_planck(grid, nu, terms, problem.m0)
        if log.record(problem.residual_norm(u, m_best), u, m_best):
            return
        m = (1.0 - omega) * m + omega * m_best
        f = problem.running_cost(u, m, terms)
        g = problem.terminal_cost(m[-1])
        # Linear HJB of the frozen policy: H_h(a, b) is replaced by its tangent
        # value + left (a - a0) + right (b - b0) at the current u.
        a = grid.backward_difference(u[:-1])
        b = grid.forward_difference(u[:-1])
        offset = terms.value - terms.left * a - terms.right * b
        lo, di, up = hjb_operator(grid, nu, terms)
        u = np.empty_like(u)
        u[-1] = g
        _kernels.backward_sweep(lo, di, up, np.ascontiguousarray(grid.dt * (f - offset)), g, u[:-1])
