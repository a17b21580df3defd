"""The discrete Fokker-Planck equation: the transpose of the linearised HJB.

For n = 0, ..., N-1, with M^0 = m0:

    (M^{n+1} - M^n) / dt - nu Lap_h M^{n+1} + A(U^n)^T M^{n+1} = 0          (2)

A(U^n) is the generator of the discrete controlled process (``hjb_operator``).
Its rows sum to zero, so the columns of ``I + dt (nu L + A^T)`` sum to one:
``sum(M^{n+1}) = sum(M^n)`` exactly, and since the block is an M-matrix,
M^{n+1} >= 0 whenever M^n >= 0. No renormalisation is ever applied.
"""

from __future__ import annotations

import numpy as np

from ..grid import Grid1D
from ..hamiltonians import UpwindTerms
from . import _kernels, _march
from ._shapes import checked_shape
from .hjb import diffusion_operator

__all__ = [
    "fokker_planck_derivative",
    "fokker_planck_operator",
    "fokker_planck_residual",
    "fokker_planck_step",
    "solve_fokker_planck",
    "transport",
]


def fokker_planck_operator(grid: Grid1D, viscosity: float, terms: UpwindTerms) -> tuple[np.ndarray, ...]:
    """``I + dt (nu L + A^T)`` per step as (lo, di, up), each (N, nx)."""
    dlo, ddi, dup = diffusion_operator(grid, viscosity)
    s = grid.dt / grid.dx
    # Transpose of A: A^T[i, i-1] = A[i-1, i] = right_{i-1}/dx, A^T[i, i+1] = A[i+1, i] = -left_{i+1}/dx.
    lo = grid.dt * dlo + s * np.roll(terms.right, 1, axis=-1)
    up = grid.dt * dup - s * np.roll(terms.left, -1, axis=-1)
    di = 1.0 + grid.dt * ddi + s * (terms.left - terms.right)
    return np.ascontiguousarray(lo), np.ascontiguousarray(di), np.ascontiguousarray(up)


def transport(grid: Grid1D, terms: UpwindTerms, m: np.ndarray) -> np.ndarray:
    """``A^T m`` in flux form: (phi_i - phi_{i+1} - psi_i + psi_{i-1}) / dx.

    phi = left * m is the mass leaving node i to the left, psi = right * m
    (<= 0) the mass leaving to the right. In the no-flux box left_0 = 0 and
    right_{nx-1} = 0, so the circular shifts bring in zeros at the ends.
    """
    phi = terms.left * m
    psi = terms.right * m
    return (phi - np.roll(phi, -1, axis=-1) - psi + np.roll(psi, 1, axis=-1)) / grid.dx


def fokker_planck_residual(grid: Grid1D, viscosity: float, terms: UpwindTerms, m: np.ndarray) -> np.ndarray:
    """Residual of (2) for m of shape (nt, nx); ``terms`` from U^0..U^{N-1}. Shape (nt-1, nx)."""
    nxt = m[1:]
    return (nxt - m[:-1]) / grid.dt - viscosity * grid.laplacian(nxt) + transport(grid, terms, nxt)


def fokker_planck_derivative(grid: Grid1D, terms: UpwindTerms, m_next: np.ndarray) -> tuple[np.ndarray, ...]:
    """Derivative of ``A(U)^T M`` with respect to U (tridiagonal, (lo, di, up) each (N, nx)).

    With P = dleft * M / dx and Q = dright * M / dx, row i of the derivative
    times dx reads ``-P_i - Q_{i-1}`` on U_{i-1}, ``P_i + P_{i+1} + Q_i +
    Q_{i-1}`` on U_i and ``-P_{i+1} - Q_i`` on U_{i+1}.
    """
    P = terms.dleft * m_next / grid.dx
    Q = terms.dright * m_next / grid.dx
    P_next = np.roll(P, -1, axis=-1)
    Q_prev = np.roll(Q, 1, axis=-1)
    lo = (-P - Q_prev) / grid.dx
    di = (P + P_next + Q + Q_prev) / grid.dx
    up = (-P_next - Q) / grid.dx
    return np.ascontiguousarray(lo), np.ascontiguousarray(di), np.ascontiguousarray(up)


