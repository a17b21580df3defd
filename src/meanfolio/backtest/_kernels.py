"""Compiled kernel of the backtest: holding weights between two rebalances.

Private. Plain arrays in, plain arrays out. The loop is the documented
per-row recursion (not a cumulative-product shortcut) so that the numbers
are exactly the ones described in :mod:`meanfolio.backtest.engine`. All
strategies are held in one call, so a daily rebalance costs one dispatch.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def hold(R, W, start, stop, gross, first):
    """Hold each row of ``W`` (S, n) (weights at close ``start``) through rows ``start + 1 .. stop``.

    For each strategy s and row t: ``g = W[s] . R[t]`` is written to ``gross[s, t - first]`` and
    ``W[s] <- W[s] * (1 + R[t]) / (1 + g)`` (in place): the cash ``1 - sum(W[s])`` earns 0, so the
    wealth grows by ``sum_i w_i (1 + r_i) + (1 - sum_i w_i) = 1 + g``.

    Returns ``(-1, -1)``, or ``(s, t)`` for the first strategy and row where the wealth factor
    ``1 + g`` is not > 0 (its weights are then undefined).
    """
    S, n = W.shape
    for s in range(S):
        for t in range(start + 1, stop + 1):
            g = 0.0
            for i in range(n):
                g += W[s, i] * R[t, i]
            growth = 1.0 + g
            if not growth > 0.0:
                return s, t
            gross[s, t - first] = g
            for i in range(n):
                W[s, i] = W[s, i] * (1.0 + R[t, i]) / growth
    return -1, -1
