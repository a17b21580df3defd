"""Optimal quadratic quantization of N(0, 1) in 1D (Lloyd and Newton).

A grid x_1 < ... < x_K with Voronoi cells C_i = (a_i, b_i), a_i = (x_{i-1} +
x_i)/2, is stationary when every point is its cell's conditional mean:

    G_i(x) = x_i (Phi(b_i) - Phi(a_i)) - (phi(a_i) - phi(b_i)) = 0.

Lloyd iterates x_i <- E[X | X in C_i] (slow: iterations ~ K^2); Newton solves
G(x) = 0 with its tridiagonal Jacobian (quadratic convergence). The 1D
optimum is unique (Kieffer 1982); K^2 * distortion -> pi sqrt(3) / 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded
from scipy.stats import norm

from meanfolio._validation import check_integer, check_number

__all__ = ["Quantizer", "gaussian_distortion", "lloyd_gaussian", "optimal_gaussian_grid"]


@dataclass(frozen=True)
class Quantizer:
    """points (K,), Voronoi weights (K,), distortion E|X - q(X)|^2, iterations."""

    points: np.ndarray
    weights: np.ndarray
    distortion: float
    iterations: int


def _edges(x: np.ndarray) -> np.ndarray:
    return np.concatenate(([-np.inf], 0.5 * (x[1:] + x[:-1]), [np.inf]))


def gaussian_distortion(x) -> tuple[float, np.ndarray]:
    """(E|X - q(X)|^2, cell weights) for X ~ N(0, 1) and the sorted grid x.

    Uses int_a^b (t - c)^2 phi = [Phi - t phi]_a^b + 2c [phi]_a^b + c^2 [Phi]_a^b.
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    e = _edges(x)
    P, p = norm.cdf(e), norm.pdf(e)
    with np.errstate(invalid="ignore"):  # t phi(t) -> 0 at the infinite edges
        tp = np.where(np.isfinite(e), e * p, 0.0)
    w = np.diff(P)
    d = np.sum((np.diff(P) - np.diff(tp)) + 2 * x * np.diff(p) + x**2 * w)
    return float(d), w


def lloyd_gaussian(K: int, *, x0=None, tol: float = 1e-12, max_iter: int = 100_000) -> Quantizer:
    """Lloyd's fixed point x_i <- (phi(a_i) - phi(b_i)) / (Phi(b_i) - Phi(a_i))."""
    K = check_integer("K", K, low=1)
    x = norm.ppf((np.arange(K) + 0.5) / K) if x0 is None else np.sort(np.asarray(x0, dtype=np.float64))
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        e = _edges(x)
        new = (-np.diff(norm.pdf(e))) / np.diff(norm.cdf(e))
        if np.max(np.abs(new - x)) < tol:
            x = new
            break
        x = new
    d, w = gaussian_distortion(x)
    return Quantizer(x, w, d, it)


def optimal_gaussian_grid(K: int, *, tol: float = 1e-14, max_iter: int = 100) -> Quantizer:
    """Newton on G(x) = 0 from a few Lloyd steps; the unique optimal K-point grid of N(0, 1)."""
    K = check_integer("K", K, low=1)
    tol = check_number("tol", tol, low=0, low_inclusive=False)
    x = lloyd_gaussian(K, max_iter=20, tol=1e-3).points
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        e = _edges(x)
        P, p = norm.cdf(e), norm.pdf(e)
        G = x * np.diff(P) - (p[:-1] - p[1:])
        if np.max(np.abs(G)) < tol:
            break
        # dG_i/dx_i = (Phi(b)-Phi(a)) - (x_i - a_i) phi(a_i)/2 - (b_i - x_i) phi(b_i)/2 ; off-diagonals from the edges
        a, b = e[:-1], e[1:]
        pa, pb = p[:-1], p[1:]
        with np.errstate(invalid="ignore"):  # infinite outer edges contribute nothing
            da = np.where(np.isfinite(a), (x - a) * pa / 2, 0.0)
            db = np.where(np.isfinite(b), (b - x) * pb / 2, 0.0)
        diag = np.diff(P) - da - db
        lower = -da[1:]  # dG_i / dx_{i-1}
        upper = -db[:-1]  # dG_i / dx_{i+1}
        ab = np.zeros((3, K))
        ab[0, 1:] = upper
        ab[1] = diag
        ab[2, :-1] = lower
        x = x - solve_banded((1, 1), ab, G)
    d, w = gaussian_distortion(x)
    return Quantizer(x, w, d, it)
