"""Finite-volume solver of the broker-price Fokker-Planck equation (spec section 5).

    d_t V + d_s(A(s) V) = (sigma_B^2 / 2) d_ss(s^2 V),   A(s) = kappa ED(s) s,

for high-frequency traders with frozen wealth X = Y = w, on [s_min, s_max]
with no flux through the ends. Cell-centred finite volumes: upwind drift,
central diffusion of q = s^2 V, implicit Euler. The matrix is an M-matrix
with zero column sums, so V stays >= 0 and its mass is conserved to
round-off; its stationary state satisfies discrete detailed balance, which
:func:`stationary_price_density` solves directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_banded

from meanfolio._validation import check_array, check_integer, check_interval, check_number

from . import _kernels as kern
from .params import KineticParams
from .simulate import _pack

__all__ = ["PriceDensity", "price_grid", "solve_price_fokker_planck", "stationary_price_density"]


@dataclass
class PriceDensity:
    """Densities of the broker price on a finite-volume grid.

    Attributes
    ----------
    s : ndarray, shape (n,)
        Cell centres (price units).
    ds : float
        Cell width.
    t : ndarray, shape (k,)
        Times of the densities (``[inf]`` for a stationary state).
    V : ndarray, shape (k, n)
        Densities, each of mass ``V[k].sum() * ds = 1``.
    """

    s: np.ndarray
    ds: float
    t: np.ndarray
    V: np.ndarray

    def cdf(self, k: int = -1) -> np.ndarray:
        """CDF at the right cell faces."""
        return np.cumsum(self.V[k]) * self.ds

    def mean(self, k: int = -1) -> float:
        return float(np.sum(self.s * self.V[k]) * self.ds)


def price_grid(s_min: float, s_max: float, n: int) -> tuple[np.ndarray, float]:
    s_min, s_max = check_interval("s_min", s_min, "s_max", s_max)
    check_number("s_min", s_min, low=0, low_inclusive=False)
    n = check_integer("n", n, low=3)
    ds = (s_max - s_min) / n
    return s_min + ds * (np.arange(n) + 0.5), ds


def _face_rates(params: KineticParams, s: np.ndarray, ds: float) -> tuple[np.ndarray, np.ndarray]:
    """Transfer rates right (i -> i+1) and left (i+1 -> i) across the n-1 inner faces."""
    if params.investors != "high_frequency" or not params.freeze_wealth:
        raise ValueError("the price Fokker-Planck solver needs investors = 'high_frequency' and freeze_wealth = True")
    P, C = _pack(params)
    faces = 0.5 * (s[1:] + s[:-1])
    drift = np.empty(faces.size)
    kern.broker_drift_on(P, C, faces, params.s_f, drift)
    d = 0.5 * params.sigma_broker**2
    q_left = d * s[:-1] ** 2 / ds**2  # diffusion of q = s^2 V through the face
    q_right = d * s[1:] ** 2 / ds**2
    right = np.maximum(drift, 0.0) / ds + q_left  # from cell i to i+1, times V_i
    left = np.maximum(-drift, 0.0) / ds + q_right  # from cell i+1 to i, times V_{i+1}
    return right, left


def solve_price_fokker_planck(
    params: KineticParams, V0, *, s_min: float, s_max: float, t_end: float, dt: float, n_out: int = 11
) -> PriceDensity:
    r"""Solve the broker-price Fokker-Planck equation of high-frequency traders by finite volumes.

    .. math::

        \partial_t V + \partial_s (A(s) V) = \frac{\sigma_B^2}{2} \partial_{ss}(s^2 V),
        \qquad A(s) = \kappa\, ED(s)\, s,

    on :math:`[s_{min}, s_{max}]` with no flux through the ends: upwind drift,
    central diffusion of :math:`s^2 V`, implicit Euler. The matrix is an M-matrix
    with zero column sums, so V stays >= 0 and its mass is conserved to round-off.

    Parameters
    ----------
    params : KineticParams
        A model with ``investors="high_frequency"`` and ``freeze_wealth=True``.
    V0 : array_like, shape (n,)
        Initial density (>= 0) on the n cell centres of
        :math:`[s_{min}, s_{max}]`; normalised on entry.
    s_min, s_max : float
        The price interval, 0 < s_min < s_max.
    t_end : float
        Final time, > 0.
    dt : float
        Time step, > 0.
    n_out : int, default 11
        Number of stored times (evenly spaced, the start included).

    Returns
    -------
    PriceDensity

    Raises
    ------
    ValueError
        If the model is not high-frequency with frozen wealth, or an argument is out of range.

    See Also
    --------
    stationary_price_density, inverse_gamma_steady_state
    """
    V0 = check_array("V0", V0, ndim=1, nonnegative=True)
    s, ds = price_grid(s_min, s_max, V0.size)
    dt = check_number("dt", dt, low=0, low_inclusive=False)
    t_end = check_number("t_end", t_end, low=0, low_inclusive=False)
    right, left = _face_rates(params, s, ds)
    n = s.size
    # (I + dt Q) V^{k+1} = V^k with Q the (column-conservative) generator in banded form.
    ab = np.zeros((3, n))
    ab[1] = 1.0
    ab[1, :-1] += dt * right
    ab[1, 1:] += dt * left
    ab[0, 1:] = -dt * left  # upper diagonal: inflow from i+1
    ab[2, :-1] = -dt * right  # lower diagonal: inflow from i-1
    steps = int(np.ceil(t_end / dt))
    outs = np.unique(np.linspace(0, steps, n_out).round().astype(int))
    V = V0 / (V0.sum() * ds)
    frames, times = [V.copy()], [0.0]
    for k in range(1, steps + 1):
        V = solve_banded((1, 1), ab, V)
        if k in outs:
            frames.append(V.copy())
            times.append(k * dt)
    return PriceDensity(s, ds, np.array(times), np.array(frames))


def stationary_price_density(params: KineticParams, *, s_min: float, s_max: float, n: int) -> PriceDensity:
    r"""The discrete stationary state of the broker-price Fokker-Planck equation, by detailed balance.

    Zero net flux through every face gives
    :math:`V_{i+1}/V_i = \text{right}_i/\text{left}_i`, solved directly (no time stepping).

    Parameters
    ----------
    params : KineticParams
        A model with ``investors="high_frequency"`` and ``freeze_wealth=True``.
    s_min, s_max : float
        The price interval, 0 < s_min < s_max.
    n : int
        Number of cells (>= 3).

    Returns
    -------
    PriceDensity
        One density, at ``t = [inf]``.

    Examples
    --------
    >>> from meanfolio.kinetic import preset, stationary_price_density
    >>> density = stationary_price_density(preset("high_frequency_steady_state"), s_min=0.2, s_max=10.0, n=400)
    >>> density.V.shape, round(density.mean(), 2)   # the inverse-gamma mean is 1
    ((1, 400), 1.0)
    """
    s, ds = price_grid(s_min, s_max, n)
    right, left = _face_rates(params, s, ds)
    logV = np.concatenate(([0.0], np.cumsum(np.log(right) - np.log(left))))
    V = np.exp(logV - logV.max())
    V /= V.sum() * ds
    return PriceDensity(s, ds, np.array([np.inf]), V[None, :])
