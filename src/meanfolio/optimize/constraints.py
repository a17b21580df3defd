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
    """Weights w >= 0 with sum(w) = 1 and w_i <= caps_i (caps default 1).

    Pass it as ``constraints=Simplex(n)``; bounds should be [0, cap] per asset.
    ``sum(caps) >= 1`` is required for the set to be non-empty.
    """

    n_assets: int
    caps: tuple[float, ...] | None = None

    def cap_array(self) -> np.ndarray:
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
