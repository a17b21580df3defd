"""Compiled kernels of the 1D solver: tridiagonal solves, time sweeps, GMRES.

Private: plain float64 arrays in, plain arrays out. A tridiagonal matrix is
three arrays (lo, di, up) of length nx: row i reads
``lo[i] * x[i-1] + di[i] * x[i] + up[i] * x[i+1]``. ``lo[0]`` and
``up[nx-1]`` are the periodic wrap-around coefficients (zero in a no-flux
box); when either is non-zero the cyclic system is solved by
Sherman-Morrison.

A space-time block operator stores one tridiagonal matrix per implicit step:
arrays of shape (N, nx) with N = nt - 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _thomas(lo, di, up, rhs, out, scratch):
    # Plain Thomas elimination (no pivoting). Stable here because every matrix
    # we factor is a diagonally dominant M-matrix (by rows for HJB, by columns
    # for Fokker-Planck).
    n = di.size
    beta = di[0]
    out[0] = rhs[0] / beta
    for i in range(1, n):
        scratch[i] = up[i - 1] / beta
        beta = di[i] - lo[i] * scratch[i]
        out[i] = (rhs[i] - lo[i] * out[i - 1]) / beta
    for i in range(n - 2, -1, -1):
        out[i] -= scratch[i + 1] * out[i + 1]


@njit(cache=True)
def solve_tridiagonal(lo, di, up, rhs, out, scratch):
    """Solve the (possibly cyclic) tridiagonal system; ``scratch`` has 3 * nx floats."""
    n = di.size
    top_right = lo[0]
    bottom_left = up[n - 1]
    if top_right == 0.0 and bottom_left == 0.0:
        _thomas(lo, di, up, rhs, out, scratch[:n])
        return
    # Sherman-Morrison: A = T + u v^T with T tridiagonal (Numerical Recipes 2.7).
    gamma = -di[0]
    d2 = scratch[n : 2 * n]
    d2[:] = di
    d2[0] = di[0] - gamma
    d2[n - 1] = di[n - 1] - bottom_left * top_right / gamma
    _thomas(lo, d2, up, rhs, out, scratch[:n])
    z = scratch[2 * n : 3 * n]
    u = np.zeros(n)
    u[0] = gamma
    u[n - 1] = bottom_left
    # second solve needs its own elimination scratch; reuse a fresh array
    tmp = np.empty(n)
    _thomas(lo, d2, up, u, z, tmp)
    fact = (out[0] + top_right * out[n - 1] / gamma) / (1.0 + z[0] + top_right * z[n - 1] / gamma)
    for i in range(n):
        out[i] -= fact * z[i]


@njit(cache=True)
def tridiagonal_matvec(lo, di, up, x, out):
    """out = T x for a (possibly cyclic) tridiagonal T."""
    n = di.size
    for i in range(n):
        out[i] = di[i] * x[i] + lo[i] * x[(i - 1) % n] + up[i] * x[(i + 1) % n]


@njit(cache=True)
def backward_sweep(lo, di, up, rhs, last, out):
    """Solve ``T[n] X[n] - X[n+1] = rhs[n]`` for n = N-1..0 with X[N] = last.

    This is one implicit Euler HJB sweep (rows scaled by dt).
    """
    N, nx = di.shape
    scratch = np.empty(3 * nx)
    b = np.empty(nx)
    for n in range(N - 1, -1, -1):
        nxt = last if n == N - 1 else out[n + 1]
        for i in range(nx):
            b[i] = rhs[n, i] + nxt[i]
        solve_tridiagonal(lo[n], di[n], up[n], b, out[n], scratch)


@njit(cache=True)
def forward_sweep(lo, di, up, rhs, first, out):
    """Solve ``T[n] X[n] - X[n-1] = rhs[n]`` for n = 0..N-1 with X[-1] = first.

    This is one implicit Euler Fokker-Planck sweep (rows scaled by dt).
    """
    N, nx = di.shape
    scratch = np.empty(3 * nx)
    b = np.empty(nx)
    for n in range(N):
        prev = first if n == 0 else out[n - 1]
        for i in range(nx):
            b[i] = rhs[n, i] + prev[i]
        solve_tridiagonal(lo[n], di[n], up[n], b, out[n], scratch)


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
def _density_response(ops, zU, rM, zM):
    """zM = F^{-1} (rM - B zU): the FP block's answer to a value change zU (forward sweep)."""
    bl, bd, bu = ops[6], ops[7], ops[8]
    N, nx = zU.shape
    rhs = np.empty((N, nx))
    tmp = np.empty(nx)
    for n in range(N):
        tridiagonal_matvec(bl[n], bd[n], bu[n], zU[n], tmp)
        for i in range(nx):
            rhs[n, i] = rM[n, i] - tmp[i]
    forward_sweep(ops[3], ops[4], ops[5], rhs, np.zeros(nx), zM)


