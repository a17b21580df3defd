"""Sharpe-ratio inference against Monte Carlo, skfolio and the Bailey & Lopez de Prado (2014) example."""

import math

import numpy as np
import pytest
from scipy import stats

from meanfolio.risk import (
    SharpeDifferenceTest,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_confidence_interval,
    sharpe_difference_test,
    sharpe_ratio,
    sharpe_standard_error,
)

T = 500
SR = 0.1  # per period: 1.59 annualised with 252 periods
ANN = math.sqrt(252)


def ar1(rng, n, T, phi, burn=100):
    """(n, T) Gaussian AR(1) paths with unit variance."""
    e = rng.standard_normal((n, T + burn)) * math.sqrt(1 - phi**2)
    x = np.empty_like(e)
    x[:, 0] = rng.standard_normal(n)
    for t in range(1, T + burn):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x[:, burn:]


def garch_ar1_pairs(rng, n, T, srs, phi=0.3, rho=0.5, burn=200):
    """n pairs (n, T) of AR(1) returns with GARCH(1,1) shocks correlated ``rho``; per-period Sharpe ``srs``."""
    z = rng.standard_normal((2, n, T + burn))
    z[1] = rho * z[0] + math.sqrt(1 - rho**2) * z[1]
    h, e, x = np.ones((2, n)), np.zeros((2, n)), np.zeros((2, n, T + burn))
    for t in range(1, T + burn):
        h = 0.05 + 0.1 * e**2 + 0.85 * h  # unconditional variance 1
        e = np.sqrt(h) * z[:, :, t]
        x[:, :, t] = phi * x[:, :, t - 1] + e
    x = x[:, :, burn:] * math.sqrt(1 - phi**2)  # unit unconditional variance
    return 0.01 * (x[0] + srs[0]), 0.01 * (x[1] + srs[1])


SCENARIOS = {
    "normal": lambda rng, n: rng.standard_normal((n, T)),
    "ar1": lambda rng, n: ar1(rng, n, T, 0.3),
    "student5": lambda rng, n: rng.standard_t(5, (n, T)) / math.sqrt(5 / 3),
}


def test_standard_error_matches_monte_carlo_for_iid_normal():
    rng = np.random.default_rng(11)
    X = 0.01 * (rng.standard_normal((4000, T)) + SR)
    mc = np.std(sharpe_ratio(X.T), ddof=1)  # spread of the annualised estimate over 4000 samples
    closed = math.sqrt((1 + SR**2 / 2) / T) * ANN
    assert closed == pytest.approx(mc, rel=0.05)
    for method in ("hac", "lo", "mertens", "iid"):
        se = np.mean([sharpe_standard_error(x, method=method) for x in X[:300]])
        assert se == pytest.approx(mc, rel=0.10), method


def test_long_run_variance_of_ar1_is_recovered():
    # with mean 0 the influence series is u_t itself, whose long-run variance is (1 + phi) / (1 - phi)
    x = 0.01 * ar1(np.random.default_rng(3), 1, 40_000, 0.3)[0]
    for method, rel in (("hac", 0.05), ("lo", 0.08)):
        lrv = sharpe_standard_error(x, method=method, periods=1) ** 2 * x.size
        assert lrv == pytest.approx(1.3 / 0.7, rel=rel), method
    assert sharpe_standard_error(x, method="iid", periods=1) ** 2 * x.size == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_interval_coverage(name):
    rng = np.random.default_rng(2024)
    X = 0.01 * (SCENARIOS[name](rng, 1000) + SR)
    truth = SR * ANN
    cover = {}
    for method in ("hac", "iid"):
        hits = [lo <= truth <= hi for lo, hi in (sharpe_confidence_interval(x, method=method) for x in X)]
        cover[method] = np.mean(hits)
    # binomial sd of a 0.95 coverage over 1000 reps is 0.007
    assert 0.93 <= cover["hac"] <= 0.97, cover
    if name == "ar1":  # positive autocorrelation: the iid formula is too narrow (expected ~0.85)
        assert cover["iid"] < 0.90, cover
        assert cover["hac"] - cover["iid"] > 0.05, cover
    else:
        assert 0.93 <= cover["iid"] <= 0.97, cover


