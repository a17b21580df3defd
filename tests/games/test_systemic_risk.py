"""Systemic risk game (Carmona-Fouque-Sun 2015): explicit Riccati, Nash property, epsilon-Nash, simulation."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from meanfolio.games._lq import LinearQuadratic, feedback_cost, optimal_cost, optimal_feedback
from meanfolio.games.systemic_risk import SystemicRiskModel, systemic_risk, systemic_risk_epsilon_nash

BASE = dict(a=1.0, q=0.5, epsilon=1.0, c=0.3, sigma=1.0, horizon=1.0)


def riccati_ode(a, q, eps, c, horizon, n_players, t):
    w = 1.0 if n_players is None else 1.0 - 1.0 / n_players**2
    sol = solve_ivp(
        lambda _, y: 2 * (a + q) * y + w * y**2 - (eps - q**2),
        (horizon, 0.0),
        [c],
        t_eval=t[::-1],
        method="DOP853",
        rtol=1e-13,
        atol=1e-14,
    )
    return sol.y[0][::-1]


@pytest.mark.parametrize(
    "a, q, eps, c, horizon, n_players",
    [
        (1.0, 0.5, 1.0, 0.3, 1.0, None),
        (1.0, 0.5, 1.0, 0.3, 1.0, 2),
        (0.1, 0.0, 2.0, 1.0, 1.0, 10),
        (3.0, 1.0, 2.0, 5.0, 2.0, None),
        (0.0, 1.0, 1.0, 0.0, 3.0, 5),  # eps = q^2: C = 0
        (0.0, 0.0, 1.0, 2.0, 2.0, 1),  # N = 1 with a + q = 0: R = 0, the limit branch
        (10.0, 2.0, 8.0, 0.5, 5.0, None),  # (a + q) T = 60: e^{(d+ - d-)T} would overflow the raw formula
    ],
)
def test_explicit_eta_equals_the_riccati_ode(a, q, eps, c, horizon, n_players):
    sol = systemic_risk(a, q, eps, c, 0.5, horizon, n_players=n_players, nt=50)
    reference = riccati_ode(a, q, eps, c, horizon, n_players, sol.t)
    np.testing.assert_allclose(sol.eta, reference, rtol=1e-10, atol=1e-13)
    w = 1.0 if n_players is None else 1.0 - 1.0 / n_players
    np.testing.assert_allclose(sol.gain, q + w * sol.eta, rtol=1e-15)
    assert sol.control(3, np.array([0.0, 1.0]), 0.5) == pytest.approx(sol.gain[3] * np.array([0.5, -0.5]))


def test_terminal_at_the_root_keeps_eta_constant():
    model = SystemicRiskModel(**BASE)
    root = model.eta_stationary(7)
    eta = systemic_risk(**{**BASE, "c": root}, n_players=7).eta
    np.testing.assert_allclose(eta, root, rtol=1e-12)
    A, C = 1 - 1 / 49, BASE["epsilon"] - BASE["q"] ** 2
    assert A * root**2 + 2 * (BASE["a"] + BASE["q"]) * root - C == pytest.approx(0.0, abs=1e-13)


def deviation_problem(model, n_players, others_gain):
    """The deviator's LQ problem in (X^i, Z = mean of the others), built here independently of the module."""
    N, m, a = n_players, 1 - 1 / n_players, model.a
    e = np.array([-1.0, 1.0])

    def A(t):
        g = others_gain(t)
        return np.array([[[-a * m, a * m], [(a + g) / N, -(a + g) / N]]])

    ee = np.outer(e, e)[None]
    return LinearQuadratic(
        model.horizon,
        A,
        np.array([[[1.0], [0.0]]]),
        np.ones((1, 1, 1)),
        model.epsilon * m**2 * ee,
        np.zeros((1, 2)),
        np.zeros((1, 2)),
        np.diag([model.sigma**2, model.sigma**2 / (N - 1)])[None],
        S=-model.q * m * e[None, None],
        G=model.c * m**2 * ee,
    )


def gain_feedback(n_players, gain):
    m = 1 - 1 / n_players
    return lambda t: (np.array([[[gain(t) * m, -gain(t) * m]]]), np.zeros((1, 1)))


