"""Compiled kernels of differential evolution (private).

Everything works in the unit cube [0, 1]^D (as scipy does); ``to_params``
maps to the user's box. Random numbers are counter-based: draw j of
individual i in generation g is a pure function of (key, g, i, j), so
trials can be built in parallel and results do not depend on the number of
threads.

Algorithms (codes): classic strategies 0 rand1, 1 best1, 2 currenttobest1,
3 rand2, 4 best2, 5 randtobest1 (crossover 0 bin, 1 exp); 10 jDE, 11 SHADE,
12 L-SHADE.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba import types as nt

from meanfolio._random_kernels import normal, step_base

from ._draws import JDE, LSHADE, SELECT_ROW, SHADE, STRIDE, _crossover, _distinct, _redraw_out_of_bounds, _u
from ._params import simplex_repair, to_params, to_params_row  # noqa: F401 (re-exported for de.py)

N_DIFF = np.array([3, 2, 2, 5, 4, 3])  # distinct indices each classic strategy needs


@njit(cache=True)
def propose_classic(code, exp, pop, n, best, F, CR, base, i, trial, mutant, r):
    """Trial vector of individual i for a classic strategy (scipy's formulas).

    ``mutant`` (D floats) and ``r`` (5 ints) are scratch space, so the
    immediate-updating loop allocates nothing per trial.
    """
    D = pop.shape[1]
    j = _distinct(base, i, 0, n, N_DIFF[code], r)
    for d in range(D):
        if code == 0:
            v = pop[r[0], d] + F * (pop[r[1], d] - pop[r[2], d])
        elif code == 1:
            v = pop[best, d] + F * (pop[r[0], d] - pop[r[1], d])
        elif code == 2:
            v = pop[i, d] + F * (pop[best, d] - pop[i, d] + pop[r[0], d] - pop[r[1], d])
        elif code == 3:
            v = pop[r[0], d] + F * (pop[r[1], d] + pop[r[2], d] - pop[r[3], d] - pop[r[4], d])
        elif code == 4:
            v = pop[best, d] + F * (pop[r[0], d] + pop[r[1], d] - pop[r[2], d] - pop[r[3], d])
        else:  # scipy's randtobest1: b = x_r0; b += F (x_best - b); b += F (x_r1 - x_r2)
            v = pop[r[0], d]
            v += F * (pop[best, d] - v)
            v += F * (pop[r[1], d] - pop[r[2], d])
        mutant[d] = v
    j = _crossover(base, i, j, pop[i], mutant, CR, exp, trial)
    _redraw_out_of_bounds(base, i, j, trial)


@njit(cache=True)
def propose_jde(pop, n, Fi, CRi, base, i, trial):
    """jDE (Brest et al. 2006): self-adapted F, CR (tau = 0.1, F in [0.1, 1]), rand/1/bin."""
    F = Fi[i]
    CR = CRi[i]
    if _u(base, i, 0) < 0.1:
        F = 0.1 + 0.9 * _u(base, i, 1)
    if _u(base, i, 2) < 0.1:
        CR = _u(base, i, 3)
    D = pop.shape[1]
    r = np.empty(3, dtype=np.int64)
    j = _distinct(base, i, 4, n, 3, r)
    mutant = np.empty(D)
    for d in range(D):
        mutant[d] = pop[r[0], d] + F * (pop[r[1], d] - pop[r[2], d])
    j = _crossover(base, i, j, pop[i], mutant, CR, False, trial)
    _redraw_out_of_bounds(base, i, j, trial)
    return F, CR


@njit(cache=True)
def propose_shade(lshade, pop, n, order, MF, MCR, archive, asize, base, i, trial):
    """SHADE / L-SHADE trial: current-to-pbest/1/bin with archive; returns (F, CR).

    CR ~ N(M_CR[r], 0.1) clipped to [0, 1] (0 if the memory holds the terminal
    value, coded -1); F ~ Cauchy(M_F[r], 0.1), resampled while <= 0, cut at 1;
    p uniform in [2/N, 0.2] (SHADE) or 0.11 (L-SHADE). A coordinate leaving
    [0, 1] goes to the midpoint between the parent and the bound.
    """
    H = MF.size
    r = int(_u(base, i, 0) * H)
    if MCR[r] < 0.0:
        CR = 0.0
    else:
        CR = min(1.0, max(0.0, MCR[r] + 0.1 * normal(base, np.int64(i) * STRIDE + 1)))
    j = 2
    F = 0.0
    while F <= 0.0:
        F = MF[r] + 0.1 * np.tan(np.pi * (_u(base, i, j) - 0.5))
        j += 1
    F = min(F, 1.0)
    p = 0.11 if lshade else 2.0 / n + _u(base, i, j) * (0.2 - 2.0 / n)
    j += 1
    n_best = max(2, int(round(p * n)))
    pbest = order[int(_u(base, i, j) * n_best)]
    j += 1
    rr = np.empty(2, dtype=np.int64)
    j = _distinct(base, i, j, n, 1, rr)
    # r2 from population and archive, distinct from i and r1
    while True:
        r2 = int(_u(base, i, j) * (n + asize))
        j += 1
        if r2 != i and r2 != rr[0]:
            break
    D = pop.shape[1]
    mutant = np.empty(D)
    for d in range(D):
        x2 = pop[r2, d] if r2 < n else archive[r2 - n, d]
        v = pop[i, d] + F * (pop[pbest, d] - pop[i, d]) + F * (pop[rr[0], d] - x2)
        if v < 0.0:
            v = 0.5 * pop[i, d]
        elif v > 1.0:
            v = 0.5 * (1.0 + pop[i, d])
        mutant[d] = v
    _crossover(base, i, j, pop[i], mutant, CR, False, trial)
    return F, CR


@njit(cache=True, inline="always")
def _propose(algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base, trials, F_used, CR_used,
             i):  # fmt: skip
    """Trial of individual i for any algorithm (classic strategy, jDE, SHADE/L-SHADE) into ``trials[i]``."""
    if algo < JDE:
        propose_classic(algo, exp, pop, n, best, F, CR, base, i, trials[i], np.empty(pop.shape[1]),
                        np.empty(5, dtype=np.int64))  # fmt: skip
    elif algo == JDE:
        F_used[i], CR_used[i] = propose_jde(pop, n, Fi, CRi, base, i, trials[i])
    else:
        F_used[i], CR_used[i] = propose_shade(algo == LSHADE, pop, n, order, MF, MCR, archive, asize, base, i,
                                              trials[i])  # fmt: skip


@njit(cache=True, parallel=True)
def propose_all(algo, exp, pop, n, energies, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base,
                trials, F_used, CR_used):  # fmt: skip
    """Trials of the whole population (deferred updating), in parallel."""
    order = np.argsort(energies[:n])
    for i in prange(n):
        _propose(algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base, trials, F_used,
                 CR_used, i)  # fmt: skip


@njit(cache=True, inline="always")
def _trial_and_energy(f, algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base, trials,
                      F_used, CR_used, lo, hi, integral, caps, X, t_energies, i):  # fmt: skip
    _propose(algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base, trials, F_used, CR_used, i)
    to_params_row(trials[i], lo, hi, integral, caps, X[i])
    t_energies[i] = f(X[i])


@njit(cache=True, parallel=True)
def trials_and_energies(f, algo, exp, pop, n, energies, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base, trials,
                        F_used, CR_used, lo, hi, integral, caps, X, t_energies, parallel):  # fmt: skip
    """Deferred updating: build, map and evaluate every trial in ONE parallel region (or serially).

    One region per generation instead of three keeps the threads busy; on a
    loaded machine a region waits for its slowest thread, so few large
    regions matter more than their size. Returns the number of NaN values
    (set to +inf).
    """
    order = np.argsort(energies[:n])
    if parallel:
        for i in prange(n):
            _trial_and_energy(f, algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base,
                              trials, F_used, CR_used, lo, hi, integral, caps, X, t_energies, i)  # fmt: skip
    else:
        for i in range(n):
            _trial_and_energy(f, algo, exp, pop, n, order, best, F, CR, Fi, CRi, MF, MCR, archive, asize, base,
                              trials, F_used, CR_used, lo, hi, integral, caps, X, t_energies, i)  # fmt: skip
    nans = 0
    for i in range(n):
        if np.isnan(t_energies[i]):
            t_energies[i] = np.inf
            nans += 1
    return nans


@njit(cache=True)
def select_generation(algo, pop, n, energies, trials, t_energies, accept, Fi, CRi, F_used, CR_used,
                      MF, MCR, mem_k, archive, asize, amax, base):  # fmt: skip
    """Replace parents by trials that are no worse; adapt jDE / SHADE state.

    ``accept[i]`` = 1 / 0 forces the decision (constraint handling), -1 leaves
    it to ``t_energies[i] <= energies[i]``. Returns (archive size, memory
    index, index of the best).
    """
    H = MF.size
    sw = 0.0
    sf = 0.0
    sf2 = 0.0
    scr = 0.0
    scr2 = 0.0
    max_cr = 0.0
    wins = 0
    j = 0
    for i in range(n):
        win = t_energies[i] <= energies[i] if accept[i] < 0 else accept[i] == 1
        if win:
            if algo >= SHADE and (t_energies[i] < energies[i] or accept[i] == 1):
                w = energies[i] - t_energies[i]
                if not np.isfinite(w):
                    w = 1.0
                sw += w
                sf += w * F_used[i]
                sf2 += w * F_used[i] ** 2
                scr += w * CR_used[i]
                scr2 += w * CR_used[i] ** 2
                max_cr = max(max_cr, CR_used[i])
                wins += 1
                if amax > 0:  # the replaced parent goes to the archive
                    if asize < amax:
                        archive[asize] = pop[i]
                        asize += 1
                    else:
                        archive[int(_u(base, SELECT_ROW, j) * asize)] = pop[i]
                        j += 1
            pop[i] = trials[i]
            energies[i] = t_energies[i]
            if algo == JDE:
                Fi[i] = F_used[i]
                CRi[i] = CR_used[i]
    if algo >= SHADE and wins > 0 and sw > 0.0:
        MF[mem_k] = sf2 / sf if sf > 0 else MF[mem_k]  # weighted Lehmer mean
        if algo == LSHADE:
            if MCR[mem_k] < 0.0 or max_cr == 0.0:
                MCR[mem_k] = -1.0  # terminal value
            else:
                MCR[mem_k] = scr2 / scr
        else:
            MCR[mem_k] = scr / sw  # weighted arithmetic mean
        mem_k = (mem_k + 1) % H
    best = 0
    for i in range(1, n):
        if energies[i] < energies[best]:
            best = i
    return asize, mem_k, best


@njit(cache=True)
def shrink_population(pop, energies, n, n_new, archive, asize, amax_new, base):
    """L-SHADE: keep the n_new best (moved to the front); trim the archive at random."""
    order = np.argsort(energies[:n])
    keep_pop = pop[order[:n_new]].copy()
    keep_e = energies[order[:n_new]].copy()
    pop[:n_new] = keep_pop
    energies[:n_new] = keep_e
    energies[n_new:n] = np.inf
    j = 0
    while asize > amax_new:
        k = int(_u(base, SELECT_ROW + 1, j) * asize)
        j += 1
        archive[k] = archive[asize - 1]
        asize -= 1
    return asize


# The objective enters the compiled loops as a first-class function of this
# signature, so the loops are compiled (and cached) once, not per objective.
OBJECTIVE = nt.FunctionType(nt.float64(nt.float64[::1]))
_F1, _F2, _I1, _B1 = nt.float64[::1], nt.float64[:, ::1], nt.int64[::1], nt.boolean[::1]
STATE = nt.Tuple((_F2, _F1, _F2, _F1, _F2, _I1, _F1, _F1, _F1, _F1, _F1, _F1, _F2, _F1, _F1, _B1, _F1, _I1))


@njit(nt.int64(OBJECTIVE, _F2, _F1, nt.boolean), cache=True, parallel=True)
def evaluate_rows(f, X, out, parallel):
    """out[i] = f(X[i]) (in parallel if asked); NaN values become +inf and are counted."""
    if parallel:
        for i in prange(X.shape[0]):
            out[i] = f(X[i])
    else:
        for i in range(X.shape[0]):
            out[i] = f(X[i])
    nans = 0
    for i in range(X.shape[0]):
        if np.isnan(out[i]):
            out[i] = np.inf
            nans += 1
    return nans


@njit(cache=True)
def promote(pop, energies, k):
    """Swap member k with member 0, as scipy does with its best member (immediate updating visits
    the best first in each generation and keeps the best at index 0)."""
    if k != 0:
        for d in range(pop.shape[1]):
            t = pop[0, d]
            pop[0, d] = pop[k, d]
            pop[k, d] = t
        e = energies[0]
        energies[0] = energies[k]
        energies[k] = e


@njit(cache=True)
def generation_base(key, generation):
    return step_base(np.uint64(key), 7, generation)


@njit(cache=True)
def draw_F(base, F_lo, F_hi):
    """scipy's dither: one F per generation, uniform in [F_lo, F_hi)."""
    return F_lo + (F_hi - F_lo) * _u(base, SELECT_ROW + 2, 0)


@njit(cache=True)
def converged(energies, n, tol, atol):
    """scipy's test: std(E) <= atol + tol |mean(E)| (False while some E is infinite)."""
    e = energies[:n]
    return bool(np.std(e) <= atol + tol * abs(np.mean(e)))


@njit(cache=True)
def lshade_size(n_init, n_min, nfev, maxfev):
    return max(n_min, int(round((n_min - n_init) / maxfev * nfev + n_init)))


@njit(cache=True)
def select_and_shrink(algo, S, P, base):
    """End of a generational step, shared by the compiled and the Python loops: selection
    (with jDE / SHADE adaptation, ``S.accept`` forcing decisions) and L-SHADE's linear
    population reduction. State in ``S`` is updated in place."""
    pop, energies, trials, t_energies, X, accept, Fi, CRi, F_used, CR_used, MF, MCR, archive, lo, hi, integral, \
        caps, ints = S  # fmt: skip
    n = ints[0]
    arc_rate = P[7]
    amax = 0
    if algo >= SHADE:
        amax = archive.shape[0] if algo != LSHADE else min(archive.shape[0], int(round(arc_rate * n)))
    ints[2], ints[3], ints[4] = select_generation(
        algo, pop, n, energies, trials, t_energies, accept, Fi, CRi, F_used, CR_used, MF, MCR, ints[3],
        archive, ints[2], amax, base,
    )  # fmt: skip
    if algo == LSHADE:
        n_new = lshade_size(ints[6], 4, ints[1], P[6])
        if n_new < n:
            ints[2] = shrink_population(pop, energies, n, n_new, archive, ints[2], int(round(arc_rate * n_new)), base)
            ints[0] = n_new
            ints[4] = 0


@njit(cache=True)
def stop_code(S, P):
    """1 if the population has converged (scipy's test), 2 if the evaluation budget is spent, else 0."""
    energies, ints = S[1], S[17]
    if converged(energies, ints[0], P[4], P[5]):
        return 1
    return 2 if ints[1] >= P[6] else 0


@njit(nt.UniTuple(nt.int64, 2)(OBJECTIVE, nt.int64, nt.boolean, nt.boolean, nt.boolean, STATE, _F1, nt.int64,
                                nt.int64), cache=True)  # fmt: skip
def run_compiled(f, algo, exp, immediate, parallel, S, P, gen0, ngen):
    """Whole generations with a compiled objective (no Python in the loop).

    ``S`` is the tuple of state arrays and ``P`` the float settings built by
    ``de._State``; returns (generations done, stop code 0 budget left / 1
    converged / 2 maxfev reached).
    """
    pop, energies, trials, t_energies, X, accept, Fi, CRi, F_used, CR_used, MF, MCR, archive, lo, hi, integral, \
        caps, ints = S  # fmt: skip
    F_lo, F_hi, CR = P[1], P[2], P[3]
    ukey = np.uint64(ints[7])
    for g in range(ngen):
        n = ints[0]
        base = generation_base(ukey, gen0 + g)
        F = draw_F(base, F_lo, F_hi)
        if immediate and algo < JDE:
            mutant = np.empty(pop.shape[1])
            r = np.empty(5, dtype=np.int64)
            promote(pop, energies, ints[4])
            ints[4] = 0
            for i in range(n):
                propose_classic(algo, exp, pop, n, 0, F, CR, base, i, trials[i], mutant, r)
                to_params_row(trials[i], lo, hi, integral, caps, X[i])
                v = f(X[i])
                if np.isnan(v):
                    v = np.inf
                    ints[5] += 1
                ints[1] += 1
                if v <= energies[i]:
                    pop[i] = trials[i]
                    energies[i] = v
                    if v <= energies[0]:  # scipy: the first of the lowest energies goes to index 0
                        promote(pop, energies, np.argmin(energies[:n]))
        else:
            ints[5] += trials_and_energies(f, algo, exp, pop, n, energies, ints[4], F, CR, Fi, CRi, MF, MCR, archive,
                                           ints[2], base, trials, F_used, CR_used, lo, hi, integral, caps, X,
                                           t_energies, parallel)  # fmt: skip
            ints[1] += n
            select_and_shrink(algo, S, P, base)
        code = stop_code(S, P)
        if code:
            return g + 1, code
    return ngen, 0
