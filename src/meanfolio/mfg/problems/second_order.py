"""The second-order scheme (``MFGConfig(scheme="second_order")``): Crank-Nicolson and centred differences.

With the centred operators of ``stencils`` (gradient G per axis, L = -Lap_h)
and, at every time level n = 0..N,

    Phi^n = nu L U^n + H(G U^n) - f(x, M^n),     Psi^n = nu L M^n + A(U^n)^T M^n,
    A(U) = sum_axes diag(H_p(G U)) G             (the linearised Hamiltonian),

the discrete system is, for n = 0..N-1 (U^N = g(x, M^N), M^0 = m0),

    (U^n - U^{n+1}) / dt + (Phi^n + Phi^{n+1}) / 2 = 0                  (HJB)
    (M^{n+1} - M^n) / dt + (Psi^{n+1} + Psi^n) / 2 = 0                   (FP)

Both equations are the trapezoidal rule in time and centred in space, so
the scheme is second order in dt and dx for smooth solutions; U^n and M^n
are paired at the same time (the upwind scheme pairs U^n with M^{n+1}, an
O(dt) shift). The Fokker-Planck operator is the transpose of the linearised
HJB operator: the rows of A sum to zero, so ``dx sum M^n`` is conserved to
round-off. The scheme is not monotone: m >= 0 is not guaranteed, and it
oscillates when the cell Peclet number ``max |H_p| dx / (2 nu)`` exceeds 1
(``MFGSolution.message`` says so); the upwind scheme stays the default.

Newton's system is the sparse Jacobian of the whole space-time system plus
the low-rank parts of non-local couplings. It is solved by GMRES
right-preconditioned with the decoupled sweep of the upwind scheme (HJB
backward, then FP forward, one sparse LU per time level; the couplings
f'(m) and g'(m) dropped), through the same globalised ``newton``. Couplings of the controls (``MarketImpact``) are not
available with this scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..config import MFGConfig
from ..couplings import CouplingState
from ..schemes import _kernels2d
from ..schemes.stencils import Stencil, stencil
from ._base import ProblemBase
from .problem import GMRES_MAXITER, GMRES_RESTART, MFGProblem
from .problem2d import MFGProblem2D

__all__ = ["SecondOrderProblem"]

#: Newton steps of one best response (the HJB for a frozen density)
BEST_RESPONSE_STEPS = 30


@dataclass
class Levels:
    """H and its derivatives at the centred gradients of every level: arrays (levels, K), one per axis."""

    value: np.ndarray
    hp: list[np.ndarray]
    hpp: list[np.ndarray]


@dataclass
class SecondOrderProblem(ProblemBase):
    """A 1D or 2D MFG discretised by the second-order scheme; the interface of ``MFGProblem``."""

    config: MFGConfig
    grid: object
    hamiltonian: object
    coupling: object
    terminal: object
    m0: np.ndarray
    m0_mass: float
    stencil: Stencil

    @classmethod
    def create(cls, config: MFGConfig, m0, coupling=None, *, terminal=None, hamiltonian=None) -> SecondOrderProblem:
        base_class = MFGProblem2D if config.dim == 2 else MFGProblem
        base = base_class.create(config, m0, coupling, terminal=terminal, hamiltonian=hamiltonian)
        if base.coupling.uses_control:
            raise ValueError(
                f"f = {type(base.coupling).__name__} depends on the controls, which is not allowed with "
                "scheme = 'second_order': expected a coupling of m only (use scheme = 'upwind')"
            )
        return cls(
            config, base.grid, base.hamiltonian, base.coupling, base.terminal, base.m0, base.m0_mass, stencil(base.grid)
        )

    # -- pieces --------------------------------------------------------------
    @property
    def steps(self) -> int:
        return self.config.nt - 1

    @property
    def cell(self) -> float:
        return self.grid.cell if self.config.dim == 2 else self.grid.dx

    def _flat(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[0], -1)

    def _state(self, M: np.ndarray, steps: np.ndarray) -> CouplingState:
        coords = self.stencil.coordinates
        y = coords[1] if len(coords) > 1 else None
        return CouplingState(coords[0], self.cell, self.grid.t[steps], steps, M, y=y)

    def running_cost(self, M: np.ndarray) -> np.ndarray:
        """f(x, M^n) at every level, (nt, K)."""
        return self.coupling.value(self._state(M, np.arange(M.shape[0])))

    def terminal_cost(self, m_T: np.ndarray) -> np.ndarray:
        M = m_T.reshape(1, -1)
        return self.terminal.value(self._state(M, np.array([self.steps])))[0].reshape(m_T.shape)

    def mass(self, m: np.ndarray) -> np.ndarray:
        return self.grid.mass(m)

    def levels(self, U: np.ndarray) -> Levels:
        """H, H_p, H_pp at the centred gradients of U (levels, K)."""
        h = self.hamiltonian
        value = np.zeros_like(U)
        hp, hpp = [], []
        for G, x in zip(self.stencil.matrices, self.stencil.coordinates, strict=True):
            p = (G @ U.T).T
            value += h.H(x, p)
            hp.append(np.asarray(h.H_p(x, p), dtype=np.float64))
            with np.errstate(invalid="ignore", divide="ignore"):
                second = np.asarray(h.H_pp(x, p), dtype=np.float64)
            hpp.append(np.where(np.isfinite(second), second, 0.0))  # kinked H: no curvature term
        return Levels(value, hp, hpp)

    def operator_values(self, lev: Levels) -> np.ndarray:
        """E^n = nu L + A(U^n) on the stencil's pattern, (levels, nnz)."""
        s = self.stencil
        E = np.broadcast_to(self.config.viscosity * s.laplacian, (lev.value.shape[0], s.rows.size)).copy()
        for hp, g in zip(lev.hp, s.gradients, strict=True):
            E += hp[:, s.rows] * g
        return E

    def _transport(self, lev: Levels, M: np.ndarray) -> np.ndarray:
        """Psi^n = nu L M^n + A(U^n)^T M^n for every level, (levels, K)."""
        out = self.config.viscosity * (self.stencil.laplacian_matrix @ M.T).T
        for hp, G in zip(lev.hp, self.stencil.matrices, strict=True):
            out += (G.T @ (hp * M).T).T
        return out

    def controls(self, u: np.ndarray) -> np.ndarray:
        """alpha* = -H_p(G u) at every level: (nt, nx), or (nt, ny, nx, 2) in 2D."""
        lev = self.levels(self._flat(u))
        if self.config.dim == 1:
            return -lev.hp[0].reshape(u.shape)
        return np.stack([-hp.reshape(u.shape) for hp in lev.hp], axis=-1)

    def peclet(self, u: np.ndarray) -> float:
        """The largest cell Peclet number ``|H_p| dx / (2 nu)`` over the grid (inf if nu = 0)."""
        lev = self.levels(self._flat(u))
        axes = (self.grid.gx, self.grid.gy) if self.config.dim == 2 else (self.grid,)
        drift = max(float(np.max(np.abs(hp)) * g.dx) for hp, g in zip(lev.hp, axes, strict=True))
        nu = self.config.viscosity
        return drift / (2.0 * nu) if nu > 0 else (np.inf if drift > 0 else 0.0)

    def scheme_note(self, u: np.ndarray) -> str | None:
        """A warning for the solution's message when the centred scheme may oscillate."""
        pe = self.peclet(u)
        if pe <= 1.0:
            return None
        return (
            f"cell Peclet number {pe:.3g} > 1: the centred second-order scheme may oscillate "
            "(refine the grid, or use scheme = 'upwind')"
        )

    # -- residual ------------------------------------------------------------
    def residual_and_terms(self, u: np.ndarray, m: np.ndarray):
        """HJB and FP residuals, each (N, ...) like u[:-1], unscaled; and the levels of u."""
        u = u.copy()
        u[-1] = self.terminal_cost(m[-1])
        U, M = self._flat(u), self._flat(m)
        dt, nu = self.grid.dt, self.config.viscosity
        lev = self.levels(U)
        phi = nu * (self.stencil.laplacian_matrix @ U.T).T + lev.value - self.running_cost(M)
        psi = self._transport(lev, M)
        rh = (U[:-1] - U[1:]) / dt + 0.5 * (phi[:-1] + phi[1:])
        rf = (M[1:] - M[:-1]) / dt + 0.5 * (psi[1:] + psi[:-1])
        shape = u[:-1].shape
        return rh.reshape(shape), rf.reshape(shape), lev

    def norm(self, r: np.ndarray) -> float:
        """Discrete L2(0, T; L2) norm ``sqrt(dt cell sum r^2)``."""
        return float(np.sqrt(self.grid.dt * self.cell * np.sum(r * r)))

    def residual_norm(self, u: np.ndarray, m: np.ndarray) -> float:
        rh, rf, _ = self.residual_and_terms(u, m)
        return max(self.norm(rh), self.norm(rf))

    # -- solves for a given u or m ------------------------------------------------
    def level_factors(self, E: np.ndarray) -> tuple[list[sp.csc_matrix], list]:
        """Per level: E^n as a sparse matrix and the LU of ``I + dt/2 E^n`` (HJB; transposed solves for FP)."""
        half = 0.5 * self.grid.dt
        mats = [self.stencil.assemble(e) for e in E]
        identity = sp.identity(self.stencil.size, format="csc")
        lus = []
        for n, a in enumerate(mats):
            try:
                lus.append(spla.splu((identity + half * a).tocsc()))
            except RuntimeError as err:  # SuperLU: "Factor is exactly singular"
                raise FloatingPointError(
                    f"the Crank-Nicolson step matrix I + dt/2 E at time level {n} is singular ({err}): "
                    "reduce dt (nt larger) or use scheme = 'upwind'"
                ) from None
        return mats, lus

    def fokker_planck(self, u: np.ndarray) -> np.ndarray:
        """The exact discrete FP density of u: one sparse solve per step, (nt, ...) like u. Not clipped."""
        mats, lus = self.level_factors(self.operator_values(self.levels(self._flat(u))))
        half = 0.5 * self.grid.dt
        M = np.empty((self.config.nt, self.stencil.size))
        M[0] = self.m0.ravel()
        for n in range(self.steps):
            M[n + 1] = lus[n + 1].solve(M[n] - half * (mats[n].T @ M[n]), trans="T")
        return M.reshape(u.shape)

    def _hjb_sweep(self, mats, lus, r: np.ndarray) -> np.ndarray:
        """Solve the HJB block (upper block-bidiagonal in time) for r (N, K), backward."""
        half = 0.5 * self.grid.dt
        z = np.empty_like(r)
        for n in range(self.steps - 1, -1, -1):
            b = r[n] if n == self.steps - 1 else r[n] + z[n + 1] - half * (mats[n + 1] @ z[n + 1])
            z[n] = lus[n].solve(b)
        return z

    def best_response(self, u: np.ndarray, m: np.ndarray) -> np.ndarray:
        """u solving the HJB for the frozen density m (Newton on the HJB alone, from u)."""
        u = u.copy()
        u[-1] = self.terminal_cost(m[-1])
        for _ in range(BEST_RESPONSE_STEPS):
            rh, _, lev = self.residual_and_terms(u, m)
            err = np.max(np.abs(rh)) * self.grid.dt
            if not np.isfinite(err):
                raise FloatingPointError("the HJB residual became non-finite")
            if err <= 1e-13 * (1.0 + np.max(np.abs(u))):
                break
            mats, lus = self.level_factors(self.operator_values(lev))
            delta = self._hjb_sweep(mats, lus[:-1], -self.grid.dt * self._flat(rh))
            u[:-1] += delta.reshape(u[:-1].shape)
        return u

    def initial_guess(self) -> tuple[np.ndarray, np.ndarray]:
        """The best response to the frozen population m(t) = m0 and its density (Newton's start)."""
        shape = (self.config.nt, *self.m0.shape)
        m = np.broadcast_to(self.m0, shape).copy()
        u = np.broadcast_to(self.terminal_cost(self.m0), shape).copy()
        try:
            u = self.best_response(u, m)
        except FloatingPointError:
            pass  # start from u = g(m0); Newton's globalisation takes it from there
        return u, self.fokker_planck(u)

    # -- Newton --------------------------------------------------------------
    def _hjb_u_blocks(self, E: np.ndarray):
        """Blocks of the dt-scaled HJB rows in U^0..U^{N-1}: (row, col, values, transpose, identity)."""
        half, N = 0.5 * self.grid.dt, self.steps
        yield from ((n, n, half * E[n], False, 1.0) for n in range(N))
        yield from ((n, n + 1, half * E[n + 1], False, -1.0) for n in range(N - 1))

    def newton_operator(self, u: np.ndarray, m: np.ndarray, lev: Levels | None = None):
        """Jacobian of the dt-scaled residual at (u, m): (sparse part, low-rank part, preconditioner pieces).

        Unknowns (U^0..U^{N-1}, M^1..M^N); U^N = g(M^N) enters through the chain rule.
        """
        u = u.copy()
        u[-1] = self.terminal_cost(m[-1])
        U, M = self._flat(u), self._flat(m)
        lev = self.levels(U) if lev is None else lev
        N, K, half = self.steps, self.stencil.size, 0.5 * self.grid.dt
        E = self.operator_values(lev)
        B = self._transport_derivative(lev, M)
        jac = self.coupling.jacobian(self._state(M, np.arange(N + 1)))
        gjac = self.terminal.jacobian(self._state(M[-1:], np.array([N])))
        gdiag = gjac.dm_diag[0]
        s = self.stencil
        blocks = list(self._hjb_u_blocks(E))
        for n in range(N):  # HJB rows: the costs f(M^n), f(M^{n+1}) (M^0 is given)
            if n >= 1:
                blocks.append((n, N + n - 1, None, False, -half * jac.dm_diag[n]))
            blocks.append((n, N + n, None, False, -half * jac.dm_diag[n + 1]))
        # HJB row N-1 through U^N = g(M^N): (-I + dt/2 E^N) diag(g')
        blocks.append((N - 1, 2 * N - 1, half * E[N] * gdiag[s.cols], False, -gdiag))
        for n in range(N):  # FP rows (M^{n+1}): the transposed operators and the derivative in U
            blocks.append((N + n, N + n, half * E[n + 1], True, 1.0))
            if n >= 1:
                blocks.append((N + n, N + n - 1, half * E[n], True, -1.0))
            if n + 1 < N:
                blocks.append((N + n, n + 1, B(n + 1, half), False, 0.0))
            blocks.append((N + n, n, B(n, half), False, 0.0))
        ti, tj, tv = B(N, half)
        blocks.append((2 * N - 1, 2 * N - 1, (ti, tj, tv * gdiag[tj]), False, 0.0))
        sparse = self.stencil.assemble_blocks(blocks, 2 * N, 2 * N)
        lowrank = self._lowrank(jac, gjac, E[N], B(N, half))
        # The preconditioner's pieces: level factors and the FP rows' derivative in U.
        try:
            mats, lus = self.level_factors(E)
        except FloatingPointError:  # no preconditioner: the linear solve fails and Newton falls back
            mats, lus = None, None
        fp_u = sparse[N * K :, : N * K].tocsr()
        return sparse, lowrank, (mats, lus, fp_u)

    def _transport_derivative(self, lev: Levels, M: np.ndarray):
        """B(n, scale): the pattern (rows, cols, values) of ``scale * d(A(U)^T M^n) / dU^n``."""
        s = self.stencil

        def B(n: int, scale: float):
            rows, cols, vals = [], [], []
            for (k, i, j, v), hpp in zip(s.triples, lev.hpp, strict=True):
                # (A^T M)_i = sum_k G[k, i] H_p(p_k) M_k  =>  d/dU_j = sum_k G[k, i] H_pp(p_k) M_k G[k, j]
                rows.append(i)
                cols.append(j)
                vals.append(scale * v * (hpp[n] * M[n])[k])
            return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

        return B

    def _lowrank(self, jac, gjac, E_N: np.ndarray, B_N) -> tuple[np.ndarray, ...]:
        """Low-rank terms c w^T with their block row and column: (rows (R,), cols (R,), C (R, K), W (R, K))."""
        N, K, half = self.steps, self.stencil.size, 0.5 * self.grid.dt
        rows, cols, C, W = [], [], [], []
        for c, w in jac.dm_lowrank:
            for n in range(N):
                if n >= 1:
                    rows.append(n), cols.append(N + n - 1), C.append(-half * c[n]), W.append(w[n])
                rows.append(n), cols.append(N + n), C.append(-half * c[n + 1]), W.append(w[n + 1])
        if gjac.dm_lowrank:
            E = self.stencil.assemble(half * E_N, identity=-1.0)
            ti, tj, tv = B_N
            Bm = sp.csr_matrix((tv, (ti, tj)), shape=(K, K))
            for c, w in gjac.dm_lowrank:
                rows.append(N - 1), cols.append(2 * N - 1), C.append(E @ c[0]), W.append(w[0])
                rows.append(2 * N - 1), cols.append(2 * N - 1), C.append(Bm @ c[0]), W.append(w[0])
        if not rows:
            return np.zeros(0, int), np.zeros(0, int), np.zeros((0, K)), np.zeros((0, K))
        return np.array(rows), np.array(cols), np.array(C), np.array(W)

    def matvec(self, ops, v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Newton's operator ``J v`` (sparse part plus the low-rank terms)."""
        sparse, (rows, cols, C, W), _ = ops
        result = sparse @ v
        if rows.size:
            K = self.stencil.size
            weights = np.einsum("rk,rk->r", W, v.reshape(-1, K)[cols])
            np.add.at(result.reshape(-1, K), rows, C * weights[:, None])
        if out is None:
            return result
        out[:] = result
        return out

    def preconditioner(self, ops):
        """``precondition(r, out=None)``: the decoupled sweep, HJB backward then FP forward.

        It keeps the HJB and FP blocks and the FP rows' dependence on U, and
        drops the couplings f'(m), g'(m) (block Gauss-Seidel, as in the upwind scheme).
        """
        _, _, (mats, lus, fp_u) = ops
        N, K, half = self.steps, self.stencil.size, 0.5 * self.grid.dt

        def precondition(r, out=None):
            r = np.asarray(r, dtype=np.float64)
            if lus is None:
                z = r.copy()
                if out is None:
                    return z
                out[:] = z
                return out
            zU = self._hjb_sweep(mats, lus[:-1], r[: N * K].reshape(N, K))
            rM = (r[N * K :] - fp_u @ zU.ravel()).reshape(N, K)
            zM = np.empty_like(rM)
            for n in range(N):
                b = rM[n] if n == 0 else rM[n] + zM[n - 1] - half * (mats[n].T @ zM[n - 1])
                zM[n] = lus[n + 1].solve(b, trans="T")
            z = np.concatenate((zU.ravel(), zM.ravel()))
            if out is None:
                return z
            out[:] = z
            return out

        return precondition

    def linear_solve(self, ops, rhs: np.ndarray, rtol: float) -> tuple[np.ndarray, int, None]:
        """``J delta = rhs`` by GMRES right-preconditioned with the decoupled sweep; ``(delta, iterations,
        None)`` (``checked_solve`` measures the residual)."""
        delta, its, _ = _kernels2d.gmres(
            lambda v, out: self.matvec(ops, v, out),
            self.preconditioner(ops),
            np.ascontiguousarray(rhs, dtype=np.float64),
            rtol,
            GMRES_RESTART,
            GMRES_MAXITER,
        )
        return delta, int(its), None
