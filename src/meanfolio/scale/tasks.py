"""Functions a sweep can run by name: ``f(params: dict, seed: int) -> dict of numbers``.

Each is a plain top-level function (picklable, importable on any worker);
user callables with the same signature work too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["TASKS", "de_restart", "kinetic_ensemble", "mfg_point", "resolve", "sleep_point"]


def mfg_point(params: dict[str, Any], seed: int) -> dict[str, float]:
    r"""Sweep task: a 1D MFG with viscosity ``nu`` and congestion ``coupling``, plus the confinement :math:`x^2/2`.

    Solves :func:`meanfolio.mfg.solve_mfg` on [-4, 4] with the running cost
    :math:`x^2/2 + \text{coupling} \cdot` :class:`~meanfolio.mfg.Congestion` and a
    Gaussian start whose centre is drawn from the seed.

    Parameters
    ----------
    params : dict
        ``nu`` (viscosity), ``coupling`` (congestion strength), optional
        ``nx`` (200), ``nt`` (100), ``max_iterations`` (100).
    seed : int
        Seed of the start's centre, uniform in [-1, 1].

    Returns
    -------
    dict of str to float
        ``iterations`` (Newton), ``converged`` (0 or 1), ``spread`` (std of m(T))
        and ``mass_error``.
    """
    from meanfolio.mfg import Congestion, MFGConfig, RunningCost, solve_mfg

    nx, nt = int(params.get("nx", 200)), int(params.get("nt", 100))
    config = MFGConfig(nx=nx, nt=nt, x_min=-4, x_max=4, viscosity=float(params["nu"]), tolerance=1e-8,
                       max_iterations=int(params.get("max_iterations", 100)))  # fmt: skip
    x = np.linspace(-4, 4, nx)
    rng = np.random.default_rng(seed)
    m0 = np.exp(-((x - rng.uniform(-1, 1)) ** 2) / 0.5)
    f = RunningCost(0.5 * x**2) + Congestion(1.0, float(params["coupling"]))
    sol = solve_mfg(config, m0, f)
    dx = x[1] - x[0]
    mean = dx * np.sum(x * sol.m[-1])
    spread = np.sqrt(dx * np.sum((x - mean) ** 2 * sol.m[-1]))
    return {"iterations": float(sol.iterations), "converged": float(sol.converged), "spread": float(spread),
            "mass_error": sol.mass_error}  # fmt: skip


def kinetic_ensemble(params: dict[str, Any], seed: int) -> dict[str, float]:
    """Sweep task: one kinetic-market run of :func:`meanfolio.kinetic.simulate`.

    Parameters
    ----------
    params : dict
        ``preset`` (default ``"long_term_varying"``), optional ``beta`` (trust
        coefficient), ``agents`` (10 000), ``steps`` (2 000).
    seed : int
        The simulation's seed.

    Returns
    -------
    dict of str to float
        ``tail_index`` (Hill, of the absolute daily log returns),
        ``kurtosis`` (excess) and ``final_price``.
    """
    from meanfolio.kinetic import excess_kurtosis, hill_tail_index, log_returns, observed, preset, simulate

    changes = {"beta": float(params["beta"])} if "beta" in params else {}
    p = preset(params.get("preset", "long_term_varying"), **changes)
    res = simulate(p, n_agents=int(params.get("agents", 10_000)), steps=int(params.get("steps", 2_000)), seed=seed)
    r = log_returns(observed(res))  # returns every observation_interval ("daily"), independent of dt
    return {"tail_index": float(hill_tail_index(np.abs(r))), "kurtosis": float(excess_kurtosis(r)),
            "final_price": float(res.series["S"][res.completed_steps])}  # fmt: skip


def de_restart(params: dict[str, Any], seed: int) -> dict[str, float]:
    """Sweep task: one differential-evolution restart on a classic benchmark function.

    Parameters
    ----------
    params : dict
        ``function`` (default ``"rastrigin"``), ``dim`` (10), ``strategy``
        (``"lshade"``), ``maxiter`` (300).
    seed : int
        The optimizer's seed.

    Returns
    -------
    dict of str to float
        ``best`` (the best value found) and ``nfev``.
    """
    from meanfolio.optimize import differential_evolution
    from meanfolio.optimize.benchmarks.classic import CLASSIC

    f, (lo, hi), _ = CLASSIC[params.get("function", "rastrigin")]
    res = differential_evolution(f, [(lo, hi)] * int(params.get("dim", 10)), strategy=params.get("strategy", "lshade"),
                                 seed=seed, maxiter=int(params.get("maxiter", 300)), polish=False)  # fmt: skip
    return {"best": float(res.fun), "nfev": float(res.nfev)}


def sleep_point(params: dict[str, Any], seed: int) -> dict[str, float]:
    """Sleep ``seconds`` (default 0) and return ``x + 2 seed``: for overhead measurements and fault tests."""
    import time

    time.sleep(float(params.get("seconds", 0.0)))
    if params.get("fail_seed") == seed:
        raise ValueError(f"seed {seed} fails on purpose")
    return {"value": float(params.get("x", 0.0)) + 2.0 * seed}


#: The sweep tasks by name, each ``f(params: dict, seed: int) -> dict of numbers`` (see :func:`sweep`).
TASKS: dict[str, Callable[[dict[str, Any], int], dict[str, float]]] = {
    "mfg": mfg_point,
    "kinetic": kinetic_ensemble,
    "de": de_restart,
    "sleep": sleep_point,
}


def resolve(function) -> tuple[str, Callable]:
    """(stable name, callable) for a task name, a "module:function" path, or a callable."""
    if callable(function):
        name = f"{function.__module__}:{function.__qualname__}"
        if "<locals>" in name or "<lambda>" in name:
            raise ValueError(f"function = {name} is not allowed: expected a top-level function (workers import it)")
        return name, function
    if not isinstance(function, str):
        raise ValueError(
            f"function = {function!r} is not allowed: expected a task name, 'module:function' or a callable"
        )
    if function in TASKS:
        return function, TASKS[function]
    if ":" in function:
        import importlib

        module, _, attr = function.partition(":")
        try:
            return function, getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"function = {function!r} could not be imported: {exc}") from exc
    raise ValueError(f"function = {function!r} is not allowed: expected one of {sorted(TASKS)} or 'module:function'")
