"""Exact reference: the linear-quadratic MFG with mean coupling (1D).

H = p^2/2, f(x, m) = (a/2)(x - mbar(t))^2 + (b/2) x^2, g(x) = (cT/2) x^2,
m0 = N(mu0, s0^2), diffusion nu. The solution is u = P x^2/2 + S x + R and
m(t) = N(mbar(t), V(t)) with (see ``mfg.md``)

    P' = P^2 - (a + b),   P(T) = cT        mbar' = -(P mbar + S), mbar(0) = mu0
    S' = P S + a mbar,    S(T) = 0         V' = -2 P V + 2 nu,   V(0) = s0^2

Closed forms with k = sqrt(a + b), tau = T - t: P = phi_tau / phi where
phi(tau) = cosh(k tau) + (cT/k) sinh(k tau) (P = -phi'/phi solves the Riccati
equation), so the variance is

    V(t) = phi(t)^2 [ s0^2 / phi(0)^2 + 2 nu int_0^t phi(s)^-2 ds ]

(one quadrature), and the mean follows the b-only dynamics

    mbar(t) = mu0 [sqrt(b) cosh(sqrt(b) tau) + cT sinh(sqrt(b) tau)]
                  / [sqrt(b) cosh(sqrt(b) T) + cT sinh(sqrt(b) T)]

(b = 0: mbar = mu0 - Z0 t, Z0 = cT mu0 / (1 + cT T)). S = -mbar' - P mbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad

from meanfolio._validation import check_number

from .couplings import MeanTracking, RunningCost

__all__ = ["LQReference", "lq_reference"]


@dataclass(frozen=True)
class LQReference:
    r"""The linear-quadratic MFG with mean coupling (1D) and its exact solution, the reference of the solvers.

    The game has :math:`H(p) = p^2/2`, diffusion :math:`\nu`, running cost
    :math:`f(x, m) = \tfrac{a}{2}(x - \bar m(t))^2 + \tfrac{b}{2} x^2`, terminal cost
    :math:`g(x) = \tfrac{c_T}{2} x^2` and :math:`m_0 = N(\mu_0, s_0^2)`. The value is
    :math:`u = P x^2/2 + S x + R` and the law stays Gaussian,
    :math:`m(t) = N(\bar m(t), V(t))`, with

    .. math::

        \dot P = P^2 - (a + b),\ P(T) = c_T, \qquad
        \dot{\bar m} = -(P \bar m + S),\ \bar m(0) = \mu_0, \qquad
        \dot V = -2 P V + 2\nu,\ V(0) = s_0^2 .

    In closed form, with :math:`k = \sqrt{a + b}`, :math:`\tau = T - t` and
    :math:`\phi(\tau) = \cosh(k\tau) + (c_T/k)\sinh(k\tau)`: :math:`P = -\phi'/\phi`,

    .. math::

        V(t) = \phi(t)^2 \Big[\frac{s_0^2}{\phi(0)^2} + 2\nu \int_0^t \phi(s)^{-2}\, ds\Big],
        \qquad
        \bar m(t) = \mu_0 \frac{\sqrt b \cosh(\sqrt b\, \tau) + c_T \sinh(\sqrt b\, \tau)}
                          {\sqrt b \cosh(\sqrt b\, T) + c_T \sinh(\sqrt b\, T)},

    (:math:`b = 0`: :math:`\bar m = \mu_0 - Z_0 t`, :math:`Z_0 = c_T\mu_0/(1 + c_T T)`)
    and :math:`S = -\dot{\bar m} - P \bar m`. The methods ``P``, ``S``, ``mean``,
    ``variance`` and ``u_x`` evaluate them at times t; ``m0``, ``coupling`` and
    ``terminal`` give the game to :func:`~meanfolio.mfg.solve_mfg`.

    Parameters
    ----------
    a : float, default 1
        Strength of the mean tracking, >= 0.
    b : float, default 0.5
        Confinement, >= 0 (a + b > 0).
    cT : float, default 0.8
        Terminal cost, >= 0.
    nu : float, default 0.3
        Diffusion :math:`\nu \ge 0`.
    T : float, default 1
        Horizon > 0.
    mu0 : float, default 1
        Initial mean.
    s0 : float, default 0.5
        Initial standard deviation > 0.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    See Also
    --------
    lq_reference, MeanTracking

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import LQReference
    >>> ref = LQReference()
    >>> t = np.array([0.0, 0.5, 1.0])
    >>> ref.P(t).round(4), ref.mean(t).round(4), ref.variance(t).round(4)
    (array([1.1812, 1.0825, 0.8   ]), array([1.    , 0.6912, 0.4697]), array([0.25  , 0.2602, 0.2964]))
    """

    a: float = 1.0
    b: float = 0.5
    cT: float = 0.8
    nu: float = 0.3
    T: float = 1.0
    mu0: float = 1.0
    s0: float = 0.5

    def __post_init__(self):
        for name in ("a", "b", "cT"):
            check_number(name, getattr(self, name), low=0)
        check_number("a + b", self.a + self.b, low=0, low_inclusive=False)
        check_number("nu", self.nu, low=0)
        check_number("T", self.T, low=0, low_inclusive=False)
        check_number("mu0", self.mu0)
        check_number("s0", self.s0, low=0, low_inclusive=False)

    @property
    def k(self) -> float:
        return float(np.sqrt(self.a + self.b))

    def _phi(self, t):
        tau = self.T - np.asarray(t, dtype=float)
        k = self.k
        return np.cosh(k * tau) + (self.cT / k) * np.sinh(k * tau)

    def P(self, t):
        tau = self.T - np.asarray(t, dtype=float)
        k = self.k
        th = np.tanh(k * tau)
        return k * (self.cT + k * th) / (k + self.cT * th)

    def mean(self, t):
        t = np.asarray(t, dtype=float)
        if self.b == 0.0:
            return self.mu0 - self.cT * self.mu0 / (1.0 + self.cT * self.T) * t
        r = np.sqrt(self.b)
        tau = self.T - t
        den = r * np.cosh(r * self.T) + self.cT * np.sinh(r * self.T)
        return self.mu0 * (r * np.cosh(r * tau) + self.cT * np.sinh(r * tau)) / den

    def mean_derivative(self, t):
        t = np.asarray(t, dtype=float)
        if self.b == 0.0:
            return np.full_like(t, -self.cT * self.mu0 / (1.0 + self.cT * self.T))
        r = np.sqrt(self.b)
        tau = self.T - t
        den = r * np.cosh(r * self.T) + self.cT * np.sinh(r * self.T)
        return -self.mu0 * (self.b * np.sinh(r * tau) + self.cT * r * np.cosh(r * tau)) / den

    def S(self, t):
        return -self.mean_derivative(t) - self.P(t) * self.mean(t)

    def variance(self, t):
        def one(ti: float) -> float:
            integral, _ = quad(lambda s: self._phi(s) ** -2, 0.0, ti, epsabs=1e-14, epsrel=1e-13)
            return float(self._phi(ti) ** 2 * (self.s0**2 / self._phi(0.0) ** 2 + 2 * self.nu * integral))

        t = np.asarray(t, dtype=float)
        return np.vectorize(one, otypes=[float])(t)

    def u_x(self, t, x):
        """The gradient of the value, :math:`u_x = P(t) x + S(t)`."""
        return self.P(t) * np.asarray(x) + self.S(t)

    # -- as an MFG for the solver -------------------------------------------
    def m0(self, x: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * ((x - self.mu0) / self.s0) ** 2) / (self.s0 * np.sqrt(2 * np.pi))

    def coupling(self):
        """The running cost :math:`f = \\tfrac{a}{2}(x - \\bar m)^2 + \\tfrac{b}{2} x^2` as a :class:`Coupling`."""
        return MeanTracking(self.a) + RunningCost(lambda t, x: 0.5 * self.b * x**2)

    def terminal(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * self.cT * x**2


def lq_reference(**params) -> LQReference:
    """The LQ game of the user guide with its exact solution: ``LQReference(**params)``.

    Parameters
    ----------
    **params
        Fields of :class:`LQReference` to change; the defaults are the reference
        values (a = 1, b = 0.5, cT = 0.8, nu = 0.3, T = 1, mu0 = 1, s0 = 0.5).

    Returns
    -------
    LQReference

    Examples
    --------
    >>> from meanfolio.mfg import lq_reference
    >>> ref = lq_reference(nu=0.1)
    >>> round(float(ref.variance(1.0)), 4)
    0.1191
    """
    return LQReference(**params)
