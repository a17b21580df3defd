"""Risk and regimes page: metrics, drawdown and HMM regimes of a price table (bundled or uploaded).

The widgets that depend on the data (assets, start date) are keyed by the data, so a new file starts from
its own defaults instead of keeping the previous file's start date.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from meanfolio.data import load_sp500, read_prices
from meanfolio.regimes import GaussianHMM
from meanfolio.risk import compute_risk_metrics

from ._widgets import chart, guarded, lines, number

MAX_STATES = 5


def _table(upload, date_format: str | None, decimal: str):
    if upload is None:
        return load_sp500()
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(upload.name).name).lstrip(".") or "upload.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name  # the file's own name: an OHLCV export's asset is named after it
        path.write_bytes(upload.getvalue())
        return read_prices(path, date_format=date_format or None, decimal=decimal)


def data_key(upload) -> str:
    """A short fingerprint of the data: the bundled set or the uploaded file's bytes."""
    if upload is None:
        return "sp500"
    return hashlib.sha1(upload.getvalue()).hexdigest()[:10]


def _analyse(table, assets, start, states: int):
    sub = table.select(assets or None, start=start)
    R, dates = sub.returns("simple", missing="drop_rows")
    need = 10 * (states * (states - 1) + (states - 1) + 2 * states)  # 10 rows per HMM parameter
    if R.shape[0] < need:
        raise ValueError(f"regimes = {states} is not allowed for {R.shape[0]} returns: expected at least {need} "
                         "(10 per parameter of the HMM); choose fewer regimes or an earlier start")  # fmt: skip
    w = np.full(R.shape[1], 1.0 / R.shape[1])
    metrics = compute_risk_metrics(w, R)
    port = R @ w
    hmm = GaussianHMM(states, n_init=3, seed=0).fit(port).sort_states()  # 0 = lowest mean
    return sub, dates, port, metrics, hmm.predict(port), hmm.means_[:, 0] * 252


def render() -> None:
    st.header("Risk and regimes")
    upload = st.file_uploader("prices (CSV or Parquet: a date column and one column per asset, or an OHLCV export)",
                              type=["csv", "gz", "parquet"], key="risk_upload")  # fmt: skip
    f1, f2, _ = st.columns([2, 1, 3])
    date_format = f1.text_input("date format (empty: inferred, e.g. %m/%d/%Y)", value="", key="risk_date_format")
    decimal = f2.selectbox("decimal mark", (".", ","), key="risk_decimal")
    table = guarded(lambda: _table(upload, date_format, decimal), "reading the prices")
    if table is None:
        return
    for message in table.notes:
        st.info(message)
    key = data_key(upload)
    if table.missing:
        st.warning(f"{len(table.missing)} missing prices: the dates with a missing price are dropped "
                   f"(first: row {table.missing[0][0]}, {table.missing[0][1]}, {table.missing[0][2]})")  # fmt: skip
    c1, c2, c3 = st.columns([3, 1, 1])
    assets = c1.multiselect("assets (equal weights; empty = all)", list(table.tickers), key=f"risk_assets_{key}")
    start = c2.text_input("from (YYYY-MM-DD)", value=str(table.dates[max(table.dates.size - 2520, 0)]),
                          key=f"risk_start_{key}")  # fmt: skip
    states = int(number(c3, "regimes", 2, 1, MAX_STATES, 1, "risk_states"))
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
