"""Compiled level-by-level solves of the 1D upwind scheme (private).

The HJB block of one implicit step is ``H = I + dt (nu L + A(U^n))`` and the
Fokker-Planck block is its transpose (``fokker_planck``: the FP is the adjoint
of the linearised HJB). These kernels form H from the upwind terms of one
level at a time and solve it while the level is in cache:

- :func:`level_coefficients`: H of one level; ``_thomas``: its (twisted)
  Thomas factors, which solve both H and H^T;
- :func:`fp_march`: the Fokker-Planck sweep from m0 for given upwind terms;
- :func:`hjb_march`: the nonlinear HJB backward in time, one level at a time,
  by Newton's method on each level (Howard's algorithm for H = speed |p|),
  started from the level above. It solves the same discrete equations as the
  global Newton of ``hjb.solve_hjb`` (whose Jacobian is block bidiagonal, so
  both converge level by level) but touches each level only while it is in cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import hjb_level_residual, solve_tridiagonal, upwind_row
from ._thomas import GROUP, factor_group, thomas_factor, thomas_h, thomas_ht


@njit(cache=True)
def level_coefficients(left, right, dx, dt, nu, periodic, lo, di, up):
    """H = I + dt (nu L + A) of one level as (lo, di, up) from its upwind terms (the formulas of
    ``hjb.hjb_operator``; its transpose is ``fokker_planck.fokker_planck_operator``)."""
    nx = di.size
    cc = nu / (dx * dx)
    s = dt / dx
    for i in range(1, nx - 1):  # (the end nodes apart: this loop vectorises)
        lo[i] = dt * -cc - s * left[i]
        di[i] = 1.0 - dt * (-cc + -cc) + s * (left[i] - right[i])
        up[i] = dt * -cc + s * right[i]
    for i in range(0, nx, max(nx - 1, 1)):  # i = 0 and nx - 1
        dlo = -cc if (i > 0 or periodic) else 0.0
        dup = -cc if (i < nx - 1 or periodic) else 0.0
        lo[i] = dt * dlo - s * left[i]
        di[i] = 1.0 - dt * (dlo + dup) + s * (left[i] - right[i])
        up[i] = dt * dup + s * right[i]


@njit(cache=True)
def transpose_coefficients(lo, di, up, tlo, tdi, tup):
    """The (cyclic) tridiagonal transpose: tlo[i] = up[i-1], tup[i] = lo[i+1]."""
    n = di.size
    for i in range(n):
        tlo[i] = up[i - 1 if i > 0 else n - 1]
        tdi[i] = di[i]
        tup[i] = lo[i + 1 if i < n - 1 else 0]


@njit(cache=True)
def h_pair(left, right, dx, dt, nu, periodic, zu, zm, ou, om):
    """ou = H zu and om = H^T zm for one level, H from its upwind terms (:func:`level_coefficients`,
    whose numbers these are), without forming the coefficients; the end nodes apart."""
    nx = zu.size
    cc = nu / (dx * dx)
    s = dt / dx
    lo_c = dt * -cc
    for i in range(1, nx - 1):
        lo_i = lo_c - s * left[i]
        up_i = lo_c + s * right[i]
        di_i = 1.0 - dt * (-cc + -cc) + s * (left[i] - right[i])
        ou[i] = di_i * zu[i] + lo_i * zu[i - 1] + up_i * zu[i + 1]
        # H^T: row i reads up[i-1] on i-1 and lo[i+1] on i+1
        om[i] = di_i * zm[i] + (lo_c + s * right[i - 1]) * zm[i - 1] + (lo_c - s * left[i + 1]) * zm[i + 1]
    lo, di, up = np.empty(3), np.empty(3), np.empty(3)
    for i in (0, nx - 1):
        for j in range(3):  # coefficients of nodes i-1, i, i+1 (circular)
            q = (i - 1 + j) % nx
            dlo = -cc if (q > 0 or periodic) else 0.0
            dup = -cc if (q < nx - 1 or periodic) else 0.0
            lo[j] = dt * dlo - s * left[q]
            di[j] = 1.0 - dt * (dlo + dup) + s * (left[q] - right[q])
            up[j] = dt * dup + s * right[q]
        im, ip = (i - 1) % nx, (i + 1) % nx
        ou[i] = di[1] * zu[i] + lo[1] * zu[im] + up[1] * zu[ip]
        om[i] = di[1] * zm[i] + up[0] * zm[im] + lo[2] * zm[ip]


@njit(cache=True)
def solve_level(left, right, dx, dt, nu, periodic, transpose, b, out, work):
    """H x = b (or H^T x = b) for one level from its upwind terms; ``work`` has 10 nx floats."""
    nx = b.size
    lo, di, up = work[:nx], work[nx : 2 * nx], work[2 * nx : 3 * nx]
    level_coefficients(left, right, dx, dt, nu, periodic, lo, di, up)
    if periodic:
        if transpose:
            tlo, tdi, tup = work[3 * nx : 4 * nx], work[4 * nx : 5 * nx], work[5 * nx : 6 * nx]
            transpose_coefficients(lo, di, up, tlo, tdi, tup)
            lo, di, up = tlo, tdi, tup
        solve_tridiagonal(lo, di, up, b, out, work[6 * nx : 9 * nx])
        return
    c, ib, a, e = work[3 * nx : 4 * nx], work[4 * nx : 5 * nx], work[5 * nx : 6 * nx], work[6 * nx : 7 * nx]
    thomas_factor(lo, di, up, a, c, ib, e)
    if transpose:
        thomas_ht(a, c, ib, e, b, out)
    else:
        thomas_h(a, c, ib, b, out)


@njit(cache=True)
def _factor_levels(left, right, n, count, dx, dt, nu, lo, di, up, c, ib, a, e):
    """Twisted factors (``_thomas``) of levels n..n+count-1 into rows 0..count-1 of c, ib, a, e
    (scratch lo, di, up: (GROUP, nx))."""
    for j in range(count):
        level_coefficients(left[n + j], right[n + j], dx, dt, nu, False, lo[j], di[j], up[j])
    factor_group(lo, di, up, a, c, ib, e, count)


@njit(cache=True)
def fp_march(left, right, m0, dx, dt, nu, periodic, m):
    """The Fokker-Planck sweep: m[0] = m0, H[n]^T m[n+1] = m[n] for n = 0..N-1 (m of shape (N+1, nx)).
    The factors of GROUP levels are made together (their division chains overlap)."""
    N, nx = left.shape
    m[0] = m0
    if periodic:
        work = np.empty(10 * nx)
        for n in range(N):
            solve_level(left[n], right[n], dx, dt, nu, True, True, m[n], m[n + 1], work)
        return
    work = np.empty((7, GROUP, nx))
    lo, di, up, c, ib, a, e = work[0], work[1], work[2], work[3], work[4], work[5], work[6]
    for n in range(0, N, GROUP):
        count = min(GROUP, N - n)
        _factor_levels(left, right, n, count, dx, dt, nu, lo, di, up, c, ib, a, e)
        for j in range(count):
            thomas_ht(a[j], c[j], ib[j], e[j], m[n + j], m[n + j + 1])


@njit(cache=True, parallel=True)
def newton_arrays(left, right, dleft, dright, m_next, dx, dt, nu, periodic, out, factors=True, derivative=True):
    """Fill ``out`` (6, N, nx) with (a, c, ib, e, P, Q) of Newton's operator (``_newton_kernels``):
    with ``factors``, the Thomas factors of every H (``_thomas``; not on a periodic grid, whose
    cyclic blocks the sweeps solve as they pass); with ``derivative``, P = dt dleft M / dx^2 and
    Q = dt dright M / dx^2 of the FP's derivative in U (dleft, dright, m_next not read without).
    Levels are independent: one parallel loop over groups of GROUP levels (run it under
    ``meanfolio._parallel.numba_threads``). The factors alone serve :func:`fp_march_factored`."""
    N, nx = left.shape
    a, c, ib, e, P, Q = out[0], out[1], out[2], out[3], out[4], out[5]
    k = dt / (dx * dx)
    for g in prange((N + GROUP - 1) // GROUP):
        n = g * GROUP
        count = min(GROUP, N - n)
        if derivative:
            for j in range(n, n + count):
                for i in range(nx):
                    P[j, i] = k * (dleft[j, i] * m_next[j, i])
                    Q[j, i] = k * (dright[j, i] * m_next[j, i])
        if factors and not periodic:
            lo, di, up = np.empty((GROUP, nx)), np.empty((GROUP, nx)), np.empty((GROUP, nx))
            s = slice(n, n + count)
            _factor_levels(left, right, n, count, dx, dt, nu, lo, di, up, c[s], ib[s], a[s], e[s])


@njit(cache=True)
def fp_march_factored(factors, m0, m):
    """:func:`fp_march` from the factors of :func:`newton_arrays` (rows 0-3 of ``factors``): the
    same numbers (non-periodic grids), and the factors stay for Newton's operator at the same point."""
    a, c, ib, e = factors[0], factors[1], factors[2], factors[3]
    m[0] = m0
    for n in range(a.shape[0]):
        thomas_ht(a[n], c[n], ib[n], e[n], m[n], m[n + 1])


