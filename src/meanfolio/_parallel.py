"""Thread-count-independent parallel sums for compiled kernels (shared by capabilities).

Items are visited in fixed blocks of ``BLOCK`` under ``prange``; each block
writes its partial sums to its own row of a ``partial`` array and the rows
are added in block order by :func:`block_total`. The result is bitwise the
same on 1 or many threads (a plain prange reduction is not: its order of
additions depends on how the work is split).
"""

from __future__ import annotations

from numba import njit

__all__ = ["BLOCK", "block_count", "block_total"]

BLOCK = 2048


@njit(cache=True)
def block_count(n):
    """Number of blocks covering n items."""
    return (n + BLOCK - 1) // BLOCK


@njit(cache=True)
def block_total(partial, nblocks, col):
    """Sum of ``partial[:nblocks, col]`` in block order."""
    total = 0.0
    for b in range(nblocks):
        total += partial[b, col]
    return total
