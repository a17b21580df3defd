"""Compiled kernels of the 2D solver: 5-point products, ADI line solves, GMRES pieces.

A 5-point operator per implicit step is stored as ``data`` (N, K, 5) with
the column indices ``cols`` (K, 5) of [self, x-left, x-right, y-down, y-up]
(see ``problem2d._neighbours``), K = ny * nx nodes.

The same operator split per axis is kept as tridiagonal coefficients along
lines, each part with the identity on its diagonal, so that

    I + dt (nu L + A) = Tx + Ty - I  ~  Tx Ty     (ADI / approximate factorisation)

The preconditioner inverts Tx Ty with tridiagonal line solves: O(K) per step.
For the solves the coefficients are stacked as ``xc`` (3, N, nx, ny) (x
first) and ``yc`` (3, N, ny, nx) (y first): every line solve then runs along
axis 0, vectorised over the lines (the contiguous axis) instead of one
latency-bound recursion per line.

Threads. Parallel regions are few and large: one ``prange`` over the N steps
per Newton product, one over fixed blocks of a long vector per Arnoldi pass.
The time sweeps of the preconditioner are sequential (each step needs the
previous one) and run on one thread: about 4 N tiny parallel loops per call
were what made a loaded machine 10 times slower. No sum depends on how the
work is split, so the results are bitwise the same on 1 or many threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from meanfolio._parallel import BLOCK, block_count

from ..solvers._newton_kernels import _lowrank_sub, givens_column, solve_triangular


@njit(cache=True)
def solve_lines(lo, di, up, rhs, out, work, transpose, cyclic):
    """Solve along axis 0 of the (n, L) arrays: T_l x = rhs[:, l] (or T_l^T x) for every column l.

    Row i of T_l reads ``lo[i, l] x[i-1] + di[i, l] x[i] + up[i, l] x[i+1]``;
    with ``cyclic`` the corners lo[0] and up[n-1] wrap around and the system
    is solved by Sherman-Morrison (Numerical Recipes 2.7, gamma = -di[0]).
    Plain elimination: every T is a diagonally dominant M-matrix (by rows or
    by columns). ``work`` is (3, n, L) scratch.
    """
    n, L = di.shape
    c, inv, z = work[0], work[1], work[2]
    for l in range(L):
        inv[0, l] = 1.0 / (2.0 * di[0, l] if cyclic else di[0, l])
        out[0, l] = rhs[0, l] * inv[0, l]
        z[0, l] = -di[0, l] * inv[0, l]
    for i in range(1, n):
        a = up[i - 1] if transpose else lo[i]  # T[i, i-1]
        b = lo[i] if transpose else up[i - 1]  # T[i-1, i]
        last = cyclic and i == n - 1
        for l in range(L):
            ci = b[l] * inv[i - 1, l]
            c[i, l] = ci
            d = di[i, l] - a[l] * ci
            u = 0.0
            if last:  # T' = T - u v^T: u = (gamma, 0.., bl), v = (1, 0.., tr / gamma)
                tr = up[n - 1, l] if transpose else lo[0, l]
                u = lo[0, l] if transpose else up[n - 1, l]
                d += u * tr / di[0, l]
            inv[i, l] = 1.0 / d
            out[i, l] = (rhs[i, l] - a[l] * out[i - 1, l]) * inv[i, l]
            if cyclic:
                z[i, l] = (u - a[l] * z[i - 1, l]) * inv[i, l]
    for i in range(n - 2, -1, -1):
        for l in range(L):
            out[i, l] -= c[i + 1, l] * out[i + 1, l]
            if cyclic:
                z[i, l] -= c[i + 1, l] * z[i + 1, l]
    if cyclic:
        fact = c[0]
        for l in range(L):
            s = (up[n - 1, l] if transpose else lo[0, l]) / -di[0, l]  # tr / gamma
            fact[l] = (out[0, l] + s * out[n - 1, l]) / (1.0 + z[0, l] + s * z[n - 1, l])
        for i in range(n):
            for l in range(L):
                out[i, l] -= fact[l] * z[i, l]


@njit(cache=True)
def adi(xc, yc, step, r, out, transpose, cyclic, scratch):
    """out = (Tx Ty)^{-1} r, or (Tx Ty)^{-T} r, for the implicit step ``step``; r, out (ny, nx).

    ``scratch`` has 9 K floats (allocated once per sweep: fresh large arrays cost page faults).
    """
    ny, nx = r.shape
    K = ny * nx
    t1, t2 = scratch[:K].reshape(nx, ny), scratch[K : 2 * K].reshape(nx, ny)
    s = scratch[2 * K : 3 * K].reshape(ny, nx)
    wx, wy = scratch[3 * K : 6 * K].reshape(3, nx, ny), scratch[6 * K :].reshape(3, ny, nx)
    if not transpose:  # Ty^{-1} Tx^{-1} r
        t1[:] = r.T
        solve_lines(xc[0, step], xc[1, step], xc[2, step], t1, t2, wx, False, cyclic)
        s[:] = t2.T
        solve_lines(yc[0, step], yc[1, step], yc[2, step], s, out, wy, False, cyclic)
    else:  # Tx^{-T} Ty^{-T} r
        solve_lines(yc[0, step], yc[1, step], yc[2, step], r, s, wy, True, cyclic)
        t1[:] = s.T
        solve_lines(xc[0, step], xc[1, step], xc[2, step], t1, t2, wx, True, cyclic)
        out[:] = t2.T


@njit(cache=True)
def adi_preconditioner(xc, yc, bdata, cols, r, z, cyclic):
    """z = P^{-1} r, P the decoupled sweep with ADI blocks: HJB backward, then FP forward with B dU.

    r, z are (2 N K,) = (dU^0..dU^{N-1}, dM^1..dM^N); B is 5-point (bdata).
    """
    N, K, _ = bdata.shape
    ny, nx = yc.shape[2], yc.shape[3]
    rU, rM = r[: N * K].reshape(N, K), r[N * K :].reshape(N, K)
    zU, zM = z[: N * K].reshape(N, K), z[N * K :].reshape(N, K)
    rhs, scratch = np.empty(K), np.empty(9 * K)
    for n in range(N - 1, -1, -1):
        for k in range(K):
            rhs[k] = rU[n, k] + (zU[n + 1, k] if n < N - 1 else 0.0)
        adi(xc, yc, n, rhs.reshape(ny, nx), zU[n].reshape(ny, nx), False, cyclic, scratch)
    for n in range(N):
        for k in range(K):
            s = rM[n, k] + (zM[n - 1, k] if n > 0 else 0.0)
            for j in range(5):
                s -= bdata[n, k, j] * zU[n, cols[k, j]]
            rhs[k] = s
        adi(xc, yc, n, rhs.reshape(ny, nx), zM[n].reshape(ny, nx), True, cyclic, scratch)


@njit(cache=True, parallel=True)
def five_point_data(xl, xd, xu, yl, yd, yu, identity, out):
    """out (N, K, 5): entries of ``Tx + Ty - identity``; x parts (N, ny, nx), y parts (N, nx, ny)."""
    N, ny, nx = xd.shape
    for n in prange(N):
        for j in range(ny):
            for i in range(nx):
                k = j * nx + i
                out[n, k, 0] = xd[n, j, i] + yd[n, i, j] - identity
                out[n, k, 1] = xl[n, j, i]
                out[n, k, 2] = xu[n, j, i]
                out[n, k, 3] = yl[n, i, j]
                out[n, k, 4] = yu[n, i, j]


@njit(cache=True)
def five_point_rmatvec(data, cols, v, out):
    """out = A^T v for one step (data (K, 5)): the FP operator of the HJB one.

    Gathered, not scattered: node k is the x-left neighbour of its x-right
    neighbour and so on (with the wrap of ``cols``; in a no-flux box the
    wrapped coefficients are zero), so (A^T v)_k reads five entries.
    """
    for k in range(data.shape[0]):
        s = data[k, 0] * v[k]
        for j in range(1, 5):
            q = cols[k, j + 1 if j % 2 else j - 1]  # the neighbour on the other side
            s += data[q, j] * v[q]
        out[k] = s


@njit(cache=True)
def five_point_matvec(data, cols, v, out):
    """out = A v for one step (data (K, 5))."""
    for k in range(data.shape[0]):
        s = 0.0
        for j in range(5):
            s += data[k, j] * v[cols[k, j]]
        out[k] = s


@njit(cache=True, parallel=True)
def newton_matvec(hdata, bdata, cols, cdiag, CM, WM, CU, WU, gdiag, gC, gW, v, out):
    """out = J v, rows scaled by dt; v, out (2 N K,).

    HJB row n: H_n dU^n - dU^{n+1} - C_M[n] dM^n - C_U[n] dU^n (the last row also - G' dM^N);
    FP row n: H_n^T dM^n - dM^{n-1} + B_n dU^n. C = diag + sum_k c_k w_k^T (low rank, never dense).
    """
    N, K, _ = hdata.shape
    dU, dM = v[: N * K].reshape(N, K), v[N * K :].reshape(N, K)
    oU, oM = out[: N * K].reshape(N, K), out[N * K :].reshape(N, K)
    w = np.empty((N, K))
    for n in prange(N):
        five_point_matvec(hdata[n], cols, dU[n], oU[n])
        five_point_matvec(bdata[n], cols, dU[n], oM[n])
        for k in range(K):
            oU[n, k] -= cdiag[n, k] * dM[n, k] + (dU[n + 1, k] if n < N - 1 else 0.0)
            if n > 0:
                oM[n, k] -= dM[n - 1, k]
        _lowrank_sub(CM[n], WM[n], dM[n], oU[n])
        _lowrank_sub(CU[n], WU[n], dU[n], oU[n])
        if n == N - 1:
            for k in range(K):
                oU[n, k] -= gdiag[0, k] * dM[n, k]
            _lowrank_sub(gC[0], gW[0], dM[n], oU[n])
        five_point_rmatvec(hdata[n], cols, dM[n], w[n])
        for k in range(K):
            oM[n, k] += w[n, k]


@njit(cache=True)
def fokker_planck_steps(xc, yc, data, cols, m, first, rtol, restart, maxiter, cyclic, rel):
    """Solve ``A_n^T M^{n+1} = M^n`` for n = first..N-1 (m (N+1, K), m[first] given; data (N, K, 5)).

    Each step by restarted GMRES (modified Gram-Schmidt) right-preconditioned
    with the transposed ADI step, from zero, to the relative residual
    ``rtol``; ``rel[n]`` receives the residual reached (the caller re-solves
    a step left too far from it). Sequential: one step needs the previous.
    """
    N, K, _ = data.shape
    ny, nx = yc.shape[2], yc.shape[3]
    V, H = np.empty((restart + 1, K)), np.empty((restart + 1, restart))
    cs, sn, g, y = np.empty(restart), np.empty(restart), np.empty(restart + 1), np.empty(restart)
    w, z, r, scratch = np.empty(K), np.empty(K), np.empty(K), np.empty(9 * K)
    for n in range(first, N):
        b, x = m[n], m[n + 1]
        x[:] = 0.0
        r[:] = b
        bnorm = np.sqrt(np.dot(b, b))
        total = 0
        while True:
            beta = np.sqrt(np.dot(r, r))
            rel[n] = beta / bnorm if bnorm > 0.0 else 0.0
            if rel[n] <= rtol or total >= maxiter:
                break
            V[0] = r / beta
            g[:] = 0.0
            g[0] = beta
            k = 0
            for j in range(restart):
                adi(xc, yc, n, V[j].reshape(ny, nx), z.reshape(ny, nx), True, cyclic, scratch)
                five_point_rmatvec(data[n], cols, z, w)
                for i in range(j + 1):
                    H[i, j] = np.dot(w, V[i])
                    w -= H[i, j] * V[i]
                hn = np.sqrt(np.dot(w, w))
                H[j + 1, j] = hn
                if hn > 0.0:
                    V[j + 1] = w / hn
                givens_column(H, cs, sn, g, j)
                total, k = total + 1, j + 1
                if abs(g[j + 1]) <= rtol * bnorm or total >= maxiter or hn == 0.0:
                    break
            solve_triangular(H, g, k, y)
            w[:] = 0.0
            for i in range(k):
                w += y[i] * V[i]
            adi(xc, yc, n, w.reshape(ny, nx), z.reshape(ny, nx), True, cyclic, scratch)
            x += z
            five_point_rmatvec(data[n], cols, x, w)
            r[:] = b - w


# ---------------------------------------------------------------------------
# GMRES: the Arnoldi passes are compiled and parallel over fixed blocks of
# BLOCK entries; per-block partial sums are added in block order, so the
# result does not depend on the number of threads.
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True, fastmath=True)
def _block_dots(V, j, w, partial):
    """partial[b] = (V[i] . w for i <= j, |w|^2) over block b."""
    n = w.size
    for b in prange(block_count(n)):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        for i in range(j + 1):
            s = 0.0
            for t in range(lo, hi):
                s += V[i, t] * w[t]
            partial[b, i] = s
        s = 0.0
        for t in range(lo, hi):
            s += w[t] * w[t]
        partial[b, j + 1] = s


@njit(cache=True, parallel=True, fastmath=True)
def _block_update(V, h, w, partial, dots):
    """w -= sum_i h[i] V[i]; then per block partial[b] = (|w|^2, and V[i] . w if ``dots``)."""
    n, j = w.size, h.size - 1
    for b in prange(block_count(n)):
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        for i in range(j + 1):
            for t in range(lo, hi):
                w[t] -= h[i] * V[i, t]
        s = 0.0
        for t in range(lo, hi):
            s += w[t] * w[t]
        partial[b, j + 1] = s
        if dots:  # the block of V is still in cache: the dots of a second pass for free
            for i in range(j + 1):
                s = 0.0
                for t in range(lo, hi):
                    s += V[i, t] * w[t]
                partial[b, i] = s


@njit(cache=True, parallel=True, fastmath=True)
def _combine(V, y, out):
    """out = sum_i y[i] V[i]."""
    n = out.size
    for b in prange(block_count(n)):
        for t in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            s = 0.0
            for i in range(y.size):
                s += y[i] * V[i, t]
            out[t] = s


def _sums(partial: np.ndarray, count: int) -> np.ndarray:
    return partial[:, :count].sum(axis=0)


def norm(v: np.ndarray) -> float:
    """Euclidean norm, the same on any number of threads."""
    partial = np.empty((block_count(v.size), 1))
    _block_dots(v[None], -1, v, partial)
    return float(np.sqrt(_sums(partial, 1)[0]))


def _orthogonalize(V: np.ndarray, j: int, w: np.ndarray, partial: np.ndarray) -> tuple[np.ndarray, float]:
    """Classical Gram-Schmidt of w against V[:j+1], repeated when w lost more than 30 % of its
    norm (twice is enough); returns the coefficients and the remaining norm."""
    _block_dots(V, j, w, partial)
    sums = _sums(partial, j + 2)
    h, before = sums[: j + 1], np.sqrt(sums[j + 1])
    _block_update(V, h, w, partial, True)
    sums = _sums(partial, j + 2)
    after = np.sqrt(sums[j + 1])
    if after < 0.7 * before:
        again = sums[: j + 1]
        _block_update(V, again, w, partial, False)
        h, after = h + again, np.sqrt(_sums(partial, j + 2)[j + 1])
    return h, float(after)


def gmres(matvec, precondition, b, rtol, restart, maxiter):
    """Right-preconditioned restarted GMRES for ``A x = b``; ``matvec(x, out)`` and
    ``precondition(r, out)`` write into ``out``.

    Returns ``(x, iterations, relative_residual)``, the true residual of x.
    """
    n = b.size
    x, w, z = np.zeros(n), np.empty(n), np.empty(n)
    bnorm = norm(b)
    if bnorm == 0.0:
        return x, 0, 0.0
    V = np.empty((restart + 1, n))
    H = np.zeros((restart + 1, restart))
    cs, sn, g = np.zeros(restart), np.zeros(restart), np.zeros(restart + 1)
    partial = np.empty((block_count(n), restart + 2))
    r, total = b.copy(), 0
    while True:
        beta = norm(r)
        rel = beta / bnorm
        if rel <= rtol or total >= maxiter:
            return x, total, rel
        np.multiply(r, 1.0 / beta, out=V[0])
        g[:] = 0.0
        g[0] = beta
        k = 0
        for j in range(restart):
            precondition(V[j], z)
            matvec(z, w)
            h, hn = _orthogonalize(V, j, w, partial)
            H[: j + 1, j] = h
            H[j + 1, j] = hn
            if hn > 0.0:
                np.multiply(w, 1.0 / hn, out=V[j + 1])
            givens_column(H, cs, sn, g, j)
            total, k = total + 1, j + 1
            if abs(g[j + 1]) <= rtol * bnorm or total >= maxiter or hn == 0.0:
                break
        y = np.zeros(k)
        solve_triangular(H, g, k, y)
        _combine(V, y, w)
        precondition(w, z)
        x += z
        matvec(x, w)
        np.subtract(b, w, out=r)
