"""
Trade crowding against Cartea-Jaimungal
=======================================

Cardaliaguet and Lehalle (2018): traders liquidating inventories ``q`` at
speed ``nu`` pay ``kappa nu^2`` and move the price by ``alpha`` times the
crowd's mean speed. With no impact (``alpha = 0``) each trader's problem is
Cartea and Jaimungal's optimal liquidation, whose inventory is
``q0 (xi e^{gamma (T-t)} - e^{-gamma (T-t)}) / (xi e^{gamma T} - e^{-gamma T})``
with ``gamma = sqrt(phi / kappa)``, ``xi = (A + sqrt(kappa phi)) / (A - sqrt(kappa phi))``.
:func:`meanfolio.games.trade_crowding` gives the exact equilibrium for any impact.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.games import trade_crowding

kappa, phi, A, T, q0 = 1.0, 0.5, 2.0, 1.0, 1.0
gamma = np.sqrt(phi / kappa)
xi = (A + np.sqrt(kappa * phi)) / (A - np.sqrt(kappa * phi))

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
for impact in (-1.5, 0.0, 1.5, 4.0):
    sol = trade_crowding(kappa, phi, A, impact, T, q0)
    ax0.plot(sol.t, sol.mean_inventory, label=f"impact {impact:g}")
    ax1.plot(sol.t, sol.mean_speed, label=f"impact {impact:g}")
t = sol.t
tau = T - t
cj = q0 * (xi * np.exp(gamma * tau) - np.exp(-gamma * tau)) / (xi * np.exp(gamma * T) - np.exp(-gamma * T))
zero = trade_crowding(kappa, phi, A, 0.0, T, q0)
print(f"impact 0: max |E[q] - Cartea-Jaimungal| = {np.abs(zero.mean_inventory - cj).max():.2e}")
ax0.plot(t, cj, "k:", lw=2, label="Cartea-Jaimungal")
ax0.set(xlabel="t", ylabel="mean inventory E[q](t)", title="inventory")
ax1.set(xlabel="t", ylabel="mean speed", title="trading speed")
ax0.legend(fontsize=8)
fig.tight_layout()
plt.show()
