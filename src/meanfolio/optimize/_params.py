"""Compiled maps from the unit cube to the user's box (private): scaling, integer rounding, simplex repair."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def to_params_row(u, lo, hi, integral, caps, x):
    """x = lo + u (hi - lo), integers rounded, simplex repair when caps is non-empty."""
    for d in range(u.size):
        v = lo[d] + u[d] * (hi[d] - lo[d])
        if integral[d]:
            v = min(max(np.round(v), np.ceil(lo[d])), np.floor(hi[d]))
        x[d] = v
    if caps.size:
        simplex_repair(x, caps)


@njit(cache=True)
def to_params(U, lo, hi, integral, caps, X):
    """Rows of U mapped by :func:`to_params_row` (serial: too little work for a parallel region)."""
    for r in range(U.shape[0]):
        to_params_row(U[r], lo, hi, integral, caps, X[r])


@njit(cache=True)
def simplex_repair(x, caps):
    """Project-by-scaling onto {0 <= x_i <= caps_i, sum x = 1}: clip, then share the
    remaining mass among the assets below their caps in proportion to their weights."""
    D = x.size
    for d in range(D):
        x[d] = min(max(x[d], 0.0), caps[d])
    for _ in range(D + 1):
        total = x.sum()
        gap = 1.0 - total
        if abs(gap) <= 1e-15:
            return
        free = 0.0
        count = 0
        for d in range(D):
            if (gap > 0 and x[d] < caps[d]) or (gap < 0 and x[d] > 0):
                free += x[d]
                count += 1
        if count == 0:
            return
        for d in range(D):
            if (gap > 0 and x[d] < caps[d]) or (gap < 0 and x[d] > 0):
                share = x[d] / free if free > 0 else 1.0 / count
                x[d] = min(max(x[d] + gap * share, 0.0), caps[d])
