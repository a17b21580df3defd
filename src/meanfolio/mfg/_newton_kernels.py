"""Compiled kernels of the 1D Newton system: its operator, the decoupled sweep, GMRES.

Private, like ``_kernels`` (whose tridiagonal solves and sweeps they use).
``givens_column`` and ``solve_triangular`` are shared with the 2D GMRES of
``_kernels2d``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import backward_sweep, factor_blocks, factored_sweep, forward_sweep, tridiagonal_matvec

# ---------------------------------------------------------------------------
# Newton's linear system. Unknowns v = (dU^0..dU^{N-1}, dM^1..dM^N), rows scaled
# by dt:
#   HJB row n: H[n] dU^n - dU^{n+1} - C_M[n] dM^{n+1} - C_U[n] dU^n   (dU^N = G' dM^N)
#   FP  row n: F[n] dM^{n+1} - dM^n + B[n] dU^n                         (dM^0 = 0)
# H, F, B tridiagonal; C_M = diag + sum_k c_k w_k^T, C_U = sum_k c_k w_k^T: the
# non-local couplings enter as rank-one terms so nothing dense is ever formed.
# ---------------------------------------------------------------------------


@njit(cache=True)
def _lowrank_sub(C, W, x, out):
    # out -= sum_k C[k] (W[k] . x)
    for k in range(C.shape[0]):
        s = 0.0
        for i in range(x.size):
            s += W[k, i] * x[i]
        if s != 0.0:
            for i in range(x.size):
                out[i] -= s * C[k, i]


@njit(cache=True)
def newton_matvec(ops, v, out):
    """out = J v for the block operator ``ops`` (see module comment)."""
    hl, hd, hu, fl, fd, fu, bl, bd, bu, cdiag, CM, WM, CU, WU, gdiag, gC, gW = ops
    N, nx = hd.shape
    dU = v[: N * nx].reshape(N, nx)
    dM = v[N * nx :].reshape(N, nx)
    oU = out[: N * nx].reshape(N, nx)
    oM = out[N * nx :].reshape(N, nx)
    tmp = np.empty(nx)
    for n in range(N):
        tridiagonal_matvec(hl[n], hd[n], hu[n], dU[n], oU[n])
        if n < N - 1:
            oU[n] -= dU[n + 1]
        oU[n] -= cdiag[n] * dM[n]
        _lowrank_sub(CM[n], WM[n], dM[n], oU[n])
        _lowrank_sub(CU[n], WU[n], dU[n], oU[n])
        tridiagonal_matvec(fl[n], fd[n], fu[n], dM[n], oM[n])
        if n > 0:
            oM[n] -= dM[n - 1]
        tridiagonal_matvec(bl[n], bd[n], bu[n], dU[n], tmp)
        oM[n] += tmp
    oU[N - 1] -= gdiag * dM[N - 1]
    _lowrank_sub(gC, gW, dM[N - 1], oU[N - 1])


@njit(cache=True)
def newton_preconditioner(ops, r, out):
    """out = P^{-1} r with P the decoupled sweep: HJB backward, then FP forward.

    P keeps the HJB and FP blocks and the FP's dependence on dU, and drops the
    couplings C_M, C_U, G' (block Gauss-Seidel). It is exact when f and g do
    not depend on m.
    """
    hl, hd, hu, fl, fd, fu, bl, bd, bu = (
        ops[0],
        ops[1],
        ops[2],
        ops[3],
        ops[4],
        ops[5],
        ops[6],
        ops[7],
        ops[8],
    )
    N, nx = hd.shape
    rU = r[: N * nx].reshape(N, nx)
    rM = r[N * nx :].reshape(N, nx)
    zU = out[: N * nx].reshape(N, nx)
    zM = out[N * nx :].reshape(N, nx)
    zero = np.zeros(nx)
    backward_sweep(hl, hd, hu, rU, zero, zU)
    rhs = np.empty((N, nx))
    tmp = np.empty(nx)
    for n in range(N):
        tridiagonal_matvec(bl[n], bd[n], bu[n], zU[n], tmp)
        rhs[n] = rM[n] - tmp
    forward_sweep(fl, fd, fu, rhs, zero, zM)


@njit(cache=True)
def givens_column(H, cs, sn, g, j):
    """GMRES's QR update of Hessenberg column j: apply the earlier rotations, make and apply the
    rotation that zeroes H[j + 1, j], and rotate the residual vector g (|g[j + 1]| is the new residual).
    Shared by every GMRES of the MFG solvers (1D Newton, 2D Fokker-Planck steps, 2D Newton)."""
    for i in range(j):
        t = cs[i] * H[i, j] + sn[i] * H[i + 1, j]
        H[i + 1, j] = -sn[i] * H[i, j] + cs[i] * H[i + 1, j]
        H[i, j] = t
    den = np.hypot(H[j, j], H[j + 1, j])
    if den == 0.0:  # breakdown on a singular operator: no rotation; the residual stays as it is
        cs[j] = 1.0
        sn[j] = 0.0
        g[j + 1] = 0.0 * g[j]
        return
    cs[j] = H[j, j] / den
    sn[j] = H[j + 1, j] / den
    H[j, j] = den
    H[j + 1, j] = 0.0
    g[j + 1] = -sn[j] * g[j]
    g[j] = cs[j] * g[j]


@njit(cache=True)
def solve_triangular(H, g, k, y):
    """y[:k] solving the upper-triangular H[:k, :k] y = g[:k] (GMRES's least-squares step)."""
    for i in range(k - 1, -1, -1):
        s = g[i]
        for jj in range(i + 1, k):
            s -= H[i, jj] * y[jj]
        y[i] = s / H[i, i] if H[i, i] != 0.0 else 0.0  # (a breakdown column contributes nothing)


@njit(cache=True)
def _axpy(a, x, y):
    # y += a x without a temporary (GMRES vectors are 2 N nx long: temporaries cost page faults)
    for i in range(y.size):
        y[i] += a * x[i]


@njit(cache=True)
def _couplings(ops, dU, dM, out):
    """out = C_M dM + C_U dU (+ G' dM^N in the last row): the HJB rows' dependence that the
    decoupled sweep drops (see newton_matvec, where these terms are subtracted)."""
    cdiag, CM, WM, CU, WU, gdiag, gC, gW = ops[9:17]
    N, nx = dU.shape
    for n in range(N):
        for i in range(nx):
            out[n, i] = -cdiag[n, i] * dM[n, i]
        _lowrank_sub(CM[n], WM[n], dM[n], out[n])
        _lowrank_sub(CU[n], WU[n], dU[n], out[n])
    for i in range(nx):
        out[N - 1, i] -= gdiag[i] * dM[N - 1, i]
    _lowrank_sub(gC, gW, dM[N - 1], out[N - 1])
    for n in range(N):
        for i in range(nx):
            out[n, i] = -out[n, i]


@njit(cache=True)
def _density_response(ops, factors, zU, rM, zM):
    """zM = F^{-1} (rM - B zU): the FP block's answer to a value change zU (forward sweep)."""
    bl, bd, bu = ops[6], ops[7], ops[8]
    N, nx = zU.shape
    rhs = np.empty((N, nx))
    tmp = np.empty(nx)
    for n in range(N):
        tridiagonal_matvec(bl[n], bd[n], bu[n], zU[n], tmp)
        for i in range(nx):
            rhs[n, i] = rM[n, i] - tmp[i]
    factored_sweep(ops[3], ops[4], ops[5], factors[2], factors[3], rhs, np.zeros(nx), zM, False)


@njit(cache=True)
def _schur_apply(ops, factors, y, out, zU, zM, zero_m, coupled):
    """out = T y = y - C_U zU - C_M zM with zU = H^{-1} y, zM = -F^{-1} B zU (vectors of N nx)."""
    hl, hd, hu = ops[0], ops[1], ops[2]
    N, nx = hd.shape
    factored_sweep(hl, hd, hu, factors[0], factors[1], y.reshape(N, nx), np.zeros(nx), zU, True)
    _density_response(ops, factors, zU, zero_m, zM)
    _couplings(ops, zU, zM, coupled)
    c = coupled.reshape(N * nx)
    for i in range(out.size):
        out[i] = y[i] - c[i]


@njit(cache=True)
def gmres(ops, b, rtol, restart, maxiter):
    """Restarted GMRES for Newton's system ``J x = b``, right-preconditioned by the decoupled sweep P.

    With J = [[H - C_U, -C_M], [B, F]] and P = [[H, 0], [B, F]], the preconditioned operator
    J P^{-1} is the identity on the FP rows, so the Krylov iteration runs on the HJB rows only
    (half the length): ``T w = b_U + C_M F^{-1} b_M`` with ``T = I - C_U H^{-1} + C_M F^{-1} B H^{-1}``,
    then ``x = P^{-1} (w, b_M)``. Same iterates as GMRES on the full preconditioned system.

    Returns ``(x, iterations, relative_residual)``, the residual of the reduced system relative
    to |b| (in exact arithmetic the full system's true residual: its FP rows are solved exactly).
    """
    N, nx = ops[1].shape
    n = N * nx
    x = np.zeros(2 * n)
    bnorm = np.sqrt(np.dot(b, b))
    if bnorm == 0.0:
        return x, 0, 0.0
    bM = b[n:].reshape(N, nx)
    zU = np.empty((N, nx))
    zM = np.empty((N, nx))
    coupled = np.empty((N, nx))
    zero_m = np.zeros((N, nx))
    hc, hib = factor_blocks(ops[0], ops[1], ops[2])
    fc, fib = factor_blocks(ops[3], ops[4], ops[5])
    factors = (hc, hib, fc, fib)
    # reduced right-hand side: b_U + C_M F^{-1} b_M
    factored_sweep(ops[3], ops[4], ops[5], fc, fib, bM, np.zeros(nx), zM, False)
    zU[:, :] = 0.0
    _couplings(ops, zU, zM, coupled)
    rhs = np.empty(n)
    for i in range(n):
        rhs[i] = b[i] + coupled.reshape(n)[i]
    V = np.empty((restart + 1, n))
    Hm = np.zeros((restart + 1, restart))
    cs = np.zeros(restart)
    sn = np.zeros(restart)
    g = np.zeros(restart + 1)
    w = np.empty(n)
    wsol = np.zeros(n)
    r = rhs.copy()
    total = 0
    rel = 1.0
    while True:
        beta = np.sqrt(np.dot(r, r))
        rel = beta / bnorm
        if rel <= rtol or total >= maxiter:
            break
        for i in range(n):
            V[0, i] = r[i] / beta
        g[:] = 0.0
        g[0] = beta
        Hm[:, :] = 0.0
        k = 0
        for j in range(restart):
            _schur_apply(ops, factors, V[j], w, zU, zM, zero_m, coupled)
            for i in range(j + 1):  # modified Gram-Schmidt
                h = np.dot(w, V[i])
                Hm[i, j] = h
                _axpy(-h, V[i], w)
            hn = np.sqrt(np.dot(w, w))
            Hm[j + 1, j] = hn
            if hn > 0.0:
                for i in range(n):
                    V[j + 1, i] = w[i] / hn
            givens_column(Hm, cs, sn, g, j)
            total += 1
            k = j + 1
            if abs(g[j + 1]) <= rtol * bnorm or total >= maxiter or hn == 0.0:
                break
        y = np.zeros(k)
        solve_triangular(Hm, g, k, y)
        for i in range(k):
            _axpy(y[i], V[i], wsol)
        _schur_apply(ops, factors, wsol, w, zU, zM, zero_m, coupled)
        for i in range(n):
            r[i] = rhs[i] - w[i]
    # x = P^{-1} (wsol, b_M): the value change, then the density's answer to it
    factored_sweep(ops[0], ops[1], ops[2], hc, hib, wsol.reshape(N, nx), np.zeros(nx), zU, True)
    _density_response(ops, factors, zU, bM, zM)
    x[:n] = zU.reshape(n)
    x[n:] = zM.reshape(n)
    return x, total, rel
