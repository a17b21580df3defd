"""`differential_evolution` with scipy's interface, five strategies, jDE, SHADE, L-SHADE.

Same arguments and result as :func:`scipy.optimize.differential_evolution`;
extra: ``strategy`` "jde" | "shade" | "lshade", ``maxfev`` (evaluation
budget), ``constraints=Simplex(n)`` (portfolio weights by repair). When
``func`` is a numba ``@njit`` function the generation loop runs compiled
(``_kernels.run_compiled``) and, for generational updating, evaluates the
population in parallel without the GIL.
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable

import numpy as np
from numba import types as nt
from numba.core.registry import CPUDispatcher
from scipy.optimize import Bounds, OptimizeResult, minimize
from scipy.stats import qmc

from meanfolio._random_kernels import kernel_key
from meanfolio._rng import as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from . import _kernels as kern
from .constraints import constraint_violation, lampinen_accept, split_constraints

__all__ = ["STRATEGIES", "differential_evolution"]

STRATEGIES = {
    "rand1bin": (0, False), "best1bin": (1, False), "currenttobest1bin": (2, False),
    "rand2bin": (3, False), "best2bin": (4, False), "rand1exp": (0, True), "best1exp": (1, True),
    "currenttobest1exp": (2, True), "rand2exp": (3, True), "best2exp": (4, True),
    "jde": (kern.JDE, False), "shade": (kern.SHADE, False), "lshade": (kern.LSHADE, False),
}  # fmt: skip
INITS = ("latinhypercube", "sobol", "halton", "random")
LSHADE_H, LSHADE_ARCHIVE_RATE = 6, 2.6


def _parse_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(bounds, Bounds):
        lo, hi = np.broadcast_arrays(np.asarray(bounds.lb, float), np.asarray(bounds.ub, float))
    else:
        arr = check_array("bounds", bounds, finite=False)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"bounds has shape {arr.shape} which is not allowed: expected (D, 2) pairs (min, max)")
        lo, hi = arr[:, 0], arr[:, 1]
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("bounds contains non-finite values which is not allowed: expected finite (min, max) pairs")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        k = bad[0]
        raise ValueError(f"bounds[{k}] = ({lo[k]}, {hi[k]}) is not allowed: expected min <= max")
    return np.ascontiguousarray(lo, dtype=float), np.ascontiguousarray(hi, dtype=float)


def _parse_mutation(mutation) -> tuple[float, float]:
    if np.ndim(mutation) == 0:
        F = check_number("mutation", mutation, low=0, high=2, high_inclusive=False)
        return F, F
    lo, hi = (check_number("mutation", m, low=0, high=2, high_inclusive=False) for m in mutation)
    if lo > hi:
        raise ValueError(f"mutation = {tuple(mutation)} is not allowed: expected (min, max) with min <= max")
    return lo, hi


def _init_population(init, n: int, D: int, rng) -> np.ndarray:
    if isinstance(init, str):
        check_choice("init", init, INITS)
        if init == "latinhypercube":  # scipy's own LHS: one point per segment, shuffled per column
            seg = 1.0 / n
            u = seg * rng.uniform(size=(n, D)) + np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
            return np.ascontiguousarray(np.column_stack([rng.permutation(u[:, d]) for d in range(D)]))
        if init == "random":
            return rng.uniform(size=(n, D))
        engine = qmc.Sobol(D, seed=rng) if init == "sobol" else qmc.Halton(D, seed=rng)
        return np.ascontiguousarray(engine.random(n))
    return init  # an array, already scaled by the caller


def _callback_adapter(callback) -> Callable | None:
    if callback is None:
        return None
    try:
        wants_result = "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        wants_result = False

    def call(x, fun, convergence, nit, nfev, pop, energies):
        if wants_result:
            res = OptimizeResult(x=x, fun=fun, convergence=convergence, nit=nit, nfev=nfev,
                                 population=pop, population_energies=energies)  # fmt: skip
            return callback(intermediate_result=res)
        return callback(x, convergence=convergence)

    return call


def _python_evaluator(func, args, vectorized: bool, workers):
    if vectorized:

        def evaluate(X):
            out = np.asarray(func(X.T.copy(), *args), dtype=np.float64).reshape(-1)
            if out.size != X.shape[0]:
                raise ValueError(f"vectorized func returned {out.size} values for {X.shape[0]} points")
            return out
    elif callable(workers):

        def evaluate(X):
            return np.fromiter(workers(_Bound(func, args), list(X)), dtype=np.float64, count=X.shape[0])
    else:

        def evaluate(X):
            return np.array([func(x, *args) for x in X], dtype=np.float64)

    return evaluate


class _Bound:
    """func with its args, picklable for process pools."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __call__(self, x):
        return self.func(x, *self.args)


