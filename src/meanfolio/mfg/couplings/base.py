"""The coupling interface: the population state a coupling sees, its Jacobian, sums and scalings,
and the running cost given as an array or a callable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from meanfolio._validation import check_array

__all__ = ["Coupling", "CouplingJacobian", "CouplingState", "CouplingSum", "RunningCost", "Scaled", "as_coupling"]


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

    Attributes
    ----------
    uses_control : bool
        True when the cost depends on the population's controls: the solver then fills in
        ``state.drift`` and ``state.drift_mean_gradient`` (default False).
    depends_on_m : bool
        False for costs that do not depend on m, such as a given :math:`f(t, x)` (default True).

    Methods
    -------
    value(state)
        Required: the cost F at the N implicit steps of ``state`` (a :class:`CouplingState`),
        an array of shape (N, nx) (cost per unit time); a fresh array, the caller may modify it.
    jacobian(state)
        Required for Newton's method: a ``CouplingJacobian`` with ``dm_diag`` of shape (N, nx)
        (the local part :math:`d`) and lists of rank-one pairs ``(c, w)`` of (N, nx) arrays for
        :math:`\partial F / \partial m` (``dm_lowrank``) and :math:`\partial F / \partial u`
        (``du_lowrank``, couplings with ``uses_control``).
    validate(nt, nx)
        Optional: check the coupling's own sizes against the grid, raising ValueError; the
        default accepts everything.

    Raises
    ------
    TypeError
        When the solver calls ``value`` or ``jacobian`` on a subclass that does not define them.

    See Also
    --------
    RunningCost, Congestion, LogDensity, LocalCoupling, MeanTracking, MeanInteraction, MarketImpact, Scaled

    Notes
    -----
    A subclass must implement ``value`` and ``jacobian`` (not abstract methods: the base
    raises TypeError when they are called) and set ``uses_control`` / ``depends_on_m`` when
    they differ from the defaults. The arrays of :class:`CouplingState` are (N, nx): in 2D the
    nodes are flattened (nx is then ny*nx), ``state.x``, ``state.y`` are their coordinates and
    ``state.dx`` the cell area. ``+`` builds a ``CouplingSum`` (values and Jacobians add), and
    arrays, callables ``f(t, x)`` and None are accepted wherever a coupling is, as a
    :class:`RunningCost`.

    References
    ----------
    .. [1] J.-M. Lasry, P.-L. Lions, "Mean field games", Jpn. J. Math. 2 (2007).

    Examples
    --------
    A local congestion cost :math:`F(m) = 2 m`, its Jacobian diagonal:

    >>> import numpy as np
    >>> from meanfolio.mfg import Coupling
    >>> from meanfolio.mfg.couplings import CouplingJacobian, CouplingState
    >>> class Crowd(Coupling):
    ...     def value(self, state):
    ...         return 2.0 * state.m
    ...     def jacobian(self, state):
    ...         return CouplingJacobian(np.full(state.m.shape, 2.0))
    >>> x = np.linspace(0.0, 1.0, 3)
    >>> state = CouplingState(x=x, dx=0.5, t=np.zeros(1), steps=np.zeros(1, dtype=int),
    ...                       m=np.array([[0.5, 1.0, 0.5]]))
    >>> (Crowd() + np.ones(3)).value(state)  # with a running cost 1
    array([[2., 3., 2.]])
    >>> Crowd().jacobian(state).dm_diag
    array([[2., 2., 2.]])
    """

    #: True when the cost depends on the population's controls (needs drift).
    uses_control: bool = False
    #: False for costs that do not depend on m (a given f(t, x)).
    depends_on_m: bool = True

    def value(self, state: CouplingState) -> np.ndarray:
        """F of shape (N, nx)."""
        raise TypeError(f"{type(self).__name__} does not define value()")

    def add_value(self, state: CouplingState, out: np.ndarray) -> None:
        """``out += F`` in place (out of shape (N, nx)); a coupling may override it to add its
        value without a temporary array (the solver sums the terms of f this way)."""
        out += self.value(state)

    def jacobian(self, state: CouplingState) -> CouplingJacobian:
        """dF/dm (and dF/du) as a :class:`CouplingJacobian` of (N, nx) arrays."""
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


def no_local_term(state: CouplingState) -> np.ndarray:
    """The ``dm_diag`` of a coupling without a local term: zeros of the shape of m as a read-only
    broadcast view, with no memory (a 2000 x 1000 array of fresh zero pages cost ~5 ms to map
    when read) and no accidental write (see :func:`all_zero`)."""
    return np.broadcast_to(np.zeros((), dtype=state.m.dtype), state.m.shape)


def all_zero(a: np.ndarray) -> bool:
    """Whether every entry of a is zero, at no cost for a broadcast scalar (:func:`no_local_term`)."""
    if a.size and not any(a.strides):
        return bool(a.flat[0] == 0.0)
    return not a.any()


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
        return CouplingJacobian(no_local_term(state))


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
