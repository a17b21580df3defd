"""Kinetic market page: a preset of the kinetic portfolio model, run with a progress bar."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from scipy import stats

from meanfolio.kinetic import PRESETS, broker_price_law, log_returns, preset, qq_normal, simulate, stylized_facts

from ._widgets import chart, lines, run_controls, stop_requested


def _run(name: str, agents: int, steps: int, seed: int, changes: dict):
    params = preset(name, **changes)
    bar = st.progress(0.0, text="simulating")

    def progress(done: int, total: int) -> bool:
        bar.progress(done / total, text=f"step {done} of {total}")
        return stop_requested("kin")

    result = simulate(params, n_agents=agents, steps=steps, seed=seed, chunk=max(steps // 50, 1), callback=progress)
    bar.empty()
    return result


def _histogram_with_fit(values: np.ndarray, title: str, law=None) -> go.Figure:
    values = values[np.isfinite(values) & (values > 0)]
    fig = go.Figure(go.Histogram(x=values, histnorm="probability density", nbinsx=80, name="simulated"))
    grid = np.linspace(values.min(), np.quantile(values, 0.995), 400)
    if law is None:  # maximum-likelihood log-normal
        s, loc, scale = stats.lognorm.fit(values, floc=0)
        fig.add_trace(go.Scatter(x=grid, y=stats.lognorm.pdf(grid, s, loc, scale), name="log-normal fit (MLE)"))
    else:
        fig.add_trace(go.Scatter(x=grid, y=law.pdf(grid), name="closed-form law"))
    fig.update_layout(title=title, height=340, margin=dict(t=40, b=40))
    return fig


def render() -> None:
    st.header("Kinetic market")
    st.caption("Agents invest by model predictive control (Trimborn, Pareschi & Frank); brokers set prices.")
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox("preset", list(PRESETS), index=list(PRESETS).index("long_term_varying"), key="kin_preset")
    agents = int(c2.number_input("agents", value=5000, step=1000, key="kin_agents"))
    steps = int(c3.number_input("steps", value=2000, step=500, key="kin_steps"))
    seed = int(c4.number_input("seed", value=1, step=1, key="kin_seed"))
    base = PRESETS[name]
    with st.expander("model parameters (defaults of the preset)"):
        d1, d2, d3, d4 = st.columns(4)
        changes = {
            "kappa": d1.number_input("price impact kappa", value=float(base.kappa), key=f"kin_kappa_{name}"),
            "mu": d2.number_input("investment speed mu", value=float(base.mu), key=f"kin_mu_{name}"),
            "sigma": d3.number_input("agents' noise sigma", value=float(base.sigma), key=f"kin_sigma_{name}"),
            "beta": d4.number_input("trust beta", value=float(base.beta), key=f"kin_beta_{name}"),
        }
    res = run_controls("kin", "Run", lambda: _run(name, agents, steps, seed, changes), "the simulation",
                       "Pick a preset and press Run.")  # fmt: skip
    if res is None:
        return
    n = res.completed_steps
    s = res.series
    r = log_returns(s["S"][: n + 1])
    facts = stylized_facts(r) if r.size > 20 else {}
    cols = st.columns(4)
    cols[0].metric("steps done", n)
    cols[1].metric("excess kurtosis", f"{facts.get('excess_kurtosis', float('nan')):.2f}")
    cols[2].metric("final price", f"{s['S'][n]:.3f}")
    cols[3].metric("time (s)", f"{res.wall_time:.2f}")
    if res.message:
        st.caption(res.message)
    chart(st, lines(s["t"][: n + 1], {"price S": s["S"][: n + 1], "fundamental s_f": s["s_f"][: n + 1]},
                          "price and fundamental", xlabel="t"), key="kin_price")  # fmt: skip
    c1, c2 = st.columns(2)
    if r.size > 20:
        q, z = qq_normal(r)
        fig = go.Figure([go.Scatter(x=q, y=z, mode="markers", marker=dict(size=3), name="log returns"),
                         go.Scatter(x=q, y=q, mode="lines", name="normal")])  # fmt: skip
        fig.update_layout(title="QQ plot of the log returns (standardised)", height=340, margin=dict(t=40, b=40))
        chart(c1, fig, key="kin_qq")
    chart(c2, _histogram_with_fit(res.x + res.y, "agents' wealth x + y"), key="kin_wealth")
    if res.broker_prices.size > 1:
        p = res.params
        # the closed log-normal law holds for long-term investors with relative impact
        closed = p.investors == "long_term" and p.price_impact == "relative"
        law = broker_price_law(p, s["ED"][1 : n + 1]) if closed else None
        chart(st, _histogram_with_fit(res.broker_prices, "brokers' prices", law), key="kin_brokers")
