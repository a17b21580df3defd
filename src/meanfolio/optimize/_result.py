"""The OptimizeResult of differential_evolution (private): final population, scipy's polishing rules."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import Bounds, OptimizeResult, minimize

from .constraints import constraint_violation

MESSAGES = {
    0: "Maximum number of iterations has been exceeded.",
    1: "Optimization terminated successfully.",
    2: "Maximum number of function evaluations has been exceeded.",
    3: "callback function requested stop early",
}


def build_result(st, func, args, nit, stop, polish, scipy_cons, integral, lo, hi, evaluate, disp,
                 elapsed) -> OptimizeResult:  # fmt: skip
    """Result of a run (``st``: the ``de._State``), polished as scipy does.

    Polishing (L-BFGS-B, or trust-constr with constraints, or a callable
    ``polish``) runs after any stop, the callback's included, unless every
    variable is an integer; integer variables stay fixed; the polished point
    is kept only if it is lower, successful and inside the bounds. Simplex
    repair (``caps``) has no polishing.
    """
    n = st.n
    order = np.argsort(st.energies[:n], kind="stable")
    if st.cv is not None and not np.isfinite(st.energies[:n]).any():
        order = np.argsort(st.cv[:n].sum(axis=1), kind="stable")
    pop = st.params(st.pop[order])
    energies = st.energies[order].copy()
    x, fun = pop[0].copy(), float(energies[0])
    message = MESSAGES[stop]
    nfev = int(st.ints[1])
    jac = None
    if polish and not integral.all() and np.isfinite(fun) and st.caps.size == 0:
        plo, phi = lo.copy(), hi.copy()
        plo[integral] = phi[integral] = x[integral]  # scipy: integer variables stay fixed
        method = "trust-constr" if scipy_cons else "L-BFGS-B"
        if callable(polish):
            pf, f = polish, (lambda z: func(z, *args))
        else:
            if disp:
                print(f"Polishing solution with '{method}'")

            def pf(f, z, **kw):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return minimize(f, z, method=method, **kw)

            if evaluate is None:

                def f(z):
                    return float(func(np.ascontiguousarray(z, dtype=np.float64)))
            else:

                def f(z):
                    return float(evaluate[0](np.atleast_2d(np.asarray(z, dtype=np.float64)))[0])

        pol = pf(f, x.copy(), bounds=Bounds(plo, phi), constraints=scipy_cons or ())
        if not isinstance(pol, OptimizeResult):
            raise ValueError("The result from a user defined polishing function should return an OptimizeResult.")
        nfev += int(pol.get("nfev", 0))
        if pol.fun < fun and pol.success and np.all(pol.x <= phi) and np.all(plo <= pol.x):
            x, fun = np.asarray(pol.x, dtype=np.float64).copy(), float(pol.fun)
            jac = pol.get("jac", None)
            pop[0], energies[0] = x, fun
    if st.ints[5]:
        message += f" ({int(st.ints[5])} objective values were NaN and counted as +inf)"
    res = OptimizeResult(
        x=x, fun=fun, nfev=nfev, nit=int(nit), success=stop == 1, message=message, population=pop,
        population_energies=energies, wall_time=elapsed,
    )  # fmt: skip
    if jac is not None:
        res.jac = jac
    if scipy_cons:
        cv = constraint_violation(scipy_cons, x[None])[0]
        res.constr_violation = float(cv.max()) if cv.size else 0.0
        res.maxcv = res.constr_violation
        res.constr = [constraint_violation([c], x[None])[0] for c in scipy_cons]
        if res.maxcv > 0:
            res.success = False
            res.message = f"The solution does not satisfy the constraints, MAXCV = {res.maxcv}"
    return res
