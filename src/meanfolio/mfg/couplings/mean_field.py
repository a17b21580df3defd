"""Non-local couplings through moments of the population: mean tracking, mean interaction, market impact.

Each depends on m (or on the controls) through a few moments, so its Jacobian is rank-one terms
``c w^T`` and Newton's Jacobian stays sparse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from meanfolio._validation import check_number

from .base import Coupling, CouplingJacobian, _axes, _zeros, no_local_term

__all__ = ["MarketImpact", "MeanInteraction", "MeanTracking"]


def _mean(state, z: np.ndarray) -> np.ndarray:
    """dx sum_i m_i z_i at each level, shape (N, 1): the population's mean of z. A
    matrix-vector product (no (N, nx) temporary, unlike ``(m * z).sum(-1)``)."""
    return (state.m @ z)[:, None] * state.dx


@njit(cache=True)
def _add_half_squares(out, z, zbar, c):
    """out[n, i] += (z_i - zbar_n)^2 c in one pass (the operations of ``MeanTracking.value``)."""
    for n in range(out.shape[0]):
        zb = zbar[n]
        row = out[n]
        for i in range(row.size):
            d = z[i] - zb
            row[i] += d * d * c


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
            zbar = _mean(state, z)
            term = np.subtract(z, zbar)  # 0.5 q (z - zbar)^2 in place, the same operations
            np.power(term, 2, out=term)
            term *= 0.5 * self.q
            out = term if out is None else np.add(out, term, out=out)
        return out

    def add_value(self, state, out):
        for z in _axes(state):
            if z.ndim != 1 or out.ndim != 2 or z.size != out.shape[1]:
                Coupling.add_value(self, state, out)  # (not the solver's layout: the plain way)
                return
        for z in _axes(state):
            _add_half_squares(out, z, _mean(state, z)[:, 0], 0.5 * self.q)

    def jacobian(self, state):
        pairs = []
        for z in _axes(state):
            c = np.subtract(_mean(state, z), z)  # -q (z - zbar), one new array
            c *= self.q
            # w = z dx at every level: a read-only broadcast view (the 1D solver keeps one row)
            pairs.append((c, np.broadcast_to(z * state.dx, state.m.shape)))
        return CouplingJacobian(no_local_term(state), dm_lowrank=pairs)


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
            out += self.lam * z * _mean(state, z)
        return out

    def jacobian(self, state):
        pairs = [
            (np.broadcast_to(self.lam * z, state.m.shape).copy(), np.broadcast_to(z * state.dx, state.m.shape).copy())
            for z in _axes(state)
        ]
        return CouplingJacobian(no_local_term(state), dm_lowrank=pairs)


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
        return CouplingJacobian(no_local_term(state), dm_lowrank=dm, du_lowrank=du)
