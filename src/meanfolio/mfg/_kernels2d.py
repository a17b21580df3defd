"""Compiled kernels of the 2D solver: 5-point products and the ADI preconditioner.

A 5-point operator per implicit step is stored as ``data`` (N, K, 5) with
the column indices ``cols`` (K, 5) of [self, x-left, x-right, y-down, y-up]
(see ``problem2d._neighbours``), K = ny * nx nodes.

The same operator split per axis is kept as tridiagonal coefficients along
lines: x parts (lo, di, up) of shape (N, ny, nx), y parts of shape
(N, nx, ny) (y last), each with the identity on its diagonal, so that

    I + dt (nu L + A) = Tx + Ty - I  ~  Tx Ty     (ADI / approximate factorisation)

The preconditioner inverts Tx Ty with tridiagonal line solves: O(K) per step
and parallel over lines, instead of a sparse LU per step.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import solve_tridiagonal


@njit(cache=True, parallel=True)
def five_point_matvec(data, cols, v, out):
    """out[n] = A_n v[n] for every step n; v, out (N, K)."""
    N, K, _ = data.shape
    for n in prange(N):
        for k in range(K):
            s = 0.0
            for j in range(5):
                s += data[n, k, j] * v[n, cols[k, j]]
            out[n, k] = s


@njit(cache=True, parallel=True)
def five_point_rmatvec(data, cols, v, out):
    """out[n] = A_n^T v[n] for every step n (the FP operator of the HJB one)."""
    N, K, _ = data.shape
    for n in prange(N):
        for k in range(K):
            out[n, k] = 0.0
        for k in range(K):
            for j in range(5):
                out[n, cols[k, j]] += data[n, k, j] * v[n, k]


@njit(cache=True, parallel=True)
def _solve_lines(lo, di, up, rhs, out, transpose):
    """Solve the tridiagonal system of each line l (rows of the (L, n) arrays)."""
    L, n = di.shape
    for line in prange(L):
        scratch = np.empty(3 * n)
        if transpose:  # (T^T)[i, i-1] = T[i-1, i], (T^T)[i, i+1] = T[i+1, i], cyclic
            lo2 = np.empty(n)
            up2 = np.empty(n)
            for i in range(n):
                lo2[i] = up[line, (i - 1) % n]
                up2[i] = lo[line, (i + 1) % n]
            solve_tridiagonal(lo2, di[line], up2, rhs[line], out[line], scratch)
        else:
            solve_tridiagonal(lo[line], di[line], up[line], rhs[line], out[line], scratch)


@njit(cache=True)
def adi_solve(xl, xd, xu, yl, yd, yu, rhs, transpose):
    """(Tx Ty)^{-1} rhs, or (Tx Ty)^{-T} rhs; coefficients of one step, rhs (ny, nx)."""
    ny, nx = rhs.shape
    tmp = np.empty((ny, nx))
    out_t = np.empty((nx, ny))
    if not transpose:
        _solve_lines(xl, xd, xu, rhs, tmp, False)
        _solve_lines(yl, yd, yu, np.ascontiguousarray(tmp.T), out_t, False)
        return np.ascontiguousarray(out_t.T)
    _solve_lines(yl, yd, yu, np.ascontiguousarray(rhs.T), out_t, True)
    _solve_lines(xl, xd, xu, np.ascontiguousarray(out_t.T), tmp, True)
    return tmp


@njit(cache=True)
def adi_preconditioner(xl, xd, xu, yl, yd, yu, bdata, cols, rU, rM, zU, zM):
    """Decoupled sweep with ADI blocks: HJB backward, then FP forward with the B dU term.

    rU, rM, zU, zM have shape (N, ny, nx); B is 5-point (bdata).
    """
    N, ny, nx = rU.shape
    nxt = np.zeros((ny, nx))
    for n in range(N - 1, -1, -1):
        zU[n] = adi_solve(xl[n], xd[n], xu[n], yl[n], yd[n], yu[n], rU[n] + nxt, False)
        nxt = zU[n]
    bz = np.empty((N, ny * nx))
    five_point_matvec(bdata, cols, zU.reshape(N, ny * nx), bz)
    prev = np.zeros((ny, nx))
    for n in range(N):
        zM[n] = adi_solve(xl[n], xd[n], xu[n], yl[n], yd[n], yu[n], rM[n] - bz[n].reshape(ny, nx) + prev, True)
        prev = zM[n]
