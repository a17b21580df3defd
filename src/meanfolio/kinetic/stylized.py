"""Stylized facts of a return series (ours or real prices).

All functions take a 1D array (or anything numpy can read, e.g. a polars
Series) and refuse NaN and non-positive prices with a clear error.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from meanfolio._validation import check_array, check_integer, check_number

__all__ = [
    "autocorrelation",
    "excess_kurtosis",
    "hill_tail_index",
    "jarque_bera",
    "log_returns",
    "qq_normal",
    "stylized_facts",
]


def log_returns(prices) -> np.ndarray:
    r"""Log returns :math:`r_k = \ln(p_{k+1}/p_k)` of a price series.

    Parameters
    ----------
    prices : array_like, shape (n,)
        At least 2 finite prices > 0.

    Returns
    -------
    ndarray, shape (n - 1,)

    Raises
    ------
    ValueError
        If a price is not positive or there are fewer than 2.

    Examples
    --------
    >>> from meanfolio.kinetic import log_returns
    >>> log_returns([100.0, 110.0, 99.0]).round(4)
    array([ 0.0953, -0.1054])
    """
    p = check_array("prices", prices, ndim=1)
    if p.size < 2:
        raise ValueError(f"prices has {p.size} values which is not allowed: expected at least 2")
    if np.any(p <= 0):
        i = int(np.argmin(p))
        raise ValueError(f"prices has a non-positive value {float(p[i])!r} at index {i}: expected prices > 0")
    return np.diff(np.log(p))


def _returns(returns) -> np.ndarray:
    r = check_array("returns", returns, ndim=1)
    if r.size < 4:
        raise ValueError(f"returns has {r.size} values which is not allowed: expected at least 4")
    return r


def excess_kurtosis(returns) -> float:
    r"""Fisher's excess kurtosis :math:`m_4/m_2^2 - 3` (0 for a normal law).

    The biased moment estimator (scipy's default).

    Parameters
    ----------
    returns : array_like, shape (n,)
        At least 4 returns.

    Returns
    -------
    float
    """
    return float(stats.kurtosis(_returns(returns)))


def qq_normal(returns) -> tuple[np.ndarray, np.ndarray]:
    r"""Points of a normal QQ plot with Blom's plotting positions :math:`(k - 3/8)/(n + 1/4)`.

    Parameters
    ----------
    returns : array_like, shape (n,)
        At least 4 returns.

    Returns
    -------
    quantiles : ndarray, shape (n,)
        Standard normal quantiles.
    sample : ndarray, shape (n,)
        The standardised sorted returns.
    """
    r = _returns(returns)
    z = np.sort((r - r.mean()) / r.std(ddof=1))
    n = z.size
    q = stats.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    return q, z


def hill_tail_index(values, *, k: int | None = None, tail: str = "right") -> float:
    r"""Hill estimator of the tail index :math:`\alpha` (:math:`P(X > x) \sim x^{-\alpha}`) from the k largest values.

    .. math::

        \hat\alpha = \Big(\frac1k \sum_{i=1}^{k} \ln \frac{X_{(i)}}{X_{(k+1)}}\Big)^{-1},

    with :math:`X_{(1)} \ge X_{(2)} \ge \dots` the order statistics.

    Parameters
    ----------
    values : array_like, shape (n,)
        At least 4 values.
    k : int, optional
        Number of upper order statistics (default :math:`\lfloor\sqrt{n}\rfloor`).
    tail : {"right", "left", "both"}, default "right"
        Which tail ("both": absolute values).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``tail`` is unknown or the tail holds too few positive values.

    References
    ----------
    .. [1] B. M. Hill, "A simple general approach to inference about the tail of
       a distribution", Ann. Statist. 3 (1975).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.kinetic import hill_tail_index
    >>> r = np.random.default_rng(0).standard_t(3, 5000)   # tail index 3
    >>> round(hill_tail_index(r, tail="both"), 1)
    2.7
    """
    v = _returns(values)
    if tail == "left":
        v = -v
    elif tail == "both":
        v = np.abs(v)
    elif tail != "right":
        raise ValueError(f"tail = {tail!r} is not allowed: expected 'right', 'left' or 'both'")
    v = np.sort(v[v > 0])[::-1]
    k = int(np.sqrt(v.size)) if k is None else check_integer("k", k, low=2, high=v.size - 1)
    if v.size <= k:
        raise ValueError(f"only {v.size} positive values in the tail: expected more than k = {k}")
    return float(1.0 / np.mean(np.log(v[:k] / v[k])))


def autocorrelation(x, lags: int = 20) -> np.ndarray:
    r"""Sample autocorrelation at lags 1..``lags`` (the biased estimator, as statsmodels' ``acf``).

    :math:`\hat\rho_k = \sum_{t} d_t d_{t+k} / \sum_t d_t^2` with :math:`d = x - \bar x`.

    Parameters
    ----------
    x : array_like, shape (n,)
        At least 4 values.
    lags : int, default 20
        Largest lag, 1 <= lags < n.

    Returns
    -------
    ndarray, shape (lags,)
    """
    x = _returns(x)
    lags = check_integer("lags", lags, low=1, high=x.size - 1)
    d = x - x.mean()
    denom = np.dot(d, d)
    return np.array([np.dot(d[:-k], d[k:]) / denom for k in range(1, lags + 1)])


def jarque_bera(returns) -> tuple[float, float]:
    r"""The Jarque-Bera normality test, :math:`JB = \frac{n}{6}\big(S^2 + K^2/4\big)` against :math:`\chi^2_2`.

    Parameters
    ----------
    returns : array_like, shape (n,)
        At least 4 returns.

    Returns
    -------
    statistic : float
        JB, with S the skewness and K the excess kurtosis.
    pvalue : float

    References
    ----------
    .. [1] C. M. Jarque, A. K. Bera, "A test for normality of observations and
       regression residuals", Int. Stat. Rev. 55 (1987).
    """
    r = _returns(returns)
    n = r.size
    s = stats.skew(r)
    k = stats.kurtosis(r)
    jb = n / 6.0 * (s**2 + k**2 / 4.0)
    return float(jb), float(stats.chi2.sf(jb, 2))


def stylized_facts(returns, *, lags: int = 10, alpha: float = 0.05) -> dict:
    """The stylized facts of a return series: moments, tail index, normality test and autocorrelations.

    Parameters
    ----------
    returns : array_like, shape (n,)
        At least 4 returns.
    lags : int, default 10
        Autocorrelation lags.
    alpha : float, default 0.05
        Level of the Jarque-Bera test, in (0, 1).

    Returns
    -------
    dict
        ``n``, ``mean``, ``std``, ``skewness``, ``excess_kurtosis``,
        ``hill_index_both_tails``, ``jarque_bera``, ``jarque_bera_p``,
        ``normal_rejected``, ``acf_returns`` and ``acf_abs_returns`` (volatility clustering).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.kinetic import stylized_facts
    >>> facts = stylized_facts(np.random.default_rng(0).standard_t(3, 5000) * 0.01, lags=3)
    >>> facts["normal_rejected"], len(facts["acf_abs_returns"])
    (True, 3)
    """
    r = _returns(returns)
    alpha = check_number("alpha", alpha, low=0, high=1, low_inclusive=False, high_inclusive=False)
    jb, p = jarque_bera(r)
    lags = min(lags, r.size - 1)
    return {
        "n": int(r.size),
        "mean": float(r.mean()),
        "std": float(r.std(ddof=1)),
        "skewness": float(stats.skew(r)),
        "excess_kurtosis": excess_kurtosis(r),
        "hill_index_both_tails": hill_tail_index(r, tail="both"),
        "jarque_bera": jb,
        "jarque_bera_p": p,
        "normal_rejected": bool(p < alpha),
        "acf_returns": autocorrelation(r, lags).tolist(),
        "acf_abs_returns": autocorrelation(np.abs(r), lags).tolist(),
    }
