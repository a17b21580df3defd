"""Compiled kernels of the 1D Newton system: its operator, the decoupled sweep, GMRES.

Private, like ``_kernels``. ``givens_column`` and ``solve_triangular`` are
shared with the 2D GMRES of ``_kernels2d``.

Newton's linear system. Unknowns v = (dU^0..dU^{N-1}, dM^1..dM^N), rows scaled by dt:

    HJB row n: H[n] dU^n - dU^{n+1} - C_M[n] dM^{n+1} - C_U[n] dU^n   (dU^N = G' dM^N)
    FP  row n: H[n]^T dM^{n+1} - dM^n + B[n] dU^n                       (dM^0 = 0)

H[n] = I + dt (nu L + A(U^n)) is tridiagonal and the Fokker-Planck block is
its transpose exactly (the discrete FP is the adjoint of the linearised HJB;
the formulas of ``hjb.hjb_operator`` and ``fokker_planck.fokker_planck_operator``
give the same numbers), so one Thomas factorisation H = L U per level serves
both sweeps: H^{-1} by L then U, H^{-T} by U^T then L^T. B[n] (the derivative
of A^T M in U) and the coefficients of H are formed level by level from the
upwind terms while a sweep passes (in cache): no block array is stored.
C_M = diag + sum_k c_k w_k^T, C_U = sum_k c_k w_k^T: the non-local couplings
enter as rank-one terms so nothing dense is ever formed.

``ops`` (built by ``MFGProblem.newton_operator``) is the tuple
``(a, c, ib, e, left, right, P, Q, cdiag, CM, WM, CU, WU, gdiag, gC, gW, scal)`` (WM, WU of
shape (1, K, nx) when their rows are the same at every level):
a, c, ib, e the Thomas factors of ``_march.newton_arrays`` (empty on a periodic
grid, whose cyclic blocks are solved by Sherman-Morrison as the sweep
passes), left/right the upwind terms, P = dt dleft M / dx^2 and
Q = dt dright M / dx^2, the packed couplings (cdiag of shape (N, 0) when the coupling has no local
term), and scal = (dx, dt, nu, periodic).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from meanfolio._vector_kernels import vdot

from ..schemes._march import h_pair, solve_level
from ..schemes._thomas import FAST, thomas_h, thomas_ht


@njit(cache=True)
def hjb_sweep(ops, rhs, out):
    """out[n] = H[n]^{-1} (rhs[n] + out[n+1]) for n = N-1..0, out[N] = 0: the HJB block's backward sweep."""
    N, nx = rhs.shape
    b = np.empty(nx)
    work = np.empty(10 * nx)
    for n in range(N - 1, -1, -1):
        if n == N - 1:
            b[:] = rhs[n]
        else:
            for i in range(nx):
                b[i] = rhs[n, i] + out[n + 1, i]
        hjb_level(ops, n, b, out[n], work)


@njit(cache=True)
def hjb_level(ops, n, b, out, work):
    """out = H[n]^{-1} b (``work``: 10 nx floats, for a periodic grid's cyclic block)."""
    a, c, ib, left, right, scal = ops[0], ops[1], ops[2], ops[4], ops[5], ops[16]
    if c.size == 0:  # periodic: each cyclic block as the sweep passes
        solve_level(left[n], right[n], scal[0], scal[1], scal[2], True, False, b, out, work)
    else:
        thomas_h(a[n], c[n], ib[n], b, out)


@njit(cache=True)
def fp_level(ops, n, b, out, work):
    """out = H[n]^{-T} b (``work`` as in :func:`hjb_level`)."""
    c, ib, e, left, right, scal = ops[1], ops[2], ops[3], ops[4], ops[5], ops[16]
    if c.size == 0:
        solve_level(left[n], right[n], scal[0], scal[1], scal[2], True, True, b, out, work)
    else:
        thomas_ht(ops[0][n], c[n], ib[n], e[n], b, out)


