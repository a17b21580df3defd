"""The stationary (ergodic) mean-field game, 1D and 2D, by Newton's method.

Unknowns (u, m, lambda) on the grid of an :class:`MFGConfig` (its time
fields are ignored):

    nu L u + H_h(x, D u) + lambda = f(x, m)      (HJB, L = -Lap_h)
    (nu L + A(u))^T m = 0                         (FP: transpose of the linearised HJB)
    dx sum(m) = 1,   dx sum(u) = 0                (mass; u is defined up to a constant)

The FP rows sum to zero identically (A's rows do), so one of them is dropped
and the system is square: 2K + 1 equations for K nodes. Non-local couplings
enter through their moments s_k = w_k . m, kept as extra unknowns.

Linear solves. The Jacobian is sparse but for a border: the lambda column
(all ones), the mass and normalisation rows (all cell) and the moments'
rows and columns. Factored as one matrix, that border fills the sparse LU
(2D, 80x80, log coupling and mean tracking: 8 M nonzeros). Instead
J = S + P Q^T with S the sparse blocks (made regular by a unit on the
diagonal at one node) and P, Q of 5 + 2 r columns: S is factored, and
J x = b is solved through the Schur complement C = I + Q^T S^{-1} P (5 + 2 r
extra solves, see :class:`_Schur`). The factorisation is kept across Newton
steps as the preconditioner of GMRES on the current J, and redone only when
GMRES needs more than ``LAGGED_ITERATIONS`` iterations.

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

from meanfolio._parallel import numba_threads

from ..config import MFGConfig
from ..couplings import CouplingState, Scaled
from ..hamiltonians import Hamiltonian
from ..schemes._kernels2d import gmres
from ..schemes.fokker_planck import fokker_planck_derivative
from ..schemes.hjb import hjb_operator
from ..solvers.continuation import Continuation, stages
from .ergodic_start import coarse_start
from .problem import MFGProblem
from .problem2d import MFGProblem2D

__all__ = ["ErgodicSolution", "solve_ergodic_mfg"]

LINE_SEARCH_MIN_STEP = 1.0 / 256.0
#: GMRES iterations preconditioned with an older factorisation before it is redone
LAGGED_ITERATIONS = 20
#: loosest relative residual of a step's linear solve (|R|^2 near the solution; 1e-2 misled Newton)
FORCING = 1e-4


@dataclass
class ErgodicSolution:
    """Result of :func:`solve_ergodic_mfg`.

    Attributes
    ----------
    u, m : ndarray, shape (nx,) or (ny, nx)
        Value function (zero mean) and invariant density (unit mass).
    lam : float
        The ergodic constant :math:`\\lambda` (the long-run average cost per unit time).
    alpha : ndarray, shape (nx,) or (ny, nx, 2)
        The scheme's feedback :math:`\\alpha^*`.
    x : ndarray, shape (nx,)
        The x nodes.
    y : ndarray, shape (ny,), or None
        The y nodes (2D).
    converged : bool
        Whether Newton reached the tolerance.
    iterations : int
        Newton steps.
    residual_history : list of float
        Scaled residual after each step.
    mass_error : float
        :math:`|dx \\sum m - 1|`.
    wall_time : float
        Seconds.
    message : str
        Why Newton stopped.
    stages : list of dict
        The continuation stages, if any.
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


