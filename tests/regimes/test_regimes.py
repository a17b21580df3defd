"""Gaussian HMM (vs hmmlearn and the truth) and Metropolis-Hastings."""

import numpy as np
import pytest
from hmmlearn import hmm as hl

from meanfolio.regimes import GaussianHMM, metropolis_hastings


def _truth(cov="diag"):
    m = GaussianHMM(2, cov)
    m.startprob_ = np.array([0.6, 0.4])
    m.transmat_ = np.array([[0.98, 0.02], [0.05, 0.95]])
    m.means_ = np.array([[0.0008, 0.0005], [-0.002, -0.001]])
    if cov == "diag":
        m.covars_ = np.array([[1e-4, 2e-4], [9e-4, 6e-4]])
    else:
        m.covars_ = np.array([[[1e-4, 5e-5], [5e-5, 2e-4]], [[9e-4, -2e-4], [-2e-4, 6e-4]]])
    return m


@pytest.mark.parametrize("cov", ["diag", "full"])
def test_fit_recovers_the_truth_and_em_is_monotone(cov):
    truth = _truth(cov)
    X, states = truth.sample(6000, seed=1)
    m = GaussianHMM(2, cov, seed=0, n_init=3).fit(X)
    order = np.argsort(-m.means_[:, 0])  # label regimes by mean
    # sampling error: a regime seen n_k times has mean SE sqrt(var_k / n_k)
    pi = np.array([0.05, 0.02]) / 0.07  # stationary law of the true transition matrix
    var = truth.covars_ if cov == "diag" else np.diagonal(truth.covars_, axis1=1, axis2=2)
    se = np.sqrt(var / (pi[:, None] * X.shape[0]))
    assert np.all(np.abs(m.means_[order] - truth.means_) < 4 * se)
    np.testing.assert_allclose(m.covars_[order], truth.covars_, rtol=0.15, atol=3e-5)
    np.testing.assert_allclose(m.transmat_[np.ix_(order, order)], truth.transmat_, atol=0.02)
    assert np.all(np.diff(m.loglik_history_) >= -1e-8)
    path = m.predict(X)
    assert max(np.mean(path == states), np.mean(path != states)) > 0.9
    proba = m.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-10)
    assert m.score(X) == pytest.approx(m.loglik_history_[-1], rel=1e-6)


@pytest.mark.parametrize("cov", ["diag", "full"])
def test_score_equals_hmmlearn(cov):
    truth = _truth(cov)
    X, _ = truth.sample(3000, seed=2)
    ref = hl.GaussianHMM(2, covariance_type=cov)
    ref.startprob_, ref.transmat_, ref.means_ = truth.startprob_, truth.transmat_, truth.means_
    ref.covars_ = truth.covars_
    assert truth.score(X) == pytest.approx(ref.score(X), rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(truth.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    np.testing.assert_array_equal(truth.predict(X), ref.predict(X))


def test_hmm_errors_and_reproducibility():
    with pytest.raises(ValueError, match="not fitted"):
        GaussianHMM(2).score(np.zeros(10))
    with pytest.raises(ValueError, match=r"covariance = 'spherical'"):
        GaussianHMM(2, "spherical")
    X, _ = _truth().sample(500, seed=3)
    a = GaussianHMM(2, seed=5, n_init=2).fit(X)
    b = GaussianHMM(2, seed=5, n_init=2).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_mh_standard_normal():
    res = metropolis_hastings(lambda x: -0.5 * float(x @ x), [3.0], 20000, seed=1, n_chains=4)
    s = res.flat()[:, 0]
    se = 1.0 / np.sqrt(res.ess[0])
    assert abs(s.mean()) < 4 * se
    assert s.var() == pytest.approx(1.0, abs=6 * np.sqrt(2) * se)
    assert np.all(np.abs(res.acceptance_rate - 0.44) < 0.05)
    assert res.rhat[0] < 1.01


def test_mh_correlated_gaussian_and_seed():
    C = np.array([[1.0, 0.8], [0.8, 1.0]])
    P = np.linalg.inv(C)
    res = metropolis_hastings(lambda x: -0.5 * float(x @ P @ x), [2.0, -2.0], 20000, seed=2, n_chains=4)
    s = res.flat()
    se = 1.0 / np.sqrt(res.ess.min())
    np.testing.assert_allclose(s.mean(axis=0), 0.0, atol=5 * se)
    np.testing.assert_allclose(np.cov(s.T), C, atol=10 * se)
    assert np.all(res.rhat < 1.01)
    again = metropolis_hastings(lambda x: -0.5 * float(x @ P @ x), [2.0, -2.0], 20000, seed=2, n_chains=4)
    np.testing.assert_array_equal(res.samples, again.samples)
    with pytest.raises(ValueError, match=r"log_prob\(x0\) = -inf"):
        metropolis_hastings(lambda x: -np.inf, [0.0], 10)


def test_sort_states_relabels_without_changing_the_model():
    from meanfolio.regimes import GaussianHMM

    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0.01, 0.01, 300), rng.normal(-0.02, 0.03, 300), rng.normal(0.01, 0.01, 300)])
    model = GaussianHMM(2, n_init=3, seed=1).fit(x)
    before_score, before_states = model.score(x), model.predict(x)
    means = model.means_[:, 0].copy()
    model.sort_states()
    assert model.means_[0, 0] < model.means_[1, 0]
    assert model.score(x) == pytest.approx(before_score, abs=1e-9)
    relabel = np.argsort(np.argsort(means))  # old label -> new label
    np.testing.assert_array_equal(model.predict(x), relabel[before_states])
    np.testing.assert_allclose(model.transmat_.sum(axis=1), 1.0)