@njit(cache=True, fastmath=FAST)
def _b_apply(P, Q, z, out, sign):
    """out += sign B z for one level: B is dt times the derivative of A^T M in U
    (``fokker_planck_derivative``), from P = dt dleft M / dx^2, Q = dt dright M / dx^2; circular
    neighbours as in np.roll (the end nodes apart, so the interior loop vectorises)."""
    nx = z.size
    for i in range(1, nx - 1):
        zi = z[i]
        d = P[i] * (zi - z[i - 1]) + P[i + 1] * (zi - z[i + 1]) + Q[i] * (zi - z[i + 1]) + Q[i - 1] * (zi - z[i - 1])
        out[i] += sign * d
    for i in range(0, nx, max(nx - 1, 1)):  # i = 0 and nx - 1
        ip = i + 1 if i < nx - 1 else 0
        im = i - 1 if i > 0 else nx - 1
        zi = z[i]
        out[i] += sign * (P[i] * (zi - z[im]) + P[ip] * (zi - z[ip]) + Q[i] * (zi - z[ip]) + Q[im] * (zi - z[im]))


@njit(cache=True)
def _lowrank_sub(C, W, x, out):
    # out -= sum_k C[k] (W[k] . x)  (the 2D kernels' product)
    for k in range(C.shape[0]):
        s = 0.0
        for i in range(x.size):
            s += W[k, i] * x[i]
        if s != 0.0:
            for i in range(x.size):
                out[i] -= s * C[k, i]


@njit(cache=True)
def _coupled(ops, n, zU, zM, y, couple, out, with_u=True):
    """out = y + couple * (C_U[n] zU + C_M[n] zM (+ G' zM in the last row)), zU, zM of level n
    (the terms of the HJB rows that the decoupled sweep drops); y may be out; zU is taken
    as zero (and not read) unless ``with_u``."""
    cdiag, CM, WM, CU, WU, gdiag, gC, gW = ops[8:16]
    N = cdiag.shape[0]
    nx = out.size
    last = n == N - 1
    # the dot products first (y may be out)
    wM = WM[n] if WM.shape[0] > 1 else WM[0]  # (W of shape (1, K, nx): the same row at every level)
    wU = WU[n] if WU.shape[0] > 1 else WU[0]
    sM = np.empty(CM.shape[1])
    for k in range(sM.size):
        sM[k] = couple * vdot(wM[k], zM)
    sU = np.empty(CU.shape[1] if with_u else 0)
    for k in range(sU.size):
        sU[k] = couple * vdot(wU[k], zU)
    sG = np.empty(gC.shape[0] if last else 0)
    for k in range(sG.size):
        sG[k] = couple * vdot(gW[k], zM)
    if cdiag.shape[1] == 0:  # (N, 0): no local term
        for i in range(nx):
            out[i] = y[i]
    else:
        cd = cdiag[n]
        for i in range(nx):
            out[i] = y[i] + couple * (cd[i] * zM[i])
    if last:
        for i in range(nx):
            out[i] += couple * (gdiag[i] * zM[i])
    for k in range(sM.size):
        _axpy(sM[k], CM[n, k], out)
    for k in range(sU.size):
        _axpy(sU[k], CU[n, k], out)
    for k in range(sG.size):
        _axpy(sG[k], gC[k], out)


