"""Risk metrics against empyrical, closed forms and known processes."""

import empyrical as ep
import numpy as np
import pytest
from scipy import stats

from meanfolio import compute_risk_metrics
from meanfolio.risk import (
    annual_return,
    annual_volatility,
    bootstrap_ci,
    calmar_ratio,
    cvar,
    downside_deviation,
    fractional_gaussian_noise,
    half_life,
    hurst_dfa,
    hurst_rs,
    max_drawdown,
    max_drawdown_duration,
    omega_ratio,
    sharpe_ratio,
    sortino_ratio,
    tail_ratio,
    var,
)


@pytest.fixture(scope="module")
def returns():
    rng = np.random.default_rng(0)
    return rng.standard_t(4, size=(2500, 3)) * 0.01 + 0.0004


PAIRS = [
    (sharpe_ratio, ep.sharpe_ratio),
    (sortino_ratio, ep.sortino_ratio),
    (annual_volatility, ep.annual_volatility),
    (max_drawdown, ep.max_drawdown),
    (annual_return, ep.annual_return),
    (var, ep.value_at_risk),
    (cvar, ep.conditional_value_at_risk),
    (omega_ratio, ep.omega_ratio),
    (tail_ratio, ep.tail_ratio),
    (calmar_ratio, ep.calmar_ratio),
    (downside_deviation, ep.downside_risk),
]


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_equal_to_empyrical(returns, ours, theirs):
    for j in range(returns.shape[1]):
        assert ours(returns[:, j]) == pytest.approx(theirs(returns[:, j]), rel=1e-10, abs=1e-14)
    # (T, n) input gives one value per column
    np.testing.assert_allclose(ours(returns), [theirs(returns[:, j]) for j in range(3)], rtol=1e-10)


def test_risk_free_and_required_return(returns):
    r = returns[:, 0]
    assert sharpe_ratio(r, risk_free=1e-4) == pytest.approx(ep.sharpe_ratio(r, risk_free=1e-4), rel=1e-10)
    assert sortino_ratio(r, required_return=2e-4) == pytest.approx(ep.sortino_ratio(r, required_return=2e-4))


def test_gaussian_var_cvar_closed_forms():
    rng = np.random.default_rng(1)
    r = rng.normal(0.001, 0.02, 200_000)
    mu, s = r.mean(), r.std(ddof=1)
    law = stats.norm(mu, s)
    assert var(r, 0.01, "gaussian") == pytest.approx(law.ppf(0.01), rel=1e-12)
    ref = law.expect(lambda x: x, ub=law.ppf(0.01), conditional=True)
    assert cvar(r, 0.01, "gaussian") == pytest.approx(ref, rel=1e-8)
    # on normal data the historical estimates agree with the gaussian ones within sampling error
    assert var(r, 0.05) == pytest.approx(var(r, 0.05, "gaussian"), abs=4e-4)
    assert cvar(r, 0.05) == pytest.approx(cvar(r, 0.05, "gaussian"), abs=5e-4)
    # with no skew or excess kurtosis Cornish-Fisher is the gaussian answer
    assert var(r, 0.05, "cornish_fisher") == pytest.approx(var(r, 0.05, "gaussian"), rel=0.02)


def test_cornish_fisher_cvar_is_the_mean_tail_quantile():
    rng = np.random.default_rng(2)
    r = rng.standard_t(6, 20000) * 0.01
    s, k = stats.skew(r), stats.kurtosis(r)
    u = np.linspace(0, 0.05, 200_001)[1:]
    z = stats.norm.ppf(u)
    zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    ref = r.mean() + r.std(ddof=1) * zcf.mean()
    assert cvar(r, 0.05, "cornish_fisher") == pytest.approx(ref, rel=2e-3)
    assert cvar(r, 0.05, "cornish_fisher") < var(r, 0.05, "cornish_fisher") < 0


def test_drawdown_duration():
    r = np.array([0.1, -0.5, 0.2, 0.2, 0.5, 0.1, -0.1])
    # wealth 1.1, .55, .66, .792, 1.188 (new peak), 1.3068, 1.176
    assert max_drawdown(r) == pytest.approx(-0.5)
    assert max_drawdown_duration(r) == 3


@pytest.mark.parametrize("H", [0.3, 0.5, 0.7])
def test_hurst_of_fractional_gaussian_noise(H):
    est_rs = [hurst_rs(fractional_gaussian_noise(2**14, H, seed=s)) for s in range(6)]
    est_dfa = [hurst_dfa(fractional_gaussian_noise(2**14, H, seed=s)) for s in range(6)]
    # both estimators are biased toward 0.5 for finite samples; DFA less so
    assert np.mean(est_dfa) == pytest.approx(H, abs=0.04)
    assert np.mean(est_rs) == pytest.approx(H, abs=0.06)
    x = fractional_gaussian_noise(2**12, H, seed=0)
    assert x.std() == pytest.approx(1.0, abs=0.1)


def test_fgn_autocovariance_is_exact():
    H = 0.7
    xs = np.array([fractional_gaussian_noise(64, H, seed=s) for s in range(4000)])
    lag1 = np.mean(xs[:, :-1] * xs[:, 1:])
    assert lag1 == pytest.approx(0.5 * (2 ** (2 * H) - 2), abs=0.02)