@njit(cache=True)
def hjb_march(kind, param, f, g, u_init, has_init, dx, dt, nu, periodic, tol, max_iterations, u):
    """Solve the implicit upwind HJB backward for the cost f (N, nx) and terminal g (nx,) into u (N+1, nx).

    Level n solves ``U - U^{n+1} + dt (-nu Lap U + H_h(D- U, D+ U) - F^n) = 0`` by Newton from
    ``2 U^{n+1} - U^{n+2}`` (plus the second difference of ``u_init`` in time with ``has_init``:
    exact if u_init solves the same HJB) until the residual is at most
    ``tol (1 + max |u|)`` (max over the levels solved so far), as ``solve_hjb`` requires of all
    levels at once. Returns ``(status, iterations)``: status 0 converged, 1 a non-finite residual,
    2 a level not converged in ``max_iterations``; iterations the most any level needed.
    """
    N, nx = f.shape
    u[N] = g
    R = np.empty(nx)
    left = np.empty(nx)
    right = np.empty(nx)
    value = np.empty(nx)
    dleft = np.empty(nx)
    dright = np.empty(nx)
    delta = np.empty(nx)
    work = np.empty(10 * nx)
    umax = 0.0
    for i in range(nx):
        umax = max(umax, abs(g[i]))
    most = 0
    for n in range(N - 1, -1, -1):
        un, nxt, fn = u[n], u[n + 1], f[n]
        # first guess: the level above plus the change of u_init (if given), extrapolated
        # linearly in time (O(dt^2) away where u is smooth in t)
        for i in range(nx):
            if n < N - 1:
                un[i] = 2.0 * nxt[i] - u[n + 2, i]
                if has_init:
                    un[i] += u_init[n, i] - 2.0 * u_init[n + 1, i] + u_init[n + 2, i]
            else:
                un[i] = nxt[i] + (u_init[n, i] - u_init[n + 1, i] if has_init else 0.0)
        it = 0
        while True:
            upwind_row(kind, param, un, dx, periodic, value, left, right, dleft, dright)
            hjb_level_residual(un, nxt, value, fn, dx, dt, nu, periodic, dt, R)
            err = 0.0
            total = 0.0  # (max() would skip a NaN; a sum carries it)
            level = 0.0  # max |U| of this iterate (not of earlier ones: they may overshoot)
            for i in range(nx):
                err = max(err, abs(R[i]))
                total += R[i] + un[i]
                level = max(level, abs(un[i]))
            if not np.isfinite(total):
                return 1, max(most, it)
            if err <= tol * (1.0 + max(umax, level)):
                umax = max(umax, level)
                break
            if it >= max_iterations:
                return 2, it
            for i in range(nx):
                R[i] = -R[i]
            solve_level(left, right, dx, dt, nu, periodic, False, R, delta, work)
            for i in range(nx):
                un[i] += delta[i]
            it += 1
        most = max(most, it)
    return 0, most
