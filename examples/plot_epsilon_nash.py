"""
Epsilon-Nash: N players against the mean field
==============================================

The mean-field strategy is only an approximate Nash equilibrium of the game of
N players: one player who best-responds while the N - 1 others keep the
mean-field feedback gains ``eps_N``. meanfolio computes this gap exactly (by
the Riccati and Lyapunov ODEs of the linear-quadratic games) for the three
finance games, and fits its rate in N against the derived one.
"""

import matplotlib.pyplot as plt

from meanfolio.games import systemic_risk_epsilon_nash, trade_crowding_epsilon_nash

cases = {
    "systemic risk, sigma = 1": systemic_risk_epsilon_nash(1.0, 0.5, 2.0, 1.0, 1.0, 2.0),
    "systemic risk, limit mean": systemic_risk_epsilon_nash(1.0, 0.5, 2.0, 1.0, 1.0, 2.0, mean="limit"),
    "trade crowding, equal starts": trade_crowding_epsilon_nash(1.0, 0.5, 2.0, 1.5, 1.0, 1.0),
    "trade crowding, Var q0 = 0.25": trade_crowding_epsilon_nash(1.0, 0.5, 2.0, 1.5, 1.0, 1.0, initial_variance=0.25),
}

fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
for ax, (title, result) in zip(axes, cases.items(), strict=True):
    print(f"{title:32s} fitted rate {result.fitted_rate:+.3f}, derived {result.derived_rate:+g}")
    result.plot(ax)
    ax.set_title(title, fontsize=9)
fig.tight_layout()
plt.show()
