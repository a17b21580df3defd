"""Risk and regimes page: metrics, drawdown and HMM regimes of a price table (bundled or uploaded)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from meanfolio.data import load_sp500, read_prices
from meanfolio.regimes import GaussianHMM
from meanfolio.risk import compute_risk_metrics

from ._widgets import chart, guarded, lines


def _table(upload):
    if upload is None:
        return load_sp500()
    suffix = "".join(Path(upload.name).suffixes) or ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(upload.getvalue())
        return read_prices(path)


def _analyse(table, assets, start, states: int):
    sub = table.select(assets or None, start=start)
    R, dates = sub.returns("simple", missing="drop_rows")
    w = np.full(R.shape[1], 1.0 / R.shape[1])
    metrics = compute_risk_metrics(w, R)
    port = R @ w
    hmm = GaussianHMM(states, n_init=3, seed=0).fit(port).sort_states()  # 0 = lowest mean
    return sub, dates, port, metrics, hmm.predict(port), hmm.means_[:, 0] * 252


def render() -> None:
    st.header("Risk and regimes")
    upload = st.file_uploader("prices (CSV or Parquet: a date column and one column per asset)",
                              type=["csv", "gz", "parquet"], key="risk_upload")  # fmt: skip
    table = guarded(lambda: _table(upload), "reading the prices")
    if table is None:
        return
    if table.missing:
        st.warning(f"{len(table.missing)} missing prices: the dates with a missing price are dropped "
                   f"(first: row {table.missing[0][0]}, {table.missing[0][1]}, {table.missing[0][2]})")  # fmt: skip
    c1, c2, c3 = st.columns([3, 1, 1])
    assets = c1.multiselect("assets (equal weights; empty = all)", list(table.tickers), key="risk_assets")
    start = c2.text_input("from (YYYY-MM-DD)", value=str(table.dates[max(table.dates.size - 2520, 0)]),
                          key="risk_start")  # fmt: skip
    states = int(c3.number_input("regimes", value=2, min_value=1, max_value=5, key="risk_states"))
    out = guarded(lambda: _analyse(table, assets, start, states), "the analysis")
    if out is None:
        return
    sub, dates, port, m, labels, means = out
    cols = st.columns(5)
    cols[0].metric("annual return", f"{m.annual_return:.2%}")
    cols[1].metric("volatility", f"{m.volatility:.2%}")
    cols[2].metric("Sharpe", f"{m.sharpe:.2f}")
    cols[3].metric("max drawdown", f"{m.max_drawdown:.2%}")
    cols[4].metric("CVaR 95 % (daily)", f"{m.cvar_95:.2%}")
    wealth = np.cumprod(1 + port)
    fig = go.Figure()
    palette = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd"] if states > 1 else ["#1f77b4"]
    if states == 2:
        palette = ["#d62728", "#2ca02c"]
    for k in range(states):
        sel = labels == k
        fig.add_trace(go.Scatter(x=dates[sel], y=wealth[sel], mode="markers", marker=dict(size=3, color=palette[k]),
                                 name=f"regime {k}: {means[k]:+.0%}/yr"))  # fmt: skip
    fig.update_layout(title="equal-weight portfolio, coloured by regime", yaxis_type="log", height=380,
                      margin=dict(t=40, b=40))  # fmt: skip
    chart(st, fig, key="risk_regimes")
    drawdown = wealth / np.maximum.accumulate(wealth) - 1
    chart(st, lines(dates, {"drawdown": drawdown}, "drawdown"), key="risk_dd")
    frame = pl.DataFrame({"metric": list(m.as_dict()), "value": [float(v) for v in m.as_dict().values()]})
    st.dataframe(frame, hide_index=True, key="risk_table")