def differential_evolution(
    func, bounds, args=(), strategy="best1bin", maxiter=1000, popsize=15, tol=0.01, mutation=(0.5, 1),
    recombination=0.7, seed=None, callback=None, disp=False, polish=True, init="latinhypercube", atol=0,
    updating="immediate", workers=1, constraints=(), x0=None, *, integrality=None, vectorized=False,
    maxfev=None,
) -> OptimizeResult:  # fmt: skip
    """Minimise ``func(x, *args)`` over the box ``bounds`` by differential evolution.

    Arguments shared with scipy have scipy's meaning (see its documentation).
    Mutation for the classic strategies: rand1 ``x_r0 + F (x_r1 - x_r2)``,
    best1 ``x_best + F (x_r0 - x_r1)``, currenttobest1 ``x_i + F (x_best -
    x_i + x_r0 - x_r1)``, rand2, best2; binomial or exponential crossover
    with rate ``recombination``; F drawn per generation from ``mutation`` when
    it is a (min, max) pair (dither). Adaptive strategies ignore ``mutation``,
    ``recombination`` and ``updating``:

    - "jde": Brest et al. (2006), per-individual F, CR (tau1 = tau2 = 0.1).
    - "shade": Tanabe & Fukunaga (2013), memory H = population size,
      current-to-pbest/1 with archive, p in [2/N, 0.2].
    - "lshade": Tanabe & Fukunaga (2014), N from 18 D down to 4 (linear in
      the evaluations used, budget ``maxfev``, default 10000 D), H = 6,
      archive 2.6 N, p = 0.11, terminal CR.

    ``maxfev`` caps the evaluations (checked after each generation).
    ``workers`` > 1 or a map-like callable evaluates in parallel (Python
    objectives), which implies deferred updating as in scipy.

    Returns
    -------
    OptimizeResult with x, fun, nfev (all evaluations, polishing included),
    nit, success, message, population (best first), population_energies, and
    constr / constr_violation / maxcv when there are constraints.
    """
    check_choice("strategy", strategy, STRATEGIES)
    algo, exp = STRATEGIES[strategy]
    lo, hi = _parse_bounds(bounds)
    D = lo.size
    maxiter = check_integer("maxiter", maxiter, low=0)
    popsize = check_integer("popsize", popsize, low=1)
    tol = check_number("tol", tol, low=0)
    atol = check_number("atol", atol, low=0)
    F_lo, F_hi = _parse_mutation(mutation)
    CR = check_number("recombination", recombination, low=0, high=1)
    check_choice("updating", updating, ("immediate", "deferred"))
    if not callable(workers):
        workers = check_integer("workers", workers, low=-1)
    if maxfev is None:
        maxfev = 10_000 * D if algo == kern.LSHADE else np.iinfo(np.int64).max // 2
    maxfev = check_integer("maxfev", maxfev, low=1)
    integral = (
        np.zeros(D, dtype=np.bool_) if integrality is None
        else np.broadcast_to(np.asarray(integrality, dtype=np.bool_), (D,)).copy()
    )  # fmt: skip
    simplex, scipy_cons = split_constraints(constraints)
    caps = simplex.cap_array() if simplex is not None else np.zeros(0)
    if simplex is not None and simplex.n_assets != D:
        raise ValueError(f"Simplex.n_assets = {simplex.n_assets} is not allowed: expected {D} (the bounds)")
    rng = as_generator(seed)
    span = np.where(hi > lo, hi - lo, 1.0)

    # population in the unit cube
    if isinstance(init, str):
        n = 18 * D if algo == kern.LSHADE else max(5, popsize * D)
        U = _init_population(init, n, D, rng)
    else:
        X0 = check_array("init", init, ndim=2)
        if X0.shape[1] != D or X0.shape[0] < 5:
            raise ValueError(f"init has shape {X0.shape} which is not allowed: expected (S >= 5, {D})")
        U = np.clip((X0 - lo) / span, 0.0, 1.0)
        n = U.shape[0]
    if x0 is not None:
        x0 = check_array("x0", x0, shape=(D,))
        if np.any(x0 < lo) or np.any(x0 > hi):
            raise ValueError("x0 is not allowed: expected a point inside the bounds")
        U[0] = (x0 - lo) / span
    U = np.ascontiguousarray(U)
    key = kernel_key(rng)

    compiled = (
        isinstance(func, CPUDispatcher)
        and not args
        and not vectorized
        and not callable(workers)
        and not scipy_cons
        and _compiles_as_objective(func)
    )
    immediate = updating == "immediate" and algo < kern.JDE and workers == 1
    st = _State(U, n, D, algo, lo, hi, integral, caps, key, F_lo, F_hi, CR, tol, atol, maxfev)
    cb = _callback_adapter(callback)
    evaluate = None
    if not compiled:
        if isinstance(workers, int) and workers not in (0, 1):
            from multiprocessing import Pool

            pool = Pool(None if workers == -1 else workers)
            workers = pool.map
        evaluate = _python_evaluator(func, args, vectorized, workers)
    start = time.perf_counter()
    try:
        nit, stop = _run(st, func, args, evaluate, compiled, immediate, exp, scipy_cons, maxiter, cb, disp)
    finally:
        if not compiled and callable(workers) and hasattr(workers, "__self__"):
            getattr(workers.__self__, "close", lambda: None)()
    return _result(st, func, args, nit, stop, polish, scipy_cons, integral, lo, hi, time.perf_counter() - start)


