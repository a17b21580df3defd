"""Performance and risk metrics of periodic simple returns.

Conventions (as in empyrical): returns are simple per-period returns;
``periods`` is the annualisation factor (252 for daily data); the risk-free
rate ``risk_free`` is per period. VaR, CVaR and drawdowns are **signed
returns**: negative numbers are losses (``var(r, 0.05) = -0.021`` means a
2.1 % loss is exceeded 5 % of the time). Every function accepts a 1D array or
a (T, n_assets) array (one value per column); NaNs are dropped.

Returns <= -1: moments and quantiles (volatility, Sharpe, Sortino, VaR,
CVaR, skewness, kurtosis, omega, tail ratio) are defined for any finite
values, so log returns below -1 are accepted; metrics that compound
``1 + r`` (annual return, drawdowns, Calmar) accept a total loss r = -1 and
refuse r < -1 (negative wealth) with a message.

A series without dispersion (sample standard deviation <= 1e-12 times its
largest absolute value, i.e. constant up to rounding) has an infinite or
undefined Sharpe ratio: ``sharpe_ratio`` returns ``+inf`` or ``-inf`` with the
sign of the mean excess return, and ``nan`` when that mean is 0, as empyrical
does, instead of a ratio of the mean to rounding noise (2.4e16 for a
constant 0.01).
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


@vectorized(domain="compounding")
def annual_return(r, periods: float = 252):
    r"""Compound annual growth rate, :math:`\prod_t (1 + r_t)^{P / T} - 1`.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Simple returns >= -1 (a total loss r = -1 gives -1); r < -1 (negative
        wealth) raises ValueError pointing to ``np.expm1`` for log returns.
    periods : float
        Periods per year P.

    Returns
    -------
    float, or ndarray (n,) for 2D input

    Examples
    --------
    >>> round(float(annual_return([0.01] * 252)), 6)  # 1 % a day for a year
    11.274002
    >>> float(annual_return([0.1, -1.0, 0.2]))
    -1.0
    """
    return np.prod(1.0 + r, axis=0) ** (periods / r.shape[0]) - 1.0


@vectorized
def annual_volatility(r, periods: float = 252):
    """``std(r, ddof=1) * sqrt(periods)``."""
    _, ss, _ = kern.column_stats(np.ascontiguousarray(r.reshape(r.shape[0], -1)), 0.0)
    out = np.sqrt(ss / (r.shape[0] - 1) * periods)
    return out if r.ndim == 2 else out[0]


@vectorized
def sharpe_ratio(r, risk_free: float = 0.0, periods: float = 252):
    r"""Annualised Sharpe ratio of periodic returns.

    .. math:: SR = \frac{\overline{r - r_f}}{s(r - r_f)} \sqrt{P},

    with :math:`s` the sample standard deviation (ddof = 1) and P
    ``periods`` per year (as ``empyrical.sharpe_ratio``).

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns; NaNs are dropped (per column). Any finite value is
        allowed (log returns below -1 too).
    risk_free : float
        Risk-free rate per period.
    periods : float
        Periods per year (252 for daily returns).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        A series without dispersion (:math:`s \le 10^{-12} \max|r|`, i.e.
        constant up to rounding) gives ``+inf`` / ``-inf`` with the sign of
        the mean excess return and ``nan`` when it is 0, as empyrical does.

    References
    ----------
    .. [1] Sharpe, W. F. (1994), The Sharpe ratio, J. Portfolio Management 21(1), 49-58.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.01, -0.02, 0.015, 0.003, -0.004])
    >>> round(float(sharpe_ratio(r)), 6)  # equal to empyrical.sharpe_ratio(r)
    0.929433
    >>> sharpe_ratio(np.full(250, 0.01)), sharpe_ratio(np.full(250, -0.01)), sharpe_ratio(np.zeros(250))
    (inf, -inf, nan)
    """
    r2 = np.ascontiguousarray(r.reshape(r.shape[0], -1))
    mean, ss, _ = kern.column_stats(r2, 0.0)
    sd = np.sqrt(ss / (r.shape[0] - 1))  # rf cancels in the deviation
    flat = sd <= 1e-12 * np.max(np.abs(r2), axis=0)
    level = r2[0] - risk_free  # a flat column's excess return, free of the mean's rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        limit = np.where(level == 0, np.nan, np.sign(level) * np.inf)
        out = np.where(flat, limit, (mean - risk_free) / sd * np.sqrt(periods))
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
    r"""Drawdown after each period, :math:`W_t / \max_{s \le t} W_s - 1` (<= 0).

    Parameters
    ----------
    returns : array_like, shape (T,)
        Simple returns >= -1 (NaNs dropped); wealth starts at 1 (the first peak).

    Returns
    -------
    ndarray, shape (T,)

    Examples
    --------
    >>> drawdown_series([0.1, -0.5, 0.2]).round(4)
    array([ 0. , -0.5, -0.4])
    """
    r = as_1d(returns, min_size=1, domain="compounding")
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    peak = np.maximum.accumulate(wealth)
    return (wealth / peak - 1.0)[1:]


@vectorized(domain="compounding")
def max_drawdown(r):
    r"""Largest peak-to-trough loss of compounded wealth, :math:`\min_t W_t / \max_{s \le t} W_s - 1`.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Simple returns >= -1 (r < -1 raises ValueError); wealth starts at 1.

    Returns
    -------
    float (a negative number, or 0), or ndarray (n,) for 2D input

    Examples
    --------
    >>> float(max_drawdown([0.1, -0.5, 0.2]))
    -0.5
    """
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
    r = as_1d(returns, domain="any")
    threshold = (1.0 + required_return) ** (1.0 / periods) - 1.0 if required_return else 0.0
    excess = r - risk_free - threshold
    losses = -np.sum(excess[excess < 0])
    return float(np.sum(excess[excess > 0]) / losses) if losses > 0 else float("nan")


@vectorized
def tail_ratio(r):
    """``|95th percentile| / |5th percentile|`` of the returns."""
    return np.abs(np.percentile(r, 95, axis=0)) / np.abs(np.percentile(r, 5, axis=0))
