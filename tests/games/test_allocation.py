"""The allocation game against independent references: best-response iteration, scipy's
ODE/BVP solvers, Monte Carlo, and the project's own HJB-FP solver under refinement."""

import numpy as np
import pytest
from scipy.integrate import solve_bvp, solve_ivp
from scipy.optimize import minimize

from meanfolio.games import AllocationGame, solve_allocation_pde
from meanfolio.mfg import Linear, PowerLaw


def market(d=4, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    cov = A @ A.T / d * 0.05 + 0.01 * np.eye(d)
    return rng.uniform(0.02, 0.1, d), cov


def game(d=4, **kw):
    mu, cov = market(d)
    params = dict(risk_aversion=3.0, crowding=0.2, trading_cost=0.5, dispersion=0.3, horizon=2.0)
    params.update(kw)
    return AllocationGame(mu, cov, **params)


def player_utility(g, x_i, others, N):
    """Manager i's static utility written from the model (xbar includes its own holding)."""
    xbar = (x_i + others.sum(axis=0)) / N
    return (
        x_i @ (g.mu - g.crowding * xbar)
        - 0.5 * g.risk_aversion * x_i @ g.cov @ x_i
        - 0.5 * g.dispersion * (x_i - xbar) @ (x_i - xbar)
    )


@pytest.mark.parametrize("N", [1, 2, 5])
def test_static_equilibrium_is_the_fixed_point_of_best_responses(N):
    g = game()
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 0.5, size=(N, g.n_assets))  # asymmetric start
    for _ in range(200):
        previous = x.copy()
        for i in range(N):
            others = np.delete(x, i, axis=0)
            res = minimize(lambda z, o=others: -player_utility(g, z, o, N), x[i], method="BFGS", tol=1e-12)
            x[i] = res.x
        if np.abs(x - previous).max() < 1e-10:
            break
    for i in range(N):
        np.testing.assert_allclose(x[i], g.equilibrium(N), atol=1e-6)
    if N == 1:  # a single manager internalises all the crowding: the planner
        np.testing.assert_allclose(g.equilibrium(1), g.cooperative(), atol=1e-12)


def test_cooperative_maximises_welfare_and_price_of_anarchy():
    g = game()
    res = minimize(lambda x: -g.welfare(x), np.zeros(g.n_assets), method="BFGS", tol=1e-14)
    np.testing.assert_allclose(g.cooperative(), res.x, atol=1e-6)
    assert g.welfare(g.cooperative()) > g.welfare(g.equilibrium())
    assert g.price_of_anarchy() > 1.0
    free = game(crowding=0.0)
    np.testing.assert_allclose(free.equilibrium(), free.markowitz(), atol=1e-12)
    np.testing.assert_allclose(free.equilibrium(), np.linalg.solve(3.0 * free.cov, free.mu), rtol=1e-10)
    assert free.price_of_anarchy() == pytest.approx(1.0, abs=1e-12)
    # crowding shrinks every principal portfolio's position (ridge shrinkage)
    s, Q = g.eigen
    ratio = (Q.T @ g.equilibrium()) / (Q.T @ g.markowitz())
    np.testing.assert_allclose(ratio, 3.0 * s / (3.0 * s + 0.2), rtol=1e-10)


def test_n_player_equilibrium_tends_to_the_mean_field_at_rate_one_over_n():
    g = game()
    errors = [np.abs(g.equilibrium(N) - g.equilibrium()).max() for N in (10, 100, 1000)]
    assert errors[0] / errors[1] == pytest.approx(10, rel=0.1)
    assert errors[1] / errors[2] == pytest.approx(10, rel=0.02)


def _riccati(g):
    d, T = g.n_assets, g.horizon
    rhs = g.risk_aversion * g.cov + g.dispersion * np.eye(d)

    def backward(s, y):
        P = y.reshape(d, d)
        return -(P @ P / g.trading_cost - rhs).ravel()

    sol = solve_ivp(backward, (0, T), np.zeros(d * d), rtol=1e-12, atol=1e-14, dense_output=True)
    return lambda t: sol.sol(T - t).reshape(d, d)


