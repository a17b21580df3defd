"""Optimizer page: DE / jDE / SHADE / L-SHADE on a benchmark function or on a portfolio of the bundled stocks."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from meanfolio.data import load_sp500
from meanfolio.optimize import STRATEGIES, Simplex, differential_evolution
from meanfolio.optimize.benchmarks.classic import CLASSIC

from ._widgets import chart, lines, number, run_controls, stop_requested, time_text

PORTFOLIO = "portfolio: mean - 3 variance of the bundled stocks (2015-2022)"
#: at most this many objective evaluations per run; seconds per evaluation (measured order, rounded up)
MAX_EVALUATIONS = 20_000_000
SECONDS_PER_EVALUATION = 3e-6


def evaluations(dim: int, popsize: int, maxiter: int) -> int:
    """Upper bound of the objective evaluations of a run: popsize x dim per generation."""
    return popsize * dim * (maxiter + 1)


def _portfolio_objective():
    table = load_sp500(start="2015-01-01")
    R, _ = table.returns()
    mu, cov = R.mean(axis=0) * 252, np.cov(R, rowvar=False) * 252

    def objective(w):
        return -(mu @ w - 3.0 * w @ cov @ w)

    return objective, table.tickers


def _run(problem: str, dim: int, strategy: str, popsize: int, maxiter: int, seed: int):
    history: list[float] = []
    placeholder = st.empty()  # the live curve and population, below the buttons; cleared at the end
    live_population = st.empty()
    if problem == PORTFOLIO:
        func, names = _portfolio_objective()
        bounds = [(0.0, 1.0)] * len(names)
        extra = {"constraints": Simplex(len(names))}
    else:
        f, (lo, hi), _ = CLASSIC[problem]
        func, names, bounds, extra = f, None, [(lo, hi)] * dim, {}

    contour = []  # drawn once, through the best point of the first generation

    def callback(intermediate_result):
        r = intermediate_result
        history.append(float(r.fun))
        n = len(history)
        if n % 5 == 1:  # live curve and population, a new element each time (unique keys)
            _curve(placeholder, history, f"opt_live_{n}")
            if not contour:
                contour.append(_contour(problem, r.x, bounds))
            fig = _slice(contour[0], r.population, r.x, f"population at generation {n} on the (x0, x1) slice")
            chart(live_population, fig, key=f"opt_pop_{n}")
        return stop_requested("opt")

    res = differential_evolution(func, bounds, strategy=strategy, popsize=popsize, maxiter=maxiter, seed=seed,
                                 callback=callback, polish=False, tol=0.0, **extra)  # fmt: skip
    placeholder.empty()
    live_population.empty()
    return res, history, names, bounds


def _curve(placeholder, history: list[float], key: str) -> None:
    """The best value per generation (log scale when every value is positive)."""
    h = np.asarray(history)
    fig = lines(np.arange(1, h.size + 1), {"best objective": h}, "convergence", xlabel="generation",
                log_y=bool(h.size and h.min() > 0))  # fmt: skip
    chart(placeholder, fig, key=key)


def _contour(problem: str, center: np.ndarray, bounds):
    """log(1 + f - min f) on the (x0, x1) plane through ``center`` (None for the portfolio)."""
    if problem == PORTFOLIO:
        return None
    f = CLASSIC[problem][0]
    g = np.linspace(*bounds[0], 120)
    Z = np.empty((g.size, g.size))
    x = center.copy()
    for i, a in enumerate(g):
        for j, b in enumerate(g):
            x[0], x[1] = b, a
            Z[i, j] = f(x)
    return g, np.log1p(Z - Z.min())


def _slice(contour, population: np.ndarray, best: np.ndarray, title: str) -> go.Figure:
    """The population on the (x0, x1) plane over the function's contours."""
    fig = go.Figure()
    if contour is not None:
        g, Z = contour
        fig.add_trace(go.Contour(x=g, y=g, z=Z.tolist(), colorscale="Viridis", showscale=False,
                                 contours=dict(showlines=False)))  # fmt: skip
    fig.add_trace(go.Scatter(x=population[:, 0], y=population[:, 1], mode="markers", name="population",
                             marker=dict(color="white", size=6, line=dict(color="black", width=1))))  # fmt: skip
    fig.add_trace(go.Scatter(x=[best[0]], y=[best[1]], mode="markers", marker=dict(color="red", size=12,
                             symbol="x"), name="best"))  # fmt: skip
    fig.update_layout(title=title, height=420, margin=dict(t=40, b=40))
    return fig


def render() -> None:
    st.header("Differential evolution")
    st.caption("scipy's interface; jDE, SHADE and L-SHADE adapt F and CR; L-SHADE shrinks the population.")
    c1, c2, c3 = st.columns(3)
    problem = c1.selectbox("problem", [*CLASSIC, PORTFOLIO], key="opt_problem")
    dim = int(number(c1, "dimension (benchmarks)", 10, 2, 100, 1, "opt_dim",
                     help="from 2 to 100: the population is drawn on the (x0, x1) plane"))  # fmt: skip
    strategy = c2.selectbox("strategy", list(STRATEGIES), index=list(STRATEGIES).index("lshade"), key="opt_strategy")
    popsize = int(number(c2, "popsize (per dimension)", 15, 4, 100, 1, "opt_pop"))
    maxiter = int(number(c3, "generations", 300, 1, 20_000, 50, "opt_iter"))
    seed = int(number(c3, "seed", 1, 0, 2**31 - 1, 1, "opt_seed"))
    n = len(load_sp500().tickers) if problem == PORTFOLIO else dim
    total = evaluations(n, popsize, maxiter)
    text = f"at most {total:,} evaluations, about {time_text(total * SECONDS_PER_EVALUATION)}"

    def run():
        if total > MAX_EVALUATIONS:
            raise ValueError(f"popsize x dimension x generations = {total:,} evaluations is not allowed: "
                             f"expected at most {MAX_EVALUATIONS:,}")  # fmt: skip
        return (problem, *_run(problem, dim, strategy, popsize, maxiter, seed))

    saved = run_controls("opt", "Run", run, "the optimisation", "Pick a problem and a strategy and press Run.",
                         estimate=text)  # fmt: skip
    if saved is None:
        return
    problem, res, history, names, bounds = saved
    _curve(st, history, "opt_curve")
    cols = st.columns(3)
    cols[0].metric("best value", f"{res.fun:.6g}")
    cols[1].metric("evaluations", res.nfev)
    cols[2].metric("generations", res.nit)
    st.caption(res.message)
    if names is not None:
        st.bar_chart({"weight": dict(zip(names, res.x, strict=True))}, height=300)
    fig = _slice(_contour(problem, res.x, bounds), res.population, res.x, "final population on the (x0, x1) slice")
    chart(st, fig, key="opt_slice")
