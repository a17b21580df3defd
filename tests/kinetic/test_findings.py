"""The paper's qualitative findings on the presets (fixed seeds), and the HFT steady state."""

import numpy as np
import pytest
from scipy import stats

from meanfolio.kinetic import (
    excess_kurtosis,
    hill_tail_index,
    inverse_gamma_steady_state,
    log_returns,
    preset,
    simulate,
    solve_price_fokker_planck,
    stationary_price_density,
)
from meanfolio.kinetic.fokker_planck import price_grid


def test_finding1_price_oscillates_around_constant_fundamental():
    res = simulate(preset("long_term_constant"), 10000, 4000, seed=1)
    gap = res.series["S"][1000:] - 1.5
    assert np.sum(np.diff(np.sign(gap)) != 0) >= 20
    assert abs(gap.mean()) < 0.1 and np.abs(gap).max() < 0.5


def test_finding2_fat_tails_of_the_price_not_of_the_fundamental():
    res = simulate(preset("long_term_varying"), 10000, 10000, seed=0)
    r_price = log_returns(res.series["S"])
    r_fund = log_returns(res.series["s_f"])
    assert excess_kurtosis(r_price) > 1.0
    assert abs(excess_kurtosis(r_fund)) < 3 * np.sqrt(24 / r_fund.size)
    # the price follows the fundamental
    assert np.corrcoef(res.series["S"], res.series["s_f"])[0, 1] > 0.6


def test_finding3_stock_wealth_marginal_looks_normal():
    res = simulate(preset("long_term_constant"), 20000, 2000, seed=1)
    # close to a normal law: small skewness and excess kurtosis, normal fit within 0.03 in KS distance
    assert abs(stats.skew(res.x)) < 0.5 and abs(stats.kurtosis(res.x)) < 0.5
    assert stats.kstest(res.x, stats.norm(*stats.norm.fit(res.x)).cdf).statistic < 0.03


@pytest.fixture(scope="module")
def steady():
    p = preset("high_frequency_steady_state")
    return p, inverse_gamma_steady_state(p), simulate(p, 0, 4000, seed=2)


def test_hft_monte_carlo_converges_to_inverse_gamma(steady):
    p, ig, res = steady
    s = res.broker_prices
    assert ig.nu == pytest.approx(9.0) and ig.theta == pytest.approx(8.0)
    assert ig.mean == pytest.approx((p.reversion * p.s_f + p.dividend) / (p.reversion + p.rate))
    assert stats.kstest(s, ig.cdf).statistic < 0.02
    assert s.mean() == pytest.approx(ig.mean, abs=4 * s.std() / np.sqrt(s.size) + 0.005)
    assert hill_tail_index(s, k=400) == pytest.approx(ig.nu, rel=0.3)
    # a log-normal with the same mean and variance is clearly worse
    ln = stats.lognorm(
        s=np.sqrt(np.log(1 + s.var() / s.mean() ** 2)), scale=s.mean() / np.sqrt(1 + s.var() / s.mean() ** 2)
    )
    assert stats.kstest(s, ln.cdf).statistic > stats.kstest(s, ig.cdf).statistic


def test_hft_finite_volumes_converge_to_inverse_gamma(steady):
    p, ig, _ = steady
    dists = []
    for n in (500, 1000, 2000):
        st = stationary_price_density(p, s_min=0.05, s_max=6.0, n=n)
        dists.append(np.max(np.abs(st.cdf() - ig.cdf(st.s + st.ds / 2))))
    assert dists[-1] < 2e-3 and dists[0] / dists[1] > 1.7 and dists[1] / dists[2] > 1.7, dists
    # time marching conserves mass, keeps V >= 0 and approaches the stationary state
    s, ds = price_grid(0.05, 6.0, 800)
    fv = solve_price_fokker_planck(p, stats.norm(0.5, 0.05).pdf(s), s_min=0.05, s_max=6.0, t_end=10.0, dt=0.01)
    np.testing.assert_allclose(fv.V.sum(axis=1) * ds, 1.0, atol=1e-12)
    assert fv.V.min() >= 0
    st = stationary_price_density(p, s_min=0.05, s_max=6.0, n=800)
    gaps = [np.max(np.abs(fv.cdf(k) - st.cdf())) for k in range(len(fv.t))]
    assert gaps[-1] < 1e-3 and all(b <= a + 1e-12 for a, b in zip(gaps, gaps[1:], strict=False))
    assert fv.mean() == pytest.approx(ig.mean, abs=2e-3)
