"""Feasible weights closest to a target in a quadratic metric: the constraints the LQ game cannot take.

    minimise  1/2 (w - x)' M (w - x)
    over      w >= 0,  sum(w) = 1,  w_i <= max_weight,  at most K non-zero weights (cardinality).

With M = gamma Sigma + lam I (the Hessian of the allocation game's potential,
see :mod:`meanfolio.games.allocation`) and x the game's holdings, this is the
constrained mean-field equilibrium: the potential x.mu - lam/2 ``|x|^2`` -
gamma/2 x'Sigma x equals a constant minus 1/2 (w - x*)' M (w - x*).

Without a cardinality limit the problem is a convex QP and is solved exactly
(scipy's SLSQP from the capped-simplex projection of x, tolerance 1e-12).
With one it is non-convex (a choice among C(n, K) supports): L-SHADE
(``meanfolio.optimize.differential_evolution``) searches z in [0, 1]^n, each z
decoded by keeping its K largest entries and projecting them onto the capped
simplex; the best decoded support is then polished by the exact QP on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_integer, check_number

__all__ = ["FeasibleWeights", "closest_feasible", "project_capped_simplex"]


def project_capped_simplex(Z: np.ndarray, caps: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    r"""Euclidean projection of each row of Z onto the capped simplex.

    Projects onto :math:`\{0 \le w \le \text{caps},\ \sum_i w_i = 1\}` (restricted
    to ``mask``): :math:`w = \operatorname{clip}(z - \tau, 0, \text{caps})` with
    :math:`\tau` found by bisection (60 halvings: exact to round-off).

    Parameters
    ----------
    Z : array_like, shape (k, n) or (n,)
        Points to project, one per row.
    caps : ndarray, shape (n,)
        Upper bounds per asset (their sum over the allowed assets must be >= 1).
    mask : ndarray of bool, shape (k, n), optional
        Allowed assets per row (the others get 0).

    Returns
    -------
    ndarray, shape (k, n)

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.backtest import project_capped_simplex
    >>> project_capped_simplex(np.array([[0.9, 0.3, 0.1]]), np.full(3, 0.5))
    array([[0.5 , 0.35, 0.15]])
    """
    Z = np.atleast_2d(np.asarray(Z, dtype=np.float64))
    allowed = np.ones(Z.shape, dtype=bool) if mask is None else mask
    caps_rows = np.where(allowed, caps, 0.0)
    lo = (Z - caps_rows).min(axis=1, where=allowed, initial=np.inf) - 1.0
    hi = Z.max(axis=1, where=allowed, initial=-np.inf)
    for _ in range(60):
        tau = 0.5 * (lo + hi)
        total = np.clip(Z - tau[:, None], 0.0, caps_rows).sum(axis=1)
        too_much = total > 1.0
        lo = np.where(too_much, tau, lo)
        hi = np.where(too_much, hi, tau)
    W = np.clip(Z - 0.5 * (lo + hi)[:, None], 0.0, caps_rows)
    return W / W.sum(axis=1, keepdims=True)


@dataclass
class FeasibleWeights:
    r"""Result of :func:`closest_feasible`.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        The feasible weights.
    distance : float
        The objective :math:`\tfrac12 (w - x)^\top M (w - x)`.
    method : str
        The method used (``"qp"``, or L-SHADE with a cardinality).
    nfev : int
        Differential-evolution evaluations (0 for the QP).
    success : bool
        Whether the QP solver reported success.
    """

    weights: np.ndarray
    distance: float
    method: str
    nfev: int
    success: bool


def _qp(target: np.ndarray, metric: np.ndarray, caps: np.ndarray, support: np.ndarray) -> tuple[np.ndarray, bool]:
    """The convex QP with the weights outside ``support`` (indices) fixed at 0, started from the
    projection of the target. The objective is the full 1/2 (w - x)' M (w - x): the assets left out
    still pull the others through the off-diagonal terms of M."""
    c = caps[support]
    M_s = metric[np.ix_(support, support)]
    # with w_out = 0: the gradient on the support is M_s w_s - (M x)_s
    pull = (metric @ target)[support]
    start = project_capped_simplex(target[support], c)[0]
    res = minimize(
        lambda w: 0.5 * w @ M_s @ w - pull @ w,
        start,
        jac=lambda w: M_s @ w - pull,
        bounds=list(zip(np.zeros_like(c), c, strict=True)),
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 500},
    )
    w = np.zeros_like(target)
    chosen = np.where(res.x > 1e-12, res.x, 0.0)  # SLSQP leaves round-off where a bound is active
    w[support] = project_capped_simplex(np.clip(chosen, 0.0, c), c)[0] if res.success else start
    return w, bool(res.success)


def _distance(W: np.ndarray, target: np.ndarray, metric: np.ndarray) -> np.ndarray:
    D = W - target
    return 0.5 * np.einsum("ki,ij,kj->k", D, metric, D)


def closest_feasible(
    target,
    metric,
    *,
    max_weight: float = 1.0,
    cardinality: int | None = None,
    seed: SeedLike = 0,
    max_evaluations: int = 4000,
) -> FeasibleWeights:
    r"""Long-only, fully invested weights closest to a target in a quadratic metric.

    .. math::

        \min_w \tfrac12 (w - x)^\top M (w - x) \quad \text{s.t.}\quad w \ge 0,\ \sum_i w_i = 1,\
        w_i \le \bar w,\ \#\{i : w_i \ne 0\} \le K.

    With :math:`M = \gamma\Sigma + \lambda I` and x the allocation game's holdings this
    is the constrained mean-field equilibrium (:math:`\bar w` = ``max_weight``). Without a cardinality limit it is
    a convex QP solved exactly (SLSQP from the capped-simplex projection of x);
    with one, L-SHADE (:func:`meanfolio.optimize.differential_evolution`)
    searches the support and the exact QP polishes it.

    Parameters
    ----------
    target : array_like, shape (n,)
        The unconstrained holdings x.
    metric : array_like, shape (n, n)
        The symmetric positive definite metric M.
    max_weight : float, default 1
        Cap per weight in (0, 1]; n * max_weight >= 1 is required.
    cardinality : int, optional
        At most K holdings (1 <= K <= n, K * max_weight >= 1).
    seed : int, numpy.random.Generator or None, default 0
        Seed of L-SHADE (cardinality only).
    max_evaluations : int, default 4000
        L-SHADE's budget.

    Returns
    -------
    FeasibleWeights

    Raises
    ------
    ValueError
        If the constraints are infeasible or an argument has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.backtest import closest_feasible
    >>> res = closest_feasible([0.6, 0.5, -0.1], np.eye(3), max_weight=0.5)
    >>> res.weights.round(4), res.method
    (array([0.5, 0.5, 0. ]), 'qp')
    """
    from meanfolio.optimize import differential_evolution

    target = check_array("target", target, ndim=1)
    n = target.size
    metric = check_array("metric", metric, shape=(n, n))
    cap = check_number("max_weight", max_weight, low=0, high=1, low_inclusive=False)
    if n * cap < 1.0 - 1e-12:
        raise ValueError(f"max_weight = {cap} is not allowed with {n} assets: expected max_weight >= 1/{n}")
    caps = np.full(n, cap)
    if cardinality is None or cardinality >= n:
        if cardinality is not None:
            check_integer("cardinality", cardinality, low=1)
        w, ok = _qp(target, metric, caps, np.arange(n))
        return FeasibleWeights(w, float(_distance(w[None], target, metric)[0]), "qp", 0, ok)
    K = check_integer("cardinality", cardinality, low=1, high=n)
    if K * cap < 1.0 - 1e-12:
        raise ValueError(
            f"cardinality = {K} is not allowed with max_weight = {cap}: expected cardinality * max_weight >= 1"
        )
    max_evaluations = check_integer("max_evaluations", max_evaluations, low=100)

    def decode(Z: np.ndarray) -> np.ndarray:
        Z = np.atleast_2d(Z)
        keep = np.argpartition(-Z, K - 1, axis=1)[:, :K]
        mask = np.zeros(Z.shape, dtype=bool)
        np.put_along_axis(mask, keep, True, axis=1)
        return project_capped_simplex(Z, caps, mask)

    def objective(Z):  # vectorized: Z is (n, pop) as in scipy
        return _distance(decode(Z.T), target, metric)

    # start the population around the projection of the target, so good supports are found early
    rng = as_generator(seed)
    res = differential_evolution(
        objective, [(0.0, 1.0)] * n, strategy="lshade", maxfev=max_evaluations, seed=rng,
        vectorized=True, updating="deferred", polish=False, x0=np.clip(project_capped_simplex(target, caps)[0], 0, 1),
    )  # fmt: skip
    support = np.flatnonzero(decode(res.x)[0] > 0)
    w, ok = _qp(target, metric, caps, support)  # exact weights on the chosen support
    return FeasibleWeights(w, float(_distance(w[None], target, metric)[0]), "lshade+qp", int(res.nfev), ok)
