"""Compiled kernels of the 1D solver: tridiagonal solves, time sweeps, residuals, upwind terms
(the Newton system and its GMRES are in ``_newton_kernels``, the level-by-level
HJB and Fokker-Planck solves in ``_march``).

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
from numba import njit, prange


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

    ``with_fp=False`` fills rh only (m and rf are not read). :func:`mfg_residuals_parallel` is
    the same on numba's threads.
    """
    for n in range(value.shape[0]):
        _residuals_level(n, u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf, with_fp)


@njit(cache=True, parallel=True)
def mfg_residuals_parallel(u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf):
    """:func:`mfg_residuals` (both residuals), one level per parallel iteration."""
    for n in prange(value.shape[0]):
        _residuals_level(n, u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf, True)


@njit(cache=True, parallel=True)
def terms_and_residuals_parallel(kind, param, u, m, f, dx, dt, nu, periodic, value, left, right, dleft, dright, rh, rf):
    """:func:`upwind_split_parallel` of u[:-1] and :func:`mfg_residuals_parallel` in one pass: each
    level's upwind terms are made and read by its residuals while they are in cache (instead of
    a second pass over memory). One level per parallel iteration."""
    for n in prange(value.shape[0]):
        upwind_row(kind, param, u[n], dx, periodic, value[n], left[n], right[n], dleft[n], dright[n])
        _residuals_level(n, u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf, True)


@njit(cache=True)
def hjb_level_residual(un, un1, vn, fn, dx, dt, nu, periodic, scale, out):
    """out = scale times the residual of one level of the HJB,
    (U^n - U^{n+1}) / dt - nu Lap U^n + H - F^n (the end nodes apart: the interior loop has
    no branch and vectorises). Shared by :func:`mfg_residuals` and ``_march.hjb_march`` (scale dt)."""
    nx = un.size
    for i in (0, nx - 1):
        out[i] = scale * ((un[i] - un1[i]) / dt - nu * _laplacian_at(un, i, nx, dx, periodic) + vn[i] - fn[i])
    for i in range(1, nx - 1):
        lap = ((un[i + 1] - un[i]) - (un[i] - un[i - 1])) / (dx * dx)
        out[i] = scale * ((un[i] - un1[i]) / dt - nu * lap + vn[i] - fn[i])


@njit(cache=True)
def _residuals_level(n, u, m, value, left, right, f, dx, dt, nu, periodic, rh, rf, with_fp):
    """Level n of :func:`mfg_residuals`. The transport is in flux form; circular neighbours are
    harmless in a no-flux box because left_0 = 0 and right_{nx-1} = 0 there. The end nodes are
    done apart so the interior loop has no branch (and vectorises)."""
    nx = value.shape[1]
    hjb_level_residual(u[n], u[n + 1], value[n], f[n], dx, dt, nu, periodic, 1.0, rh[n])
    if not with_fp:
        return
    mn, mn1, ln, rn, rfn = m[n], m[n + 1], left[n], right[n], rf[n]
    for i in (0, nx - 1):
        ip = i + 1 if i < nx - 1 else 0
        im = i - 1 if i > 0 else nx - 1
        flux = (ln[i] * mn1[i] - ln[ip] * mn1[ip] - rn[i] * mn1[i] + rn[im] * mn1[im]) / dx
        rfn[i] = (mn1[i] - mn[i]) / dt - nu * _laplacian_at(mn1, i, nx, dx, periodic) + flux
    for i in range(1, nx - 1):
        flux = (ln[i] * mn1[i] - ln[i + 1] * mn1[i + 1] - rn[i] * mn1[i] + rn[i - 1] * mn1[i - 1]) / dx
        lap = ((mn1[i + 1] - mn1[i]) - (mn1[i] - mn1[i - 1])) / (dx * dx)
        rfn[i] = (mn1[i] - mn[i]) / dt - nu * lap + flux


