"""Gaussian hidden Markov model, scikit-learn style (fit / predict / predict_proba / score / sample).

Baum-Welch with compiled, scaled forward-backward recursions (``_kernels``);
``score`` uses the log-space forward recursion, ``predict`` log-space Viterbi. Emissions
are Gaussian with diagonal or full covariances (Student-t ones: ``student.StudentTHMM``).
``min_covar`` is added to every variance (default 1e-12, negligible at the
scale of daily returns, unlike a floor of 1e-3 which would swamp a daily
variance of ~1e-4); a variance that still collapses (a state holding one
point or repeated values) is floored at ``VAR_FLOOR`` times the data's
variance with a warning. Several restarts (``n_init``) from random means; the
best log-likelihood wins and its own history is kept.

``predict_proba(X)`` is *smoothed* (each row uses the whole sample, past and
future): use ``filter(X)`` (or ``predict_proba(X, causal=True)``) for the
forward-filtered probabilities P(s_t | x_1..x_t) of a walk-forward study.
"""

from __future__ import annotations

import warnings

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from . import _kernels as kern

__all__ = ["GaussianHMM"]

LOG_2PI = np.log(2 * np.pi)
#: A fitted variance below this fraction of the data's variance is floored there (with a warning).
VAR_FLOOR = 1e-6


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

    Attributes
    ----------
    startprob_, transmat_, means_, covars_ : ndarray
        After ``fit``: (K,), (K, K), (K, d), and (K, d) for diag or
        (K, d, d) for full.
    loglik_history_ : list of float
        Log-likelihood after each EM iteration of the chosen restart
        (non-decreasing; its last value is ``score`` of the fitted model).
    converged_, n_iter_ : bool, int

    Notes
    -----
    ``predict_proba(X)`` is smoothed, :math:`P(s_t | x_1..x_T)`: it uses the
    future. A walk-forward strategy must use :meth:`filter` (or
    ``predict_proba(X, causal=True)``), :math:`P(s_t | x_1..x_t)`.

    References
    ----------
    .. [1] Rabiner, L. R. (1989), A tutorial on hidden Markov models and selected
       applications in speech recognition, Proc. IEEE 77(2), 257-286.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0.001, 0.005, 300), rng.normal(-0.002, 0.02, 200)])
    >>> model = GaussianHMM(2, n_init=2, seed=0).fit(x).sort_states()
    >>> model.filter(x).shape  # causal: row t uses x[:t + 1] only
    (500, 2)
    >>> bool(np.allclose(model.filter(x[:400]), model.filter(x)[:400]))
    True
    >>> bool(np.sqrt(model.covars_[0, 0]) > 3 * np.sqrt(model.covars_[1, 0]))  # state 0: the bear regime
    True
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
            raise ValueError(f"this {type(self).__name__} is not fitted yet: call fit(X) first")

    def _checked(self, X) -> np.ndarray:
        """X as (T, d) for a fitted model, refusing a number of features other than the model's."""
        self._check_fitted()
        X = self._as_2d(X)
        d = self.means_.shape[1]
        if X.shape[1] != d:
            raise ValueError(f"X has {X.shape[1]} features which is not allowed: expected {d}, as in fit")
        return X

    def _floor_variances(self):
        """Floor variances (eigenvalues for full covariances) at ``self._var_floor``; warn if any was below."""
        floor = getattr(self, "_var_floor", None)
        if floor is None:
            return
        if self.covariance == "diag":
            low = self.covars_ < floor
            if low.any():
                self.covars_ = np.maximum(self.covars_, floor)
        else:
            low = np.zeros(len(self.covars_), dtype=bool)
            for k, C in enumerate(self.covars_):
                w, V = np.linalg.eigh(C)
                if np.any(w < floor.min()):
                    low[k] = True
                    self.covars_[k] = (V * np.maximum(w, floor.min())) @ V.T
        if low.any() and not self._warned:
            self._warned = True
            warnings.warn(f"a state's variance collapsed below {VAR_FLOOR:g} x the data's variance (a state holding "
                          "one point or repeated values): floored there; consider fewer states", RuntimeWarning,
                          stacklevel=4)  # fmt: skip

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
        self._floor_variances()

    def fit(self, X) -> GaussianHMM:
        """Fit by Baum-Welch (EM) from ``n_init`` random starts and keep the best.

        Parameters
        ----------
        X : array_like, shape (T,) or (T, d), T >= max(2, n_states)

        Returns
        -------
        self
            With the parameters of the restart with the highest final
            log-likelihood and that restart's ``loglik_history_`` (each EM
            iteration's log-likelihood; the last one is that of the returned
            parameters). A variance that collapses below ``VAR_FLOOR`` times
            the data's variance is floored there with a RuntimeWarning.
        """
        X = self._as_2d(X)
        if X.shape[0] < self.n_states:
            raise ValueError(f"X has {X.shape[0]} rows which is not allowed: expected at least n_states")
        best = None
        self._var_floor, self._warned = VAR_FLOOR * X.var(axis=0), False
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
            if not converged:  # the last M-step moved the parameters: record their log-likelihood
                history.append(float(self._e_step(X)[0]))
            if best is None or history[-1] > best[0]:
                best = (history[-1], self.startprob_, self.transmat_, self.means_, self.covars_, history, converged,
                        *self._extra_state())  # fmt: skip
        _, self.startprob_, self.transmat_, self.means_, self.covars_, self.loglik_history_, self.converged_ = best[:7]
        self._restore_extra(best[7:])
        self.n_iter_ = len(self.loglik_history_)
        return self

    def _extra_state(self) -> tuple:
        """Parameters beyond the Gaussian ones (subclasses), kept with the best restart."""
        return ()

    def _restore_extra(self, extra: tuple) -> None:
        """Set the parameters returned by :meth:`_extra_state`."""

    def n_parameters(self) -> int:
        """Free parameters: start (K-1), transitions K(K-1), means K d, covariances K d or K d(d+1)/2."""
        self._check_fitted()
        K, d = self.means_.shape
        cov = K * d if self.covariance == "diag" else K * d * (d + 1) // 2
        return (K - 1) + K * (K - 1) + K * d + cov

    def bic(self, X) -> float:
        """Bayesian information criterion ``-2 log L + p log T`` (lower is better)."""
        X = self._checked(X)
        return -2.0 * self.score(X) + self.n_parameters() * np.log(X.shape[0])

    def sort_states(self, feature: int = 0) -> GaussianHMM:
        """Relabel the states by increasing mean of ``feature`` (state 0 = lowest, e.g. the bear
        regime of a return series); the model is unchanged up to the labels. Returns self."""
        self._check_fitted()
        order = np.argsort(self.means_[:, feature])
        self.means_ = self.means_[order]
        self.covars_ = self.covars_[order]
        self.startprob_ = self.startprob_[order]
        self.transmat_ = self.transmat_[np.ix_(order, order)]
        self._reorder_extra(order)
        return self

    def _reorder_extra(self, order: np.ndarray) -> None:
        """Relabel the parameters of :meth:`_extra_state` (subclasses)."""

    # -- inference ---------------------------------------------------------------
    def score(self, X) -> float:
        """Log-likelihood of X under the model (forward algorithm)."""
        X = self._checked(X)
        return float(kern.forward(self._log_emissions(X), np.log(self.startprob_), np.log(self.transmat_))[1])

    def predict_proba(self, X, *, causal: bool = False) -> np.ndarray:
        """State probabilities.

        Parameters
        ----------
        X : array_like, shape (T,) or (T, d), d as in ``fit`` (else ValueError)
        causal : bool
            False (default): *smoothed* :math:`P(s_t | x_1..x_T)` by
            forward-backward; row t uses future observations, so it must not
            drive a decision at time t. True: the forward-filtered
            :math:`P(s_t | x_1..x_t)` of :meth:`filter`.

        Returns
        -------
        ndarray, shape (T, K), rows summing to 1
        """
        if causal:
            return self.filter(X)
        return self._e_step(self._checked(X))[1]

    def filter(self, X) -> np.ndarray:
        r"""Forward-filtered state probabilities :math:`P(s_t | x_1..x_t)`.

        The normalised forward variables :math:`\alpha_t(k) \propto b_k(x_t)
        \sum_j \alpha_{t-1}(j) A_{jk}`: row t uses rows 0..t of X only, so
        appending observations after t leaves it unchanged. This is what a
        walk-forward (no look-ahead) strategy may use at time t.

        Parameters
        ----------
        X : array_like, shape (T,) or (T, d), d as in ``fit`` (else ValueError)

        Returns
        -------
        ndarray, shape (T, K), rows summing to 1
        """
        X = self._checked(X)
        la = kern.forward(self._log_emissions(X), np.log(self.startprob_), np.log(self.transmat_))[0]
        la -= la.max(axis=1, keepdims=True)
        p = np.exp(la)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Most likely state sequence (Viterbi), shape (T,)."""
        X = self._checked(X)
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
            X[idx] = self._emit(rng, k, int(idx.sum()))
        return X, states

    def _emit(self, rng: np.random.Generator, k: int, size: int) -> np.ndarray:
        """``size`` draws of state k's emission law, shape (size, d)."""
        cov = np.diag(self.covars_[k]) if self.covariance == "diag" else self.covars_[k]
        return rng.multivariate_normal(self.means_[k], cov, size=size)