def test_dynamic_mean_path_against_scipy_bvp():
    g = game()
    d, T, kappa = g.n_assets, g.horizon, g.trading_cost
    x0 = np.array([0.5, -0.1, 0.0, 0.2])
    sol = g.solve(x0, 400)
    P = _riccati(g)
    for n in (0, 137, 400):
        np.testing.assert_allclose(sol.gain_at(n), P(sol.t[n]), atol=1e-9)
    np.testing.assert_allclose(sol.gain[137], P(sol.t[137]), atol=1e-9)

    def fun(t, y):
        out = np.empty_like(y)
        for j, tj in enumerate(t):
            Pj = P(tj)
            out[:d, j] = (y[d:, j] - Pj @ y[:d, j]) / kappa
            out[d:, j] = Pj @ y[d:, j] / kappa - g.mu + (g.crowding - g.dispersion) * y[:d, j]
        return out

    mesh = np.linspace(0, T, 60)
    bvp = solve_bvp(fun, lambda a, b: np.r_[a[:d] - x0, b[d:]], mesh, np.zeros((2 * d, mesh.size)), tol=1e-10)
    assert bvp.status == 0
    ref = bvp.sol(sol.t)
    np.testing.assert_allclose(sol.mean, ref[:d].T, atol=1e-8)
    np.testing.assert_allclose(sol.offset, ref[d:].T, atol=1e-8)
    # the feedback at the mean is the mean's velocity
    n = 200
    np.testing.assert_allclose(sol.control(n, sol.mean[n]), fun(sol.t[n : n + 1], ref[:, n : n + 1])[:d, 0], atol=1e-7)
    np.testing.assert_allclose(sol.trading_rate[n], sol.control(n, sol.mean[n]), atol=1e-12)


def test_long_horizon_reaches_the_static_equilibrium_and_dispersion_drops_out():
    g = game(horizon=80.0)
    sol = g.solve(np.zeros(g.n_assets), 800)
    np.testing.assert_allclose(sol.mean[400], g.equilibrium(), atol=1e-9)
    other = game(horizon=80.0, dispersion=3.0)
    np.testing.assert_allclose(other.solve(np.zeros(4), 800).mean, sol.mean, atol=1e-12)


def test_crowd_covariance_against_the_lyapunov_ode():
    g = game(volatility=0.3)
    d, T, kappa = g.n_assets, g.horizon, g.trading_cost
    v0 = 0.02
    sol = g.solve(np.zeros(d), 50, initial_variance=v0)
    P = _riccati(g)

    def rhs(t, y):
        C, Pt = y.reshape(d, d), P(t)
        return (-(Pt @ C + C @ Pt) / kappa + 0.09 * np.eye(d)).ravel()

    ode = solve_ivp(rhs, (0, T), (v0 * np.eye(d)).ravel(), t_eval=sol.t, rtol=1e-11, atol=1e-13)
    _, Q = g.eigen
    for n in (10, 50):
        exact = (Q * sol.crowd_variance[n]) @ Q.T
        np.testing.assert_allclose(exact, ode.y[:, n].reshape(d, d), atol=1e-9)


def test_simulated_managers_follow_the_mean_field():
    g = game(volatility=0.3)
    x0 = np.full(4, 0.2)
    sim = g.simulate(2000, x0, seed=5, nt=400, initial_spread=0.1)
    sol = g.solve(x0, 400, initial_variance=0.01)
    # empirical mean within 4 standard errors of the exact mean path
    se = np.sqrt(sol.crowd_variance.max() / 2000)
    assert np.abs(sim.mean_holdings[0] - sol.mean).max() < 4 * se + 2e-3
    _, Q = g.eigen
    emp = np.cov((sim.holdings[-1] @ Q).T)
    np.testing.assert_allclose(np.diag(emp), sol.crowd_variance[-1], rtol=0.12)
    again = g.simulate(2000, x0, seed=5, nt=400, initial_spread=0.1)
    np.testing.assert_array_equal(again.holdings, sim.holdings)


def test_pde_route_agrees_with_the_riccati_route_under_refinement():
    g = game(d=3, volatility=0.2)
    x0 = np.full(3, 0.3)
    errors = []
    for nx, nt in ((50, 25), (100, 50), (200, 100)):
        r = solve_allocation_pde(g, x0, nx=nx, nt=nt, spread=0.1)
        assert r.converged
        for sol in r.solutions:
            assert sol.mass_error < 1e-12 and sol.m.min() >= 0
        errors.append((r.mean_error, np.abs(r.variance - r.exact_variance).max()))
    errors = np.array(errors)
    assert np.all(errors[:-1] / errors[1:] > 1.6), errors  # first order: ~2 per halving
    assert errors[-1, 0] < 4e-3 and errors[-1, 1] < 2e-3


