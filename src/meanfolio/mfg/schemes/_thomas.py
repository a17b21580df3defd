"""Twisted Thomas factorisation and solves of the 1D scheme's tridiagonal blocks (private).

Every implicit step of the 1D scheme solves ``H x = b`` or ``H^T x = b`` with
H tridiagonal (sub-diagonal lo, diagonal di, super-diagonal up; non-cyclic).
The Thomas algorithm is one recursion down the rows and one back up: a chain
of dependent multiply-adds (and divisions, when factoring) whose *latency*,
not the arithmetic or the memory, sets its speed. The twisted ("burn at both
ends") form eliminates from the top down to the middle row k = n // 2 and
from the bottom up to it at the same time, then back-substitutes outwards:
two independent chains in one loop, which the processor overlaps (about
twice as fast). It is the same Gaussian elimination with another pivot
order, as stable as Thomas on the scheme's M-matrices (van der Vorst 1987;
Parlett & Dhillon 1997 for the name).

Factors (``thomas_factor``), with p_i the pivots (ib = 1 / p):

- top rows i < k:    p_i = di_i - lo_i c_{i-1},
- bottom rows i > k: p_i = di_i - up_i a_{i+1},
- the twist row k:   p_k = di_k - lo_k c_{k-1} - up_k a_{k+1},

with a = lo ib and c = up ib everywhere, and e_i = lo_{i+1} ib_i above k,
up_{i-1} ib_i below k (the transposed solve's back multipliers). H^T has the
same pivots (its sub- and super-diagonals are H's swapped), so one
factorisation serves both solves, and every step of each solve is one
multiply-add on the chain.
"""

from __future__ import annotations

from numba import njit, uint64

#: FMA contraction: the recursions are chains of multiply-adds whose latency sets their speed
FAST = {"contract"}

#: levels factored together by :func:`factor_group`: their division chains are independent and overlap
GROUP = 4

#: index type of the solves' chain loops: numba adds a wraparound check (i < 0: i += n) to every
#: access with a signed index it cannot prove non-negative (n - 1 - j, k - j); in these
#: latency-bound loops those instructions cost ~13% of a solve, unsigned indices have none
U = uint64


@njit(cache=True, fastmath=FAST, inline="always")
def _top_pivot(lo, di, up, a, c, ib, i):
    # pivot of top row i >= 1 from row i - 1 (c carries the chain)
    ib[i] = 1.0 / (di[i] - lo[i] * c[i - 1])
    c[i] = up[i] * ib[i]


@njit(cache=True, fastmath=FAST, inline="always")
def _bottom_pivot(lo, di, up, a, c, ib, i):
    # pivot of bottom row i <= n - 2 from row i + 1 (a carries the chain)
    ib[i] = 1.0 / (di[i] - up[i] * a[i + 1])
    a[i] = lo[i] * ib[i]


@njit(cache=True, fastmath=FAST)
def _first_pivots(lo, di, up, a, c, ib):
    """Pivots of row 0 and row n - 1 (the starts of the two chains), as far as they are not the twist."""
    n = di.size
    k = n // 2
    if k > 0:
        ib[0] = 1.0 / di[0]
        c[0] = up[0] * ib[0]
    if n - 1 > k:
        ib[n - 1] = 1.0 / di[n - 1]
        a[n - 1] = lo[n - 1] * ib[n - 1]


@njit(cache=True, fastmath=FAST)
def _finish(lo, di, up, a, c, ib, e):
    """The twist row's pivot, then a (top), c (bottom) and e from the pivots."""
    n = di.size
    k = n // 2
    p = di[k]
    if k > 0:
        p -= lo[k] * c[k - 1]
    if k < n - 1:
        p -= up[k] * a[k + 1]
    ib[k] = 1.0 / p
    a[k] = lo[k] * ib[k]
    c[k] = up[k] * ib[k]
    e[k] = 0.0  # (unused)
    for i in range(k):  # (branch-free loops: they vectorise)
        a[i] = lo[i] * ib[i]
        e[i] = lo[i + 1] * ib[i]
    for i in range(k + 1, n):
        c[i] = up[i] * ib[i]
        e[i] = up[i - 1] * ib[i]


@njit(cache=True, fastmath=FAST)
def thomas_factor(lo, di, up, a, c, ib, e):
    """Twisted factors (a, c, ib, e) of one non-cyclic tridiagonal H (see the module docstring)."""
    n = di.size
    k = n // 2
    bottom = n - 1 - k  # rows k+1..n-1; the top has k >= bottom rows
    _first_pivots(lo, di, up, a, c, ib)
    for j in range(1, bottom):
        _top_pivot(lo, di, up, a, c, ib, j)
        _bottom_pivot(lo, di, up, a, c, ib, n - 1 - j)
    for j in range(max(bottom, 1), k):
        _top_pivot(lo, di, up, a, c, ib, j)
    _finish(lo, di, up, a, c, ib, e)