class _Schur:
    """Solves ``(S + P Q^T) x = b`` (S sparse, P and Q (n, k), k small): the bordered system
    [[S, P], [Q^T, -I]] [x; y] = [b; 0] with S factored once and the border eliminated by the
    Schur complement ``C = I + Q^T S^{-1} P`` (k extra solves), so that
    ``x = S^{-1} b - S^{-1} P C^{-1} Q^T S^{-1} b``. S is factored without pivoting in a
    fill-reducing symmetric ``order`` computed once (S keeps its pattern) and passed on; with
    partial pivoting if that fails."""

    def __init__(self, S, P: np.ndarray, Q: np.ndarray, order: np.ndarray | None = None):
        S, self.Q, self.shape, self.permuted = sp.csc_matrix(S), Q, S.shape, False
        options = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
        try:
            if order is None:
                self.lu = spla.splu(S, permc_spec="MMD_AT_PLUS_A", **options)
                order = np.argsort(self.lu.perm_c)
            else:
                self.lu = spla.splu(sp.csr_matrix(S)[order][:, order].tocsc(), permc_spec="NATURAL", **options)
                self.permuted = True
            self.order = order
            self._border(P)
        except (RuntimeError, FloatingPointError):  # a zero pivot: partial pivoting instead
            self.lu, self.order, self.permuted = spla.splu(S, permc_spec="COLAMD"), None, False
            self._border(P)

    def _border(self, P: np.ndarray) -> None:
        self.SP = self._solve(P)
        self.C = np.eye(P.shape[1]) + self.Q.T @ self.SP
        if not np.all(np.isfinite(self.C)):
            raise FloatingPointError("non-finite Schur complement")

    @property
    def nnz(self) -> int:
        return int(self.lu.L.nnz + self.lu.U.nnz)

    def _solve(self, b: np.ndarray) -> np.ndarray:
        if not self.permuted:
            return self.lu.solve(b)
        x = np.empty_like(b)
        x[self.order] = self.lu.solve(np.ascontiguousarray(b[self.order]))
        return x

    def solve(self, b: np.ndarray) -> np.ndarray:
        y = self._solve(b)
        return y - self.SP @ np.linalg.solve(self.C, self.Q.T @ y)


