"""The paper's figures 2-10, drawn from the runs behind the findings table (PNG files).

| file | paper | content |
|---|---|---|
| fig02_functions | Fig 2 | value functions U and weight functions W |
| fig03_price | Fig 3 | price vs constant s_f (finding 1) and vs exp-OU s_f (finding 2) |
| fig04_qq | Fig 4 | QQ plots of daily log returns: price (fat tails) and fundamental (normal) |
| fig05_broker_law | Fig 5 | broker prices of long-term investors vs the log-normal law of section 5 |
| fig06_stock_wealth | Fig 6 | stock-wealth marginal vs normal and log-normal fits |
| fig07_bond_marginal | Fig 7 | bond-wealth marginal (g > 0) vs its closed-form log-normal |
| fig08_hft_price | Fig 8 | high-frequency traders: tail of the broker price law vs inverse-gamma / log-normal fits |
| fig09_hft_wealth | Fig 9 | high-frequency traders: stock and bond wealth vs normal fits |
| fig10_hft_steady_state | Fig 10 | frozen-wealth HFT price law vs the inverse gamma; KS distance over time |

``make_figures`` also writes ``figures.json``: the statistic shown in each
figure's title, so that a test can check what was drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from meanfolio.plotting import new_figure, save_figure

from .findings import findings, observed
from .fokker_planck import stationary_price_density
from .functions import plot_functions
from .stylized import excess_kurtosis, hill_tail_index, log_returns, qq_normal

__all__ = ["FIGURES", "make_figures"]

FIGURES = ("fig02_functions", "fig03_price", "fig04_qq", "fig05_broker_law", "fig06_stock_wealth",
           "fig07_bond_marginal", "fig08_hft_price", "fig09_hft_wealth", "fig10_hft_steady_state")  # fmt: skip

Progress = Callable[[str], None]


def _histogram_with(ax, samples, laws: dict[str, Callable], bins: int = 80, log: bool = False):
    ax.hist(samples, bins=bins, density=True, alpha=0.5, label="Monte Carlo")
    grid = np.linspace(np.quantile(samples, 0.0005), np.quantile(samples, 0.9995), 400)
    for (label, pdf), style in zip(laws.items(), ("k", "r--", "g:"), strict=False):
        ax.plot(grid, pdf(grid), style, label=label)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=7)


def _price_panels(keep: dict, path: Path, info: dict) -> Path:
    fig, axes = new_figure(2, width=6.0)
    for ax, key, title in zip(axes, ("constant", "varying"), ("constant s_f", "exp-OU s_f"), strict=True):
        res = keep[key]
        n = min(res.completed_steps + 1, int(round(100.0 / res.params.dt)) + 1)
        t = res.series["t"][:n]
        ax.plot(t, res.series["S"][:n], lw=0.8, label="price S")
        ax.plot(t, res.series["s_f"][:n], "k--", lw=0.8, label="fundamental s_f")
        ax.set_xlabel("t")
        ax.set_title(f"Fig 3: long-term investors, {title}")
        ax.legend(fontsize=7)
        info[f"fig03_{key}_mean_price"] = float(np.mean(res.series["S"][n // 2 : n]))
    return save_figure(fig, path)


def _qq(res, path: Path, info: dict) -> Path:
    fig, axes = new_figure(2)
    for ax, name in zip(axes, ("S", "s_f"), strict=True):
        r = log_returns(observed(res, name, start=10.0))
        q, z = qq_normal(r)
        k = excess_kurtosis(r)
        info[f"fig04_kurtosis_{name}"] = k
        ax.plot(q, z, ".", ms=2)
        ax.plot(q, q, "k--", lw=1)
        ax.set_xlabel("normal quantiles")
        ax.set_ylabel("standardised daily log returns")
        ax.set_title(f"Fig 4: QQ, {'price' if name == 'S' else 'fundamental'} (excess kurtosis {k:.2f})")
    return save_figure(fig, path)


def make_figures(
    out_dir: str | Path, *, agents: int = 2000, seed: int = 1, progress: Progress | None = None,
    overrides: dict[str, Any] | None = None, quick: bool = False,
) -> list[Path]:  # fmt: skip
    """Run the findings' presets for ``seed`` and write the figures; returns the paths (``FIGURES`` order)."""
    out = Path(out_dir)
    keep: dict = {}
    rows = findings([seed], agents=agents, progress=progress, keep=keep, quick=quick, overrides=overrides)
    out.mkdir(parents=True, exist_ok=True)  # after the runs: bad input leaves no folder behind
    info: dict[str, Any] = {"findings": [r.to_dict() for r in rows]}
    paths = [out / "fig02_functions.png"]
    plot_functions(paths[0])
    paths.append(_price_panels(keep, out / "fig03_price.png", info))
    paths.append(_qq(keep["varying"], out / "fig04_qq.png", info))

    p, res, law = keep["brokers"]
    fig, (ax,) = new_figure(1, width=6.0)
    _histogram_with(ax, res.broker_prices, {"log-normal law (section 5)": law.pdf})
    ks = stats.kstest(res.broker_prices, law.cdf)
    info["fig05_ks_pvalue"] = float(ks.pvalue)
    ax.set_title(f"Fig 5: broker prices at t = {res.series['t'][-1]:g} (KS p = {ks.pvalue:.2f})")
    paths.append(save_figure(fig, out / "fig05_broker_law.png"))

    fig, (ax,) = new_figure(1, width=6.0)
    x = res.x
    _histogram_with(ax, x, {"normal fit": stats.norm(*stats.norm.fit(x)).pdf,
                            "log-normal fit": stats.lognorm(*stats.lognorm.fit(x, floc=0)).pdf})  # fmt: skip
    info["fig06_skewness"] = float(stats.skew(x))
    ax.set_title(f"Fig 6: stock wealth, long-term investors (skewness {info['fig06_skewness']:.2f})")
    paths.append(save_figure(fig, out / "fig06_stock_wealth.png"))

    p, res, law = keep["marginal"]
    fig, (ax,) = new_figure(1, width=6.0)
    _histogram_with(ax, res.y, {"closed-form log-normal": law.pdf})
    info["fig07_ks_pvalue"] = float(stats.kstest(res.y, law.cdf).pvalue)
    ax.set_title(f"Fig 7: bond wealth, g > 0, t = {res.series['t'][-1]:g} (KS p = {info['fig07_ks_pvalue']:.2f})")
    paths.append(save_figure(fig, out / "fig07_bond_marginal.png"))

    res = keep["hft"]
    prices = np.sort(res.broker_prices)
    fig, (ax,) = new_figure(1, width=6.0)
    tail = 1.0 - (np.arange(prices.size) + 0.5) / prices.size
    ax.loglog(prices, tail, ".", ms=3, label="Monte Carlo")
    shape, loc, scale = stats.lognorm.fit(prices, floc=0)
    ax.loglog(prices, stats.lognorm(shape, loc, scale).sf(prices), "k", label="log-normal fit")
    a, loc, scale = stats.invgamma.fit(prices, floc=0)
    ax.loglog(prices, stats.invgamma(a, loc, scale).sf(prices), "r--", label=f"inverse-gamma fit, nu = {a:.1f}")
    info["fig08_hill"], info["fig08_nu_fit"] = hill_tail_index(prices, k=100), float(a)
    ax.set_title(f"Fig 8: high-frequency traders, Hill index {info['fig08_hill']:.1f}")
    ax.set_xlabel("broker price s")
    ax.set_ylabel("P(S > s)")
    ax.legend(fontsize=7)
    paths.append(save_figure(fig, out / "fig08_hft_price.png"))

    fig, axes = new_figure(2)
    for ax, v, name in zip(axes, (res.x, res.y), ("stock", "bond"), strict=True):
        _histogram_with(ax, v, {"normal fit": stats.norm(*stats.norm.fit(v)).pdf})
        info[f"fig09_skewness_{name}"] = float(stats.skew(v))
        ax.set_title(f"Fig 9: HFT {name} wealth (skewness {stats.skew(v):.2f})")
    paths.append(save_figure(fig, out / "fig09_hft_wealth.png"))

    p, res, ig = keep["steady"]
    stat = stationary_price_density(p, s_min=0.05, s_max=6.0, n=1500)
    fig, (ax, ax2) = new_figure(2)
    _histogram_with(ax, res.broker_prices, {f"inverse gamma nu = {ig.nu:g}, theta = {ig.theta:g}": ig.pdf})
    ax.plot(stat.s, stat.V[0], "g:", label="finite volumes, stationary")
    ax.legend(fontsize=7)
    ax.set_title("Fig 10: high-frequency steady state")
    ks_mc = [stats.kstest(prices, ig.cdf).statistic for _, prices in res.extra["snapshots"]]
    info["fig10_ks_final"] = float(ks_mc[-1])
    ax2.semilogy([t for t, _ in res.extra["snapshots"]], ks_mc, "o-", label="Monte Carlo")
    ax2.set_xlabel("t")
    ax2.set_ylabel("KS distance to the inverse gamma")
    ax2.set_title("Fig 10: convergence to the steady state")
    paths.append(save_figure(fig, out / "fig10_hft_steady_state.png"))
    (out / "figures.json").write_text(json.dumps(info, indent=2, default=float))
    return paths
