"""Compiled time loop of the McKean-Vlasov particle system.

Private. Parameters travel as a float vector ``P`` and integer codes ``C``
(indices below, filled by ``model._pack``). Particles are visited in fixed
blocks under prange and block sums are added in order (``meanfolio._parallel``);
the Gaussian increments come from the counter-based generator indexed by the
global step, so a seeded run is bitwise the same on any number of threads.

Chunking and resuming are bitwise neutral too: everything a step computes is a
function of (x, global step) alone. The moments are sums of deviations from a
shift taken from x itself (the mean of its first ``SHIFT_COUNT`` entries, not
the previous step's mean, which a resumed run would not have), the clock is
``start + j dt`` for the global step j (not accumulated per chunk), and the
final row of moments goes through the same :func:`moments`.

One step (Euler-Maruyama; Milstein adds 0.5 s^2 g g' (dW^2 - dt)):

    a_i   = alpha(t, X_i)                        own feedback control
    drift = a_i + lam * mean(a) - kappa (X_i - mean(X))
    s     = sigma + eta * Var(X)                 law-dependent volatility
    X_i  += drift dt + s g(X_i) dW_i             g = 1 (additive) or x (geometric)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from meanfolio._parallel import BLOCK, block_count, block_total
from meanfolio._random_kernels import normal, step_base

# float parameters
SIGMA, ETA, LAM, KAPPA, GAIN, TARGET, DT, LOW, HIGH, GRID_X0, GRID_DX, GRID_DT, GRID_T0, START = range(14)
N_FLOAT = 14
# integer codes
CONTROL, NOISE, MILSTEIN, REFLECT = range(4)
N_CODE = 4
LINEAR, GRID = 0, 1
ADDITIVE, GEOMETRIC = 0, 1
SHIFT_COUNT = 32  # particles averaged for the shift of the moment sums


@njit(cache=True, inline="always")
def control(P, C, alpha, level, x):
    """alpha(t, x): linear -gain (x - target), or the grid field at ``level``, linear in x."""
    if C[CONTROL] == LINEAR:
        return -P[GAIN] * (x - P[TARGET])
    nx = alpha.shape[1]
    s = (x - P[GRID_X0]) / P[GRID_DX]
    if s <= 0.0:
        return alpha[level, 0]
    if s >= nx - 1:
        return alpha[level, nx - 1]
    i = int(s)
    w = s - i
    return (1.0 - w) * alpha[level, i] + w * alpha[level, i + 1]


@njit(cache=True)
def level_at(P, C, alpha, t):
    """Level of a grid control in use at time t: n on [t_n, t_{n+1}), clamped to the grid (0 for a linear one)."""
    if C[CONTROL] != GRID:
        return 0
    s = (t - P[GRID_T0]) / P[GRID_DT] + 1e-9
    if s <= 0.0:
        return 0
    return min(int(s), alpha.shape[0] - 1)


@njit(cache=True, parallel=True)
def _sums(P, C, alpha, level, x, shift, partial):
    """Per-block sums of (x - shift), (x - shift)^2 and alpha(t, x)."""
    n = x.size
    nb = block_count(n)
    for b in prange(nb):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            d = x[i] - shift
            s0 += d
            s1 += d * d
            s2 += control(P, C, alpha, level, x[i])
        partial[b, 0] = s0
        partial[b, 1] = s1
        partial[b, 2] = s2
    return nb


@njit(cache=True, parallel=True)
def _move(P, C, alpha, level, x, mean, abar, vol, base):
    n = x.size
    dt = P[DT]
    sq = np.sqrt(dt)
    common = P[LAM] * abar + P[KAPPA] * mean
    nb = block_count(n)
    for b in prange(nb):
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            xi = x[i]
            a = control(P, C, alpha, level, xi)
            dw = sq * normal(base, i)
            if C[NOISE] == GEOMETRIC:
                g = xi
                gprime = 1.0
            else:
                g = 1.0
                gprime = 0.0
            xi += (a + common - P[KAPPA] * xi) * dt + vol * g * dw
            if C[MILSTEIN] == 1:
                xi += 0.5 * vol * vol * g * gprime * (dw * dw - dt)
            if C[REFLECT] == 1:  # reflecting walls (the no-flux box of the grid solvers)
                lo, hi = P[LOW], P[HIGH]
                for _ in range(4):
                    if xi < lo:
                        xi = 2.0 * lo - xi
                    elif xi > hi:
                        xi = 2.0 * hi - xi
                    else:
                        break
                xi = min(max(xi, lo), hi)
            x[i] = xi


@njit(cache=True)
def moments(P, C, alpha, level, x, partial, row):
    """(mean X, Var X, mean alpha) into ``row``: a function of x alone, the same at any chunk boundary.

    Sums of deviations from a shift K (the mean of the first particles) in
    block order; Var = mean((x - K)^2) - (mean - K)^2, whose rounding error is
    about eps (1 + (mean - K)^2 / Var), small as K is an average of draws of X.
    """
    n = x.size
    m = min(n, SHIFT_COUNT)
    shift = 0.0
    for i in range(m):
        shift += x[i]
    shift /= m
    nb = _sums(P, C, alpha, level, x, shift, partial)
    d = block_total(partial, nb, 0) / n
    row[0] = shift + d
    row[1] = max(block_total(partial, nb, 1) / n - d * d, 0.0)
    row[2] = block_total(partial, nb, 2) / n


@njit(cache=True)
def run_steps(P, C, alpha, key, stream0, first, nsteps, x, partial, out):
    """Advance ``nsteps`` steps from global step ``first`` (time ``P[START] + first dt``).

    The increments of global step j are drawn at stream index ``stream0 + j``.
    Row k of ``out`` gets (mean X, Var X, mean alpha) *before* step first + k.
    Returns the number of steps done; fewer means the moments became
    non-finite before that step (the caller raises).
    """
    for k in range(nsteps):
        j = first + k
        level = level_at(P, C, alpha, P[START] + j * P[DT])
        moments(P, C, alpha, level, x, partial, out[k])
        mean, var, abar = out[k, 0], out[k, 1], out[k, 2]
        if not (np.isfinite(mean) and np.isfinite(var) and np.isfinite(abar)):
            return k
        vol = P[SIGMA] + P[ETA] * var
        _move(P, C, alpha, level, x, mean, abar, vol, step_base(key, np.uint64(0), np.uint64(stream0 + j)))
    return nsteps
