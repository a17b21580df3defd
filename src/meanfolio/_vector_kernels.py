"""Compiled vector kernels shared by the capabilities (private)."""

from __future__ import annotations

import numpy as np
from numba import njit

#: reassociation lets the sums vectorise (several partial sums); contraction fuses the multiply-adds
SUMS = {"reassoc", "contract"}


@njit(cache=True, fastmath=SUMS)
def vdot(a, b):
    """a . b of two vectors of equal length (serial, vectorised)."""
    s = 0.0
    for i in range(a.size):
        s += a[i] * b[i]
    return s


@njit(cache=True, fastmath={"contract"})
def axpy_into(a, x, y, out):
    """out = y + a x for vectors of equal length in one pass (no temporary; out may be y)."""
    for i in range(out.size):
        out[i] = y[i] + a * x[i]


@njit(cache=True)
def _max_abs(a):
    m = 0.0
    for i in range(a.size):
        m = max(m, abs(a[i]))
    return m


def unit_scale(a) -> float:
    """1.0 when ``a . a`` is safely representable (|a| in [1e-100, 1e100]), else max |a_i|: divide
    by it before a solve whose norms square their vectors (one pass, only then)."""
    flat = a.reshape(-1)
    s = vdot(flat, flat)
    if 1e-200 <= s <= 1e200:
        return 1.0
    m = _max_abs(flat)
    return m if m > 0.0 and np.isfinite(m) else 1.0
