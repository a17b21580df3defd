"""The discrete stationary system of :func:`~meanfolio.mfg.solve_ergodic_mfg`: residual, Jacobian as
sparse blocks plus a low-rank border, its Schur-complement solve and the lagged factorisation.

See :mod:`meanfolio.mfg.problems.ergodic` for the equations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from meanfolio._parallel import numba_threads

from ..config import MFGConfig
from ..couplings import CouplingState
from ..hamiltonians import Hamiltonian
from ..schemes._kernels2d import gmres
from ..schemes.fokker_planck import fokker_planck_derivative
from ..schemes.hjb import hjb_operator
from .problem import MFGProblem
from .problem2d import MFGProblem2D

#: GMRES iterations preconditioned with an older factorisation before it is redone
LAGGED_ITERATIONS = 20
#: loosest relative residual of a step's linear solve (|R|^2 near the solution; 1e-2 misled Newton)
FORCING = 1e-4


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