def solve_fokker_planck(grid: Grid1D, viscosity: float, terms: UpwindTerms, m0: np.ndarray) -> np.ndarray:
    r"""Solve the implicit Fokker-Planck equation (2) forward from ``m0`` for given controls.

    .. math::
        \frac{M^{n+1} - M^n}{\Delta t} - \nu \Delta_h M^{n+1} + A(U^n)^\top M^{n+1} = 0,
        \quad n = 0, \dots, N-1, \qquad M^0 = m_0,

    the adjoint of the linearised upwind HJB, i.e. the discretisation of
    :math:`\partial_t m - \nu m_{xx} - (m H_p(x, u_x))_x = 0`. Each block is an
    M-matrix whose columns sum to one, so mass is conserved exactly and
    :math:`M^{n+1} \ge 0` whenever :math:`M^n \ge 0` (no renormalisation).
    Compiled level by level: each block is formed and solved while it is in cache.

    Parameters
    ----------
    grid : Grid1D
        The space-time grid, nx points.
    viscosity : float
        :math:`\nu \ge 0`.
    terms : UpwindTerms
        The split Hamiltonian of :math:`U^0, \dots, U^{N-1}` (``hjb.upwind_terms(grid, H, u[:-1])``),
        arrays of shape (N, nx).
    m0 : ndarray, shape (nx,)
        Initial density (values per unit length; mass ``dx * m0.sum()``).

    Returns
    -------
    m : ndarray, shape (N + 1, nx)
        ``m[0] = m0``; ``dx * m[n].sum()`` equals ``dx * m0.sum()`` to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Grid1D, MFGConfig, Quadratic, solve_fokker_planck, solve_hjb
    >>> from meanfolio.mfg.schemes.hjb import upwind_terms
    >>> grid = Grid1D.from_config(MFGConfig(nx=201, nt=101, x_min=-2, x_max=2, viscosity=0.1))
    >>> u, _ = solve_hjb(grid, 0.1, Quadratic(), np.zeros((100, 201)), 0.5 * grid.x**2)
    >>> m0 = np.exp(-((grid.x - 1) ** 2) / 0.1)
    >>> m0 /= grid.dx * m0.sum()
    >>> m = solve_fokker_planck(grid, 0.1, upwind_terms(grid, Quadratic(), u[:-1]), m0)
    >>> bool(np.abs(grid.dx * m.sum(axis=1) - 1).max() < 1e-13), bool(m.min() >= 0)
    (True, True)
    >>> mean = grid.dx * (m * grid.x).sum(axis=1)   # the feedback -x/(1 + T - t) pulls it to 0: 1 -> 1/2
    >>> round(float(mean[-1]), 1)
    0.5
    """
    left, right = (np.ascontiguousarray(a, dtype=np.float64) for a in (terms.left, terms.right))
    if left.ndim != 2 or left.shape[1] != grid.nx or right.shape != left.shape:
        raise ValueError(f"terms have shape {left.shape} which is not allowed: expected (N, nx = {grid.nx})")
    N = left.shape[0]
    m = np.empty((N + 1, grid.nx))
    m0 = checked_shape("m0", m0, (grid.nx,))
    _march.fp_march(left, right, m0, grid.dx, grid.dt, float(viscosity), grid.periodic, m)
    return m


def fokker_planck_step(grid: Grid1D, viscosity: float, terms: UpwindTerms, m: np.ndarray) -> np.ndarray:
    r"""One implicit step of the Fokker-Planck equation (2): :math:`M^{n+1}` from :math:`M^n`.

    .. math::
        \bigl(I + \Delta t\,(\nu L_h + A(U^n)^\top)\bigr) M^{n+1} = M^n,
        \qquad L_h = -\Delta_h,

    one tridiagonal solve; mass is conserved exactly and positivity kept.

    Parameters
    ----------
    grid : Grid1D
        The space-time grid (its ``dt`` is the step).
    viscosity : float
        :math:`\nu \ge 0`.
    terms : UpwindTerms
        The split Hamiltonian of one time level, arrays of shape (nx,).
    m : ndarray, shape (nx,)
        :math:`M^n`.

    Returns
    -------
    ndarray, shape (nx,)
        :math:`M^{n+1}`.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Grid1D, MFGConfig, Quadratic, fokker_planck_step
    >>> from meanfolio.mfg.schemes.hjb import upwind_terms
    >>> grid = Grid1D.from_config(MFGConfig(nx=101, nt=11, x_min=-2, x_max=2, viscosity=0.2))
    >>> terms = upwind_terms(grid, Quadratic(), 0.5 * grid.x**2)   # drift -x towards 0
    >>> m = fokker_planck_step(grid, 0.2, terms, np.exp(-grid.x**2))
    >>> bool(np.isclose(m.sum(), np.exp(-grid.x**2).sum(), rtol=1e-14))
    True
    """
    m = checked_shape("m", m, (grid.nx,))
    lo, di, up = (a[None] for a in fokker_planck_operator(grid, viscosity, terms))
    out = np.empty((1, grid.nx))
    _kernels.forward_sweep(lo, di, up, np.zeros((1, grid.nx)), np.ascontiguousarray(m), out)
    return out[0]