def test_pde_route_beyond_quadratic_costs():
    g = game(d=2, volatility=0.1, horizon=1.0)
    x0 = np.array([0.8, -0.4])
    quad = solve_allocation_pde(g, x0, nx=120, nt=60)
    capped = solve_allocation_pde(g, x0, nx=120, nt=60, hamiltonian=Linear(0.2))
    sqrt_law = solve_allocation_pde(g, x0, nx=120, nt=60, hamiltonian=PowerLaw(3.0))
    assert capped.converged and sqrt_law.converged
    assert np.all(np.isnan(capped.exact_mean))
    # a participation cap bounds the crowd's mean trading speed
    speed = np.abs(np.diff(capped.mean, axis=0)) / np.diff(capped.solutions[0].t)[:, None]
    assert speed.max() <= 0.2 * 1.05
    assert np.abs(np.diff(quad.mean, axis=0) / np.diff(quad.solutions[0].t)[:, None]).max() > 0.25
    assert np.abs(sqrt_law.mean - quad.mean).max() > 1e-2


def test_epsilon_nash_rates():
    deterministic = game(d=3).epsilon_nash(np.zeros(3))
    assert deterministic.derived_rate == -2.0
    assert abs(deterministic.fitted_rate - deterministic.derived_rate) < 0.2
    noisy = game(d=3, volatility=0.2).epsilon_nash(np.zeros(3))
    assert noisy.derived_rate == -1.0
    assert abs(noisy.fitted_rate - noisy.derived_rate) < 0.2
    assert np.all(np.diff(noisy.gap) < 0) and np.all(noisy.gap > 0)
    spread = game(d=3).epsilon_nash(np.zeros(3), initial_variance=0.01)
    assert abs(spread.fitted_rate + 1.0) < 0.2


def test_epsilon_nash_gap_matches_simulated_best_response():
    # deterministic: the N-manager ODE system, Euler's O(dt) error only
    g = game(d=2)
    x0 = np.array([0.1, 0.0])
    exact = g.epsilon_nash(x0, [3]).gap[0]
    mf = g.simulate(3, x0, nt=4000)
    br = g.simulate(3, x0, nt=4000, deviator=True)
    assert mf.costs[0, 0] - br.costs[0, 0] == pytest.approx(exact, rel=0.01)
    # with noise: Monte Carlo with common random numbers, Richardson in dt
    g = game(d=2, volatility=0.2)
    exact = g.epsilon_nash(x0, [3]).gap[0]
    est, se = [], []
    for nt in (200, 400):
        diff = (
            g.simulate(3, x0, seed=7, nt=nt, n_paths=8000).costs[:, 0]
            - g.simulate(3, x0, seed=7, nt=nt, n_paths=8000, deviator=True).costs[:, 0]
        )
        est.append(diff.mean())
        se.append(diff.std() / np.sqrt(diff.size))
    assert abs(2 * est[1] - est[0] - exact) < 4 * (2 * se[1] + se[0])
    assert est[1] > 0.5 * exact


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(cov=[[0.04, 0.01], [0.0, 0.04]]), "cov is not symmetric"),
        (dict(cov=[[0.04, 0.05], [0.05, 0.04]]), "negative eigenvalue"),
        (dict(cov=[[0.04, 0.0], [0.0, 0.0]], crowding=0.0), "cov is singular and crowding = 0"),
        (dict(cov=np.eye(3)), r"cov has shape \(3, 3\)"),
        (dict(trading_cost=-1.0), "trading_cost = -1.0"),
        (dict(risk_aversion=0.0), "risk_aversion = 0.0"),
        (dict(crowding=-0.1), "crowding = -0.1"),
        (dict(horizon=0.0), "horizon = 0.0"),
        (dict(mu=[0.1, np.nan]), "mu contains 1 non-finite"),
        (dict(assets=["a"]), "assets has 1 names"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    params = dict(mu=[0.05, 0.08], cov=[[0.04, 0.01], [0.01, 0.09]], risk_aversion=2.0, crowding=0.1)
    params.update(trading_cost=0.1)
    params.update(kwargs)
    with pytest.raises(ValueError, match=message):
        AllocationGame(**params)


def test_bad_arguments_of_methods():
    g = game(d=2)
    with pytest.raises(ValueError, match="n_players = 0"):
        g.equilibrium(0)
    with pytest.raises(ValueError, match=r"x0 has shape \(3,\)"):
        g.solve(np.zeros(3))
    with pytest.raises(ValueError, match="n_players = 1"):
        g.epsilon_nash(np.zeros(2), [1, 2])
    with pytest.raises(ValueError, match="components"):
        solve_allocation_pde(g, np.zeros(2), components=[2])
