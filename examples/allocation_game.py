"""The allocation game on the bundled S&P 500 stocks: crowding shrinks Markowitz, the crowd's path and
density, and N managers against the mean field.

    python examples/allocation_game.py [FOLDER]   # default docs/games; about 10 s
"""

import sys
from pathlib import Path

import numpy as np

from meanfolio.data import load_sp500
from meanfolio.games import AllocationGame, solve_allocation_pde
from meanfolio.plotting import new_figure, save_figure

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/games")
table = load_sp500(start="2015-01-01")
returns, _ = table.returns("simple")
params = dict(risk_aversion=3.0, trading_cost=0.05, dispersion=0.05, horizon=1.0, volatility=0.1)
game = AllocationGame.from_returns(returns, assets=table.tickers, crowding=0.1, **params)

# 1. crowding as ridge shrinkage: principal-portfolio positions of Markowitz, mean field, cooperative
s, Q = game.eigen
fig, (ax0, ax1) = new_figure(2)
static = {"Markowitz": game.markowitz(), "mean field": game.equilibrium(), "cooperative": game.cooperative()}
for name, x in static.items():
    ax0.plot(np.arange(1, s.size + 1), np.abs(Q.T @ x), "o-", ms=3, label=name)
ax0.set_yscale("log")
ax0.set_xlabel("principal portfolio (by variance)")
ax0.set_ylabel("|position|")
ax0.set_title("crowding shrinks the low-variance portfolios most")
ax0.legend()
lams = np.linspace(0, 0.5, 26)
poa = [AllocationGame.from_returns(returns, crowding=lam, **params).price_of_anarchy() for lam in lams]
ax1.plot(lams, poa)
ax1.set_xlabel("crowding lam")
ax1.set_ylabel("cooperative / mean-field welfare")
ax1.set_title("price of anarchy")
save_figure(fig, out / "allocation_shrinkage.png")

# 2. the dynamic equilibrium from zero holdings, and the crowd's density along the first principal portfolio
x0 = np.zeros(game.n_assets)
game.solve(x0, 200).plot(out / "allocation_mean_holdings.png")
pde = solve_allocation_pde(game, 0.5 * game.equilibrium(), components=[0], nx=200, nt=100)
pde.plot(out / "allocation_crowd_density.png")

# 3. N managers against the mean field: with and without order-flow noise
fig, (ax0, ax1) = new_figure(2)
game.epsilon_nash(x0).plot(ax0)
ax0.set_title("epsilon-Nash, order-flow noise sigma = 0.1")
AllocationGame.from_returns(returns, crowding=0.1, **{**params, "volatility": 0.0}).epsilon_nash(x0).plot(ax1)
ax1.set_title("epsilon-Nash, no noise, equal starts")
save_figure(fig, out / "allocation_epsilon_nash.png")
print(f"figures in {out}: PDE mean error {pde.mean_error:.2e}, price of anarchy {game.price_of_anarchy():.4f}")