# ---------------------------------------------------------------------------
# Upwind split of the built-in Hamiltonians, one pass over u (see
# hamiltonians.upwind for the formulas). kind: 0 quadratic, 1 linear (param =
# speed), 2 power law (param = exponent).
# ---------------------------------------------------------------------------

QUADRATIC, LINEAR, POWER_LAW = 0, 1, 2


@njit(cache=True)
def hamiltonian_point(kind, param, a, b):
    """(value, left, right, dleft, dright) of the upwind split at one node, a = D- u, b = D+ u."""
    ap = a if a > 0.0 else 0.0
    bm = b if b < 0.0 else 0.0
    if kind == QUADRATIC:
        return 0.5 * (ap * ap + bm * bm), ap, bm, 1.0 if a > 0.0 else 0.0, 1.0 if b < 0.0 else 0.0
    if kind == LINEAR:
        return param * (ap - bm), param if a > 0.0 else 0.0, -param if b < 0.0 else 0.0, 0.0, 0.0
    e = param
    abm = -bm
    value = (ap**e + abm**e) / e
    left = ap ** (e - 1.0) if a > 0.0 else 0.0
    right = -(abm ** (e - 1.0)) if b < 0.0 else 0.0
    dleft = (e - 1.0) * ap ** (e - 2.0) if a > 0.0 else 0.0
    dright = (e - 1.0) * abm ** (e - 2.0) if b < 0.0 else 0.0
    return value, left, right, dleft, dright


@njit(cache=True)
def one_sided(u, i, nx, dx, periodic):
    """(D- u_i, D+ u_i), zero beyond the ends of a no-flux box."""
    if i > 0:
        a = (u[i] - u[i - 1]) / dx
    elif periodic:
        a = (u[0] - u[nx - 1]) / dx
    else:
        a = 0.0
    if i < nx - 1:
        b = (u[i + 1] - u[i]) / dx
    elif periodic:
        b = (u[0] - u[i]) / dx
    else:
        b = 0.0
    return a, b


@njit(cache=True)
def upwind_split(kind, param, u, dx, periodic, value, left, right, dleft, dright):
    """Fill the five (rows, nx) outputs from u of shape (rows, nx), row by row (:func:`upwind_row`)."""
    for r in range(u.shape[0]):
        upwind_row(kind, param, u[r], dx, periodic, value[r], left[r], right[r], dleft[r], dright[r])


@njit(cache=True, parallel=True)
def upwind_split_parallel(kind, param, u, dx, periodic, value, left, right, dleft, dright):
    """:func:`upwind_split`, one row per parallel iteration."""
    for r in prange(u.shape[0]):
        upwind_row(kind, param, u[r], dx, periodic, value[r], left[r], right[r], dleft[r], dright[r])


@njit(cache=True)
def upwind_row(kind, param, ur, dx, periodic, vr, lr, rr, dlr, drr):
    """The upwind split of one row ur (nx,) into the five outputs (nx,).

    The quadratic Hamiltonian has its own branch-free loop over the interior nodes (it
    vectorises); the end nodes and the other kinds go through :func:`hamiltonian_point`."""
    nx = ur.size
    if kind == QUADRATIC:
        for i in range(1, nx - 1):
            a = (ur[i] - ur[i - 1]) / dx
            b = (ur[i + 1] - ur[i]) / dx
            ap = max(a, 0.0)
            bm = min(b, 0.0)
            vr[i] = 0.5 * (ap * ap + bm * bm)
            lr[i] = ap
            rr[i] = bm
            dlr[i] = 1.0 if a > 0.0 else 0.0
            drr[i] = 1.0 if b < 0.0 else 0.0
        ends = range(0, nx, max(nx - 1, 1))  # i = 0 and nx - 1
    else:
        ends = range(nx)
    for i in ends:
        a, b = one_sided(ur, i, nx, dx, periodic)
        vr[i], lr[i], rr[i], dlr[i], drr[i] = hamiltonian_point(kind, param, a, b)


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
