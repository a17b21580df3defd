"""The generation loop of differential_evolution for Python objectives (private).

Same kernels as the compiled loop (``_kernels``); the objective, scipy
constraints and callable strategies are called from Python. ``st`` is the
``de._State`` of the run.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as kern
from .constraints import constraint_violation, lampinen_accept


def clean(values, st) -> np.ndarray:
    """Objective values as float64 with NaN counted (``st.ints[5]``) and replaced by +inf."""
    values = np.asarray(values, dtype=np.float64)
    nan = np.isnan(values)
    st.ints[5] += int(nan.sum())
    return np.where(nan, np.inf, values)


def evaluate_python(st, X, evaluate, scipy_cons):
    """Energies of the rows of X; infeasible rows (scipy constraints) are not evaluated."""
    fn, calls = evaluate
    if not scipy_cons:
        st.ints[1] += calls(X.shape[0])
        return clean(fn(X), st), None
    cv = constraint_violation(scipy_cons, X)
    ok = np.all(cv <= 0, axis=1)
    e = np.full(X.shape[0], np.inf)
    if ok.any():
        e[ok] = clean(fn(X[ok]), st)
        st.ints[1] += calls(int(ok.sum()))
    return e, cv


def best_index(st) -> int:
    n = st.n
    if st.cv is not None and not np.isfinite(st.energies[:n]).any():
        return int(np.argmin(st.cv[:n].sum(axis=1)))
    return int(np.argmin(st.energies[:n]))


def promote(st, k: int) -> None:
    """Swap member k with member 0 (and their constraint violations); member 0 is then the best."""
    kern.promote(st.pop, st.energies, k)
    if st.cv is not None and k:
        st.cv[[0, k]] = st.cv[[k, 0]]
    st.ints[4] = 0


def _custom_trials(st, members) -> np.ndarray:
    """Trials (unit cube) of a callable strategy ``strategy(candidate, population, rng=...)``, as scipy."""
    pop = st.params(st.pop[: st.n])
    span = np.where(st.hi > st.lo, st.hi - st.lo, 1.0)
    out = np.empty((len(members), st.D))
    for k, c in enumerate(members):
        trial = np.asarray(st.custom(int(c), pop, rng=st.gen), dtype=np.float64)
        if trial.shape != (st.D,):
            raise RuntimeError("strategy must have signature f(candidate: int, population: np.ndarray, rng=None) "
                               "returning an array of shape (N,)")  # fmt: skip
        out[k] = (trial - st.lo) / span
    bad = (out < 0) | (out > 1)  # scipy's rule: redraw coordinates outside the box
    if bad.any():
        out[bad] = st.gen.uniform(size=int(bad.sum()))
    return out


def python_generation(st, evaluate, immediate, exp, scipy_cons, gen) -> int:
    """One generation with a Python objective: same kernels, Python evaluation."""
    n, algo = st.n, st.algo
    base = np.uint64(kern.generation_base(st.ints[7], gen))
    F = kern.draw_F(base, st.P[1], st.P[2])
    if immediate:  # scipy's order: the best is member 0, visited first, and a new best is swapped there
        mutant, r = np.empty(st.D), np.empty(5, dtype=np.int64)
        promote(st, int(st.ints[4]))
        for i in range(n):
            if st.custom is not None:
                st.trials[i] = _custom_trials(st, [i])[0]
            else:
                kern.propose_classic(algo, exp, st.pop, n, 0, F, st.P[3], base, i, st.trials[i], mutant, r)
            kern.to_params_row(st.trials[i], st.lo, st.hi, st.integral, st.caps, st.X[i])
            e, cv = evaluate_python(st, st.X[i : i + 1], evaluate, scipy_cons)
            if cv is None:
                win = e[0] <= st.energies[i]
            else:
                win = bool(lampinen_accept(cv, st.cv[i : i + 1], e, st.energies[i : i + 1])[0])
            if win:
                st.pop[i], st.energies[i] = st.trials[i], e[0]
                if cv is not None:
                    st.cv[i] = cv[0]
                    best = bool(lampinen_accept(cv, st.cv[0:1], e, st.energies[0:1])[0])
                else:
                    best = e[0] <= st.energies[0]
                if best:  # scipy's _promote_lowest_energy: the first of the lowest energies goes to index 0
                    promote(st, best_index(st))
    else:
        if st.custom is not None:
            st.trials[:n] = _custom_trials(st, range(n))
        else:
            kern.propose_all(algo, exp, st.pop, n, st.energies, st.ints[4], F, st.P[3], st.Fi, st.CRi, st.MF, st.MCR,
                             st.archive, st.ints[2], base, st.trials, st.F_used, st.CR_used)  # fmt: skip
        kern.to_params(st.trials[:n], st.lo, st.hi, st.integral, st.caps, st.X[:n])
        st.t_energies[:n], cv = evaluate_python(st, st.X[:n], evaluate, scipy_cons)
        st.accept[:] = -1
        if cv is not None:
            acc = lampinen_accept(cv, st.cv[:n], st.t_energies[:n], st.energies[:n])
            st.accept[:n] = acc.astype(np.int64)
            st.cv[:n][acc] = cv[acc]
        kern.select_and_shrink(algo, st.arrays(), st.P, base)
        if cv is not None:
            st.ints[4] = best_index(st)
    return int(kern.stop_code(st.arrays(), st.P))
