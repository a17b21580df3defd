"""Input handling shared by the risk functions: arrays of returns, NaNs dropped and counted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_array


@dataclass(frozen=True)
class Returns:
    """A cleaned 1D return series and how many NaN values were dropped."""

    values: np.ndarray
    dropped: int


def clean_returns(returns, *, name: str = "returns", min_size: int = 2, simple_returns: bool = True) -> Returns:
    """1D float array with NaNs removed; infinities (and, for simple returns, values <= -1) are refused."""
    r = check_array(name, returns, ndim=1, finite=False)
    nan = np.isnan(r)
    r = r[~nan]
    if np.any(~np.isfinite(r)):
        raise ValueError(f"{name} contains infinite values which is not allowed: expected finite returns")
    if simple_returns and np.any(r <= -1.0):
        i = int(np.argmin(r))
        raise ValueError(f"{name} has a return {float(r[i])!r} <= -1 which is not allowed: expected returns > -1")
    if r.size < min_size:
        raise ValueError(f"{name} has {r.size} non-NaN values which is not allowed: expected at least {min_size}")
    return Returns(r, int(nan.sum()))


def as_1d(returns, name: str = "returns", min_size: int = 2, simple_returns: bool = True) -> np.ndarray:
    return clean_returns(returns, name=name, min_size=min_size, simple_returns=simple_returns).values


def vectorized(func):
    """Run a metric written with ``axis=0`` numpy operations on 1D or NaN-free (T, n) input at once.

    1D input has its NaNs dropped (a float comes back); a (T, n) array with
    NaNs falls back to one column at a time (each with its own NaNs dropped).
    """

    def wrapper(returns, *args, **kwargs):
        arr = np.asarray(returns, dtype=np.float64)
        if arr.ndim == 2:
            # one pass catches NaN, -inf and r <= -1 (comparisons with NaN are False), one more +inf
            if arr.shape[0] < 2 or not (arr > -1.0).all() or np.isinf(arr).any():
                if np.isnan(arr).any():
                    return np.array([wrapper(arr[:, j], *args, **kwargs) for j in range(arr.shape[1])])
                for j in range(arr.shape[1]):
                    clean_returns(arr[:, j])  # raises with the column's problem
            return np.asarray(func(arr, *args, **kwargs), dtype=np.float64)
        return float(func(clean_returns(arr).values, *args, **kwargs))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper


def columnwise(func):
    """Apply a 1D metric to each column of a (T, n) array (NaNs dropped per column)."""

    def wrapper(returns, *args, **kwargs):
        arr = np.asarray(returns, dtype=np.float64)
        if arr.ndim == 2:
            return np.array([func(arr[:, j], *args, **kwargs) for j in range(arr.shape[1])])
        return func(arr, *args, **kwargs)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    wrapper.__wrapped__ = func
    return wrapper
