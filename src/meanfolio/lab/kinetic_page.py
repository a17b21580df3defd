"""Kinetic market page: a preset of the kinetic portfolio model, run with a progress bar."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from scipy import stats

from meanfolio.kinetic import (
    PRESETS,
    broker_price_law,
    log_returns,
    parse_overrides,
    preset,
    qq_normal,
    simulate,
    stylized_facts,
)
from meanfolio.kinetic.findings import observed

from ._widgets import chart, lines, number, run_controls, size_text, stop_requested, time_text

#: bounds of the page's run size (a 1e7-agent run, 12.5 GB of server memory, is out of range)
MAX_AGENTS, MAX_STEPS = 200_000, 200_000
#: bytes per agent (stock, bond, broker and scratch arrays, float64) and per step (the recorded series)
BYTES_PER_AGENT, BYTES_PER_STEP = 80, 200
#: rough throughput of the compiled step on one core (agent-steps per second), for the time estimate
AGENT_STEPS_PER_SECOND = 3e7


def estimate(agents: int, steps: int) -> str:
    """Memory and time of a run, shown before it starts."""
    memory = BYTES_PER_AGENT * agents + BYTES_PER_STEP * steps
    return f"about {size_text(memory)} and {time_text(agents * steps / AGENT_STEPS_PER_SECOND)} (after compilation)"


def _run(name: str, agents: int, steps: int, seed: int, changes: dict, model: str):
    params = preset(name, **changes)
    bar = st.progress(0.0, text="simulating")

    def progress(done: int, total: int) -> bool:
        bar.progress(done / total, text=f"step {done} of {total}")
        return stop_requested("kin")

    n = 0 if params.freeze_wealth else agents
    # chunks of at most ~0.2 s so that Stop acts promptly
    chunk = int(min(max(steps // 50, 1), max(1, AGENT_STEPS_PER_SECOND * 0.2 // max(n, 1))))
    result = simulate(params, n_agents=n, steps=steps, seed=seed, chunk=chunk, callback=progress,
                      model=model)  # fmt: skip
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
    agents = int(number(c2, "agents", 5000, 10, MAX_AGENTS, 1000, "kin_agents"))
    steps = int(number(c3, "steps", 2000, 10, MAX_STEPS, 500, "kin_steps"))
    seed = int(number(c4, "seed", 1, 0, 2**31 - 1, 1, "kin_seed"))
    base = PRESETS[name]
    model = st.radio("model", ["kinetic", "microscopic"], horizontal=True, key="kin_model",
                     index=1 if name == "long_term_constant" else 0,
                     help="microscopic: the agents' decision noise enters the excess demand (finite N).")  # fmt: skip
    with st.expander("model parameters (defaults of the preset)"):
        d1, d2, d3, d4 = st.columns(4)
        changes = {
            "kappa": d1.number_input("price impact kappa", value=float(base.kappa), key=f"kin_kappa_{name}"),
            "mu": d2.number_input("investment speed mu", value=float(base.mu), key=f"kin_mu_{name}"),
            "sigma": d3.number_input("agents' noise sigma", value=float(base.sigma), key=f"kin_sigma_{name}"),
            "beta": d4.number_input("trust beta", value=float(base.beta), key=f"kin_beta_{name}"),
        }
        text = st.text_area(
            "more overrides, NAME=VALUE per line (as --set on the command line)",
            key=f"kin_set_{name}", placeholder="chartist_memory=0.5\nvalue_function=identity",
        )  # fmt: skip
    lines_set = [line for line in text.splitlines() if line.strip()]

    def action():  # bad values (fields or overrides) become the page's error message, naming the parameter
        return _run(name, agents, steps, seed, {**changes, **parse_overrides(lines_set)}, model)

    res = run_controls("kin", "Run", action, "the simulation", "Pick a preset and press Run.",
                       estimate=estimate(agents, steps))  # fmt: skip
    if res is None:
        return
    n = res.completed_steps
    s = res.series
    r = log_returns(observed(res))  # daily: one observation every observation_interval, whatever dt
    facts = stylized_facts(r) if r.size > 20 else {}
    cols = st.columns(5)
    cols[0].metric("steps done", n)
    cols[1].metric("excess kurtosis (daily)", f"{facts.get('excess_kurtosis', float('nan')):.2f}")
    cols[2].metric("final price", f"{s['S'][n]:.3f}")
    cols[3].metric("time (s, JIT excluded)", f"{res.wall_time:.2f}")
    units = max(res.x.size, res.broker_prices.size) * n
    cols[4].metric("M agent-steps/s", f"{units / max(res.wall_time, 1e-9) / 1e6:.1f}")
    if res.message:
        st.caption(res.message)
    chart(st, lines(s["t"][: n + 1], {"price S": s["S"][: n + 1], "fundamental s_f": s["s_f"][: n + 1]},
                          "price and fundamental", xlabel="t"), key="kin_price")  # fmt: skip
    c1, c2 = st.columns(2)
    if r.size > 20:
        q, z = qq_normal(r)
        fig = go.Figure([go.Scatter(x=q, y=z, mode="markers", marker=dict(size=3), name="log returns"),
                         go.Scatter(x=q, y=q, mode="lines", name="normal")])  # fmt: skip
        fig.update_layout(title="QQ plot of the daily log returns (standardised)", height=340, margin=dict(t=40, b=40))
        chart(c1, fig, key="kin_qq")
    chart(c2, _histogram_with_fit(res.x + res.y, "agents' wealth x + y"), key="kin_wealth")
    if res.broker_prices.size > 1:
        p = res.params
        # the closed log-normal law holds for long-term investors with relative impact
        closed = p.investors == "long_term" and p.price_impact == "relative"
        law = broker_price_law(p, s["ED"][:n]) if closed else None
        chart(st, _histogram_with_fit(res.broker_prices, "brokers' prices", law), key="kin_brokers")
