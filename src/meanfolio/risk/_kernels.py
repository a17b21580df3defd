"""Compiled column passes over (T, n) return arrays (private); rows are visited in memory order."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def column_stats(r, threshold):
    """Per column: mean, sum of squared deviations, sum of squared shortfalls below ``threshold``."""
    T, n = r.shape
    mean = np.zeros(n)
    for i in range(T):
        for j in range(n):
            mean[j] += r[i, j]
    mean /= T
    ss = np.zeros(n)
    down = np.zeros(n)
    for i in range(T):
        for j in range(n):
            d = r[i, j] - mean[j]
            ss[j] += d * d
            s = r[i, j] - threshold
            if s < 0.0:
                down[j] += s * s
    return mean, ss, down


@njit(cache=True)
def column_max_drawdown(r):
    """Per column: min over t of wealth_t / max(1, peak_t) - 1 (wealth starts at 1)."""
    T, n = r.shape
    wealth = np.ones(n)
    peak = np.ones(n)
    worst = np.zeros(n)
    for i in range(T):
        for j in range(n):
            wealth[j] *= 1.0 + r[i, j]
            if wealth[j] > peak[j]:
                peak[j] = wealth[j]
            dd = wealth[j] / peak[j] - 1.0
            if dd < worst[j]:
                worst[j] = dd
    return worst
