"""Honest statistics of a backtest: per-strategy metrics with Sharpe intervals, the mean-field
strategy's Sharpe differences with p-values, the deflated Sharpe ratio, and a plain verdict.

All metrics are of the NET daily returns (after costs). ``turnover`` is the
annualised two-way turnover (fraction of wealth per year), ``cost`` the
annualised cost drag (return lost to costs per year).
"""

from __future__ import annotations

import numpy as np

from meanfolio.risk import annual_return, annual_volatility, cvar, max_drawdown, sharpe_ratio, sortino_ratio
from meanfolio.risk.sharpe import (
    deflated_sharpe_ratio,
    probabilistic_sharpe_ratio,
    sharpe_confidence_interval,
    sharpe_difference_test,
)

__all__ = ["strategy_statistics", "verdict"]


def _metrics(r: np.ndarray, periods: float, level: float) -> dict:
    low, high = sharpe_confidence_interval(r, level=level, periods=periods)
    return {
        "annual_return": float(annual_return(r, periods)),
        "volatility": float(annual_volatility(r, periods)),
        "sharpe": float(sharpe_ratio(r, periods=periods)),
        "sharpe_ci": [float(low), float(high)],
        "sortino": float(sortino_ratio(r, periods=periods)),
        "max_drawdown": float(max_drawdown(r)),
        "cvar_95": float(cvar(r, 0.05)),
    }


def strategy_statistics(result, *, periods: float, level: float, n_boot: int, seed: int,
                        trial_sharpes: list[float] | None = None) -> dict[str, dict]:  # fmt: skip
    """Per strategy: the metrics of the net returns, ``turnover`` and ``cost`` (annualised); for
    ``mean_field`` also ``sharpe_diff`` / ``sharpe_diff_pvalue`` against every other strategy
    (Ledoit-Wolf 2008 studentised block bootstrap) and ``deflated_sharpe`` given the Sharpe
    ratios of all configurations tried (``trial_sharpes``, annualised; one trial if None)."""
    out = {}
    for name in result.net:
        r = np.asarray(result.net[name])
        out[name] = {
            **_metrics(r, periods, level),
            "turnover": float(result.annual_turnover(name)),
            "cost": float(result.annual_cost(name)),
        }
    if "mean_field" in result.net:
        mf = np.asarray(result.net["mean_field"])
        diffs, pvalues = {}, {}
        for name in result.net:
            if name == "mean_field":
                continue
            test = sharpe_difference_test(mf, np.asarray(result.net[name]), periods=periods, n_boot=n_boot, seed=seed)
            diffs[name], pvalues[name] = float(test.difference), float(test.pvalue)
        trials = list(trial_sharpes or [out["mean_field"]["sharpe"]])
        if len(trials) > 1:
            dsr = deflated_sharpe_ratio(mf, n_trials=len(trials), trials_sharpe=trials, periods=periods)
        else:  # one configuration: nothing to deflate for, the probabilistic Sharpe ratio against 0
            dsr = probabilistic_sharpe_ratio(mf, benchmark=0.0, periods=periods)
        out["mean_field"].update(
            sharpe_diff=diffs, sharpe_diff_pvalue=pvalues, deflated_sharpe=float(dsr), n_trials=len(trials)
        )
    return out


def verdict(stats: dict[str, dict], *, level: float = 0.95, alpha: float = 0.05) -> str:
    """A plain-language reading that never claims more than the tests show."""
    if "mean_field" not in stats:
        return "The mean-field strategy was not run; the table compares the baselines only."
    mf = stats["mean_field"]
    lines = [
        f"The mean-field strategy's net Sharpe ratio is {mf['sharpe']:.2f} "
        f"({100 * level:.0f}% interval {mf['sharpe_ci'][0]:.2f} to {mf['sharpe_ci'][1]:.2f})."
    ]
    better = [k for k, p in mf["sharpe_diff_pvalue"].items() if p < alpha and mf["sharpe_diff"][k] > 0]
    worse = [k for k, p in mf["sharpe_diff_pvalue"].items() if p < alpha and mf["sharpe_diff"][k] < 0]
    same = [k for k in mf["sharpe_diff_pvalue"] if k not in better and k not in worse]
    if better:
        lines.append(f"It beats {', '.join(better)} with a Sharpe difference significant at {alpha:.0%}.")
    if worse:
        lines.append(f"It trails {', '.join(worse)} significantly at {alpha:.0%}.")
    if same:
        lines.append(
            f"Against {', '.join(same)} the Sharpe difference is not significant at {alpha:.0%}: "
            "the data cannot tell these strategies apart."
        )
    dsr = mf["deflated_sharpe"]
    lines.append(
        f"Deflated Sharpe ratio {dsr:.2f} over {mf['n_trials']} configuration(s): "
        + (
            "the Sharpe ratio is unlikely to be a selection artefact."
            if dsr > 0.95
            else "the Sharpe ratio could be a product of chance and of the configurations tried."
        )  # fmt: skip
    )
    return " ".join(lines)
