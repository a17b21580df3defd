"""
High-frequency traders: the inverse-gamma steady state
======================================================

When high-frequency traders decide on their broker's micro price ``s``, the
price law ``V(t, s)`` solves a nonlinear Fokker-Planck equation. With pure
fundamentalists and frozen wealth its steady state is an inverse gamma law
(:func:`meanfolio.kinetic.inverse_gamma_steady_state`) with a power-law tail
``P(S > s) ~ s^-nu``. Three routes meet: a Monte Carlo of 20 000 brokers
(:func:`meanfolio.kinetic.simulate`), the finite-volume solver
(:func:`~meanfolio.kinetic.solve_price_fokker_planck`) and the discrete
stationary state (:func:`~meanfolio.kinetic.stationary_price_density`).
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from meanfolio.kinetic import (
    hill_tail_index,
    inverse_gamma_steady_state,
    preset,
    simulate,
    solve_price_fokker_planck,
    stationary_price_density,
)

params = preset("high_frequency_steady_state")
law = inverse_gamma_steady_state(params)
run = simulate(params, 0, 4000, seed=1)
stationary = stationary_price_density(params, s_min=0.05, s_max=6.0, n=1500)
s = stationary.s
V0 = stats.norm(params.S0, 0.02).pdf(s)
marched = solve_price_fokker_planck(params, V0, s_min=0.05, s_max=6.0, t_end=run.series["t"][-1], dt=0.01, n_out=5)
ks = stats.kstest(run.broker_prices, law.cdf).statistic
print(f"inverse gamma nu = {law.nu:g}, theta = {law.theta:g}, mean {law.mean:.4f}")
print(f"Monte Carlo at t = {run.series['t'][-1]:g}: mean {run.broker_prices.mean():.4f}, KS distance {ks:.4f}")
print(f"finite volumes: mean {marched.mean():.4f}; stationary state: mean {stationary.mean():.4f}")
print(f"Hill tail index of the brokers' prices (k = 200): {hill_tail_index(run.broker_prices, k=200):.2f}")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
ax0.hist(run.broker_prices, bins=120, range=(0, 4), density=True, alpha=0.4, label="Monte Carlo, 20 000 brokers")
ax0.plot(s, law.pdf(s), "k-", label=f"inverse gamma, nu = {law.nu:g}")
ax0.plot(marched.s, marched.V[-1], "r--", label="finite volumes at t")
ax0.plot(s, stationary.V[0], "g:", label="finite volumes, stationary")
ax0.set(xlim=(0, 4), xlabel="price s", ylabel="density", title="the price law")
ax0.legend(fontsize=8)
prices = np.sort(run.broker_prices)
tail = 1.0 - (np.arange(prices.size) + 0.5) / prices.size
ax1.loglog(prices, tail, ".", ms=2, label="Monte Carlo")
ax1.loglog(prices, law.dist.sf(prices), "k-", label="inverse gamma")
ax1.set(xlabel="price s", ylabel="P(S > s)", title="power-law tail")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
