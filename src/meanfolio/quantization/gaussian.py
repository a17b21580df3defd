"""Optimal quadratic quantization of N(0, 1) in 1D (Lloyd and Newton).

A grid x_1 < ... < x_K with Voronoi cells C_i = (a_i, b_i), a_i = (x_{i-1} +
x_i)/2, is stationary when every point is its cell's conditional mean:

    G_i(x) = x_i (Phi(b_i) - Phi(a_i)) - (phi(a_i) - phi(b_i)) = 0.

Lloyd iterates x_i <- E[X | X in C_i] (slow: iterations ~ K^2); Newton solves
G(x) = 0 with its tridiagonal Jacobian (quadratic convergence). The 1D
optimum is unique (Kieffer 1982); K^2 * distortion -> pi sqrt(3) / 2.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded
from scipy.stats import norm

from meanfolio._validation import check_integer, check_number

__all__ = ["Quantizer", "gaussian_distortion", "lloyd_gaussian", "optimal_gaussian_grid"]


@dataclass(frozen=True)
class Quantizer:
    """points (K,), Voronoi weights (K,), distortion E|X - q(X)|^2, iterations, and ``converged``:
    whether the method's stopping test was met (None for methods without one, e.g. a fixed
    number of CLVQ passes). A run that stops at its iteration cap also warns."""

    points: np.ndarray
    weights: np.ndarray
    distortion: float
    iterations: int
    converged: bool | None = None


def _not_converged(method: str, iterations: int, what: str) -> None:
    warnings.warn(
        f"{method} stopped after {iterations} iterations without converging: {what}", RuntimeWarning, stacklevel=3
    )


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
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        e = _edges(x)
        new = (-np.diff(norm.pdf(e))) / np.diff(norm.cdf(e))
        change = np.max(np.abs(new - x))
        x = new
        if change < tol:
            converged = True
            break
    if not converged:
        _not_converged("lloyd_gaussian", it, f"last change {change:.3e} >= tol {tol:.1e}")
    d, w = gaussian_distortion(x)
    return Quantizer(x, w, d, it, converged)


def _stationarity(x: np.ndarray) -> np.ndarray:
    """G(x) of the module docstring."""
    P, p = norm.cdf(_edges(x)), norm.pdf(_edges(x))
    return x * np.diff(P) - (p[:-1] - p[1:])


def optimal_gaussian_grid(K: int, *, tol: float = 1e-14, max_iter: int = 100) -> Quantizer:
    """Newton on G(x) = 0 from a few Lloyd steps; the unique optimal K-point grid of N(0, 1)."""
    K = check_integer("K", K, low=1)
    tol = check_number("tol", tol, low=0, low_inclusive=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a rough start on purpose
        x = lloyd_gaussian(K, max_iter=20, tol=1e-3).points
    G = _stationarity(x)
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        if np.max(np.abs(G)) < tol:
            converged = True
            break
        e = _edges(x)
        P, p = norm.cdf(e), norm.pdf(e)
        # dG_i/dx_i = (Phi(b)-Phi(a)) - (x_i - a_i) phi(a_i)/2 - (b_i - x_i) phi(b_i)/2 ; off-diagonals from the edges
        a, b = e[:-1], e[1:]
        pa, pb = p[:-1], p[1:]
        with np.errstate(invalid="ignore"):  # infinite outer edges contribute nothing
            da = np.where(np.isfinite(a), (x - a) * pa / 2, 0.0)
            db = np.where(np.isfinite(b), (b - x) * pb / 2, 0.0)
        diag = np.diff(P) - da - db
        ab = np.zeros((3, K))
        ab[0, 1:] = -db[:-1]  # dG_i / dx_{i+1}
        ab[1] = diag
        ab[2, :-1] = -da[1:]  # dG_i / dx_{i-1}
        step = solve_banded((1, 1), ab, G)
        # Backtracking: take only steps that keep the grid ordered and decrease max |G|.
        t = 1.0
        while t >= 1e-6:
            trial = x - t * step
            if np.all(np.diff(trial) > 0):
                G_trial = _stationarity(trial)
                if np.max(np.abs(G_trial)) < np.max(np.abs(G)):
                    break
            t *= 0.5
        else:
            break  # no decreasing step: stop, unconverged, at the best grid found
        x, G = trial, G_trial
    if not converged:
        _not_converged("optimal_gaussian_grid", it, f"max |G| = {np.max(np.abs(G)):.3e} >= tol {tol:.1e}")
    d, w = gaussian_distortion(x)
    return Quantizer(x, w, d, it, converged)
