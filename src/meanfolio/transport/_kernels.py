"""Compiled log-domain Sinkhorn iterations (private).

``soft_min`` works on the rows of a cost matrix; the column update uses the
rows of the transposed copy, so both passes read memory in order and each
row's log-sum-exp is exact and independent of the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


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


@njit(cache=True)
def _marginal_error(loga, old, new, eps):
    # row sums of the plan of (old, g) are a_i exp((old_i - new_i) / eps)
    err = 0.0
    for i in range(old.size):
        err += np.exp(loga[i]) * abs(np.exp((old[i] - new[i]) / eps) - 1.0)
    return err


@njit(cache=True)
def sinkhorn_log(C, CT, loga, logb, eps, f, g, max_iter, tol, omega):
    """Over-relaxed alternating updates from (f, g) in place; returns (iterations, marginal error).

    ``f <- (1 - w) f + w T(g)`` with w = omega in [1, 2) (Thibault et al.
    2017); w falls back to 1 whenever the marginal error grows, so the plain
    (convergent) Sinkhorn iteration is never worse off. The L1 error of the
    first marginal comes from the f-update at no extra cost.
    """
    n = f.size
    t = np.empty(n)
    tg = np.empty(g.size)
    err = np.inf
    w = omega
    for it in range(1, max_iter + 1):
        soft_min(C, g, logb, eps, t)
        new_err = _marginal_error(loga, f, t, eps)
        if new_err > err:
            w = 1.0
        err = new_err
        if err < tol:
            f[:] = t
            soft_min(CT, f, loga, eps, g)
            return it, err
        for i in range(n):
            f[i] = (1.0 - w) * f[i] + w * t[i]
        soft_min(CT, f, loga, eps, tg)
        for j in range(g.size):
            g[j] = (1.0 - w) * g[j] + w * tg[j]
    return max_iter, err


@njit(cache=True)
def sinkhorn_symmetric(C, loga, eps, f, max_iter, tol):
    """OT_eps(a, a): the symmetric potential by the averaged map ``f <- (f + T(f)) / 2``
    (Feydy et al. 2019), which converges in a few iterations; returns (iterations, error)."""
    n = f.size
    t = np.empty(n)
    err = np.inf
    for it in range(1, max_iter + 1):
        soft_min(C, f, loga, eps, t)
        err = _marginal_error(loga, f, t, eps)
        for i in range(n):
            f[i] = 0.5 * (f[i] + t[i])
        if err < tol:
            return it, err
    return max_iter, err


@njit(cache=True, parallel=True)
def grid_wasserstein(Fa, Fb, x, orders, out):
    """W_p per row between two distributions on the nodes x from their cdfs (rows, n), last = 1.

    One merge of the two cdfs per row (two pointers): on each quantile interval (prev, level]
    the quantiles are the first nodes whose cdf reaches ``level``. out: (len(orders), rows).
    """
    rows, n = Fa.shape
    K = orders.size
    for r in prange(rows):
        acc = np.zeros(K)
        i = 0
        j = 0
        prev = 0.0
        while i < n and j < n:
            level = min(Fa[r, i], Fb[r, j])
            width = level - prev
            if width > 0.0:
                d = abs(x[i] - x[j])
                for k in range(K):
                    acc[k] += width * d ** orders[k]
                prev = level
            if Fa[r, i] <= level:
                i += 1
            if Fb[r, j] <= level:
                j += 1
        for k in range(K):
            out[k, r] = acc[k] ** (1.0 / orders[k])
