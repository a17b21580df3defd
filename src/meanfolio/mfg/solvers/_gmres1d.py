"""The compiled GMRES of the 1D Newton system (private; re-exported by ``_newton_kernels``).

Right-preconditioned by the decoupled sweep of ``_newton_kernels`` (see
:func:`gmres_into`). Its vectors are N nx long (2 M floats on a 2000 x 1000
grid), so its cost is passes over memory: the dot products are compiled
loops (numpy's dot goes to the threaded BLAS, which is ~10x slower on a busy
machine), each modified Gram-Schmidt step subtracts one direction and takes
the next dot product in the same pass, and the solution is combined from all
directions in one pass per vector.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from meanfolio._vector_kernels import SUMS, vdot

from ._newton_kernels import (
    close_column,
    column_norm,
    fp_sweep,
    hjb_sweep,
    rounding_floor,
    solve_triangular,
    start_cycle,
)


@njit(cache=True, fastmath=SUMS)
def mgs_pass(w, v, h, nxt):
    """w -= h v and return w . nxt (the updated w) in one pass: a modified Gram-Schmidt step fused
    with the next step's dot product (``nxt`` may be w itself: then the squared norm)."""
    s = 0.0
    for i in range(w.size):
        t = w[i] - h * v[i]
        w[i] = t
        s += t * nxt[i]
    return s


#: block of the combination passes (fits in L1 with a few vectors)
BLOCK = 512


@njit(cache=True, fastmath={"contract"})
def combine(y, k, vecs, out):
    """out += sum_{i < k} y[i] vecs[i] in one pass over out (blocks of BLOCK, directions in order)."""
    n = out.size
    for s in range(0, n, BLOCK):
        e = min(s + BLOCK, n)
        for i in range(k):
            yi = y[i]
            vi = vecs[i]
            for p in range(s, e):
                out[p] += yi * vi[p]


@njit(cache=True)
def _schur_apply(ops, y, out, zU, zM):
    """out = T y = y - C_U zU - C_M zM with zU = H^{-1} y, zM = -H^{-T} B zU (vectors of N nx)."""
    N, nx = zU.shape
    y2 = y.reshape(N, nx)
    hjb_sweep(ops, y2, zU)
    fp_sweep(ops, zM, False, zU, True, zM, y2, out.reshape(N, nx), -1.0, np.empty((0, 0)))


#: Krylov vectors whose sweeps (zU, zM) GMRES keeps, so that x = P^{-1} (w, b_M) is a combination
#: of them (by linearity) instead of two more sweeps
STORED = 8


@njit(cache=True)
def gmres_rows(restart):
    """Rows of the workspace of :func:`gmres_into` (each N nx floats; only the rows used are touched)."""
    return restart + 7 + 2 * min(restart, STORED)


@njit(cache=True)
def gmres(ops, b, rtol, restart, maxiter):
    """:func:`gmres_into` with its own workspace: returns ``(x, iterations, relative_residual)``."""
    N, nx = ops[4].shape
    x = np.zeros(2 * N * nx)
    its, rel, _ = gmres_into(ops, b, rtol, restart, maxiter, x, np.empty((gmres_rows(restart), N * nx)))
    return x, its, rel


