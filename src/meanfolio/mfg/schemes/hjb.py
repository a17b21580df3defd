"""The discrete Hamilton-Jacobi-Bellman equation (implicit Euler, upwind).

For n = N-1, ..., 0 (N = nt - 1 implicit steps), with U^N = g:

    (U^n - U^{n+1}) / dt - nu Lap_h U^n + H_h(x, D- U^n, D+ U^n) = F^n      (1)

Rows are multiplied by dt inside the solvers so that every block reads
``I + dt (nu L + A)``, with ``L = -Lap_h`` and A the generator of the
discrete controlled jump process (see ``hamiltonians.upwind``).
"""

from __future__ import annotations

import numpy as np

from meanfolio._parallel import numba_threads
from meanfolio._validation import check_array

from ..grid import Grid1D
from ..hamiltonians import Hamiltonian, UpwindTerms, upwind
from . import _kernels, _march
from ._shapes import checked_shape

__all__ = ["diffusion_operator", "hjb_operator", "hjb_residual", "solve_hjb", "upwind_terms"]


def upwind_terms(
    grid: Grid1D, hamiltonian: Hamiltonian, u: np.ndarray, threads: int = 1, out: list[np.ndarray] | None = None
) -> UpwindTerms:
    """Upwind split Hamiltonian at every node of ``u`` (shape (..., nx)).

    Built-in Hamiltonians go through one compiled pass (rows split over ``threads``
    numba threads; ``out``: five arrays shaped like u to fill); custom ones through their
    vectorised methods (``hamiltonians.upwind``).
    """
    if hamiltonian.kernel is None:
        return upwind(hamiltonian, grid.x, grid.backward_difference(u), grid.forward_difference(u))
    kind, param = hamiltonian.kernel
    u2 = np.ascontiguousarray(u, dtype=np.float64).reshape(-1, u.shape[-1])
    out = [np.empty_like(u2) for _ in range(5)] if out is None else [o.reshape(u2.shape) for o in out]
    if threads > 1:
        with numba_threads(threads):
            _kernels.upwind_split_parallel(kind, float(param), u2, grid.dx, grid.periodic, *out)
    else:
        _kernels.upwind_split(kind, float(param), u2, grid.dx, grid.periodic, *out)
    return UpwindTerms(*(o.reshape(u.shape) for o in out))


