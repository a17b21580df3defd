"""Couplings f(x, m(t)) of the HJB equation and terminal costs g(x, m(T)).

A coupling maps the state of the population at each implicit step to a cost
on the grid, and gives its derivative for Newton's method:

    dF_i/dm_j = diag_i * delta_ij + sum_k c_k[i] * w_k[j]       (CouplingJacobian)

Non-local couplings that depend on m through a few moments contribute
rank-one terms ``c w^T`` (with ``w`` the moment's weights), so Newton's
Jacobian stays sparse: no dense nx-by-nx block is ever formed.

Couplings add: ``MeanTracking(1.0) + RunningCost(f)`` is a coupling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from meanfolio._validation import check_array, check_number

from .differences import finite_cost, local_slope

__all__ = [
    "Congestion",
    "Coupling",
    "CouplingJacobian",
    "CouplingState",
    "LocalCoupling",
    "LogDensity",
    "MarketImpact",
    "MeanInteraction",
    "MeanTracking",
    "RunningCost",
    "Scaled",
    "as_coupling",
]


@dataclass
class CouplingState:
    """What a coupling sees at N implicit steps at once (arrays are (N, nx)).

    ``steps`` are the indices of the time grid at which f is evaluated; ``m``
    is the density entering the cost at those steps (M^{n+1} for the HJB step
    n, M^{nt-1} for the terminal cost). ``drift`` is the scheme's feedback
    alpha* from the same step's u and ``drift_mean_gradient`` the gradient of
    ``dx * sum(drift * m)`` with respect to that u; both are only filled in
    when a coupling has ``uses_control``.

    In 2D the nodes are flattened: ``x`` and ``y`` are the coordinates of the
    ny*nx nodes, ``m`` is (N, ny*nx) and ``dx`` is the cell area dx*dy; ``y``
    is None in 1D.
    """

    x: np.ndarray
    dx: float
    t: np.ndarray
    steps: np.ndarray
    m: np.ndarray
    drift: np.ndarray | None = None
    drift_mean_gradient: np.ndarray | None = None
    y: np.ndarray | None = None
    #: 2D only: the y component of the feedback and the gradient of its mean
    drift_y: np.ndarray | None = None
    drift_mean_gradient_y: np.ndarray | None = None


@dataclass
class CouplingJacobian:
    """dF/dm = diag(dm_diag) + sum c w^T ; dF/du = sum c w^T (pairs of (N, nx) arrays)."""

    dm_diag: np.ndarray
    dm_lowrank: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    du_lowrank: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def __add__(self, other: CouplingJacobian) -> CouplingJacobian:
        return CouplingJacobian(
            self.dm_diag + other.dm_diag,
            self.dm_lowrank + other.dm_lowrank,
            self.du_lowrank + other.du_lowrank,
        )


class Coupling:
    """Base class. Subclasses implement ``value`` and ``jacobian``."""

    #: True when the cost depends on the population's controls (needs drift).
    uses_control: bool = False
    #: False for costs that do not depend on m (a given f(t, x)).
    depends_on_m: bool = True

    def value(self, state: CouplingState) -> np.ndarray:
        """F of shape (N, nx)."""
        raise TypeError(f"{type(self).__name__} does not define value()")

    def jacobian(self, state: CouplingState) -> CouplingJacobian:
        raise TypeError(f"{type(self).__name__} does not define jacobian()")

    def validate(self, nt: int, nx: int) -> None:
        """Check sizes against the grid (raise ValueError)."""

    def __add__(self, other: Coupling) -> Coupling:
        return CouplingSum((self, as_coupling(other, "coupling")))

    __radd__ = __add__


@dataclass(frozen=True)
class CouplingSum(Coupling):
    terms: tuple[Coupling, ...]

    @property
    def uses_control(self) -> bool:  # type: ignore[override]
        return any(t.uses_control for t in self.terms)

    @property
    def depends_on_m(self) -> bool:  # type: ignore[override]
        return any(t.depends_on_m for t in self.terms)

    def value(self, state):
        return sum(t.value(state) for t in self.terms)

    def jacobian(self, state):
        jac = self.terms[0].jacobian(state)
        for t in self.terms[1:]:
            jac = jac + t.jacobian(state)
        return jac

    def validate(self, nt, nx):
        for t in self.terms:
            t.validate(nt, nx)

    def __add__(self, other):
        return CouplingSum((*self.terms, as_coupling(other, "coupling")))


def _zeros(state: CouplingState) -> np.ndarray:
    return np.zeros_like(state.m)


def _axes(state: CouplingState) -> tuple[np.ndarray, ...]:
    """The node coordinates per axis: (x,) in 1D, (x, y) in 2D."""
    return (state.x,) if state.y is None else (state.x, state.y)


@dataclass(frozen=True, eq=False)
class RunningCost(Coupling):
    """A cost that does not depend on m: an array f of shape (nt, nx) or (nx,),
    or a vectorised callable ``f(t, x)`` (t of shape (N, 1), x of shape (nx,));
    in 2D ``f(t, x, y)`` with x, y the flattened node coordinates.

    The HJB step from t_{n+1} back to t_n uses row n of an (nt, nx) array.
    """

    f: np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray]
    depends_on_m = False

    def validate(self, nt, nx):
        if callable(self.f):
            return
        f = check_array("f", self.f)
        if f.shape not in ((nt, nx), (nx,), ()):
            raise ValueError(
                f"f has shape {f.shape} which is not allowed: expected (nt, nx) = ({nt}, {nx}), "
                f"(nx,) = ({nx},) or a scalar"
            )

    def value(self, state):
        if callable(self.f):
            space = (state.x[None, :],) if state.y is None else (state.x[None, :], state.y[None, :])
            out = np.asarray(self.f(state.t[:, None], *space), dtype=np.float64)
            out = np.broadcast_to(out, state.m.shape).copy()
            if not np.all(np.isfinite(out)):
                raise ValueError("f(t, x) returned non-finite values: expected finite costs")
            return out
        f = np.asarray(self.f, dtype=np.float64)
        return np.broadcast_to(f if f.ndim <= 1 else f[state.steps], state.m.shape).copy()

    def jacobian(self, state):
        return CouplingJacobian(_zeros(state))


@dataclass(frozen=True)
class Congestion(Coupling):
    """Local congestion cost ``scale * m^power`` (power > 0, scale >= 0): monotone."""

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
    """Crowd aversion ``scale * log(max(m, floor))`` (floor > 0 keeps it finite)."""

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
    """A user local coupling ``func(x, m)`` (vectorised), with optional ``derivative(x, m)``.

    ``func`` is only evaluated at m >= 0, so it may be defined on densities
    only (``np.log(m + 1e-300)``, ``np.sqrt(m)``); at m < 0 (a Newton iterate
    on its way, never the returned density) the cost is extended linearly
    from m = 0. Without ``derivative`` (or where it is not finite), Newton
    uses differences inside m >= 0 (``differences.density_slope``).
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