def _compiles_as_objective(func) -> bool:
    """True if the numba function compiles as float64(float64[::1]) (the compiled loop's signature)."""
    try:
        func.compile(nt.float64(nt.float64[::1]))
    except Exception as exc:  # numba typing errors: fall back to calling it from Python
        warnings.warn(f"func is a numba function but not float64(float64[::1]) ({type(exc).__name__}); "
                      "it is called from Python instead", RuntimeWarning, stacklevel=3)  # fmt: skip
        return False
    return True


class _State:
    """Arrays shared by the compiled and the Python loops (see ``kern.run_compiled``)."""

    def __init__(self, U, n, D, algo, lo, hi, integral, caps, key, F_lo, F_hi, CR, tol, atol, maxfev):
        self.algo, self.D = algo, D
        H = LSHADE_H if algo == kern.LSHADE else n
        amax = int(round(LSHADE_ARCHIVE_RATE * n)) if algo == kern.LSHADE else (n if algo == kern.SHADE else 0)
        self.pop = U
        self.energies = np.full(n, np.inf)
        self.trials = np.zeros((n, D))
        self.t_energies = np.full(n, np.inf)
        self.X = np.zeros((n, D))
        self.accept = np.full(n, -1, dtype=np.int64)
        self.Fi, self.CRi = np.full(n, 0.5), np.full(n, 0.9)
        self.F_used, self.CR_used = np.zeros(n), np.zeros(n)
        self.MF, self.MCR = np.full(H, 0.5), np.full(H, 0.5)
        self.archive = np.zeros((max(amax, 1), D))
        self.lo, self.hi, self.integral, self.caps = lo, hi, integral, caps
        # n, nfev, archive size, memory index, best, NaN count, initial n, RNG key
        self.ints = np.array([n, 0, 0, 0, 0, 0, n, np.int64(key)], dtype=np.int64)
        self.P = np.array([0.0, F_lo, F_hi, CR, tol, atol, float(maxfev), LSHADE_ARCHIVE_RATE])
        self.cv = None  # constraint violations (Lampinen), set by the first evaluation

    def arrays(self):
        return (self.pop, self.energies, self.trials, self.t_energies, self.X, self.accept, self.Fi, self.CRi,
                self.F_used, self.CR_used, self.MF, self.MCR, self.archive, self.lo, self.hi, self.integral,
                self.caps, self.ints)  # fmt: skip

    @property
    def n(self) -> int:
        return int(self.ints[0])

    def params(self, U):
        X = np.empty_like(U)
        kern.to_params(np.ascontiguousarray(U), self.lo, self.hi, self.integral, self.caps, X)
        return X


