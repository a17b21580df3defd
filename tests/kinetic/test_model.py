"""Kinetic model: moment model, wealth accounting, closed marginals, broker laws."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from meanfolio.kinetic import (
    KineticParams,
    bond_marginal,
    broker_price_law,
    preset,
    simulate,
    solve_moments,
    stock_marginal,
    wealth_step,
)


def _spec_moment_model(p: KineticParams, steps: int, X: float, Y: float) -> dict[str, np.ndarray]:
    """The moment model of spec section 2, written from the formulas (no package kernels).

    Explicit Euler, relative impact, tanh weight, prospect U_gamma; chartist signal = realised
    return averaged with memory tau (exact exponential step).
    """

    def U(z):
        d = z - p.u_gamma
        raw = lambda v: np.sign(v) * abs(v) ** p.u_alpha * (p.u_lambda if v < 0 else 1.0)  # noqa: E731
        return raw(d) - raw(-p.u_gamma)

    a = np.exp(-p.dt / p.chartist_memory)
    S, R = p.S0, 0.0
    out = {k: [] for k in ("S", "X", "Y", "ED")}
    for _ in range(steps + 1):
        gf = U(p.reversion * (p.s_f - S) / S) + p.dividend / S - p.rate
        gc = R + p.D_c / S - p.rate
        W = (1 + np.tanh(p.beta * p.weight_scale * (gf - gc))) / 2
        g = W * gf + (1 - W) * gc
        ED = p.mu * g * (Y if g > 0 else X)
        for k, v in zip(("S", "X", "Y", "ED"), (S, X, Y, ED), strict=True):
            out[k].append(v)
        S_new = S * (1 + p.kappa * ED * p.dt)
        ret = (S_new - S + p.dividend * p.dt) / S
        X, Y = X + ret * X + p.dt * ED, Y + p.dt * (p.rate * Y - ED)
        R = a * R + (1 - a) * (S_new - S) / (S * p.dt)
        S = S_new
    return {k: np.array(v) for k, v in out.items()}


def test_particles_and_moment_model_match_an_independent_implementation_of_the_spec():
    # Without noise the control (2) is linear in the agent's source account, so the mean of the
    # agents follows the moment model; both are compared with a from-the-formulas reimplementation.
    p = KineticParams(kappa=1.5, beta=1.0, sigma=0.0, dividend=0.02, rate=0.01, value_function="prospect",
                      u_gamma=0.05, chartist_memory=0.5)  # fmt: skip
    res = simulate(p, 5000, 1500, seed=3)
    ref = _spec_moment_model(p, 1500, res.series["X"][0], res.series["Y"][0])
    mom = solve_moments(p, 1500, X0=res.series["X"][0], Y0=res.series["Y"][0])
    assert res.refused_fraction == 0.0
    for name in ("S", "X", "Y", "ED"):
        np.testing.assert_allclose(res.series[name], ref[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(getattr(mom, name), ref[name], rtol=1e-9, atol=1e-12)
    assert np.ptp(ref["S"]) > 0.3  # the price really moved


@pytest.mark.parametrize(
    "choices",
    [
        {"price_impact": "absolute"},
        {"chartist_signal": "implicit", "kappa": 0.5},
        # u* = mu g Z_bar for all: nearly equal agents, so that no account is emptied
        {"transaction_cost": "absolute", "weight": "fundamentalist", "x0_logstd": 0.01, "y0_logstd": 0.01},
    ],
)
def test_deterministic_particles_follow_the_moment_model_for_other_choices(choices):
    base = dict(kappa=1.5, beta=1.0, sigma=0.0, dividend=0.02, rate=0.01, value_function="prospect")
    p = KineticParams(**{**base, **choices})
    res = simulate(p, 5000, 1500, seed=3)
    mom = solve_moments(p, 1500, X0=res.series["X"][0], Y0=res.series["Y"][0])
    assert res.refused_fraction == 0.0
    for name in ("S", "X", "Y", "ED"):
        np.testing.assert_allclose(res.series[name], getattr(mom, name), rtol=1e-9, atol=1e-12)
    # the choice matters: the default choices give a different path
    default = solve_moments(KineticParams(**base), 1500, X0=res.series["X"][0], Y0=res.series["Y"][0])
    assert np.max(np.abs(default.S - mom.S)) > 1e-3


def test_moment_model_follows_a_given_fundamental_path():
    # exp-OU fundamental: the row-n decision uses s_f(t_n) in both the particles and the moment model
    p = KineticParams(kappa=1.5, sigma=0.0, fundamental="exp_ou", value_function="prospect")
    res = simulate(p, 2000, 800, seed=4)
    mom = solve_moments(p, 800, X0=res.series["X"][0], Y0=res.series["Y"][0], s_f_path=res.series["s_f"])
    np.testing.assert_allclose(mom.S, res.series["S"], rtol=1e-9)
    np.testing.assert_allclose(mom.g, res.series["g"], rtol=1e-9, atol=1e-12)
    assert np.ptp(res.series["s_f"]) > 0.2


def test_moment_model_converges_at_first_order_in_dt():
    p = KineticParams(kappa=1.0, sigma=0.0, value_function="prospect", u_gamma=0.1)
    T = 2.0
    ref = solve_moments(p.replace(dt=T / 64000), 64000)
    errs = []
    for n in (500, 1000, 2000):
        sol = solve_moments(p.replace(dt=T / n), n)
        errs.append(abs(sol.S[-1] - ref.S[-1]) + abs(sol.X[-1] - ref.X[-1]))
    assert 1.7 < errs[0] / errs[1] < 2.3 and 1.7 < errs[1] / errs[2] < 2.3, errs


@pytest.mark.parametrize("noise, sigma", [("multiplicative", 0.1), ("additive", 0.05)])
def test_noisy_monte_carlo_mean_within_clt_bound(noise, sigma):
    # Refused interactions bias the mean (additive noise empties small accounts more often),
    # so the comparison is made where the kernel refuses (almost) nothing.
    p = KineticParams(kappa=1.0, sigma=sigma, noise=noise, chartist_memory=0.1)
    n_agents = 20000
    res = simulate(p, n_agents, 1000, seed=5)
    mom = solve_moments(p, 1000, X0=res.series["X"][0], Y0=res.series["Y"][0])
    assert res.refused_fraction == 0.0
    # standard error of the mean wealth at the end (the noise adds independent terms per agent)
    se_x = res.x.std() / np.sqrt(n_agents)
    se_y = res.y.std() / np.sqrt(n_agents)
    assert abs(res.series["X"][-1] - mom.X[-1]) < 5 * se_x
    assert abs(res.series["Y"][-1] - mom.Y[-1]) < 5 * se_y
    # and the noise is really there: the paths are not identical
    assert abs(res.series["X"][-1] - mom.X[-1]) > 1e-6


@settings(max_examples=50, deadline=None)
@given(
    mu1=st.floats(0.1, 5.0),
    mu2=st.floats(0.1, 5.0),
    g=st.floats(-0.15, 0.15),
    ret=st.floats(-0.05, 0.05),
    sigma=st.floats(0.0, 2.0),
)
def test_total_wealth_gets_no_control_and_no_noise(mu1, mu2, g, ret, sigma):
    rng = np.random.default_rng(0)
    x, y = rng.lognormal(0, 0.5, 50), rng.lognormal(0, 0.5, 50)
    xi = rng.normal(size=50)
    base = KineticParams(rate=0.03, dt=0.01, sigma=sigma, kernel="truncate")
    x1, y1, r1 = wealth_step(base.replace(mu=mu1), g, ret, x, y, xi)
    x2, y2, r2 = wealth_step(base.replace(mu=mu2, sigma=0.0), g, ret, x, y, xi)
    expected = x * (1 + ret) + y * (1 + base.rate * base.dt)
    ok = (r1 == 0) & (r2 == 0)
    np.testing.assert_allclose((x1 + y1)[ok], expected[ok], rtol=1e-12)
    np.testing.assert_allclose((x2 + y2)[ok], expected[ok], rtol=1e-12)
    assert np.all(x1 >= 0) and np.all(y1 >= 0)


def test_total_wealth_paths_do_not_depend_on_mu_when_returns_match():
    # A fixed price path with stock return equal to the bond rate: w grows like (1 + r dt)^n for any mu.
    rng = np.random.default_rng(2)
    x0, y0 = rng.lognormal(0, 0.3, 200), rng.lognormal(0, 0.3, 200)
    paths = []
    for mu in (0.2, 4.0):
        p = KineticParams(mu=mu, rate=0.05, dt=0.01)
        x, y = x0.copy(), y0.copy()
        for k in range(300):
            g = 0.1 * np.sin(k / 10)
            x, y, _ = wealth_step(p, g, p.rate * p.dt, x, y)
        paths.append(x + y)
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-12)
    np.testing.assert_allclose(paths[0], (x0 + y0) * (1 + 0.05 * 0.01) ** 300, rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 0.3])
def test_bond_marginal_is_the_closed_log_normal(sigma):
    p = preset("marginal_positive", sigma=sigma)
    res = simulate(p, 20000, 500, seed=11)
    g = res.series["g"][:-1]
    assert np.all(g > 0)
    law = bond_marginal(p, g, noise=sigma > 0)
    ks = stats.kstest(res.y, law.cdf)
    assert ks.pvalue > 1e-3, ks
    # the noise's log-variance growth sigma^2 t is visible
    assert np.var(np.log(res.y)) == pytest.approx(law.var_log, rel=0.05)
    # a wrong law (without the -sigma^2 t/2 or the +sigma^2 t) is rejected when there is noise
    if sigma > 0:
        assert stats.kstest(res.y, bond_marginal(p, g, noise=False).cdf).pvalue < 1e-6


@pytest.mark.parametrize("sigma", [0.0, 0.3])
def test_stock_marginal_is_the_closed_log_normal_when_g_is_negative(sigma):
    # s_f far below the price and W = 1: everybody sells, the stock marginal closes.
    p = KineticParams(
        s_f=0.4, weight="fundamentalist", kappa=0.05, mu=0.5, sigma=sigma, dividend=0.03,
        x0_logstd=0.3, y0_logstd=0.3, dt=0.002,
    )  # fmt: skip
    res = simulate(p, 20000, 500, seed=12)
    g = res.series["g"][:-1]
    assert np.all(g < 0)
    # the stock's return rate of step n: kappa ED_n + D / S_n (relative impact, no brokers)
    rate = p.kappa * res.series["ED"][:-1] + p.dividend / res.series["S"][:-1]
    law = stock_marginal(p, g, rate, noise=sigma > 0)
    assert stats.kstest(res.x, law.cdf).pvalue > 1e-3
    assert np.var(np.log(res.x)) == pytest.approx(law.var_log, rel=0.05)


def test_long_term_broker_price_law():
    # Every broker gets the same drift kappa ED, so ln s_j - mean(ln s) ~ N(0, sigma_B^2 t) whatever ED
    # was, and mean(ln s) - ln S = -sigma_B^2 t / 2 (the Ito correction: S is the brokers' mean).
    p = preset("long_term_brokers")
    res = simulate(p, 2000, 200, seed=4)
    t = res.series["t"][-1]
    logs = np.log(res.broker_prices)
    var = p.sigma_broker**2 * t
    assert stats.kstest((logs - logs.mean()) / np.sqrt(var), "norm").pvalue > 1e-3
    assert logs.var() == pytest.approx(var, rel=4 * np.sqrt(2 / logs.size))
    se = np.sqrt(var / logs.size) + np.sqrt(2 / logs.size) * var / 2  # mean of logs and the sample mean of s
    assert logs.mean() - np.log(res.series["S"][-1]) == pytest.approx(-var / 2, abs=4 * se)
    # the closed-form law with the run's ED path: not rejected; without the Ito term: rejected
    law = broker_price_law(p, res.series["ED"][:-1])
    assert stats.kstest(res.broker_prices, law.cdf).pvalue > 1e-3
    wrong = stats.lognorm(s=np.sqrt(var), scale=np.exp(law.mean_log + var / 2))
    assert stats.kstest(res.broker_prices, wrong.cdf).pvalue < 1e-6
    assert res.series["S"][-1] == pytest.approx(res.broker_prices.mean(), rel=1e-12)


def test_same_seed_same_run_on_one_and_two_threads():
    p = preset("long_term_varying", n_brokers=50, sigma_broker=0.1)
    runs = []
    for threads in (1, 2):
        runs.append(simulate(p, 5000, 100, seed=9, threads=threads))
    for name in runs[0].series:
        np.testing.assert_array_equal(runs[0].series[name], runs[1].series[name])
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    np.testing.assert_array_equal(runs[0].broker_prices, runs[1].broker_prices)
    other = simulate(p, 5000, 100, seed=10)
    assert not np.array_equal(other.x, runs[0].x)


def test_wealth_and_prices_stay_non_negative_under_harsh_noise():
    p = KineticParams(sigma=6.0, dt=0.01, n_brokers=20, sigma_broker=0.5, weight="fundamentalist")
    res = simulate(p, 4000, 300, seed=1)
    assert res.refused_fraction > 0.01  # the kernel really had to refuse interactions
    assert res.x.min() >= 0 and res.y.min() >= 0
    assert np.all(res.series["S"] > 0) and res.broker_prices.min() > 0
    trunc = simulate(p.replace(kernel="truncate"), 4000, 300, seed=1)
    assert trunc.x.min() >= 0 and trunc.y.min() >= 0
    assert trunc.refused_fraction < res.refused_fraction


def test_microscopic_model_has_noisy_demand():
    p = KineticParams(sigma=0.5)
    kin = simulate(p, 2000, 100, seed=2, model="kinetic")
    mic = simulate(p, 2000, 100, seed=2, model="microscopic")
    # same agents and numbers: kinetic ED is mu g Z_bar exactly, microscopic ED adds the mean noise
    # row n holds X, Y at t_n and the g and ED decided there
    g = kin.series["g"]
    zbar = np.where(g > 0, kin.series["Y"], kin.series["X"])
    np.testing.assert_allclose(kin.series["ED"], p.mu * g * zbar, rtol=1e-12)
    assert np.max(np.abs(mic.series["ED"] - kin.series["ED"])) > 1e-4


def test_return_estimate_is_the_spec_formula():
    from meanfolio.kinetic import return_estimate

    p = KineticParams(value_function="prospect", u_gamma=0.05, u_alpha=0.7, u_lambda=2.0, reversion=1.3,
                      dividend=0.02, chartist_dividend=0.03, rate=0.01, beta=0.7, weight_scale=4.0)  # fmt: skip

    def U(z):  # spec section 1, with U(0) = 0
        raw = lambda v: np.sign(v - 0.05) * abs(v - 0.05) ** 0.7 * (2.0 if v < 0.05 else 1.0)  # noqa: E731
        return raw(z) - raw(0.0)

    for S, R, sf in [(1.0, 0.1, 1.5), (2.0, -0.3, 1.5), (0.7, 0.0, 0.5)]:
        gf = U(1.3 * (sf - S) / S) + 0.02 / S - 0.01
        gc = R + 0.03 / S - 0.01
        W = (1 + np.tanh(0.7 * 4.0 * (gf - gc))) / 2
        g, w = return_estimate(p, S, R, sf)
        assert w == pytest.approx(W, rel=1e-12) and g == pytest.approx(W * gf + (1 - W) * gc, rel=1e-12)


def test_moment_model_matches_scipy_ode():
    # Without chartists (W = 1) the moment model is an ODE in (S, X, Y): integrate it with scipy.
    from scipy.integrate import solve_ivp

    p = KineticParams(kappa=0.8, mu=0.7, weight="fundamentalist", dividend=0.02, rate=0.01, s_f=1.6, dt=1e-4)

    def rhs(t, z):
        S, X, Y = z
        g = (p.s_f - S) / S + p.dividend / S - p.rate
        ED = p.mu * g * (Y if g > 0 else X)
        return [p.kappa * S * ED, (p.kappa * ED + p.dividend / S) * X + ED, p.rate * Y - ED]

    ref = solve_ivp(rhs, (0, 2.0), [1.0, 1.0, 1.0], rtol=1e-11, atol=1e-12)
    mom = solve_moments(p, 20000, X0=1.0, Y0=1.0)
    np.testing.assert_allclose([mom.S[-1], mom.X[-1], mom.Y[-1]], ref.y[:, -1], rtol=5e-4)
