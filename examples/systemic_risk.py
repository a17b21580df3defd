"""Systemic risk game (Carmona-Fouque-Sun 2015): eta_t, simulated defaults, epsilon-Nash.

Usage: python examples/systemic_risk.py [output folder, default docs/games]
"""

import sys
from pathlib import Path

import numpy as np

from meanfolio.games.systemic_risk import systemic_risk, systemic_risk_epsilon_nash
from meanfolio.plotting import new_figure, save_figure

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/games")
game = dict(a=1.0, q=0.5, epsilon=2.0, c=1.0, sigma=1.0, horizon=2.0)

# 1. eta_t and the feedback gain for N = 2, 10 and the mean field
fig, (ax,) = new_figure(1, width=6.0, height=4.2)
for n in (2, 10, None):
    sol = systemic_risk(**game, n_players=n)
    sol.plot(ax)
    print(sol.summary())
save_figure(fig, out / "systemic_risk_eta.png")

# 2. ten banks, same noise, without and with lending (mean-field feedback, default level -0.7)
runs = {}
fig, axes = new_figure(3, width=4.6, height=3.8)
for ax, a in zip(axes, (0.0, 10.0), strict=False):
    sim = systemic_risk(a, 0.0, 0.0, 0.0, 1.0, 1.0).simulate(10, 0.0, seed=5, default_level=-0.7, n_paths=2000)
    runs[a] = sim
    shown = int(np.argmax(sim.mean_hit))  # a path on which the mean itself reaches the default level
    sim.plot(ax, path=shown, title=f"a = {a:g}: {int(sim.defaults[shown])} of 10 banks defaulted")
    print(f"a = {a:g}:", sim.summary())
bins = np.arange(12) - 0.5
for a, sim in runs.items():
    axes[2].hist(sim.defaults, bins=bins, alpha=0.6, label=f"a = {a:g} (systemic {sim.systemic_fraction:.3f})")
axes[2].set(xlabel="banks defaulted by T", ylabel="paths (of 2000)", title="defaults per path", yscale="log")
axes[2].legend(fontsize=8)
save_figure(fig, out / "systemic_risk_paths.png")

# 3. epsilon-Nash gap of the mean-field feedback against N
cases = [
    ("empirical mean, sigma = 1", dict(sigma=1.0)),
    ("empirical mean, sigma = 0, Var X_0 = 1", dict(sigma=0.0, initial_variance=1.0)),
    ("limit mean, sigma = 1", dict(sigma=1.0, mean="limit")),
]
fig, axes = new_figure(3, width=4.6, height=3.8)
for ax, (title, kw) in zip(axes, cases, strict=True):
    result = systemic_risk_epsilon_nash(**{**game, **kw})
    result.plot(ax)
    ax.set_title(title, fontsize=9)
    print(f"{title}: fitted {result.fitted_rate:.3f}, derived {result.derived_rate:g}, gap {result.gap.tolist()}")
save_figure(fig, out / "systemic_risk_epsilon_nash.png")
print("figures in", out)
