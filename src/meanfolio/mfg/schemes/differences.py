"""Derivatives of user functions of a density by differences that stay in m >= 0.

A user cost such as ``log(m + 1e-300)`` or ``sqrt(m)`` is only defined for
m >= 0, so a central difference ``f(m - h)`` at m < h leaves its domain
(NaN). :func:`density_slope` uses the central difference with the relative
step ``h = step * m`` where that step is at least ``floor`` (m - h > 0, error
O(step^2) relative), and elsewhere the second-order forward difference
``(-3 f(m) + 4 f(m + h) - f(m + 2h)) / 2h`` with ``h = floor``: every
evaluation is at m >= 0, the error is O((floor / m)^2) for m >> floor, and at
m = 0 a singular slope (sqrt, log) becomes a large but finite secant.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["density_slope", "finite_cost", "local_slope"]


def density_slope(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    m: np.ndarray,
    step: float = 1e-4,
    floor: float = 1e-10,
) -> np.ndarray:
    """``d f(x, m) / dm`` at m >= 0 (same shape as m), evaluating f only at densities >= 0."""
    h = np.maximum(step * m, floor)
    central = step * m >= floor
    hc = np.where(central, h, 0.0)
    hf = np.where(central, 0.0, h)
    up = f(x, m + hc + hf)
    here = f(x, m - hc)  # f(m - h) where central, f(m) where forward
    far = f(x, m + 2.0 * hf)
    return np.where(central, up - here, -3.0 * here + 4.0 * up - far) / (2.0 * h)


def finite_cost(func, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``func(x, m)`` as float64 of m's shape; ValueError if any value is not finite."""
    out = np.asarray(func(x, m), dtype=np.float64) + 0.0 * m
    if not np.all(np.isfinite(out)):
        raise ValueError("func(x, m) returned non-finite values: expected finite costs")
    return out


def local_slope(func, derivative, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """d func / dm at m >= 0: ``derivative(x, m)`` where given and finite, else :func:`density_slope`."""
    d = None if derivative is None else np.asarray(derivative(x, m), dtype=np.float64) + 0.0 * m
    if d is not None and np.all(np.isfinite(d)):
        return d
    fd = density_slope(lambda x_, m_: finite_cost(func, x_, m_), x, m)
    return fd if d is None else np.where(np.isfinite(d), d, fd)
