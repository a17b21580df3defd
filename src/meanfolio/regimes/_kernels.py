"""Compiled HMM recursions (private): scaled forward-backward for EM, log-space forward (score) and Viterbi."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _logsumexp(v):
    m = v.max()
    if m == -np.inf:
        return -np.inf
    s = 0.0
    for x in v:
        s += np.exp(x - m)
    return m + np.log(s)


@njit(cache=True)
def forward(log_b, log_pi, log_a):
    """log alpha (T, K) and the log-likelihood."""
    T, K = log_b.shape
    la = np.empty((T, K))
    tmp = np.empty(K)
    for k in range(K):
        la[0, k] = log_pi[k] + log_b[0, k]
    for t in range(1, T):
        for k in range(K):
            for j in range(K):
                tmp[j] = la[t - 1, j] + log_a[j, k]
            la[t, k] = _logsumexp(tmp) + log_b[t, k]
    return la, _logsumexp(la[T - 1])


@njit(cache=True)
def viterbi(log_b, log_pi, log_a):
    """Most likely state path (T,) and its log-probability."""
    T, K = log_b.shape
    delta = np.empty((T, K))
    psi = np.zeros((T, K), dtype=np.int64)
    for k in range(K):
        delta[0, k] = log_pi[k] + log_b[0, k]
    for t in range(1, T):
        for k in range(K):
            best = -np.inf
            arg = 0
            for j in range(K):
                v = delta[t - 1, j] + log_a[j, k]
                if v > best:
                    best = v
                    arg = j
            delta[t, k] = best + log_b[t, k]
            psi[t, k] = arg
    path = np.empty(T, dtype=np.int64)
    path[T - 1] = np.argmax(delta[T - 1])
    for t in range(T - 2, -1, -1):
        path[t] = psi[t + 1, path[t + 1]]
    return path, delta[T - 1].max()


@njit(cache=True)
def e_step_scaled(log_b, pi, A):
    """Forward-backward with per-step scaling (Rabiner 1989): (loglik, gamma (T, K), xi sum (K, K)).

    Emissions enter as exp(log_b - max_k log_b[t]); the shifts and the
    scaling constants c_t give ``loglik = sum_t (log c_t + shift_t)``. Only
    products and sums inside the recursions: no exp/log per transition.
    """
    T, K = log_b.shape
    B = np.empty((T, K))
    loglik = 0.0
    for t in range(T):
        m = log_b[t].max()
        loglik += m
        for k in range(K):
            B[t, k] = np.exp(log_b[t, k] - m)
    alpha = np.empty((T, K))
    c = np.empty(T)
    s = 0.0
    for k in range(K):
        alpha[0, k] = pi[k] * B[0, k]
        s += alpha[0, k]
    c[0] = s
    for k in range(K):
        alpha[0, k] /= s
    for t in range(1, T):
        s = 0.0
        for k in range(K):
            v = 0.0
            for j in range(K):
                v += alpha[t - 1, j] * A[j, k]
            v *= B[t, k]
            alpha[t, k] = v
            s += v
        c[t] = s
        for k in range(K):
            alpha[t, k] /= s
    for t in range(T):
        loglik += np.log(c[t])
    gamma = np.empty((T, K))
    xi = np.zeros((K, K))
    beta = np.ones(K)
    nxt = np.empty(K)
    for k in range(K):
        gamma[T - 1, k] = alpha[T - 1, k]
    for t in range(T - 2, -1, -1):
        for k in range(K):
            nxt[k] = B[t + 1, k] * beta[k] / c[t + 1]
        for i in range(K):
            v = 0.0
            for j in range(K):
                w = A[i, j] * nxt[j]
                xi[i, j] += alpha[t, i] * w
                v += w
            beta[i] = v
            gamma[t, i] = alpha[t, i] * v
    return loglik, gamma, xi
