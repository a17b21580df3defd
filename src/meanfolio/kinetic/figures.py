"""The paper's figures 2-10 from the presets (PNG files).

| file | content |
|---|---|
| fig02_functions | value functions U and weight functions W |
| fig03_price_constant | price vs constant fundamental (long_term_constant) |
| fig04_price_varying | price vs exponential-OU fundamental (long_term_varying) |
| fig05_qq | QQ plots of daily log returns: price (fat tails) and fundamental (normal) |
| fig06_broker_law | broker prices of long-term investors vs the log-normal law of section 5 |
| fig07_marginals | bond-wealth marginal vs its log-normal formula; stock-wealth marginal vs a normal fit |
| fig08_hft_steady | high-frequency price law (MC and finite volumes) vs the inverse gamma |
| fig09_convergence | KS distance to the inverse gamma over time, MC and finite volumes |
| fig10_hft_tail | high_frequency preset: tail of the broker price law vs a log-normal fit |
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats

from meanfolio.plotting import new_figure, save_figure

from .analytic import bond_marginal, broker_price_law, inverse_gamma_steady_state
from .fokker_planck import price_grid, solve_price_fokker_planck, stationary_price_density
from .functions import plot_functions
from .params import preset
from .simulate import simulate
from .stylized import hill_tail_index, log_returns, qq_normal

__all__ = ["make_figures"]

Progress = Callable[[str], None]


def _price_vs_fundamental(result, title: str, path: Path) -> Path:
    fig, (ax,) = new_figure(1, width=7.0)
    t = result.series["t"]
    ax.plot(t, result.series["S"], label="price S")
    ax.plot(t, result.series["s_f"], "k--", label="fundamental s_f")
    ax.set_xlabel("t")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)


def _qq(result, path: Path) -> Path:
    fig, axes = new_figure(2)
    # daily returns: one step is dt, so sample every 1/250 time unit when dt is smaller
    every = max(1, int(round(1 / 250 / result.params.dt)))
    for ax, name in zip(axes, ("S", "s_f"), strict=True):
        q, z = qq_normal(log_returns(result.series[name][::every]))
        ax.plot(q, z, ".", ms=2)
        ax.plot(q, q, "k--", lw=1)
        ax.set_xlabel("normal quantiles")
        ax.set_ylabel("standardised log returns")
        ax.set_title(f"QQ plot, {'price' if name == 'S' else 'fundamental'} (kurtosis {stats.kurtosis(z):.2f})")
    return save_figure(fig, path)


def _histogram_with(ax, samples, law_pdf, label: str, bins: int = 80, log: bool = False):
    ax.hist(samples, bins=bins, density=True, alpha=0.5, label="Monte Carlo")
    grid = np.linspace(np.quantile(samples, 0.0005), np.quantile(samples, 0.9995), 400)
    ax.plot(grid, law_pdf(grid), "k", label=label)
    if log:
        ax.set_yscale("log")
    ax.legend()


def make_figures(out_dir: str | Path, *, agents: int = 20_000, seed: int = 1, progress: Progress | None = None):
    """Run the presets and write the figures; returns the list of paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: None)
    paths = [out / "fig02_functions.png"]
    plot_functions(paths[0])

    say("long-term investors, constant fundamental")
    res = simulate(preset("long_term_constant"), agents, 4000, seed=seed)
    paths.append(_price_vs_fundamental(res, "long-term investors, constant s_f", out / "fig03_price_constant.png"))

    say("long-term investors, exponential-OU fundamental")
    res = simulate(preset("long_term_varying"), agents, 10000, seed=seed)
    paths.append(_price_vs_fundamental(res, "long-term investors, varying s_f", out / "fig04_price_varying.png"))
    paths.append(_qq(res, out / "fig05_qq.png"))

    say("broker price law (long-term investors, 5000 brokers)")
    p = preset("long_term_constant", n_brokers=5000, sigma_broker=0.2)
    res = simulate(p, agents, 200, seed=seed)
    law = broker_price_law(p, res.series["ED"][:-1])
    fig, (ax,) = new_figure(1, width=6.0)
    _histogram_with(ax, res.broker_prices, law.pdf, "log-normal law (section 5)")
    ax.set_title(f"broker prices at t = {res.series['t'][-1]:g}")
    paths.append(save_figure(fig, out / "fig06_broker_law.png"))

    say("wealth marginals")
    p = preset("marginal_positive")
    res = simulate(p, agents, 500, seed=seed)
    lawy = bond_marginal(p, res.series["g"][:-1])
    res_lt = simulate(preset("long_term_constant"), agents, 2000, seed=seed)
    fig, (ax_y, ax_x) = new_figure(2)
    _histogram_with(ax_y, res.y, lawy.pdf, "log-normal formula")
    ax_y.set_title(f"bond wealth, g > 0, t = {res.series['t'][-1]:g}")
    mu, sd = stats.norm.fit(res_lt.x)
    _histogram_with(ax_x, res_lt.x, stats.norm(mu, sd).pdf, "normal fit")
    ax_x.set_title("stock wealth, long-term investors")
    paths.append(save_figure(fig, out / "fig07_marginals.png"))

    say("high-frequency steady state (Monte Carlo and finite volumes)")
    p = preset("high_frequency_steady_state")
    ig = inverse_gamma_steady_state(p)
    res = simulate(p, 0, 4000, seed=seed, snapshot_every=250)
    s, ds = price_grid(0.05, 6.0, 1500)
    V0 = stats.norm(p.S0, 0.02).pdf(s)
    fv = solve_price_fokker_planck(p, V0, s_min=0.05, s_max=6.0, t_end=res.series["t"][-1], dt=0.01, n_out=17)
    stat = stationary_price_density(p, s_min=0.05, s_max=6.0, n=1500)
    fig, (ax,) = new_figure(1, width=6.0)
    _histogram_with(ax, res.broker_prices, ig.pdf, f"inverse gamma nu = {ig.nu:g}, theta = {ig.theta:g}")
    ax.plot(fv.s, fv.V[-1], "r--", label="finite volumes")
    ax.plot(stat.s, stat.V[0], "g:", label="finite volumes, stationary")
    ax.legend()
    ax.set_title("high-frequency traders: price law")
    paths.append(save_figure(fig, out / "fig08_hft_steady.png"))
    fig, (ax,) = new_figure(1, width=6.0)
    ks_mc = [stats.kstest(prices, ig.cdf).statistic for _, prices in res.extra["snapshots"]]
    ks_fv = [np.max(np.abs(np.cumsum(V) * ds - ig.cdf(s + ds / 2))) for V in fv.V]
    ax.semilogy([t for t, _ in res.extra["snapshots"]], ks_mc, "o-", label="Monte Carlo")
    ax.semilogy(fv.t, ks_fv, "s-", label="finite volumes")
    ax.set_xlabel("t")
    ax.set_ylabel("KS distance to the inverse gamma")
    ax.legend()
    paths.append(save_figure(fig, out / "fig09_convergence.png"))

    say("high-frequency traders: tail of the price law")
    res = simulate(preset("high_frequency"), agents, 4000, seed=seed)
    prices = np.sort(res.broker_prices)
    fig, (ax,) = new_figure(1, width=6.0)
    tail = 1.0 - (np.arange(prices.size) + 0.5) / prices.size
    ax.loglog(prices, tail, ".", ms=3, label="Monte Carlo")
    shape, loc, scale = stats.lognorm.fit(prices, floc=0)
    ax.loglog(prices, stats.lognorm(shape, loc, scale).sf(prices), "k", label="log-normal fit")
    a, loc, scale = stats.invgamma.fit(prices, floc=0)
    ax.loglog(prices, stats.invgamma(a, loc, scale).sf(prices), "r--", label=f"inverse-gamma fit, nu = {a:.1f}")
    ax.set_title(f"high-frequency traders: Hill index {hill_tail_index(prices, k=100):.1f}")
    ax.set_xlabel("broker price s")
    ax.set_ylabel("P(S > s)")
    ax.legend()
    paths.append(save_figure(fig, out / "fig10_hft_tail.png"))
    return paths
