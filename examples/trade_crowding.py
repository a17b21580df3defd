"""Trade crowding (Cardaliaguet & Lehalle 2018): exact equilibrium, epsilon-Nash and the MFG solver.

python examples/trade_crowding.py [folder]      # figures into folder (default docs/games/)
"""

import sys
from pathlib import Path

import numpy as np
from scipy.integrate import cumulative_trapezoid

from meanfolio.games.trade_crowding import trade_crowding, trade_crowding_epsilon_nash
from meanfolio.mfg import MarketImpact, MFGConfig, RunningCost, solve_mfg
from meanfolio.plotting import heatmap, new_figure, save_figure

out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/games")
kappa, phi, A, alpha, T, q0 = 1.0, 0.5, 2.0, 1.5, 1.0, 1.0

# 1. The exact equilibrium against Cartea-Jaimungal (impact 0).
sol = trade_crowding(kappa, phi, A, alpha, T, q0)
print(sol.summary())
save_figure(sol.plot(), out / "trade_crowding_paths.png")

# 2. The impact from buying to selling pressure: alpha < 0, 0, > 0.
fig, (ax0, ax1) = new_figure(2)
for a in (-1.5, 0.0, 1.5, 4.0):
    s = trade_crowding(kappa, phi, A, a, T, q0)
    ax0.plot(s.t, s.mean_inventory, label=f"impact {a:g}")
    ax1.plot(s.t, s.mean_speed, label=f"impact {a:g}")
ax0.set(xlabel="t", ylabel="mean inventory E[q](t)", title="crowding: inventory")
ax1.set(xlabel="t", ylabel="mean speed nubar(t)", title="crowding: speed")
ax0.legend()
save_figure(fig, out / "trade_crowding_impacts.png")

# 3. epsilon-Nash: N - 1 traders play nu*, one best-responds (exact LQ computation).
fig, axes = new_figure(2)
for ax, variance in zip(axes, (0.0, 0.25), strict=True):
    eps = trade_crowding_epsilon_nash(kappa, phi, A, alpha, T, q0, initial_variance=variance)
    print(eps.summary())
    eps.plot(ax=ax)
    ax.set_title(f"epsilon-Nash, initial variance {variance:g}")
save_figure(fig, out / "trade_crowding_epsilon_nash.png")

# 4. The 1D MFG solver on a crowd of sellers and buyers: cost / (2 kappa), H = p^2/2.
config = MFGConfig(nx=240, nt=101, x_min=-1.5, x_max=2.5, time_horizon=T, viscosity=0.002, tolerance=1e-9)
x = np.linspace(config.x_min, config.x_max, config.nx)
m0 = 0.7 * np.exp(-0.5 * ((x - 1.5) / 0.15) ** 2) + 0.3 * np.exp(-0.5 * ((x + 0.5) / 0.15) ** 2)
m0 /= m0.sum() * (x[1] - x[0])
mean0 = float((x * m0).sum() * (x[1] - x[0]))
f = RunningCost(phi / (2 * kappa) * x**2) + MarketImpact(alpha / (2 * kappa))
mfg = solve_mfg(config, m0, f, terminal=A / (2 * kappa) * x**2)
exact = trade_crowding(kappa, phi, A, alpha, T, mean0, nt=config.nt - 1)
mean = (mfg.m * x).sum(axis=1) * (x[1] - x[0])
print("MFG solver:", mfg.summary()["converged"], "max |mean - exact| =", np.abs(mean - exact.mean_inventory).max())
fig, (ax0, ax1) = new_figure(2)
heatmap(ax0, mfg.m.T, mfg.t, x, "density of inventories m(t, q)", cmap="magma", ylabel="inventory q")
ax0.set_xlabel("t")
ax0.plot(exact.t, exact.mean_inventory, "w--", label="exact E[q](t)")
decay = np.exp(-cumulative_trapezoid(exact.h2 / kappa, exact.t, initial=0.0))
for start in (1.5, -0.5):  # a trader's path: q - E[q] decays at rate h2/kappa
    ax0.plot(exact.t, exact.mean_inventory + (start - mean0) * decay, "c:", lw=1)
ax0.legend(loc="upper right")
ax1.plot(exact.t, exact.mean_inventory, label="exact")
ax1.plot(mfg.t, mean, "--", label="MFG solver (Newton, 240 x 101)")
ax1.set(xlabel="t", ylabel="mean inventory", title="mean of the crowd's inventories")
ax1.legend()
save_figure(fig, out / "trade_crowding_density.png")
