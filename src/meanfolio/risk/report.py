"""`compute_risk_metrics`: every metric of a portfolio in one frozen dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from meanfolio._validation import check_array

from . import metrics as m
from ._series import clean_returns
from .hurst import half_life, hurst_dfa, hurst_rs

__all__ = ["RiskMetrics", "compute_risk_metrics", "portfolio_returns"]


@dataclass(frozen=True)
class RiskMetrics:
    """Risk report of one return series (conventions of ``meanfolio.risk.metrics``).

    VaR/CVaR/drawdowns are signed returns (negative = loss); ``var_95`` is the
    historical 5 % quantile, ``cvar_95`` the mean below it; ``_gaussian`` and
    ``_cornish_fisher`` variants are parametric. ``half_life`` is that of the
    log wealth (periods; inf when it does not revert).
    """

    annual_return: float
    volatility: float
    sharpe: float
    sortino: float
    downside_deviation: float
    max_drawdown: float
    max_drawdown_duration: int
    calmar: float
    var_95: float
    cvar_95: float
    var_95_gaussian: float
    cvar_95_gaussian: float
    var_95_cornish_fisher: float
    cvar_95_cornish_fisher: float
    skew: float
    kurtosis: float
    omega: float
    tail_ratio: float
    hurst: float
    hurst_dfa: float
    half_life: float
    n_obs: int
    dropped_nan: int

    def as_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        """A polars DataFrame with columns metric, value."""
        import polars as pl

        d = self.as_dict()
        return pl.DataFrame({"metric": list(d), "value": [float(v) for v in d.values()]})


def portfolio_returns(weights, returns) -> tuple[np.ndarray, np.ndarray]:
    """Returns of a fixed-weight portfolio, ``returns @ weights``, over the rows without NaN.

    ``returns`` is (T, n_assets); weights (n_assets,). Returns (series, kept-rows mask (T,)).
    """
    R = check_array("returns", returns, ndim=2, finite=False)
    w = check_array("weights", weights, shape=(R.shape[1],))
    keep = ~np.isnan(R).any(axis=1)
    return R[keep] @ w, keep


def compute_risk_metrics(weights, returns, *, risk_free: float = 0.0, periods: float = 252) -> RiskMetrics:
    """Risk metrics of ``returns @ weights`` (or of a 1D ``returns`` when ``weights`` is None)."""
    if weights is None:
        cleaned = clean_returns(returns)
        r, dropped = cleaned.values, cleaned.dropped
    else:
        r, keep = portfolio_returns(weights, returns)
        r, dropped = clean_returns(r).values, int((~keep).sum())
    mdd = m.max_drawdown(r)
    return RiskMetrics(
        annual_return=m.annual_return(r, periods),
        volatility=m.annual_volatility(r, periods),
        sharpe=m.sharpe_ratio(r, risk_free, periods),
        sortino=m.sortino_ratio(r, risk_free, periods),
        downside_deviation=m.downside_deviation(r, risk_free, periods),
        max_drawdown=mdd,
        max_drawdown_duration=m.max_drawdown_duration(r),
        calmar=m.calmar_ratio(r, periods),
        var_95=m.var(r, 0.05),
        cvar_95=m.cvar(r, 0.05),
        var_95_gaussian=m.var(r, 0.05, "gaussian"),
        cvar_95_gaussian=m.cvar(r, 0.05, "gaussian"),
        var_95_cornish_fisher=m.var(r, 0.05, "cornish_fisher"),
        cvar_95_cornish_fisher=m.cvar(r, 0.05, "cornish_fisher"),
        skew=m.skewness(r),
        kurtosis=m.excess_kurtosis(r),
        omega=m.omega_ratio(r, risk_free),
        tail_ratio=m.tail_ratio(r),
        hurst=hurst_rs(r) if r.size >= 40 else float("nan"),
        hurst_dfa=hurst_dfa(r) if r.size >= 40 else float("nan"),
        half_life=half_life(np.cumsum(np.log1p(r))),
        n_obs=int(r.size),
        dropped_nan=dropped,
    )
