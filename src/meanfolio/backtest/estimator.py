"""The mean-field allocation as a scikit-learn / skfolio estimator.

``MeanFieldAllocation().fit(X)`` sets ``weights_`` from daily returns X (T, n):

1. moments: skfolio's ``EmpiricalPrior`` with James-Stein shrunk means
   (``ShrunkMu``) and the Ledoit-Wolf covariance (``LedoitWolf``), annualised
   by ``periods_per_year`` (mu and Sigma of :class:`meanfolio.games.AllocationGame`);
2. the game: the mean-field path of the crowd's holdings from the current
   weights (``previous_weights``; without them the static equilibrium) over
   ``holding_period`` years: managers trade toward the equilibrium
   (gamma Sigma + lam I)^-1 mu at the game's optimal speed, not in one jump;
3. constraints the game cannot take: the long-only, fully invested weights
   capped at ``max_weight`` with at most ``cardinality`` holdings that are
   closest to those holdings in the game's own metric gamma Sigma + lam I
   (exact QP; L-SHADE when a cardinality makes it non-convex), i.e. the
   constrained mean-field equilibrium (see :mod:`.constraints`).

``planner=True`` gives the cooperative allocation of the same game (the
crowding internalised: 2 lam in the static first-order condition).

Being a skfolio ``BaseOptimization``, it works in skfolio's ``WalkForward`` /
``cross_val_predict`` and ``predict`` returns a skfolio ``Portfolio``.
"""

from __future__ import annotations

import numpy as np
import sklearn.utils.validation as skv
from skfolio.moments import LedoitWolf, ShrunkMu
from skfolio.optimization._base import BaseOptimization
from skfolio.prior import EmpiricalPrior

from meanfolio.games import AllocationGame

from .constraints import closest_feasible

__all__ = ["MeanFieldAllocation", "annual_moments", "default_prior"]


def default_prior() -> EmpiricalPrior:
    """The moment estimator shared by the mean-field strategy and the skfolio baselines.

    Returns
    -------
    skfolio.prior.EmpiricalPrior
        ``EmpiricalPrior(mu_estimator=ShrunkMu(), covariance_estimator=LedoitWolf())``:
        James-Stein shrunk means and the Ledoit-Wolf covariance.

    References
    ----------
    .. [1] O. Ledoit, M. Wolf, "A well-conditioned estimator for large-dimensional
       covariance matrices", J. Multivar. Anal. 88 (2004).
    """
    return EmpiricalPrior(mu_estimator=ShrunkMu(), covariance_estimator=LedoitWolf())


def annual_moments(X: np.ndarray, periods_per_year: float, prior=None) -> tuple[np.ndarray, np.ndarray]:
    """Annualised mean and covariance of periodic returns, estimated by a skfolio prior.

    Parameters
    ----------
    X : ndarray, shape (T, n)
        Periodic simple returns.
    periods_per_year : float
        Rows per year (252 for daily returns).
    prior : skfolio prior, optional
        Default :func:`default_prior` (shrunk means, Ledoit-Wolf covariance).

    Returns
    -------
    mu : ndarray, shape (n,)
        Annual expected returns.
    cov : ndarray, shape (n, n)
        Annual covariance.

    Examples
    --------
    >>> from meanfolio.backtest import annual_moments
    >>> from meanfolio.data import load_sp500
    >>> returns, _ = load_sp500(["AAPL", "KO", "XOM"], start="2019-01-01", end="2020-12-31").returns()
    >>> mu, cov = annual_moments(returns, 252)
    >>> mu.shape, cov.shape
    ((3,), (3, 3))
    """
    fitted = (default_prior() if prior is None else prior).fit(X)
    dist = fitted.return_distribution_
    return np.asarray(dist.mu) * periods_per_year, np.asarray(dist.covariance) * periods_per_year


