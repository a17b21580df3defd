"""`MFGProblem`: a validated 1D mean-field game and its discrete residual.

Discrete unknowns (Achdou & Capuzzo-Dolcetta 2010): U^0..U^{N-1} and
M^1..M^N with N = nt - 1; U^N = g(x, M^N) and M^0 = m0 are not unknowns.
The HJB step n sees the cost F^n = f(x, M^{n+1}) (and, for couplings of
controls, the feedback of U^n).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meanfolio._parallel import numba_threads
from meanfolio._validation import check_array, check_density
from meanfolio._vector_kernels import vdot

from ..config import MFGConfig
from ..couplings import Coupling, CouplingState, as_coupling
from ..grid import Grid1D
from ..hamiltonians import Hamiltonian, Quadratic, UpwindTerms
from ..schemes import _kernels, _march
from ..schemes.fokker_planck import (
    solve_fokker_planck,
)
from ..schemes.hjb import solve_hjb, upwind_terms
from ..solvers import _gmres_lowrank, _newton_kernels
from ._base import ProblemBase
from ._coupling_arrays import lowrank_only, mean_drift_gradient, split_static, stack_jacobian, sum_values

__all__ = ["MFGProblem"]

#: GMRES settings of Newton's linear solves: restart length and iteration cap.
GMRES_RESTART = 40
GMRES_MAXITER = 400
#: relative HJB residual of the best response Newton starts from: a start needs no more (on
#: the LQ game, 1e-6 instead of 1e-13 leaves Newton's steps and iterations unchanged and
#: halves the time of the start's HJB solve)
START_TOL = 1e-6

@dataclass
class MFGProblem(ProblemBase):
    r"""The discrete 1D mean-field game: grid, Hamiltonian, running coupling f, terminal cost g and m0.

    The unknowns are :math:`U, M` of shape (nt, nx); the residual :math:`R(U, M)` stacks the
    upwind HJB equations (1) (:func:`~meanfolio.mfg.solve_hjb`) at levels 0..N-1 with the
    costs :math:`F^n = f(x, M^n)` and the Fokker-Planck equations (2)
    (:func:`~meanfolio.mfg.solve_fokker_planck`) at levels 1..N, the FP block being the
    transpose of the linearised HJB block. :func:`~meanfolio.mfg.solve_mfg` builds one and
    drives :math:`R` to zero; use it directly to evaluate residuals, best responses or the
    Newton operator of a candidate pair.

    Build it with :meth:`create`, which validates every input.

    Parameters
    ----------
    config : MFGConfig
        Grid and solver settings (``config.dim == 1``).
    m0 : array_like, shape (nx,)
        Initial density, rescaled to unit mass.
    coupling : Coupling, array or callable, optional
        Running cost f, as in :func:`~meanfolio.mfg.solve_mfg`.
    terminal : Coupling, array or callable, optional
        Terminal cost g (default 0).
    hamiltonian : Hamiltonian, default Quadratic()

    Examples
    --------
    >>> from meanfolio.mfg import MFGProblem, solve_mfg
    >>> from meanfolio.mfg.examples import lq_example
    >>> game = lq_example(200, 100)
    >>> problem = MFGProblem.create(game["config"], game["m0"], game["f"], terminal=game["terminal"])
    >>> u, m = problem.initial_guess()          # best response to the frozen population m(t) = m0
    >>> round(problem.residual_norm(u, m), 2)
    1.29
    >>> sol = solve_mfg(**game)
    >>> bool(problem.residual_norm(sol.u, sol.m) < 1e-9)
    True
    """

    config: MFGConfig
    grid: Grid1D
    hamiltonian: Hamiltonian
    coupling: Coupling
    terminal: Coupling
    m0: np.ndarray
    m0_mass: float
    #: (coupling, shape, value) of the coupling's terms that depend neither on m nor on controls
    _static_cost: tuple | None = field(default=None, init=False, repr=False, compare=False)
    #: (terms, arrays) of Newton's start: its FP's Thomas factors, for the first Newton operator
    _factored: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        config: MFGConfig,
        m0,
        coupling=None,
        *,
        terminal=None,
        hamiltonian: Hamiltonian | None = None,
    ) -> MFGProblem:
        if not isinstance(config, MFGConfig):
            raise ValueError(f"config = {type(config).__name__} is not allowed: expected an MFGConfig")
        grid = Grid1D.from_config(config)
        hamiltonian = Quadratic() if hamiltonian is None else hamiltonian
        if not isinstance(hamiltonian, Hamiltonian):
            raise ValueError(f"hamiltonian = {hamiltonian!r} is not allowed: expected a Hamiltonian")
        m0, mass = check_density("m0", m0, size=config.nx, cell=grid.dx)
        coupling = as_coupling(coupling, "f")
        coupling.validate(config.nt, config.nx)
        terminal = _as_terminal(terminal, grid)
        terminal.validate(config.nt, config.nx)
        return cls(config, grid, hamiltonian, coupling, terminal, m0, mass)

    # -- pieces --------------------------------------------------------------
    @property
    def steps(self) -> int:
        return self.config.nt - 1

    def terms(self, u: np.ndarray) -> UpwindTerms:
        """Upwind terms of U^0..U^{N-1} (u of shape (nt, nx))."""
        out = [self._spare(u[:-1].shape) for _ in range(5)]
        return upwind_terms(self.grid, self.hamiltonian, u[:-1], self.threads(), out)

    @property
    def parallel_work(self) -> int:
        return self.steps * self.config.nx

    def _state(self, m_next: np.ndarray, terms: UpwindTerms | None) -> CouplingState:
        N = m_next.shape[0]
        steps = np.arange(N)
        state = CouplingState(self.grid.x, self.grid.dx, self.grid.t[steps], steps, m_next)
        if self.coupling.uses_control and terms is not None:
            state.drift = terms.drift
            state.drift_mean_gradient = mean_drift_gradient(terms, m_next)
        return state

    def _terminal_state(self, m_T: np.ndarray) -> CouplingState:
        steps = np.array([self.config.nt - 1])
        return CouplingState(self.grid.x, self.grid.dx, self.grid.t[steps], steps, m_T[None, :])

    def running_cost(self, u: np.ndarray, m: np.ndarray, terms: UpwindTerms | None = None) -> np.ndarray:
        """F^n = f(x, M^{n+1}) for n < N, shape (N, nx)."""
        if terms is None and self.coupling.uses_control:
            terms = self.terms(u)
        state = self._state(m[1:], terms)
        static, dynamic = split_static(self.coupling)
        if not static or not dynamic:
            return self.coupling.value(state)
        # f(t, x) terms are evaluated once per problem (the sum's order otherwise kept)
        cached = self._static_cost
        if cached is None or cached[0] is not self.coupling or cached[1] != state.m.shape:
            cached = (self.coupling, state.m.shape, sum_values(static, state, 0))
            self._static_cost = cached
        out = self._spare(state.m.shape)
        np.copyto(out, cached[2])
        for t in dynamic:  # (in place: no new array per term)
            t.add_value(state, out)
        return out

    def terminal_cost(self, m_T: np.ndarray) -> np.ndarray:
        """g(x, M^N), shape (nx,)."""
        return self.terminal.value(self._terminal_state(m_T))[0]

    def mass(self, m: np.ndarray) -> np.ndarray:
        return self.grid.mass(m)

    def fokker_planck(self, u: np.ndarray, terms: UpwindTerms | None = None, keep: bool = False) -> np.ndarray:
        """The exact discrete FP density (nt, nx) of the controls of u (``terms``: those of u[:-1],
        if known): the Thomas factors of every level made first, on the free cores, then the
        march (:func:`~meanfolio.mfg.solve_fokker_planck`'s numbers: the same factorisation, level
        groups and solves). With ``keep``, the factors stay for the Newton operator at the same
        point (:meth:`newton_operator`). Periodic grids: the plain march."""
        terms = self.terms(u) if terms is None else terms
        if self.grid.periodic:
            return solve_fokker_planck(self.grid, self.config.viscosity, terms, self.m0)
        arrays = self._spare((6, self.steps, self.config.nx))
        g, nu = self.grid, float(self.config.viscosity)
        left, right = (np.ascontiguousarray(a, dtype=np.float64) for a in (terms.left, terms.right))
        with numba_threads(self.threads()):
            _march.newton_arrays(left, right, left, right, left, g.dx, g.dt, nu, False, arrays, True, False)
        m = np.empty((self.config.nt, self.config.nx))
        _march.fp_march_factored(arrays, self.m0, m)
        if keep:
            self._factored = (terms, arrays)
        return m

    def controls(self, u: np.ndarray) -> np.ndarray:
        """alpha* of the scheme at every level of u, shape (nt, nx)."""
        return upwind_terms(self.grid, self.hamiltonian, u).drift

    def frozen_start(self) -> tuple[np.ndarray, np.ndarray]:
        """u = g(m0) and m = m0 at every time: where the iterative methods start."""
        m = np.broadcast_to(self.m0, (self.config.nt, self.config.nx)).copy()
        u = np.broadcast_to(self.terminal_cost(self.m0), m.shape).copy()
        return u, m

    def best_response(self, u: np.ndarray, m: np.ndarray, tol: float = 1e-13) -> np.ndarray:
        """The best response: the HJB solution for the costs of (u, m), started from u, to the
        relative residual ``tol`` of :func:`~meanfolio.mfg.solve_hjb` (default: exact to rounding)."""
        f = self.running_cost(u, m)
        g = self.terminal_cost(m[-1])
        u, _ = solve_hjb(self.grid, self.config.viscosity, self.hamiltonian, f, g, u_init=u, tol=tol)
        return u

    def initial_guess(self) -> tuple[np.ndarray, np.ndarray]:
        """One best-response sweep (to START_TOL) from the frozen population m(t) = m0 (Newton's start)."""
        return self.initial_point()[:2]

    def initial_point(self) -> tuple[np.ndarray, np.ndarray, UpwindTerms]:
        """:meth:`initial_guess` and the upwind terms of its u[:-1] (Newton evaluates it next)."""
        u, m = self.frozen_start()
        u = self.best_response(u, m, tol=START_TOL)
        terms = self.terms(u)
        return u, self.fokker_planck(u, terms, keep=True), terms

    def finish(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """:meth:`ProblemBase.finish`, the upwind terms of u[:-1] made once for all three."""
        head = self.terms(u)
        m = self.fokker_planck(u, head)
        u[-1] = self.terminal_cost(m[-1])
        last = upwind_terms(self.grid, self.hamiltonian, u[-1:])
        rh, rf, _ = self.residual_and_terms(u, m, head)
        alpha = np.empty(u.shape)  # (the drift -(left + right) of every level, in place: no temporaries)
        np.add(head.left, head.right, out=alpha[:-1])
        np.negative(alpha[:-1], out=alpha[:-1])
        alpha[-1] = last.drift[0]
        return u, m, alpha, max(self.norm(rh), self.norm(rf))

    def linear_solve(self, ops: tuple, rhs: np.ndarray, rtol: float) -> tuple[np.ndarray, int, float | None]:
        """Newton's system by the compiled right-preconditioned GMRES: ``(delta, iterations, estimate)``.

        With mean-field couplings only (no local term: ``_coupling_arrays.lowrank_only``) GMRES runs on the N K
        moments of the coupling (``_gmres_lowrank``); otherwise on the HJB rows (``_gmres1d``).

        ``estimate`` is a bound on the relative residual that ``checked_solve`` may take instead
        of a product by J, or None: GMRES's Givens estimate (the FP rows are solved exactly by the
        sweeps, so the reduced system's residual is the full one) plus the rounding floor of its
        products (``_newton_kernels.rounding_floor``), given only when that sum meets ``rtol``.
        With a strong coupling (|J| >> 1) the floor exceeds the estimate and the true residual is
        measured (tested against |b - J x| / |b|). A right-hand side whose squared norm would
        under- or overflow is refused by the kernels (estimate None; ``checked_solve`` scales
        it first). The scratch comes from the spare pool: fresh memory costs a page fault per
        4 KiB touched."""
        N, nx = self.steps, self.config.nx
        delta = self._spare((2 * N * nx,))  # (written in full by the kernels)
        rhs = np.ascontiguousarray(rhs, dtype=np.float64)
        its = -1
        if lowrank_only(ops):  # mean-field couplings only: GMRES on the moments
            rows = tuple(self._spare((N, nx)).reshape(-1) for _ in range(_gmres_lowrank.ROWS))
            its, rel, floor = _gmres_lowrank.gmres_lowrank(
                ops, rhs, rtol, GMRES_RESTART, GMRES_MAXITER, delta, rows
            )
            rows = None
        if its < 0:
            work = self._spare((_newton_kernels.gmres_rows(GMRES_RESTART), N * nx))
            its, rel, floor = _newton_kernels.gmres_into(ops, rhs, rtol, GMRES_RESTART, GMRES_MAXITER, delta, work)
        bound = rel + floor
        return delta, int(its), (float(bound) if bound <= rtol else None)

    # -- residual ------------------------------------------------------------
    def residual(self, u: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals of the discrete HJB and FP equations, each (N, nx), unscaled.

        ``u[-1]`` is replaced by g(x, m[-1]) first, so only the unknowns count.
        """
        rh, rf, _ = self.residual_and_terms(u, m)
        return rh, rf

    def residual_and_terms(
        self, u: np.ndarray, m: np.ndarray, terms: UpwindTerms | None = None
    ) -> tuple[np.ndarray, np.ndarray, UpwindTerms]:
        """:meth:`residual` and the upwind terms of u, to reuse in :meth:`newton_operator`
        (``terms``: those of u[:-1], when the caller has them)."""
        g_T = self.terminal_cost(m[-1])
        if not np.array_equal(u[-1], g_T):  # (no copy when u already ends with g)
            u = u.copy()
            u[-1] = g_T
        g, nu = self.grid, float(self.config.viscosity)
        both = self._spare((2, self.steps, self.config.nx))  # (Newton's right-hand side, no copy)
        rh, rf = both[0], both[1]
        fused = terms is None and self.hamiltonian.kernel is not None and not self.coupling.uses_control
        if fused:  # f needs only m: the terms and the residuals in one pass over the levels
            f = np.ascontiguousarray(self.running_cost(u, m), dtype=np.float64)
            out = [self._spare(f.shape) for _ in range(5)]
            kind, param = self.hamiltonian.kernel
            u, m = (np.ascontiguousarray(a, dtype=np.float64) for a in (u, m))
            with numba_threads(self.threads()):
                _kernels.terms_and_residuals_parallel(
                    kind, float(param), u, m, f, g.dx, g.dt, nu, g.periodic, *out, rh, rf
                )
            return rh, rf, UpwindTerms(*out)
        terms = self.terms(u) if terms is None else terms
        f = self.running_cost(u, m, terms)
        arrays = (np.ascontiguousarray(a, dtype=np.float64) for a in (u, m, terms.value, terms.left, terms.right, f))
        with numba_threads(self.threads()):
            _kernels.mfg_residuals_parallel(*arrays, g.dx, g.dt, nu, g.periodic, rh, rf)
        return rh, rf, terms

    def norm(self, r: np.ndarray) -> float:
        """Discrete L2(0, T; L2) norm ``sqrt(dt dx sum r^2)``."""
        flat = np.ascontiguousarray(r, dtype=np.float64).reshape(-1)
        return float(np.sqrt(self.grid.dt * self.grid.dx * vdot(flat, flat)))

    def residual_norm(self, u: np.ndarray, m: np.ndarray) -> float:
        """The stopping test's scaled residual: the larger of the two equations' norms."""
        rh, rf = self.residual(u, m)
        return max(self.norm(rh), self.norm(rf))

    # -- Newton --------------------------------------------------------------
    def newton_operator(self, u: np.ndarray, m: np.ndarray, terms: UpwindTerms | None = None) -> tuple[np.ndarray, ...]:
        """Jacobian of the dt-scaled residual at (u, m) as the tuple the kernels read
        (``_newton_kernels``: the Thomas factors of the HJB blocks, which the FP blocks share as
        their transposes, the upwind terms, and the packed couplings)."""
        grid, nu, dt = self.grid, float(self.config.viscosity), self.grid.dt
        terms = self.terms(u) if terms is None else terms
        left, right, dleft, dright, m_next = (
            np.ascontiguousarray(a, dtype=np.float64) for a in (*terms_arrays(terms), m[1:])
        )
        cached, self._factored = self._factored, None
        known = cached is not None and cached[0] is terms  # Newton's start: factored by initial_point
        arrays = cached[1] if known else self._spare((6, *left.shape))
        with numba_threads(self.threads(renew=True)):
            _march.newton_arrays(
                left, right, dleft, dright, m_next, grid.dx, dt, nu, grid.periodic, arrays, not known, True
            )
        static, dynamic = split_static(self.coupling)
        state = self._state(m[1:], terms)
        if static and dynamic:  # terms without m or controls have no derivative: skipped
            jac = dynamic[0].jacobian(state)
            for t in dynamic[1:]:
                jac = jac + t.jacobian(state)
        else:
            jac = self.coupling.jacobian(state)
        # no local term (e.g. MeanTracking): cdiag (N, 0), which the kernels skip
        cdiag, CM, WM, CU, WU = stack_jacobian(
            jac, dt, self.steps, grid.nx, local_or_empty=True, shared_rows=True, spare=self._spare
        )
        gjac = self.terminal.jacobian(self._terminal_state(m[-1]))
        gdiag, gC, gW, _, _ = stack_jacobian(gjac, 1.0, 1, grid.nx)
        scal = np.array([grid.dx, dt, nu, float(grid.periodic)])
        a, c, ib, e, P, Q = arrays
        if grid.periodic:  # no factors: the sweeps solve each cyclic block as they pass
            a = c = ib = e = np.empty((0, 0))
        return (a, c, ib, e, left, right, P, Q, cdiag, CM, WM, CU, WU, gdiag[0], gC[0], gW[0], scal)


def terms_arrays(terms: UpwindTerms) -> tuple[np.ndarray, ...]:
    """(left, right, dleft, dright) of the upwind terms, for the compiled kernels."""
    return terms.left, terms.right, terms.dleft, terms.dright


def _as_terminal(terminal, grid: Grid1D) -> Coupling:
    """g(x) as an array (nx,) or a callable of x, or g(x, m) as a Coupling."""
    if callable(terminal) and not isinstance(terminal, Coupling):
        terminal = np.asarray(terminal(grid.x), dtype=np.float64)
    if terminal is not None and not isinstance(terminal, Coupling):
        terminal = check_array("terminal", terminal, shape=(grid.nx,))
    terminal = as_coupling(terminal, "terminal")
    if terminal.uses_control:
        raise ValueError("terminal is not allowed to depend on controls: expected g(x) or g(x, m)")
    return terminal
