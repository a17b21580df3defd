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

__all__ = ["Grid1D", "Grid2D"]


@dataclass(frozen=True)
class Grid1D:
    r"""Space-time grid of a 1D :class:`MFGConfig`: uniform nodes in x and in t.

    On a no-flux box the nodes are ``linspace(x_min, x_max, nx)``; on a periodic
    domain x_max is identified with x_min and :math:`dx = (x_{max} - x_{min})/nx`.
    A density m has mass :math:`dx \sum_i m_i`.

    Parameters
    ----------
    x : ndarray, shape (nx,)
        Space nodes.
    t : ndarray, shape (nt,)
        Time nodes on [0, T].
    dx, dt : float
        Steps.
    periodic : bool
        Periodic domain (else a no-flux box).

    Examples
    --------
    >>> from meanfolio.mfg import Grid1D, MFGConfig
    >>> grid = Grid1D.from_config(MFGConfig(nx=5, nt=3, x_min=-1, x_max=1))
    >>> grid.x, grid.dx, grid.dt
    (array([-1. , -0.5,  0. ,  0.5,  1. ]), 0.5, 0.5)
    >>> grid.laplacian(grid.x**2)   # 2 inside; one-sided at the no-flux ends
    array([-3.,  2.,  2.,  2., -3.])
    """

    x: np.ndarray  # (nx,)
    t: np.ndarray  # (nt,)
    dx: float
    dt: float
    periodic: bool

    @classmethod
    def from_config(cls, config: MFGConfig) -> Grid1D:
        return cls.uniform(config.nx, config.x_min, config.x_max, config.nt, config.time_horizon, config.boundary)

    @classmethod
    def uniform(cls, n: int, low: float, high: float, nt: int, horizon: float, boundary: str) -> Grid1D:
        """A grid of n nodes on [low, high] (periodic: high identified with low) and nt times on [0, horizon]."""
        periodic = boundary == "periodic"
        if periodic:
            dx = (high - low) / n
            x = low + dx * np.arange(n)
        else:
            x = np.linspace(low, high, n)
            dx = float(x[1] - x[0])
        t = np.linspace(0.0, horizon, nt)
        return cls(x=x, t=t, dx=float(dx), dt=float(t[1] - t[0]) if nt > 1 else 0.0, periodic=periodic)

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
        """Discrete Laplacian :math:`(D^+ u - D^- u)/dx` along the last axis: symmetric, zero row and column sums."""
        return (self.forward_difference(u) - self.backward_difference(u)) / self.dx

    def mass(self, m: np.ndarray) -> np.ndarray:
        """Mass ``dx * sum(m)`` along the last axis."""
        return m.sum(axis=-1) * self.dx

    def moment(self, m: np.ndarray, order: int = 1) -> np.ndarray:
        """``dx * sum(x**order * m)`` along the last axis."""
        return (m * self.x**order).sum(axis=-1) * self.dx


@dataclass(frozen=True)
class Grid2D:
    r"""Space-time grid of a 2D :class:`MFGConfig`: two 1D axes sharing the time grid.

    Arrays on it are (..., ny, nx); node (j, i) sits at :math:`(x_i, y_j)` and has
    the flat index ``j * nx + i``. A density has mass :math:`dx\, dy \sum m`.
    Differences along one axis are the 1D ones of that axis (see
    :meth:`along`), so the 2D scheme is the 1D scheme per coordinate.

    Parameters
    ----------
    gx, gy : Grid1D
        The x and y axes (same time grid).

    Examples
    --------
    >>> from meanfolio.mfg import Grid2D, MFGConfig
    >>> grid = Grid2D.from_config(MFGConfig(dim=2, nx=4, ny=3, nt=2))
    >>> grid.shape, grid.size
    ((3, 4), 12)
    """

    gx: Grid1D
    gy: Grid1D

    @classmethod
    def from_config(cls, config: MFGConfig) -> Grid2D:
        nt, T, bc = config.nt, config.time_horizon, config.boundary
        return cls(
            Grid1D.uniform(config.nx, config.x_min, config.x_max, nt, T, bc),
            Grid1D.uniform(config.ny, config.y_min, config.y_max, nt, T, bc),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return (self.gy.nx, self.gx.nx)

    @property
    def size(self) -> int:
        return self.gy.nx * self.gx.nx

    @property
    def cell(self) -> float:
        return self.gx.dx * self.gy.dx

    @property
    def t(self) -> np.ndarray:
        return self.gx.t

    @property
    def dt(self) -> float:
        return self.gx.dt

    @property
    def periodic(self) -> bool:
        return self.gx.periodic

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates X, Y of every node, each of shape (ny, nx)."""
        return np.meshgrid(self.gx.x, self.gy.x)

    @staticmethod
    def along(axis: int, a: np.ndarray) -> np.ndarray:
        """View of ``a`` (..., ny, nx) with ``axis`` (0 = x, 1 = y) last, for the 1D operators."""
        return a if axis == 0 else np.swapaxes(a, -1, -2)

    def axis(self, axis: int) -> Grid1D:
        return self.gx if axis == 0 else self.gy

    def laplacian(self, u: np.ndarray) -> np.ndarray:
        """5-point Laplacian of u (..., ny, nx): the sum of the 1D ones."""
        return self.gx.laplacian(u) + self.along(1, self.gy.laplacian(self.along(1, u)))

    def mass(self, m: np.ndarray) -> np.ndarray:
        """``dx dy sum(m)`` over the last two axes."""
        return m.sum(axis=(-2, -1)) * self.cell
