"""Market regimes for the report: a Gaussian HMM on the equal-weight market and each strategy's
performance by regime. Units: daily simple returns, annualised with ``periods`` (252)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio.regimes import GaussianHMM
from meanfolio.risk import sharpe_ratio

from .config import RegimeConfig

__all__ = ["Regimes", "fit_regimes", "regime_performance"]


@dataclass
class Regimes:
    """The HMM on market returns: ``states`` (T,), ``current`` state, annualised ``means``/``vols`` (K,),
    ``transmat`` (K, K), and the fitted model (states sorted by mean, 0 = lowest)."""

    model: GaussianHMM
    states: np.ndarray
    current: int
    means: np.ndarray
    vols: np.ndarray
    transmat: np.ndarray
    loglik: float


def fit_regimes(market: np.ndarray, cfg: RegimeConfig, periods: int) -> Regimes:
    """Fit a K-state Gaussian HMM to the market returns (T,); states relabelled by increasing mean."""
    model = GaussianHMM(cfg.n_states, n_init=cfg.n_init, max_iter=cfg.max_iter, seed=cfg.seed).fit(market)
    model.sort_states()  # state 0 = the worst (bear) regime
    states = model.predict(market)
    return Regimes(
        model=model,
        states=states,
        current=int(states[-1]),
        means=model.means_[:, 0] * periods,
        vols=np.sqrt(model.covars_.reshape(cfg.n_states, -1)[:, 0] * periods),
        transmat=model.transmat_.copy(),
        loglik=float(model.score(market)),
    )


def regime_performance(result, states: np.ndarray, n_states: int, periods: int) -> list[dict]:
    """Each strategy's net performance on the backtest days of each regime (ex-post attribution:
    the regimes are the HMM's smoothed states, used for reporting, never for trading)."""
    rows = []
    for k in range(n_states):
        sel = states == k
        for name, net in result.net.items():
            r = np.asarray(net)[sel]
            row = {"regime": k, "strategy": name, "days": int(sel.sum())}
            if r.size >= 2 and np.std(r) > 0:
                row.update(mean_return=float(r.mean() * periods), volatility=float(r.std(ddof=1) * np.sqrt(periods)),
                           sharpe=float(sharpe_ratio(r, periods=periods)))  # fmt: skip
            rows.append(row)
    return rows
