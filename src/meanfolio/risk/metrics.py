"""Performance and risk metrics of periodic simple returns.

Conventions (as in empyrical): returns are simple per-period returns;
``periods`` is the annualisation factor (252 for daily data); the risk-free
rate ``risk_free`` is per period. VaR, CVaR and drawdowns are **signed
returns**: negative numbers are losses (``var(r, 0.05) = -0.021`` means a
2.1 % loss is exceeded 5 % of the time). Every function accepts a 1D array or
a (T, n_assets) array (one value per column); NaNs are dropped.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from meanfolio._validation import check_choice, check_number

from ._series import as_1d, columnwise

__all__ = [
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "cvar",
    "downside_deviation",
    "drawdown_series",
    "excess_kurtosis",
    "max_drawdown",
    "max_drawdown_duration",
    "omega_ratio",
    "sharpe_ratio",
    "skewness",
    "sortino_ratio",
    "tail_ratio",
    "var",
]

VAR_METHODS = ("historical", "gaussian", "cornish_fisher")


@columnwise
def annual_return(returns, periods: float = 252) -> float:
    """CAGR: ``prod(1 + r)^(periods / T) - 1``."""
    r = as_1d(returns)
    return float(np.prod(1.0 + r) ** (periods / r.size) - 1.0)


@columnwise
def annual_volatility(returns, periods: float = 252) -> float:
    """``std(r, ddof=1) * sqrt(periods)``."""
    r = as_1d(returns)
    return float(np.std(r, ddof=1) * np.sqrt(periods))


@columnwise
def sharpe_ratio(returns, risk_free: float = 0.0, periods: float = 252) -> float:
    """``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods)``."""
    r = as_1d(returns) - risk_free
    return float(np.mean(r) / np.std(r, ddof=1) * np.sqrt(periods))


@columnwise
def downside_deviation(returns, required_return: float = 0.0, periods: float = 252) -> float:
    """``sqrt(mean(min(r - required, 0)^2)) * sqrt(periods)`` (required return per period)."""
    r = as_1d(returns) - required_return
    return float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) * np.sqrt(periods))


@columnwise
def sortino_ratio(returns, required_return: float = 0.0, periods: float = 252) -> float:
    """``mean(r - required) * periods / downside_deviation``."""
    r = as_1d(returns)
    return float(np.mean(r - required_return) * periods / downside_deviation(r, required_return, periods))


def drawdown_series(returns) -> np.ndarray:
    """Drawdown after each period, ``wealth / running peak - 1`` (<= 0), shape (T,)."""
    r = as_1d(returns, min_size=1)
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    peak = np.maximum.accumulate(wealth)
    return (wealth / peak - 1.0)[1:]


@columnwise
def max_drawdown(returns) -> float:
    """Largest peak-to-trough loss of compounded wealth (a negative number, or 0)."""
    return float(min(0.0, drawdown_series(returns).min()))


@columnwise
def max_drawdown_duration(returns) -> int:
    """Longest number of periods spent below a previous peak (peak to recovery, or to the end)."""
    dd = drawdown_series(returns)
    longest = current = 0
    for below in dd < 0:
        current = current + 1 if below else 0
        longest = max(longest, current)
    return int(longest)


@columnwise
def calmar_ratio(returns, periods: float = 252) -> float:
    """``annual_return / |max_drawdown|`` (nan if there is no drawdown)."""
    mdd = max_drawdown(returns)
    return float(annual_return(returns, periods) / abs(mdd)) if mdd < 0 else float("nan")


@columnwise
def skewness(returns) -> float:
    """Sample skewness (biased moment estimator, as scipy.stats.skew)."""
    return float(stats.skew(as_1d(returns)))


@columnwise
def excess_kurtosis(returns) -> float:
    """Fisher's excess kurtosis (0 for a normal law)."""
    return float(stats.kurtosis(as_1d(returns)))


def _cornish_fisher_z(u: np.ndarray | float, s: float, k: float):
    z = stats.norm.ppf(u)
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


@columnwise
def var(returns, level: float = 0.05, method: str = "historical") -> float:
    """Value at risk: the ``level`` quantile of the return (negative = loss).

    historical: ``np.percentile(r, 100 level)`` (linear interpolation, as
    empyrical); gaussian: ``mu + sigma z_level``; cornish_fisher: the same with
    z corrected for skewness S and excess kurtosis K,
    ``z + (z^2-1)S/6 + (z^3-3z)K/24 - (2z^3-5z)S^2/36``.
    """
    r = as_1d(returns)
    level = check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, VAR_METHODS)
    if method == "historical":
        return float(np.percentile(r, 100 * level))
    mu, sigma = np.mean(r), np.std(r, ddof=1)
    if method == "gaussian":
        return float(mu + sigma * stats.norm.ppf(level))
    return float(mu + sigma * _cornish_fisher_z(level, stats.skew(r), stats.kurtosis(r)))


@columnwise
def cvar(returns, level: float = 0.05, method: str = "historical") -> float:
    """Conditional VaR (expected shortfall): mean return in the worst ``level`` tail.

    historical: mean of the ``floor((T - 1) level) + 1`` smallest returns (as
    empyrical); gaussian: ``mu - sigma phi(z_level) / level``; cornish_fisher:
    ``(1/level) int_0^level q_CF(u) du`` by quadrature.
    """
    r = as_1d(returns)
    level = check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, VAR_METHODS)
    if method == "historical":
        k = int((r.size - 1) * level)
        return float(np.mean(np.partition(r, k)[: k + 1]))
    mu, sigma = np.mean(r), np.std(r, ddof=1)
    if method == "gaussian":
        return float(mu - sigma * stats.norm.pdf(stats.norm.ppf(level)) / level)
    s, k = stats.skew(r), stats.kurtosis(r)
    integral, _ = integrate.quad(lambda u: _cornish_fisher_z(u, s, k), 0.0, level, limit=200)
    return float(mu + sigma * integral / level)


@columnwise
def omega_ratio(returns, risk_free: float = 0.0, required_return: float = 0.0, periods: float = 252) -> float:
    """Gains over losses relative to the threshold ``(1 + required)^(1/periods) - 1`` (as empyrical)."""
    r = as_1d(returns)
    threshold = (1.0 + required_return) ** (1.0 / periods) - 1.0 if required_return else 0.0
    excess = r - risk_free - threshold
    losses = -np.sum(excess[excess < 0])
    return float(np.sum(excess[excess > 0]) / losses) if losses > 0 else float("nan")


@columnwise
def tail_ratio(returns) -> float:
    """``|95th percentile| / |5th percentile|`` of the returns."""
    r = as_1d(returns)
    return float(abs(np.percentile(r, 95)) / abs(np.percentile(r, 5)))
