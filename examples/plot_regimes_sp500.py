"""
Student-t regimes of the S&P 500 stocks
=======================================

A two-state hidden Markov model of the daily log returns of an equal-weight
portfolio of the 20 bundled S&P 500 stocks (1990-2022,
:func:`meanfolio.data.load_sp500`): a calm and a turbulent regime. Gaussian
emissions (:class:`meanfolio.regimes.GaussianHMM`) against Student-t ones
(``StudentTHMM``, when this version has it), compared by BIC. The shaded
probability is the *causal* (forward-filtered) one, ``predict_proba(X,
causal=True)``: row t uses data up to t only, so a walk-forward strategy may
act on it; the smoothed probability looks into the future.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio import regimes
from meanfolio.data import load_sp500

table = load_sp500()
log_returns, dates = table.returns("log")
r = np.log(np.exp(log_returns).mean(axis=1))  # equal-weight portfolio, daily rebalanced
X = r[:, None] * 100  # percent

models = {"Gaussian": regimes.GaussianHMM(2, n_init=2, seed=1)}
if hasattr(regimes, "StudentTHMM"):
    models["Student-t"] = regimes.StudentTHMM(2, n_init=2, seed=1)
for name, model in models.items():
    model.fit(X)
    vol = np.sqrt(model.covars_.reshape(2, -1)[:, 0])
    extra = f", degrees of freedom {np.round(model.dof_, 1)}" if hasattr(model, "dof_") else ""
    print(f"{name:9s} BIC {model.bic(X):10.1f}, state scales {np.round(vol, 2)} %/day{extra}")
best = min(models.values(), key=lambda m: m.bic(X))
turbulent = int(np.argmax(best.covars_.reshape(2, -1)[:, 0]))
causal = best.predict_proba(X, causal=True)[:, turbulent]
smoothed = best.predict_proba(X)[:, turbulent]
print(f"share of days in the turbulent regime (filtered > 0.5): {np.mean(causal > 0.5):.2%}")

# %%
wealth = np.exp(np.cumsum(r))
fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
ax0.semilogy(dates, wealth, "k-", lw=0.8)
ax0.fill_between(dates, wealth.min(), wealth.max(), where=causal > 0.5, color="C3", alpha=0.25, lw=0,
                 label="turbulent (filtered P > 0.5)")  # fmt: skip
ax0.set(ylabel="equal-weight wealth", title=f"two regimes ({[k for k, v in models.items() if v is best][0]} HMM)")
ax0.legend(loc="upper left")
ax1.plot(dates, causal, lw=0.5, label="filtered (causal)")
ax1.plot(dates, smoothed, lw=0.5, alpha=0.7, label="smoothed (uses the future)")
ax1.set(ylabel="P(turbulent)")
ax1.legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()