@dataclass(frozen=True)
class MeanTracking(Coupling):
    """Non-local ``(q/2) |x - mbar|^2`` with ``mbar = int x m dx``: herding toward the mean.

    In 2D both coordinates count: ``(q/2) [(x - xbar)^2 + (y - ybar)^2]``.
    """

    q: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "q", check_number("q", self.q))

    def value(self, state):
        out = _zeros(state)
        for z in _axes(state):
            zbar = (state.m * z).sum(axis=-1, keepdims=True) * state.dx
            out += 0.5 * self.q * (z - zbar) ** 2
        return out

    def jacobian(self, state):
        pairs = []
        for z in _axes(state):
            zbar = (state.m * z).sum(axis=-1, keepdims=True) * state.dx
            pairs.append((-self.q * (z - zbar), np.broadcast_to(z * state.dx, state.m.shape).copy()))
        return CouplingJacobian(_zeros(state), dm_lowrank=pairs)


@dataclass(frozen=True)
class MeanInteraction(Coupling):
    """Non-local bilinear ``lam * x * mbar`` with ``mbar = int x m dx``: crowding of a position.

    An agent holding x of an asset whose return falls by ``lam`` per unit of
    the crowd's mean holding mbar pays ``lam x mbar`` per unit time (the
    crowding term of ``meanfolio.games.AllocationGame``). Monotone in the
    Lasry-Lions sense for lam >= 0: int (F(m1) - F(m2)) d(m1 - m2) = lam (mbar1 - mbar2)^2.
    In 2D both coordinates count: ``lam (x xbar + y ybar)``.
    """

    lam: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "lam", check_number("lam", self.lam))

    def value(self, state):
        out = _zeros(state)
        for z in _axes(state):
            out += self.lam * z * (state.m * z).sum(axis=-1, keepdims=True) * state.dx
        return out

    def jacobian(self, state):
        pairs = [
            (np.broadcast_to(self.lam * z, state.m.shape).copy(), np.broadcast_to(z * state.dx, state.m.shape).copy())
            for z in _axes(state)
        ]
        return CouplingJacobian(_zeros(state), dm_lowrank=pairs)


