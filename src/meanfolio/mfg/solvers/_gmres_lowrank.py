"""GMRES of the 1D Newton system for mean-field (low-rank) couplings, on compressed vectors (private).

``_gmres1d`` runs GMRES on the reduced system ``T w = r`` of the HJB rows,
with vectors of N nx floats. When neither f nor g has a local term (the
couplings act through a few moments of m or of the controls, e.g.
``MeanTracking``, ``MeanInteraction``, ``MarketImpact``), T is the identity
plus a low-rank operator:

    T y = y - C S(y),   S(y)[n] = (WM[n] . zM[n], WU[n] . zU[n]),
    zU = H^{-1} y,      zM = -H^{-T} B zU,

with C[n] the K = KM + KU columns (CM[n, k], CU[n, k]) of level n, and
``r = b_U + C s0`` with s0[n] = (WM[n] . xM0[n], 0) and xM0 = H^{-T} b_M. So
every Krylov vector of T from r lies in E = span{r} + range(C), which T maps
into itself. This module runs the *same* GMRES (same Krylov space, same
minimised residual, same iterations) in an orthonormal basis of E:

    e = r_perp / |r_perp|,  r_perp = b_U - C p,  p[n] = G[n]^{-1} C[n]^T b_U[n],
    C[n] L[n]^{-T}           (G[n] = C[n]^T C[n] = L[n] L[n]^T, Cholesky),

so a vector is 1 + N K coordinates v and ``y = v_0 e + sum_n C[n] L[n]^{-T} v_n
= alpha r + C tau`` with ``alpha = v_0 / |r_perp|`` and
``tau[n] = L[n]^{-T} v_n - alpha pi[n]``, ``pi = p + s0``. In these
coordinates T is ``v -> v - (0, L[n]^T S(y)[n])`` and its Euclidean norm is
the norm of the full residual, so Gram-Schmidt, the rotations and the
residual estimate cost nothing next to the products. Each product sweeps
only ``C tau`` (its right-hand side formed level by level inside the HJB
sweep, its measurements taken inside the FP sweep while each level is in
cache): no vector of N nx floats is written except the two sweeps, kept for
the solution as in ``_gmres1d``. S(r) is swept once, by the first product.

A column equal to an earlier one (``MarketImpact`` has the same c in C_M
and C_U) gets no coordinate: its L column is zero. Not for couplings with a
local term (T minus the identity is then of full rank) nor when the columns
of a level are otherwise (nearly) linearly dependent: the kernel returns -1
iterations and the caller uses ``_gmres1d``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from meanfolio._vector_kernels import vdot

from ._gmres1d import STORED, combine
from ._newton_kernels import _axpy, fp_sweep, givens_column, hjb_level, solve_triangular

#: a level's columns count as linearly dependent when a Cholesky pivot of their Gram matrix
#: falls below this fraction of its largest diagonal entry
DEPENDENT = 1e-8


@njit(cache=True)
def lowrank_hjb_sweep(ops, base, beta, tau, out):
    """out[n] = H[n]^{-1} (beta base[n] + C[n] tau[n] + out[n+1]), n = N-1..0: the HJB sweep of
    ``beta base + C tau`` (base not read when beta = 0), its right-hand side formed per level."""
    CM, CU = ops[9], ops[11]
    KM = CM.shape[1]
    N, nx = out.shape
    b = np.empty(nx)
    work = np.empty(10 * nx)
    for n in range(N - 1, -1, -1):
        if beta != 0.0:
            row = base[n]
            for i in range(nx):
                b[i] = beta * row[i]
        else:
            b[:] = 0.0
        if n < N - 1:
            _axpy(1.0, out[n + 1], b)
        for k in range(KM):
            if tau[n, k] != 0.0:
                _axpy(tau[n, k], CM[n, k], b)
        for k in range(CU.shape[1]):
            if tau[n, KM + k] != 0.0:
                _axpy(tau[n, KM + k], CU[n, k], b)
        hjb_level(ops, n, b, out[n], work)


@njit(cache=True)
def _column(ops, n, k):
    # column k of level n: CM[n, k] for k < KM, else CU[n, k - KM]
    KM = ops[9].shape[1]
    return ops[9][n, k] if k < KM else ops[11][n, k - KM]


@njit(cache=True)
def level_bases(ops, bU, L, p):
    """Cholesky factors L[n] of the Gram matrices of each level's columns and p[n] (module
    docstring); returns |r_perp|^2, or -1.0 when some level's columns are (nearly) dependent."""
    N, K = p.shape
    G = np.empty((K, K))
    cb = np.empty(K)
    resid = np.empty(bU.shape[1])
    total = 0.0
    for n in range(N):
        for j in range(K):
            cj = _column(ops, n, j)
            cb[j] = vdot(cj, bU[n])
            for k in range(j + 1):
                G[j, k] = vdot(cj, _column(ops, n, k))
        Ln = L[n]
        Ln[:, :] = 0.0
        scale = 0.0
        for j in range(K):
            scale = max(scale, G[j, j])
        for j in range(K):  # Cholesky, lower
            if _repeats(ops, n, j):  # (e.g. MarketImpact's C_M and C_U): no coordinate of its own
                continue  # (L[j, j] = 0 and L[i > j, j] = 0; row j is the earlier column's row)
            d = G[j, j]
            for k in range(j):
                d -= Ln[j, k] * Ln[j, k]
            if not d > DEPENDENT * scale:
                return -1.0
            Ln[j, j] = np.sqrt(d)
            for i in range(j + 1, K):
                t = G[i, j]
                for k in range(j):
                    t -= Ln[i, k] * Ln[j, k]
                Ln[i, j] = t / Ln[j, j]
        _cholesky_solve(Ln, cb, p[n])
        # |b_U[n] - C[n] p[n]|^2 directly (no cancellation, unlike |b_U|^2 - p^T G p)
        resid[:] = bU[n]
        for k in range(K):
            _axpy(-p[n, k], _column(ops, n, k), resid)
        total += vdot(resid, resid)
    return total


