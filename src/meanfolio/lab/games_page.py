"""Games page: the finance mean-field games of ``meanfolio.games``, solved exactly, with their N-player gaps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from meanfolio.data import load_sp500
from meanfolio.games import (
    AllocationGame,
    solve_allocation_pde,
    systemic_risk,
    systemic_risk_epsilon_nash,
    trade_crowding,
    trade_crowding_epsilon_nash,
)

from ._widgets import chart, heatmap, lines, run_controls

GAMES = ("Allocation", "Systemic risk", "Trade crowding")
DEFAULT_ASSETS = ["AAPL", "JNJ", "JPM", "KO", "MSFT", "XOM"]
STARTS = [f"{year}-01-01" for year in range(1990, 2023)]


def _nash_figure(nash) -> go.Figure:
    """The epsilon-Nash gap against N on log-log axes, with the fitted and derived slopes."""
    n = nash.n_players.astype(float)
    gap = np.where(nash.gap > 0, nash.gap, np.nan)
    series = {"gain of a best response": gap}
    keep = (n >= nash.fit_from) & np.isfinite(gap)
    if keep.any():
        anchor_n, anchor_gap = n[keep][-1], gap[keep][-1]
        for name, rate in (("fitted", nash.fitted_rate), ("derived", nash.derived_rate)):
            if np.isfinite(rate):
                series[f"{name} slope {rate:.2f}"] = np.where(keep, anchor_gap * (n / anchor_n) ** rate, np.nan)
    fig = lines(n, series, f"{nash.game}: epsilon-Nash gap", xlabel="number of players N", log_y=True)
    fig.update_xaxes(type="log")
    return fig


def _nash_metrics(nash) -> None:
    cols = st.columns(3)
    cols[0].metric("fitted rate", f"{nash.fitted_rate:.3f}")
    cols[1].metric("derived rate", f"{nash.derived_rate:g}")
    cols[2].metric(f"gap at N = {int(nash.n_players[0])}", f"{nash.gap[0]:.3e}")
    st.caption(f"{nash.method}; fit over N >= {nash.fit_from}. {nash.derivation}")


# -- allocation ---------------------------------------------------------------------------------
def _allocation(assets: list[str], start: str, players: int, params: dict) -> dict:
    if not assets:
        raise ValueError("no asset is selected: expected at least one ticker")
    table = load_sp500(assets, start)
    returns, _ = table.returns("simple")
    game = AllocationGame.from_returns(returns, assets=table.tickers, **params)
    x0 = np.zeros(game.n_assets)
    holdings = {"Markowitz": game.markowitz(), "mean field": game.equilibrium(),
                f"N = {players}": game.equilibrium(players), "cooperative": game.cooperative()}  # fmt: skip
    pde = solve_allocation_pde(game, 0.5 * game.equilibrium(), components=[0], nx=120, nt=60)
    return {"game": game, "holdings": holdings, "rows": returns.shape[0], "start": str(table.dates[0]),
            "solution": game.solve(x0, 200), "pde": pde, "nash": game.epsilon_nash(x0)}  # fmt: skip


def _render_allocation() -> None:
    tickers = list(load_sp500().tickers)
    c1, c2, c3 = st.columns([3, 1, 1])
    assets = c1.multiselect("assets (bundled S&P 500 stocks)", tickers, default=DEFAULT_ASSETS, key="games_assets")
    start = c2.selectbox("estimate from", STARTS, index=STARTS.index("2015-01-01"), key="games_start")
    players = c3.slider("N players (N-player column)", 2, 200, 10, key="games_players")
    d1, d2, d3 = st.columns(3)
    params = {
        "risk_aversion": d1.slider("risk aversion gamma", 0.5, 20.0, 3.0, 0.5, key="games_gamma"),
        "crowding": d1.slider("crowding lam", 0.0, 2.0, 0.1, 0.01, key="games_lam"),
        "trading_cost": d2.slider("trading cost kappa", 0.01, 1.0, 0.05, 0.01, key="games_kappa"),
        "dispersion": d2.slider("dispersion penalty eta", 0.0, 1.0, 0.05, 0.01, key="games_eta"),
        "horizon": d3.slider("horizon T (years)", 0.25, 5.0, 1.0, 0.25, key="games_T"),
        "volatility": d3.slider("order-flow noise sigma", 0.0, 0.5, 0.1, 0.01, key="games_sigma"),
    }
    res = run_controls("games_alloc", "Run", lambda: _allocation(assets, start, players, params),
                       "the allocation game", "Pick the assets and the parameters and press Run.")  # fmt: skip
    if res is None:
        return
    game, holdings, pde = res["game"], res["holdings"], res["pde"]
    cols = st.columns(4)
    cols[0].metric("price of anarchy", f"{game.price_of_anarchy():.4f}")
    cols[1].metric("welfare, mean field", f"{game.welfare(holdings['mean field']):.4f}")
    cols[2].metric("welfare, cooperative", f"{game.welfare(holdings['cooperative']):.4f}")
    cols[3].metric("PDE mean error", f"{pde.mean_error:.1e}")
    st.caption(f"{res['rows']} daily returns from {res['start']}; mu and Ledoit-Wolf covariance annualised.")
    tabs = st.tabs(["holdings", "mean holdings paths", "crowd density (PDE)", "epsilon-Nash"])
    with tabs[0]:
        frame = pl.DataFrame({"asset": list(game.names), **{k: v.tolist() for k, v in holdings.items()}})
        st.dataframe(frame, hide_index=True, key="games_holdings")
        fig = go.Figure([go.Bar(x=list(game.names), y=v, name=k) for k, v in holdings.items()])
        fig.update_layout(title="static holdings (fraction of wealth): crowding shrinks Markowitz", height=340,
                          margin=dict(t=40, b=40))  # fmt: skip
        chart(st, fig, key="games_holdings_bar")
    with tabs[1]:
        sol = res["solution"]
        paths = {name: sol.mean[:, i] for i, name in enumerate(game.names)}
        chart(st, lines(sol.t, paths, "crowd's mean holdings xbar(t), from zero holdings", xlabel="t (years)"),
              key="games_paths")  # fmt: skip
    with tabs[2]:
        m = pde.solutions[0]
        fig = heatmap(m.m, m.x, m.t, "crowd density m(t, y), first principal portfolio", xlabel="holding y",
                      colorscale="Plasma")  # fmt: skip
        fig.add_trace(go.Scatter(x=pde.mean[:, 0], y=m.t, mode="lines", name="mean (PDE)",
                                 line=dict(color="white", width=2)))  # fmt: skip
        fig.add_trace(go.Scatter(x=pde.exact_mean[:, 0], y=m.t, mode="lines", name="mean (Riccati)",
                                 line=dict(color="cyan", width=2, dash="dash")))  # fmt: skip
        chart(st, fig, key="games_pde")
    with tabs[3]:
        _nash_metrics(res["nash"])
        chart(st, _nash_figure(res["nash"]), key="games_alloc_nash")


# -- systemic risk ------------------------------------------------------------------------------
def _systemic(p: dict, banks: int, paths: int, level: float, seed: int) -> dict:
    eta = {N: systemic_risk(**p, n_players=N, nt=200) for N in (2, 10, None)}
    alone = systemic_risk(**{**p, "a": 0.0}, nt=200)
    sims = {f"a = {p['a']:g}": eta[None], "a = 0": alone}
    sims = {k: s.simulate(banks, x0=0.0, seed=seed, default_level=level, n_paths=paths) for k, s in sims.items()}
    return {"eta": eta, "sims": sims, "nash": systemic_risk_epsilon_nash(**p)}


def _bank_paths(sim, title: str) -> go.Figure:
    x = sim.paths[0]
    fig = go.Figure([go.Scatter(x=sim.t, y=x[:, i], mode="lines", line=dict(width=1), showlegend=False)
                     for i in range(x.shape[1])])  # fmt: skip
    fig.add_trace(go.Scatter(x=sim.t, y=x.mean(axis=1), mode="lines", name="mean Xbar", line=dict(color="black")))
    fig.add_hline(y=sim.default_level, line_dash="dash", line_color="red")
    fig.update_layout(title=f"{title}: {int(sim.defaults[0])} defaults on path 1", xaxis_title="t",
                      yaxis_title="log-reserves X", height=340, margin=dict(t=40, b=40))  # fmt: skip
    return fig


def _render_systemic() -> None:
    c1, c2, c3 = st.columns(3)
    p = {
        "a": c1.slider("lending rate a", 0.0, 5.0, 1.0, 0.1, key="games_sys_a"),
        "q": c1.slider("incentive q", 0.0, 2.0, 0.5, 0.05, key="games_sys_q"),
        "epsilon": c1.slider("penalty epsilon (>= q^2)", 0.0, 5.0, 1.0, 0.05, key="games_sys_eps"),
        "c": c2.slider("terminal penalty c", 0.0, 2.0, 0.3, 0.05, key="games_sys_c"),
        "sigma": c2.slider("volatility sigma", 0.1, 2.0, 1.0, 0.05, key="games_sys_sigma"),
        "horizon": c2.slider("horizon T", 0.25, 5.0, 1.0, 0.25, key="games_sys_T"),
    }
    banks = c3.slider("banks", 2, 50, 10, key="games_sys_banks")
    paths = c3.slider("simulated paths", 100, 5000, 1000, 100, key="games_sys_paths")
    level = c3.slider("default level", -2.0, -0.1, -0.7, 0.05, key="games_sys_level")
    seed = int(c3.number_input("seed", min_value=0, max_value=10_000, value=1, step=1, key="games_sys_seed"))
    res = run_controls("games_sys", "Run", lambda: _systemic(p, banks, paths, level, seed), "the systemic risk game",
                       "Set the banks' game and press Run.")  # fmt: skip
    if res is None:
        return
    eta = res["eta"]
    cols = st.columns(4)
    for col, (N, sol) in zip(cols, eta.items(), strict=False):
        col.metric(f"eta(0), N = {N}" if N else "eta(0), mean field", f"{sol.eta[0]:.5f}")
    cols[3].metric("eta*, stationary", f"{eta[None].model.eta_stationary():.5f}")
    tabs = st.tabs(["eta(t)", "defaults", "epsilon-Nash"])
    with tabs[0]:
        series = {(f"N = {N}" if N else "mean field"): sol.eta for N, sol in eta.items()}
        chart(st, lines(eta[None].t, series, "eta(t): alpha = (q + (1 - 1/N) eta)(Xbar - X)", xlabel="t"),
              key="games_sys_eta")  # fmt: skip
    with tabs[1]:
        cols = st.columns(4)
        for j, (name, sim) in enumerate(res["sims"].items()):
            s = sim.summary()
            cols[2 * j].metric(f"{name}: mean defaults", f"{s['mean_defaults']:.3f}")
            cols[2 * j + 1].metric(f"{name}: P(systemic)", f"{s['systemic_fraction']:.4f}")
        st.caption("Common random numbers: both systems see the same noise. Systemic: every bank defaults by T.")
        c1, c2 = st.columns(2)
        for where, (name, sim) in zip((c1, c2), res["sims"].items(), strict=True):
            chart(where, _bank_paths(sim, name), key=f"games_sys_paths_{name}")
        fig = go.Figure([go.Bar(x=np.arange(sim.terminal.shape[1] + 1),
                                y=np.bincount(sim.defaults, minlength=sim.terminal.shape[1] + 1) / sim.defaults.size,
                                name=name) for name, sim in res["sims"].items()])  # fmt: skip
        fig.update_layout(title="defaults per path", xaxis_title="banks defaulted by T", yaxis_title="frequency",
                          height=340, margin=dict(t=40, b=40))  # fmt: skip
        chart(st, fig, key="games_sys_hist")
    with tabs[2]:
        _nash_metrics(res["nash"])
        chart(st, _nash_figure(res["nash"]), key="games_sys_nash")


# -- trade crowding -----------------------------------------------------------------------------
def _crowding(p: dict, variance: float) -> dict:
    nash = trade_crowding_epsilon_nash(**p, initial_variance=variance)  # first: it rejects an unbounded game
    return {"impact": trade_crowding(**p, nt=200), "free": trade_crowding(**{**p, "impact": 0.0}, nt=200),
            "nash": nash}  # fmt: skip


def _render_crowding() -> None:
    c1, c2, c3 = st.columns(3)
    p = {
        "kappa": c1.slider("temporary impact kappa", 0.1, 5.0, 1.0, 0.1, key="games_tc_kappa"),
        "phi": c1.slider("inventory penalty phi", 0.0, 5.0, 0.5, 0.1, key="games_tc_phi"),
        "terminal_penalty": c2.slider("terminal penalty A", 0.0, 10.0, 2.0, 0.5, key="games_tc_A"),
        "impact": c2.slider("permanent impact alpha", -5.0, 5.0, 1.5, 0.1, key="games_tc_impact"),
        "horizon": c3.slider("horizon T", 0.25, 5.0, 1.0, 0.25, key="games_tc_T"),
        "q0": c3.slider("initial inventory q0", -5.0, 5.0, 1.0, 0.5, key="games_tc_q0"),
    }
    variance = c3.slider("variance of initial inventories", 0.0, 1.0, 0.0, 0.05, key="games_tc_var")
    res = run_controls("games_tc", "Run", lambda: _crowding(p, variance), "the trade crowding game",
                       "Set the traders' game and press Run.")  # fmt: skip
    if res is None:
        return
    crowd, free = res["impact"], res["free"]
    cols = st.columns(4)
    cols[0].metric("mean inventory at T", f"{crowd.mean_inventory[-1]:.5f}")
    cols[1].metric("mean inventory at T, impact 0", f"{free.mean_inventory[-1]:.5f}")
    cols[2].metric("mean speed at 0", f"{crowd.mean_speed[0]:.5f}")
    cols[3].metric("mean speed at 0, impact 0", f"{free.mean_speed[0]:.5f}")
    label = f"impact {crowd.impact:g}"
    tabs = st.tabs(["inventory and speed", "value coefficients", "epsilon-Nash"])
    with tabs[0]:
        c1, c2 = st.columns(2)
        for where, field, title in ((c1, "mean_inventory", "mean inventory E[q](t)"),
                                    (c2, "mean_speed", "mean speed nubar(t)")):  # fmt: skip
            series = {label: getattr(crowd, field), "impact 0 (Cartea-Jaimungal)": getattr(free, field)}
            chart(where, lines(crowd.t, series, title, xlabel="t"), key=f"games_tc_{field}")
    with tabs[1]:
        series = {f"h1, {label}": crowd.h1, f"h2, {label}": crowd.h2, "h1, impact 0": free.h1, "h2, impact 0": free.h2}
        chart(st, lines(crowd.t, series, "value V = h0 + h1 q - h2 q^2", xlabel="t"), key="games_tc_h")
    with tabs[2]:
        _nash_metrics(res["nash"])
        chart(st, _nash_figure(res["nash"]), key="games_tc_nash")


def render() -> None:
    st.header("Finance games")
    st.caption("Mean-field games of finance solved in closed form (meanfolio.games), and the gain of one player's "
               "best response against N - 1 players of the mean-field strategy (epsilon-Nash).")  # fmt: skip
    game = st.radio("game", GAMES, horizontal=True, key="games_game")
    {"Allocation": _render_allocation, "Systemic risk": _render_systemic, "Trade crowding": _render_crowding}[game]()
