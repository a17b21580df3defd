"""
What a Sharpe ratio can tell: intervals, tests and deflation
============================================================

A backtest's Sharpe ratio is an estimate. :mod:`meanfolio.risk` gives its HAC
standard error and interval (:func:`~meanfolio.risk.sharpe_confidence_interval`),
the Ledoit-Wolf bootstrap test of the difference of two Sharpe ratios
(:func:`~meanfolio.risk.sharpe_difference_test`), the probabilistic Sharpe
ratio ``P(true SR > 0)`` and the deflated Sharpe ratio, which asks the same
after ``N`` strategies were tried and the best kept
(:func:`~meanfolio.risk.deflated_sharpe_ratio`). Ten years of the bundled
data: the best single stock looks excellent until one accounts for having
picked it among 20.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.data import load_sp500
from meanfolio.risk import (
    deflated_sharpe_ratio,
    probabilistic_sharpe_ratio,
    sharpe_confidence_interval,
    sharpe_difference_test,
    sharpe_ratio,
)

table = load_sp500(start="2013-01-01")
returns, dates = table.returns("simple")
sharpes = np.array([sharpe_ratio(returns[:, j]) for j in range(returns.shape[1])])
best = int(np.argmax(sharpes))
equal = returns.mean(axis=1)
r = returns[:, best]
low, high = sharpe_confidence_interval(r)
print(f"best stock {table.tickers[best]}: Sharpe {sharpes[best]:.2f}, 95 % interval [{low:.2f}, {high:.2f}]")
print(f"probabilistic Sharpe P(SR > 0) = {probabilistic_sharpe_ratio(r):.4f}")
test = sharpe_difference_test(r, equal, n_boot=500, seed=1)
print(f"against equal weight: difference {test.difference:.2f}, p-value {test.pvalue:.3f}")

trials = np.unique(np.geomspace(2, 200, 40).astype(int))
dsr = [deflated_sharpe_ratio(r, n_trials=int(n), trials_sharpe_std=float(np.std(sharpes, ddof=1))) for n in trials]

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
intervals = np.array([sharpe_confidence_interval(returns[:, j]) for j in range(returns.shape[1])])
order = np.argsort(sharpes)
ax0.errorbar(np.arange(sharpes.size), sharpes[order], yerr=np.abs(intervals[order].T - sharpes[order]), fmt="o",
             ms=3, capsize=2)  # fmt: skip
ax0.set_xticks(np.arange(sharpes.size), np.array(table.tickers)[order], rotation=90, fontsize=7)
ax0.axhline(0, color="k", lw=0.5)
ax0.set(ylabel="annualised Sharpe (95 % HAC interval)", title="20 stocks, 2013-2022")
ax1.semilogx(trials, dsr)
ax1.axvline(20, color="k", ls=":", label="20 stocks tried")
ax1.axhline(0.95, color="C3", ls="--", lw=1, label="0.95")
ax1.set(xlabel="number of strategies tried N", ylabel="deflated Sharpe ratio", title=f"{table.tickers[best]}")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
