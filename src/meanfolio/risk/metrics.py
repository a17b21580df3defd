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
    r"""Annualised volatility, the sample standard deviation scaled by :math:`\sqrt{P}`.

    .. math:: \sigma_{ann} = \sqrt{P} \, \sqrt{\frac{1}{T - 1} \sum_t (r_t - \bar r)^2}

    (ddof = 1, as ``empyrical.annual_volatility``).

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column);
        any finite value (log returns below -1 too).
    periods : float
        Periods per year P (252 for daily returns).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        In return units per year^(1/2) (0.2 = 20 % a year).

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.01, -0.02, 0.015, 0.003, -0.004])
    >>> round(float(annual_volatility(r)), 6)  # np.std(r, ddof=1) * np.sqrt(252)
    0.216906
    """
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
    r"""Annualised downside deviation below a required return.

    .. math:: DD = \sqrt{P} \, \sqrt{\frac{1}{T} \sum_t \min(r_t - r_{req}, 0)^2},

    the mean over **all** T periods (periods above ``required_return`` count
    as 0), as ``empyrical.downside_risk``.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).
    required_return : float
        Minimum acceptable return :math:`r_{req}` **per period** (not annualised).
    periods : float
        Periods per year P.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        In return units per year^(1/2); 0 when no return is below ``required_return``.

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    References
    ----------
    .. [1] Sortino, F. A. and Price, L. N. (1994), Performance measurement in a
       downside risk framework, J. Investing 3(3), 59-64.

    Examples
    --------
    >>> r = [0.01, -0.02, 0.015, 0.003, -0.004]
    >>> round(float(downside_deviation(r)), 6)  # sqrt((0.02^2 + 0.004^2) / 5 * 252)
    0.144798
    """
    return np.sqrt(np.mean(np.minimum(r - required_return, 0.0) ** 2, axis=0)) * np.sqrt(periods)


@vectorized
def sortino_ratio(r, required_return: float = 0.0, periods: float = 252):
    r"""Annualised Sortino ratio: mean excess over the required return per unit of downside deviation.

    .. math:: SoR = \frac{P \, \overline{r - r_{req}}}{DD},
              \qquad DD = \sqrt{P} \sqrt{\frac{1}{T} \sum_t \min(r_t - r_{req}, 0)^2}

    (:func:`downside_deviation`; as ``empyrical.sortino_ratio``).

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).
    required_return : float
        Minimum acceptable return :math:`r_{req}` per period.
    periods : float
        Periods per year P.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        ``inf`` (or ``nan`` for a zero mean excess) when no return is below
        ``required_return`` (numpy's division by zero, with a RuntimeWarning).

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    References
    ----------
    .. [1] Sortino, F. A. and Price, L. N. (1994), Performance measurement in a
       downside risk framework, J. Investing 3(3), 59-64.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.01, -0.02, 0.015, 0.003, -0.004])
    >>> round(float(sortino_ratio(r)), 6)  # 252 * mean(r) / downside_deviation(r)
    1.392286
    """
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
    r"""Longest run of consecutive periods spent below a previous peak of compounded wealth.

    The longest run of t with :math:`W_t < \max_{s \le t} W_s` (wealth
    :math:`W_t = \prod_{s \le t} (1 + r_s)`, starting at 1, the first peak): the
    periods from the first loss after a peak up to, but not including, the
    period that recovers it (or to the end of the series).

    Parameters
    ----------
    returns : array_like, shape (T,) or (T, n)
        Simple returns >= -1 (NaNs dropped per column), at least 1 value.

    Returns
    -------
    int (number of periods), or ndarray (n,) of int for 2D input
        0 when wealth never falls below a previous peak.

    Raises
    ------
    ValueError
        If a return is < -1 (negative wealth) or infinite, or no value is left.

    Examples
    --------
    >>> max_drawdown_duration([0.1, -0.5, 0.2, 0.9, -0.1])  # below the peak 1.1 for 2 periods
    2
    >>> max_drawdown_duration([0.01, 0.02])
    0
    """
    dd = drawdown_series(returns)
    longest = current = 0
    for below in dd < 0:
        current = current + 1 if below else 0
        longest = max(longest, current)
    return int(longest)


