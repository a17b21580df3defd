"""Gaussian hidden Markov model, scikit-learn style (fit / predict / predict_proba / score / sample).

Baum-Welch with compiled, scaled forward-backward recursions (``_kernels``);
``score`` uses the log-space forward recursion, ``predict`` log-space Viterbi. Emissions
are Gaussian with diagonal or full covariances. The only regulariser is
``min_covar``, added to every variance (default 1e-12, negligible at the
scale of daily returns, unlike a floor of 1e-3 which would swamp a daily
variance of ~1e-4). Several restarts (``n_init``) from random means; the
best log-likelihood wins.
"""

from __future__ import annotations

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from . import _kernels as kern

__all__ = ["GaussianHMM"]

LOG_2PI = np.log(2 * np.pi)


class GaussianHMM:
    """Hidden Markov model with Gaussian emissions.

    Parameters
    ----------
    n_states : int >= 1
    covariance : "diag" or "full"
    n_init : restarts (>= 1); max_iter : EM iterations per restart; tol : stop when
        the log-likelihood improves by less than ``tol``.
    min_covar : added to variances (diagonal of covariances).
    warm_start : start EM from the current parameters (set by hand or by a
        previous fit) instead of random restarts.
    seed : int or Generator.

    Attributes after ``fit``: ``startprob_`` (K,), ``transmat_`` (K, K),
    ``means_`` (K, d), ``covars_`` (K, d) for diag or (K, d, d) for full,
    ``loglik_history_`` (list, non-decreasing), ``converged_``, ``n_iter_``.
    """

    def __init__(self, n_states: int = 2, covariance: str = "diag", *, n_init: int = 5, max_iter: int = 200,
                 tol: float = 1e-6, min_covar: float = 1e-12, warm_start: bool = False,
                 seed: SeedLike = None):  # fmt: skip
        self.n_states = check_integer("n_states", n_states, low=1)
        self.covariance = check_choice("covariance", covariance, ("diag", "full"))
        self.n_init = check_integer("n_init", n_init, low=1)
        self.max_iter = check_integer("max_iter", max_iter, low=1)
        self.tol = check_number("tol", tol, low=0)
        self.min_covar = check_number("min_covar", min_covar, low=0)
        self.warm_start = bool(warm_start)
        self.seed = seed

    # -- data and emissions --------------------------------------------------
    @staticmethod
    def _as_2d(X) -> np.ndarray:
        X = check_array("X", X)
        if X.ndim == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"X has shape {X.shape} which is not allowed: expected (T,) or (T, d) with T >= 2")
        return np.ascontiguousarray(X)

    def _log_emissions(self, X: np.ndarray) -> np.ndarray:
        K, d = self.means_.shape
        out = np.empty((X.shape[0], K))
        for k in range(K):
            diff = X - self.means_[k]
            if self.covariance == "diag":
                var = self.covars_[k]
                out[:, k] = -0.5 * (d * LOG_2PI + np.sum(np.log(var)) + np.sum(diff**2 / var, axis=1))
            else:
                L = np.linalg.cholesky(self.covars_[k])
                z = np.linalg.solve(L, diff.T)
                out[:, k] = -0.5 * (d * LOG_2PI + 2 * np.sum(np.log(np.diag(L))) + np.sum(z**2, axis=0))
        return out

    def _check_fitted(self):
        if not hasattr(self, "means_"):
            raise ValueError("this GaussianHMM is not fitted yet: call fit(X) first")

    # -- EM --------------------------------------------------------------------
    def _init_params(self, X, rng):
        K, (T, d) = self.n_states, X.shape
        self.startprob_ = np.full(K, 1.0 / K)
        self.transmat_ = np.full((K, K), 0.1 / max(K - 1, 1)) if K > 1 else np.ones((1, 1))
        if K > 1:
            np.fill_diagonal(self.transmat_, 0.9)
        self.means_ = X[rng.choice(T, size=K, replace=False)].copy()
        var = X.var(axis=0) + self.min_covar
        if self.covariance == "diag":
            self.covars_ = np.tile(var, (K, 1))
        else:
            full = np.cov(X.T).reshape(d, d) + self.min_covar * np.eye(d)
            self.covars_ = np.tile(full, (K, 1, 1))

    def _e_step(self, X):
        # scaled forward-backward (Rabiner 1989): no exp/log per transition
        return kern.e_step_scaled(self._log_emissions(X), self.startprob_, self.transmat_)

    def _m_step(self, X, gamma, xi):
        d = X.shape[1]
        self.startprob_ = np.maximum(gamma[0], 1e-300)
        self.startprob_ /= self.startprob_.sum()
        self.transmat_ = np.maximum(xi, 1e-300)
        self.transmat_ /= self.transmat_.sum(axis=1, keepdims=True)
        w = gamma.sum(axis=0)
        self.means_ = (gamma.T @ X) / w[:, None]
        if self.covariance == "diag":
            self.covars_ = np.stack([(gamma[:, k] @ (X - self.means_[k]) ** 2) / w[k] for k in range(len(w))])
            self.covars_ += self.min_covar
        else:
            covs = []
            for k in range(len(w)):
                diff = X - self.means_[k]
                covs.append((gamma[:, k, None] * diff).T @ diff / w[k] + self.min_covar * np.eye(d))
            self.covars_ = np.stack(covs)

    def fit(self, X) -> GaussianHMM:
        """Fit by Baum-Welch from ``n_init`` random starts; keep the best."""
        X = self._as_2d(X)
        if X.shape[0] < self.n_states:
            raise ValueError(f"X has {X.shape[0]} rows which is not allowed: expected at least n_states")
        best = None
        warm = self.warm_start and hasattr(self, "means_")
        for rng in as_generator(self.seed).spawn(1 if warm else self.n_init):
            if not warm:
                self._init_params(X, rng)
            history, converged = [], False
            for _ in range(self.max_iter):
                loglik, gamma, xi = self._e_step(X)
                history.append(float(loglik))
                if len(history) > 1 and history[-1] - history[-2] < self.tol:
                    converged = True
                    break
                self._m_step(X, gamma, xi)
            if best is None or history[-1] > best[0]:
                best = (history[-1], self.startprob_, self.transmat_, self.means_, self.covars_, history, converged)
        _, self.startprob_, self.transmat_, self.means_, self.covars_, self.loglik_history_, self.converged_ = best
        self.n_iter_ = len(self.loglik_history_)
        return self

    def sort_states(self, feature: int = 0) -> GaussianHMM:
        """Relabel the states by increasing mean of ``feature`` (state 0 = lowest, e.g. the bear
        regime of a return series); the model is unchanged up to the labels. Returns self."""
        self._check_fitted()
        order = np.argsort(self.means_[:, feature])
        self.means_ = self.means_[order]
        self.covars_ = self.covars_[order]
        self.startprob_ = self.startprob_[order]
        self.transmat_ = self.transmat_[np.ix_(order, order)]
        return self

    # -- inference ---------------------------------------------------------------
    def score(self, X) -> float:
        """Log-likelihood of X under the model (forward algorithm)."""
        self._check_fitted()
        X = self._as_2d(X)
        return float(kern.forward(self._log_emissions(X), np.log(self.startprob_), np.log(self.transmat_))[1])

    def predict_proba(self, X) -> np.ndarray:
        """Posterior state probabilities (T, K) by forward-backward."""
        self._check_fitted()
        return self._e_step(self._as_2d(X))[1]

    def predict(self, X) -> np.ndarray:
        """Most likely state sequence (Viterbi), shape (T,)."""
        self._check_fitted()
        X = self._as_2d(X)
        return kern.viterbi(self._log_emissions(X), np.log(self.startprob_), np.log(self.transmat_))[0]

    def sample(self, n: int, *, seed: SeedLike = None) -> tuple[np.ndarray, np.ndarray]:
        """(X (n, d), states (n,)) simulated from the model."""
        self._check_fitted()
        n = check_integer("n", n, low=1)
        rng = as_generator(seed)
        K, d = self.means_.shape
        states = np.empty(n, dtype=np.int64)
        states[0] = rng.choice(K, p=self.startprob_)
        for t in range(1, n):
            states[t] = rng.choice(K, p=self.transmat_[states[t - 1]])
        X = np.empty((n, d))
        for k in range(K):
            idx = states == k
            cov = np.diag(self.covars_[k]) if self.covariance == "diag" else self.covars_[k]
            X[idx] = rng.multivariate_normal(self.means_[k], cov, size=int(idx.sum()))
        return X, states