@njit(cache=True)
def _repeats(ops, n, j):
    """Whether column j of level n equals an earlier column exactly."""
    cj = _column(ops, n, j)
    for k in range(j):
        ck = _column(ops, n, k)
        same = True
        for i in range(cj.size):
            if cj[i] != ck[i]:
                same = False
                break
        if same:
            return True
    return False


@njit(cache=True)
def _divide(t, d):
    # t / d, and 0 for a repeated column (d = 0: its coordinate and its tau stay zero)
    return t / d if d != 0.0 else 0.0


@njit(cache=True)
def _cholesky_solve(L, rhs, out):
    # out = (L L^T)^+ rhs: a least-squares solution, zero on repeated columns
    K = rhs.size
    for j in range(K):
        t = rhs[j]
        for k in range(j):
            t -= L[j, k] * out[k]
        out[j] = _divide(t, L[j, j])
    for j in range(K - 1, -1, -1):
        t = out[j]
        for k in range(j + 1, K):
            t -= L[k, j] * out[k]
        out[j] = _divide(t, L[j, j])


@njit(cache=True)
def _to_sweep(v, L, pi, rperp, tau):
    """alpha and tau of the vector with coordinates v: y = alpha r + C tau."""
    N, K = tau.shape
    alpha = v[0] / rperp if rperp > 0.0 else 0.0
    for n in range(N):  # tau[n] = L[n]^{-T} v_n - alpha pi[n]
        for j in range(K - 1, -1, -1):
            t = v[1 + n * K + j]
            for k in range(j + 1, K):
                t -= L[n, k, j] * tau[n, k]
            tau[n, j] = _divide(t, L[n, j, j])
        for j in range(K):
            tau[n, j] -= alpha * pi[n, j]
    return alpha


@njit(cache=True)
def _apply(v, L, s, out):
    """out = T v in coordinates: v - (0, L[n]^T s[n])."""
    N, K = s.shape
    out[0] = v[0]
    for n in range(N):
        for j in range(K):
            t = 0.0
            for k in range(j, K):
                t += L[n, k, j] * s[n, k]
            out[1 + n * K + j] = v[1 + n * K + j] - t


