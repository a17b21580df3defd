"""Constraints for differential evolution.

- :class:`Simplex`: long-only portfolio weights summing to one (optional
  per-asset caps), enforced by *repair*: every trial is mapped onto the
  capped simplex before it is evaluated, so no evaluation is wasted.
- scipy's ``LinearConstraint`` / ``NonlinearConstraint``: handled by
  Lampinen's rule (2002), as scipy does: a feasible trial beats an
  infeasible parent; two feasible ones compare by f; two infeasible ones by
  constraint violation, the trial winning if it violates no constraint more.
  Infeasible trials are not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import LinearConstraint, NonlinearConstraint

from meanfolio._validation import check_array

__all__ = ["Simplex", "constraint_violation", "lampinen_accept"]


@dataclass(frozen=True)
class Simplex:
    r"""Long-only portfolio weights: the capped simplex, enforced by repair in differential evolution.

    .. math::

        \Delta_c = \Big\{ w \in \mathbb{R}^n : 0 \le w_i \le c_i,\ \sum_{i=1}^n w_i = 1 \Big\},
        \qquad c_i = \min(\text{caps}_i, 1),

    non-empty iff :math:`\sum_i c_i \ge 1`. Pass it as ``constraints=Simplex(n)`` to
    :func:`~meanfolio.optimize.differential_evolution`, with bounds [0, cap_i] per asset: every
    trial, once mapped into the bounds, is *repaired* onto :math:`\Delta_c` before it is
    evaluated (clipped to [0, c_i], then the missing or excess mass is shared among the assets
    that can still move, in proportion to their weights, until the sum is 1 to within 1e-15),
    so no evaluation is wasted on an infeasible point. The population, ``x`` and every point
    the objective sees are feasible; there is no polishing under a Simplex.

    Parameters
    ----------
    n_assets : int
        The number n of weights; must equal the number of variables (the length of ``bounds``).
    caps : tuple of float, length n_assets, optional
        Per-asset upper bounds :math:`c_i \ge 0` (values above 1 act as 1), with
        :math:`\sum_i c_i \ge 1`; None (default) means 1 for every asset (the plain simplex).

    Attributes
    ----------
    n_assets : int
        As given.
    caps : tuple of float or None
        As given.

    Methods
    -------
    cap_array()
        The caps :math:`c_i = \min(\text{caps}_i, 1)` as an array of shape (n_assets,).

    Raises
    ------
    ValueError
        From ``cap_array()`` (called by ``differential_evolution``): if ``caps`` has the wrong
        length, a negative entry, or sums to less than 1; ``differential_evolution`` also
        refuses ``n_assets`` different from the number of variables, or two Simplex objects.

    See Also
    --------
    differential_evolution : the optimiser that applies the repair.

    Examples
    --------
    A mean-variance portfolio of three assets capped at 50 % each:

    >>> import numpy as np
    >>> from meanfolio.optimize import Simplex, differential_evolution
    >>> mu = np.array([0.05, 0.08, 0.12])
    >>> res = differential_evolution(lambda w: float(-mu @ w + 2.0 * w @ w), [(0, 0.5)] * 3,
    ...                              constraints=Simplex(3, caps=(0.5, 0.5, 0.5)), seed=0)
    >>> round(float(res.x.sum()), 12), bool(np.all((res.x >= 0) & (res.x <= 0.5)))
    (1.0, True)
    >>> Simplex(3, caps=(0.5, 0.5, 2.0)).cap_array()
    array([0.5, 0.5, 1. ])
    """

    n_assets: int
    caps: tuple[float, ...] | None = None

    def cap_array(self) -> np.ndarray:
        """The caps ``min(caps_i, 1)``, shape (n_assets,); ones when ``caps`` is None."""
        if self.caps is None:
            return np.ones(self.n_assets)
        caps = check_array("caps", self.caps, shape=(self.n_assets,), nonnegative=True)
        if caps.sum() < 1.0:
            raise ValueError(f"caps sum to {caps.sum():.6g} which is not allowed: expected sum(caps) >= 1")
        return np.minimum(caps, 1.0)


def _as_list(constraints):
    if constraints is None:
        return []
    if isinstance(constraints, (LinearConstraint, NonlinearConstraint, Simplex, dict)):
        return [constraints]
    return list(constraints)


def split_constraints(constraints) -> tuple[Simplex | None, list]:
    """(the Simplex repair if any, the scipy constraints)."""
    simplex, others = None, []
    for c in _as_list(constraints):
        if isinstance(c, Simplex):
            if simplex is not None:
                raise ValueError("constraints holds two Simplex objects: expected at most one")
            simplex = c
        elif isinstance(c, (LinearConstraint, NonlinearConstraint)):
            others.append(c)
        else:
            raise ValueError(
                f"constraints item {c!r} is not allowed: expected Simplex, LinearConstraint or NonlinearConstraint"
            )
    return simplex, others


def constraint_violation(constraints: list, X: np.ndarray) -> np.ndarray:
    """Violation of every constraint component at each row of X, shape (rows, m), >= 0."""
    cols = []
    for c in constraints:
        if isinstance(c, LinearConstraint):
            vals = X @ np.atleast_2d(c.A).T
        else:
            vals = np.array([np.atleast_1d(c.fun(x)) for x in X], dtype=np.float64)
        lb = np.broadcast_to(np.asarray(c.lb, dtype=np.float64), vals.shape[1:])
        ub = np.broadcast_to(np.asarray(c.ub, dtype=np.float64), vals.shape[1:])
        cols.append(np.maximum(lb - vals, 0.0) + np.maximum(vals - ub, 0.0))
    return np.hstack(cols) if cols else np.zeros((X.shape[0], 0))


def lampinen_accept(cv_trial: np.ndarray, cv_parent: np.ndarray, f_trial, f_parent) -> np.ndarray:
    """Lampinen's rule for each row: True where the trial replaces its parent."""
    t_ok = np.all(cv_trial <= 0, axis=1)
    p_ok = np.all(cv_parent <= 0, axis=1)
    both = t_ok & p_ok & (np.asarray(f_trial) <= np.asarray(f_parent))
    better_feasible = t_ok & ~p_ok
    both_bad = ~t_ok & ~p_ok & np.all(cv_trial <= cv_parent, axis=1)
    return both | better_feasible | both_bad
