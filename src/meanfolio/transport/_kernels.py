"""Compiled log-domain Sinkhorn iterations (private)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def _soft_min_rows(C, pot, logw, eps, out):
    """out_i = -eps log sum_j exp((pot_j - C_ij) / eps + logw_j)."""
    n, m = C.shape
    for i in prange(n):
        mx = -np.inf
        for j in range(m):
            v = (pot[j] - C[i, j]) / eps + logw[j]
            if v > mx:
                mx = v
        s = 0.0
        for j in range(m):
            s += np.exp((pot[j] - C[i, j]) / eps + logw[j] - mx)
        out[i] = -eps * (mx + np.log(s))


@njit(cache=True, parallel=True)
def _soft_min_cols(C, pot, logw, eps, out):
    """out_j = -eps log sum_i exp((pot_i - C_ij) / eps + logw_i), visiting C row by row.

    Rows are split into a fixed number of chunks (the result does not depend
    on the thread count): a per-chunk running max and rescaled sum, merged in
    chunk order (the streaming log-sum-exp).
    """
    n, m = C.shape
    nchunk = 8
    cmax = np.full((nchunk, m), -np.inf)
    csum = np.zeros((nchunk, m))
    for c in prange(nchunk):
        for i in range(c * n // nchunk, (c + 1) * n // nchunk):
            for j in range(m):
                v = (pot[i] - C[i, j]) / eps + logw[i]
                if v > cmax[c, j]:
                    csum[c, j] = csum[c, j] * np.exp(cmax[c, j] - v) + 1.0
                    cmax[c, j] = v
                else:
                    csum[c, j] += np.exp(v - cmax[c, j])
    for j in range(m):
        mx = -np.inf
        for c in range(nchunk):
            mx = max(mx, cmax[c, j])
        s = 0.0
        for c in range(nchunk):
            if csum[c, j] > 0.0:
                s += csum[c, j] * np.exp(cmax[c, j] - mx)
        out[j] = -eps * (mx + np.log(s))


@njit(cache=True)
def sinkhorn_log(C, loga, logb, eps, f, g, max_iter, tol):
    """Alternate the soft-min updates from (f, g) in place; returns (iterations, marginal error).

    The L1 error of the first marginal comes for free from the f-update: the
    row sums of the current plan are ``a_i exp((f_i - f_new_i) / eps)``.
    """
    n = f.size
    f_old = np.empty(n)
    err = np.inf
    for it in range(1, max_iter + 1):
        f_old[:] = f
        _soft_min_rows(C, g, logb, eps, f)
        if it > 1:
            err = 0.0
            for i in range(n):
                err += np.exp(loga[i]) * abs(np.exp((f_old[i] - f[i]) / eps) - 1.0)
            if err < tol:
                return it, err
        _soft_min_cols(C, f, loga, eps, g)
    return max_iter, err