def test_half_life_of_ar1():
    rng = np.random.default_rng(3)
    x = np.zeros(20000)
    for t in range(1, x.size):
        x[t] = 0.9 * x[t - 1] + rng.normal()
    assert half_life(x) == pytest.approx(-np.log(2) / np.log(0.9), rel=0.1)
    assert half_life(np.cumsum(rng.normal(size=5000)) + 1e3 * np.arange(5000)) == float("inf")


def test_bootstrap_intervals():
    rng = np.random.default_rng(4)
    r = rng.normal(0.001, 0.01, 2000)
    res = bootstrap_ci(np.mean, r, n_boot=2000, method="iid", seed=1, interval="percentile")
    assert res.low < 0.001 < res.high
    assert res.high - res.low == pytest.approx(2 * 1.96 * 0.01 / np.sqrt(2000), rel=0.15)
    # positively autocorrelated data: the block bootstrap widens the interval of the mean
    ar = np.zeros(4000)
    for t in range(1, ar.size):
        ar[t] = 0.6 * ar[t - 1] + rng.normal() * 0.01
    kw = {"n_boot": 1000, "interval": "percentile"}
    iid = bootstrap_ci(np.mean, ar, method="iid", seed=2, **kw)
    block = bootstrap_ci(np.mean, ar, method="stationary", block_size=30, seed=2, **kw)
    assert (block.high - block.low) > 1.5 * (iid.high - iid.low)
    again = bootstrap_ci(np.mean, ar, method="stationary", block_size=30, seed=2, **kw)
    np.testing.assert_array_equal(block.samples, again.samples)


def test_compute_risk_metrics(returns):
    R = returns.copy()
    R[5, 1] = np.nan
    w = np.array([0.5, 0.3, 0.2])
    m = compute_risk_metrics(w, R)
    port = np.delete(returns, 5, axis=0) @ w
    assert m.dropped_nan == 1 and m.n_obs == returns.shape[0] - 1
    assert m.sharpe == pytest.approx(ep.sharpe_ratio(port), rel=1e-10)
    assert m.var_95 == pytest.approx(ep.value_at_risk(port), rel=1e-10)
    assert m.cvar_95 <= m.var_95 < 0 and m.max_drawdown < 0
    frame = m.to_frame()
    assert frame.height == len(m.as_dict()) and "hurst" in frame["metric"].to_list()


def test_bad_input():
    with pytest.raises(ValueError, match=r"returns has a return -1.5 < -1 .*negative wealth.*np.expm1"):
        annual_return([0.1, -1.5, 0.2])
    with pytest.raises(ValueError, match=r"-1.5 < -1"):
        max_drawdown(np.array([[0.1, 0.0], [-1.5, 0.1], [0.2, 0.0]]))
    with pytest.raises(ValueError, match=r"level = 1.5 .*\(0, 1\)"):
        var([0.1, 0.2, 0.0], 1.5)
    with pytest.raises(ValueError, match=r"method = 'magic'"):
        var([0.1, 0.2, 0.0], 0.05, "magic")
    with pytest.raises(ValueError, match=r"weights has shape \(2,\)"):
        compute_risk_metrics([0.5, 0.5], np.zeros((10, 3)))
    assert sharpe_ratio([0.01, np.nan, -0.02, 0.03]) == pytest.approx(ep.sharpe_ratio(np.array([0.01, -0.02, 0.03])))


def test_returns_at_or_below_minus_one():
    logr = np.array([0.2, -1.5, 0.3, -0.1, 0.05])  # log returns can be below -1
    assert sharpe_ratio(logr) == pytest.approx(ep.sharpe_ratio(logr), rel=1e-12)
    assert annual_volatility(logr) == pytest.approx(ep.annual_volatility(logr), rel=1e-12)
    assert var(logr, 0.2) == pytest.approx(ep.value_at_risk(logr, 0.2), rel=1e-12)
    np.testing.assert_allclose(sharpe_ratio(np.column_stack([logr, logr])), ep.sharpe_ratio(logr), rtol=1e-12)
    # a total loss (r = -1) compounds to zero wealth: CAGR -1, drawdown -1
    loss = np.array([0.1, -1.0, 0.2])
    assert annual_return(loss) == -1.0 and max_drawdown(loss) == -1.0


@pytest.mark.parametrize("level", [0.01, 0.0, -0.003, 1e-5])
def test_sharpe_of_a_constant_series_is_infinite_or_nan_as_in_empyrical(level):
    r = np.full(250, level)
    expected = np.nan if level == 0 else np.copysign(np.inf, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = ep.sharpe_ratio(r)
    ours = sharpe_ratio(r)  # was 2.4e16 for 0.01: the mean over rounding noise
    np.testing.assert_equal(ours, expected)
    np.testing.assert_equal(ours, ref)
    out = sharpe_ratio(np.column_stack([r, np.linspace(-0.01, 0.02, 250)]))
    np.testing.assert_equal(out[0], expected)
    assert np.isfinite(out[1])
    # the sign is that of the mean excess return; no excess at all is undefined
    assert sharpe_ratio(r, risk_free=level) != sharpe_ratio(r, risk_free=level)  # nan
    assert sharpe_ratio(r, risk_free=level + 0.001) == -np.inf
    # a tiny but real dispersion still gives a number
    assert np.isfinite(sharpe_ratio(level + 1e-9 * np.sin(np.arange(250.0))))
