"""Value and weight functions, stylized facts against scipy, the RNG, bad input."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from meanfolio._random_kernels import normal, step_base
from meanfolio.kinetic import (
    KineticParams,
    KineticStabilityError,
    autocorrelation,
    excess_kurtosis,
    hill_tail_index,
    jarque_bera,
    log_returns,
    preset,
    qq_normal,
    simulate,
    solve_moments,
    value_function,
    weight_function,
)


def test_prospect_value_function():
    p = KineticParams(value_function="prospect", u_gamma=0.1, u_alpha=0.7, u_lambda=2.0)
    z = np.linspace(-1, 1, 2001)
    u = value_function(z, p)
    assert value_function(np.array([0.0]), p)[0] == pytest.approx(0.0, abs=1e-15)
    assert np.all(np.diff(u) > 0)  # increasing
    gains, losses = u[z > 0.1], u[z < 0.1]
    assert np.all(np.diff(gains, 2) <= 1e-12)  # concave for gains
    assert np.all(np.diff(losses, 2) >= -1e-12)  # convex for losses
    d = 0.3  # steeper for losses: |U(gamma - d)| > |U(gamma + d)| relative to U(gamma)
    ug = value_function(np.array([0.1 - d, 0.1, 0.1 + d]), p)
    assert ug[1] - ug[0] == pytest.approx(2.0 * (ug[2] - ug[1]))
    np.testing.assert_allclose(value_function(z, KineticParams(value_function="identity")), z)


def test_weight_functions():
    d = np.linspace(-1, 1, 11)
    w_up = weight_function(d, 0.0, KineticParams(beta=2.0, weight_scale=10.0))
    w_down = weight_function(d, 0.0, KineticParams(beta=-2.0, weight_scale=10.0))
    assert np.all(np.diff(w_up) > 0) and np.all(np.diff(w_down) < 0)
    np.testing.assert_allclose(w_up + w_down, 1.0)
    np.testing.assert_allclose(w_up, (1 + np.tanh(2.0 * 10.0 * d)) / 2)
    np.testing.assert_array_equal(weight_function(d, 0.0, KineticParams(weight="heaviside")), (d > 0).astype(float))
    big = weight_function(d[d != 0], 0.0, KineticParams(beta=1e4))
    np.testing.assert_allclose(big, (d[d != 0] > 0).astype(float))


def test_stylized_facts_against_scipy_and_known_laws():
    rng = np.random.default_rng(0)
    r = rng.standard_t(5, size=20000) * 0.01
    assert excess_kurtosis(r) == pytest.approx(stats.kurtosis(r))
    jb, p = jarque_bera(r)
    ref = stats.jarque_bera(r)
    assert jb == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue, abs=1e-12)
    x = rng.normal(size=5000)
    ac = autocorrelation(x, 3)
    d = x - x.mean()
    assert ac[1] == pytest.approx(np.sum(d[:-2] * d[2:]) / np.sum(d * d))
    assert np.all(np.abs(ac) < 4 / np.sqrt(x.size))
    ar = np.zeros(5000)
    for k in range(1, 5000):
        ar[k] = 0.8 * ar[k - 1] + rng.normal()
    assert autocorrelation(ar, 1)[0] == pytest.approx(0.8, abs=0.03)
    pareto = rng.pareto(3.0, size=50000) + 1.0  # P(X > x) = x^-3
    assert hill_tail_index(pareto, k=2000) == pytest.approx(3.0, rel=0.08)
    q, z = qq_normal(rng.normal(size=4000))
    assert np.max(np.abs(q - z)[100:-100]) < 0.1
    np.testing.assert_allclose(log_returns([1.0, 2.0, 1.0]), [np.log(2), -np.log(2)])


@njit
def _draws(key, n):
    out = np.empty(n)
    b = step_base(key, 0, 3)
    for j in range(n):
        out[j] = normal(b, j)
    return out


def test_counter_based_normals():
    z = _draws(np.uint64(12345), 400000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and z.var() == pytest.approx(1.0, abs=0.01)
    assert abs(stats.kurtosis(z)) < 0.05
    assert np.mean(z > 3.0) == pytest.approx(stats.norm.sf(3.0), rel=0.15)  # the tail path works
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.01
    other = _draws(np.uint64(12346), 1000)
    assert abs(np.corrcoef(z[:1000], other)[0, 1]) < 0.15


def test_bad_input():
    p = KineticParams()
    with pytest.raises(ValueError, match=r"n_agents = -5 .*integer >= 0"):
        simulate(p, -5, 10)
    with pytest.raises(ValueError, match=r"S0 = 0.0 .*> 0"):
        KineticParams(S0=0.0)
    with pytest.raises(ValueError, match=r"s_f = -1.0 .*> 0"):
        KineticParams(s_f=-1.0)
    with pytest.raises(ValueError, match=r"preset = 'nope' .*'long_term_constant'"):
        preset("nope")
    with pytest.raises(ValueError, match=r"prices has a non-positive value 0.0 at index 1"):
        log_returns([1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match=r"prices contains 1 non-finite"):
        log_returns([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match=r"investors = 'high_frequency' .*n_brokers >= 1"):
        KineticParams(investors="high_frequency")
    with pytest.raises(ValueError, match=r"weight = 'magic'"):
        KineticParams(weight="magic")


def test_unstable_dt_is_refused_not_nan():
    p = KineticParams(mu=30.0, s_f=100.0, dt=0.01)  # mu |g| dt >> 1
    with pytest.raises(KineticStabilityError, match=r"mu \* \|g\| \* dt >= 1 .*dt = 0.01 is not allowed"):
        simulate(p, 100, 10)
    with pytest.raises(KineticStabilityError, match="dt = 0.01 is not allowed"):
        solve_moments(p, 10)
    # a chartist feedback that blows up is refused before running, naming the condition
    with pytest.raises(KineticStabilityError, match=r"kappa\*mu\*Z\*\(1-W\) = .* chartist_memory = 0.01"):
        simulate(KineticParams(kappa=3.0, chartist_memory=0.01), 1000, 2000, seed=1)


def test_new_parameters_are_validated():
    for name in ("chartist_memory", "observation_interval", "broker_vol_memory"):
        with pytest.raises(ValueError, match=rf"{name} = 0.0 is not allowed: expected .*> 0"):
            KineticParams(**{name: 0.0})
    with pytest.raises(ValueError, match=r"broker_vol_vol = -0.1 is not allowed"):
        KineticParams(broker_vol_vol=-0.1)


def test_a_run_too_large_for_memory_is_refused_before_allocating():
    from meanfolio._validation import MemoryLimitError
    from meanfolio.kinetic import preset, simulate

    with pytest.raises(MemoryLimitError, match="2,000,000,000 agents over 10 steps needs about 89.4 GB"):
        simulate(preset("long_term_constant"), 2_000_000_000, 10, seed=1, max_memory="1G")
