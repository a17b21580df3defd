"""Student-t HMM: emission density, EM with latent scales (vs scipy's t MLE and the truth), BIC selection."""

import numpy as np
import pytest
from scipy import optimize, stats

from meanfolio.regimes import GaussianHMM, StudentTHMM, select_hmm


def _truth():
    m = StudentTHMM(2)
    m.startprob_ = np.array([0.5, 0.5])
    m.transmat_ = np.array([[0.98, 0.02], [0.04, 0.96]])
    m.means_ = np.array([[0.0008], [-0.001]])
    m.covars_ = np.array([[6e-5], [4e-4]])
    m.dof_ = np.array([4.0, 6.0])
    return m


@pytest.mark.parametrize("cov", ["diag", "full"])
def test_log_emissions_equal_scipy_multivariate_t(cov):
    m = StudentTHMM(2, cov)
    m.means_ = np.array([[0.1, -0.2], [0.0, 0.3]])
    S = [np.array([[1.0, 0.3], [0.3, 2.0]]), np.array([[0.5, -0.1], [-0.1, 0.4]])]
    m.covars_ = np.stack(S) if cov == "full" else np.array([np.diag(s) for s in S])
    m.dof_ = np.array([3.5, 12.0])
    X = np.random.default_rng(0).normal(size=(50, 2))
    ours = m._log_emissions(X)
    for k in range(2):
        shape = S[k] if cov == "full" else np.diag(np.diag(S[k]))
        ref = stats.multivariate_t(m.means_[k], shape, df=m.dof_[k]).logpdf(X)
        np.testing.assert_allclose(ours[:, k], ref, rtol=1e-12)


def test_one_state_em_is_the_t_maximum_likelihood():
    x = stats.t.rvs(5, loc=0.001, scale=0.01, size=3000, random_state=1)
    m = StudentTHMM(1, tol=1e-12, max_iter=2000, seed=0, n_init=1).fit(x)

    def nll(p):
        return -np.sum(stats.t.logpdf(x, p[0], p[1], np.exp(p[2])))

    ref = optimize.minimize(nll, [5.0, 0.001, np.log(0.01)], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000})  # fmt: skip
    assert m.score(x) == pytest.approx(-ref.fun, abs=1e-4)
    assert m.dof_[0] == pytest.approx(ref.x[0], rel=1e-3)
    assert np.sqrt(m.covars_[0, 0]) == pytest.approx(np.exp(ref.x[2]), rel=1e-4)
    assert np.all(np.diff(m.loglik_history_) >= -1e-8)  # ECM never decreases the likelihood


def test_fit_recovers_a_fat_tailed_two_state_model():
    truth = _truth()
    X, states = truth.sample(4000, seed=1)
    m = StudentTHMM(2, seed=0, n_init=3).fit(X).sort_states()
    order = [1, 0]  # sort_states puts the lower mean first: the truth has state 1 lower
    np.testing.assert_allclose(m.dof_, truth.dof_[order], rtol=0.35)
    np.testing.assert_allclose(m.covars_, truth.covars_[order], rtol=0.15)
    np.testing.assert_allclose(m.transmat_, truth.transmat_[np.ix_(order, order)], atol=0.02)
    assert np.all(np.diff(m.loglik_history_) >= -1e-8)
    assert np.mean(m.predict(X) == 1 - states) > 0.9
    g = GaussianHMM(2, seed=0, n_init=3).fit(X)
    assert m.score(X) > g.score(X) + 30  # fat tails: far better fit than Gaussian states
    assert m.n_parameters() == g.n_parameters() + 2


def test_bic_selects_emission_and_number_of_states():
    X, _ = _truth().sample(3000, seed=2)
    best, table = select_hmm(X, (1, 2, 3), seed=0)
    assert isinstance(best, StudentTHMM) and best.n_states == 2
    assert [r["bic"] for r in table] == sorted(r["bic"] for r in table)
    assert table[0]["bic"] == pytest.approx(best.bic(X))
    g = GaussianHMM(2)
    g.startprob_, g.transmat_, g.means_, g.covars_ = (_truth().startprob_, _truth().transmat_,
                                                      _truth().means_, _truth().covars_)  # fmt: skip
    Xg, _ = g.sample(3000, seed=3)
    best_g, _ = select_hmm(Xg, (1, 2), seed=0)
    # Gaussian data: the t model's nu runs to the upper bound and pays for its extra parameters
    assert type(best_g) is GaussianHMM and best_g.n_states == 2
    with pytest.raises(ValueError, match="emissions item 'laplace'"):
        select_hmm(Xg, (1,), ("laplace",))
    with pytest.raises(ValueError, match="dof_init = 0.5"):
        StudentTHMM(2, dof_init=0.5)