def test_interval_is_centred_on_the_annualised_sharpe():
    x = 0.01 * (np.random.default_rng(0).standard_normal(300) + SR)
    lo, hi = sharpe_confidence_interval(x, level=0.9, method="mertens", periods=12)
    se = sharpe_standard_error(x, method="mertens", periods=12)
    assert (lo + hi) / 2 == pytest.approx(sharpe_ratio(x, periods=12), rel=1e-12)
    assert (hi - lo) / 2 == pytest.approx(stats.norm.ppf(0.95) * se, rel=1e-12)


def psr_by_hand(r, benchmark_per_period):
    sr = r.mean() / r.std(ddof=1)
    g3, g4 = stats.skew(r), stats.kurtosis(r, fisher=False)
    return stats.norm.cdf(
        (sr - benchmark_per_period) * math.sqrt(r.size - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    )


@pytest.fixture(scope="module")
def skewed_returns():
    rng = np.random.default_rng(8)
    return {
        "normal": 0.01 * (rng.standard_normal(750) + 0.06),
        "student": 0.01 * (rng.standard_t(4, 400) + 0.1),
        "skewed": 0.01 * (0.08 - rng.lognormal(0.0, 0.8, 1000) + math.exp(0.32)),
    }


@pytest.mark.parametrize("periods", [252, 12])
@pytest.mark.parametrize("benchmark", [0.0, 0.5, -1.0])
def test_psr_matches_skfolio_and_hand_formula(skewed_returns, periods, benchmark):
    measures = pytest.importorskip("skfolio.measures")
    for r in skewed_returns.values():
        ours = probabilistic_sharpe_ratio(r, benchmark=benchmark, periods=periods)
        # skfolio is per period: benchmark_sharpe_ratio = our annualised benchmark / sqrt(periods)
        ref = measures.probabilistic_sharpe_ratio(r, benchmark_sharpe_ratio=benchmark / math.sqrt(periods))
        assert ours == pytest.approx(ref, rel=1e-10, abs=1e-14)
        assert ours == pytest.approx(psr_by_hand(r, benchmark / math.sqrt(periods)), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("periods", [252, 52])
def test_dsr_matches_skfolio(skewed_returns, periods):
    measures = pytest.importorskip("skfolio.measures")
    trials = np.random.default_rng(1).normal(0.3, 0.6, 40)  # annualised Sharpe ratios of the configurations
    for r in skewed_returns.values():
        ours = deflated_sharpe_ratio(r, trials_sharpe=trials, periods=periods)
        ref = measures.deflated_sharpe_ratio(r, trial_sharpe_ratios=trials / math.sqrt(periods))
        assert ours == pytest.approx(ref, rel=1e-10, abs=1e-14)
        same = deflated_sharpe_ratio(r, n_trials=40, trials_sharpe_std=np.std(trials, ddof=1), periods=periods)
        assert same == pytest.approx(ours, rel=1e-12)
    sr0 = expected_max_sharpe(40, 0.6)
    assert sr0 == pytest.approx(measures.expected_max_sharpe_ratio(40, 0.6), rel=1e-12)


def test_dsr_worked_example_of_bailey_lopez_de_prado_2014():
    # N = 100 trials, V[SR_n] = 1/2 (annualised), T = 1250 daily returns (250 a year), annualised SR 2.5,
    # skew -3, kurtosis 10: SR_0 = 0.1132 per period and DSR = 0.9004. Skew -3 with kurtosis 10 is a
    # two-point law (kurt = 1 + skew^2): 105 of 1250 returns low gives skew -3.0003, kurtosis 10.002.
    x = np.where(np.arange(1250) < 105, -1.0, 0.0)
    x = (x - x.mean()) / x.std(ddof=1)
    r = 0.01 * (x + 2.5 / math.sqrt(250))
    assert stats.skew(r) == pytest.approx(-3.0, abs=1e-3) and stats.kurtosis(r) == pytest.approx(7.0, abs=1e-2)
    assert expected_max_sharpe(100, math.sqrt(0.5)) / math.sqrt(250) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(r, n_trials=100, trials_sharpe_std=math.sqrt(0.5), periods=250)
    assert dsr == pytest.approx(0.9004, abs=1e-3)
    assert dsr == pytest.approx(psr_by_hand(r, expected_max_sharpe(100, math.sqrt(0.5)) / math.sqrt(250)), rel=1e-12)


def test_difference_test_size_under_equal_sharpe_ratios():
    A, B = garch_ar1_pairs(np.random.default_rng(77), 200, T, srs=(0.05, 0.05))
    res = [sharpe_difference_test(a, b, n_boot=199, seed=i) for i, (a, b) in enumerate(zip(A, B, strict=True))]
    rejection = np.mean([r.pvalue < 0.05 for r in res])
    assert 0.02 <= rejection <= 0.09, rejection
    # the HAC standard error tracks the spread of the estimated difference (truth 0)
    spread = np.std([r.difference for r in res])
    assert np.mean([r.standard_error for r in res]) == pytest.approx(spread, rel=0.15)
    assert abs(np.mean([r.difference for r in res])) < 3 * spread / math.sqrt(200)


def test_difference_test_power():
    A, B = garch_ar1_pairs(np.random.default_rng(5), 50, T, srs=(0.2, 0.0))
    res = [sharpe_difference_test(a, b, n_boot=199, seed=i) for i, (a, b) in enumerate(zip(A, B, strict=True))]
    assert np.mean([r.pvalue < 0.05 for r in res]) >= 0.8
    assert np.mean([r.difference for r in res]) == pytest.approx(0.2 * ANN, rel=0.15)


def test_difference_test_reproducible_and_consistent():
    A, B = garch_ar1_pairs(np.random.default_rng(9), 1, 300, srs=(0.1, 0.0))
    a, b = A[0], B[0]
    first = sharpe_difference_test(a, b, n_boot=500, seed=42)
    assert isinstance(first, SharpeDifferenceTest)
    assert sharpe_difference_test(a, b, n_boot=500, seed=42) == first
    assert sharpe_difference_test(a, b, n_boot=500, seed=np.random.default_rng(42)) == first
    assert first.block_size == 7 and first.n_boot == 500  # round(300 ** (1/3))
    assert first.difference == pytest.approx(sharpe_ratio(a) - sharpe_ratio(b), rel=1e-12)
    assert first.sharpe_a == pytest.approx(sharpe_ratio(a), rel=1e-12)
    # b = -a: the influence series doubles, so the HAC standard error is exactly twice that of a alone
    mirror = sharpe_difference_test(a, -a, n_boot=100, seed=0, block_size=3)
    assert mirror.standard_error == pytest.approx(2 * sharpe_standard_error(a), rel=1e-10)
    assert mirror.difference == pytest.approx(2 * sharpe_ratio(a), rel=1e-12) and mirror.block_size == 3


def test_bad_inputs():
    rng = np.random.default_rng(0)
    r = 0.01 * rng.standard_normal(100)
    nan = r.copy()
    nan[5] = np.nan
    with pytest.raises(ValueError, match="^returns contains 1 non-finite"):
        sharpe_standard_error(nan)
    with pytest.raises(ValueError, match="^returns contains"):
        probabilistic_sharpe_ratio(nan)
    with pytest.raises(ValueError, match="^returns_b contains"):
        sharpe_difference_test(r, nan)
    with pytest.raises(ValueError, match="^returns is constant"):
        sharpe_confidence_interval(np.full(50, 0.001))
    with pytest.raises(ValueError, match="^returns_a is constant"):
        sharpe_difference_test(np.zeros(50), r[:50])
    with pytest.raises(ValueError, match="returns_a has length 100 and returns_b has length 99"):
        sharpe_difference_test(r, r[:99])
    with pytest.raises(ValueError, match="returns_a has 5 non-NaN values .* at least 10"):
        sharpe_difference_test(r[:5], r[5:10])
    with pytest.raises(ValueError, match=r"block_size = 100 is not allowed: expected an integer in \[1, 99\]"):
        sharpe_difference_test(r, r[::-1], block_size=100)
    with pytest.raises(ValueError, match="^method = 'newey' is not allowed: expected one of 'hac'"):
        sharpe_standard_error(r, method="newey")
    with pytest.raises(ValueError, match="^level = 1.5 is not allowed"):
        sharpe_confidence_interval(r, level=1.5)
    with pytest.raises(ValueError, match="^periods = 0"):
        sharpe_standard_error(r, periods=0)
    with pytest.raises(ValueError, match="^n_trials = 1 is not allowed"):
        deflated_sharpe_ratio(r, n_trials=1, trials_sharpe_std=0.5)
    with pytest.raises(ValueError, match="exactly one of them"):
        deflated_sharpe_ratio(r, n_trials=10)
    with pytest.raises(ValueError, match="exactly one of them"):
        deflated_sharpe_ratio(r, n_trials=10, trials_sharpe_std=0.5, trials_sharpe=[0.1, 0.2])
    with pytest.raises(ValueError, match="^n_boot = 5 is not allowed"):
        sharpe_difference_test(r, r[::-1], n_boot=5)
