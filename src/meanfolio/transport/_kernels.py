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
    """out_j = -eps log sum_i exp((pot_i - C_ij) / eps + logw_i), visiting C row by row."""
    n, m = C.shape
    mx = np.full(m, -np.inf)
    for i in range(n):
        for j in range(m):
            v = (pot[i] - C[i, j]) / eps + logw[i]
            if v > mx[j]:
                mx[j] = v
    nchunk = 8
    partial = np.zeros((nchunk, m))
    for c in prange(nchunk):
        for i in range(c * n // nchunk, (c + 1) * n // nchunk):
            for j in range(m):
                partial[c, j] += np.exp((pot[i] - C[i, j]) / eps + logw[i] - mx[j])
    for j in range(m):
        s = 0.0
        for c in range(nchunk):
            s += partial[c, j]
        out[j] = -eps * (mx[j] + np.log(s))


@njit(cache=True)
def _marginal_error(C, f, g, loga, logb, eps):
    """L1 error of the first marginal of P = exp((f + g - C)/eps) a b against a."""
    n, m = C.shape
    err = 0.0
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += np.exp((f[i] + g[j] - C[i, j]) / eps + loga[i] + logb[j])
        err += abs(s - np.exp(loga[i]))
    return err


@njit(cache=True)
def sinkhorn_log(C, loga, logb, eps, f, g, max_iter, tol, check_every):
    """Alternate the soft-min updates from (f, g) in place; returns (iterations, marginal error)."""
    err = np.inf
    for it in range(1, max_iter + 1):
        _soft_min_rows(C, g, logb, eps, f)
        _soft_min_cols(C, f, loga, eps, g)
        if it % check_every == 0 or it == max_iter:
            err = _marginal_error(C, f, g, loga, logb, eps)
            if err < tol:
                return it, err
    return max_iter, err
