"""
A walk-forward backtest on the bundled S&P 500 data
===================================================

One engine for every strategy (:func:`meanfolio.backtest.run_backtest`):
weights decided at a quarter's last close see only the returns up to that close,
they first earn the next day's return, drift with prices between rebalances,
and pay 10 bp on the two-way turnover of each rebalance (``make demo`` runs the
monthly backtest from 1995 with more strategies). We run the mean-field
strategy of the crowding game (:class:`meanfolio.backtest.MeanFieldAllocation`:
trades along the game's equilibrium path, long-only, 25 % cap) against equal
weight and skfolio's inverse volatility on the 20 bundled stocks (decisions from
2012 on, a two-year rolling window),
then ask what the data can tell: Sharpe intervals and the deflated Sharpe
ratio (:mod:`meanfolio.risk`).
"""

import matplotlib.pyplot as plt

from meanfolio.backtest import BacktestConfig, estimator_strategy, make_estimator, run_backtest
from meanfolio.data import load_sp500
from meanfolio.risk import deflated_sharpe_ratio, sharpe_confidence_interval

table = load_sp500(start="2010-01-01")
returns, dates = table.returns("simple")
game = dict(risk_aversion=3.0, crowding=0.1, trading_cost=5e-4)
strategies = {
    name: estimator_strategy(make_estimator(name, game, max_weight=0.25))
    for name in ("mean_field", "equal_weight", "inverse_volatility")
}
config = BacktestConfig(rebalance="quarterly", window=504, cost_bps=10.0)
result = run_backtest(returns, dates, strategies, config, assets=table.tickers)
for row in result.summary().iter_rows(named=True):
    print(f"{row['strategy']:13s} return {row['annual_return']:6.1%}/yr, vol {row['annual_volatility']:6.1%}, "
          f"Sharpe {row['sharpe']:.2f}, max drawdown {row['max_drawdown']:6.1%}, "
          f"turnover {row['annual_turnover']:.2f}/yr")

for name in result.strategies:
    r = result.net[name][1:]
    low, high = sharpe_confidence_interval(r)
    print(f"{name:13s} Sharpe 95 % interval [{low:5.2f}, {high:5.2f}], "
          f"deflated Sharpe (3 trials) {deflated_sharpe_ratio(r, n_trials=3, trials_sharpe_std=0.1):.3f}")  # fmt: skip

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
for name in result.strategies:
    ax0.semilogy(result.dates, result.wealth(name), lw=1, label=name)
ax0.set(ylabel="wealth (net of costs)", title="walk-forward, quarterly, 10 bp")
ax0.legend(fontsize=8)
w = result.weights["mean_field"]
ax1.stackplot(result.rebalance_dates, w.T, lw=0)
ax1.set(ylim=(0, 1), ylabel="weight", title="mean-field strategy: weights at each rebalance")
fig.tight_layout()
plt.show()
