"""
Systemic risk with and without lending
======================================

Carmona, Fouque and Sun (2015): banks' log-monetary reserves
``dX^i = [a (xbar - X^i) + alpha^i] dt + sigma dW^i``; lending at rate ``a``
pulls every bank toward the mean. Lending makes single defaults rarer but
the few that remain happen together: systemic risk. Ten banks, the same
noise, 2000 paths, default when a reserve hits -0.7
(:func:`meanfolio.games.systemic_risk`).
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.games import systemic_risk

runs = {}
for a in (0.0, 10.0):
    solution = systemic_risk(a, 0.0, 0.0, 0.0, 1.0, 1.0)
    runs[a] = solution.simulate(10, 0.0, seed=5, default_level=-0.7, n_paths=2000)
    print(f"lending rate a = {a:4.1f}:", runs[a].summary())

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, (a, sim) in zip(axes, runs.items(), strict=False):
    shown = int(np.argmax(sim.mean_hit))
    sim.plot(ax, path=shown, title=f"a = {a:g}: {int(sim.defaults[shown])} of 10 banks defaulted")
bins = np.arange(12) - 0.5
for a, sim in runs.items():
    axes[2].hist(sim.defaults, bins=bins, alpha=0.6, label=f"a = {a:g} (systemic {sim.systemic_fraction:.3f})")
axes[2].set(xlabel="banks defaulted by T", ylabel="paths (of 2000)", title="defaults per path", yscale="log")
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()