@columnwise
def calmar_ratio(returns, periods: float = 252) -> float:
    r"""Calmar ratio: compound annual return over the absolute maximum drawdown.

    .. math:: CR = \frac{\prod_t (1 + r_t)^{P/T} - 1}{|MDD|},
              \qquad MDD = \min_t \frac{W_t}{\max_{s \le t} W_s} - 1

    (:func:`annual_return` and :func:`max_drawdown` over the whole series, as
    ``empyrical.calmar_ratio``).

    Parameters
    ----------
    returns : array_like, shape (T,) or (T, n)
        Simple returns >= -1 (NaNs dropped per column), at least 2 values.
    periods : float
        Periods per year P.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        ``nan`` when there is no drawdown (MDD = 0).

    Raises
    ------
    ValueError
        If a return is < -1 (negative wealth) or infinite, or fewer than 2 values are left.

    References
    ----------
    .. [1] Young, T. W. (1991), Calmar ratio: a smoother tool, Futures 20(1), 40.

    Examples
    --------
    >>> round(calmar_ratio([0.1, -0.5, 0.2, 0.9], periods=4), 4)  # annual return 0.254 over |-0.5|
    0.508
    >>> calmar_ratio([0.01, 0.02])
    nan
    """
    mdd = max_drawdown(returns)
    return float(annual_return(returns, periods) / abs(mdd)) if mdd < 0 else float("nan")


@vectorized
def skewness(r):
    r"""Sample skewness, the biased moment estimator of ``scipy.stats.skew`` (``bias=True``).

    .. math:: \gamma_3 = \frac{m_3}{m_2^{3/2}}, \qquad m_k = \frac{1}{T} \sum_t (r_t - \bar r)^k.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Dimensionless; 0 for a symmetric law, negative for a long left (loss) tail.

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    Examples
    --------
    >>> round(float(skewness([0.01, -0.02, 0.015, 0.003, -0.004])), 6)
    -0.597892
    """
    return stats.skew(r, axis=0)


@vectorized
def excess_kurtosis(r):
    r"""Fisher's excess kurtosis, the biased moment estimator of ``scipy.stats.kurtosis``.

    .. math:: \kappa = \frac{m_4}{m_2^2} - 3, \qquad m_k = \frac{1}{T} \sum_t (r_t - \bar r)^k

    (``fisher=True, bias=True``: 0 for a normal law, > 0 for fat tails).

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Dimensionless.

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    Examples
    --------
    >>> round(float(excess_kurtosis([0.01, -0.02, 0.015, 0.003, -0.004])), 6)
    -0.888202
    """
    return stats.kurtosis(r, axis=0)


def _cornish_fisher_z(u: np.ndarray | float, s: float, k: float):
    z = stats.norm.ppf(u)
    return z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36


