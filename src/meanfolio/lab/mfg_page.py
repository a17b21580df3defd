"""MFG page: choose the game, solve it, look at u, m, alpha*, the residuals and the population flow."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from meanfolio._validation import check_memory
from meanfolio.mfg import (
    Congestion,
    Linear,
    LogDensity,
    MeanTracking,
    MFGConfig,
    PowerLaw,
    Quadratic,
    RunningCost,
    solve_mfg,
)
from meanfolio.mfg.config import METHODS
from meanfolio.particles import GridControl, McKeanVlasov, simulate_particles

from ._widgets import chart, heatmap, lines, number, run_controls, size_text, stop_requested, surface, time_text

HAMILTONIANS = ("quadratic |p|^2/2", "power law |p|^a/a", "linear: speed |p| (bounded trading rate)")


#: bytes and seconds per (t, x) cell (1D) or (t, x, y) cell (2D) of a Newton solve, measured on the page's
#: game (peak RSS over the baseline: 490 B 1D, 830-1050 B 2D; 1.4-7.8 us per cell on 2 busy cores), rounded up
COST = {"1D": (500.0, 8e-6), "2D": (1100.0, 12e-6)}
#: at most this many cells (1D: 4M cells ~ 2 GB; 2D: 2M cells ~ 2.2 GB)
MAX_CELLS = {"1D": 4_000_000, "2D": 2_000_000}
SLOW = {"fictitious_play": "fictitious play converges like 1/k: expect many iterations"}


def methods_for(dim: str, hamiltonian: str) -> tuple[tuple[str, ...], str]:
    """The methods that work for this case, and why the others are not offered."""
    if dim == "2D":
        return ("newton",), "2D games are solved by Newton only (the fixed-point family is 1D)."
    if hamiltonian.startswith("linear"):
        return ("newton",), ("The linear Hamiltonian is not smooth: only Newton (with smoothing continuation) "
                             "converges; the fixed-point methods stall.")  # fmt: skip
    return METHODS, ""


def _inputs() -> dict:
    c1, c2, c3 = st.columns(3)
    v = {}
    v["dim"] = c1.radio("dimension", ("1D", "2D"), horizontal=True, key="mfg_dim")
    v["hamiltonian"] = c1.selectbox("Hamiltonian H(p)", HAMILTONIANS, key="mfg_h")
    v["exponent"] = number(c1, "exponent a (power law)", 3.0, 1.1, 10.0, 0.5, "mfg_a")
    v["speed"] = number(c1, "speed (linear)", 1.0, 0.01, 100.0, 0.5, "mfg_speed")
    v["potential"] = number(c2, "confinement: cost (k/2)|x|^2, k =", 1.0, -10.0, 100.0, 0.5, "mfg_pot")
    v["congestion"] = number(c2, "congestion: cost c m, c =", 1.0, 0.0, 100.0, 0.5, "mfg_cong")
    v["log"] = number(c2, "crowd aversion: cost b log m, b =", 0.0, 0.0, 10.0, 0.1, "mfg_log")
    v["tracking"] = number(c2, "herding: cost (q/2)|x - mean|^2, q =", 0.0, 0.0, 100.0, 0.5, "mfg_q")
    v["viscosity"] = number(c3, "viscosity nu", 0.1, 0.001, 10.0, 0.05, "mfg_nu", format="%.3f")
    high = 2000 if v["dim"] == "1D" else 200
    v["nx"] = int(number(c3, "space points per axis", 100, 10, high, 10, "mfg_nx"))
    v["nt"] = int(number(c3, "time points", 50, 5, 2000, 10, "mfg_nt"))
    v["T"] = number(c3, "horizon T", 1.0, 0.01, 100.0, 0.5, "mfg_T")
    methods, why = methods_for(v["dim"], v["hamiltonian"])
    v["method"] = c3.selectbox("method", methods, key="mfg_method" if len(methods) > 1 else "mfg_method_newton")
    if why or v["method"] in SLOW:
        c3.caption(" ".join(t for t in (why, SLOW.get(v["method"], "")) if t))
    return v


def cells(v: dict) -> int:
    """Grid cells of the solve: nt x nx (1D) or nt x nx^2 (2D)."""
    return v["nt"] * v["nx"] * (v["nx"] if v["dim"] == "2D" else 1)


def estimate(v: dict) -> str:
    """Memory and time of a Newton solve of this size, shown before running."""
    per_byte, per_second = COST[v["dim"]]
    n = cells(v)
    return f"{n:,} cells, about {size_text(n * per_byte)} of memory and {time_text(n * per_second)}"


def _check_size(v: dict) -> None:
    n, limit = cells(v), MAX_CELLS[v["dim"]]
    if n > limit:
        shape = "time points x space points" + ("^2" if v["dim"] == "2D" else "")
        raise ValueError(f"the grid has {n:,} cells ({v['dim']}: {shape}), which is not allowed: "
                         f"expected at most {limit:,}")  # fmt: skip
    check_memory(f"the solve on {n:,} cells", n * COST[v["dim"]][0])


def _problem(v: dict):
    dim = 2 if v["dim"] == "2D" else 1
    config = MFGConfig(nx=v["nx"], nt=v["nt"], x_min=-3, x_max=3, time_horizon=v["T"], viscosity=v["viscosity"],
                       method=v["method"], dim=dim, tolerance=1e-8, max_iterations=200)  # fmt: skip
    if v["hamiltonian"].startswith("power"):
        ham = PowerLaw(v["exponent"])
    elif v["hamiltonian"].startswith("linear"):
        ham = Linear(v["speed"])
    else:
        ham = Quadratic()
    k = v["potential"]
    f = RunningCost((lambda t, x: 0.5 * k * x**2) if dim == 1 else (lambda t, x, y: 0.5 * k * (x**2 + y**2)))
    if v["congestion"]:
        f = f + Congestion(1.0, v["congestion"])
    if v["log"]:
        f = f + LogDensity(v["log"])
    if v["tracking"]:
        f = f + MeanTracking(v["tracking"])
    x = np.linspace(-3, 3, v["nx"])
    if dim == 1:
        m0 = np.exp(-((x - 1.2) ** 2) / 0.3) + 0.6 * np.exp(-((x + 1.5) ** 2) / 0.2)
    else:
        X, Y = np.meshgrid(x, x)
        m0 = np.exp(-((X - 1.2) ** 2 + (Y - 0.8) ** 2) / 0.3) + 0.6 * np.exp(-((X + 1.5) ** 2 + (Y + 1) ** 2) / 0.2)
    return config, m0, f, ham


def _solve(v: dict):
    _check_size(v)
    config, m0, f, ham = _problem(v)
    status = st.empty()

    def progress(iteration: int, residual: float) -> bool:
        status.info(f"iteration {iteration}: residual {residual:.3e}")
        return stop_requested("mfg")

    sol = solve_mfg(config, m0, f, hamiltonian=ham, callback=progress)
    status.empty()
    return sol


def _flow(sol) -> go.Figure:
    """m(t, x) with the equilibrium paths of agents started at quantiles of m0."""
    fig = heatmap(sol.m, sol.x, sol.t, "population flow: density and Nash equilibrium paths", colorscale="Plasma")
    cdf = np.cumsum(sol.m[0]) / sol.m[0].sum()
    starts = np.interp(np.linspace(0.05, 0.95, 12), cdf, sol.x)
    steps = 4 * (sol.t.size - 1)
    recorded = [starts]
    simulate_particles(McKeanVlasov(sigma=0.0, box=(sol.x[0], sol.x[-1])), starts, sol.t[-1], steps, seed=0,
                       control=GridControl.from_solution(sol), chunk=1,
                       callback=lambda done, x: recorded.append(x.copy()))  # fmt: skip
    P = np.array(recorded)
    t = np.linspace(0, sol.t[-1], P.shape[0])
    for j in range(P.shape[1]):
        fig.add_trace(go.Scatter(x=P[:, j], y=t, mode="lines", line=dict(color="white", width=1), showlegend=False))
    return fig


def render() -> None:
    st.header("Mean-field game")
    st.caption("-d_t u - nu Lap u + H(grad u) = f(x, m),  d_t m - nu Lap m - div(m H_p(grad u)) = 0; "
               "implicit upwind scheme (Achdou-Capuzzo-Dolcetta), mass conserved exactly.")  # fmt: skip
    v = _inputs()
    sol = run_controls("mfg", "Solve", lambda: _solve(v), "the solve", "Set the game and press Solve.",
                       estimate=estimate(v))  # fmt: skip
    if sol is None:
        return
    s = sol.summary()
    cols = st.columns(5)
    cols[0].metric("converged", "yes" if s["converged"] else "no")
    cols[1].metric("iterations", s["iterations"])
    cols[2].metric("residual", f"{s['residual']:.2e}")
    cols[3].metric("mass error", f"{s['mass_error']:.1e}")
    cols[4].metric("time (s)", f"{s['wall_time_s']:.2f}")
    if not sol.converged:
        st.warning(sol.message)
    if sol.y is None:
        _render_1d(sol)
    else:
        _render_2d(sol)


def _render_1d(sol) -> None:
    tabs = st.tabs(["density and value", "surfaces", "control alpha*", "population flow", "residuals"])
    with tabs[0]:
        c1, c2 = st.columns(2)
        chart(c1, heatmap(sol.m, sol.x, sol.t, "density m(t, x)", colorscale="Plasma"), key="mfg_m")
        chart(c2, heatmap(sol.u, sol.x, sol.t, "value u(t, x)"), key="mfg_u")
    with tabs[1]:
        c1, c2 = st.columns(2)
        chart(c1, surface(sol.m, sol.x, sol.t, "m(t, x)"), key="mfg_ms")
        chart(c2, surface(sol.u, sol.x, sol.t, "u(t, x)"), key="mfg_us")
    with tabs[2]:
        chart(st, heatmap(sol.alpha, sol.x, sol.t, "optimal trading rate alpha*(t, x)", colorscale="RdBu"),
                        key="mfg_alpha")  # fmt: skip
    with tabs[3]:
        chart(st, _flow(sol), key="mfg_flow")
    with tabs[4]:
        h = np.asarray(sol.residual_history)
        chart(st, lines(np.arange(h.size), {"residual": np.maximum(h, 1e-300)}, "residual per iteration",
                              xlabel="iteration", log_y=True), key="mfg_res")  # fmt: skip


def _render_2d(sol) -> None:
    n = st.slider("time step", 0, sol.t.size - 1, sol.t.size - 1, key="mfg_time")
    c1, c2 = st.columns(2)
    chart(c1, heatmap(sol.m[n], sol.x, sol.y, f"density m(t={sol.t[n]:.2f})", ylabel="y", colorscale="Plasma"),
                    key="mfg_m2")  # fmt: skip
    chart(c2, heatmap(sol.u[n], sol.x, sol.y, f"value u(t={sol.t[n]:.2f})", ylabel="y"), key="mfg_u2")
    h = np.asarray(sol.residual_history)
    chart(st, lines(np.arange(h.size), {"residual": np.maximum(h, 1e-300)}, "residual per iteration",
                          xlabel="iteration", log_y=True), key="mfg_res2")  # fmt: skip
