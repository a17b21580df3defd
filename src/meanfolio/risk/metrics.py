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

from . import _kernels as kern
from ._series import as_1d, columnwise, vectorized

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


@vectorized
def annual_return(r, periods: float = 252):
    """CAGR: ``prod(1 + r)^(periods / T) - 1``."""
    return np.prod(1.0 + r, axis=0) ** (periods / r.shape[0]) - 1.0


@vectorized
def annual_volatility(r, periods: float = 252):
    """``std(r, ddof=1) * sqrt(periods)``."""
    _, ss, _ = kern.column_stats(np.ascontiguousarray(r.reshape(r.shape[0], -1)), 0.0)
    out = np.sqrt(ss / (r.shape[0] - 1) * periods)
    return out if r.ndim == 2 else out[0]


@vectorized
def sharpe_ratio(r, risk_free: float = 0.0, periods: float = 252):
    """``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods)``."""
    mean, ss, _ = kern.column_stats(np.ascontiguousarray(r.reshape(r.shape[0], -1)), 0.0)
    out = (mean - risk_free) / np.sqrt(ss / (r.shape[0] - 1)) * np.sqrt(periods)  # rf cancels in the deviation
    return out if r.ndim == 2 else out[0]


@vectorized
def downside_deviation(r, required_return: float = 0.0, periods: float = 252):
    """``sqrt(mean(min(r - required, 0)^2)) * sqrt(periods)`` (required return per period)."""
    return np.sqrt(np.mean(np.minimum(r - required_return, 0.0) ** 2, axis=0)) * np.sqrt(periods)


@vectorized
def sortino_ratio(r, required_return: float = 0.0, periods: float = 252):
    """``mean(r - required) * periods / downside_deviation``."""
    mean, _, down = kern.column_stats(np.ascontiguousarray(r.reshape(r.shape[0], -1)), required_return)
    out = (mean - required_return) * periods / (np.sqrt(down / r.shape[0]) * np.sqrt(periods))
    return out if r.ndim == 2 else out[0]


def drawdown_series(returns) -> np.ndarray:
    """Drawdown after each period, ``wealth / running peak - 1`` (<= 0), shape (T,)."""
    r = as_1d(returns, min_size=1)
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    peak = np.maximum.accumulate(wealth)
    return (wealth / peak - 1.0)[1:]


@vectorized
def max_drawdown(r):
    """Largest peak-to-trough loss of compounded wealth (a negative number, or 0)."""
    out = kern.column_max_drawdown(np.ascontiguousarray(r.reshape(r.shape[0], -1)))  # wealth 1 is the first peak
    return out if r.ndim == 2 else out[0]


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


@vectorized
def skewness(r):
    """Sample skewness (biased moment estimator, as scipy.stats.skew)."""
    return stats.skew(r, axis=0)


@vectorized
def excess_kurtosis(r):
    """Fisher's excess kurtosis (0 for a normal law)."""
    return stats.kurtosis(r, axis=0)


def _cornish_fisher_z(u: np.ndarray | float, s: float, k: float):
    z = stats.norm.ppf(u)
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


@vectorized
def var(r, level: float = 0.05, method: str = "historical"):
    """Value at risk: the ``level`` quantile of the return (negative = loss).

    historical: ``np.percentile(r, 100 level)`` (linear interpolation, as
    empyrical); gaussian: ``mu + sigma z_level``; cornish_fisher: the same with
    z corrected for skewness S and excess kurtosis K,
    ``z + (z^2-1)S/6 + (z^3-3z)K/24 - (2z^3-5z)S^2/36``.
    """
    level = check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, VAR_METHODS)
    if method == "historical":
        return np.percentile(r, 100 * level, axis=0)
    mu, sigma = np.mean(r, axis=0), np.std(r, ddof=1, axis=0)
    if method == "gaussian":
        return mu + sigma * stats.norm.ppf(level)
    return mu + sigma * _cornish_fisher_z(level, stats.skew(r, axis=0), stats.kurtosis(r, axis=0))


@vectorized
def cvar(r, level: float = 0.05, method: str = "historical"):
    """Conditional VaR (expected shortfall): mean return in the worst ``level`` tail.

    historical: mean of the ``floor((T - 1) level) + 1`` smallest returns (as
    empyrical); gaussian: ``mu - sigma phi(z_level) / level``; cornish_fisher:
    ``(1/level) int_0^level q_CF(u) du`` by quadrature.
    """
    level = check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, VAR_METHODS)
    if method == "historical":
        k = int((r.shape[0] - 1) * level)
        return np.mean(np.partition(r, k, axis=0)[: k + 1], axis=0)
    mu, sigma = np.mean(r, axis=0), np.std(r, ddof=1, axis=0)
    if method == "gaussian":
        return mu - sigma * stats.norm.pdf(stats.norm.ppf(level)) / level
    s, k = np.atleast_1d(stats.skew(r, axis=0)), np.atleast_1d(stats.kurtosis(r, axis=0))
    tails = [integrate.quad(lambda u, a=a, b=b: _cornish_fisher_z(u, a, b), 0.0, level, limit=200)[0]
             for a, b in zip(s, k, strict=True)]  # fmt: skip
    out = mu + sigma * np.array(tails) / level
    return out if r.ndim == 2 else out[0]


@columnwise
def omega_ratio(returns, risk_free: float = 0.0, required_return: float = 0.0, periods: float = 252) -> float:
    """Gains over losses relative to the threshold ``(1 + required)^(1/periods) - 1`` (as empyrical)."""
    r = as_1d(returns)
    threshold = (1.0 + required_return) ** (1.0 / periods) - 1.0 if required_return else 0.0
    excess = r - risk_free - threshold
    losses = -np.sum(excess[excess < 0])
    return float(np.sum(excess[excess > 0]) / losses) if losses > 0 else float("nan")


@vectorized
def tail_ratio(r):
    """``|95th percentile| / |5th percentile|`` of the returns."""
    return np.abs(np.percentile(r, 95, axis=0)) / np.abs(np.percentile(r, 5, axis=0))