def _clean(values, st: _State) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    nan = np.isnan(values)
    st.ints[5] += int(nan.sum())
    return np.where(nan, np.inf, values)


def _evaluate_python(st: _State, X, evaluate, scipy_cons):
    """Energies of the rows of X; infeasible rows (scipy constraints) are not evaluated."""
    if not scipy_cons:
        st.ints[1] += X.shape[0]
        return _clean(evaluate(X), st), None
    cv = constraint_violation(scipy_cons, X)
    ok = np.all(cv <= 0, axis=1)
    e = np.full(X.shape[0], np.inf)
    if ok.any():
        e[ok] = _clean(evaluate(X[ok]), st)
        st.ints[1] += int(ok.sum())
    return e, cv


def _run(st: _State, func, args, evaluate, compiled, immediate, exp, scipy_cons, maxiter, cb, disp):
    """Initial evaluation, then generations until convergence, maxiter or maxfev."""
    n = st.n
    if compiled:
        st.ints[5] += kern.evaluate_rows(func, st.params(st.pop), st.energies, True)
        st.ints[1] += n
    else:
        st.energies[:], st.cv = _evaluate_python(st, st.params(st.pop), evaluate, scipy_cons)
    st.ints[4] = _best(st)
    parallel = not immediate
    nit, stop = 0, 0
    chunk = 1 if (cb is not None or disp or not compiled) else max(maxiter, 1)
    while nit < maxiter:
        todo = min(chunk, maxiter - nit)
        if compiled:
            done, stop = kern.run_compiled(func, st.algo, exp, immediate, parallel, st.arrays(), st.P, nit, todo)
        else:
            done, stop = 1, _python_generation(st, evaluate, immediate, exp, scipy_cons, nit)
        nit += int(done)
        if disp:
            print(f"differential_evolution step {nit}: f(x)= {st.energies[st.ints[4]]}")
        if cb is not None and stop == 0:
            e = st.energies[: st.n]
            # scipy's "convergence": (atol + tol |mean(E)|) / std(E); the run stops when it exceeds 1
            with np.errstate(all="ignore"):
                conv = float((st.P[5] + st.P[4] * abs(np.mean(e))) / np.std(e))
            b = int(st.ints[4])
            x = st.params(st.pop[b : b + 1])[0]
            if cb(x, float(st.energies[b]), conv, nit, int(st.ints[1]), st.params(st.pop[: st.n]), e.copy()):
                stop = 3
        if stop:
            break
    return nit, stop


def _best(st: _State) -> int:
    n = st.n
    if st.cv is not None and not np.isfinite(st.energies[:n]).any():
        return int(np.argmin(st.cv[:n].sum(axis=1)))
    return int(np.argmin(st.energies[:n]))