def _banana(x):
    return -0.5 * (x[0] ** 2 / 100 + (x[1] + 0.1 * x[0] ** 2 - 10) ** 2)  # Haario et al. (2001), b = 0.1


def test_mh_adaptation_reaches_the_target_acceptance_on_a_banana():
    # the previous rule reset the step to 2.38 / sqrt(d) at each covariance refresh: acceptance 0.04-0.08
    res = metropolis_hastings(_banana, [0.0, 0.0], 4000, seed=0, n_chains=4)
    target = 0.44 - 0.206 / 4  # the Robbins-Monro target in 2D; the banana's acceptance varies along it
    assert np.all(res.acceptance_rate > 0.2) and abs(res.acceptance_rate.mean() - target) < 0.15


def test_mh_proposal_is_frozen_after_warm_up():
    # after burn-in the proposal is fixed: the kept draws are the same with or without later "adaptation" steps
    a = metropolis_hastings(_banana, [0.0, 0.0], 500, burn_in=300, seed=1)
    b = metropolis_hastings(_banana, [0.0, 0.0], 1500, burn_in=300, seed=1)
    np.testing.assert_array_equal(a.samples[0], b.samples[0, :500])
    np.testing.assert_array_equal(a.proposal_cholesky, b.proposal_cholesky)
    frozen = metropolis_hastings(_banana, [0.0, 0.0], 500, burn_in=300, seed=1, adapt=False, scale=0.5)
    np.testing.assert_allclose(frozen.proposal_cholesky, 0.5 * np.eye(2))


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_mh_refuses_a_non_positive_scale(scale):
    with pytest.raises(ValueError, match=r"scale = .* not allowed"):
        metropolis_hastings(lambda x: -0.5 * float(x @ x), [0.0], 10, scale=scale)


def test_predict_score_refuse_the_wrong_number_of_features():
    m = _truth()
    X, _ = m.sample(100, seed=1)
    for method in (m.predict, m.predict_proba, m.score, m.filter):
        with pytest.raises(ValueError, match="X has 3 features .* expected 2"):
            method(np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="X has 1 features"):
        m.predict(X[:, 0])


def test_variance_collapse_is_floored_and_warned():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.01, 300), np.full(40, 0.05)])  # 40 identical points: a zero-variance state
    with pytest.warns(RuntimeWarning, match="collapsed"):
        m = GaussianHMM(2, n_init=4, seed=0, min_covar=1e-12).fit(x)
    assert np.all(m.covars_ >= 1e-6 * x.var() * (1 - 1e-12))
    assert np.all(np.isfinite(m.loglik_history_)) and np.isfinite(m.score(x))


def test_loglik_history_belongs_to_the_returned_parameters():
    X, _ = _truth().sample(800, seed=4)
    for max_iter in (3, 200):
        m = GaussianHMM(2, n_init=4, seed=2, max_iter=max_iter).fit(X)
        assert m.score(X) == pytest.approx(m.loglik_history_[-1], rel=1e-9)  # stale by one M-step before
        assert np.all(np.diff(m.loglik_history_) >= -1e-8)
        # and it is the best restart's: none of the single restarts ends higher
        finals = []
        for i in range(4):  # restart i of seed 2 is the stream with spawn key (i,): advance a Generator to it
            rng = np.random.default_rng(2)
            rng.spawn(i)
            one = GaussianHMM(2, n_init=1, seed=rng, max_iter=max_iter).fit(X)
            finals.append(one.loglik_history_)
        best = max(finals, key=lambda h: h[-1])
        np.testing.assert_allclose(m.loglik_history_, best, rtol=1e-12)


def test_filter_is_causal_and_differs_from_smoothing():
    m = _truth()
    X, _ = m.sample(400, seed=5)
    f = m.filter(X)
    np.testing.assert_allclose(f.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(m.predict_proba(X, causal=True), f)
    # row t depends on rows 0..t only: truncating the future changes nothing
    np.testing.assert_allclose(m.filter(X[:250]), f[:250], rtol=1e-12, atol=1e-15)
    smooth = m.predict_proba(X)
    assert not np.allclose(smooth[:250], m.predict_proba(X[:250]))  # the smoothed rows do use the future
    np.testing.assert_allclose(smooth[-1], f[-1], atol=1e-10)  # at the last row both condition on everything
    ref = hl.GaussianHMM(2, covariance_type="diag")
    ref.startprob_, ref.transmat_, ref.means_, ref.covars_ = m.startprob_, m.transmat_, m.means_, m.covars_
    # hmmlearn's smoothed posterior at the last row of each prefix is the filtered probability
    for t in (0, 10, 199):
        np.testing.assert_allclose(ref.predict_proba(X[: t + 1])[-1], f[t], atol=1e-10)
