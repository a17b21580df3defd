"""Closed-form laws of the kinetic model (spec sections 3-5).

- Closed bond marginal when g > 0 on [0, t] (and stock marginal when g < 0):
  log-normal, ``ln y ~ N(m0 + int (r - mu g) ds - sigma^2 t / 2, s0^2 + sigma^2 t)``.
- Long-term investors with brokers: ``ln s ~ N(ln s0 + kappa int ED - sigma_B^2 t/2, sigma_B^2 t)``.
- High-frequency steady state (U = identity, W = 1, X = Y = w): inverse-gamma
  with ``nu = 1 + 2 kappa mu w (c + r) / sigma_B^2`` and
  ``theta = 2 kappa mu w (c s_f + D) / sigma_B^2``; mean (c s_f + D)/(c + r)
  and tail P(S > s) ~ s^-nu.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .params import KineticParams

__all__ = [
    "InverseGamma",
    "LogNormal",
    "bond_marginal",
    "broker_price_law",
    "inverse_gamma_steady_state",
    "stock_marginal",
]


@dataclass(frozen=True)
class LogNormal:
    """ln X ~ N(mean_log, var_log)."""

    mean_log: float
    var_log: float

    @property
    def dist(self):
        return stats.lognorm(s=np.sqrt(self.var_log), scale=np.exp(self.mean_log))

    def pdf(self, x):
        return self.dist.pdf(x)

    def cdf(self, x):
        return self.dist.cdf(x)


@dataclass(frozen=True)
class InverseGamma:
    """V(s) = theta^nu / Gamma(nu) s^(-1-nu) exp(-theta / s)."""

    nu: float
    theta: float

    @property
    def dist(self):
        return stats.invgamma(self.nu, scale=self.theta)

    @property
    def mean(self) -> float:
        return self.theta / (self.nu - 1.0) if self.nu > 1 else np.inf

    def pdf(self, s):
        return self.dist.pdf(s)

    def cdf(self, s):
        return self.dist.cdf(s)


def _integral(values: np.ndarray, dt: float) -> float:
    # The Monte Carlo applies the estimate of step n over [t_n, t_n + dt): a left sum.
    return float(np.sum(values) * dt)


def bond_marginal(params: KineticParams, g_path, *, noise: bool = True) -> LogNormal:
    """Law of the bond wealth after len(g_path) steps with g > 0 at every step.

    ``g_path`` holds g at the start of each step (``series["g"][:-1]``).
    """
    g = np.asarray(g_path, dtype=np.float64)
    if np.any(g <= 0):
        raise ValueError("g_path has non-positive values: the bond marginal closes only while g > 0")
    t = g.size * params.dt
    drift = _integral(params.rate - params.mu * g, params.dt)
    s2 = params.sigma**2 if noise else 0.0
    return LogNormal(params.y0_logmean + drift - s2 * t / 2, params.y0_logstd**2 + s2 * t)


def stock_marginal(params: KineticParams, g_path, stock_rate_path, *, noise: bool = True) -> LogNormal:
    """Law of the stock wealth while g < 0; ``stock_rate_path`` = kappa ED + D/S per step."""
    g = np.asarray(g_path, dtype=np.float64)
    if np.any(g >= 0):
        raise ValueError("g_path has non-negative values: the stock marginal closes only while g < 0")
    t = g.size * params.dt
    drift = _integral(np.asarray(stock_rate_path) + params.mu * g, params.dt)
    s2 = params.sigma**2 if noise else 0.0
    return LogNormal(params.x0_logmean + drift - s2 * t / 2, params.x0_logstd**2 + s2 * t)


def broker_price_law(params: KineticParams, ed_path) -> LogNormal:
    """Law of a broker's price for long-term investors after len(ed_path) steps (relative impact)."""
    ed = np.asarray(ed_path, dtype=np.float64)
    t = ed.size * params.dt
    return LogNormal(
        np.log(params.S0) + params.kappa * _integral(ed, params.dt) - params.sigma_broker**2 * t / 2,
        params.sigma_broker**2 * t,
    )


def inverse_gamma_steady_state(params: KineticParams) -> InverseGamma:
    """The high-frequency steady state of section 5 (needs sigma_broker > 0)."""
    if not params.sigma_broker > 0:
        raise ValueError("sigma_broker = 0 is not allowed here: expected sigma_broker > 0")
    k = params.kappa * params.mu * params.frozen_wealth
    s2 = params.sigma_broker**2
    return InverseGamma(
        nu=1.0 + 2.0 * k * (params.reversion + params.rate) / s2,
        theta=2.0 * k * (params.reversion * params.s_f + params.dividend) / s2,
    )