def _python_generation(st: _State, evaluate, immediate, exp, scipy_cons, gen) -> int:
    """One generation with a Python objective: same kernels, Python evaluation."""
    n, algo = st.n, st.algo
    base = np.uint64(kern.generation_base(st.ints[7], gen))
    F = kern.draw_F(base, st.P[1], st.P[2])
    if immediate:
        mutant, r = np.empty(st.D), np.empty(5, dtype=np.int64)
        for i in range(n):
            kern.propose_classic(algo, exp, st.pop, n, st.ints[4], F, st.P[3], base, i, st.trials[i], mutant, r)
            kern.to_params_row(st.trials[i], st.lo, st.hi, st.integral, st.caps, st.X[i])
            e, cv = _evaluate_python(st, st.X[i : i + 1], evaluate, scipy_cons)
            if cv is None:
                win = e[0] <= st.energies[i]
            else:
                win = bool(lampinen_accept(cv, st.cv[i : i + 1], e, st.energies[i : i + 1])[0])
            if win:
                st.pop[i], st.energies[i] = st.trials[i], e[0]
                if cv is not None:
                    st.cv[i] = cv[0]
                st.ints[4] = _best(st)
    else:
        kern.propose_all(algo, exp, st.pop, n, st.energies, st.ints[4], F, st.P[3], st.Fi, st.CRi, st.MF, st.MCR,
                         st.archive, st.ints[2], base, st.trials, st.F_used, st.CR_used)  # fmt: skip
        kern.to_params(st.trials[:n], st.lo, st.hi, st.integral, st.caps, st.X[:n])
        st.t_energies[:n], cv = _evaluate_python(st, st.X[:n], evaluate, scipy_cons)
        st.accept[:] = -1
        if cv is not None:
            acc = lampinen_accept(cv, st.cv[:n], st.t_energies[:n], st.energies[:n])
            st.accept[:n] = acc.astype(np.int64)
            st.cv[:n][acc] = cv[acc]
        kern.select_and_shrink(algo, st.arrays(), st.P, base)
        if cv is not None:
            st.ints[4] = _best(st)
    return int(kern.stop_code(st.arrays(), st.P))


def _result(st: _State, func, args, nit, stop, polish, scipy_cons, integral, lo, hi, elapsed) -> OptimizeResult:
    n = st.n
    order = np.argsort(st.energies[:n], kind="stable")
    if st.cv is not None and not np.isfinite(st.energies[:n]).any():
        order = np.argsort(st.cv[:n].sum(axis=1), kind="stable")
    pop = st.params(st.pop[order])
    energies = st.energies[order].copy()
    x, fun = pop[0].copy(), float(energies[0])
    messages = {
        0: "Maximum number of iterations has been exceeded.",
        1: "Optimization terminated successfully.",
        2: "Maximum number of function evaluations has been exceeded.",
        3: "callback function requested stop early",
    }
    message = messages[stop]
    nfev = int(st.ints[1])
    if polish and stop != 3 and np.isfinite(fun):
        if integral.any():
            warnings.warn("polishing was skipped: integrality constraints are set", UserWarning, stacklevel=3)
        elif st.caps.size == 0:
            method = "trust-constr" if scipy_cons else "L-BFGS-B"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pol = minimize(lambda z: func(z, *args), x, method=method, bounds=Bounds(lo, hi),
                               constraints=scipy_cons or ())  # fmt: skip
            nfev += int(pol.nfev)
            ok = not scipy_cons or np.all(constraint_violation(scipy_cons, pol.x[None]) <= 0)
            if np.isfinite(pol.fun) and pol.fun < fun and ok:
                x, fun = np.clip(pol.x, lo, hi), float(pol.fun)
                pop[0], energies[0] = x, fun
    if st.ints[5]:
        message += f" ({int(st.ints[5])} objective values were NaN and counted as +inf)"
    res = OptimizeResult(
        x=x, fun=fun, nfev=nfev, nit=int(nit), success=stop == 1, message=message, population=pop,
        population_energies=energies, wall_time=elapsed,
    )  # fmt: skip
    if scipy_cons:
        cv = constraint_violation(scipy_cons, x[None])[0]
        res.constr_violation = float(cv.max()) if cv.size else 0.0
        res.maxcv = res.constr_violation
        res.constr = [constraint_violation([c], x[None])[0] for c in scipy_cons]
    return res