@njit(cache=True)
def gmres_into(ops, b, rtol, restart, maxiter, x, work):
    """Restarted GMRES for Newton's system ``J x = b``, right-preconditioned by the decoupled sweep P.

    With J = [[H - C_U, -C_M], [B, H^T]] and P = [[H, 0], [B, H^T]], the preconditioned operator
    J P^{-1} is the identity on the FP rows, so the Krylov iteration runs on the HJB rows only
    (half the length): ``T w = b_U + C_M H^{-T} b_M`` with ``T = I - C_U H^{-1} + C_M H^{-T} B H^{-1}``,
    then ``x = P^{-1} (w, b_M) = (H^{-1} w, H^{-T} b_M - H^{-T} B H^{-1} w)``: with w = sum y_j V_j
    that is the same combination of the sweeps each product T V_j made (kept for the first
    ``STORED`` vectors of a cycle; beyond, two more sweeps).

    x (2 N nx, zeros) receives the solution; ``work`` is (``gmres_rows(restart)``, N nx) scratch
    (rows touched as needed; the caller may keep it between solves).
    Returns ``(iterations, relative_residual, floor)``: the residual of the reduced system relative
    to |b| (recomputed from the iterate after a restart cycle, GMRES's own estimate when the last
    cycle met ``rtol``) and the rounding floor below which that estimate certifies nothing
    (``_newton_kernels.rounding_floor``); ``(0, inf, inf)`` for a b whose squared norm under- or
    overflows (scale it first).
    """
    N, nx = ops[4].shape
    n = N * nx
    bnorm = np.sqrt(vdot(b, b))
    if not 1e-100 <= bnorm <= 1e100:  # zero, or |b|^2 near under- or overflow: scale b first
        x[:] = 0.0
        return (0, 0.0, 0.0) if not b.any() else (0, np.inf, np.inf)
    restart = max(restart, 1)
    keep = min(restart, STORED)
    V = work[: restart + 1]
    ZU = work[restart + 1 : restart + 1 + keep]
    ZM = work[restart + 1 + keep : restart + 1 + 2 * keep]
    base = restart + 1 + 2 * keep
    zU = work[base].reshape(N, nx)
    zM = work[base + 1].reshape(N, nx)
    rhs = work[base + 2]
    w = work[base + 3]
    wsol = work[base + 4]
    r = work[base + 5]
    bM = b[n:].reshape(N, nx)
    xU = x[:n]
    xM = x[n:]
    wsol[:] = 0.0
    xU[:] = 0.0
    # reduced right-hand side b_U + C_M H^{-T} b_M; x_M starts as H^{-T} b_M
    none = np.empty((0, 0))  # (no measurements: see fp_sweep)
    fp_sweep(ops, bM, True, zU, False, xM.reshape(N, nx), b[:n].reshape(N, nx), rhs.reshape(N, nx), 1.0, none)
    Hm = np.zeros((restart + 1, restart))
    cs = np.zeros(restart)
    sn = np.zeros(restart)
    g = np.zeros(restart + 1)
    total = 0
    rel = 1.0
    combined = True  # x holds P^{-1} (wsol, b_M) by combination
    first = True  # the residual is rhs itself (r is filled at the first restart)
    beta0 = np.sqrt(vdot(rhs, rhs))
    growth = 0.0  # max_j |T v_j| and sum |y_j|: the rounding the estimate cannot see
    ysum = 0.0
    while True:
        res = rhs if first else r
        beta = np.sqrt(vdot(res, res))
        rel = beta / bnorm
        if rel <= rtol or total >= maxiter:
            break
        start_cycle(res, beta, V[0], g, Hm)
        k = 0
        met = False
        for j in range(restart):
            if j < keep:
                _schur_apply(ops, V[j], w, ZU[j].reshape(N, nx), ZM[j].reshape(N, nx))
            else:
                _schur_apply(ops, V[j], w, zU, zM)
            # modified Gram-Schmidt, each subtraction fused with the next dot product
            h = vdot(w, V[0])
            for i in range(j + 1):
                Hm[i, j] = h
                h = mgs_pass(w, V[i], h, V[i + 1] if i < j else w)
            hn = np.sqrt(h)
            growth = max(growth, column_norm(Hm, j, hn))
            met = close_column(Hm, cs, sn, g, j, hn, w, V[j + 1], rtol, bnorm)
            total += 1
            k = j + 1
            if met or total >= maxiter or hn == 0.0:
                break
        y = np.zeros(k)
        solve_triangular(Hm, g, k, y)
        for j in range(k):
            ysum += abs(y[j])
        if k <= keep:
            combine(y, k, ZU, xU)
            combine(y, k, ZM, xM)
        else:
            combined = False
        if met and combined:  # done: x is complete, the sum of the V_j (wsol) is not needed
            rel = abs(g[k]) / bnorm
            break
        combine(y, k, V, wsol)
        if met:
            rel = abs(g[k]) / bnorm
            break
        _schur_apply(ops, wsol, w, zU, zM)
        for i in range(n):
            r[i] = rhs[i] - w[i]
        first = False
    if not combined:  # x = P^{-1} (wsol, b_M) by the two sweeps
        hjb_sweep(ops, wsol.reshape(N, nx), xU.reshape(N, nx))
        fp_sweep(ops, bM, True, xU.reshape(N, nx), True, xM.reshape(N, nx), zM, zM, 0.0, none)
    return total, rel, rounding_floor(beta0, growth, ysum, bnorm)
