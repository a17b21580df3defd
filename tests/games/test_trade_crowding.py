"""Trade crowding (Cardaliaguet & Lehalle 2018): closed forms against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_bvp, solve_ivp

from meanfolio.games._lq import feedback_cost, optimal_cost, optimal_feedback
from meanfolio.games.trade_crowding import (
    crowding_deviation_problem,
    trade_crowding,
    trade_crowding_epsilon_nash,
)
from meanfolio.mfg import MarketImpact, MFGConfig, RunningCost, solve_mfg

# (kappa, phi, terminal_penalty, impact, horizon, q0)
BASE = (1.0, 0.5, 2.0, 1.5, 1.0, 1.0)
CASES = [
    BASE,
    (1.0, 0.5, 2.0, 1.5, 1.0, -2.0),
    (0.3, 2.0, 0.5, -0.8, 2.0, -1.5),
    (2.0, 0.1, 1.0, 5.0, 3.0, 2.0),
    (0.5, 0.0, 1.0, 2.0, 1.0, 0.7),
]


def bvp_reference(kappa, phi, A, alpha, T, q0):
    """(E, h1, h2) of the forward-backward system by collocation, h2 included as an unknown."""

    def rhs(t, y):
        E, h1, h2 = y
        speed = (h1 - 2.0 * h2 * E) / (2.0 * kappa)
        return np.vstack([speed, h1 * h2 / kappa - alpha * speed, h2**2 / kappa - phi])

    def bc(ya, yb):
        return np.array([ya[0] - q0, yb[1], yb[2] - A])

    t = np.linspace(0.0, T, 41)
    guess = np.vstack([np.full_like(t, q0), np.zeros_like(t), np.full_like(t, A)])
    sol = solve_bvp(rhs, bc, t, guess, tol=1e-10, max_nodes=200_000)
    assert sol.status == 0, sol.message
    return sol.sol


@pytest.mark.parametrize("case", [(1.0, 0.5, 2.0, 0.0, 1.0, 1.0), (0.4, 3.0, 0.2, 0.0, 2.0, -3.0)])
def test_no_impact_is_cartea_jaimungal(case):
    # Cartea, Jaimungal & Penalva (2015), chapter 6, with no own permanent impact (b = 0): gamma = sqrt(phi/k),
    # zeta = (A + sqrt(k phi)) / (A - sqrt(k phi)),
    # q(t) = q0 (zeta e^{gamma (T-t)} - e^{-gamma (T-t)}) / (zeta e^{gamma T} - e^{-gamma T}).
    kappa, phi, A, _, T, q0 = case
    sol = trade_crowding(*case, nt=100)
    gamma = np.sqrt(phi / kappa)
    zeta = (A + np.sqrt(kappa * phi)) / (A - np.sqrt(kappa * phi))
    tau = T - sol.t
    denominator = zeta * np.exp(gamma * T) - np.exp(-gamma * T)
    q = q0 * (zeta * np.exp(gamma * tau) - np.exp(-gamma * tau)) / denominator
    speed = -q0 * gamma * (zeta * np.exp(gamma * tau) + np.exp(-gamma * tau)) / denominator
    assert np.max(np.abs(sol.mean_inventory - q)) < 1e-12 * abs(q0)
    assert np.max(np.abs(sol.mean_speed - speed)) < 1e-11 * abs(q0)
    # phi = 0: the straight line q0 (1 - A t / (kappa + A T)).
    straight = trade_crowding(kappa, 0.0, A, 0.0, T, q0, nt=10)
    assert np.allclose(straight.mean_inventory, q0 * (1 - A * straight.t / (kappa + A * T)), rtol=0, atol=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_mean_inventory_matches_bvp(case):
    kappa = case[0]
    sol = trade_crowding(*case, nt=200)
    E, h1, h2 = bvp_reference(*case)(sol.t)
    assert np.max(np.abs(sol.mean_inventory - E)) < 1e-6
    assert np.max(np.abs(sol.h1 - h1)) < 1e-6
    assert np.max(np.abs(sol.h2 - h2)) < 1e-6
    assert np.max(np.abs(sol.mean_speed - (h1 - 2.0 * h2 * E) / (2.0 * kappa))) < 1e-6
    # the control is nu*(t, q) = (h1 - 2 h2 q)/(2 kappa), vectorised, and the mean speed is its value at E
    q = np.array([-1.0, 0.0, 2.5])
    assert np.allclose(sol.control(50, q), (h1[50] - 2.0 * h2[50] * q) / (2.0 * kappa), atol=1e-6)
    assert sol.control(50, sol.mean_inventory[50]) == pytest.approx(sol.mean_speed[50], abs=1e-12)


def test_crowding_changes_the_path():
    crowded, free = trade_crowding(*BASE), trade_crowding(*BASE[:3], 0.0, *BASE[4:])
    # liquidators facing sellers (alpha > 0) sell faster early, so they are slower at the end
    assert crowded.mean_speed[0] < free.mean_speed[0] < 0
    assert np.all(crowded.mean_inventory[1:] < free.mean_inventory[1:])
    assert abs(crowded.mean_speed[-1]) < abs(free.mean_speed[-1])
    summary = crowded.summary()
    assert summary["final_mean_inventory"] == crowded.mean_inventory[-1]
    fig = crowded.plot()
    assert len(fig.axes) == 3


def test_mfg_solver_converges_to_exact_mean_path():
    kappa, phi, A, alpha, T, q0 = BASE
    errors, distance_to_free = [], []
    for nx, nt in ((60, 25), (120, 50)):
        config = MFGConfig(nx=nx, nt=nt, x_min=-1.0, x_max=2.0, time_horizon=T, viscosity=0.01, tolerance=1e-9)
        x = np.linspace(config.x_min, config.x_max, nx)
        m0 = np.exp(-0.5 * ((x - q0) / 0.1) ** 2)
        # cost / (2 kappa): H = p^2/2, f = phi/(2 kappa) q^2 - alpha/(2 kappa) q nubar, g = A/(2 kappa) q^2
        f = RunningCost(phi / (2 * kappa) * x**2) + MarketImpact(alpha / (2 * kappa))
        sol = solve_mfg(config, m0, f, terminal=A / (2 * kappa) * x**2)
        assert sol.converged
        mean = (sol.m * sol.x).sum(axis=1) * (sol.x[1] - sol.x[0])
        exact = trade_crowding(*BASE, nt=nt - 1)
        free = trade_crowding(kappa, phi, A, 0.0, T, q0, nt=nt - 1)
        np.testing.assert_allclose(sol.t, exact.t, atol=1e-14)
        errors.append(np.max(np.abs(mean - exact.mean_inventory)))
        distance_to_free.append(np.max(np.abs(mean - free.mean_inventory)))
    assert errors[-1] < 0.015
    assert errors[0] / errors[1] > 1.5
    assert min(distance_to_free) > 5 * errors[-1]  # the impact is seen by the solver


@pytest.mark.parametrize(("variance", "rate"), [(0.0, -2.0), (0.5, -1.0)])
def test_epsilon_nash_rate(variance, rate):
    eps = trade_crowding_epsilon_nash(*BASE, initial_variance=variance)
    assert eps.derived_rate == rate
    assert np.all(eps.gap > 0)
    assert np.all(np.diff(eps.gap) < 0)
    assert abs(eps.fitted_rate - rate) < 0.2
    assert eps.gap[-1] < 1e-3 * eps.gap[0]


@pytest.mark.parametrize("n", [2, 5])
def test_gap_matches_direct_simulation(n):
    """Simulate the N-trader system: the deviator plays the exact best response of the
    deviation problem (optimal_feedback) or the mean-field feedback taken from the BVP."""
    kappa, phi, A, alpha, T, q0 = BASE
    reference = bvp_reference(*BASE)
    problem, _ = crowding_deviation_problem(*BASE, [n])
    best = optimal_feedback(problem)

    def mean_field(t, q):
        _, h1, h2 = reference(t)
        return (h1 - 2.0 * h2 * q) / (2.0 * kappa)

    def cost(deviate: bool) -> float:
        def rhs(t, y):
            q = y[:n]
            nu = mean_field(t, q)
            if deviate:
                F, h = best(t)
                nu[0] = -F[0, 0, 0] * q[0] - F[0, 0, 1] * q[1:].mean() + h[0, 0]
            running = kappa * nu[0] ** 2 + phi * q[0] ** 2 - alpha * q[0] * nu.mean()
            return np.append(nu, running)

        out = solve_ivp(rhs, (0.0, T), np.append(np.full(n, q0), 0.0), method="DOP853", rtol=1e-11, atol=1e-12)
        return out.y[-1, -1] + A * out.y[0, -1] ** 2

    simulated = cost(False) - cost(True)
    eps = trade_crowding_epsilon_nash(*BASE, n_players=[n])
    x0 = np.array([[q0, q0]])
    assert cost(True) == pytest.approx(optimal_cost(problem, x0)[0], rel=1e-8)
    assert cost(False) == pytest.approx(feedback_cost(problem, crowding_deviation_problem(*BASE, [n])[1], x0)[0])
    assert simulated > 0
    assert eps.gap[0] == pytest.approx(simulated, rel=1e-5)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("kappa", {"kappa": 0.0}),
        ("kappa", {"kappa": -1.0}),
        ("phi", {"phi": -0.1}),
        ("terminal_penalty", {"terminal_penalty": -1.0}),
        ("horizon", {"horizon": 0.0}),
        ("impact", {"impact": float("nan")}),
        ("q0", {"q0": float("inf")}),
        ("nt", {"nt": 0}),
        ("nt", {"nt": 2.5}),
    ],
)
def test_bad_input(name, kwargs):
    args = {"kappa": 1.0, "phi": 0.5, "terminal_penalty": 2.0, "impact": 1.0, "horizon": 1.0, "q0": 1.0, **kwargs}
    with pytest.raises(ValueError, match=name):
        trade_crowding(**args)
    if name != "nt":
        args.pop("nt", None)
        with pytest.raises(ValueError, match=name):
            trade_crowding_epsilon_nash(**args, n_players=[2, 3])


def test_bad_input_epsilon_nash():
    with pytest.raises(ValueError, match="initial_variance"):
        trade_crowding_epsilon_nash(*BASE, initial_variance=-1.0)
    with pytest.raises(ValueError, match="n_players"):
        trade_crowding_epsilon_nash(*BASE, n_players=[1, 2])
    # a trader's own impact alpha/N beats its penalties: no best response
    with pytest.raises(ValueError, match="impact"):
        trade_crowding_epsilon_nash(1.0, 0.0, 0.0, 10.0, 1.0, 1.0, n_players=[2, 5])
    with pytest.raises(ValueError, match="i = 999"):
        trade_crowding(*BASE, nt=10).control(999, 0.0)


@pytest.mark.parametrize(
    "params",
    [(0.1, 0.0, 0.0, 5.0, 5.0, 1.0), (0.1, 0.01, 0.0, 5.0, 5.0, 1.0), (0.1, 0.0, 0.3, -5.0, 5.0, 1.0)],
)
def test_large_impact_horizon_stays_finite_and_exact(params):
    # phi = A = 0 with alpha T / kappa = 250: D(T) once cancelled to 0 and gave inf/nan
    sol = trade_crowding(*params, nt=2000)
    assert np.all(np.isfinite(sol.mean_inventory)) and np.all(np.isfinite(sol.mean_speed))
    kappa, phi, A, _, _, q0 = params
    assert sol.mean_inventory[0] == pytest.approx(q0)
    assert kappa * sol.mean_speed[-1] + A * sol.mean_inventory[-1] == pytest.approx(0.0, abs=1e-10)
    if phi == 0 and A == 0:  # nothing to liquidate for: nobody trades
        np.testing.assert_allclose(sol.mean_inventory, q0, atol=1e-12)
        np.testing.assert_allclose(sol.mean_speed, 0.0, atol=1e-12)
