"""Compiled vector kernels shared by the capabilities (private)."""

from __future__ import annotations

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
def max_abs(a):
    """max |a_i| of a vector (0 for an empty one; NaN entries are skipped)."""
    m = 0.0
    for i in range(a.size):
        m = max(m, abs(a[i]))
    return m
