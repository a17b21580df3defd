"""`MFGProblem2D`: the 2D mean-field game on a box, scheme per coordinate.

The discrete system is the 1D one of ``problem.py`` with every operator the
sum of its x and y parts (Achdou & Capuzzo-Dolcetta 2010, per coordinate):

    H_h(U) = H(x, D-_x U, D+_x U) + H(y, D-_y U, D+_y U),   Lap_h = Lap_x + Lap_y,

so a Hamiltonian H(p) of ``hamiltonians.py`` means H(p_1) + H(p_2) in 2D
(``|p|^2/2`` for ``Quadratic``; box-bounded controls for ``Linear``). The FP
operator is again the exact transpose of the linearised HJB, so mass is
conserved to round-off and m >= 0.

Each implicit step couples the ny*nx nodes through a 5-point matrix
``I + dt (nu L + A(U^n))``; Newton's linear system is solved by GMRES
right-preconditioned by the decoupled sweep with ADI blocks (tridiagonal
line solves, ``_kernels2d``). The returned density solves every implicit FP
step to round-off by GMRES with the same ADI blocks (a sparse LU if it ever
stalls). Threads: :meth:`ProblemBase.threads`, chosen again at each Newton step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from meanfolio._parallel import numba_threads
from meanfolio._validation import check_array, check_density

from ..config import MFGConfig
from ..couplings import Coupling, CouplingState, CouplingSum, RunningCost, as_coupling
from ..grid import Grid2D
from ..hamiltonians import Hamiltonian, Quadratic, UpwindTerms
from ..schemes import _kernels2d
from ..schemes.fokker_planck import fokker_planck_derivative, transport
from ..schemes.hjb import hjb_operator, upwind_terms
from ._base import ProblemBase
from ._coupling_arrays import mean_drift_gradient, stack_jacobian
from .problem import GMRES_MAXITER, GMRES_RESTART

__all__ = ["MFGProblem2D"]

#: The implicit FP steps of :meth:`MFGProblem2D.fokker_planck`: GMRES to the relative residual
#: FP_RTOL (its floor is about 1e-14), restart, iteration cap; a sparse LU if above FP_ACCEPT.
FP_RTOL, FP_ACCEPT, FP_RESTART, FP_MAXITER = 1e-14, 1e-13, 30, 120


@dataclass
class AxisTerms:
    """Upwind terms along x and along y; the y terms are stored with y last."""

    x: UpwindTerms
    y: UpwindTerms


def _neighbours(ny: int, nx: int) -> np.ndarray:
    """Flat indices (K, 5) of [self, x-left, x-right, y-down, y-up], wrapping at the edges.

    In the no-flux box the coefficients on the wrapped neighbours are zero
    (the one-sided differences vanish there), so wrapping is harmless.
    """
    j, i = np.divmod(np.arange(ny * nx), nx)
    return np.stack(
        [j * nx + i, j * nx + (i - 1) % nx, j * nx + (i + 1) % nx, ((j - 1) % ny) * nx + i, ((j + 1) % ny) * nx + i],
        axis=1,
    )


@dataclass
class MFGProblem2D(ProblemBase):
    """A 2D MFG: the grid, H, couplings f and g, and m0 (unit mass).

    After :meth:`create`: ``neighbours`` (K, 5) the flat indices of each node's
    [self, x-left, x-right, y-down, y-up] (the column pattern of every 5-point
    operator, see :meth:`five_point`) and ``coordinates`` (x, y) of the K nodes.
    """

    config: MFGConfig
    grid: Grid2D
    hamiltonian: Hamiltonian
    coupling: Coupling
    terminal: Coupling
    m0: np.ndarray  # (ny, nx)
    m0_mass: float

    @classmethod
    def create(cls, config: MFGConfig, m0, coupling=None, *, terminal=None, hamiltonian=None) -> MFGProblem2D:
        grid = Grid2D.from_config(config)
        ny, nx = grid.shape
        hamiltonian = Quadratic() if hamiltonian is None else hamiltonian
        if not isinstance(hamiltonian, Hamiltonian):
            raise ValueError(f"hamiltonian = {hamiltonian!r} is not allowed: expected a Hamiltonian")
        m0 = check_array("m0", m0, shape=(ny, nx), nonnegative=True)
        flat, mass = check_density("m0", m0.ravel(), size=ny * nx, cell=grid.cell)
        coupling = as_coupling(_flatten_cost(coupling, "f", (config.nt, ny, nx)), "f")
        terminal = as_coupling(_flatten_terminal(terminal, grid), "terminal")
        if terminal.uses_control:
            raise ValueError("terminal is not allowed to depend on controls: expected g(x) or g(x, m)")
        for c in (coupling, terminal):
            c.validate(config.nt, ny * nx)
        problem = cls(config, grid, hamiltonian, coupling, terminal, flat.reshape(ny, nx), mass)
        problem.neighbours = _neighbours(ny, nx)
        X, Y = grid.mesh()
        problem.coordinates = (X.ravel(), Y.ravel())
        return problem

    # -- pieces --------------------------------------------------------------
    @property
    def parallel_work(self) -> int:
        return self.steps * self.grid.size

    @property
    def steps(self) -> int:
        return self.config.nt - 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    def terms(self, u: np.ndarray) -> AxisTerms:
        """Upwind terms of u (..., ny, nx) along both axes."""
        g = self.grid
        tx = upwind_terms(g.gx, self.hamiltonian, u)
        ty = upwind_terms(g.gy, self.hamiltonian, np.ascontiguousarray(g.along(1, u)))
        return AxisTerms(tx, ty)

    def _state(self, m: np.ndarray, steps: np.ndarray, terms: AxisTerms | None = None) -> CouplingState:
        x, y = self.coordinates
        N = len(steps)
        state = CouplingState(x, self.grid.cell, self.grid.t[steps], steps, m.reshape(N, -1), y=y)
        if terms is not None and self.coupling.uses_control:
            # feedback per axis and the gradients of cell * sum(drift * m); the other axis' step
            # multiplies the 1D gradient (cell = dx dy, the 1D formula carries one of them)
            g = self.grid
            mm = m.reshape(N, *self.shape)
            my = np.ascontiguousarray(g.along(1, mm))
            state.drift = terms.x.drift.reshape(N, -1)
            state.drift_y = g.along(1, terms.y.drift).reshape(N, -1)
            state.drift_mean_gradient = g.gy.dx * mean_drift_gradient(terms.x, mm).reshape(N, -1)
            state.drift_mean_gradient_y = g.gx.dx * g.along(1, mean_drift_gradient(terms.y, my)).reshape(N, -1)
        return state

    def running_cost(self, m: np.ndarray, terms: AxisTerms | None = None) -> np.ndarray:
        """F^n = f(x, M^{n+1}), shape (N, ny, nx); ``terms`` of U^0..U^{N-1} for couplings of controls."""
        return self.coupling.value(self._state(m[1:], np.arange(self.steps), terms)).reshape(m[1:].shape)

    def terminal_cost(self, m_T: np.ndarray) -> np.ndarray:
        return self.terminal.value(self._state(m_T[None], np.array([self.steps]))).reshape(self.shape)

    def mass(self, m: np.ndarray) -> np.ndarray:
        return self.grid.mass(m)

    def controls(self, u: np.ndarray) -> np.ndarray:
        """alpha* of the scheme at every level of u, shape (nt, ny, nx, 2)."""
        terms = self.terms(u)
        return np.stack([terms.x.drift, self.grid.along(1, terms.y.drift)], axis=-1)

    # -- residual ------------------------------------------------------------
    def residual_and_terms(self, u, m):
        g, nu = self.grid, self.config.viscosity
        u = u.copy()
        u[-1] = self.terminal_cost(m[-1])
        terms = self.terms(u[:-1])
        nxt = m[1:]
        rh = (u[:-1] - u[1:]) / g.dt - nu * g.laplacian(u[:-1]) + terms.x.value + g.along(1, terms.y.value)
        rh -= self.running_cost(m, terms)
        flux_y = transport(g.gy, terms.y, np.ascontiguousarray(g.along(1, nxt)))
        rf = (nxt - m[:-1]) / g.dt - nu * g.laplacian(nxt) + transport(g.gx, terms.x, nxt) + g.along(1, flux_y)
        return rh, rf, terms

    def norm(self, r: np.ndarray) -> float:
        """Discrete L2(0, T; L2) norm ``sqrt(dt dx dy sum r^2)``."""
        return float(np.sqrt(self.grid.dt * self.grid.cell * np.sum(r * r)))

    def residual_norm(self, u, m) -> float:
        rh, rf, _ = self.residual_and_terms(u, m)
        return max(self.norm(rh), self.norm(rf))

    # -- operators -----------------------------------------------------------
    def five_point(self, x_parts, y_parts, identity: float) -> np.ndarray:
        """Entries (N, K, 5) in the order of ``neighbours`` of the operator ``Tx + Ty - identity``,
        from per-axis tridiagonal parts (lo, di, up): x parts (N, ny, nx), y parts (N, nx, ny)."""
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (*x_parts, *y_parts)]
        out = np.empty((arrays[0].shape[0], self.grid.size, 5))
        with numba_threads(self.threads()):
            _kernels2d.five_point_data(*arrays, float(identity), out)
        return out

    @staticmethod
    def line_coefficients(parts) -> tuple[np.ndarray, np.ndarray]:
        """Per-axis parts stacked for the ADI line solves: xc (3, N, nx, ny), yc (3, N, ny, nx)."""
        return tuple(np.ascontiguousarray(np.stack(axis).swapaxes(-1, -2)) for axis in parts)

    def hjb_parts(self, terms: AxisTerms) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Per-axis tridiagonal parts of ``I + dt (nu L + A(U^n))``: x (N, ny, nx), y (N, nx, ny)."""
        g, nu = self.grid, self.config.viscosity
        return hjb_operator(g.gx, nu, terms.x), hjb_operator(g.gy, nu, terms.y)

    def fokker_planck(self, u: np.ndarray) -> np.ndarray:
        """Solve the implicit FP forward from m0 for the controls of u; (nt, ny, nx).

        Each step ``A_n^T M^{n+1} = M^n`` by GMRES preconditioned with the
        transposed ADI step, to a relative residual ``FP_RTOL`` (mass to
        round-off), then clipped at 0 (the exact solution is >= 0: A_n is an
        M-matrix); a sparse LU solves a step where GMRES stalls above ``FP_ACCEPT``.
        """
        parts = self.hjb_parts(self.terms(u[:-1]))
        data = self.five_point(*parts, 1.0)
        xc, yc = self.line_coefficients(parts)
        m = np.empty((self.config.nt, self.grid.size))
        m[0] = self.m0.ravel()
        rel, first = np.zeros(self.steps), 0
        while True:
            _kernels2d.fokker_planck_steps(
                xc, yc, data, self.neighbours, m, first, FP_RTOL, FP_RESTART, FP_MAXITER, self.grid.periodic, rel
            )
            stalled = np.flatnonzero(~(rel[first:] <= FP_ACCEPT))  # (or NaN)
            if not stalled.size:
                break
            n = first + stalled[0]
            m[n + 1] = self._lu_step(data[n], m[n])
            first = n + 1
        return np.maximum(m, 0.0).reshape(u.shape)

    def _lu_step(self, data: np.ndarray, b: np.ndarray) -> np.ndarray:
        """A^T x = b by a sparse LU (no pivoting: an M-matrix), for steps where GMRES stalls."""
        K = self.grid.size
        # CSR of A is CSC of A^T, the FP matrix
        AT = sp.csc_matrix((data.ravel(), self.neighbours.ravel(), np.arange(0, 5 * K + 1, 5)), shape=(K, K))
        return spla.splu(AT, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0).solve(b)

    def initial_guess(self) -> tuple[np.ndarray, np.ndarray]:
        """u = g(m0) at every time and m its FP density by the ADI steps: a cheap start for Newton."""
        nt = self.config.nt
        u = np.broadcast_to(self.terminal_cost(self.m0), (nt, *self.shape)).copy()
        xc, yc = self.line_coefficients(self.hjb_parts(self.terms(u[:-1])))
        m = np.empty_like(u)
        m[0] = self.m0
        scratch = np.empty(9 * self.grid.size)
        for n in range(nt - 1):
            _kernels2d.adi(xc, yc, n, m[n], m[n + 1], True, self.grid.periodic, scratch)
        return u, np.maximum(m, 0.0)

    def newton_operator(self, u, m, terms: AxisTerms):
        """Everything the Newton linear solve needs at (u, m) (rows scaled by dt); also picks
        the numba threads of this step's linear solve (``free_threads``)."""
        g, dt, N = self.grid, self.grid.dt, self.steps
        K = g.size
        self.threads(renew=True)
        parts = self.hjb_parts(terms)
        nxt = m[1:]
        bx = fokker_planck_derivative(g.gx, terms.x, nxt)
        by = fokker_planck_derivative(g.gy, terms.y, np.ascontiguousarray(g.along(1, nxt)))
        jac = self.coupling.jacobian(self._state(nxt, np.arange(N), terms))
        gjac = self.terminal.jacobian(self._state(m[-1][None], np.array([N])))
        return (
            parts,
            self.five_point(*parts, 1.0),
            dt * self.five_point(bx, by, 0.0),
            stack_jacobian(jac, dt, N, K),
            stack_jacobian(gjac, 1.0, 1, K),
        )

    def preconditioner(self, ops):
        """The decoupled sweep (HJB backward, FP forward) with ADI blocks, compiled:
        ``precondition(r, out=None)`` returns P^{-1} r (in ``out`` if given)."""
        parts, _, bdata, _, _ = ops
        xc, yc = self.line_coefficients(parts)

        def precondition(r, out=None):
            out = np.empty(r.size) if out is None else out
            r = np.ascontiguousarray(r, dtype=np.float64)
            _kernels2d.adi_preconditioner(xc, yc, bdata, self.neighbours, r, out, self.grid.periodic)
            return out

        return precondition

    def matvec(self, ops, v: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Newton's operator ``J v`` (rows scaled by dt), compiled; one parallel region over the steps."""
        _, hdata, bdata, (cdiag, CM, WM, CU, WU), (gdiag, gC, gW, _, _) = ops
        out = np.empty(v.size) if out is None else out
        v = np.ascontiguousarray(v, dtype=np.float64)
        with numba_threads(self.threads()):
            _kernels2d.newton_matvec(hdata, bdata, self.neighbours, cdiag, CM, WM, CU, WU, gdiag, gC, gW, v, out)
        return out

    def linear_solve(self, ops, rhs: np.ndarray, rtol: float) -> tuple[np.ndarray, int, None]:
        """Solve Newton's system ``J delta = rhs`` by GMRES right-preconditioned with ADI sweeps,
        on the threads that are free (the result does not depend on their number). Returns
        ``(delta, iterations, None)``: no residual estimate to trust (``checked_solve`` measures it)."""
        N, K = ops[1].shape[:2]
        precondition = self.preconditioner(ops)
        with numba_threads(self.threads()):
            delta, its, _ = _kernels2d.gmres(
                lambda v, out: self.matvec(ops, v, out),
                precondition,
                np.ascontiguousarray(rhs, dtype=np.float64),
                rtol,
                GMRES_RESTART,
                GMRES_MAXITER,
            )
        return delta, its, None


def _flatten_cost(value, name: str, shape: tuple[int, int, int]):
    """Arrays f of shape (nt, ny, nx) or (ny, nx) become (nt, K) or (K,) for the couplings,
    also inside ``RunningCost`` terms of a sum of couplings."""
    if isinstance(value, CouplingSum):
        return CouplingSum(tuple(_flatten_cost(t, name, shape) for t in value.terms))
    if isinstance(value, RunningCost) and not callable(value.f):
        return RunningCost(_flatten_cost(value.f, name, shape))
    if value is None or isinstance(value, Coupling) or callable(value):
        return value
    nt, ny, nx = shape
    arr = check_array(name, value)
    if arr.shape == (nt, ny, nx):
        return arr.reshape(nt, ny * nx)
    if arr.shape == (ny, nx):
        return arr.ravel()
    if arr.ndim == 0:
        return arr
    raise ValueError(
        f"{name} has shape {arr.shape} which is not allowed: expected (nt, ny, nx) = {shape}, (ny, nx) or a scalar"
    )


def _flatten_terminal(terminal, grid: Grid2D):
    """g(x, y) as an array (ny, nx) or a callable of (X, Y), or g(x, m) as a Coupling."""
    if callable(terminal) and not isinstance(terminal, Coupling):
        terminal = np.asarray(terminal(*grid.mesh()), dtype=np.float64)
    if terminal is None or isinstance(terminal, Coupling):
        return terminal
    return check_array("terminal", terminal, shape=grid.shape).ravel()
