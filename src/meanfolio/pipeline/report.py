"""Figures (PNG) and the self-contained HTML report of a pipeline run."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.plotting import heatmap, new_figure, save_figure

__all__ = ["write_figures", "write_html"]


def _equity(returns: np.ndarray) -> np.ndarray:
    return np.cumprod(1.0 + returns)


def write_figures(result, folder: Path) -> dict[str, Path]:
    """PNG figures of a :class:`PipelineResult`; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    # 1. market index with the regimes
    fig, (ax,) = new_figure(1, width=10.0, height=3.6)
    level = _equity(result.market_returns)
    ax.semilogy(result.dates, level, color="black", lw=0.8)
    K = result.regimes.means.size
    colors = plt.get_cmap("RdYlGn")(np.linspace(0.1, 0.9, K)) if K > 1 else ["#2ca02c"]  # bear red ... bull green
    for k in range(K):
        sel = result.regimes.states == k
        label = f"regime {k}: {result.regimes.means[k]:+.0%}/yr, vol {result.regimes.vols[k]:.0%}"
        ax.fill_between(result.dates, level.min(), level.max(), where=sel, color=colors[k], alpha=0.25, step="mid",
                        label=label)  # fmt: skip
    ax.set_title("equal-weight market (log scale) and the HMM regimes")
    ax.legend(loc="upper left", fontsize=8)
    paths["regimes"] = save_figure(fig, folder / "regimes.png")
    # 2. the equilibrium
    sol = result.equilibrium.solution
    fig, axes = new_figure(3)
    heatmap(axes[0], sol.m, sol.x, sol.t, "density of allocations m(t, x)", cmap="magma")
    axes[1].plot(sol.x, sol.m[0], label="m0 (assets' Merton allocations)")
    axes[1].plot(sol.x, sol.m[-1], label="m(T)")
    axes[1].axvline(result.equilibrium.target, color="gray", ls="--", label="regime's Merton allocation")
    axes[1].set_xlabel("allocation x")
    axes[1].legend(fontsize=7)
    axes[1].set_title("equilibrium distribution")
    heatmap(axes[2], sol.alpha, sol.x, sol.t, "trading rate alpha*(t, x)", cmap="coolwarm")
    paths["equilibrium"] = save_figure(fig, folder / "equilibrium.png")
    # 3. weights
    fig, (ax,) = new_figure(1, width=10.0, height=3.6)
    names = list(result.weights)
    width = 0.8 / len(names)
    idx = np.arange(len(result.tickers))
    for j, name in enumerate(names):
        ax.bar(idx + j * width, result.weights[name], width, label=name)
    ax.set_xticks(idx + 0.4 - width / 2, result.tickers, rotation=60, fontsize=7)
    ax.set_title("portfolio weights")
    ax.legend(fontsize=8)
    paths["weights"] = save_figure(fig, folder / "weights.png")
    # 4. out-of-sample equity
    fig, (ax,) = new_figure(1, width=10.0, height=3.6)
    for name, r in result.oos_returns.items():
        ax.plot(result.oos_dates, _equity(r), label=name, lw=1.0)
    ax.set_title("out-of-sample growth of 1 (walk-forward)")
    ax.legend(fontsize=8)
    paths["out_of_sample"] = save_figure(fig, folder / "out_of_sample.png")
    return paths


def _table(frame, digits: int = 4) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.iter_rows():
        cells = []
        for v in row:
            text = f"{v:.{digits}g}" if isinstance(v, float) else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%}h2{margin-top:1.6em}.muted{color:#666}"""


def write_html(result, tables: dict, figures: dict[str, Path], path: Path) -> Path:
    """One HTML file with the tables and the figures embedded (base64 PNG)."""

    def img(name):
        data = base64.b64encode(Path(figures[name]).read_bytes()).decode()
        return f'<img alt="{name}" src="data:image/png;base64,{data}">'

    s = result.summary
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>meanfolio pipeline {result.run_id}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Mean-field portfolio pipeline</h1><p class='muted'>run {html.escape(result.run_id)} &middot; "
        f"{html.escape(str(s['data']))}</p>",
        "<h2>Summary</h2>",
        _table(tables["summary"]),
        "<h2>1. Regimes (Gaussian HMM on the equal-weight market)</h2>",
        img("regimes"),
        _table(tables["regimes"]),
        "<h2>2. Mean-field equilibrium of allocations</h2>",
        "<p>Agents start at the assets' own Merton allocations and trade toward the current regime's optimum, "
        "paying an Almgren-Chriss cost and the permanent impact of the crowd's trading.</p>",
        img("equilibrium"),
        "<h2>3. Portfolio search (L-SHADE on the simplex)</h2>",
        img("weights"),
        _table(tables["weights"]),
        "<h2>4. Risk report</h2>",
        img("out_of_sample"),
        _table(tables["metrics"]),
        "<h3>By regime (chosen portfolio, full history)</h3>",
        _table(tables["regime_metrics"]),
        "<h3>Walk-forward folds</h3>",
        _table(tables["folds"]),
        "</body></html>",
    ]
    path.write_text("\n".join(parts))
    return path
