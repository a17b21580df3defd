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
    r"""Expected rescaled range of n i.i.d. normals (Anis & Lloyd 1976) with Peters' correction.

    .. math:: E[R/S]_n = \frac{n - 1/2}{n} \,
              \frac{\Gamma((n - 1)/2)}{\sqrt{\pi} \, \Gamma(n/2)}
              \sum_{i=1}^{n-1} \sqrt{\frac{n - i}{i}},

    the Gamma ratio replaced by its limit :math:`1 / \sqrt{n \pi / 2}` for n > 340
    (where the Gamma functions overflow in the original formula); the factor
    (n - 1/2)/n is Peters' (1994) small-sample correction. :func:`hurst_rs`
    subtracts its log from the log R/S of each window size.

    Parameters
    ----------
    n : int
        Window length (number of observations), >= 2.

    Returns
    -------
    float
        Dimensionless; grows like :math:`\sqrt{n \pi / 2}` for large n.

    References
    ----------
    .. [1] Anis, A. A. and Lloyd, E. H. (1976), The expected value of the adjusted
       rescaled Hurst range of independent normal summands, Biometrika 63(1), 111-116.
    .. [2] Peters, E. E. (1994), Fractal Market Analysis, Wiley, New York.
    .. [3] Weron, R. (2002), Estimating long-range dependence: finite sample
       properties and confidence intervals, Physica A 312(1-2), 285-299.

    Examples
    --------
    >>> round(expected_rs(10), 4), round(expected_rs(100), 4)
    (2.8722, 11.396)
    """
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
    r"""Hurst exponent by rescaled-range (R/S) analysis with the Anis-Lloyd-Peters correction.

    The series x (increments, e.g. returns; not prices) is cut into non-overlapping
    windows of length n (the remainder at the end is dropped) for about 20 sizes n
    log-spaced from ``min_window`` to T/2. In each window the range R of the
    cumulated deviations from the window mean is divided by the window's standard
    deviation S (ddof = 0; windows with S = 0 are skipped) and the ratios are
    averaged to :math:`(R/S)_n`. The exponent is

    .. math:: H = \frac{1}{2} + \operatorname{slope}\big(\log (R/S)_n - \log E[R/S]_n
              \ \text{on}\ \log n\big)

    by least squares, with :math:`E[R/S]_n` of :func:`expected_rs` (Weron 2002),
    which removes the small-sample upward bias of the plain R/S slope:
    H = 0.5 for white noise, > 0.5 for persistent and < 0.5 for anti-persistent series.

    Parameters
    ----------
    returns : array_like, shape (T,) or (T, n)
        Increments (any finite values; NaNs dropped per column), at least
        ``4 * min_window`` non-NaN values.
    min_window : int
        Smallest window length, >= 4.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Dimensionless.

    Raises
    ------
    ValueError
        If ``min_window`` < 4, the series has fewer than ``4 * min_window`` non-NaN
        values, or contains infinities.

    References
    ----------
    .. [1] Hurst, H. E. (1951), Long-term storage capacity of reservoirs,
       Trans. American Society of Civil Engineers 116, 770-799.
    .. [2] Anis, A. A. and Lloyd, E. H. (1976), The expected value of the adjusted
       rescaled Hurst range of independent normal summands, Biometrika 63(1), 111-116.
    .. [3] Peters, E. E. (1994), Fractal Market Analysis, Wiley, New York.
    .. [4] Weron, R. (2002), Estimating long-range dependence: finite sample
       properties and confidence intervals, Physica A 312(1-2), 285-299.

    Examples
    --------
    >>> x = fractional_gaussian_noise(2048, 0.7, seed=1)  # persistent
    >>> bool(0.6 < hurst_rs(x) < 0.8)
    True
    >>> bool(0.4 < hurst_rs(fractional_gaussian_noise(2048, 0.5, seed=1)) < 0.6)  # white noise
    True
    """
    x = as_1d(returns, "series", 4 * check_integer("min_window", min_window, low=4), simple_returns=False)
    sizes = _window_sizes(x.size, min_window)
    rs = np.array([_rescaled_range(x, n) for n in sizes])
    ers = np.array([expected_rs(n) for n in sizes])
    slope = np.polyfit(np.log(sizes), np.log(rs) - np.log(ers), 1)[0]
    return float(0.5 + slope)


