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

from .schemes.differences import finite_cost, local_slope

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
    r"""Base class of the couplings :math:`f(x, m(t))` of the HJB equation (and terminal costs :math:`g(x, m(T))`).

    A coupling maps the population's density at each implicit step to a cost on
    the grid and gives its derivative for Newton's method,

    .. math::

        \frac{\partial F_i}{\partial m_j} = d_i \delta_{ij} + \sum_k c_k[i]\, w_k[j],

    where non-local couplings that depend on m through a few moments contribute
    rank-one terms :math:`c w^\top`, so Newton's Jacobian stays sparse.
    Couplings add: ``MeanTracking(1.0) + RunningCost(f)`` is a coupling.
    Subclasses implement ``value(state)`` (shape (N, nx)) and ``jacobian(state)``.

    A coupling is monotone in the Lasry-Lions sense when
    :math:`\int (F(m_1) - F(m_2))\, d(m_1 - m_2) \ge 0`, which gives a unique
    equilibrium.

    See Also
    --------
    RunningCost, Congestion, LogDensity, LocalCoupling, MeanTracking, MeanInteraction, MarketImpact, Scaled

    References
    ----------
    .. [1] J.-M. Lasry, P.-L. Lions, "Mean field games", Jpn. J. Math. 2 (2007).
    """

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
        values = [t.value(state) for t in self.terms]
        if len(values) == 1:
            return 0 + values[0]
        out = values[0] + values[1]  # a new array: the rest is added in place
        for v in values[2:]:
            out += v
        return out

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
    # np.zeros, not zeros_like: fresh zero pages are only mapped when read or written
    return np.zeros(state.m.shape, dtype=state.m.dtype)


def _axes(state: CouplingState) -> tuple[np.ndarray, ...]:
    """The node coordinates per axis: (x,) in 1D, (x, y) in 2D."""
    return (state.x,) if state.y is None else (state.x, state.y)


@dataclass(frozen=True, eq=False)
class RunningCost(Coupling):
    r"""A running cost :math:`f(t, x)` that does not depend on m.

    The HJB step from :math:`t_{n+1}` back to :math:`t_n` uses row n of an (nt, nx) array.

    Parameters
    ----------
    f : array_like or callable
        An array of shape (nt, nx) or (nx,), or a vectorised callable
        ``f(t, x)`` (t of shape (N, 1), x of shape (nx,)); in 2D ``f(t, x, y)``
        with x, y the flattened node coordinates. Cost per unit time.

    Raises
    ------
    ValueError
        If the array's shape does not match the grid or the callable returns
        non-finite values (checked when the game is solved).
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
            full = np.broadcast_to(out, state.m.shape)  # (checked before the copy: the same values)
            if not np.all(np.isfinite(out)):
                raise ValueError("f(t, x) returned non-finite values: expected finite costs")
            return full.copy()
        f = np.asarray(self.f, dtype=np.float64)
        return np.broadcast_to(f if f.ndim <= 1 else f[state.steps], state.m.shape).copy()

    def jacobian(self, state):
        return CouplingJacobian(_zeros(state))


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


@dataclass(frozen=True)
class MeanTracking(Coupling):
    r"""Herding toward the mean: the non-local cost :math:`\tfrac{q}{2} (x - \bar m)^2`.

    Here :math:`\bar m = \int x\, m\, dx` is the crowd's mean position.

    In 2D both coordinates count: :math:`\tfrac{q}{2} [(x - \bar x)^2 + (y - \bar y)^2]`.
    With the quadratic Hamiltonian this is the linear-quadratic game of
    :class:`LQReference`.

    Parameters
    ----------
    q : float, default 1
        Strength (cost per unit time per squared unit of x).

    Raises
    ------
    ValueError
        If ``q`` is not a finite number.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.mfg import MeanTracking
    >>> from meanfolio.mfg.couplings import CouplingState
    >>> x = np.linspace(-1.0, 1.0, 5)
    >>> state = CouplingState(x=x, dx=0.5, t=np.zeros(1), steps=np.zeros(1, dtype=int),
    ...                       m=np.array([[0.0, 0.0, 1.0, 1.0, 0.0]]))   # mean 0.25
    >>> MeanTracking(q=2.0).value(state)
    array([[1.5625, 0.5625, 0.0625, 0.0625, 0.5625]])
    """

    q: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "q", check_number("q", self.q))

    def value(self, state):
        out = None
        for z in _axes(state):
            zbar = (state.m * z).sum(axis=-1, keepdims=True) * state.dx
            term = np.subtract(z, zbar)  # 0.5 q (z - zbar)^2 in place, the same operations
            np.power(term, 2, out=term)
            term *= 0.5 * self.q
            out = term if out is None else np.add(out, term, out=out)
        return out

    def jacobian(self, state):
        pairs = []
        for z in _axes(state):
            zbar = (state.m * z).sum(axis=-1, keepdims=True) * state.dx
            pairs.append((-self.q * (z - zbar), np.broadcast_to(z * state.dx, state.m.shape).copy()))
        return CouplingJacobian(_zeros(state), dm_lowrank=pairs)


@dataclass(frozen=True)
class MeanInteraction(Coupling):
    r"""Crowding of a position: the non-local bilinear cost :math:`\lambda\, x\, \bar m`.

    Here :math:`\bar m = \int x\, m\, dx` is the crowd's mean holding.

    An agent holding x of an asset whose return falls by :math:`\lambda` per unit
    of the crowd's mean holding pays :math:`\lambda x \bar m` per unit time (the
    crowding term of :class:`meanfolio.games.AllocationGame`). Monotone in the
    Lasry-Lions sense for :math:`\lambda \ge 0`:
    :math:`\int (F(m_1) - F(m_2))\, d(m_1 - m_2) = \lambda (\bar m_1 - \bar m_2)^2`.
    In 2D both coordinates count: :math:`\lambda (x \bar x + y \bar y)`.

    Parameters
    ----------
    lam : float, default 1
        :math:`\lambda`.

    Raises
    ------
    ValueError
        If ``lam`` is not a finite number.
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
    r"""Permanent price impact of the population's trading: the cost :math:`-\lambda\, x\, \bar\alpha(t)`.

    The price drifts at :math:`\lambda \bar\alpha` with :math:`\bar\alpha = \int \alpha^*\, dm`
    the mean trading rate, so an agent holding x gains :math:`\lambda x \bar\alpha`
    per unit time. This is a mean-field game of controls: the cost depends on u
    through :math:`\alpha^*`. It cannot be a terminal cost, and the particle and
    second-order solvers do not take it.

    Parameters
    ----------
    lam : float, default 1
        :math:`\lambda`, price change per unit of mean trading rate.

    Raises
    ------
    ValueError
        If ``lam`` is not a finite number.

    References
    ----------
    .. [1] R. Carmona, D. Lacker, "A probabilistic weak formulation of mean field
       games and applications", Ann. Appl. Probab. 25(3) (2015).
    .. [2] P. Cardaliaguet, C.-A. Lehalle, "Mean field game of controls and an
       application to trade crowding", Math. Financ. Econ. 12 (2018).
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
    """A coupling times a factor: the homotopy used by continuation in the coupling strength.

    Parameters
    ----------
    coupling : Coupling
        The coupling.
    factor : float
        Its multiplier.
    """

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