class _Lagged:
    """Linear solves of Newton's steps: GMRES on the current ``S + P Q^T``, preconditioned by
    the :class:`_Schur` factorisation of an earlier step, redone when GMRES needs more than
    ``LAGGED_ITERATIONS`` iterations (at once if the shape changed). ``factorisations`` counts them."""

    def __init__(self):
        self.factor: _Schur | None = None
        self.factorisations = 0

    def solve(self, S, P, Q, rhs: np.ndarray, rtol: float) -> np.ndarray:
        def matvec(x, out):
            out[:] = S @ x + P @ (Q.T @ x)

        def precondition(r, out):
            out[:] = self.factor.solve(r)

        fresh = self.factor is None or (self.factor.shape, self.factor.C.shape[0]) != (S.shape, P.shape[1])
        while True:
            if fresh:  # the pattern of S, hence its order, is kept while the shapes are
                order = None if self.factor is None or self.factor.shape != S.shape else self.factor.order
                self.factor, self.factorisations = _Schur(S, P, Q, order), self.factorisations + 1
            with numba_threads(1):  # short vectors
                x, _, rel = gmres(matvec, precondition, rhs, rtol, LAGGED_ITERATIONS, LAGGED_ITERATIONS)
            if rel <= rtol or fresh:
                return x
            fresh = True


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

    def pin(self, m) -> int:
        """The node of the border's single entries: where m is largest (the centre if m is flat), not the last."""
        j = int(np.argmax(m[:-1]))
        return j if m[j] > np.min(m) else int(np.ravel_multi_index(tuple(n // 2 for n in self.shape), self.shape))

    def linearisation(self, u, m, terms, G, coupling) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Newton's Jacobian J as ``S + P Q^T``. Unknowns (u, m, lambda, s); rows HJB, FP without its
        last row, mass, normalisation, moments. S = diag([[G + E, -D], [B, G^T + E]], I) with all FP
        rows and E = e_j e_j^T (j the pin; without E, constant u and the sum of the FP rows make it
        singular); P, Q (5 + 2 r columns) put the border back and take E out."""
        K = self.K
        jac = coupling.jacobian(self.state(m))
        B = self.matrix(self.derivative(terms, m))
        pairs = jac.dm_lowrank
        r = len(pairs)
        n, j = 2 * K + 1 + r, self.pin(m)
        E = sp.csr_matrix(([1.0], ([j], [j])), shape=(K, K))
        S = sp.bmat([[G + E, -sp.diags(jac.dm_diag[0])], [B, G.T + E]])
        S = sp.block_diag([S, sp.identity(1 + r)], format="csr")
        P, Q = np.zeros((n, 5 + 2 * r)), np.zeros((n, 5 + 2 * r))
        P[:K, 0], Q[2 * K, 0] = 1.0, 1.0  # lambda column
        for a, i in enumerate((j, K + j)):  # E out
            P[i, 1 + a], Q[i, 1 + a] = -1.0, 1.0
        P[2 * K - 1, 3], Q[: 2 * K, 3] = 1.0, -S[2 * K - 1, : 2 * K].toarray()[0]  # mass row instead of FP's last
        Q[K : 2 * K, 3] += self.cell
        P[2 * K, 4], Q[:K, 4], Q[2 * K, 4] = 1.0, self.cell, -1.0  # normalisation row
        for t, (c, w) in enumerate(pairs):
            P[:K, 5 + t], Q[2 * K + 1 + t, 5 + t] = -c[0], 1.0  # moment columns C
            P[2 * K + 1 + t, 5 + r + t], Q[K : 2 * K, 5 + r + t] = 1.0, -w[0]  # moment rows W
        return S, P, Q

    def invariant_density(self, u, m=None) -> np.ndarray:
        """The exact discrete invariant law of u: G^T m = 0 with dx sum(m) = 1, by one sparse LU of the
        M-matrix G^T + e_j e_j^T (no pivoting, so m > 0): its solution for e_j has m_j = 1; then scaled."""
        j = self.pin(np.ones(self.K) if m is None else m)
        E = sp.csr_matrix(([1.0], ([j], [j])), shape=(self.K, self.K))
        GT = (self.matrix(self.generator(self.terms(u))).T + E).tocsc()
        m = spla.splu(GT, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0).solve(E.toarray()[:, j])
        return m / (self.cell * m.sum())

    def best_response(self, u, m, lam, coupling, tolerance, max_iterations, linear):
        """The HJB alone for the frozen cost f(x, m): Newton on (u, lambda) (Howard); Newton's start."""
        K = self.K
        F = coupling.value(self.state(m))[0]
        j = self.pin(m)
        E = sp.csr_matrix(([1.0], ([j], [j])), shape=(K, K))
        P, Q = np.zeros((K + 1, 3)), np.zeros((K + 1, 3))  # S = diag(G + E, 1), as in ``linearisation``
        P[:K, 0], Q[K, 0] = 1.0, 1.0  # lambda column: ones
        P[j, 1], Q[j, 1] = -1.0, 1.0  # E out
        P[K, 2], Q[:K, 2], Q[K, 2] = 1.0, self.cell, -1.0  # normalisation row: cell
        for _ in range(max_iterations):
            terms = self.terms(u)
            lap = self.problem.grid.laplacian(u.reshape(self.shape)).ravel()
            R = np.concatenate((-self.nu * lap + self.hamiltonian_value(terms) + lam - F, [self.cell * u.sum()]))
            if np.max(np.abs(R)) <= tolerance:
                break
            S = sp.block_diag([self.matrix(self.generator(terms)) + E, sp.identity(1)], format="csr")
            delta = linear.solve(S, P, Q, -R, max(1e-12, min(FORCING, np.max(np.abs(R)))))
            u, lam = u + delta[:K], lam + delta[K]
        return u, self.invariant_density(u, m), lam


def _sweep(system: _Stationary, coupling, u, m, lam, norm: float):
    """The best response to m and its invariant law, mixed with (u, m, lambda) by weights 1, 1/2, ...,
    1/16; the first mix that decreases ``|R|`` (as a tuple like the residual's), or None."""
    try:
        ub, mb, lb = system.best_response(u, m, lam, coupling, 1e-10, 30, _Lagged())
    except (RuntimeError, FloatingPointError, np.linalg.LinAlgError):
        return None
    for w in (1.0, 0.5, 0.25, 0.125, 0.0625):
        u1, m1, lam1 = u + w * (ub - u), m + w * (mb - m), lam + w * (lb - lam)
        R1, terms1, G1 = system.residual(u1, m1, lam1, coupling)
        n1 = float(np.linalg.norm(R1) * np.sqrt(system.cell))
        if np.isfinite(n1) and n1 <= (1 - 1e-4 * w) * norm:
            return u1, m1, lam1, R1, terms1, G1, n1
    return None


def _newton(system: _Stationary, coupling, u, m, lam, tolerance, max_iterations, history, linear: _Lagged):
    """Newton with backtracking on ``|R|`` (a damped best response when no step decreases it: no step
    ever raises ``|R|``); returns (u, m, lam, converged, message)."""
    K = system.K
    R, terms, G = system.residual(u, m, lam, coupling)
    norm = float(np.linalg.norm(R) * np.sqrt(system.cell))
    history.append(norm)
    for _ in range(max_iterations):
        if norm <= tolerance:
            return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
        S, P, Q = system.linearisation(u, m, terms, G, coupling)
        rhs = np.concatenate((-R, np.zeros(S.shape[0] - R.size)))
        # inexact Newton: loose far away, exact to round-off near the solution (quadratic steps)
        delta = linear.solve(S, P, Q, rhs, max(1e-12, min(FORCING, norm**2)))
        step = 1.0
        while True:
            u1, m1 = u + step * delta[:K], m + step * delta[K : 2 * K]
            lam1 = lam + step * delta[2 * K]
            R1, terms1, G1 = system.residual(u1, m1, lam1, coupling)
            n1 = float(np.linalg.norm(R1) * np.sqrt(system.cell))
            if np.isfinite(n1) and n1 <= (1 - 1e-4 * step) * norm:
                break
            if step <= LINE_SEARCH_MIN_STEP:  # never take a step that does not decrease |R|:
                swept = _sweep(system, coupling, u, m, lam, norm)  # fall back on a damped best response
                if swept is None:
                    return u, m, lam, False, (
                        f"not converged: no Newton step down to {LINE_SEARCH_MIN_STEP:g} and no damped best "
                        f"response decreased the residual {norm:.3e} (the iterate with the lowest residual is returned)"
                    )
                u1, m1, lam1, R1, terms1, G1, n1 = swept
                break
            step *= 0.5
        u, m, lam, R, terms, G, norm = u1, m1, lam1, R1, terms1, G1, n1
        history.append(norm)
    if norm <= tolerance:
        return u, m, lam, True, f"converged: residual {norm:.3e} <= tolerance {tolerance:.1e}"
    message = f"not converged: residual {norm:.3e} > tolerance {tolerance:.1e} after max_iterations = {max_iterations}"
    return u, m, lam, False, message


def solve_ergodic_mfg(
    config: MFGConfig,
    f=None,
    *,
    hamiltonian: Hamiltonian | None = None,
    continuation: Continuation | None = None,
    initial: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> ErgodicSolution:
    r"""Solve the stationary (ergodic) mean-field game, 1D or 2D, by Newton's method.

    The unknowns :math:`(u, m, \lambda)` solve

    .. math::

        -\nu \Delta u + H(x, \nabla u) + \lambda = f(x, m), \qquad
        -\nu \Delta m - \operatorname{div}(m\, H_p(x, \nabla u)) = 0, \qquad
        \int m = 1,\ \int u = 0,

    discretised with the monotone upwind Hamiltonian; the discrete
    Fokker-Planck operator is the transpose of the linearised HJB one.
    :math:`\lambda` is the long-run average cost of an agent and m the
    invariant law of the crowd. The bordered Jacobian is solved through a
    Schur complement, its factorisation kept as the preconditioner of GMRES
    across Newton steps.

    Parameters
    ----------
    config : MFGConfig
        Grid (1D or 2D), viscosity (> 0 for a unique invariant law),
        boundary, tolerance and max_iterations; time fields are ignored.
    f : Coupling, array or callable f(x) (2D: f(x, y)), or None
        The running cost, as for :func:`solve_mfg`. ``MarketImpact`` is not
        available here.
    hamiltonian : Hamiltonian, default Quadratic()
        The Hamiltonian.
    continuation : Continuation, optional
        Solve a sequence of easier problems first (larger viscosity or a
        weaker coupling), each starting from the previous solution.
    initial : (u, m, lambda), optional
        Starting point; default: in 2D with at least 40 points per axis (and
        no continuation), the solution of the same game on a grid with half
        the points, interpolated (``ergodic_start``); otherwise the best
        response (u, lambda) to the uniform law and the invariant law m of that u.

    Returns
    -------
    ErgodicSolution
        ``converged`` False (with the residual history) if Newton stops early.

    Raises
    ------
    ValueError
        If ``config`` is not an :class:`MFGConfig` or the coupling depends on
        the controls (:class:`MarketImpact`).

    See Also
    --------
    meanfolio.mfg.solve_mfg : The time-dependent game.

    References
    ----------
    .. [1] Y. Achdou, I. Capuzzo-Dolcetta, "Mean field games: numerical
       methods", SIAM J. Numer. Anal. 48(3) (2010), section 5.

    Examples
    --------
    Quadratic Hamiltonian, confinement :math:`x^2/2` and the entropic
    coupling :math:`\log m`: the invariant law is Gaussian with variance
    :math:`\nu/c`, :math:`c^2 + c/\nu = 1` (1.207 for :math:`\nu = 0.5`).

    >>> import numpy as np
    >>> from meanfolio.mfg import LogDensity, MFGConfig, RunningCost, solve_ergodic_mfg
    >>> config = MFGConfig(nx=101, x_min=-4, x_max=4, viscosity=0.5, tolerance=1e-10)
    >>> x = np.linspace(-4, 4, 101)
    >>> sol = solve_ergodic_mfg(config, RunningCost(0.5 * x**2) + LogDensity())
    >>> sol.converged, round(sol.lam, 3)
    (True, -0.801)
    >>> variance = float(np.sum(x**2 * sol.m) * (x[1] - x[0]))
    >>> round(variance, 1)
    1.2
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
    if initial is None and continuation is None:
        initial = coarse_start(config, f, hamiltonian, solve_ergodic_mfg)
    if initial is None:
        u, m, lam = np.zeros(K), np.full(K, 1.0 / (K * system.cell)), 0.0
    else:
        u, m, lam = np.ravel(initial[0]).astype(float), np.ravel(initial[1]).astype(float), float(initial[2])
    history: list[float] = []
    records = []
    linear = _Lagged()
    with threadpool_limits(limits=1):
        for stage in stages(continuation, config):
            stage_system = system
            if stage["viscosity"] != config.viscosity:
                stage_system = _Stationary(config.replace(viscosity=stage["viscosity"]), f, hamiltonian)
            coupling = system.coupling if stage["factor"] == 1.0 else Scaled(system.coupling, stage["factor"])
            if not records and initial is None:
                u, m, lam = stage_system.best_response(u, m, lam, coupling, 1e-8, 30, _Lagged())
            u, m, lam, converged, message = _newton(
                stage_system, coupling, u, m, lam, config.tolerance, config.max_iterations, history, linear
            )
            records.append({**stage, "converged": converged, "iterations": len(history)})
            if not converged:
                message = f"stage {stage}: {message}"
                break
    m = system.invariant_density(u, m)
    alpha = system.problem.controls(u.reshape(1, *system.shape))[0]
    grid = system.problem.grid
    x, y = (grid.gx.x.copy(), grid.gy.x.copy()) if system.dim == 2 else (grid.x.copy(), None)
    mass_error = float(abs(system.cell * m.sum() - 1.0))
    iterations, wall = len(history) - len(records), time.perf_counter() - start
    shape = system.shape
    return ErgodicSolution(
        u.reshape(shape), m.reshape(shape), float(lam), alpha, x, y, converged, iterations, history, mass_error, wall,
        message, stages=records,
    )  # fmt: skip
