"""
Crowding shrinks the Markowitz weights
======================================

In the allocation game (:class:`meanfolio.games.AllocationGame`) a manager's
expected return falls by ``lam * xbar`` when the crowd holds ``xbar``. The
mean-field equilibrium is ``(gamma Sigma + lam I)^-1 mu``: a ridge-shrunk
Markowitz portfolio. On the bundled S&P 500 stocks (2015-2022) we compare the
Markowitz, mean-field, 10-manager and cooperative holdings as the crowding grows.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.data import load_sp500
from meanfolio.games import AllocationGame

table = load_sp500(start="2015-01-01")
returns, _ = table.returns("simple")
params = dict(risk_aversion=3.0, trading_cost=0.05, dispersion=0.05, horizon=1.0, volatility=0.1)
game = AllocationGame.from_returns(returns, assets=table.tickers, crowding=0.1, **params)

holdings = {
    "Markowitz": game.markowitz(),
    "mean field": game.equilibrium(),
    "10 managers": game.equilibrium(10),
    "cooperative": game.cooperative(),
}
for name, x in holdings.items():
    print(f"{name:12s} gross exposure {np.abs(x).sum():6.2f}, net {x.sum():6.2f}")
print(f"price of anarchy (cooperative / mean-field welfare): {game.price_of_anarchy():.4f}")

# %%
# Holdings per stock, and the gross exposure against the crowding
lams = np.linspace(0.0, 0.5, 21)
gross = [np.abs(AllocationGame.from_returns(returns, crowding=lam, **params).equilibrium()).sum() for lam in lams]

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
width = 0.2
idx = np.arange(game.n_assets)
for k, (name, x) in enumerate(holdings.items()):
    ax0.bar(idx + (k - 1.5) * width, x, width, label=name)
ax0.set_xticks(idx, game.names, rotation=90, fontsize=7)
ax0.set(ylabel="holding (fraction of wealth)", title="crowding lam = 0.1")
ax0.legend(fontsize=8)
ax1.plot(lams, gross)
ax1.set(xlabel="crowding lam", ylabel="gross exposure sum |x|", title="the mean-field equilibrium shrinks")
fig.tight_layout()
plt.show()