@njit(cache=True)
def fp_sweep(ops, rM, with_r, zU, with_b, zM, y, out, couple, s):
    """The Fokker-Planck block's forward sweep, fused with what Newton's solves need at each level:

    zM[n] = H[n]^{-T} (rM[n] - B[n] zU[n] + zM[n-1]) for n = 0..N-1 (zM[-1] = 0), where the rM term
    is dropped unless ``with_r`` and the B term unless ``with_b`` (zU is then taken as zero, and
    not read); then, unless ``couple`` = 0,
    out[n] = y[n] + couple * (C_U zU[n] + C_M zM[n] (+ G' zM[N-1])); and, unless s has no
    columns, the measurements of the low-rank couplings s[n] = (WM[n] . zM[n], WU[n] . zU[n])
    (s of shape (N, KM + KU); see ``_gmres_lowrank``).
    """
    P, Q = ops[6], ops[7]
    N, nx = zM.shape
    b = np.empty(nx)
    work = np.empty(10 * nx)
    for n in range(N):
        if n == 0:
            if with_r:
                b[:] = rM[0]
            else:
                b[:] = 0.0
        elif with_r:
            rn, prev = rM[n], zM[n - 1]
            for i in range(nx):
                b[i] = rn[i] + prev[i]
        else:
            b[:] = zM[n - 1]
        if with_b:
            _b_apply(P[n], Q[n], zU[n], b, -1.0)
        fp_level(ops, n, b, zM[n], work)
        if couple != 0.0:
            _coupled(ops, n, zU[n], zM[n], y[n], couple, out[n], with_b)
        if s.shape[1] > 0:
            _measure(ops, n, zU[n], zM[n], with_b, s[n])


@njit(cache=True)
def _measure(ops, n, zU, zM, with_u, s):
    # s = (WM[n] . zM, WU[n] . zU) (zU taken as zero unless with_u)
    WM, WU = ops[10], ops[12]
    wM = WM[n] if WM.shape[0] > 1 else WM[0]
    wU = WU[n] if WU.shape[0] > 1 else WU[0]
    KM = WM.shape[1]
    for k in range(KM):
        s[k] = vdot(wM[k], zM)
    for k in range(WU.shape[1]):
        s[KM + k] = vdot(wU[k], zU) if with_u else 0.0


@njit(cache=True)
def newton_matvec(ops, v, out):
    """out = J v for the operator ``ops`` (see the module docstring)."""
    N = ops[4].shape[0]
    for n in range(N):
        _matvec_level(ops, n, v, out)


@njit(cache=True)
def _matvec_level(ops, n, v, out):
    # level n of J v: the HJB row n and the FP row n (they read levels n - 1, n, n + 1 of v)
    left, right, P, Q, scal = ops[4], ops[5], ops[6], ops[7], ops[16]
    dx, dt, nu, periodic = scal[0], scal[1], scal[2], scal[3] != 0.0
    N, nx = left.shape
    dU = v[: N * nx].reshape(N, nx)
    dM = v[N * nx :].reshape(N, nx)
    oU = out[: N * nx].reshape(N, nx)
    oM = out[N * nx :].reshape(N, nx)
    h_pair(left[n], right[n], dx, dt, nu, periodic, dU[n], dM[n], oU[n], oM[n])
    if n < N - 1:
        _axpy(-1.0, dU[n + 1], oU[n])
    _coupled(ops, n, dU[n], dM[n], oU[n], -1.0, oU[n])
    if n > 0:
        _axpy(-1.0, dM[n - 1], oM[n])
    _b_apply(P[n], Q[n], dU[n], oM[n], 1.0)


@njit(cache=True, parallel=True)
def newton_residual(ops, x, b, out):
    """out = b - J x (the true residual of a linear solve, without a temporary); returns |out|^2.

    One level per parallel iteration (run it under ``meanfolio._parallel.numba_threads``); the
    squares are summed per level, then the levels in order: the same bits on any thread count.
    """
    N, nx = ops[4].shape
    squares = np.empty(N)
    for n in prange(N):
        _matvec_level(ops, n, x, out)
        s = 0.0
        for half in (0, N * nx):  # the HJB row n and the FP row n
            lo = half + n * nx
            s += _residual_squares(b[lo : lo + nx], out[lo : lo + nx])
        squares[n] = s
    total = 0.0
    for n in range(N):
        total += squares[n]
    return total


