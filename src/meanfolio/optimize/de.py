"""`differential_evolution` with scipy's interface, six strategies (bin / exp), jDE, SHADE, L-SHADE.

Same arguments, warnings and result as :func:`scipy.optimize.differential_evolution`
(scipy 1.17, rules in ``_compat``); extra: ``strategy`` "jde" | "shade" |
"lshade", ``maxfev`` (evaluation budget), ``constraints=Simplex(n)``
(portfolio weights by repair). When ``func`` is a numba ``@njit`` function
the generation loop runs compiled (``_kernels.run_compiled``) and, for
generational updating, builds and evaluates the trials in one parallel
region per generation, on the cores that are free
(:func:`meanfolio._parallel.free_threads`).

Immediate updating visits the members in scipy's order: the best member is
kept at index 0 (visited first in each generation) and a trial that becomes
the best is swapped there. Visiting the best at its own index instead (the
former order) ended best1bin with scipy's defaults on Rastrigin D = 10 in a
wrong basin in 31 of seeds 0-99 (18 of seeds 0-39); scipy's order: 22 (9).
Per-strategy comparisons with scipy at equal evaluations:
``benchmarks/results/de_quality.json``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from numba import types as nt
from numba.core.registry import CPUDispatcher
from scipy.optimize import OptimizeResult

from meanfolio._parallel import free_threads, numba_threads
from meanfolio._random_kernels import kernel_key
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from . import _compat as compat
from . import _kernels as kern
from ._python_loop import best_index, evaluate_python, promote, python_generation
from ._result import build_result
from .constraints import split_constraints

__all__ = ["STRATEGIES", "differential_evolution"]

STRATEGIES = {
    "rand1bin": (0, False), "best1bin": (1, False), "currenttobest1bin": (2, False),
    "rand2bin": (3, False), "best2bin": (4, False), "randtobest1bin": (5, False), "rand1exp": (0, True),
    "best1exp": (1, True), "currenttobest1exp": (2, True), "rand2exp": (3, True), "best2exp": (4, True),
    "randtobest1exp": (5, True), "jde": (kern.JDE, False), "shade": (kern.SHADE, False),
    "lshade": (kern.LSHADE, False),
}  # fmt: skip
CUSTOM = -1  # a callable strategy (Python path)
LSHADE_H, LSHADE_ARCHIVE_RATE = 6, 2.6
#: Below this many seconds of objective evaluations per generation the compiled loop runs on one thread.
PARALLEL_GENERATION_SECONDS = 2e-3


def differential_evolution(
    func, bounds, args=(), strategy="best1bin", maxiter=1000, popsize=15, tol=0.01, mutation=(0.5, 1),
    recombination=0.7, seed=None, callback=None, disp=False, polish=True, init="latinhypercube", atol=0,
    updating="immediate", workers=1, constraints=(), x0=None, *, integrality=None, vectorized=False,
    rng=None, maxfev=None,
) -> OptimizeResult:  # fmt: skip
    r"""Minimise ``func(x, *args)`` over the box ``bounds`` by differential evolution.

    A drop-in replacement for :func:`scipy.optimize.differential_evolution`
    (scipy 1.17): same arguments, defaults, warnings, stopping rule, ``nfev``
    count and result, plus adaptive strategies, an evaluation budget and a
    portfolio-simplex constraint. A numba ``@njit`` objective runs the whole
    generation loop compiled.

    Parameters
    ----------
    func : callable
        ``func(x, *args) -> float`` with x of shape (D,); with
        ``vectorized=True``, x of shape (D, S) and S values back. A size-1
        array counts as a scalar (as in scipy); NaN counts as +inf.
    bounds : sequence of (min, max) pairs or scipy.optimize.Bounds
        Finite, min <= max; variables with min == max are fixed (and not
        counted in the population size).
    args : tuple
        Extra arguments of ``func``.
    strategy : str or callable
        "best1bin" (default), "best1exp", "rand1bin", "rand1exp",
        "randtobest1bin", "randtobest1exp", "currenttobest1bin",
        "currenttobest1exp", "best2bin", "best2exp", "rand2bin", "rand2exp";
        the adaptive "jde", "shade", "lshade"; or scipy's callable
        ``strategy(candidate, population, rng=None) -> trial (D,)``.
    maxiter, popsize, tol, atol : int, int, float, float
        Generations (at most), population ``popsize x D`` (at least 5; Sobol'
        rounds up to a power of two), and the stopping rule
        :math:`\operatorname{std}(E) \le atol + tol\,|\operatorname{mean}(E)|`
        over the population energies E (``tol=0, atol=-1`` switches it off, as in scipy).
    mutation : float or (float, float)
        F in [0, 2); a pair (min, max) draws F uniformly once per generation
        (dither).
    recombination : float
        Crossover rate CR in [0, 1].
    seed, rng : None, int, numpy Generator (or RandomState for ``seed``)
        Randomness (``rng`` is scipy >= 1.15's keyword; not both). Same seed,
        same result, on one or many threads.
    callback : callable, optional
        ``callback(intermediate_result: OptimizeResult)`` or the old
        ``callback(xk, convergence)``; returning True or raising
        StopIteration stops the run (the result is still polished).
    disp : bool
        Print the best energy after each generation.
    polish : bool or callable
        Refine the result with L-BFGS-B (trust-constr with constraints) or a
        callable ``polish(func, x0, bounds=..., constraints=...)`` returning
        an OptimizeResult; kept only if lower, successful and inside the
        bounds. Integer variables stay fixed; no polishing under a Simplex.
    init : str or array_like
        "latinhypercube", "sobol", "halton", "random", or an (S, D) array.
    updating : {"immediate", "deferred"}
        Immediate: each trial replaces its parent at once (the best member is
        kept at index 0 and visited first, as in scipy); deferred: once per
        generation (forced by ``workers`` or ``vectorized``, with a warning).
    workers : int or map-like callable
        Parallel evaluation of Python objectives (-1: every core).
    constraints : scipy constraint(s) or :class:`~meanfolio.optimize.Simplex`
        Lampinen's feasibility rules (as scipy) or the simplex repair.
    x0 : array_like, optional
        Replaces the first member of the initial population.
    integrality : array_like of bool, optional
        Integer variables (rounded); raises ValueError when no integer lies
        inside a variable's bounds, as scipy.
    vectorized : bool
        Call ``func`` once per generation with all the trials as columns.
    maxfev : int, optional
        Evaluation budget (checked after each generation); L-SHADE's default
        is 10000 D.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x``, ``fun``, ``nfev`` (scipy's count: one per point, or one per
        call of a vectorized objective, polishing included), ``nit``,
        ``success``, ``message``, ``population`` (best first),
        ``population_energies``, ``jac`` when the polish improved x, and
        ``constr`` / ``constr_violation`` / ``maxcv`` with constraints.

    Notes
    -----
    In the unit cube, with distinct random members r0..r4 (none equal to
    i), the mutants are: rand1 :math:`x_{r0} + F (x_{r1} - x_{r2})`, best1
    :math:`x_b + F (x_{r0} - x_{r1})`, currenttobest1 :math:`x_i + F (x_b -
    x_i + x_{r0} - x_{r1})`, randtobest1 :math:`x_{r0} + F (x_b - x_{r0}) +
    F (x_{r1} - x_{r2})`, rand2 / best2 with two differences. Binomial
    crossover takes each coordinate from the mutant with probability CR
    (and one coordinate always); exponential crossover a cyclic run of
    coordinates of geometric length. A coordinate leaving [0, 1] is redrawn
    uniformly. Adaptive strategies ignore ``mutation``, ``recombination``
    and ``updating``: "jde" self-adapts F and CR per member (tau = 0.1);
    "shade" uses current-to-pbest/1 with an archive and success-history
    memories of size N, p in [2/N, 0.2]; "lshade" adds the linear reduction
    of N from 18 D to 4 over ``maxfev`` (H = 6, archive 2.6 N, p = 0.11).
    Quality at equal evaluations against scipy, per strategy:
    ``benchmarks/results/de_quality.json``.

    References
    ----------
    .. [1] Storn, R. and Price, K. (1997), Differential evolution - a simple and
       efficient heuristic for global optimization over continuous spaces, J.
       Global Optimization 11, 341-359.
    .. [2] Brest, J. et al. (2006), Self-adapting control parameters in
       differential evolution, IEEE Trans. Evol. Comput. 10(6), 646-657.
    .. [3] Tanabe, R. and Fukunaga, A. (2013), Success-history based parameter
       adaptation for differential evolution, IEEE CEC, 71-78; (2014) Improving
       the search performance of SHADE using linear population size reduction,
       IEEE CEC, 1658-1665.
    .. [4] Lampinen, J. (2002), A constraint handling approach for the
       differential evolution algorithm, IEEE CEC, 1468-1473.

    Examples
    --------
    >>> from meanfolio import differential_evolution
    >>> res = differential_evolution(lambda x: float((x[0] - 1) ** 2 + x[1] ** 2), [(-5, 5), (-5, 5)],
    ...                              seed=1, tol=1e-10, polish=False)
    >>> res.success, bool(abs(res.x[0] - 1) < 1e-4 and abs(res.x[1]) < 1e-4)
    (True, True)
    >>> res.population.shape  # popsize 15 x D = 2 members
    (30, 2)
    """
    custom = callable(strategy)
    if not custom:
        check_choice("strategy", strategy, STRATEGIES)
    algo, exp = (CUSTOM, False) if custom else STRATEGIES[strategy]
    lo, hi = compat.parse_bounds(bounds)
    D = lo.size
    maxiter = check_integer("maxiter", maxiter, low=0)
    popsize = check_integer("popsize", popsize, low=1)
    tol = check_number("tol", tol, low=0)
    atol = check_number("atol", atol)  # any finite value, as scipy: a negative atol switches the test off
    F_lo, F_hi = compat.parse_mutation(mutation)
    CR = check_number("recombination", recombination, low=0, high=1)
    if not callable(workers):
        workers = check_integer("workers", workers, low=-1)
    updating, vectorized = compat.updating_mode(updating, workers, bool(vectorized))
    if maxfev is None:
        maxfev = 10_000 * D if algo == kern.LSHADE else np.iinfo(np.int64).max // 2
    maxfev = check_integer("maxfev", maxfev, low=1)
    integral, lo, hi = compat.integrality_limits(integrality, lo, hi)
    simplex, scipy_cons = split_constraints(constraints)
    caps = simplex.cap_array() if simplex is not None else np.zeros(0)
    if simplex is not None and simplex.n_assets != D:
        raise ValueError(f"Simplex.n_assets = {simplex.n_assets} is not allowed: expected {D} (the bounds)")
    gen = compat.as_numpy_rng(seed, rng)
    span = np.where(hi > lo, hi - lo, 1.0)

    # population in the unit cube
    if isinstance(init, str):
        n = 18 * D if algo == kern.LSHADE else compat.population_size(init, popsize, lo, hi)
        U = compat.init_population(init, n, D, gen)
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
    key = kernel_key(gen)

    compiled = (
        isinstance(func, CPUDispatcher)
        and not custom
        and not args
        and not vectorized
        and not callable(workers)
        and not scipy_cons
        and _compiles_as_objective(func)
    )
    immediate = updating == "immediate" and algo < kern.JDE and workers == 1
    st = _State(U, n, D, max(algo, 0), lo, hi, integral, caps, key, F_lo, F_hi, CR, tol, atol, maxfev)
    st.custom = strategy if custom else None
    st.gen = gen
    cb = compat.callback_adapter(callback)
    evaluate = None
    pool = None
    if not compiled:
        if isinstance(workers, int) and workers not in (0, 1):
            from multiprocessing import Pool

            pool = Pool(None if workers == -1 else workers)
            workers = pool.map
        evaluate = compat.python_evaluator(func, args, vectorized, workers)
    start = time.perf_counter()
    try:
        nit, stop = _run(st, func, args, evaluate, compiled, immediate, exp, scipy_cons, maxiter, cb, disp)
        return build_result(st, func, args, nit, stop, polish, scipy_cons, integral, lo, hi, evaluate, disp,
                       time.perf_counter() - start)  # fmt: skip
    finally:
        if pool is not None:
            pool.close()


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


def _run(st: _State, func, args, evaluate, compiled, immediate, exp, scipy_cons, maxiter, cb, disp):
    """Initial evaluation, then generations until convergence, maxiter or maxfev."""
    n = st.n
    threads = 1
    if compiled:
        kern.evaluate_rows(func, np.empty((0, st.D)), np.empty(0), False)  # binds func (no evaluation)
        t0 = time.thread_time()
        st.ints[5] += kern.evaluate_rows(func, st.params(st.pop), st.energies, False)
        st.ints[1] += n
        # threads only when a generation's evaluations take long enough (CPU time of this thread, blind to
        # other processes) to pay for a parallel region; then as many as there are free cores
        if not immediate and time.thread_time() - t0 > PARALLEL_GENERATION_SECONDS:
            threads = free_threads()
    else:
        st.energies[:], st.cv = evaluate_python(st, st.params(st.pop), evaluate, scipy_cons)
    st.ints[4] = best_index(st)
    if st.custom is None and st.algo < kern.JDE:
        promote(st, int(st.ints[4]))  # scipy keeps the best at index 0
    nit, stop = 0, 0
    chunk = 1 if (cb is not None or disp or not compiled) else max(maxiter, 1)
    with numba_threads(threads):
        while nit < maxiter:
            todo = min(chunk, maxiter - nit)
            if compiled:
                done, stop = kern.run_compiled(func, st.algo, exp, immediate, threads > 1, st.arrays(), st.P, nit,
                                               todo)  # fmt: skip
            else:
                done, stop = 1, python_generation(st, evaluate, immediate, exp, scipy_cons, nit)
            nit += int(done)
            if disp:
                print(f"differential_evolution step {nit}: f(x)= {st.energies[st.ints[4]]}")
            if cb is not None and stop != 2:
                e = st.energies[: st.n]
                b = int(st.ints[4])
                x = st.params(st.pop[b : b + 1])[0]
                if cb(x, float(st.energies[b]), compat.scipy_convergence(e, st.P[4]), nit, int(st.ints[1]),
                      st.params(st.pop[: st.n]), e.copy()):  # fmt: skip
                    stop = 3
            if stop:
                break
    return nit, stop