@vectorized
def var(r, level: float = 0.05, method: str = "historical"):
    r"""Value at risk: the ``level`` quantile of the periodic return (a signed return, negative = loss).

    With :math:`\alpha` = ``level``:

    - ``"historical"``: the empirical quantile :math:`q_\alpha(r)`,
      ``np.percentile(r, 100 alpha)`` with linear interpolation (as
      ``empyrical.value_at_risk``);
    - ``"gaussian"``: :math:`\bar r + s \, z_\alpha`, :math:`z_\alpha = \Phi^{-1}(\alpha)`,
      s the sample standard deviation (ddof = 1);
    - ``"cornish_fisher"``: :math:`\bar r + s \, z_{CF}` with the quantile corrected for the
      sample skewness S and excess kurtosis K (biased estimators, :func:`skewness`,
      :func:`excess_kurtosis`),

    .. math:: z_{CF} = z_\alpha + \frac{(z_\alpha^2 - 1) S}{6} + \frac{(z_\alpha^3 - 3 z_\alpha) K}{24}
              - \frac{(2 z_\alpha^3 - 5 z_\alpha) S^2}{36}.

    ``var(r, 0.05) = -0.021`` means a loss of more than 2.1 % in one period
    happens 5 % of the time. The result is per period (not annualised).

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).
    level : float
        Tail probability :math:`\alpha` in (0, 1): 0.05 for the 95 % VaR.
    method : {"historical", "gaussian", "cornish_fisher"}

    Returns
    -------
    float, or ndarray (n,) for 2D input

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1), ``method`` is unknown, or the returns
        contain infinities or fewer than 2 non-NaN values.

    References
    ----------
    .. [1] Jorion, P. (2007), Value at Risk: The New Benchmark for Managing
       Financial Risk, 3rd ed., McGraw-Hill.
    .. [2] Favre, L. and Galeano, J.-A. (2002), Mean-modified value-at-risk optimization
       with hedge funds, J. Alternative Investments 5(2), 21-25 (Cornish-Fisher VaR).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.02, -0.01, 0.005, -0.03, 0.012, 0.007, -0.015, 0.01, -0.005, 0.004])
    >>> round(float(var(r, 0.1)), 6)  # between the two worst returns, -0.03 and -0.015
    -0.0165
    >>> round(float(var(r, 0.1, "gaussian")), 6)
    -0.019226
    >>> round(float(var(r, 0.1, "cornish_fisher")), 6)
    -0.021089
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
    r"""Conditional VaR (expected shortfall): the mean return in the worst ``level`` tail (negative = loss).

    With :math:`\alpha` = ``level``:

    - ``"historical"``: the mean of the :math:`k + 1` smallest returns,
      :math:`k = \lfloor (T - 1) \alpha \rfloor` (as ``empyrical.conditional_value_at_risk``);
    - ``"gaussian"``: :math:`\bar r - s \, \varphi(z_\alpha) / \alpha`, the normal
      expected shortfall, :math:`z_\alpha = \Phi^{-1}(\alpha)`, s the sample standard
      deviation (ddof = 1);
    - ``"cornish_fisher"``: the mean of the Cornish-Fisher quantile over the tail,

    .. math:: CVaR_{CF} = \bar r + \frac{s}{\alpha} \int_0^\alpha z_{CF}(u) \, du,

    with :math:`z_{CF}(u)` the corrected quantile of :func:`var` (sample skewness and
    excess kurtosis), integrated by adaptive quadrature (``scipy.integrate.quad``).
    Per period, not annualised; :math:`CVaR \le VaR` for the historical and gaussian methods.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).
    level : float
        Tail probability :math:`\alpha` in (0, 1): 0.05 for the 95 % CVaR.
    method : {"historical", "gaussian", "cornish_fisher"}

    Returns
    -------
    float, or ndarray (n,) for 2D input

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1), ``method`` is unknown, or the returns
        contain infinities or fewer than 2 non-NaN values.

    References
    ----------
    .. [1] Rockafellar, R. T. and Uryasev, S. (2002), Conditional value-at-risk for
       general loss distributions, J. Banking & Finance 26(7), 1443-1471.
    .. [2] Acerbi, C. and Tasche, D. (2002), On the coherence of expected shortfall,
       J. Banking & Finance 26(7), 1487-1503.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.02, -0.01, 0.005, -0.03, 0.012, 0.007, -0.015, 0.01, -0.005, 0.004])
    >>> round(float(cvar(r, 0.1)), 6)  # k = floor(9 x 0.1) = 0: the worst return
    -0.03
    >>> round(float(cvar(r, 0.2)), 6)  # k = 1: mean of the two worst
    -0.0225
    >>> round(float(cvar(r, 0.1, "gaussian")), 6)
    -0.026254
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
    r"""Omega ratio: the sum of gains over the sum of losses relative to a per-period threshold.

    .. math:: \Omega = \frac{\sum_t \max(r_t - r_f - \tau, 0)}{\sum_t \max(\tau + r_f - r_t, 0)},
              \qquad \tau = (1 + R)^{1/P} - 1,

    with R = ``required_return`` an **annual** return de-annualised to the
    period (:math:`\tau = R` when P = 1), as ``empyrical.omega_ratio``.

    Parameters
    ----------
    returns : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).
    risk_free : float
        Risk-free rate :math:`r_f` per period.
    required_return : float
        Annual minimum acceptable return R.
    periods : float
        Periods per year P.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        ``nan`` when no return is below the threshold (no losses).

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    References
    ----------
    .. [1] Keating, C. and Shadwick, W. F. (2002), A universal performance measure,
       J. Performance Measurement 6(3), 59-84.

    Examples
    --------
    >>> r = [0.02, -0.01, 0.005, -0.03, 0.012, 0.007, -0.015, 0.01, -0.005, 0.004]
    >>> round(omega_ratio(r), 6)  # 0.058 of gains over 0.06 of losses
    0.966667
    """
    r = as_1d(returns, domain="any")
    threshold = (1.0 + required_return) ** (1.0 / periods) - 1.0 if required_return else 0.0
    excess = r - risk_free - threshold
    losses = -np.sum(excess[excess < 0])
    return float(np.sum(excess[excess > 0]) / losses) if losses > 0 else float("nan")


@vectorized
def tail_ratio(r):
    r"""Tail ratio: the right tail over the left tail, :math:`|q_{0.95}(r)| / |q_{0.05}(r)|`.

    Quantiles by ``np.percentile`` with linear interpolation, as ``empyrical.tail_ratio``;
    > 1 when the best 5 % of returns are larger in size than the worst 5 %.

    Parameters
    ----------
    r : array_like, shape (T,) or (T, n)
        Periodic returns, at least 2 non-NaN values (NaNs dropped per column).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Dimensionless; ``inf`` (with a RuntimeWarning) when the 5th percentile is 0.

    Raises
    ------
    ValueError
        If the returns contain infinities or fewer than 2 non-NaN values.

    Examples
    --------
    >>> r = [0.02, -0.01, 0.005, -0.03, 0.012, 0.007, -0.015, 0.01, -0.005, 0.004]
    >>> round(float(tail_ratio(r)), 6)  # 0.0164 / 0.02325
    0.705376
    """
    return np.abs(np.percentile(r, 95, axis=0)) / np.abs(np.percentile(r, 5, axis=0))
