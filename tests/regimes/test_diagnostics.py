"""Multi-chain R-hat and ESS equal ArviZ (Vehtari et al. 2021) on good and pathological chains."""

import warnings

import numpy as np
import pytest

from meanfolio.regimes import effective_sample_size, metropolis_hastings, split_rhat

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    az = pytest.importorskip("arviz")


def _ar1(rng, chains, n, phi):
    x = np.zeros((chains, n))
    e = rng.normal(size=(chains, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


def _cases():
    rng = np.random.default_rng(0)
    return {
        "iid": rng.normal(size=(4, 1000)),
        "ar1_odd_draws": _ar1(rng, 4, 1001, 0.95),
        "stuck_apart": rng.normal(size=(4, 1000)) * 0.01 + np.array([0.0, 5.0, 10.0, 15.0])[:, None],
        "one_chain_cauchy": rng.standard_cauchy(size=(1, 500)),
        "ties": rng.integers(0, 3, size=(3, 200)).astype(float),
        "constant": np.ones((2, 100)),
        "random_walk": np.cumsum(rng.normal(size=(4, 400)), axis=1),
        "one_chain_scaled": rng.normal(size=(4, 600)) * np.array([1.0, 1.0, 1.0, 10.0])[:, None],
    }


@pytest.mark.parametrize("name", sorted(_cases()))
@pytest.mark.parametrize("method", ["bulk", "tail", "mean"])
def test_ess_equals_arviz(name, method):
    x = _cases()[name]
    ref = float(np.asarray(az.ess(x, method=method)))
    assert effective_sample_size(x, method) == pytest.approx(ref, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("name", sorted(_cases()))
def test_rhat_equals_arviz(name):
    x = _cases()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = float(np.asarray(az.rhat(x)))
    ours = split_rhat(x)
    if np.isnan(ref):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(ref, rel=1e-12)


def test_stuck_chains_have_a_tiny_ess_not_the_sum_of_chains():
    x = _cases()["stuck_apart"]
    # each chain alone is almost iid (ESS ~ 1000 each, sum ~ 4000); together they say nothing about the mean
    per_chain = sum(effective_sample_size(x[c]) for c in range(4))
    assert per_chain > 3000
    assert effective_sample_size(x) < 10 and split_rhat(x) > 2


def test_vector_shapes_and_errors():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 200, 2))
    ess = effective_sample_size(x)
    assert ess.shape == (2,)
    assert ess[1] == pytest.approx(float(np.asarray(az.ess(x[:, :, 1]))), rel=1e-12)
    assert split_rhat(x).shape == (2,)
    assert np.isnan(effective_sample_size(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="method = 'median'"):
        effective_sample_size(x, "median")
    with pytest.raises(ValueError, match="shape"):
        split_rhat(np.zeros((2, 2, 2, 2)))


def test_mcmc_result_diagnostics_are_the_multichain_ones():
    res = metropolis_hastings(lambda x: -0.5 * float(x @ x), [0.0, 0.0], 1000, seed=3, n_chains=3)
    np.testing.assert_allclose(res.ess, effective_sample_size(res.samples), rtol=1e-12)
    np.testing.assert_allclose(res.ess_tail, effective_sample_size(res.samples, "tail"), rtol=1e-12)
    np.testing.assert_allclose(res.rhat[0], float(np.asarray(az.rhat(res.samples[:, :, 0]))), rtol=1e-12)
