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
    r"""Risk report of one return series (conventions of ``meanfolio.risk.metrics``).

    Built by :func:`compute_risk_metrics`. VaR/CVaR/drawdowns are signed returns
    (negative = loss); ``var_95`` is the historical 5 % quantile, ``cvar_95`` the
    mean below it; ``_gaussian`` and ``_cornish_fisher`` variants are parametric.
    ``half_life`` is that of the log wealth (periods; inf when it does not revert).
    Below, :math:`r_f` is the per-period ``risk_free`` given to :func:`compute_risk_metrics`.

    Attributes
    ----------
    annual_return : float
        Compound annual growth rate, :func:`~meanfolio.risk.metrics.annual_return`.
    volatility : float
        Annualised standard deviation (ddof = 1), :func:`~meanfolio.risk.metrics.annual_volatility`.
    sharpe : float
        Annualised Sharpe ratio of the excess returns over :math:`r_f`.
    sortino : float
        Annualised Sortino ratio with the required return :math:`r_f` per period.
    downside_deviation : float
        Annualised downside deviation below :math:`r_f`.
    max_drawdown : float
        Maximum drawdown of the compounded wealth (<= 0).
    max_drawdown_duration : int
        Longest run of periods below a previous peak.
    calmar : float
        ``annual_return / |max_drawdown|`` (nan without drawdown).
    var_95, cvar_95 : float
        Historical VaR and CVaR at level 0.05, per period.
    var_95_gaussian, cvar_95_gaussian : float
        Normal VaR and CVaR at level 0.05, per period.
    var_95_cornish_fisher, cvar_95_cornish_fisher : float
        Cornish-Fisher VaR and CVaR at level 0.05, per period.
    skew : float
        Sample skewness (biased estimator).
    kurtosis : float
        Excess kurtosis (biased estimator, 0 for a normal law).
    omega : float
        Omega ratio with the per-period threshold :math:`r_f` (required return 0).
    tail_ratio : float
        ``|q_0.95| / |q_0.05|`` of the returns.
    hurst, hurst_dfa : float
        Hurst exponent of the returns by corrected R/S and by DFA-1 (nan for fewer
        than 40 returns).
    half_life : float
        Mean-reversion half-life of the log wealth :math:`\sum_t \log(1 + r_t)`, in periods.
    n_obs : int
        Number of returns used.
    dropped_nan : int
        Number of NaN returns (or rows with a NaN) dropped.
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
        """The fields as a dict ``{name: value}``, in the order of the attributes."""
        return asdict(self)

    def to_frame(self):
        """A polars DataFrame with columns metric, value."""
        import polars as pl

        d = self.as_dict()
        return pl.DataFrame({"metric": list(d), "value": [float(v) for v in d.values()]})


def portfolio_returns(weights, returns) -> tuple[np.ndarray, np.ndarray]:
    r"""Returns of a fixed-weight (rebalanced every period) portfolio, :math:`r_{p,t} = \sum_i w_i r_{t,i}`.

    Rows with a NaN in any asset are dropped (not filled), so the series is
    ``returns[keep] @ weights``. The weights are used as given (not normalised).

    Parameters
    ----------
    weights : array_like, shape (n_assets,)
        Portfolio weights (finite), in fractions of wealth.
    returns : array_like, shape (T, n_assets)
        Periodic simple returns of the assets; NaN marks a missing value.

    Returns
    -------
    series : ndarray, shape (T_kept,)
        Portfolio returns over the kept rows.
    keep : ndarray of bool, shape (T,)
        True for the rows without NaN.

    Raises
    ------
    ValueError
        If ``returns`` is not 2D or ``weights`` does not have shape (n_assets,) or
        is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[0.01, 0.02], [np.nan, 0.01], [-0.02, 0.0], [0.03, -0.01]])
    >>> r, keep = portfolio_returns([0.5, 0.5], R)
    >>> r.round(4), keep
    (array([ 0.015, -0.01 ,  0.01 ]), array([ True, False,  True,  True]))
    """
    R = check_array("returns", returns, ndim=2, finite=False)
    w = check_array("weights", weights, shape=(R.shape[1],))
    keep = ~np.isnan(R).any(axis=1)
    return R[keep] @ w, keep


def compute_risk_metrics(weights, returns, *, risk_free: float = 0.0, periods: float = 252) -> RiskMetrics:
    r"""Every risk metric of a fixed-weight portfolio (or of one return series) in a :class:`RiskMetrics`.

    The series is :func:`portfolio_returns` ``(weights, returns)`` (rows with a NaN
    dropped), or the 1D ``returns`` themselves (NaNs dropped) when ``weights`` is
    None. The metrics follow the conventions of :mod:`meanfolio.risk.metrics`
    (empyrical-compatible): annualisation by ``periods``, ``risk_free`` per period
    used as the Sharpe risk-free rate, the Sortino / downside-deviation required
    return and the Omega threshold; VaR and CVaR at level 0.05 (historical,
    gaussian and Cornish-Fisher), per period and negative for losses; Hurst
    exponents only from 40 returns on (nan below); the half-life of the log
    wealth :math:`\sum_t \log(1 + r_t)`.

    Parameters
    ----------
    weights : array_like, shape (n_assets,), or None
        Portfolio weights; None when ``returns`` is already one series.
    returns : array_like, shape (T, n_assets), or shape (T,) when ``weights`` is None
        Periodic simple returns (> -1).
    risk_free : float
        Risk-free rate per period.
    periods : float
        Periods per year (252 for daily returns).

    Returns
    -------
    RiskMetrics
        With ``n_obs`` the returns used and ``dropped_nan`` those dropped.

    Raises
    ------
    ValueError
        If a portfolio return is <= -1 or infinite, fewer than 2 returns are left,
        or the shapes of ``weights`` and ``returns`` do not match.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).normal(0.0005, 0.01, 500)
    >>> m = compute_risk_metrics(None, r)
    >>> m.n_obs, round(m.volatility, 2), round(m.sharpe, 2), m.var_95 < 0, m.cvar_95 < m.var_95
    (500, 0.16, 0.36, True, True)
    >>> m.max_drawdown_duration, round(m.max_drawdown, 3)
    (355, -0.174)
    """
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
