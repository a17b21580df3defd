"""Compiled kernels for the transport module (private).

1D Wasserstein: one merge of two cumulative weight arrays that end at the
*same* float (``quantile_merge``), so that no quantile interval is lost or
mis-paired by round-off.

Entropic OT: stabilised ("absorbed") Sinkhorn. The potentials are split as
``f = fa + eps log u``, ``g = ga + eps log v`` with the Gibbs kernel
``K_ij = exp((fa_i + ga_j - C_ij) / eps)`` built once per absorption
(``gibbs``); an iteration is then two matrix-vector products (BLAS) instead
of two log-sum-exp passes over the cost matrix. When a scaling leaves
``[exp(-tau), exp(tau)]`` or a product under/overflows, the caller absorbs
``u, v`` into ``fa, ga`` and rebuilds ``K``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# status codes returned by the iteration kernels
CONVERGED, BUDGET, ABSORB, NONFINITE = 0, 1, 2, 3


@njit(cache=True)
def quantile_merge(xu, Fu, xv, Fv, orders, acc):
    """acc[k] += sum over quantile intervals of width * |xu_i - xv_j|^orders[k].

    ``Fu``, ``Fv``: nondecreasing cumulative weights of the sorted atoms ``xu``, ``xv`` with
    ``Fu[-1] == Fv[-1]`` exactly (the caller guarantees it). On each interval (prev, level],
    level = min(Fu[i], Fv[j]), the quantiles are xu[i] and xv[j]; ties advance both.
    """
    n, m = Fu.size, Fv.size
    i = 0
    j = 0
    prev = 0.0
    while i < n and j < m:
        level = min(Fu[i], Fv[j])
        width = level - prev
        if width > 0.0:
            d = abs(xu[i] - xv[j])
            for k in range(orders.size):
                acc[k] += width * d ** orders[k]
            prev = level
        if Fu[i] <= level:
            i += 1
        if Fv[j] <= level:
            j += 1


@njit(cache=True, parallel=True)
def grid_wasserstein(Fa, Fb, x, orders, out):
    """W_p per row between two distributions on the nodes x; Fa, Fb (rows, n) cumulative
    weights whose rows end at the same value (the row's total). out: (len(orders), rows)."""
    rows, n = Fa.shape
    K = orders.size
    for r in prange(rows):
        acc = np.zeros(K)
        quantile_merge(x, Fa[r], x, Fb[r], orders, acc)
        for k in range(K):
            out[k, r] = (acc[k] / Fa[r, n - 1]) ** (1.0 / orders[k])


@njit(cache=True, parallel=True)
def soft_min(C, pot, logw, eps, out):
    """out_i = -eps log sum_j exp((pot_j - C_ij) / eps + logw_j) (two passes: max, then sum)."""
    n, m = C.shape
    inv = 1.0 / eps
    for i in prange(n):
        mx = -np.inf
        for j in range(m):
            v = (pot[j] - C[i, j]) * inv + logw[j]
            if v > mx:
                mx = v
        s = 0.0
        for j in range(m):
            s += np.exp((pot[j] - C[i, j]) * inv + logw[j] - mx)
        out[i] = -eps * (mx + np.log(s))


_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of log(2): k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_MAGIC = 6755399441055744.0  # 1.5 * 2^52: adding it puts an integer in the low mantissa bits
_MAGIC_BITS = 4843621399236968448  # the bits of _MAGIC as an int64


@njit(cache=True, fastmath={"contract", "arcp", "nsz"})
def _exp_inplace(z, bits):
    """z <- exp(z) for a row (z <= 709), 0 below -708; relative error ~1 ulp.

    Cody-Waite reduction, degree-13 Taylor polynomial, and 2^k assembled from its bits, with
    no call to libm, so that the loop vectorises (numba has no vector exp without SVML).
    """
    pow2 = bits.view(np.float64)
    for j in range(z.size):
        x = max(z[j], -708.0)
        k = math.floor(x * _INV_LN2 + 0.5)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        pow2[j] = k + (_MAGIC + 1023.0)
        z[j] = p if z[j] >= -708.0 else 0.0
    for j in range(z.size):
        bits[j] = (bits[j] - _MAGIC_BITS) << 52
    for j in range(z.size):
        z[j] *= pow2[j]


@njit(cache=True, parallel=True)
def gibbs(C, fa, ga, eps, K):
    """K_ij = exp((fa_i + ga_j - C_ij) / eps), in place (rows in parallel)."""
    n, m = C.shape
    inv = 1.0 / eps
    for i in prange(n):
        bits = np.empty(m, np.int64)
        row = K[i]
        for j in range(m):
            row[j] = (fa[i] + ga[j] - C[i, j]) * inv
        _exp_inplace(row, bits)


@njit(cache=True)
def _bad(x, tau):
    """True when a scaling is not finite, not positive or outside [exp(-tau), exp(tau)]."""
    lo, hi = math.exp(-tau), math.exp(tau)
    for i in range(x.size):
        if not (lo <= x[i] <= hi):
            return True
    return False


@njit(cache=True)
def sinkhorn_iterate(K, a, b, u, v, col_err, omega, adapt, window, tol, max_iter, tau, hist, start):
    """Over-relaxed Sinkhorn on the scalings (u, v) in place, ``f <- f + w (T(g) - f)``.

    Stops when the L1 error of both marginals of the current pair is below ``tol`` (status
    CONVERGED), after ``max_iter`` iterations (BUDGET), or when a scaling needs absorbing
    (ABSORB / NONFINITE: u, v are left at the last good pair). ``col_err``: the column error of
    the pair on entry. With ``adapt``, w is re-estimated every 10 iterations from the observed
    rate lam of the error with Young's relation for SOR on a 2-cyclic system,
    ``(lam + w - 1)^2 = lam w^2 mu^2`` -> ``w* = 2 / (1 + sqrt(1 - mu^2))``, and halved towards 1
    when the error grows; ``window`` = [iterations in the window, error at its start] carries
    this across calls. Errors go to hist[start + it]. Returns (iterations, error, status, w,
    col_err).
    """
    n, m = u.size, v.size
    bv = b * v
    win, e0 = int(window[0]), window[1]
    err = np.inf
    for it in range(max_iter):
        r = np.dot(K, bv)
        row_err = 0.0
        for i in range(n):
            row_err += a[i] * abs(u[i] * r[i] - 1.0)
        if not math.isfinite(row_err):
            return it, row_err, NONFINITE, omega, col_err
        err = row_err + col_err  # col_err is inf on entry after a build (unknown)
        hist[start + it] = err
        if err < tol:
            return it, err, CONVERGED, omega, col_err
        if adapt:
            if win == 0 or not math.isfinite(e0):
                win, e0 = 0, err
            elif win >= 10:
                lam = (err / e0) ** 0.1
                if lam >= 1.0:
                    omega = 1.0 + 0.5 * (omega - 1.0)
                elif lam > 0.0:
                    mu2 = min((lam + omega - 1.0) ** 2 / (lam * omega * omega), 1.0)
                    omega = 2.0 / (1.0 + math.sqrt(1.0 - mu2))
                win, e0 = 0, err
            win += 1
            window[0], window[1] = win, e0
        un = u * (u * r) ** (-omega)
        if _bad(un, tau):
            return it, err, ABSORB, omega, col_err
        c = np.dot(K.T, a * un)
        vc = v * c
        vn = v * vc ** (-omega)
        if _bad(vn, tau):
            return it, err, ABSORB, omega, col_err
        u[:] = un
        v[:] = vn
        bv = b * v
        col_err = 0.0
        for j in range(m):
            col_err += b[j] * abs(vc[j] ** (1.0 - omega) - 1.0)
    return max_iter, err, BUDGET, omega, col_err


@njit(cache=True)
def symmetric_iterate(K, a, u, tol, max_iter, tau, hist, start):
    """OT_eps(a, a) with K = K^T: the averaged map ``f <- (f + T(f)) / 2`` (Feydy et al. 2019),
    i.e. ``u <- sqrt(u / (K a u))``; contracts by about 1/2 per step. The error is the L1 error of
    both marginals of the pair (f, f). Returns (iterations, error, status)."""
    err = np.inf
    for it in range(max_iter):
        r = np.dot(K, a * u)
        err = 0.0
        for i in range(u.size):
            err += 2.0 * a[i] * abs(u[i] * r[i] - 1.0)
        if not math.isfinite(err):
            return it, err, NONFINITE
        hist[start + it] = err
        if err < tol:
            return it, err, CONVERGED
        un = np.sqrt(u / r)
        if _bad(un, tau):
            return it, err, ABSORB
        u[:] = un
    return max_iter, err, BUDGET


@njit(cache=True)
def finish(K, a, b, u, v):
    """Exact column marginal: ``g <- T(f)`` (v = 1 / K^T(a u)), then the row marginal of the final
    pair. Returns (L1 error of both marginals, total mass); u, v updated in place."""
    c = np.dot(K.T, a * u)
    for j in range(v.size):
        v[j] = 1.0 / c[j]
    col = 0.0
    for j in range(v.size):
        col += b[j] * abs(v[j] * c[j] - 1.0)
    r = np.dot(K, b * v)
    row, mass = 0.0, 0.0
    for i in range(u.size):
        row += a[i] * abs(u[i] * r[i] - 1.0)
        mass += a[i] * u[i] * r[i]
    return row + col, mass