def diffusion_operator(grid: Grid1D, viscosity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tridiagonal ``nu * L = -nu Lap_h`` as (lo, di, up), each (nx,)."""
    c = viscosity / grid.dx**2
    lo = np.full(grid.nx, -c)
    up = np.full(grid.nx, -c)
    if not grid.periodic:  # no flux: no neighbour beyond the ends
        lo[0] = 0.0
        up[-1] = 0.0
    return lo, -(lo + up), up


def hjb_operator(grid: Grid1D, viscosity: float, terms: UpwindTerms) -> tuple[np.ndarray, ...]:
    """``I + dt (nu L + A)`` per step as (lo, di, up), each (N, nx).

    Row i of A: ``-left_i/dx`` on u_{i-1}, ``(left_i - right_i)/dx`` on u_i,
    ``right_i/dx`` on u_{i+1}; rows sum to zero and off-diagonals are <= 0, so
    the block is an M-matrix and the scheme is monotone.
    """
    dlo, ddi, dup = diffusion_operator(grid, viscosity)
    s = grid.dt / grid.dx
    lo = grid.dt * dlo - s * terms.left
    up = grid.dt * dup + s * terms.right
    di = 1.0 + grid.dt * ddi + s * (terms.left - terms.right)
    return np.ascontiguousarray(lo), np.ascontiguousarray(di), np.ascontiguousarray(up)


def hjb_residual(grid: Grid1D, viscosity: float, terms: UpwindTerms, u: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Residual of (1) for u of shape (nt, nx) (u[-1] the terminal values), f (nt-1, nx).

    ``terms`` are the upwind terms of u[:-1]. Returns (nt - 1, nx), not scaled by dt.
    """
    return (u[:-1] - u[1:]) / grid.dt - viscosity * grid.laplacian(u[:-1]) + terms.value - f


def solve_hjb(
    grid: Grid1D,
    viscosity: float,
    hamiltonian: Hamiltonian,
    f: np.ndarray,
    terminal: np.ndarray,
    *,
    u_init: np.ndarray | None = None,
    tol: float = 1e-13,
    max_iterations: int = 100,
) -> tuple[np.ndarray, int]:
    r"""Solve the implicit upwind HJB equation (1) backward in time for a given running cost.

    .. math::
        \frac{U^n - U^{n+1}}{\Delta t} - \nu \Delta_h U^n + H_h(x, D^- U^n, D^+ U^n) = F^n,
        \quad n = N-1, \dots, 0, \qquad U^N = g,

    the monotone (Achdou-Capuzzo-Dolcetta) discretisation of
    :math:`-\partial_t u - \nu u_{xx} + H(x, u_x) = f`, :math:`u(T) = g`.

    Newton's method: its Jacobian is block upper-bidiagonal, so the steps
    decouple level by level. For the built-in Hamiltonians a compiled march
    solves each level by Newton from the level above while it is in cache;
    for the others (or should a level fail) Newton runs on all steps at once,
    each step one compiled backward sweep of tridiagonal solves. For
    :math:`H = s|p|` this is Howard's policy iteration (semismooth Newton)
    and ends in finitely many steps.

    Parameters
    ----------
    grid : Grid1D
        The space-time grid (``Grid1D.from_config``), nx points, nt levels.
    viscosity : float
        :math:`\nu \ge 0`.
    hamiltonian : Hamiltonian
        E.g. ``Quadratic()``, ``Linear(s)``, ``PowerLaw(q)``.
    f : ndarray, shape (nt-1, nx)
        Running cost :math:`F^n` at the implicit levels n = 0..nt-2.
    terminal : ndarray, shape (nx,)
        :math:`g`, broadcast if a scalar.
    u_init : ndarray, shape (nt, nx), optional
        Newton's starting point (default: the terminal value carried back).
    tol : float, default 1e-13
        Residual tolerance in max norm, relative to ``1 + max|u|``.
    max_iterations : int, default 100
        Newton steps per level (or for the all-levels solve).

    Returns
    -------
    u : ndarray, shape (nt, nx)
        ``u[-1] = terminal``.
    iterations : int
        The most Newton steps any level needed.

    Raises
    ------
    ValueError
        If ``f`` or ``terminal`` has the wrong shape or is not finite.
    RuntimeError
        If the residual does not fall below ``tol``.
    FloatingPointError
        If the residual becomes non-finite.

    Examples
    --------
    With :math:`H = p^2/2`, :math:`f = 0` and :math:`g = x^2/2` the exact solution is
    :math:`u(0, x) = \frac{x^2}{2(1 + T)} + \nu \ln(1 + T)` (0.1318 at x = 0.5, T = 1, nu = 0.1):

    >>> import numpy as np
    >>> from meanfolio.mfg import Grid1D, MFGConfig, Quadratic, solve_hjb
    >>> grid = Grid1D.from_config(MFGConfig(nx=201, nt=101, x_min=-2, x_max=2, viscosity=0.1))
    >>> u, iterations = solve_hjb(grid, 0.1, Quadratic(), np.zeros((100, 201)), 0.5 * grid.x**2)
    >>> round(float(u[0, 125]), 2), float(grid.x[125])   # first order: error ~ dt + dx
    (0.13, 0.5)
    """
    # shape checks without copying: the solvers call this on every Newton start
    f_flat = checked_shape("f", f, (grid.nt - 1, grid.nx))
    terminal = check_array("terminal", np.broadcast_to(np.asarray(terminal, dtype=np.float64), (grid.nx,)))
    if u_init is not None:
        checked_shape("u_init", u_init, (grid.nt, grid.nx))
    N = f_flat.shape[0]
    if hamiltonian.kernel is not None:
        kind, param = hamiltonian.kernel
        u = np.empty((N + 1, grid.nx))
        init = u if u_init is None else np.ascontiguousarray(u_init, dtype=np.float64)
        status, its = _march.hjb_march(
            kind, float(param), f_flat, terminal, init, u_init is not None, grid.dx, grid.dt, float(viscosity),
            grid.periodic, tol, max_iterations, u,
        )  # fmt: skip
        if status == 1:
            raise FloatingPointError("the HJB residual became non-finite; check the costs and dt")
        if status == 0:
            return u, int(its)
    return _solve_hjb_global(grid, viscosity, hamiltonian, f_flat, terminal, u_init, tol, max_iterations)


def _solve_hjb_global(grid, viscosity, hamiltonian, f_flat, terminal, u_init, tol, max_iterations):
    """``solve_hjb`` by Newton on all steps at once (each step one backward sweep)."""
    N = f_flat.shape[0]
    u = np.empty((N + 1, grid.nx))
    u[-1] = terminal
    u[:-1] = terminal if u_init is None else u_init[:-1]
    delta = np.empty((N, grid.nx))
    zero = np.zeros(grid.nx)
    for it in range(max_iterations + 1):
        terms = upwind_terms(grid, hamiltonian, u[:-1])
        res = np.empty((N, grid.nx))
        _kernels.mfg_residuals(
            u, u, terms.value, terms.left, terms.right, f_flat, grid.dx, grid.dt, float(viscosity), grid.periodic,
            res, res, False,
        )  # fmt: skip
        res *= grid.dt
        err = np.max(np.abs(res))
        if not np.isfinite(err):
            raise FloatingPointError("the HJB residual became non-finite; check the costs and dt")
        if err <= tol * (1.0 + np.max(np.abs(u))):
            return u, it
        lo, di, up = hjb_operator(grid, viscosity, terms)
        _kernels.backward_sweep(lo, di, up, np.ascontiguousarray(-res), zero, delta)
        u[:-1] += delta
    raise RuntimeError(f"solve_hjb did not converge in {max_iterations} Newton steps (residual {err:.3e})")
