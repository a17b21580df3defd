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
    """Solve (2) forward from m0 given the controls of U^0..U^{N-1}; returns (nt, nx).

    Compiled level by level (``_march.fp_march``): each block of
    :func:`fokker_planck_operator` is formed and solved while it is in cache.
    """
    left, right = (np.ascontiguousarray(a, dtype=np.float64) for a in (terms.left, terms.right))
    N = left.shape[0]
    m = np.empty((N + 1, grid.nx))
    m0 = np.ascontiguousarray(m0, dtype=np.float64)
    _march.fp_march(left, right, m0, grid.dx, grid.dt, float(viscosity), grid.periodic, m)
    return m


def fokker_planck_step(grid: Grid1D, viscosity: float, terms: UpwindTerms, m: np.ndarray) -> np.ndarray:
    """One implicit step of (2): M^{n+1} from M^n = ``m`` (nx,) and the controls of
    one time level (``terms`` with arrays of shape (nx,))."""
    lo, di, up = (a[None] for a in fokker_planck_operator(grid, viscosity, terms))
    out = np.empty((1, grid.nx))
    _kernels.forward_sweep(lo, di, up, np.zeros((1, grid.nx)), np.ascontiguousarray(m), out)
    return out[0]