@njit(cache=True)
def gmres_lowrank(ops, b, rtol, restart, maxiter, x, work):
    """GMRES for Newton's system ``J x = b`` on compressed vectors (module docstring).

    Same contract as ``_gmres1d.gmres_into`` (x of 2 N nx floats receives the solution, ``work``
    of ``gmres_rows(restart)`` rows of N nx floats, of which 2 STORED + 2 are touched); returns
    ``(iterations, relative_residual)``, the residual relative to |b| computed in the orthonormal
    coordinates (exact to rounding), or ``(-1, inf)`` when the columns of some level are
    linearly dependent (x untouched: use ``_gmres1d``).
    """
    N, nx = ops[4].shape
    n = N * nx
    K = ops[9].shape[1] + ops[11].shape[1]
    keep = min(restart, STORED) - 1
    bU = b[:n].reshape(N, nx)
    bM = b[n:].reshape(N, nx)
    L = np.empty((N, K, K))
    p = np.empty((N, K))
    r2 = level_bases(ops, bU, L, p)
    if r2 < 0.0:
        return -1, np.inf
    bnorm = np.sqrt(vdot(b, b))
    xU = x[:n].reshape(N, nx)
    xM = x[n:].reshape(N, nx)
    if bnorm == 0.0:
        x[:] = 0.0
        return 0, 0.0
    # the sweeps of r (row 0), then those of the kept vectors (slots 1..keep): one combination
    # per cycle takes them all
    ZU = work[: keep + 1]
    ZM = work[keep + 1 : 2 * keep + 2]
    rU = ZU[0].reshape(N, nx)
    rM = ZM[0].reshape(N, nx)
    zU = work[2 * keep + 2].reshape(N, nx)
    zM = work[2 * keep + 3].reshape(N, nx)
    # xM0 = H^{-T} b_M and s0 = its measurements; pi = p + s0, coordinates of r
    pi = np.zeros((N, K))
    fp_sweep(ops, bM, True, zU, False, xM, zM, zM, 0.0, pi)
    s0 = pi.copy()
    pi += p
    rperp = np.sqrt(r2)
    dim = 1 + N * K
    res = np.empty(dim)
    _apply_lt(rperp, L, pi, res)
    xU[:, :] = 0.0
    V = np.empty((restart + 1, dim))
    AV = np.empty((restart, dim))
    taus = np.empty((restart, N, K))
    alphas = np.zeros(restart)
    slots = np.full(restart, -1)  # where a vector's sweeps of C tau are kept (-1: none, or not kept)
    s = np.empty((N, K))
    Hm = np.zeros((restart + 1, restart))
    cs = np.zeros(restart)
    sn = np.zeros(restart)
    g = np.zeros(restart + 1)
    gamma = 0.0  # the solution w = gamma r + C omega
    omega = np.zeros((N, K))
    swept_r = False
    combined = True
    total = 0
    rel = 1.0
    while True:
        beta = np.sqrt(vdot(res, res))
        rel = beta / bnorm
        if rel <= rtol or total >= maxiter:
            break
        for i in range(dim):
            V[0, i] = res[i] / beta
        g[:] = 0.0
        g[0] = beta
        Hm[:, :] = 0.0
        k = 0
        met = False
        used = 0
        for j in range(restart):
            if not swept_r:  # the first vector is r / |r|: sweep r itself, once
                lowrank_hjb_sweep(ops, bU, 1.0, s0, rU)
                fp_sweep(ops, rM, False, rU, True, rM, rM, rM, 0.0, s)
                s_r = s.copy()
                swept_r = True
                alphas[j] = 1.0 / beta
                taus[j] = 0.0
                slots[j] = -1
                s *= alphas[j]
            else:
                alphas[j] = _to_sweep(V[j], L, pi, rperp, taus[j])
                slot = used + 1 if used < keep else -1
                tU = ZU[slot].reshape(N, nx) if slot >= 0 else zU
                tM = ZM[slot].reshape(N, nx) if slot >= 0 else zM
                lowrank_hjb_sweep(ops, bU, 0.0, taus[j], tU)
                fp_sweep(ops, tM, False, tU, True, tM, tM, tM, 0.0, s)
                slots[j] = slot
                used += 1
                if slot < 0:
                    combined = False
                for q in range(N):
                    for c in range(K):
                        s[q, c] += alphas[j] * s_r[q, c]
            w = AV[j]
            _apply(V[j], L, s, w)
            vec = V[j + 1]
            vec[:] = w
            for i in range(j + 1):  # modified Gram-Schmidt on the coordinates
                h = vdot(vec, V[i])
                Hm[i, j] = h
                for q in range(dim):
                    vec[q] -= h * V[i, q]
            hn = np.sqrt(vdot(vec, vec))
            Hm[j + 1, j] = hn
            if hn > 0.0:
                for q in range(dim):
                    vec[q] /= hn
            givens_column(Hm, cs, sn, g, j)
            total += 1
            k = j + 1
            met = abs(g[j + 1]) <= rtol * bnorm
            if met or total >= maxiter or hn == 0.0:
                break
        y = np.zeros(k)
        solve_triangular(Hm, g, k, y)
        # the solution and the next residual, all in coordinates: res -= sum y_j T v_j
        cycle_gamma = 0.0
        for j in range(k):
            cycle_gamma += y[j] * alphas[j]
            for q in range(N):
                for c in range(K):
                    omega[q, c] += y[j] * taus[j, q, c]
            for q in range(dim):
                res[q] -= y[j] * AV[j, q]
        gamma += cycle_gamma
        if combined:  # x_U += gamma_cycle H^{-1} r + sum y_j H^{-1} C tau_j, x_M likewise
            ys = np.zeros(used + 1)  # (only the rows written in this cycle: the others hold garbage)
            ys[0] = cycle_gamma
            for j in range(k):
                if slots[j] >= 0:
                    ys[slots[j]] = y[j]
            combine(ys, used + 1, ZU, x[:n])
            combine(ys, used + 1, ZM, x[n:])
        if met:
            rel = abs(g[k]) / bnorm
            break
    if not combined:  # x = P^{-1} (w, b_M) with w = gamma r + C omega, by two more sweeps
        lowrank_hjb_sweep(ops, bU, 0.0, omega, xU)
        fp_sweep(ops, bM, True, xU, True, xM, zM, zM, 0.0, np.empty((0, 0)))
        _axpy(gamma, rU.reshape(-1), x[:n])
        _axpy(gamma, rM.reshape(-1), x[n:])
    return total, rel


@njit(cache=True)
def _apply_lt(rperp, L, pi, out):
    # coordinates of r: (|r_perp|, L[n]^T pi[n])
    N, K = pi.shape
    out[0] = rperp
    for n in range(N):
        for j in range(K):
            t = 0.0
            for k in range(j, K):
                t += L[n, k, j] * pi[n, k]
            out[1 + n * K + j] = t
