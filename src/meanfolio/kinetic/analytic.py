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
    r"""A log-normal law, :math:`\ln X \sim N(m, v)`: a closed-form marginal of the kinetic model.

    Parameters
    ----------
    mean_log : float
        m, the mean of :math:`\ln X`.
    var_log : float
        v >= 0, the variance of :math:`\ln X`.

    See Also
    --------
    bond_marginal, stock_marginal, broker_price_law
    """

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
    r"""An inverse-gamma law: the high-frequency steady state of the broker price.

    .. math::

        V(s) = \frac{\theta^\nu}{\Gamma(\nu)} s^{-1-\nu} e^{-\theta/s},
        \qquad \mathbb{E}[S] = \frac{\theta}{\nu - 1}, \qquad P(S > s) \sim s^{-\nu}.

    Parameters
    ----------
    nu : float
        Shape :math:`\nu > 0` (the tail index).
    theta : float
        Scale :math:`\theta > 0`, in price units.

    See Also
    --------
    inverse_gamma_steady_state
    """

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
    r"""Closed-form law of an agent's bond wealth while the return estimate g stays positive.

    While :math:`g > 0` on [0, t] the bond marginal is log-normal,

    .. math::

        \ln y_t \sim N\Big(m_0 + \int_0^t (r - \mu g)\, ds - \tfrac{\sigma^2 t}{2},\ s_0^2 + \sigma^2 t\Big),

    with :math:`(m_0, s_0)` = ``(y0_logmean, y0_logstd)`` (left-point sum of the integral, as in the Monte Carlo).

    Parameters
    ----------
    params : KineticParams
        The model.
    g_path : array_like, shape (steps,)
        g at the start of each step (``result.series["g"][:-1]``), all > 0.
    noise : bool, default True
        Include the decision noise :math:`\sigma`.

    Returns
    -------
    LogNormal

    Raises
    ------
    ValueError
        If some g <= 0.
    """
    g = np.asarray(g_path, dtype=np.float64)
    if np.any(g <= 0):
        raise ValueError("g_path has non-positive values: the bond marginal closes only while g > 0")
    t = g.size * params.dt
    drift = _integral(params.rate - params.mu * g, params.dt)
    s2 = params.sigma**2 if noise else 0.0
    return LogNormal(params.y0_logmean + drift - s2 * t / 2, params.y0_logstd**2 + s2 * t)


def stock_marginal(params: KineticParams, g_path, stock_rate_path, *, noise: bool = True) -> LogNormal:
    r"""Closed-form law of an agent's stock wealth while the return estimate g stays negative.

    .. math::

        \ln x_t \sim N\Big(m_0 + \int_0^t (\kappa\, ED + D/S + \mu g)\, ds
        - \tfrac{\sigma^2 t}{2},\ s_0^2 + \sigma^2 t\Big).

    Parameters
    ----------
    params : KineticParams
        The model.
    g_path : array_like, shape (steps,)
        g at the start of each step, all < 0.
    stock_rate_path : array_like, shape (steps,)
        The stock's return rate :math:`\kappa\, ED + D/S` per step.
    noise : bool, default True
        Include the decision noise.

    Returns
    -------
    LogNormal

    Raises
    ------
    ValueError
        If some g >= 0.
    """
    g = np.asarray(g_path, dtype=np.float64)
    if np.any(g >= 0):
        raise ValueError("g_path has non-negative values: the stock marginal closes only while g < 0")
    t = g.size * params.dt
    drift = _integral(np.asarray(stock_rate_path) + params.mu * g, params.dt)
    s2 = params.sigma**2 if noise else 0.0
    return LogNormal(params.x0_logmean + drift - s2 * t / 2, params.x0_logstd**2 + s2 * t)


def broker_price_law(params: KineticParams, ed_path) -> LogNormal:
    r"""Closed-form law of a broker's price for long-term investors (relative impact).

    .. math::

        \ln s_t \sim N\Big(\ln S_0 + \kappa \int_0^t ED\, ds - \tfrac{\sigma_B^2 t}{2},\ \sigma_B^2 t\Big).

    Parameters
    ----------
    params : KineticParams
        The model (``sigma_broker`` is :math:`\sigma_B`).
    ed_path : array_like, shape (steps,)
        The excess demand at the start of each step.

    Returns
    -------
    LogNormal
    """
    ed = np.asarray(ed_path, dtype=np.float64)
    t = ed.size * params.dt
    return LogNormal(
        np.log(params.S0) + params.kappa * _integral(ed, params.dt) - params.sigma_broker**2 * t / 2,
        params.sigma_broker**2 * t,
    )


def inverse_gamma_steady_state(params: KineticParams) -> InverseGamma:
    r"""The high-frequency steady state of the broker price: an inverse-gamma law.

    With U the identity, W = 1 and frozen wealth X = Y = w,

    .. math::

        \nu = 1 + \frac{2\kappa\mu w (c + r)}{\sigma_B^2}, \qquad
        \theta = \frac{2\kappa\mu w (c s_f + D)}{\sigma_B^2},

    so the mean price is :math:`(c s_f + D)/(c + r)` and the tail
    :math:`P(S > s) \sim s^{-\nu}`.

    Parameters
    ----------
    params : KineticParams
        The model, with ``sigma_broker > 0``.

    Returns
    -------
    InverseGamma

    Raises
    ------
    ValueError
        If ``sigma_broker`` is 0.

    References
    ----------
    .. [1] T. Trimborn, L. Pareschi, M. Frank, "Portfolio optimization and model
       predictive control: a kinetic approach", Discrete Contin. Dyn. Syst. Ser. B
       24(11) (2019), section 5.

    Examples
    --------
    >>> from meanfolio.kinetic import inverse_gamma_steady_state, preset
    >>> law = inverse_gamma_steady_state(preset("high_frequency_steady_state"))
    >>> law, law.mean
    (InverseGamma(nu=9.0, theta=8.0), 1.0)
    """
    if not params.sigma_broker > 0:
        raise ValueError("sigma_broker = 0 is not allowed here: expected sigma_broker > 0")
    k = params.kappa * params.mu * params.frozen_wealth
    s2 = params.sigma_broker**2
    return InverseGamma(
        nu=1.0 + 2.0 * k * (params.reversion + params.rate) / s2,
        theta=2.0 * k * (params.reversion * params.s_f + params.dividend) / s2,
    )
