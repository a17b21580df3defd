"""The stationary (ergodic) mean-field game, 1D and 2D, by Newton's method.

Unknowns (u, m, lambda) on the grid of an :class:`MFGConfig` (its time
fields are ignored):

    nu L u + H_h(x, D u) + lambda = f(x, m)      (HJB, L = -Lap_h)
    (nu L + A(u))^T m = 0                         (FP: transpose of the linearised HJB)
    dx sum(m) = 1,   dx sum(u) = 0                (mass; u is defined up to a constant)

The FP rows sum to zero identically (A's rows do), so one of them is dropped
and the system is square: 2K + 1 equations for K nodes. Non-local couplings
enter through their moments s_k = w_k . m, kept as extra unknowns so the
Jacobian stays sparse; each Newton step is one sparse LU solve.

Reference: Y. Achdou, I. Capuzzo-Dolcetta, Mean field games: numerical
methods, SIAM J. Numer. Anal. 48 (2010), section 5 (ergodic problem).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from .config import MFGConfig
from .continuation import Continuation, stages
from .couplings import CouplingState, Scaled
from .fokker_planck import fokker_planck_derivative
from .hamiltonians import Hamiltonian
from .hjb import hjb_operator
from .problem import MFGProblem
from .problem2d import MFGProblem2D

__all__ = ["ErgodicSolution", "solve_ergodic_mfg"]

LINE_SEARCH_MIN_STEP = 1.0 / 256.0


@dataclass
class ErgodicSolution:
    """Result of :func:`solve_ergodic_mfg`.

    u, m : ndarray (nx,) or (ny, nx)
        Value function (zero mean) and invariant density (unit mass).
    lam : float
        The ergodic constant lambda (the long-run average cost).
    alpha : ndarray (nx,) or (ny, nx, 2)
        The scheme's feedback alpha*.
    """

    u: np.ndarray
    m: np.ndarray
    lam: float
    alpha: np.ndarray
    x: np.ndarray
    y: np.ndarray | None
    converged: bool
    iterations: int
    residual_history: list[float]
    mass_error: float
    wall_time: float
    message: str
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def residual(self) -> float:
        return self.residual_history[-1] if self.residual_history else float("nan")


class _Stationary:
    """The discrete stationary system on the grid of a time-dependent problem with dt = 1."""

    def __init__(self, config: MFGConfig, f, hamiltonian: Hamiltonian | None):
        config = config.replace(nt=2, time_horizon=1.0)  # dt = 1: operators read I + (nu L + A)
        self.dim = config.dim
        if self.dim == 2:
            ny, nx = config.ny, config.nx
            self.problem = MFGProblem2D.create(config, np.ones((ny, nx)), f, hamiltonian=hamiltonian)
            self.shape = (ny, nx)
            self.cols = self.problem.neighbours
            x, y = self.problem.coordinates
            self.cell = self.problem.grid.cell
        else:
            self.problem = MFGProblem.create(config, np.ones(config.nx), f, hamiltonian=hamiltonian)
            self.shape = (config.nx,)
            i = np.arange(config.nx)
            self.cols = np.stack([i, (i - 1) % config.nx, (i + 1) % config.nx], axis=1)
            x, y = self.problem.grid.x, None
            self.cell = self.problem.grid.dx
        self.K = int(np.prod(self.shape))
        self.nu = config.viscosity
        self.coupling = self.problem.coupling
        self.state = lambda m: CouplingState(x, self.cell, np.zeros(1), np.zeros(1, dtype=int), m[None], y=y)

    def terms(self, u):
        if self.dim == 2:
            return self.problem.terms(u.reshape(1, *self.shape))
        return self.problem.terms(np.stack([u, u]))

    def generator(self, terms) -> tuple[np.ndarray, np.ndarray]:
        """Entries (K, S) of G = nu L + A(u) and of B = d(A(u)^T m)/du (needs m later)."""
        if self.dim == 2:
            return self.problem.five_point(*self.problem.hjb_parts(terms), 2.0)[0]
        lo, di, up = hjb_operator(self.problem.grid, self.nu, terms)
        return np.stack([di[0] - 1.0, lo[0], up[0]], axis=1)

    def derivative(self, terms, m) -> np.ndarray:
        if self.dim == 2:
            g = self.problem.grid
            mm = m.reshape(1, *self.shape)
            bx = fokker_planck_derivative(g.gx, terms.x, mm)
            by = fokker_planck_derivative(g.gy, terms.y, np.ascontiguousarray(g.along(1, mm)))
            return self.problem.five_point(bx, by, 0.0)[0]
        lo, di, up = fokker_planck_derivative(self.problem.grid, terms, m[None])
        return np.stack([di[0], lo[0], up[0]], axis=1)

    def matrix(self, data) -> sp.csr_matrix:
        K, S = data.shape
        return sp.csr_matrix((data.ravel(), self.cols.ravel(), np.arange(0, S * K + 1, S)), shape=(K, K))

    def hamiltonian_value(self, terms) -> np.ndarray:
        if self.dim == 2:
            return (terms.x.value[0] + self.problem.grid.along(1, terms.y.value)[0]).ravel()
        return terms.value[0]

    def residual(self, u, m, lam, coupling):
        """HJB (K), FP without its last row (K - 1), mass, normalisation; and the pieces."""
        terms = self.terms(u)
        G = self.matrix(self.generator(terms))
        # nu L u + H_h(u): G u is the linearisation, so use L and H_h directly
        lap = self.problem.grid.laplacian(u.reshape(self.shape)).ravel()
        F = coupling.value(self.state(m))[0]
        rh = -self.nu * lap + self.hamiltonian_value(terms) + lam - F
        rf = (G.T @ m)[:-1]
        extra = np.array([self.cell * m.sum() - 1.0, self.cell * u.sum()])
        return np.concatenate((rh, rf, extra)), terms, G

    def jacobian(self, u, m, terms, G, coupling) -> sp.csr_matrix:
        K = self.K
        jac = coupling.jacobian(self.state(m))
        B = self.matrix(self.derivative(terms, m))
        pairs = jac.dm_lowrank
        r = len(pairs)
        ones = np.ones((K, 1))
        C = sp.csr_matrix(np.stack([-c[0] for c, _ in pairs], axis=1)) if r else sp.csr_matrix((K, 0))
        W = sp.csr_matrix(np.stack([-w[0] for _, w in pairs])) if r else sp.csr_matrix((0, K))
        cell = self.cell * np.ones((1, K))
        blocks = [
            [G, -sp.diags(jac.dm_diag[0]), sp.csr_matrix(ones), C],
            [B[:-1], G.T.tocsr()[:-1], None, None],
            [None, sp.csr_matrix(cell), None, None],
            [sp.csr_matrix(cell), None, None, None],
        ]
        if r:
            blocks.append([None, W, None, sp.identity(r)])
        else:
            blocks = [row[:3] for row in blocks]
        return sp.bmat(blocks, format="csc")

    def invariant_density(self, u) -> np.ndarray:
        """The exact discrete invariant law of u: G^T m = 0 with dx sum(m) = 1 (an M-matrix
        null vector, so m > 0), by one sparse solve with the last FP row replaced by the mass."""
        GT = self.matrix(self.generator(self.terms(u))).T.tolil()
        GT[self.K - 1, :] = self.cell
        rhs = np.zeros(self.K)
        rhs[-1] = 1.0
        return spla.spsolve(GT.tocsc(), rhs)

    def best_response(self, u, m, lam, coupling, tolerance, max_iterations):
        """Solve the HJB alone for the frozen cost f(x, m): Newton on (u, lambda)
        (Howard's policy iteration); the start of the coupled Newton."""
        K = self.K
        F = coupling.value(self.state(m))[0]
        row = sp.csr_matrix(self.cell * np.ones((1, K)))
        for _ in range(max_iterations):
            terms = self.terms(u)
            lap = self.problem.grid.laplacian(u.reshape(self.shape)).ravel()
            R = np.concatenate((-self.nu * lap + self.hamiltonian_value(terms) + lam - F, [self.cell * u.sum()]))
            if np.max(np.abs(R)) <= tolerance:
                break
            G = self.matrix(self.generator(terms))
            J = sp.bmat([[G, sp.csr_matrix(np.ones((K, 1)))], [row, None]], format="csc")
            delta = spla.splu(J).solve(-R)
            u, lam = u + delta[:K], lam + delta[K]
        return u, self.invariant_density(u), lam

    def lowrank_count(self, m, coupling) -> int:
        return len(coupling.jacobian(self.state(m)).dm_lowrank)


def _newton(system: _Stationary, coupling, u, m, lam, tolerance, max_iterations, history):
    """Newton with backtracking on |R|; returns (u, m, lam, converged, message)."""
    K = system.K
    R, terms, G = system.residual(u, m, lam, coupling)
    norm = float(np.linalg.norm(R) * np.sqrt(system.cell))
    history.append(norm)
    for _ in range(max_iterations):
        if norm <= tolerance:
            return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
        J = system.jacobian(u, m, terms, G, coupling)
        r = system.lowrank_count(m, coupling)
        rhs = np.concatenate((-R, np.zeros(r)))
        delta = spla.splu(J).solve(rhs)
        step = 1.0
        while True:
            u1, m1 = u + step * delta[:K], m + step * delta[K : 2 * K]
            lam1 = lam + step * delta[2 * K]
            R1, terms1, G1 = system.residual(u1, m1, lam1, coupling)
            n1 = float(np.linalg.norm(R1) * np.sqrt(system.cell))
            if (np.isfinite(n1) and n1 <= (1 - 1e-4 * step) * norm) or step <= LINE_SEARCH_MIN_STEP:
                break
            step *= 0.5
        if not np.isfinite(n1):
            return u, m, lam, False, "stopped: the residual became non-finite (the last finite iterate is returned)"
        u, m, lam, R, terms, G, norm = u1, m1, lam1, R1, terms1, G1, n1
        history.append(norm)
    if norm <= tolerance:
        return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
    return (
        u,
        m,
        lam,
        False,
        (f"not converged: residual {norm:.3e} > tolerance {tolerance:.1e} after max_iterations = {max_iterations}"),
    )


def solve_ergodic_mfg(
    config: MFGConfig,
    f=None,
    *,
    hamiltonian: Hamiltonian | None = None,
    continuation: Continuation | None = None,
    initial: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> ErgodicSolution:
    """Solve the stationary MFG ``-nu Lap u + H(grad u) + lambda = f(x, m)``, ``-nu Lap m - div(m H_p) = 0``.

    Parameters
    ----------
    config : MFGConfig
        Grid (1D or 2D), viscosity (> 0 for a unique invariant law),
        boundary, tolerance and max_iterations; time fields are ignored.
    f : Coupling, array or callable f(x) (2D: f(x, y)), or None
        The running cost, as for :func:`solve_mfg`. ``MarketImpact`` is not
        available here.
    hamiltonian : Hamiltonian, default Quadratic()
    continuation : Continuation, optional
        Solve a sequence of easier problems first (larger viscosity or a
        weaker coupling), each starting from the previous solution.
    initial : (u, m, lambda), optional
        Starting point; default: the best response (u, lambda) to the uniform
        law and the invariant law m of that u.

    Returns
    -------
    ErgodicSolution
        ``converged`` False (with the residual history) if Newton stops early.
    """
    if not isinstance(config, MFGConfig):
        raise ValueError(f"config = {type(config).__name__} is not allowed: expected an MFGConfig")
    if callable(f) and not hasattr(f, "value"):
        func = f
        f = (lambda t, x: func(x)) if config.dim == 1 else (lambda t, x, y: func(x, y))
    start = time.perf_counter()
    system = _Stationary(config, f, hamiltonian)
    if system.coupling.uses_control:
        raise ValueError("f = MarketImpact is not allowed in the stationary problem: expected a coupling of m")
    K = system.K
    if initial is None:
        u, m, lam = np.zeros(K), np.full(K, 1.0 / (K * system.cell)), 0.0
    else:
        u, m, lam = np.ravel(initial[0]).astype(float), np.ravel(initial[1]).astype(float), float(initial[2])
    history: list[float] = []
    records = []
    with threadpool_limits(limits=1):
        for stage in stages(continuation, config):
            stage_system = (
                system
                if stage["viscosity"] == config.viscosity
                else _Stationary(config.replace(viscosity=stage["viscosity"]), f, hamiltonian)
            )
            coupling = system.coupling if stage["factor"] == 1.0 else Scaled(system.coupling, stage["factor"])
            if not records and initial is None:
                u, m, lam = stage_system.best_response(u, m, lam, coupling, 1e-8, 30)
            u, m, lam, converged, message = _newton(
                stage_system, coupling, u, m, lam, config.tolerance, config.max_iterations, history
            )
            records.append({**stage, "converged": converged, "iterations": len(history)})
            if not converged:
                message = f"stage {stage}: {message}"
                break
    m = system.invariant_density(u)
    alpha = system.problem.controls(u.reshape(1, *system.shape))[0]
    grid = system.problem.grid
    return ErgodicSolution(
        u=u.reshape(system.shape),
        m=m.reshape(system.shape),
        lam=float(lam),
        alpha=alpha,
        x=(grid.gx.x if system.dim == 2 else grid.x).copy(),
        y=grid.gy.x.copy() if system.dim == 2 else None,
        converged=converged,
        iterations=len(history) - len(records),
        residual_history=history,
        mass_error=float(abs(system.cell * m.sum() - 1.0)),
        wall_time=time.perf_counter() - start,
        message=message,
        stages=records,
    )
