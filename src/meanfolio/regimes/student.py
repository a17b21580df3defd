"""Hidden Markov model with Student-t emissions, and model selection by BIC.

Each state k emits a multivariate Student-t with location ``means_[k]``,
scale ``covars_[k]`` (diagonal or full) and ``dof_[k]`` degrees of freedom.
Written as a scale mixture, x | s=k, u ~ N(mu_k, Sigma_k / u) with
u ~ Gamma(nu_k / 2, rate nu_k / 2); EM treats the states *and* the scales u
as latent (Peel & McLachlan 2000, ECM):

- E-step: gamma_tk by forward-backward, and the expected scale
  ``w_tk = (nu_k + d) / (nu_k + delta_tk)`` (delta = Mahalanobis distance),
  together with E[log u_tk] = psi((nu_k + d)/2) - log((nu_k + d)/2) + log w_tk;
- M-step: mu_k = sum gamma w x / sum gamma w,
  Sigma_k = sum gamma w (x - mu)(x - mu)^T / sum gamma,
  nu_k the root in [NU_MIN, NU_MAX] of
  ``1 - psi(nu/2) + log(nu/2) + sum gamma (E log u - w) / sum gamma = 0``.

Fat-tailed returns get a far higher likelihood than under Gaussian states,
and outliers no longer create spurious "crash" states.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_integer

from .hmm import GaussianHMM

__all__ = ["StudentTHMM", "select_hmm"]

NU_MIN, NU_MAX = 1.0, 400.0


class StudentTHMM(GaussianHMM):
    r"""Hidden Markov model with multivariate Student-t emissions (EM with latent scales).

    Same parameters, attributes and methods as :class:`GaussianHMM`, plus
    ``dof_`` (K,) degrees of freedom (estimated, in [1, 400]); ``covars_``
    are the *scale* matrices (the covariance is ``covars_ nu / (nu - 2)``
    for nu > 2). ``dof_init`` is the starting value of every nu.

    Parameters
    ----------
    n_states : int
        Number of hidden states K, >= 1.
    covariance : {"diag", "full"}
        Scale matrices :math:`\Sigma_k` diagonal (stored (K, d)) or full ((K, d, d)).
    n_init : int
        Random restarts (>= 1); the one with the highest final log-likelihood is kept.
    max_iter : int
        ECM iterations per restart (>= 1).
    tol : float
        Stop when the log-likelihood improves by less than ``tol`` (>= 0).
    min_covar : float
        Added to the scale variances (diagonal of the scale matrices) at each M-step (>= 0).
    warm_start : bool
        Start ECM from the current parameters (set by hand or by a previous fit)
        instead of random restarts.
    dof_init : float
        Starting degrees of freedom :math:`\nu_k` of every state, in [1, 400].
    seed : int, Generator or None
        Random source of the restarts.

    Attributes
    ----------
    startprob_ : ndarray, shape (K,)
        Initial state distribution.
    transmat_ : ndarray, shape (K, K)
        Transition matrix, ``transmat_[i, j]`` = P(s_{t+1} = j | s_t = i).
    means_ : ndarray, shape (K, d)
        Locations :math:`\mu_k`, in the units of X (the means for nu > 1).
    covars_ : ndarray, shape (K, d) for "diag" or (K, d, d) for "full"
        Scale matrices :math:`\Sigma_k`, in squared units of X (not covariances).
    dof_ : ndarray, shape (K,)
        Degrees of freedom :math:`\nu_k` in [1, 400] (400: practically Gaussian).
    loglik_history_ : list of float
        Log-likelihood after each iteration of the chosen restart (its last value
        is ``score`` of the fitted model).
    converged_ : bool
        Whether the chosen restart stopped by ``tol`` before ``max_iter``.
    n_iter_ : int
        Length of ``loglik_history_``.

    Raises
    ------
    ValueError
        If ``dof_init`` is not in [1, 400] or another parameter is out of range
        (as :class:`GaussianHMM`).

    Notes
    -----
    The emission density of state k is

    .. math:: f_k(x) = \frac{\Gamma((\nu_k + d)/2)}{\Gamma(\nu_k/2)
              (\nu_k \pi)^{d/2} |\Sigma_k|^{1/2}}
              \left(1 + \frac{\delta_k(x)}{\nu_k}\right)^{-(\nu_k + d)/2},
              \qquad \delta_k(x) = (x - \mu_k)^T \Sigma_k^{-1} (x - \mu_k),

    a normal scale mixture, :math:`x \mid s = k, u \sim N(\mu_k, \Sigma_k / u)`,
    :math:`u \sim \mathrm{Gamma}(\nu_k / 2, \text{rate}\ \nu_k / 2)`. It is fitted by ECM
    with the states and the scales u latent (Peel & McLachlan 2000): the E-step gives
    the state posteriors :math:`\gamma_{tk}` by forward-backward and the expected
    scales :math:`w_{tk} = (\nu_k + d) / (\nu_k + \delta_k(x_t))`, which down-weight
    outliers; the M-step sets :math:`\mu_k = \sum_t \gamma_{tk} w_{tk} x_t / \sum_t \gamma_{tk} w_{tk}`,
    :math:`\Sigma_k = \sum_t \gamma_{tk} w_{tk} (x_t - \mu_k)(x_t - \mu_k)^T / \sum_t \gamma_{tk}`
    and :math:`\nu_k` as the root in [1, 400] of the score equation (module docstring).

    References
    ----------
    .. [1] Peel, D. and McLachlan, G. J. (2000), Robust mixture modelling using the
       t distribution, Statistics and Computing 10, 339-348.
    .. [2] Liu, C. and Rubin, D. B. (1995), ML estimation of the t distribution
       using EM and its extensions, ECM and ECME, Statistica Sinica 5, 19-39.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).standard_t(4, size=2000) * 0.01
    >>> m = StudentTHMM(1, n_init=1, seed=0).fit(x)
    >>> bool(3 < m.dof_[0] < 6)
    True
    >>> bool(m.score(x) > GaussianHMM(1, n_init=1, seed=0).fit(x).score(x))  # fat tails fit better
    True
    """

    def __init__(self, n_states: int = 2, covariance: str = "diag", *, n_init: int = 5, max_iter: int = 200,
                 tol: float = 1e-6, min_covar: float = 1e-12, warm_start: bool = False, dof_init: float = 8.0,
                 seed: SeedLike = None):  # fmt: skip
        super().__init__(n_states, covariance, n_init=n_init, max_iter=max_iter, tol=tol, min_covar=min_covar,
                         warm_start=warm_start, seed=seed)  # fmt: skip
        if not (NU_MIN <= float(dof_init) <= NU_MAX):
            raise ValueError(f"dof_init = {dof_init!r} is not allowed: expected a number in [{NU_MIN}, {NU_MAX}]")
        self.dof_init = float(dof_init)

    def _mahalanobis(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(delta (T, K) squared Mahalanobis distances, half log-determinants (K,))."""
        K, d = self.means_.shape
        delta, half_logdet = np.empty((X.shape[0], K)), np.empty(K)
        for k in range(K):
            diff = X - self.means_[k]
            if self.covariance == "diag":
                delta[:, k] = np.sum(diff**2 / self.covars_[k], axis=1)
                half_logdet[k] = 0.5 * np.sum(np.log(self.covars_[k]))
            else:
                L = np.linalg.cholesky(self.covars_[k])
                delta[:, k] = np.sum(np.linalg.solve(L, diff.T) ** 2, axis=0)
                half_logdet[k] = np.sum(np.log(np.diag(L)))
        return delta, half_logdet

    def _log_emissions(self, X: np.ndarray) -> np.ndarray:
        d = self.means_.shape[1]
        delta, half_logdet = self._mahalanobis(X)
        nu = self.dof_
        const = special.gammaln((nu + d) / 2) - special.gammaln(nu / 2) - 0.5 * d * np.log(nu * np.pi) - half_logdet
        return const - 0.5 * (nu + d) * np.log1p(delta / nu)

    def _init_params(self, X, rng):
        super()._init_params(X, rng)
        self.dof_ = np.full(self.n_states, self.dof_init)

    def _m_step(self, X, gamma, xi):
        T, d = X.shape
        delta, _ = self._mahalanobis(X)  # E-step quantities at the current parameters
        nu = self.dof_
        w = (nu + d) / (nu + delta)  # E[u | x, s = k]
        e_log_u = special.digamma((nu + d) / 2) - np.log((nu + d) / 2) + np.log(w)
        self.startprob_ = np.maximum(gamma[0], 1e-300)
        self.startprob_ /= self.startprob_.sum()
        self.transmat_ = np.maximum(xi, 1e-300)
        self.transmat_ /= self.transmat_.sum(axis=1, keepdims=True)
        g = gamma.sum(axis=0)
        gw = gamma * w
        self.means_ = (gw.T @ X) / gw.sum(axis=0)[:, None]
        K = self.n_states
        if self.covariance == "diag":
            self.covars_ = np.stack([(gw[:, k] @ (X - self.means_[k]) ** 2) / g[k] for k in range(K)])
            self.covars_ += self.min_covar
        else:
            covs = []
            for k in range(K):
                diff = X - self.means_[k]
                covs.append((gw[:, k, None] * diff).T @ diff / g[k] + self.min_covar * np.eye(d))
            self.covars_ = np.stack(covs)
        self._floor_variances()
        new_nu = nu.copy()
        for k in range(K):
            c = 1.0 + np.sum(gamma[:, k] * (e_log_u[:, k] - w[:, k])) / g[k]

            def eq(v, c=c):
                return c - special.digamma(v / 2) + np.log(v / 2)

            lo, hi = eq(NU_MIN), eq(NU_MAX)
            if lo * hi < 0:
                new_nu[k] = optimize.brentq(eq, NU_MIN, NU_MAX, xtol=1e-10)
            else:  # eq decreases in nu: no root inside means the best nu is at a bound
                new_nu[k] = NU_MAX if hi > 0 else NU_MIN
        self.dof_ = new_nu

    def _extra_state(self) -> tuple:
        return (self.dof_.copy(),)

    def _restore_extra(self, extra: tuple) -> None:
        self.dof_ = extra[0]

    def _reorder_extra(self, order: np.ndarray) -> None:
        self.dof_ = self.dof_[order]

    def n_parameters(self) -> int:
        """Gaussian HMM parameters plus one degrees-of-freedom per state."""
        return super().n_parameters() + self.n_states

    def _emit(self, rng: np.random.Generator, k: int, size: int) -> np.ndarray:
        """Multivariate t draws: Gaussian draws divided by sqrt(u), u ~ Gamma(nu/2, scale 2/nu)."""
        cov = np.diag(self.covars_[k]) if self.covariance == "diag" else self.covars_[k]
        z = rng.multivariate_normal(np.zeros(self.means_.shape[1]), cov, size=size)
        u = rng.gamma(self.dof_[k] / 2, 2.0 / self.dof_[k], size=size)
        return self.means_[k] + z / np.sqrt(u)[:, None]


