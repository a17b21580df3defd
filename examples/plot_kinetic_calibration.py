"""
Calibrating the kinetic model to index returns
==============================================

The kinetic model's stylized facts can be fitted to a real index by the
simulated method of moments (``meanfolio.kinetic.calibrate``, see
:doc:`/guide/kinetic`): the daily log returns' volatility, excess kurtosis, Hill
tail index, ``ACF(r, 1)`` and ``ACF(|r|)`` at lags 1..20 of the data are matched by those of
simulated paths of the same length, weighted by the inverse bootstrap variance
of the data moments, the parameters (price impact, reversion speed, chartists'
memory, trust beta, broker noise) searched by L-SHADE. Here a small budget
(150 candidates) on the last ten years of the equal-weight index of the bundled
stocks; ``meanfolio kinetic calibrate --data bundled`` runs the full fit. As in
the full fit, the J-test rejects the model: it can match the volatility and the
tails on its fitting paths, not the index's volatility clustering as well.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.kinetic import qq_normal

try:
    from meanfolio.kinetic.calibrate import bundled_index_returns, calibrate
except ImportError as exc:  # an older meanfolio without the calibration
    calibrate = None
    print("calibration not available:", exc)

if calibrate is not None:
    returns, dates = bundled_index_returns()
    returns = returns[-2520:]
    fit = calibrate(returns, max_evals=150, paths=1, replications=4, seed=0, data_name="bundled index, 10 years")
    print("estimate:", {k: round(v, 3) for k, v in fit.params.items()})
    print(f"J = {fit.j_statistic:.1f} on {fit.j_df} degrees of freedom (p = {fit.j_pvalue:.3g}), "
          f"{fit.nfev} candidates in {fit.seconds:.1f} s")  # fmt: skip
    for key in ("volatility", "excess_kurtosis", "hill", "acf1"):
        print(f"{key:16s} data {fit.targets[key]:8.4f}   model {fit.simulated[key]:8.4f}")

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    lags = np.arange(1, len(fit.targets["acf_abs"]) + 1)
    ax0.plot(lags, fit.targets["acf_abs"], "ko-", ms=3, label="index")
    ax0.plot(lags, fit.simulated["acf_abs"], "s--", ms=3, label="calibrated model")
    ax0.set(xlabel="lag (days)", ylabel="ACF of |r|", title="volatility clustering")
    ax0.legend(fontsize=8)
    for name, r in (("index", fit.returns), ("calibrated model", fit.simulated_path)):
        q, z = qq_normal(r)
        ax1.plot(q, z, ".", ms=2, label=name)
    ax1.plot([-4, 4], [-4, 4], "k:", lw=1)
    ax1.set(xlabel="normal quantile", ylabel="standardised log return", title="tails")
    ax1.legend(fontsize=8)
    fig.tight_layout()
else:
    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "meanfolio.kinetic.calibrate is not available", ha="center")
plt.show()
