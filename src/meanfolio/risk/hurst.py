"""Long memory and mean reversion: Hurst exponent (R/S, DFA), half-life, fGn.

- :func:`hurst_rs`: rescaled range over non-overlapping windows, with the
  Anis-Lloyd (1976) expected R/S and Peters' (1994) small-sample factor
  (n - 1/2)/n, so that ``H = 0.5 + slope(log RS_n - log E[RS_n], log n)``
  (Weron 2002). Unbiased for white noise where plain R/S is not.
- :func:`hurst_dfa`: detrended fluctuation analysis (order 1) of the
  cumulated series; the slope of log F(n) on log n.
- :func:`half_life`: from the OLS fit ``dx_t = a + b x_{t-1} + e``: phi =
  1 + b and ``half-life = -ln 2 / ln(phi)`` periods (an AR(1) in levels).
- :func:`fractional_gaussian_noise`: exact fGn by Davies-Harte (circulant
  embedding), for tests and simulations.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_integer, check_number

from ._series import as_1d, columnwise

__all__ = ["expected_rs", "fractional_gaussian_noise", "half_life", "hurst_dfa", "hurst_rs"]


def _window_sizes(T: int, min_window: int, n_sizes: int = 20) -> np.ndarray:
    sizes = np.unique(np.floor(np.logspace(np.log10(min_window), np.log10(T // 2), n_sizes)).astype(int))
    return sizes[sizes >= min_window]


def expected_rs(n: int) -> float:
    """Anis-Lloyd expected R/S of n i.i.d. normals with Peters' correction."""
    i = np.arange(1, n)
    tail = np.sum(np.sqrt((n - i) / i))
    if n <= 340:
        front = np.exp(gammaln((n - 1) / 2) - gammaln(n / 2)) / np.sqrt(np.pi)
    else:
        front = 1.0 / np.sqrt(n * np.pi / 2)
    return float((n - 0.5) / n * front * tail)


def _rescaled_range(x: np.ndarray, n: int) -> float:
    blocks = x[: (x.size // n) * n].reshape(-1, n)
    dev = np.cumsum(blocks - blocks.mean(axis=1, keepdims=True), axis=1)
    R = dev.max(axis=1) - dev.min(axis=1)
    S = blocks.std(axis=1)
    ok = S > 0
    return float(np.mean(R[ok] / S[ok]))


@columnwise
def hurst_rs(returns, min_window: int = 10) -> float:
    """Hurst exponent by R/S with the Anis-Lloyd-Peters correction (0.5 for white noise)."""
    x = as_1d(returns, "series", 4 * check_integer("min_window", min_window, low=4), simple_returns=False)
    sizes = _window_sizes(x.size, min_window)
    rs = np.array([_rescaled_range(x, n) for n in sizes])
    ers = np.array([expected_rs(n) for n in sizes])
    slope = np.polyfit(np.log(sizes), np.log(rs) - np.log(ers), 1)[0]
    return float(0.5 + slope)


@columnwise
def hurst_dfa(returns, min_window: int = 10) -> float:
    """Hurst exponent by DFA-1 of the cumulated, demeaned series."""
    x = as_1d(returns, "series", 4 * check_integer("min_window", min_window, low=4), simple_returns=False)
    profile = np.cumsum(x - x.mean())
    sizes = _window_sizes(x.size, min_window)
    F = []
    for n in sizes:
        blocks = profile[: (profile.size // n) * n].reshape(-1, n)
        t = np.arange(n) - (n - 1) / 2
        slope = (blocks @ t) / (t @ t)
        resid = blocks - blocks.mean(axis=1, keepdims=True) - slope[:, None] * t
        F.append(np.sqrt(np.mean(resid**2)))
    return float(np.polyfit(np.log(sizes), np.log(F), 1)[0])


@columnwise
def half_life(prices_or_levels) -> float:
    """Mean-reversion half-life in periods of a level series (inf if it does not revert)."""
    x = as_1d(prices_or_levels, "levels", 3, simple_returns=False)
    lag, dx = x[:-1], np.diff(x)
    A = np.column_stack([np.ones_like(lag), lag])
    b = np.linalg.lstsq(A, dx, rcond=None)[0][1]
    phi = 1.0 + b
    return float(-np.log(2.0) / np.log(phi)) if 0.0 < phi < 1.0 else float("inf")


def fractional_gaussian_noise(n: int, hurst: float, *, seed: SeedLike = None) -> np.ndarray:
    """n samples of unit-variance fGn with Hurst exponent H in (0, 1) (Davies-Harte, exact)."""
    n = check_integer("n", n, low=2)
    H = check_number("hurst", hurst, low=0, high=1, low_inclusive=False, high_inclusive=False)
    rng = as_generator(seed)
    k = np.arange(n + 1)
    gamma = 0.5 * (np.abs(k - 1) ** (2 * H) - 2 * np.abs(k) ** (2 * H) + np.abs(k + 1) ** (2 * H))
    row = np.concatenate([gamma, gamma[-2:0:-1]])  # circulant of size 2n
    lam = np.fft.fft(row).real
    if np.any(lam < -1e-10):
        raise ValueError(f"hurst = {H} gives a non-embeddable covariance for n = {n}")
    lam = np.maximum(lam, 0.0)
    m = row.size
    z = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    w = np.fft.fft(np.sqrt(lam / m) * z)
    return w.real[:n]
