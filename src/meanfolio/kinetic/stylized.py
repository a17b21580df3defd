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
    """ln(p_{k+1} / p_k), shape (n - 1,); prices must be finite and > 0."""
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
    """Fisher's excess kurtosis (0 for a normal law), biased moment estimator as scipy's default."""
    return float(stats.kurtosis(_returns(returns)))


def qq_normal(returns) -> tuple[np.ndarray, np.ndarray]:
    """(normal quantiles, standardised sorted returns) with Blom plotting positions."""
    r = _returns(returns)
    z = np.sort((r - r.mean()) / r.std(ddof=1))
    n = z.size
    q = stats.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    return q, z


def hill_tail_index(values, *, k: int | None = None, tail: str = "right") -> float:
    """Hill estimator of the tail index alpha (P(X > x) ~ x^-alpha) from the k largest values.

    ``tail`` = "right", "left" or "both" (absolute values). Default k = sqrt(n).
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
    """Sample autocorrelation at lags 1..lags (the usual biased estimator, as statsmodels' acf)."""
    x = _returns(x)
    lags = check_integer("lags", lags, low=1, high=x.size - 1)
    d = x - x.mean()
    denom = np.dot(d, d)
    return np.array([np.dot(d[:-k], d[k:]) / denom for k in range(1, lags + 1)])


def jarque_bera(returns) -> tuple[float, float]:
    """(statistic, p-value) of the Jarque-Bera normality test."""
    r = _returns(returns)
    n = r.size
    s = stats.skew(r)
    k = stats.kurtosis(r)
    jb = n / 6.0 * (s**2 + k**2 / 4.0)
    return float(jb), float(stats.chi2.sf(jb, 2))


def stylized_facts(returns, *, lags: int = 10, alpha: float = 0.05) -> dict:
    """Summary: moments, tail index, JB test and autocorrelations of r and |r|."""
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