class MeanFieldAllocation(BaseOptimization):
    r"""Mean-field (or, with ``planner=True``, cooperative) allocation of the crowding game, as a skfolio estimator.

    ``fit(X)`` estimates the annual moments :math:`\mu, \Sigma` of the returns X
    (James-Stein shrunk means, Ledoit-Wolf covariance), follows the mean-field
    path of :class:`meanfolio.games.AllocationGame` from the current weights over
    ``holding_period`` years toward the equilibrium
    :math:`(\gamma\Sigma + \lambda I)^{-1}\mu` (the planner's
    :math:`(\gamma\Sigma + 2\lambda I)^{-1}\mu`), and projects the holdings on the
    long-only, fully invested, capped weights closest in the game's metric
    :math:`\gamma\Sigma + \lambda I` (:func:`closest_feasible`).

    Parameters
    ----------
    risk_aversion, crowding, trading_cost, dispersion, horizon : float
        :math:`\gamma, \lambda, \kappa, \eta` and T of :class:`meanfolio.games.AllocationGame` (annual units).
    holding_period : float, default 1/12
        Years until the next rebalance (the part of the equilibrium path traded now).
    max_weight : float, default 1
        Cap per asset in (0, 1].
    cardinality : int, optional
        At most this many holdings (L-SHADE picks them).
    planner : bool, default False
        The cooperative allocation instead of the Nash one.
    periods_per_year : float, default 252
        Rows of X per year.
    seed, max_evaluations : int
        L-SHADE's seed and budget (cardinality only).
    prior_estimator : skfolio prior, optional
        Default: ``EmpiricalPrior(ShrunkMu(), LedoitWolf())``.
    portfolio_params, fallback, previous_weights, raise_on_failure
        skfolio's ``BaseOptimization`` arguments (``previous_weights``: the current weights).

    Attributes
    ----------
    weights_ : ndarray, shape (n,)
        The fitted weights.

    See Also
    --------
    meanfolio.games.AllocationGame, closest_feasible, make_estimator

    Examples
    --------
    >>> from meanfolio.backtest import MeanFieldAllocation
    >>> from meanfolio.data import load_sp500
    >>> returns, _ = load_sp500(["AAPL", "KO", "XOM"], start="2019-01-01", end="2020-12-31").returns()
    >>> model = MeanFieldAllocation(risk_aversion=3.0, crowding=0.1, max_weight=0.6).fit(returns)
    >>> model.weights_.shape, round(float(model.weights_.sum()), 6)
    ((3,), 1.0)
    """

    def __init__(
        self,
        risk_aversion: float = 3.0,
        crowding: float = 0.1,
        trading_cost: float = 5e-4,
        dispersion: float = 0.0,
        horizon: float = 1.0,
        holding_period: float = 1.0 / 12.0,
        max_weight: float = 1.0,
        cardinality: int | None = None,
        planner: bool = False,
        periods_per_year: float = 252.0,
        seed: int = 0,
        max_evaluations: int = 4000,
        prior_estimator=None,
        portfolio_params: dict | None = None,
        fallback=None,
        previous_weights=None,
        raise_on_failure: bool = True,
    ) -> None:
        super().__init__(
            portfolio_params=portfolio_params,
            fallback=fallback,
            previous_weights=previous_weights,
            raise_on_failure=raise_on_failure,
        )
        self.risk_aversion = risk_aversion
        self.crowding = crowding
        self.trading_cost = trading_cost
        self.dispersion = dispersion
        self.horizon = horizon
        self.holding_period = holding_period
        self.max_weight = max_weight
        self.cardinality = cardinality
        self.planner = planner
        self.periods_per_year = periods_per_year
        self.seed = seed
        self.max_evaluations = max_evaluations
        self.prior_estimator = prior_estimator

    def fit(self, X, y=None) -> MeanFieldAllocation:
        X = skv.validate_data(self, X)
        mu, cov = annual_moments(X, self.periods_per_year, self.prior_estimator)
        crowding = 2.0 * self.crowding if self.planner else self.crowding
        game = AllocationGame(
            mu, cov, risk_aversion=self.risk_aversion, crowding=crowding, trading_cost=self.trading_cost,
            dispersion=self.dispersion, horizon=self.horizon,
        )  # fmt: skip
        self.game_ = game
        self.equilibrium_ = game.equilibrium()
        if self.previous_weights is None:
            desired = self.equilibrium_
        else:
            current = np.broadcast_to(np.asarray(self.previous_weights, dtype=np.float64), mu.shape)
            _, Q = game.eigen
            step = np.array([min(float(self.holding_period), game.horizon)])
            _, mean_y, _ = game.principal_path(Q.T @ current, step)
            desired = Q @ mean_y[0]
        self.desired_ = desired
        metric = self.risk_aversion * cov + crowding * np.eye(mu.size)
        result = closest_feasible(
            desired, metric, max_weight=self.max_weight, cardinality=self.cardinality, seed=self.seed,
            max_evaluations=self.max_evaluations,
        )  # fmt: skip
        self.feasible_ = result
        self.weights_ = result.weights
        return self
