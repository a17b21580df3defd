"""GMRES of the 1D Newton system for mean-field (low-rank) couplings, on N K numbers (private).

``_gmres1d`` runs GMRES on the reduced system ``T w = r`` of the HJB rows,
with vectors of N nx floats. When neither f nor g has a local term (the
couplings act through a few moments of m or of the controls, e.g.
``MeanTracking``, ``MeanInteraction``, ``MarketImpact``), T is the identity
plus a low-rank operator:

    T y = y - C S(y),   S(y)[n] = (WM[n] . zM[n], WU[n] . zU[n]),
    zU = H^{-1} y,      zM = -H^{-T} B zU,
    r = b_U + C s0,     s0[n] = (WM[n] . xM0[n], 0),  xM0 = H^{-T} b_M,

with C[n] the K = KM + KU columns (CM[n, k], CU[n, k]) of level n. So the
solution is w = b_U + C sigma for some sigma of N K numbers, and
``T w = r`` becomes the small system

    (I - S C) sigma = rho,   rho = S(b_U) + s0 = the measurements of x0 = P^{-1} b,

P the decoupled sweep (``x0`` is what the preconditioner alone gives). Its
residual is the full one: ``r - T w = C (rho - (I - S C) sigma)``, whose norm
is ``|L^T (rho - (I - S C) sigma)|`` with ``G[n] = C[n]^T C[n] = L[n] L[n]^T``
(Cholesky, level by level). GMRES runs in the coordinates ``v = L^T sigma``,
where that is the Euclidean norm: Gram-Schmidt, the rotations and the
residual estimate cost nothing next to the products, and each product sweeps
only ``C sigma_j`` (its right-hand side formed level by level inside the HJB
sweep, its measurements taken inside the FP sweep while each level is in
cache). The solution is ``x = x0 + sum_j y_j P^{-1} (C sigma_j, 0)``, by a
combination of the kept sweeps as in ``_gmres1d``.

Starting from x0 rather than from zero saves a sweep per solve and often the
whole iteration (on the LQ game of ``mfg.md``, 2000 x 1000: 1, 0 and 2
iterations for Newton's three solves, against 2, 1 and 3 for ``_gmres1d``).

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

from ._gmres1d import BLOCK, STORED
from ._newton_kernels import (
    _axpy,
    close_column,
    column_norm,
    fp_sweep,
    hjb_level,
    hjb_sweep,
    rounding_floor,
    solve_triangular,
    start_cycle,
)

#: a level's columns count as linearly dependent when a column's part outside the span of the
#: earlier ones (its squared Cholesky pivot) is below this fraction of its squared norm
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


#: scratch rows of :func:`gmres_lowrank`
ROWS = 2 * STORED + 2


@njit(cache=True, fastmath={"contract"})
def combine_rows(y, k, rows, first, out):
    """out += sum_{i < k} y[i] rows[first + i] in one pass over out (``_gmres1d.combine`` for a
    tuple of rows)."""
    n = out.size
    for s in range(0, n, BLOCK):
        e = min(s + BLOCK, n)
        for i in range(k):
            yi = y[i]
            vi = rows[first + i]
            for p in range(s, e):
                out[p] += yi * vi[p]


@njit(cache=True)
def _column(ops, n, k):
    # column k of level n: CM[n, k] for k < KM, else CU[n, k - KM]
    KM = ops[9].shape[1]
    return ops[9][n, k] if k < KM else ops[11][n, k - KM]


@njit(cache=True)
def level_bases(ops, L):
    """Cholesky factors L[n] (N, K, K) of the Gram matrices of each level's columns (zero columns
    for a repeated column); False when some level's columns are otherwise (nearly) dependent."""
    N, K = L.shape[:2]
    G = np.empty((K, K))
    for n in range(N):
        for j in range(K):
            cj = _column(ops, n, j)
            for k in range(j + 1):
                G[j, k] = vdot(cj, _column(ops, n, k))
        Ln = L[n]
        Ln[:, :] = 0.0
        for j in range(K):  # Cholesky, lower
            if _repeats(ops, n, j):  # (e.g. MarketImpact's C_M and C_U): no coordinate of its own
                continue  # (L[j, j] = 0 and L[i > j, j] = 0; row j is the earlier column's row)
            d = G[j, j]
            for k in range(j):
                d -= Ln[j, k] * Ln[j, k]
            if not d > DEPENDENT * G[j, j]:  # (relative to the column's own size: scale-free)
                return False
            Ln[j, j] = np.sqrt(d)
            for i in range(j + 1, K):
                t = G[i, j]
                for k in range(j):
                    t -= Ln[i, k] * Ln[j, k]
                Ln[i, j] = t / Ln[j, j]
    return True


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
def _to_sigma(v, L, sigma):
    """sigma = L^{-T} v level by level (zero on repeated columns)."""
    N, K = sigma.shape
    for n in range(N):
        for j in range(K - 1, -1, -1):
            t = v[n * K + j]
            for k in range(j + 1, K):
                t -= L[n, k, j] * sigma[n, k]
            sigma[n, j] = _divide(t, L[n, j, j])


@njit(cache=True)
def _lt(L, s, out, sign):
    """out = v + sign L^T s level by level, v the entering out (out = 0 first for L^T s itself)."""
    N, K = s.shape
    for n in range(N):
        for j in range(K):
            t = 0.0
            for k in range(j, K):
                t += L[n, k, j] * s[n, k]
            out[n * K + j] += sign * t