@njit(cache=True)
def _schur_apply(ops, y, out, zU, zM, zero_m, coupled):
    """out = T y = y - C_U zU - C_M zM with zU = H^{-1} y, zM = -F^{-1} B zU (vectors of N nx)."""
    hl, hd, hu = ops[0], ops[1], ops[2]
    N, nx = hd.shape
    backward_sweep(hl, hd, hu, y.reshape(N, nx), np.zeros(nx), zU)
    _density_response(ops, zU, zero_m, zM)
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
    # reduced right-hand side: b_U + C_M F^{-1} b_M
    forward_sweep(ops[3], ops[4], ops[5], bM, np.zeros(nx), zM)
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
            _schur_apply(ops, V[j], w, zU, zM, zero_m, coupled)
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
        _schur_apply(ops, wsol, w, zU, zM, zero_m, coupled)
        for i in range(n):
            r[i] = rhs[i] - w[i]
    # x = P^{-1} (wsol, b_M): the value change, then the density's answer to it
    backward_sweep(ops[0], ops[1], ops[2], wsol.reshape(N, nx), np.zeros(nx), zU)
    _density_response(ops, zU, bM, zM)
    x[:n] = zU.reshape(n)
    x[n:] = zM.reshape(n)
    return x, total, rel


@njit(cache=True)
def newton_blocks(left, right, dleft, dright, m_next, dx, dt, nu, periodic, out):
    """The tridiagonal blocks of Newton's operator in one pass: ``out`` (9, N, nx) receives the
    HJB block ``I + dt (nu L + A)`` (``hjb.hjb_operator``), the FP block ``I + dt (nu L + A^T)``
    (``fokker_planck.fokker_planck_operator``) and dt times the derivative of ``A^T M`` in U
    (``fokker_planck.fokker_planck_derivative``), each as (lo, di, up). Neighbours are circular,
    as np.roll is in those formulas (the end terms vanish in a no-flux box)."""
    N, nx = left.shape
    c = nu / (dx * dx)
    s = dt / dx
    for n in range(N):
        for i in range(nx):
            im = i - 1 if i > 0 else nx - 1
            ip = i + 1 if i < nx - 1 else 0
            dlo = -c if (i > 0 or periodic) else 0.0
            dup = -c if (i < nx - 1 or periodic) else 0.0
            di = 1.0 - dt * (dlo + dup) + s * (left[n, i] - right[n, i])
            out[0, n, i] = dt * dlo - s * left[n, i]
            out[1, n, i] = di
            out[2, n, i] = dt * dup + s * right[n, i]
            out[3, n, i] = dt * dlo + s * right[n, im]
            out[4, n, i] = di
            out[5, n, i] = dt * dup - s * left[n, ip]
            p_i = dleft[n, i] * m_next[n, i] / dx
            p_next = dleft[n, ip] * m_next[n, ip] / dx
            q_i = dright[n, i] * m_next[n, i] / dx
            q_prev = dright[n, im] * m_next[n, im] / dx
            out[6, n, i] = dt * (-p_i - q_prev) / dx
            out[7, n, i] = dt * (p_i + p_next + q_i + q_prev) / dx
            out[8, n, i] = dt * (-p_next - q_i) / dx


@njit(cache=True)
def _laplacian_at(v, i, nx, dx, periodic):
    # (D+ v_i - D- v_i) / dx with zero one-sided differences at the ends of a no-flux box
    if i > 0:
        back = v[i] - v[i - 1]
    elif periodic:
        back = v[0] - v[nx - 1]
    else:
        back = 0.0
    if i < nx - 1:
        fwd = v[i + 1] - v[i]
    elif periodic:
        fwd = v[0] - v[i]
    else:
        fwd = 0.0
    return (fwd - back) / (dx * dx)


@njit(cache=True)
def mfg_residuals(u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf, with_fp=True):
    """Both residuals of the upwind scheme in one pass (``hjb.hjb_residual`` and
    ``fokker_planck.fokker_planck_residual``): u, m (nt, nx); upwind terms and f (N, nx); out rh, rf (N, nx).

    ``with_fp=False`` fills rh only (m and rf are not read).
    The transport is in flux form; circular neighbours are harmless in a no-flux box because
    left_0 = 0 and right_{nx-1} = 0 there.
    """
    N, nx = value.shape
    for n in range(N):
        un, un1, mn, mn1 = u[n], u[n + 1], m[n], m[n + 1]
        for i in range(nx):
            rh[n, i] = (un[i] - un1[i]) / dt - nu * _laplacian_at(un, i, nx, dx, periodic) + value[n, i] - f[n, i]
            if not with_fp:
                continue
            ip = i + 1 if i < nx - 1 else 0
            im = i - 1 if i > 0 else nx - 1
            flux = (left[n, i] * mn1[i] - left[n, ip] * mn1[ip] - right[n, i] * mn1[i] + right[n, im] * mn1[im]) / dx
            rf[n, i] = (mn1[i] - mn[i]) / dt - nu * _laplacian_at(mn1, i, nx, dx, periodic) + flux