@dataclass(frozen=True)
class MarketImpact(Coupling):
    """Permanent price impact of the population's trading: ``-lam * x * alpha_bar(t)``.

    The price drifts at ``lam * alpha_bar`` with ``alpha_bar = int alpha* dm``
    the mean trading rate (Carmona & Lacker 2015), so an agent holding x gains
    ``lam * x * alpha_bar`` per unit time. This is a mean-field game of
    controls: the cost depends on u through alpha*.
    """

    lam: float = 1.0
    uses_control = True

    def __post_init__(self):
        object.__setattr__(self, "lam", check_number("lam", self.lam))

    @staticmethod
    def _components(state):
        """(coordinate, drift, gradient of the mean drift) per axis: one in 1D, two in 2D
        (in 2D the cost is -lam (x alpha_bar_x + y alpha_bar_y): two assets, each with its impact)."""
        if state.drift is None:
            raise ValueError("MarketImpact needs the population's drift; it cannot be a terminal cost")
        comps = [(state.x, state.drift, state.drift_mean_gradient)]
        if state.y is not None:
            comps.append((state.y, state.drift_y, state.drift_mean_gradient_y))
        return comps

    def value(self, state):
        out = _zeros(state)
        for z, drift, _ in self._components(state):
            out -= self.lam * z * (drift * state.m).sum(axis=-1, keepdims=True) * state.dx
        return out

    def jacobian(self, state):
        dm, du = [], []
        for z, drift, gradient in self._components(state):
            c = np.broadcast_to(-self.lam * z, state.m.shape).copy()
            dm.append((c, drift * state.dx))
            du.append((c, gradient))
        return CouplingJacobian(_zeros(state), dm_lowrank=dm, du_lowrank=du)


@dataclass(frozen=True)
class Scaled(Coupling):
    """``factor * coupling``: the homotopy used by continuation in the coupling strength."""

    coupling: Coupling
    factor: float

    @property
    def uses_control(self) -> bool:  # type: ignore[override]
        return self.coupling.uses_control

    @property
    def depends_on_m(self) -> bool:  # type: ignore[override]
        return self.coupling.depends_on_m

    def validate(self, nt, nx):
        self.coupling.validate(nt, nx)

    def value(self, state):
        return self.factor * self.coupling.value(state)

    def jacobian(self, state):
        jac = self.coupling.jacobian(state)
        f = self.factor
        return CouplingJacobian(
            f * jac.dm_diag,
            [(f * c, w) for c, w in jac.dm_lowrank],
            [(f * c, w) for c, w in jac.du_lowrank],
        )


def as_coupling(value, name: str) -> Coupling:
    """Accept a Coupling, an array (a given cost), a callable f(t, x) or None (zero)."""
    if value is None:
        return RunningCost(np.zeros(()))
    if isinstance(value, Coupling):
        return value
    if callable(value):
        return RunningCost(value)
    try:
        return RunningCost(check_array(name, value))
    except ValueError as exc:
        raise ValueError(
            f"{name} = {type(value).__name__} is not allowed: expected a Coupling, an array, "
            f"a callable f(t, x) or None ({exc})"
        ) from exc