@njit(cache=True)
def gmres_lowrank(ops, b, rtol, restart, maxiter, x, rows):
    """GMRES for Newton's system ``J x = b`` on N K coordinates (module docstring).

    Like ``_gmres1d.gmres_into`` (x of 2 N nx floats receives the solution), with its scratch as
    ``rows``, a tuple of ``ROWS`` arrays of N nx floats (separate arrays: each below malloc's
    mmap threshold, so the heap recycles them between solves instead of mapping fresh pages,
    ~10 ms per 2000 x 1000 solve as one block); returns
    ``(iterations, relative_residual, floor)``: the GMRES iterations after the preconditioner's x0
    (0 when x0 is close enough), the residual relative to |b| computed in the coordinates (the
    full residual's norm, up to the rounding of the products) and the rounding floor below which
    that estimate certifies nothing (``_newton_kernels.rounding_floor``; large with a strong
    coupling); ``(-1, inf, inf)`` when the columns of some level are linearly dependent (x
    untouched: use ``_gmres1d``); ``(0, inf, inf)`` for a b whose squared norm under- or overflows.
    """
    N, nx = ops[4].shape
    n = N * nx
    K = ops[9].shape[1] + ops[11].shape[1]
    restart = max(restart, 1)
    keep = min(restart, STORED)
    L = np.empty((N, K, K))
    if not level_bases(ops, L):
        return -1, np.inf, np.inf
    bnorm = np.sqrt(vdot(b, b))
    if not 1e-100 <= bnorm <= 1e100:  # zero, or |b|^2 near under- or overflow: scale b first
        x[:] = 0.0
        return (0, 0.0, 0.0) if not b.any() else (0, np.inf, np.inf)
    xU = x[:n].reshape(N, nx)
    xM = x[n:].reshape(N, nx)
    # rows[j], rows[STORED + j]: the sweeps P^{-1} (C sigma_j, 0) of the first ``keep`` vectors of
    # a cycle; the last two rows: those of the others
    # x0 = P^{-1} b and rho = its measurements; the residual's coordinates L^T rho
    dim = N * K
    rho = np.zeros((N, K))
    hjb_sweep(ops, b[:n].reshape(N, nx), xU)
    fp_sweep(ops, b[n:].reshape(N, nx), True, xU, True, xM, xM, xM, 0.0, rho)
    res = np.zeros(dim)
    _lt(L, rho, res, 1.0)
    V = np.empty((restart + 1, dim))
    AV = np.empty((restart, dim))
    sigmas = np.empty((restart, N, K))
    sigma = np.zeros((N, K))  # the solution's sigma (for x by two sweeps when not all are kept)
    s = np.empty((N, K))
    Hm = np.zeros((restart + 1, restart))
    cs = np.zeros(restart)
    sn = np.zeros(restart)
    g = np.zeros(restart + 1)
    combined = True
    total = 0
    rel = 1.0
    beta0 = np.sqrt(vdot(res, res))
    growth = 0.0  # max_j |(I - S C) v_j| and sum |y_j|: the rounding the estimate cannot see
    ysum = 0.0
    while True:
        beta = np.sqrt(vdot(res, res))
        rel = beta / bnorm
        if rel <= rtol or total >= maxiter:
            break
        start_cycle(res, beta, V[0], g, Hm)
        k = 0
        met = False
        for j in range(restart):
            _to_sigma(V[j], L, sigmas[j])
            tU = (rows[j] if j < keep else rows[2 * STORED]).reshape(N, nx)
            tM = (rows[STORED + j] if j < keep else rows[2 * STORED + 1]).reshape(N, nx)
            combined = combined and j < keep
            lowrank_hjb_sweep(ops, tU, 0.0, sigmas[j], tU)
            fp_sweep(ops, tM, False, tU, True, tM, tM, tM, 0.0, s)
            w = AV[j]  # (I - S C) sigma_j in coordinates: v_j - L^T S(C sigma_j)
            w[:] = V[j]
            _lt(L, s, w, -1.0)
            vec = V[j + 1]
            vec[:] = w
            for i in range(j + 1):  # modified Gram-Schmidt on the coordinates
                h = vdot(vec, V[i])
                Hm[i, j] = h
                for q in range(dim):
                    vec[q] -= h * V[i, q]
            hn = np.sqrt(vdot(vec, vec))
            growth = max(growth, column_norm(Hm, j, hn))
            met = close_column(Hm, cs, sn, g, j, hn, vec, vec, rtol, bnorm)
            total += 1
            k = j + 1
            if met or total >= maxiter or hn == 0.0:
                break
        y = np.zeros(k)
        solve_triangular(Hm, g, k, y)
        for j in range(k):
            ysum += abs(y[j])
        # the solution and the next residual, in coordinates: res -= sum y_j (I - S C) v_j
        for j in range(k):
            for q in range(N):
                for c in range(K):
                    sigma[q, c] += y[j] * sigmas[j, q, c]
            for q in range(dim):
                res[q] -= y[j] * AV[j, q]
        if combined:  # x += sum y_j P^{-1} (C sigma_j, 0): the kept sweeps
            combine_rows(y, k, rows, 0, x[:n])
            combine_rows(y, k, rows, STORED, x[n:])
        if met:
            rel = abs(g[k]) / bnorm
            break
    if not combined:  # x = P^{-1} (b_U + C sigma, b_M) by two more sweeps
        lowrank_hjb_sweep(ops, b[:n].reshape(N, nx), 1.0, sigma, xU)
        fp_sweep(ops, b[n:].reshape(N, nx), True, xU, True, xM, xM, xM, 0.0, np.empty((0, 0)))
    return total, rel, rounding_floor(beta0, growth, ysum, bnorm)
