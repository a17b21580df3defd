"""Optimal quadratic quantization of N(0, 1) in 1D (Lloyd and Newton).

A grid x_1 < ... < x_K with Voronoi cells C_i = (a_i, b_i), a_i = (x_{i-1} +
x_i)/2, is stationary when every point is its cell's conditional mean:

    G_i(x) = x_i (Phi(b_i) - Phi(a_i)) - (phi(a_i) - phi(b_i)) = 0.

Lloyd iterates ``x_i <- E[X | X in C_i]`` (slow: iterations ~ K^2); Newton solves
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
    r"""A quantizer: K points with their Voronoi weights and the quadratic distortion.

    Attributes
    ----------
    points : ndarray, shape (K,) or (K, d)
        The grid :math:`x_1 < \dots < x_K` (1D) or the K centres (d > 1).
    weights : ndarray, shape (K,)
        Probability of each Voronoi cell (sums to 1).
    distortion : float
        :math:`\mathbb{E}\lVert X - q(X)\rVert^2` (exact for N(0, 1), empirical on samples).
    iterations : int
        Iterations done (for CLVQ: samples processed).
    converged : bool or None
        Whether the method's stopping test was met (None for methods without
        one, e.g. a fixed number of CLVQ passes). A run that stops at its
        iteration cap also warns.
    """

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
    r"""Quadratic distortion and cell weights of a grid for :math:`X \sim N(0, 1)`, in closed form.

    With the Voronoi cells :math:`(a_i, b_i)`,
    :math:`\int_a^b (t - c)^2 \varphi = [\Phi - t\varphi]_a^b + 2c [\varphi]_a^b + c^2 [\Phi]_a^b`.

    Parameters
    ----------
    x : array_like, shape (K,)
        The grid (sorted on entry).

    Returns
    -------
    distortion : float
        :math:`\mathbb{E}(X - q(X))^2`.
    weights : ndarray, shape (K,)
        :math:`\Phi(b_i) - \Phi(a_i)`.

    Examples
    --------
    >>> from meanfolio.quantization import gaussian_distortion
    >>> d, w = gaussian_distortion([-1.0, 1.0])
    >>> round(d, 6), w
    (0.404231, array([0.5, 0.5]))
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
    r"""Optimal quadratic quantizer of N(0, 1) by Lloyd's fixed point.

    Iterates :math:`x_i \leftarrow \mathbb{E}[X \mid X \in C_i] =
    (\varphi(a_i) - \varphi(b_i)) / (\Phi(b_i) - \Phi(a_i))` on the Voronoi cells
    :math:`C_i = (a_i, b_i)` (linear convergence, iterations grow like :math:`K^2`).

    Parameters
    ----------
    K : int
        Number of points, >= 1.
    x0 : array_like, shape (K,), optional
        Start (default: the normal quantiles of the cell midpoints).
    tol : float, default 1e-12
        Stop when the largest move is below it.
    max_iter : int, default 100000
        Iteration cap (a warning is issued when reached).

    Returns
    -------
    Quantizer

    See Also
    --------
    optimal_gaussian_grid : Newton's method, quadratic convergence.

    References
    ----------
    .. [1] S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf.
       Theory 28 (1982).
    .. [2] G. Pagès, "Introduction to vector quantization and its applications for
       numerics", ESAIM Proc. 48 (2015).
    """
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
    r"""The unique optimal K-point quadratic quantizer of N(0, 1), by Newton's method.

    Solves the stationarity equations

    .. math::

        G_i(x) = x_i (\Phi(b_i) - \Phi(a_i)) - (\varphi(a_i) - \varphi(b_i)) = 0,
        \qquad a_i = \tfrac{x_{i-1} + x_i}{2},\ b_i = \tfrac{x_i + x_{i+1}}{2},

    with the tridiagonal Jacobian and a backtracking line search, from a few
    Lloyd steps. The 1D optimum is unique (Kieffer 1982) and
    :math:`K^2 \times \text{distortion} \to \pi\sqrt3/2`.

    Parameters
    ----------
    K : int
        Number of points, >= 1.
    tol : float, default 1e-14
        Stop when :math:`\max_i |G_i|` is below it.
    max_iter : int, default 100
        Newton iteration cap (a warning is issued when reached).

    Returns
    -------
    Quantizer

    Raises
    ------
    ValueError
        If ``K < 1`` or ``tol <= 0``.

    References
    ----------
    .. [1] J. C. Kieffer, "Exponential rate of convergence for Lloyd's method I",
       IEEE Trans. Inf. Theory 28 (1982).
    .. [2] G. Pagès, J. Printems, "Optimal quadratic quantization for numerics:
       the Gaussian case", Monte Carlo Methods Appl. 9 (2003).

    Examples
    --------
    >>> from meanfolio.quantization import optimal_gaussian_grid
    >>> q = optimal_gaussian_grid(4)
    >>> q.points.round(4), q.weights.round(4), round(q.distortion, 4)
    (array([-1.5104, -0.4528,  0.4528,  1.5104]), array([0.1631, 0.3369, 0.3369, 0.1631]), 0.1175)
    """
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
