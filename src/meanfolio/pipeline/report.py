"""Figures (PNG) and the self-contained HTML report of a backtest pipeline run."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from meanfolio.plotting import new_figure, save_figure

__all__ = ["DUST", "LABELS", "clean_weights", "write_figures", "write_html"]

#: weights smaller than this in absolute value are solver noise (e.g. 4.6e-17): shown and written as 0
DUST = 1e-10
#: column names as readers see them
LABELS = {
    "annual_return": "annual return", "volatility": "volatility", "sharpe": "Sharpe", "sortino": "Sortino",
    "max_drawdown": "max drawdown", "cvar_95": "CVaR 95 %", "turnover": "turnover / yr", "cost": "cost / yr",
    "sharpe_ci_low": "Sharpe CI low", "sharpe_ci_high": "Sharpe CI high", "deflated_sharpe": "deflated Sharpe",
    "n_trials": "configurations tried", "sharpe_diff": "Sharpe difference", "pvalue": "p-value",
    "mean_return": "mean return / yr", "trading_cost": "trading cost", "crowding": "crowding",
    "baseline": "baseline", "regime": "regime", "strategy": "strategy", "days": "days",
}  # fmt: skip


def clean_weights(w):
    """Weights rounded to 10 decimals with the dust (``|w| < DUST``) set to 0."""
    w = np.round(np.asarray(w, dtype=float), 10)
    w[np.abs(w) < DUST] = 0.0
    return w + 0.0  # no -0.0


def _rolling_sharpe(r: np.ndarray, window: int, periods: int) -> np.ndarray:
    out = np.full(r.size, np.nan)
    if r.size < window:
        return out
    c1, c2 = np.cumsum(np.r_[0.0, r]), np.cumsum(np.r_[0.0, r * r])
    s1, s2 = c1[window:] - c1[:-window], c2[window:] - c2[:-window]
    mean = s1 / window
    var = np.maximum(s2 / window - mean**2, 1e-18) * window / (window - 1)
    out[window - 1 :] = mean / np.sqrt(var) * np.sqrt(periods)
    return out


def write_figures(res, folder: Path, regimes) -> dict[str, Path]:
    """The report's figures; returns name -> path."""
    bt = res.backtest
    periods = int(res.summary["config"]["backtest"]["periods_per_year"])
    dates = bt.dates.astype("datetime64[D]")
    paths = {}
    fig, (ax0, ax1) = new_figure(2, columns=1, width=10.0, height=3.4)
    for name in bt.net:
        wealth = np.cumprod(1.0 + np.asarray(bt.net[name]))
        ax0.semilogy(dates, wealth, lw=1.6 if name == "mean_field" else 0.9, label=name)
        ax1.plot(dates, wealth / np.maximum.accumulate(wealth) - 1.0, lw=0.8, label=name)
    ax0.set_title("cumulative net wealth (log scale, after costs)")
    ax0.legend(fontsize=7, ncol=4)
    ax1.set_title("drawdown")
    paths["wealth"] = save_figure(fig, folder / "wealth.png")
    fig, (ax,) = new_figure(1, width=10.0, height=3.2)
    for name in bt.net:
        ax.plot(dates, _rolling_sharpe(np.asarray(bt.net[name]), periods, periods), lw=0.8, label=name)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("rolling one-year Sharpe ratio (net)")
    ax.legend(fontsize=7, ncol=4)
    paths["rolling_sharpe"] = save_figure(fig, folder / "rolling_sharpe.png")
    if "mean_field" in bt.weights:
        fig, (ax,) = new_figure(1, width=10.0, height=3.6)
        w = np.asarray(bt.weights["mean_field"])
        ax.stackplot(bt.rebalance_dates.astype("datetime64[D]"), w.T, labels=list(res.tickers), step="post")
        ax.set_title("mean-field weights at each rebalance (post-trade)")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=6, ncol=10, loc="upper center", bbox_to_anchor=(0.5, -0.1))
        paths["weights"] = save_figure(fig, folder / "weights.png")
    fig, (ax,) = new_figure(1, width=10.0, height=3.2)
    for name in bt.net:
        ax.plot(bt.rebalance_dates.astype("datetime64[D]"), _rebalance_turnover(bt, name), lw=0.8, label=name)
    ax.set_title("two-way turnover at each rebalance")
    ax.legend(fontsize=7, ncol=4)
    paths["turnover"] = save_figure(fig, folder / "turnover.png")
    final = res.final
    fig, (ax0, ax1) = new_figure(2, width=5.5, height=3.6)
    idx = np.arange(len(res.tickers))
    cols = {"Markowitz": final["markowitz"], "mean field": final["mean_field"], "cooperative": final["cooperative"]}
    width = 0.8 / len(cols)
    for j, (name, x) in enumerate(cols.items()):
        ax0.bar(idx + (j - 1) * width, clean_weights(x), width, label=name)
    ax0.set_xticks(idx, res.tickers, rotation=70, fontsize=6)
    ax0.set_title("game holdings on the last window (unconstrained)")
    ax0.legend(fontsize=7)
    pde = final["pde"]
    sol = pde.solutions[0]
    ax1.pcolormesh(sol.x, sol.t, sol.m, shading="auto", cmap="magma")
    ax1.plot(pde.mean[:, 0], sol.t, "w-", lw=1.2, label="mean (PDE)")
    ax1.plot(pde.exact_mean[:, 0], sol.t, "c--", lw=1.2, label="mean (Riccati)")
    ax1.set_xlim(sol.x[0], sol.x[-1])  # the grid's range: a mean leaving it must not stretch the axis
    ax1.set_ylim(sol.t[0], sol.t[-1])
    ax1.set_xlabel(f"holding of principal portfolio {int(pde.components[0]) + 1} (from equal weights)")
    ax1.set_ylabel("t (years)")
    ax1.set_title("crowd's holdings density m(t, y)")
    ax1.legend(fontsize=7)
    paths["game"] = save_figure(fig, folder / "game.png")
    return paths


