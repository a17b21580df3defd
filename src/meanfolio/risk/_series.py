"""Input handling shared by the risk functions: arrays of returns, NaNs dropped and counted.

Domains of the returns (``domain=``):

- "simple" (default of :func:`clean_returns`): r > -1, a simple return that leaves some wealth;
- "compounding": r >= -1, for metrics that compound ``1 + r`` (CAGR, drawdowns): a total loss
  (r = -1) is defined, r < -1 (negative wealth) is refused with a message pointing to log returns;
- "any": every finite value, for metrics that are moments or quantiles of the series (Sharpe,
  volatility, VaR, ...), defined for log returns below -1 too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_array


@dataclass(frozen=True)
class Returns:
    """A cleaned 1D return series and how many NaN values were dropped."""

    values: np.ndarray
    dropped: int


DOMAINS = ("simple", "compounding", "any")


def clean_returns(returns, *, name: str = "returns", min_size: int = 2, simple_returns: bool = True,
                  domain: str | None = None) -> Returns:  # fmt: skip
    """1D float array with NaNs removed; infinities and values outside ``domain`` are refused.

    ``domain`` (see the module docstring) defaults to "simple" when
    ``simple_returns`` is true, else "any".
    """
    domain = domain or ("simple" if simple_returns else "any")
    r = check_array(name, returns, ndim=1, finite=False)
    nan = np.isnan(r)
    r = r[~nan]
    if np.any(~np.isfinite(r)):
        raise ValueError(f"{name} contains infinite values which is not allowed: expected finite returns")
    if domain == "simple" and np.any(r <= -1.0):
        i = int(np.argmin(r))
        raise ValueError(f"{name} has a return {float(r[i])!r} <= -1 which is not allowed: expected returns > -1")
    if domain == "compounding" and np.any(r < -1.0):
        i = int(np.argmin(r))
        raise ValueError(
            f"{name} has a return {float(r[i])!r} < -1 which is not allowed: compounding it gives a "
            "negative wealth (expected simple returns >= -1; for log returns pass np.expm1(returns))"
        )
    if r.size < min_size:
        raise ValueError(f"{name} has {r.size} non-NaN values which is not allowed: expected at least {min_size}")
    return Returns(r, int(nan.sum()))


def as_1d(returns, name: str = "returns", min_size: int = 2, simple_returns: bool = True,
          domain: str | None = None) -> np.ndarray:  # fmt: skip
    """The values of :func:`clean_returns`."""
    return clean_returns(returns, name=name, min_size=min_size, simple_returns=simple_returns, domain=domain).values


def vectorized(func=None, *, domain: str = "any"):
    """Run a metric written with ``axis=0`` numpy operations on 1D or NaN-free (T, n) input at once.

    1D input has its NaNs dropped (a float comes back); a (T, n) array with
    NaNs falls back to one column at a time (each with its own NaNs dropped).
    Values outside ``domain`` ("any", "compounding" or "simple", see the
    module docstring) are refused. Use as ``@vectorized`` or ``@vectorized(domain=...)``.
    """
    if func is None:
        return lambda f: vectorized(f, domain=domain)

    def fine(arr):
        # one pass catches NaN and the domain (comparisons with NaN are False), one more the infinities
        if domain == "simple":
            ok = (arr > -1.0).all()
        elif domain == "compounding":
            ok = (arr >= -1.0).all()
        else:
            ok = not np.isnan(arr).any()
        return ok and not np.isinf(arr).any()

    def wrapper(returns, *args, **kwargs):
        arr = np.asarray(returns, dtype=np.float64)
        if arr.ndim == 2:
            if arr.shape[0] < 2 or not fine(arr):
                if np.isnan(arr).any():
                    return np.array([wrapper(arr[:, j], *args, **kwargs) for j in range(arr.shape[1])])
                for j in range(arr.shape[1]):
                    clean_returns(arr[:, j], domain=domain)  # raises with the column's problem
            return np.asarray(func(arr, *args, **kwargs), dtype=np.float64)
        return float(func(clean_returns(arr, domain=domain).values, *args, **kwargs))

    return functools.wraps(func)(wrapper)  # name, doc and module (doctests are found in the metric's module)


def columnwise(func):
    """Apply a 1D metric to each column of a (T, n) array (NaNs dropped per column)."""

    def wrapper(returns, *args, **kwargs):
        arr = np.asarray(returns, dtype=np.float64)
        if arr.ndim == 2:
            return np.array([func(arr[:, j], *args, **kwargs) for j in range(arr.shape[1])])
        return func(arr, *args, **kwargs)

    return functools.wraps(func)(wrapper)  # name, doc and module (doctests are found in the metric's module)