@njit(cache=True, fastmath=FAST)
def factor_group(lo, di, up, a, c, ib, e, count):
    """:func:`thomas_factor` of ``count`` <= GROUP independent levels (rows of the (GROUP, n)
    arrays) at once: 2 GROUP division chains in flight."""
    n = di.shape[1]
    k = n // 2
    bottom = n - 1 - k
    for g in range(count):
        _first_pivots(lo[g], di[g], up[g], a[g], c[g], ib[g])
    if count == GROUP:  # unrolled: eight chains in flight
        l0, l1, l2, l3 = lo[0], lo[1], lo[2], lo[3]
        d0, d1, d2, d3 = di[0], di[1], di[2], di[3]
        u0, u1, u2, u3 = up[0], up[1], up[2], up[3]
        a0, a1, a2, a3 = a[0], a[1], a[2], a[3]
        c0, c1, c2, c3 = c[0], c[1], c[2], c[3]
        b0, b1, b2, b3 = ib[0], ib[1], ib[2], ib[3]
        for j in range(1, bottom):
            i = n - 1 - j
            _top_pivot(l0, d0, u0, a0, c0, b0, j)
            _top_pivot(l1, d1, u1, a1, c1, b1, j)
            _top_pivot(l2, d2, u2, a2, c2, b2, j)
            _top_pivot(l3, d3, u3, a3, c3, b3, j)
            _bottom_pivot(l0, d0, u0, a0, c0, b0, i)
            _bottom_pivot(l1, d1, u1, a1, c1, b1, i)
            _bottom_pivot(l2, d2, u2, a2, c2, b2, i)
            _bottom_pivot(l3, d3, u3, a3, c3, b3, i)
    else:
        for j in range(1, bottom):
            for g in range(count):
                _top_pivot(lo[g], di[g], up[g], a[g], c[g], ib[g], j)
                _bottom_pivot(lo[g], di[g], up[g], a[g], c[g], ib[g], n - 1 - j)
    for g in range(count):
        for j in range(max(bottom, 1), k):
            _top_pivot(lo[g], di[g], up[g], a[g], c[g], ib[g], j)
        _finish(lo[g], di[g], up[g], a[g], c[g], ib[g], e[g])


@njit(cache=True, fastmath=FAST)
def thomas_h(a, c, ib, b, out):
    """H x = b from the twisted factors (``out`` may be ``b``).

    Down to the twist y_i = b_i ib_i - a_i y_{i-1} (top) and w_i = b_i ib_i - c_i w_{i+1}
    (bottom), x_k = b_k ib_k - a_k y_{k-1} - c_k w_{k+1}, then outwards
    x_i = y_i - c_i x_{i+1} (top) and x_i = w_i - a_i x_{i-1} (bottom). The chains are carried
    in scalars: through memory each step would wait for a store the compiler cannot prove
    independent of the other chain's.
    """
    n = b.size
    k = n // 2
    bottom = n - 1 - k
    y = b[0] * ib[0] if k > 0 else 0.0
    w = b[n - 1] * ib[n - 1] if bottom > 0 else 0.0
    if k > 0:
        out[0] = y
    if bottom > 0:
        out[n - 1] = w
    last, twist = U(n - 1), U(k)  # (unsigned indices: see ``U``)
    for jj in range(1, bottom):
        j = U(jj)
        i = last - j
        y = b[j] * ib[j] - a[j] * y
        w = b[i] * ib[i] - c[i] * w
        out[j] = y
        out[i] = w
    for jj in range(max(bottom, 1), k):
        j = U(jj)
        y = b[j] * ib[j] - a[j] * y
        out[j] = y
    x = b[k] * ib[k]
    if k > 0:
        x -= a[k] * y
    if bottom > 0:
        x -= c[k] * w
    out[k] = x
    y = x
    w = x
    for jj in range(1, bottom + 1):
        j = U(jj)
        y = out[twist - j] - c[twist - j] * y
        w = out[twist + j] - a[twist + j] * w
        out[twist - j] = y
        out[twist + j] = w
    for jj in range(bottom + 1, k + 1):
        j = U(jj)
        y = out[twist - j] - c[twist - j] * y
        out[twist - j] = y


@njit(cache=True, fastmath=FAST)
def thomas_ht(a, c, ib, e, b, out):
    """H^T x = b from the twisted factors of H (``out`` may be ``b``).

    Down to the twist z_i = b_i - c_{i-1} z_{i-1} (top) and w_i = b_i - a_{i+1} w_{i+1}
    (bottom), x_k = (b_k - c_{k-1} z_{k-1} - a_{k+1} w_{k+1}) ib_k, then outwards
    x_i = z_i ib_i - e_i x_{i+1} (top) and x_i = w_i ib_i - e_i x_{i-1} (bottom).
    """
    n = b.size
    k = n // 2
    bottom = n - 1 - k
    z = b[0] if k > 0 else 0.0
    w = b[n - 1] if bottom > 0 else 0.0
    if k > 0:
        out[0] = z
    if bottom > 0:
        out[n - 1] = w
    last, twist, one = U(n - 1), U(k), U(1)
    for jj in range(1, bottom):
        j = U(jj)
        i = last - j
        z = b[j] - c[j - one] * z
        w = b[i] - a[i + one] * w
        out[j] = z
        out[i] = w
    for jj in range(max(bottom, 1), k):
        j = U(jj)
        z = b[j] - c[j - one] * z
        out[j] = z
    x = b[k]
    if k > 0:
        x -= c[k - 1] * z
    if bottom > 0:
        x -= a[k + 1] * w
    x *= ib[k]
    out[k] = x
    z = x
    w = x
    for jj in range(1, bottom + 1):
        j = U(jj)
        lo, hi = twist - j, twist + j
        z = out[lo] * ib[lo] - e[lo] * z
        w = out[hi] * ib[hi] - e[hi] * w
        out[lo] = z
        out[hi] = w
    for jj in range(bottom + 1, k + 1):
        lo = twist - U(jj)
        z = out[lo] * ib[lo] - e[lo] * z
        out[lo] = z