# ---------------------------------------------------------------------------
# Upwind split of the built-in Hamiltonians, one pass over u (see
# hamiltonians.upwind for the formulas). kind: 0 quadratic, 1 linear (param =
# speed), 2 power law (param = exponent).
# ---------------------------------------------------------------------------

QUADRATIC, LINEAR, POWER_LAW = 0, 1, 2


@njit(cache=True)
def upwind_split(kind, param, u, dx, periodic, value, left, right, dleft, dright):
    """Fill the five (rows, nx) outputs from u of shape (rows, nx)."""
    rows, nx = u.shape
    for r in range(rows):
        for i in range(nx):
            if i > 0:
                a = (u[r, i] - u[r, i - 1]) / dx
            elif periodic:
                a = (u[r, 0] - u[r, nx - 1]) / dx
            else:
                a = 0.0
            if i < nx - 1:
                b = (u[r, i + 1] - u[r, i]) / dx
            elif periodic:
                b = (u[r, 0] - u[r, i]) / dx
            else:
                b = 0.0
            ap = a if a > 0.0 else 0.0
            bm = b if b < 0.0 else 0.0
            if kind == QUADRATIC:
                value[r, i] = 0.5 * (ap * ap + bm * bm)
                left[r, i] = ap
                right[r, i] = bm
                dleft[r, i] = 1.0 if a > 0.0 else 0.0
                dright[r, i] = 1.0 if b < 0.0 else 0.0
            elif kind == LINEAR:
                value[r, i] = param * (ap - bm)
                left[r, i] = param if a > 0.0 else 0.0
                right[r, i] = -param if b < 0.0 else 0.0
                dleft[r, i] = 0.0
                dright[r, i] = 0.0
            else:
                e = param
                abm = -bm
                value[r, i] = (ap**e + abm**e) / e
                left[r, i] = ap ** (e - 1.0) if a > 0.0 else 0.0
                right[r, i] = -(abm ** (e - 1.0)) if b < 0.0 else 0.0
                dleft[r, i] = (e - 1.0) * ap ** (e - 2.0) if a > 0.0 else 0.0
                dright[r, i] = (e - 1.0) * abm ** (e - 2.0) if b < 0.0 else 0.0


# ---------------------------------------------------------------------------
# Upwind split of the smoothed built-ins (Huber-type regularisation of the kink
# at p = 0, see hamiltonians.Linear / PowerLaw with smoothing = delta > 0), from
# precomputed one-sided differences a = D- u, b = D+ u (flat arrays):
#   kind 1: H = s (sqrt(p^2 + d^2) - d),  H_p = s p / r,  H_pp = s d^2 / r^3,  r = sqrt(p^2 + d^2)
#   kind 2: H = (r^e - d^e) / e,          H_p = p r^(e-2), H_pp = r^(e-4) ((e-1) p^2 + d^2)
# ---------------------------------------------------------------------------


@njit(cache=True)
def _smooth_h(kind, param, delta, p):
    r2 = p * p + delta * delta
    r = np.sqrt(r2)
    if kind == LINEAR:
        return param * (r - delta), param * p / r, param * delta * delta / (r2 * r)
    e = param
    return (r**e - delta**e) / e, p * r ** (e - 2.0), r ** (e - 4.0) * ((e - 1.0) * p * p + delta * delta)


@njit(cache=True)
def upwind_split_smooth(kind, param, delta, a, b, value, left, right, dleft, dright):
    """The monotone split H(a^+) + H(b^-) - H(0) of a smoothed Hamiltonian (H(0) = 0), flat arrays."""
    for i in range(a.size):
        ap = a[i] if a[i] > 0.0 else 0.0
        bm = b[i] if b[i] < 0.0 else 0.0
        ha, pa, qa = _smooth_h(kind, param, delta, ap)
        hb, pb, qb = _smooth_h(kind, param, delta, bm)
        value[i] = ha + hb
        left[i] = pa
        right[i] = pb
        dleft[i] = qa if a[i] > 0.0 else 0.0
        dright[i] = qb if b[i] < 0.0 else 0.0
