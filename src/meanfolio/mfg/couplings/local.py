"""Local couplings: costs of the density at the agent's own position (congestion, log-density, any f(m))."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_number

from ..schemes.differences import finite_cost, local_slope
from .base import Coupling, CouplingJacobian

__all__ = ["Congestion", "LocalCoupling", "LogDensity"]


@dataclass(frozen=True)
class Congestion(Coupling):
    r"""Local congestion cost :math:`f(m) = s\, m^{p}`: agents pay to stand where the crowd is dense.

    Increasing in m, hence monotone (a unique equilibrium). In finance: the
    liquidity cost of holding what everyone holds.

    Parameters
    ----------
    power : float, default 1
        p > 0.
    scale : float, default 1
        s >= 0 (cost per unit time per unit of density to the power p).

    Raises
    ------
    ValueError
        If ``power <= 0`` or ``scale < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import Congestion
    >>> from meanfolio.mfg.couplings import CouplingState
    >>> x = np.linspace(-1.0, 1.0, 5)
    >>> state = CouplingState(x=x, dx=0.5, t=np.zeros(1), steps=np.zeros(1, dtype=int),
    ...                       m=np.array([[0.0, 0.5, 1.0, 0.5, 0.0]]))
    >>> Congestion(power=2.0, scale=3.0).value(state)
    array([[0.  , 0.75, 3.  , 0.75, 0.  ]])
    """

    power: float = 1.0
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "power", check_number("power", self.power, low=0, low_inclusive=False))
        object.__setattr__(self, "scale", check_number("scale", self.scale, low=0))

    def value(self, state):
        return self.scale * np.maximum(state.m, 0.0) ** self.power

    def jacobian(self, state):
        # Floor m so that power < 1 keeps a finite derivative at m = 0.
        m = np.maximum(state.m, 1e-12)
        return CouplingJacobian(self.scale * self.power * m ** (self.power - 1.0))


@dataclass(frozen=True)
class LogDensity(Coupling):
    r"""Crowd aversion :math:`f(m) = s \log \max(m, m_{floor})`, the entropic coupling.

    Increasing in m (monotone); with the quadratic Hamiltonian it makes the
    stationary game explicit (the Hopf-Cole transformation). The floor keeps it finite.

    Parameters
    ----------
    scale : float, default 1
        s >= 0.
    floor : float, default 1e-10
        :math:`m_{floor} > 0`.

    Raises
    ------
    ValueError
        If ``scale < 0`` or ``floor <= 0``.
    """

    scale: float = 1.0
    floor: float = 1e-10

    def __post_init__(self):
        object.__setattr__(self, "scale", check_number("scale", self.scale, low=0))
        object.__setattr__(self, "floor", check_number("floor", self.floor, low=0, low_inclusive=False))

    def value(self, state):
        return self.scale * np.log(np.maximum(state.m, self.floor))

    def jacobian(self, state):
        m = state.m
        return CouplingJacobian(np.where(m > self.floor, self.scale / np.maximum(m, self.floor), 0.0))


@dataclass(frozen=True, eq=False)
class LocalCoupling(Coupling):
    r"""A user local coupling :math:`f(x, m(x))` from a vectorised callable, with an optional derivative.

    ``func`` is only evaluated at m >= 0, so it may be defined on densities
    only (``np.log(m + 1e-300)``, ``np.sqrt(m)``); at m < 0 (a Newton iterate
    on its way, never the returned density) the cost is extended linearly
    from m = 0. Without ``derivative`` (or where it is not finite), Newton
    uses differences inside m >= 0.

    Parameters
    ----------
    func : callable
        ``func(x, m)`` with x of shape (nx,) and m of shape (N, nx), returning the cost (N, nx).
    derivative : callable, optional
        :math:`\partial f/\partial m` as ``derivative(x, m)``.

    Raises
    ------
    ValueError
        If ``func`` is not callable.
    """

    func: Callable[[np.ndarray, np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    def __post_init__(self):
        if not callable(self.func):
            raise ValueError(f"func = {self.func!r} is not allowed: expected a callable (x, m)")

    def value(self, state):
        out = finite_cost(self.func, state.x, np.maximum(state.m, 0.0))
        if np.any(state.m < 0.0):
            slope = local_slope(self.func, self.derivative, state.x, np.zeros_like(state.m))
            out = np.where(state.m < 0.0, out + slope * state.m, out)
        return out

    def jacobian(self, state):
        return CouplingJacobian(local_slope(self.func, self.derivative, state.x, np.maximum(state.m, 0.0)))
