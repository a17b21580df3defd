"""The 1D space-time grid and its finite differences.

Neumann (no-flux) box: nodes ``x_i = x_min + i dx`` with ``dx = (x_max -
x_min) / (nx - 1)``, each node the centre of a cell of width dx, so a density
has mass ``dx * sum(m)``. Periodic: ``dx = (x_max - x_min) / nx`` and x_max is
identified with x_min.

One-sided differences of u at node i (arrays of the same shape as u):

    D- u_i = (u_i - u_{i-1}) / dx,   D+ u_i = (u_{i+1} - u_i) / dx

with ``D- u_0 = 0`` and ``D+ u_{nx-1} = 0`` in the no-flux box (Achdou &
Capuzzo-Dolcetta 2010) and circular differences when periodic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import MFGConfig

__all__ = ["Grid1D"]


@dataclass(frozen=True)
class Grid1D:
    """Space-time grid of an :class:`MFGConfig`."""

    x: np.ndarray  # (nx,)
    t: np.ndarray  # (nt,)
    dx: float
    dt: float
    periodic: bool

    @classmethod
    def from_config(cls, config: MFGConfig) -> Grid1D:
        periodic = config.boundary == "periodic"
        if periodic:
            dx = (config.x_max - config.x_min) / config.nx
            x = config.x_min + dx * np.arange(config.nx)
        else:
            x = np.linspace(config.x_min, config.x_max, config.nx)
            dx = float(x[1] - x[0])
        t = np.linspace(0.0, config.time_horizon, config.nt)
        return cls(x=x, t=t, dx=float(dx), dt=float(t[1] - t[0]), periodic=periodic)

    @property
    def nx(self) -> int:
        return self.x.size

    @property
    def nt(self) -> int:
        return self.t.size

    def backward_difference(self, u: np.ndarray) -> np.ndarray:
        """D- u along the last axis."""
        if self.periodic:
            return (u - np.roll(u, 1, axis=-1)) / self.dx
        d = np.zeros_like(u)
        d[..., 1:] = np.diff(u, axis=-1) / self.dx
        return d

    def forward_difference(self, u: np.ndarray) -> np.ndarray:
        """D+ u along the last axis."""
        if self.periodic:
            return (np.roll(u, -1, axis=-1) - u) / self.dx
        d = np.zeros_like(u)
        d[..., :-1] = np.diff(u, axis=-1) / self.dx
        return d

    def laplacian(self, u: np.ndarray) -> np.ndarray:
        """Discrete Laplacian (D+ u - D- u) / dx: symmetric, zero row and column sums."""
        return (self.forward_difference(u) - self.backward_difference(u)) / self.dx

    def mass(self, m: np.ndarray) -> np.ndarray:
        """Mass ``dx * sum(m)`` along the last axis."""
        return m.sum(axis=-1) * self.dx

    def moment(self, m: np.ndarray, order: int = 1) -> np.ndarray:
        """``dx * sum(x**order * m)`` along the last axis."""
        return (m * self.x**order).sum(axis=-1) * self.dx