@pytest.mark.parametrize("n_players", [2, 3, 10])
def test_closed_loop_nash_is_an_equilibrium_and_the_mean_field_is_not(n_players):
    model = SystemicRiskModel(**BASE)
    m = 1 - 1 / n_players

    def nash(t):
        return model.q + m * model.eta(t, n_players)

    def mean_field(t):
        return model.q + model.eta(t)

    x0, cov0 = np.zeros((1, 2)), np.diag([0.3, 0.3 / (n_players - 1)])[None]
    for others, player, expect_zero in ((nash, nash, True), (mean_field, mean_field, False)):
        problem = deviation_problem(model, n_players, others)
        best = optimal_cost(problem, x0, cov0)[0]
        gap = feedback_cost(problem, gain_feedback(n_players, player), x0, cov0)[0] - best
        if expect_zero:
            assert abs(gap) < 1e-9 * best
        else:
            assert gap > 1e-4 * best
            module = systemic_risk_epsilon_nash(**BASE, n_players=[n_players, 1000], initial_variance=0.3).gap[0]
            assert gap == pytest.approx(module, rel=1e-8)


def test_exact_gap_agrees_with_monte_carlo():
    """N = 3; deviator: mean-field feedback vs best response, same noise; Euler bias removed by Richardson."""
    model, N, n_paths, nt = SystemicRiskModel(**BASE), 3, 20000, 200
    exact = systemic_risk_epsilon_nash(**BASE, n_players=[N, 4]).gap[0]

    def gain(t):
        return model.q + model.eta(t)

    best = optimal_feedback(deviation_problem(model, N, gain))
    dW = np.random.default_rng(7).standard_normal((nt, n_paths, N)) * np.sqrt(model.horizon / nt)
    diffs = {}
    for steps, inc in ((nt, dW), (nt // 2, dW[0::2] + dW[1::2])):
        dt, costs = model.horizon / steps, []
        for deviator in ("mean field", "best response"):
            x, cost = np.zeros((n_paths, N)), np.zeros(n_paths)
            for k in range(steps):
                xbar = x.mean(axis=1, keepdims=True)
                alpha = gain(k * dt) * (xbar - x)
                if deviator == "best response":
                    F, h = best(k * dt)
                    alpha[:, 0] = h[0, 0] - F[0, 0, 0] * x[:, 0] - F[0, 0, 1] * x[:, 1:].mean(axis=1)
                d0, a0 = xbar[:, 0] - x[:, 0], alpha[:, 0]
                cost += (0.5 * a0**2 - model.q * a0 * d0 + 0.5 * model.epsilon * d0**2) * dt
                x = x + (model.a * (xbar - x) + alpha) * dt + model.sigma * inc[k]
            costs.append(cost + 0.5 * model.c * (x.mean(axis=1) - x[:, 0]) ** 2)
        diffs[steps] = costs[0] - costs[1]
    fine, coarse = diffs[nt].mean(), diffs[nt // 2].mean()
    extrapolated = 2 * diffs[nt] - diffs[nt // 2]
    se = extrapolated.std() / np.sqrt(n_paths)
    assert abs(extrapolated.mean() - exact) < 4 * se
    assert abs(fine - exact) < 4 * diffs[nt].std() / np.sqrt(n_paths) + 2 * abs(fine - coarse)
    assert se < 0.03 * exact  # the check has teeth


@pytest.mark.parametrize(
    "kw, rate",
    [
        (dict(sigma=1.0), -2.0),
        (dict(sigma=0.0, initial_variance=1.0), -2.0),
        (dict(sigma=1.0, mean="limit"), -1.0),
    ],
)
def test_fitted_epsilon_nash_rate(kw, rate):
    result = systemic_risk_epsilon_nash(**{**BASE, **kw})
    assert result.derived_rate == rate
    assert abs(result.fitted_rate - rate) < 0.2
    assert np.all(result.gap > 0) and np.all(np.diff(result.gap) < 0)


def test_without_lending_banks_are_independent_brownian_motions():
    sol = systemic_risk(0.0, 0.0, 0.0, 0.0, 0.8, 2.0, nt=100)
    assert np.all(sol.eta == 0.0)
    sim = sol.simulate(20, 1.0, seed=3, default_level=-50.0, n_paths=1000)
    x = sim.terminal - 1.0
    assert x.var() == pytest.approx(0.8**2 * 2.0, rel=0.03)  # 20000 samples: se 1%
    corr = np.corrcoef(x[:, :5].T)[np.triu_indices(5, 1)]
    assert np.all(np.abs(corr) < 0.1)


@pytest.mark.parametrize("n_players", [None, 10])
def test_lending_shrinks_the_deviation_to_its_closed_form_variance(n_players):
    model, n_banks, nt = SystemicRiskModel(a=1.0, q=0.5, epsilon=1.0, c=0.0, sigma=1.0, horizon=5.0), 10, 1000
    root = model.eta_stationary(n_players)
    sol = systemic_risk(1.0, 0.5, 1.0, root, 1.0, 5.0, n_players=n_players, nt=nt)  # eta = eta* on [0, T]
    expected = sol.stationary_deviation_variance(n_banks)
    rate = sol.gain[0] + model.a
    assert expected == pytest.approx((1 - 1 / n_banks) / (2 * rate))
    sim = sol.simulate(n_banks, 0.0, seed=11, default_level=-50.0, n_paths=2000)
    deviation = sim.terminal - sim.terminal.mean(axis=1, keepdims=True)
    euler = expected * 2 / (2 - rate * model.horizon / nt)  # the Euler scheme's stationary variance
    assert np.mean(deviation**2) == pytest.approx(euler, rel=0.04)
    assert expected < 0.1 * model.sigma**2 * model.horizon  # vs the variance of X^i itself without lending


def test_lending_lowers_individual_defaults_but_raises_systemic_events():
    runs = {}
    for a in (0.0, 10.0):
        sol = systemic_risk(a, 0.0, 0.0, 0.0, 1.0, 1.0, nt=200)
        runs[a] = sol.simulate(10, 0.0, seed=5, default_level=-0.7, n_paths=1000)
    assert runs[10.0].defaults.mean() < 0.5 * runs[0.0].defaults.mean()
    assert runs[10.0].systemic_fraction > runs[0.0].systemic_fraction + 0.02
    # the drifts sum to zero, so Xbar is the same Brownian motion with or without lending (same noise)
    assert runs[10.0].mean_hit.mean() == pytest.approx(runs[0.0].mean_hit.mean(), abs=0.005)


def test_simulation_is_seeded_and_stores_paths():
    sol = systemic_risk(**BASE, nt=50)
    one = sol.simulate(4, [0.0, 0.5, 1.0, 1.5], seed=2, default_level=-1.0, n_paths=3)
    two = sol.simulate(4, [0.0, 0.5, 1.0, 1.5], seed=2, default_level=-1.0, n_paths=3)
    assert one.paths.shape == (3, 51, 4) and one.paths.dtype == np.float64
    np.testing.assert_array_equal(one.paths, two.paths)
    np.testing.assert_array_equal(one.paths[:, -1], one.terminal)
    hit = ~np.isnan(one.default_time)
    assert np.array_equal(hit, (one.paths <= -1.0).any(axis=1)) and np.array_equal(one.defaults, hit.sum(axis=1))
    big = sol.simulate(100, 0.0, seed=2, default_level=-1.0, n_paths=500, nt=100)
    assert big.paths.shape == (198, 101, 100) and big.terminal.shape == (500, 100)
    assert sol.plot().axes and one.plot().axes
    assert sol.summary()["n_players"] == "mean field" and one.summary()["n_banks"] == 4


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: systemic_risk(**{**BASE, "horizon": 0.0}), "horizon"),
        (lambda: systemic_risk(**{**BASE, "sigma": -1.0}), "sigma"),
        (lambda: systemic_risk(**{**BASE, "q": 2.0}), "q^2 <= epsilon"),
        (lambda: systemic_risk(**{**BASE, "c": -0.1}), "c = "),
        (lambda: systemic_risk(**BASE, n_players=0), "n_players"),
        (lambda: systemic_risk(**BASE, nt=0), "nt"),
        (lambda: systemic_risk(**BASE).simulate(5, 0.0, seed=1, default_level=0.0), "default_level"),
        (lambda: systemic_risk(**BASE).simulate(5, 0.0, seed=1, default_level=-1, n_paths=0), "n_paths"),
        (lambda: systemic_risk(**BASE, n_players=3).simulate(5, 0.0, seed=1, default_level=-1), "n_banks"),
        (lambda: systemic_risk(**BASE).simulate(5, 0.0, seed=1, default_level=-1, nt=0), "nt"),
        (lambda: systemic_risk(**BASE).simulate(5, [0.0, 1.0], seed=1, default_level=-1), "x0"),
        (lambda: systemic_risk(**{**BASE, "a": -1.0}), "a = "),
        (lambda: systemic_risk_epsilon_nash(**{**BASE, "sigma": 0.0}), "initial_variance"),
        (lambda: systemic_risk_epsilon_nash(**BASE, n_players=[1, 2]), "n_players"),
        (lambda: systemic_risk_epsilon_nash(**BASE, mean="other"), "mean"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name.replace("^", r"\^")):
        call()