def _rebalance_turnover(bt, name: str) -> np.ndarray:
    drifted, weights = np.asarray(bt.drifted[name]), np.asarray(bt.weights[name])
    return np.abs(weights - drifted).sum(axis=1)


def _table(frame, digits: int = 4) -> str:
    head = "".join(f"<th>{html.escape(LABELS.get(str(c), str(c).replace('_', ' ')))}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows():
        cells = []
        for v in row:
            if isinstance(v, float) and abs(v) < DUST:
                v = 0.0
            text = f"{v:.{digits}g}" if isinstance(v, float) else str(v).replace("_", " ")
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%}h2{margin-top:1.6em}.muted{color:#666}
.verdict{background:#f6f8fa;border-left:4px solid #888;padding:0.6em 1em}"""


def write_html(res, frames: dict, figures: dict[str, Path], path: Path) -> Path:
    """One HTML file with the tables and the figures embedded (base64 PNG): no external resources."""

    def img(name):
        if name not in figures:
            return ""
        data = base64.b64encode(Path(figures[name]).read_bytes()).decode()
        return f'<img alt="{name}" src="data:image/png;base64,{data}">'

    s = res.summary
    cfg = s["config"]
    b = cfg["backtest"]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>meanfolio backtest {res.run_id}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Mean-field portfolio: walk-forward backtest</h1>",
        f"<p class='muted'>run {html.escape(res.run_id)} &middot; {html.escape(s['data'])} &middot; "
        f"{html.escape(s['backtest'])} &middot; rebalance {html.escape(str(b['rebalance']))}, "
        f"{b['window_type']} window of {b['window']} days, {b['cost_bps']:g} bp per unit turnover</p>",
        f"<p class='verdict'>{html.escape(res.verdict)}</p>",
        "<h2>Statistics (net of costs; turnover and cost per year)</h2>",
        _table(frames["statistics"]),
    ]
    if "sharpe_differences" in frames:
        parts += [
            "<h3>Mean field against each strategy: Sharpe difference, Ledoit-Wolf (2008) bootstrap p-value</h3>",
            _table(frames["sharpe_differences"]),
        ]
    parts += [
        "<h2>Wealth and drawdowns</h2>", img("wealth"), img("rolling_sharpe"),
        "<h2>Weights and turnover</h2>", img("weights"), img("turnover"),
        "<h2>The game on the last window</h2>",
        f"<p>Price of anarchy (cooperative / mean-field welfare): {res.final['price_of_anarchy']:.4f}. Crowding "
        "shrinks the Markowitz holdings along each principal portfolio by gamma s / (gamma s + lam).</p>",
        img("game"),
        "<h2>Configurations tried (deflated Sharpe)</h2>", _table(res.sweep),
        "<h2>By market regime (ex post: smoothed HMM states of the equal-weight market)</h2>",
        _table(frames["regime_performance"]),
        "</body></html>",
    ]  # fmt: skip
    path.write_text("\n".join(parts))
    return path
