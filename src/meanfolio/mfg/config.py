"""`MFGConfig`: the discretisation and solver settings of a mean-field game."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from meanfolio._validation import check_choice, check_integer, check_interval, check_number

__all__ = ["BOUNDARIES", "METHODS", "SCHEMES", "MFGConfig"]

BOUNDARIES = ("neumann", "periodic")
METHODS = ("newton", "fixed_point", "fictitious_play", "policy_iteration")
SCHEMES = ("upwind", "second_order")


@dataclass(frozen=True)
class MFGConfig:
    r"""Grid and solver settings of a mean-field game, validated on construction.

    The game solved by :func:`~meanfolio.mfg.solve_mfg` is

    .. math::

        -\partial_t u - \nu \partial_{xx} u + H(x, \partial_x u) = f(x, m), \qquad
        \partial_t m - \nu \partial_{xx} m - \partial_x (m\, H_p(x, \partial_x u)) = 0,

    with :math:`m(0) = m_0` and :math:`u(T) = g`, on :math:`[x_{min}, x_{max}] \times [0, T]`
    (2D: the same with the gradient and Laplacian in (x, y)).

    Parameters
    ----------
    nx, nt : int
        Number of space points (>= 3) and of time points (>= 2, so nt - 1
        implicit steps of ``dt = time_horizon / (nt - 1)``). Arrays are (nt, nx).
    x_min, x_max : float
        The box [x_min, x_max], x_min < x_max.
    time_horizon : float
        T > 0.
    viscosity : float
        :math:`\nu \ge 0`, the diffusion of the agents (:math:`\sigma^2/2`).
    tolerance : float
        > 0; stop when the scaled residual of the discrete system (see
        ``meanfolio.mfg.residual_norm``) falls below it.
    max_iterations : int
        >= 1 outer iterations (Newton steps, or fixed-point sweeps).
    relaxation : float
        In (0, 1]: damping of the fixed-point and policy-iteration updates of m
        (the seed API's omega). Newton ignores it.
    boundary : {"neumann", "periodic"}
        No-flux box or periodic domain.
    method : {"newton", "fixed_point", "fictitious_play", "policy_iteration"}
        2D games are solved by Newton only.
    dim : {1, 2}
        Space dimension. In 2D arrays are (nt, ny, nx) on the box
        [x_min, x_max] x [y_min, y_max].
    ny, y_min, y_max : int, float, optional
        The second axis (2D only); default to nx, x_min, x_max.
    scheme : {"upwind", "second_order"}
        ``"upwind"`` (default): implicit Euler and the monotone upwind
        Hamiltonian, first order, m >= 0 and exact mass. ``"second_order"``:
        Crank-Nicolson and centred differences (``mfg.problems.second_order``), second
        order for smooth solutions, exact mass, not monotone; Newton only, and
        no couplings of the controls.

    Raises
    ------
    ValueError
        If a setting is out of range or two settings are incompatible (e.g.
        ``scheme="second_order"`` with a method other than Newton).

    Examples
    --------
    >>> from meanfolio.mfg import MFGConfig
    >>> config = MFGConfig(nx=100, nt=50, x_min=-3, x_max=3, viscosity=0.2)
    >>> config.replace(nx=200).nx, config.method
    (200, 'newton')
    >>> MFGConfig(dim=2, nx=40).ny   # the y axis defaults to the x axis
    40
    """

    nx: int = 200
    nt: int = 100
    x_min: float = -5.0
    x_max: float = 5.0
    time_horizon: float = 1.0
    viscosity: float = 0.1
    tolerance: float = 1e-6
    max_iterations: int = 100
    relaxation: float = 0.5
    boundary: str = "neumann"
    method: str = "newton"
    dim: int = 1
    ny: int | None = None
    y_min: float | None = None
    y_max: float | None = None
    scheme: str = "upwind"

    def __post_init__(self) -> None:
        # Normalise numbers (ints given for floats) after checking them.
        set_ = object.__setattr__
        set_(self, "nx", check_integer("nx", self.nx, low=3))
        set_(self, "nt", check_integer("nt", self.nt, low=2))
        x_min, x_max = check_interval("x_min", self.x_min, "x_max", self.x_max)
        set_(self, "x_min", x_min)
        set_(self, "x_max", x_max)
        set_(self, "time_horizon", check_number("time_horizon", self.time_horizon, low=0, low_inclusive=False))
        set_(self, "viscosity", check_number("viscosity", self.viscosity, low=0))
        set_(self, "tolerance", check_number("tolerance", self.tolerance, low=0, low_inclusive=False))
        set_(self, "max_iterations", check_integer("max_iterations", self.max_iterations, low=1))
        set_(
            self,
            "relaxation",
            check_number("relaxation", self.relaxation, low=0, high=1, low_inclusive=False),
        )
        check_choice("boundary", self.boundary, BOUNDARIES)
        check_choice("method", self.method, METHODS)
        check_choice("dim", self.dim, (1, 2))
        check_choice("scheme", self.scheme, SCHEMES)
        if self.scheme == "second_order" and self.method != "newton":
            raise ValueError(f"method = {self.method!r} is not allowed with scheme = 'second_order': expected 'newton'")
        if self.dim == 1:
            for name in ("ny", "y_min", "y_max"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} = {getattr(self, name)!r} is not allowed with dim = 1: expected None")
            return
        if self.method != "newton":
            raise ValueError(f"method = {self.method!r} is not allowed with dim = 2: expected 'newton'")
        set_(self, "ny", check_integer("ny", self.nx if self.ny is None else self.ny, low=3))
        y_min = self.x_min if self.y_min is None else self.y_min
        y_max = self.x_max if self.y_max is None else self.y_max
        y_min, y_max = check_interval("y_min", y_min, "y_max", y_max)
        set_(self, "y_min", y_min)
        set_(self, "y_max", y_max)

    def replace(self, **changes: Any) -> MFGConfig:
        """Return a copy with some fields changed (validated again)."""
        return MFGConfig(**{**asdict(self), **changes})

    def to_dict(self) -> dict[str, Any]:
        """The settings as a dict (JSON-ready)."""
        return asdict(self)
