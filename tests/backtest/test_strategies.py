"""The game strategies: feasible weights against brute force and skfolio, the skfolio estimator contract,
trading along the equilibrium path."""

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize
from skfolio.model_selection import WalkForward, cross_val_predict
from skfolio.optimization import MeanRisk, ObjectiveFunction
from sklearn.base import clone

from meanfolio.backtest.constraints import closest_feasible, project_capped_simplex
from meanfolio.backtest.estimator import MeanFieldAllocation, default_prior
from meanfolio.data import load_sp500


@pytest.fixture(scope="module")
def window():
    returns, _ = load_sp500(start="2012-01-01", end="2014-12-31").returns("simple")
    return returns


def problem(n=9, seed=1):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    return rng.normal(0.1, 0.3, n), 3.0 * (A @ A.T / n * 0.05 + 0.01 * np.eye(n)) + 0.1 * np.eye(n)


def brute_force(target, metric, cap, K):
    """Exact optimum by enumeration: scipy's SLSQP on the full vector with the weights off each support of
    size K bounded to 0 (written here, independently of the module)."""
    n, best = target.size, None
    for support in itertools.combinations(range(n), K):
        bounds = [(0.0, cap if i in support else 0.0) for i in range(n)]
        start = np.zeros(n)
        start[list(support)] = 1.0 / K
        res = minimize(lambda w: 0.5 * (w - target) @ metric @ (w - target), start, method="SLSQP",
                       jac=lambda w: metric @ (w - target), bounds=bounds,
                       constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
                       options={"ftol": 1e-15})  # fmt: skip
        if best is None or res.fun < best[0]:
            best = (res.fun, support)
    return best


def test_projection_onto_the_capped_simplex():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50, 6))
    caps = np.full(6, 0.3)
    W = project_capped_simplex(Z, caps)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
    assert W.min() >= 0 and W.max() <= 0.3 + 1e-12
    # optimality: moving mass from a coordinate below its cap to one above 0 never gets closer to z
    for z, w in zip(Z, W, strict=True):
        d = z - w
        free = (w > 1e-12) & (w < 0.3 - 1e-12)
        assert np.ptp(d[free]) < 1e-9 if free.sum() > 1 else True


@pytest.mark.parametrize("K", [2, 3, 4])
def test_cardinality_search_finds_the_best_support(K):
    target, metric = problem()
    found = closest_feasible(target, metric, max_weight=0.6, cardinality=K, seed=3)
    exact, support = brute_force(target, metric, 0.6, K)
    assert found.method == "lshade+qp" and (found.weights > 0).sum() <= K
    assert found.distance == pytest.approx(exact, rel=1e-6), (np.flatnonzero(found.weights), support)
    assert found.weights.sum() == pytest.approx(1.0) and found.weights.max() <= 0.6 + 1e-12


def test_qp_satisfies_the_kkt_conditions():
    target, metric = problem(12, seed=4)
    res = closest_feasible(target, metric, max_weight=0.2)
    w, grad = res.weights, metric @ (res.weights - target)
    inner = (w > 1e-9) & (w < 0.2 - 1e-9)
    nu = grad[inner].mean()  # the budget's multiplier
    np.testing.assert_allclose(grad[inner], nu, atol=1e-7)
    assert np.all(grad[w <= 1e-9] >= nu - 1e-7) and np.all(grad[w >= 0.2 - 1e-9] <= nu + 1e-7)


def test_without_crowding_the_game_is_skfolio_markowitz(window):
    ours = MeanFieldAllocation(crowding=0.0, max_weight=0.3).fit(window).weights_
    markowitz = MeanRisk(objective_function=ObjectiveFunction.MAXIMIZE_UTILITY, risk_aversion=1.5,
                         prior_estimator=default_prior(), max_weights=0.3).fit(window).weights_  # fmt: skip
    np.testing.assert_allclose(ours, markowitz, atol=1e-5)
    crowded = MeanFieldAllocation(crowding=0.5, max_weight=0.3).fit(window)
    assert np.abs(crowded.weights_ - markowitz).max() > 0.02
    # crowding pulls the constrained holdings toward the ridge solution: smaller distance to equal weight
    ew = np.full(window.shape[1], 1 / window.shape[1])
    assert np.linalg.norm(crowded.weights_ - ew) < np.linalg.norm(markowitz - ew)


def test_trading_along_the_path_is_a_partial_move(window):
    n = window.shape[1]
    current = np.full(n, 1.0 / n)
    target = MeanFieldAllocation().fit(window).weights_
    slow = MeanFieldAllocation(previous_weights=current, trading_cost=0.05, holding_period=1 / 12).fit(window)
    fast = MeanFieldAllocation(previous_weights=current, trading_cost=1e-9, holding_period=1 / 12).fit(window)
    np.testing.assert_allclose(fast.weights_, target, atol=1e-6)
    # a costly trade moves part of the way: closer to the target than the start, but not there
    d_start, d_slow = np.linalg.norm(current - target), np.linalg.norm(slow.weights_ - target)
    assert 0.1 * d_start < d_slow < 0.9 * d_start


def test_estimator_contract_in_skfolio_walk_forward(window):
    est = MeanFieldAllocation(crowding=0.2, max_weight=0.25, cardinality=8, max_evaluations=1000)
    assert clone(est).get_params() == est.get_params()
    pred = cross_val_predict(est, window, cv=WalkForward(test_size=63, train_size=252))
    weights = np.array([p.weights for p in pred])
    assert weights.shape == (len(pred), window.shape[1]) and len(pred) >= 6
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-9)
    assert np.all((weights > 0).sum(axis=1) <= 8) and weights.max() <= 0.25 + 1e-9
    # same data, same seed: same weights
    again = cross_val_predict(est, window, cv=WalkForward(test_size=63, train_size=252))
    np.testing.assert_array_equal(weights, np.array([p.weights for p in again]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(max_weight=0.05), "max_weight = 0.05"),
        (dict(max_weight=0.2, cardinality=3), "cardinality = 3"),
        (dict(cardinality=0), "cardinality = 0"),
    ],
)
def test_infeasible_constraints_are_named(kwargs, message):
    target, metric = problem(10)
    with pytest.raises(ValueError, match=message):
        closest_feasible(target, metric, **kwargs)
