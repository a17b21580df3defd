"""Argument handling of ``differential_evolution`` that follows scipy to the letter (private).

Each rule here is scipy 1.17's (``scipy/optimize/_differentialevolution.py``):
bounds, integrality checks, population size (variables with equal bounds
do not count; Sobol' rounds up to a power of two), the ``seed`` / ``rng``
keywords, the updating / workers / vectorized overrides with their
warnings, the callback forms (``StopIteration`` stops), the scalar check of
objective values and the call count of a vectorized objective.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import Bounds, OptimizeResult
from scipy.stats import qmc

from meanfolio._validation import check_array, check_choice, check_number

INITS = ("latinhypercube", "sobol", "halton", "random")
MACHEPS = np.finfo(np.float64).eps
SCALAR_MESSAGE = "func(x, *args) must return a scalar value"


def parse_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) arrays from a Bounds object or (D, 2) pairs; finite, lower <= upper."""
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


def integrality_limits(integrality, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(integral mask, lower, upper). No integer inside the bounds of an integer variable raises ValueError
    (scipy's message). The box is left as it is: a point is drawn in it and rounded, as scipy does (so
    the end integers of integer bounds get half the share of the others, as in scipy), then kept inside
    ``[ceil(lb), floor(ub)]`` (scipy 1.17 rounds 0.9 in bounds (-0.9, 0.9) to 1, outside the bounds)."""
    D = lo.size
    if integrality is None or not np.any(integrality):
        return np.zeros(D, dtype=np.bool_), lo, hi
    mask = np.broadcast_to(np.asarray(integrality, dtype=np.bool_), (D,)).copy()
    if not (np.ceil(lo)[mask] <= np.floor(hi)[mask]).all():
        raise ValueError("One of the integrality constraints does not have any possible integer values between "
                         "the lower/upper bounds.")  # fmt: skip
    return mask, lo, hi


def population_size(init, popsize: int, lo: np.ndarray, hi: np.ndarray) -> int:
    """scipy's count: ``max(5, popsize * max(1, D - #equal bounds))``, the next power of two for Sobol'."""
    varying = int(np.count_nonzero(lo != hi))
    n = max(5, popsize * max(1, varying))
    if isinstance(init, str) and init == "sobol":
        n = int(2 ** np.ceil(np.log2(n)))
    return n


def parse_mutation(mutation) -> tuple[float, float]:
    """(F_min, F_max) in [0, 2); equal for a single F (no dither)."""
    if np.ndim(mutation) == 0:
        F = check_number("mutation", mutation, low=0, high=2, high_inclusive=False)
        return F, F
    lo, hi = (check_number("mutation", m, low=0, high=2, high_inclusive=False) for m in mutation)
    if lo > hi:
        raise ValueError(f"mutation = {tuple(mutation)} is not allowed: expected (min, max) with min <= max")
    return lo, hi


def as_numpy_rng(seed, rng) -> np.random.Generator:
    """The Generator of scipy's ``seed`` (None, int, RandomState or Generator) or ``rng`` keyword
    (anything ``np.random.default_rng`` takes). A RandomState gives a Generator seeded from its stream
    (advancing it, as scipy's use would). Both keywords at once raise TypeError, as in scipy."""
    if seed is not None and rng is not None:
        raise TypeError("differential_evolution() got multiple values for argument now known as `rng`. Specify "
                        "one of `rng` or `seed`.")  # fmt: skip
    if rng is not None:
        return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed = {seed!r} is not allowed: expected None, a non-negative int, a numpy Generator "
                     "or RandomState")  # fmt: skip


def updating_mode(updating: str, workers, vectorized: bool) -> tuple[str, bool]:
    """scipy's overrides: workers != 1 or vectorized force deferred updating (with a warning each);
    workers != 1 switches vectorized off (with a warning)."""
    check_choice("updating", updating, ("immediate", "deferred"))
    parallel = callable(workers) or workers != 1
    if parallel and updating == "immediate":
        warnings.warn("differential_evolution: the 'workers' keyword has overridden updating='immediate' to "
                      "updating='deferred'", UserWarning, stacklevel=3)  # fmt: skip
        updating = "deferred"
    if vectorized and parallel:
        warnings.warn("differential_evolution: the 'workers' keyword overrides the 'vectorized' keyword",
                      UserWarning, stacklevel=3)  # fmt: skip
        vectorized = False
    if vectorized and updating == "immediate":
        warnings.warn("differential_evolution: the 'vectorized' keyword has overridden updating='immediate' to "
                      "updating='deferred'", UserWarning, stacklevel=3)  # fmt: skip
        updating = "deferred"
    return updating, vectorized


def init_population(init, n: int, D: int, rng) -> np.ndarray:
    """n points of the unit cube: scipy's Latin hypercube, Sobol', Halton or uniform."""
    check_choice("init", init, INITS)
    if init == "latinhypercube":  # scipy's own LHS: one point per segment, shuffled per column
        seg = 1.0 / n
        u = seg * rng.uniform(size=(n, D)) + np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
        return np.ascontiguousarray(np.column_stack([rng.permutation(u[:, d]) for d in range(D)]))
    if init == "random":
        return rng.uniform(size=(n, D))
    engine = qmc.Sobol(D, seed=rng) if init == "sobol" else qmc.Halton(D, seed=rng)
    return np.ascontiguousarray(engine.random(n))


def scipy_convergence(energies: np.ndarray, tol: float) -> float:
    """The value scipy hands to callbacks: ``tol / (std(E) / (|mean(E)| + eps) + eps)`` (0 while some E is inf)."""
    if np.any(np.isinf(energies)):
        return 0.0
    return float(tol / (np.std(energies) / (abs(np.mean(energies)) + MACHEPS) + MACHEPS))


def callback_adapter(callback) -> Callable | None:
    """``call(x, fun, convergence, nit, nfev, pop, energies) -> stop?``: the new form (one parameter named
    ``intermediate_result``) gets an OptimizeResult, the old one ``callback(x, convergence)`` (positional,
    as scipy); a callback that returns True or raises StopIteration stops the run."""
    if callback is None:
        return None
    try:  # scipy's rule: the new form iff the only parameter is named intermediate_result
        wants_result = set(inspect.signature(callback).parameters) == {"intermediate_result"}
    except (TypeError, ValueError):
        wants_result = False

    def call(x, fun, convergence, nit, nfev, pop, energies):
        try:
            if wants_result:
                res = OptimizeResult(x=x, fun=fun, convergence=convergence, nit=nit, nfev=nfev, message="in progress",
                                     success=True, population=pop, population_energies=energies)  # fmt: skip
                return bool(callback(intermediate_result=res))
            return bool(callback(x.copy(), convergence))
        except StopIteration:
            return True

    return call


def scalar(value) -> float:
    """An objective value as a float: scalars and size-1 arrays (shape (1,) etc., as scipy squeezes)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size != 1:
        raise RuntimeError(SCALAR_MESSAGE)
    return float(arr.reshape(()))


class Bound:
    """func with its args, picklable for process pools; returns a float."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __call__(self, x):
        return scalar(self.func(x, *self.args))


def python_evaluator(func, args, vectorized: bool, workers):
    """(evaluate(X) -> energies, calls(rows) -> nfev increment): scipy counts one evaluation per call of a
    vectorized objective and one per point otherwise."""
    if vectorized:

        def evaluate(X):
            out = np.atleast_1d(np.asarray(func(X.T.copy(), *args), dtype=np.float64)).reshape(-1)
            if out.size != X.shape[0]:
                raise RuntimeError("The vectorized function must return an array of shape (S,) when given an "
                                   "array of shape (len(x), S)")  # fmt: skip
            return out

        return evaluate, lambda rows: 1 if rows else 0
    bound = Bound(func, args)
    if callable(workers):

        def evaluate(X):
            return np.fromiter(workers(bound, list(X)), dtype=np.float64, count=X.shape[0])
    else:

        def evaluate(X):
            return np.array([bound(x) for x in X], dtype=np.float64)

    return evaluate, lambda rows: rows