@njit(cache=True, fastmath={"reassoc", "contract"})
def _residual_squares(b, out):
    # out = b - out and the sum of its squares, in one pass
    s = 0.0
    for i in range(out.size):
        t = b[i] - out[i]
        out[i] = t
        s += t * t
    return s


@njit(cache=True)
def newton_preconditioner(ops, r, out):
    """out = P^{-1} r with P the decoupled sweep: HJB backward, then FP forward.

    P keeps the HJB and FP blocks and the FP's dependence on dU, and drops the
    couplings C_M, C_U, G' (block Gauss-Seidel). It is exact when f and g do
    not depend on m.
    """
    N, nx = ops[4].shape
    rU = r[: N * nx].reshape(N, nx)
    rM = r[N * nx :].reshape(N, nx)
    zU = out[: N * nx].reshape(N, nx)
    zM = out[N * nx :].reshape(N, nx)
    hjb_sweep(ops, rU, zU)
    fp_sweep(ops, rM, True, zU, True, zM, zM, zM, 0.0, np.empty((0, 0)))


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
def start_cycle(res, beta, v0, g, Hm):
    """A restart cycle of GMRES from the residual ``res`` of norm beta: v0 = res / beta, g = beta e1,
    the Hessenberg matrix cleared. Shared by the 1D GMRES (``_gmres1d``, ``_gmres_lowrank``)."""
    scale = 1.0 / beta
    for i in range(v0.size):
        v0[i] = res[i] * scale
    g[:] = 0.0
    g[0] = beta
    Hm[:, :] = 0.0


#: rounding allowance of the 1D GMRES's residual estimates, per unit of eps and of the size of what
#: was summed (see :func:`column_norm`): below it an estimate is not trusted (``rounding_floor``)
ROUNDING = 100.0 * np.finfo(np.float64).eps


@njit(cache=True)
def column_norm(Hm, j, hn):
    """|A v_j| from Arnoldi's column j before its rotations: sqrt(sum_i H[i, j]^2 + hn^2) (the new
    vector A v_j = sum_i H[i, j] v_i + hn v_{j+1} in the orthonormal basis)."""
    s = hn * hn
    for i in range(j + 1):
        s += Hm[i, j] * Hm[i, j]
    return np.sqrt(s)


@njit(cache=True)
def rounding_floor(beta0, growth, ysum, bnorm):
    """The residual a GMRES estimate cannot certify below, relative to |b|: rounding of the
    initial residual (beta0) and of the products, at most ``growth`` = max_j |A v_j| each, in the
    solution sum y_j v_j (``ysum`` = sum |y_j|). With a strong coupling (|A| >> 1) the Givens
    estimate falls far below what the products' rounding lets the true residual reach."""
    return ROUNDING * (beta0 + growth * ysum) / bnorm


@njit(cache=True)
def close_column(Hm, cs, sn, g, j, hn, src, dst, rtol, bnorm):
    """The end of Arnoldi's column j: H[j + 1, j] = hn, the next basis vector dst = src / hn
    (unless hn = 0: a breakdown, dst untouched; src may be dst), the rotations of
    :func:`givens_column`; returns whether the residual |g[j + 1]| is at most rtol |b|.
    Shared by the 1D GMRES (``_gmres1d``, ``_gmres_lowrank``)."""
    Hm[j + 1, j] = hn
    if hn > 0.0:
        scale = 1.0 / hn
        for i in range(dst.size):
            dst[i] = src[i] * scale
    givens_column(Hm, cs, sn, g, j)
    return abs(g[j + 1]) <= rtol * bnorm


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
    # y += a x without a temporary (GMRES vectors are N nx long: temporaries cost page faults)
    for i in range(y.size):
        y[i] += a * x[i]


# GMRES lives in _gmres1d (it uses the sweeps above); re-exported for the callers of this module
from ._gmres1d import STORED, gmres, gmres_into, gmres_rows  # noqa: E402, F401
