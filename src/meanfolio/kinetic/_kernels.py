"""Compiled kernels of the kinetic model: return estimates and the time loop.

Private. Parameters travel as a float vector ``P`` and integer codes ``C``
(indices below, filled by ``simulate._pack``). Agents are visited in fixed
blocks of ``BLOCK`` in parallel (prange); block sums are added in block
order, so results do not depend on the number of threads; random numbers
come from the counter-based generator (``meanfolio._random_kernels``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from meanfolio._parallel import BLOCK, block_total
from meanfolio._random_kernels import normal, step_base

# float parameters
KAPPA, DIV, RATE, DC, REV, MU, SIGMA, UALPHA, ULAMBDA, UGAMMA, U0, BETA, WSCALE, DT = range(14)
LOG_SBAR, THETAF, SIGMAF, SIGMAB, WFROZEN, CMEM, VOLMEM, VOLVOL = range(14, 22)
N_FLOAT = 22
# integer codes
VALUE, WEIGHT, IMPACT, SIGNAL, COST, NOISE, KERNEL, FUND, HFT, FREEZE, DEMAND_NOISE = range(11)
N_CODE = 11
# state vector
S_, R_, SF_, X_, Y_, T_, LV_ = range(7)
# series columns
SERIES = ("t", "S", "s_f", "ED", "X", "Y", "g", "W", "refused", "R")
# status codes
OK, UNSTABLE_G, NEGATIVE_PRICE, IMPLICIT_FAILED = 0, 1, 2, 3
STREAM_AGENTS, STREAM_BROKERS, STREAM_FUNDAMENTAL, STREAM_VOL = 0, 1, 2, 3


@njit(cache=True)
def value_function(P, C, z):
    """U(z): identity, or the prospect-theory U_gamma with U_gamma(0) = 0."""
    if C[VALUE] == 1:
        return z
    d = z - P[UGAMMA]
    v = abs(d) ** P[UALPHA]
    if d < 0.0:
        v = -P[ULAMBDA] * v
    return v - P[U0]


@njit(cache=True)
def weight_function(P, C, gf, gc):
    """W(g_f, g_c) in [0, 1]: tanh trust, Heaviside, or pure fundamentalist / chartist."""
    code = C[WEIGHT]
    if code == 0:
        return 0.5 * (1.0 + np.tanh(P[BETA] * P[WSCALE] * (gf - gc)))
    if code == 1:
        if P[BETA] > 0:
            return 1.0 if gf > gc else 0.0
        return 1.0 if gf < gc else 0.0
    return 1.0 if code == 2 else 0.0


@njit(cache=True)
def estimate(P, C, s, R, sf):
    """(g, W): g = W g_f + (1 - W) g_c at price s with chartist signal R."""
    gf = value_function(P, C, P[REV] * (sf - s) / s) + P[DIV] / s - P[RATE]
    gc = R + P[DC] / s - P[RATE]
    W = weight_function(P, C, gf, gc)
    return W * gf + (1.0 - W) * gc, W


@njit(cache=True)
def demand(P, C, g, X, Y):
    """ED = mu g Z_bar with Z_bar = H(g) Y + H(-g) X."""
    return P[MU] * g * (Y if g > 0.0 else X)


@njit(cache=True)
def drift_rate(P, C, ED, s):
    """The deterministic relative price change per unit time, kappa ED (/ s if absolute)."""
    return P[KAPPA] * ED if C[IMPACT] == 0 else P[KAPPA] * ED / s


@njit(cache=True)
def market(P, C, s, R, sf, X, Y):
    """(g, W, ED, R_used) at price s; solves R = drift(ED(R)) for the implicit signal."""
    if C[SIGNAL] == 1:
        r = R
        for _ in range(200):
            g, W = estimate(P, C, s, r, sf)
            r_new = drift_rate(P, C, demand(P, C, g, X, Y), s)
            if abs(r_new - r) <= 1e-13 * (1.0 + abs(r)):
                return g, W, demand(P, C, g, X, Y), r_new
            r = r_new
        return np.nan, np.nan, np.nan, np.nan
    g, W = estimate(P, C, s, R, sf)
    return g, W, demand(P, C, g, X, Y), R


@njit(cache=True)
def _agent_update(P, C, g, ret, x, y, Zbar, xi):
    """New (x, y, refused) of one agent (spec sections 2 and 4)."""
    dt = P[DT]
    Z = y if g > 0.0 else x
    u = P[MU] * g * (Z if C[COST] == 0 else Zbar)
    k = np.sqrt(dt) * P[SIGMA] * (Z if C[NOISE] == 0 else Zbar)
    ax = x + ret * x + dt * u
    by = y + dt * (P[RATE] * y - u)
    if C[KERNEL] == 1 and k > 0.0:  # truncate xi to keep both accounts >= 0
        if xi < -ax / k:
            xi = -ax / k
        if xi > by / k:
            xi = by / k
    xn = ax + k * xi
    yn = by - k * xi
    if xn < 0.0 or yn < 0.0:
        return x, y, 1.0
    return xn, yn, 0.0


@njit(cache=True, parallel=True)
def _agents_pass(P, C, x, y, g_of, ret, n_brokers, Zbar, base, noise_sum_only, partial):
    """One pass over the agents in blocks; block sums go to ``partial``.

    ``g_of``/``Zbar`` hold one value per broker (agent i decides at broker
    i % n_brokers) or a single value; every agent earns the market's stock
    return ``ret`` (the price S sets portfolio returns). With
    ``noise_sum_only`` the pass only sums Z_i xi_i (the microscopic model's
    noisy demand) and changes nothing.
    """
    n = x.size
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in prange(nblocks):
        sx = 0.0
        sy = 0.0
        refused = 0.0
        snoise = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            j = i % n_brokers
            g = g_of[j]
            xi = normal(base, i) if P[SIGMA] > 0.0 else 0.0
            if noise_sum_only:
                Z = y[i] if g > 0.0 else x[i]
                snoise += (Z if C[NOISE] == 0 else Zbar[j]) * xi
            else:
                xn, yn, r = _agent_update(P, C, g, ret, x[i], y[i], Zbar[j], xi)
                x[i] = xn
                y[i] = yn
                sx += xn
                sy += yn
                refused += r
        partial[b, 0] = sx
        partial[b, 1] = sy
        partial[b, 2] = refused
        partial[b, 3] = snoise


@njit(cache=True, parallel=True)
def _broker_decisions(P, C, s, Rb, sf, X, Y, g_b, ed_b, w_b, partial, status):
    """High-frequency traders: the decision (g, W, ED) at every broker's own price."""
    nb = s.size
    nblocks = (nb + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        sg = 0.0
        sw = 0.0
        se = 0.0
        sr = 0.0
        for j in range(blk * BLOCK, min(nb, (blk + 1) * BLOCK)):
            Xj = P[WFROZEN] if C[FREEZE] == 1 else X
            Yj = P[WFROZEN] if C[FREEZE] == 1 else Y
            g, W, ED, Rj = market(P, C, s[j], Rb[j], sf, Xj, Yj)
            if not np.isfinite(g):
                status[0] = IMPLICIT_FAILED
            elif P[MU] * abs(g) * P[DT] >= 1.0:
                status[0] = UNSTABLE_G
            g_b[j] = g
            ed_b[j] = ED
            w_b[j] = W
            sg += g
            sw += W
            se += ED
            sr += Rb[j]
        partial[blk, 0] = sg
        partial[blk, 1] = sw
        partial[blk, 2] = se
        partial[blk, 3] = sr


@njit(cache=True, parallel=True)
def _brokers_move(P, C, s, Rb, ed_b, sig, base, partial):
    """Move every broker price one step (exact log-normal step with frozen drift, volatility ``sig``).

    High-frequency traders' chartist signal at each broker is the memory-weighted
    average of the broker's own drift kappa ED(s) (spec section 5).
    """
    nb = s.size
    dt = P[DT]
    a = np.exp(-dt / P[CMEM])
    nblocks = (nb + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        ss = 0.0
        for j in range(blk * BLOCK, min(nb, (blk + 1) * BLOCK)):
            ED = ed_b[j] if C[HFT] == 1 else ed_b[0]
            xi = normal(base, j)
            drift = drift_rate(P, C, ED, s[j])
            if C[HFT] == 1 and C[SIGNAL] == 0:
                Rb[j] = a * Rb[j] + (1.0 - a) * drift
            elif C[HFT] == 1:
                Rb[j] = drift
            s[j] = s[j] * np.exp((drift - 0.5 * sig * sig) * dt + sig * np.sqrt(dt) * xi)
            ss += s[j]
        partial[blk, 0] = ss


@njit(cache=True)
def decide(P, C, key, step, state, x, y, s, Rb, g_b, ed_b, w_b, Zbar_b, partial, status):
    """The decision of step ``step`` at the current state: (g, W, ED), means over brokers for HFT.

    Fills g_b, ed_b (per broker for HFT, entry 0 otherwise) and Zbar_b.
    """
    dt = P[DT]
    n = x.size
    nb = s.size
    S, R, sf, X, Y = state[S_], state[R_], state[SF_], state[X_], state[Y_]
    if C[HFT] == 1:
        _broker_decisions(P, C, s, Rb, sf, X, Y, g_b, ed_b, w_b, partial, status)
        nblocks_b = (nb + BLOCK - 1) // BLOCK
        g = block_total(partial, nblocks_b, 0) / nb
        W = block_total(partial, nblocks_b, 1) / nb
        ED = block_total(partial, nblocks_b, 2) / nb
        state[R_] = block_total(partial, nblocks_b, 3) / nb
        for j in range(nb):
            Zbar_b[j] = Y if g_b[j] > 0.0 else X
        return g, W, ED
    g, W, ED, Rn = market(P, C, S, R, sf, X, Y)
    if not np.isfinite(g):
        status[0] = IMPLICIT_FAILED
        return g, W, ED
    if C[SIGNAL] == 1:
        state[R_] = Rn
    if P[MU] * abs(g) * dt >= 1.0:
        status[0] = UNSTABLE_G
    Zbar_b[0] = Y if g > 0.0 else X
    g_b[0] = g
    if C[DEMAND_NOISE] == 1 and P[SIGMA] > 0.0 and n > 0:
        _agents_pass(P, C, x, y, g_b, 0.0, 1, Zbar_b, step_base(key, STREAM_AGENTS, step), True, partial)
        ED += P[SIGMA] / np.sqrt(dt) * block_total(partial, (n + BLOCK - 1) // BLOCK, 3) / n
    ed_b[0] = ED
    return g, W, ED


@njit(cache=True)
def run_steps(P, C, key, step0, nsteps, state, x, y, s, Rb, g_b, ed_b, w_b, Zbar_b, partial, series):
    """Advance ``nsteps`` steps from global step ``step0``; ``series`` has nsteps + 1 rows.

    Row k of ``series`` holds the state at t_{step0 + k} and the decision
    (g, W, ED) taken at that state for the step that starts there; ``refused``
    is the fraction refused in the step that ended there. Returns (status,
    steps_done). Arrays are updated in place, so a run can be resumed chunk by
    chunk (the last row's decision is the next chunk's first).
    """
    dt = P[DT]
    n = x.size
    nb = s.size
    status = np.zeros(1, dtype=np.int64)
    nblocks_a = (n + BLOCK - 1) // BLOCK
    nblocks_b = (nb + BLOCK - 1) // BLOCK
    a = np.exp(-dt / P[CMEM])
    for k in range(nsteps + 1):
        step = step0 + k
        g, W, ED = decide(P, C, key, step, state, x, y, s, Rb, g_b, ed_b, w_b, Zbar_b, partial, status)
        row = series[k]
        row[3], row[6], row[7], row[9] = ED, g, W, state[R_]
        if k == nsteps:
            break
        if status[0] != OK:
            return status[0], k
        S, R, sf = state[S_], state[R_], state[SF_]
        if nb == 0:
            S_new = S * (1.0 + P[KAPPA] * ED * dt) if C[IMPACT] == 0 else S + P[KAPPA] * ED * dt
            if not S_new > 0.0:
                return NEGATIVE_PRICE, k
        else:
            sig = P[SIGMAB]
            if P[VOLVOL] > 0.0:  # slowly varying broker noise: exact OU step of h = ln(sigma_B(t) / sigma_B)
                e = np.exp(-dt / P[VOLMEM])
                h = state[LV_] * e + P[VOLVOL] * np.sqrt(1.0 - e * e) * normal(step_base(key, STREAM_VOL, step), 0)
                state[LV_] = h
                sig = P[SIGMAB] * np.exp(h - P[VOLVOL] * P[VOLVOL])
            _brokers_move(P, C, s, Rb, ed_b, sig, step_base(key, STREAM_BROKERS, step), partial)
            S_new = block_total(partial, nblocks_b, 0) / nb
            if not (S_new > 0.0 and S_new < np.inf):
                return NEGATIVE_PRICE, k
        ret = (S_new - S + P[DIV] * dt) / S  # every agent earns the market price's return
        refused = 0.0
        X, Y = state[X_], state[Y_]
        if n > 0:
            _agents_pass(
                P, C, x, y, g_b, ret, nb if C[HFT] == 1 else 1, Zbar_b,
                step_base(key, STREAM_AGENTS, step), False, partial,
            )  # fmt: skip
            X = block_total(partial, nblocks_a, 0) / n
            Y = block_total(partial, nblocks_a, 1) / n
            refused = block_total(partial, nblocks_a, 2) / n
        if C[FUND] == 1:  # exact exponential-OU transition of ln s_f
            e = np.exp(-P[THETAF] * dt)
            sd = P[SIGMAF] * np.sqrt((1.0 - e * e) / (2.0 * P[THETAF]))
            xi = normal(step_base(key, STREAM_FUNDAMENTAL, step), 0)
            sf = np.exp(P[LOG_SBAR] + (np.log(sf) - P[LOG_SBAR]) * e + sd * xi)
        if C[SIGNAL] == 0 and C[HFT] == 0:
            # memory-weighted realised return: exact step of tau dR/dt = (dS/S)/dt - R
            R = a * R + (1.0 - a) * (S_new - S) / (S * dt)
        state[S_], state[R_], state[SF_], state[X_], state[Y_] = S_new, R, sf, X, Y
        state[T_] += dt
        row = series[k + 1]
        row[0], row[1], row[2], row[4], row[5], row[8] = state[T_], S_new, sf, X, Y, refused
    return OK, nsteps


@njit(cache=True)
def moment_steps(P, C, steps, S, X, Y, sf_path, out):
    """The moment model of spec section 2 on the kernel's time grid (explicit Euler).

    Same market, signal memory and price update as ``run_steps`` without
    brokers; rows of ``out`` (steps + 1): t, S, X, Y, ED, g, the decision at
    each row's state. Returns (status, steps done).
    """
    dt = P[DT]
    a = np.exp(-dt / P[CMEM])
    R = 0.0
    for n in range(steps + 1):
        g, W, ED, Rn = market(P, C, S, R, sf_path[n], X, Y)
        out[n, 0], out[n, 1], out[n, 2], out[n, 3], out[n, 4], out[n, 5] = n * dt, S, X, Y, ED, g
        if n == steps:
            break
        if not np.isfinite(g):
            return IMPLICIT_FAILED, n
        if P[MU] * abs(g) * dt >= 1.0:
            return UNSTABLE_G, n
        S_new = S * (1.0 + P[KAPPA] * ED * dt) if C[IMPACT] == 0 else S + P[KAPPA] * ED * dt
        if not S_new > 0.0:
            return NEGATIVE_PRICE, n
        ret = (S_new - S + P[DIV] * dt) / S
        X = X + ret * X + dt * ED
        Y = Y + dt * (P[RATE] * Y - ED)
        R = a * R + (1.0 - a) * (S_new - S) / (S * dt) if C[SIGNAL] == 0 else Rn
        S = S_new
    return OK, steps


@njit(cache=True)
def values_on(P, C, z, out):
    for i in range(z.size):
        out[i] = value_function(P, C, z[i])


@njit(cache=True)
def weights_on(P, C, gf, gc, out):
    for i in range(gf.size):
        out[i] = weight_function(P, C, gf[i], gc[i])


@njit(cache=True)
def broker_drift_on(P, C, s, sf, out):
    """kappa ED(s) s (relative impact) for the frozen-wealth high-frequency model, at each s."""
    w = P[WFROZEN]
    for i in range(s.size):
        g, W, ED, R = market(P, C, s[i], 0.0, sf, w, w)
        out[i] = drift_rate(P, C, ED, s[i]) * s[i]