def select_hmm(X, n_states=(1, 2, 3), emissions=("gaussian", "student_t"), *, covariance: str = "diag",
               n_init: int = 3, max_iter: int = 200,
               seed: SeedLike = None) -> tuple[GaussianHMM, list[dict]]:  # fmt: skip
    r"""Fit every (number of states, emission) pair and keep the lowest BIC.

    :math:`\mathrm{BIC} = -2 \log L + p \log T` with p the free parameters
    (:meth:`GaussianHMM.n_parameters`; one more per state for Student-t).

    Parameters
    ----------
    X : array_like, shape (T,) or (T, d)
    n_states : sequence of int
        Numbers of states to try.
    emissions : sequence of {"gaussian", "student_t"}
    covariance, n_init, max_iter : passed to the models
    seed : int or Generator
        Each fit gets its own stream spawned from it.

    Returns
    -------
    (model, table)
        The fitted model with the lowest BIC, and one dict per candidate
        (keys n_states, emission, loglik, n_parameters, bic) sorted by BIC.

    References
    ----------
    .. [1] Schwarz, G. (1978), Estimating the dimension of a model, Annals of
       Statistics 6(2), 461-464.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(2).standard_t(3, size=1500) * 0.01
    >>> best, table = select_hmm(x, n_states=(1, 2), n_init=1, seed=0)
    >>> type(best).__name__, best.n_states
    ('StudentTHMM', 1)
    >>> [row["bic"] for row in table] == sorted(row["bic"] for row in table)
    True
    """
    classes = {"gaussian": GaussianHMM, "student_t": StudentTHMM}
    for e in emissions:
        if e not in classes:
            raise ValueError(f"emissions item {e!r} is not allowed: expected 'gaussian' or 'student_t'")
    X = GaussianHMM._as_2d(X)
    rngs = iter(as_generator(seed).spawn(len(n_states) * len(emissions)))
    rows, models = [], []
    for k in n_states:
        for e in emissions:
            m = classes[e](check_integer("n_states", k, low=1), covariance, n_init=n_init, max_iter=max_iter,
                           seed=next(rngs)).fit(X)  # fmt: skip
            rows.append({"n_states": k, "emission": e, "loglik": float(m.score(X)), "n_parameters": m.n_parameters(),
                         "bic": float(m.bic(X))})  # fmt: skip
            models.append(m)
    order = np.argsort([r["bic"] for r in rows], kind="stable")
    return models[order[0]], [rows[i] for i in order]