@columnwise
def hurst_dfa(returns, min_window: int = 10) -> float:
    r"""Hurst exponent by detrended fluctuation analysis of order 1 (DFA-1).

    The profile :math:`Y_t = \sum_{s \le t} (x_s - \bar x)` is cut into
    non-overlapping windows of length n (the remainder at the end is dropped),
    for about 20 sizes n log-spaced from ``min_window`` to T/2; a straight line
    is fitted by least squares in each window and

    .. math:: F(n) = \sqrt{\frac{1}{N_n n} \sum_{j=1}^{N_n} \sum_{t \in j}
              (Y_t - a_j - b_j t)^2}, \qquad H = \operatorname{slope}(\log F(n)\ \text{on}\ \log n),

    the root mean square of the residuals over all :math:`N_n` windows. For
    increments x (returns, fGn) H = 0.5 means no memory; unlike R/S, DFA removes
    local linear trends.

    Parameters
    ----------
    returns : array_like, shape (T,) or (T, n)
        Increments (any finite values; NaNs dropped per column), at least
        ``4 * min_window`` non-NaN values.
    min_window : int
        Smallest window length, >= 4.

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Dimensionless.

    Raises
    ------
    ValueError
        If ``min_window`` < 4, the series has fewer than ``4 * min_window`` non-NaN
        values, or contains infinities.

    References
    ----------
    .. [1] Peng, C.-K., Buldyrev, S. V., Havlin, S., Simons, M., Stanley, H. E. and
       Goldberger, A. L. (1994), Mosaic organization of DNA nucleotides,
       Physical Review E 49(2), 1685-1689.

    Examples
    --------
    >>> x = fractional_gaussian_noise(2048, 0.3, seed=1)  # anti-persistent
    >>> round(hurst_dfa(x), 1)
    0.3
    """
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
    r"""Mean-reversion half-life, in periods, of a level series (a price, spread or log wealth).

    From the OLS regression :math:`\Delta x_t = a + b \, x_{t-1} + \varepsilon_t`
    (an AR(1) in levels, :math:`x_t = a + \phi x_{t-1} + \varepsilon_t` with
    :math:`\phi = 1 + b`, the discrete Ornstein-Uhlenbeck process),

    .. math:: t_{1/2} = -\frac{\ln 2}{\ln \phi}, \qquad 0 < \phi < 1,

    the number of periods for a deviation from the mean :math:`a / (1 - \phi)`
    to halve. ``inf`` when :math:`\phi \ge 1` (no reversion: random walk or
    trend) or :math:`\phi \le 0` (oscillation, no monotone decay).

    Parameters
    ----------
    prices_or_levels : array_like, shape (T,) or (T, n)
        Levels (not returns), any finite values, at least 3 non-NaN values
        (NaNs dropped per column, which joins the values around them).

    Returns
    -------
    float, or ndarray (n,) for 2D input
        Periods (days for daily data); ``inf`` when the series does not revert.

    Raises
    ------
    ValueError
        If fewer than 3 non-NaN values are left or a value is infinite.

    References
    ----------
    .. [1] Chan, E. P. (2013), Algorithmic Trading: Winning Strategies and Their
       Rationale, Wiley, ch. 2.
    .. [2] Uhlenbeck, G. E. and Ornstein, L. S. (1930), On the theory of the
       Brownian motion, Physical Review 36(5), 823-841.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = np.zeros(2000)
    >>> for t in range(1, 2000):  # AR(1), phi = 0.9: -ln 2 / ln 0.9 = 6.58 periods
    ...     x[t] = 0.9 * x[t - 1] + rng.standard_normal()
    >>> bool(5.5 < half_life(x) < 7.5)
    True
    >>> half_life(np.exp(0.01 * np.arange(100)))  # exponential growth: no reversion
    inf
    """
    x = as_1d(prices_or_levels, "levels", 3, simple_returns=False)
    lag, dx = x[:-1], np.diff(x)
    A = np.column_stack([np.ones_like(lag), lag])
    b = np.linalg.lstsq(A, dx, rcond=None)[0][1]
    phi = 1.0 + b
    return float(-np.log(2.0) / np.log(phi)) if 0.0 < phi < 1.0 else float("inf")


def fractional_gaussian_noise(n: int, hurst: float, *, seed: SeedLike = None) -> np.ndarray:
    r"""Exact fractional Gaussian noise: n samples with unit variance and Hurst exponent H.

    Stationary Gaussian increments of fractional Brownian motion with autocovariance

    .. math:: \gamma(k) = \tfrac{1}{2} \left(|k - 1|^{2H} - 2 |k|^{2H} + |k + 1|^{2H}\right),
              \qquad \gamma(0) = 1,

    simulated by circulant embedding (Davies & Harte 1987): the first row
    :math:`\gamma(0), \dots, \gamma(n), \gamma(n-1), \dots, \gamma(1)` of a 2n x 2n
    circulant matrix is diagonalised by the FFT and the real part of the FFT of
    complex normals scaled by the square roots of its eigenvalues gives an exact
    sample (not an approximation) in :math:`O(n \log n)`. H = 0.5 is white noise;
    H > 0.5 positive, H < 0.5 negative lag-1 correlation :math:`2^{2H - 1} - 1`.

    Parameters
    ----------
    n : int
        Number of samples, >= 2.
    hurst : float
        Hurst exponent H in (0, 1).
    seed : int, Generator or None
        Random source (``numpy.random.default_rng(seed)`` for an int).

    Returns
    -------
    ndarray, shape (n,)
        Unit-variance fGn (cumulate it for fractional Brownian motion).

    Raises
    ------
    ValueError
        If ``n`` < 2, ``hurst`` is not in (0, 1), or the embedding has a negative
        eigenvalue (not expected for fGn; guarded against rounding).

    References
    ----------
    .. [1] Davies, R. B. and Harte, D. S. (1987), Tests for Hurst effect,
       Biometrika 74(1), 95-101.
    .. [2] Mandelbrot, B. B. and Van Ness, J. W. (1968), Fractional Brownian motions,
       fractional noises and applications, SIAM Review 10(4), 422-437.

    Examples
    --------
    >>> import numpy as np
    >>> x = fractional_gaussian_noise(2048, 0.7, seed=1)
    >>> x.shape, round(float(x.std()), 1)
    ((2048,), 1.0)
    >>> round(float(np.corrcoef(x[:-1], x[1:])[0, 1]), 1)  # 2^(2H-1) - 1 = 0.32
    0.3
    """
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
