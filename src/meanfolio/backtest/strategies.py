"""The strategies of the backtest, each a skfolio estimator run through the engine.

=====================  ====================================================================
key                    estimator
=====================  ====================================================================
``mean_field``         :class:`.MeanFieldAllocation` (the crowding game, trading toward its
                       equilibrium at the game's speed, constraints by QP / L-SHADE)
``cooperative``        the same with ``planner=True`` (the planner's allocation)
``equal_weight``       ``skfolio.optimization.EqualWeighted``
``inverse_volatility`` ``InverseVolatility`` (same prior as mean_field)
``min_variance``       ``MeanRisk(MINIMIZE_RISK)``, long-only, capped
``mean_variance``      ``MeanRisk(MAXIMIZE_UTILITY, risk_aversion = gamma / 2)``: Markowitz with
                       the same mu, Sigma, gamma and caps as mean_field (crowding isolated)
``hrp``                ``HierarchicalRiskParity`` (Ledoit-Wolf covariance), capped
=====================  ====================================================================

Every strategy sees the prior :func:`.estimator.default_prior` (James-Stein
shrunk means, Ledoit-Wolf covariance) fitted on the engine's window only.
``MeanRisk`` utility is mu'w - lambda w'Sigma w, so lambda = gamma/2 is the
allocation game's mean-variance term; the optimum does not depend on the
annualisation, so skfolio works on the daily returns directly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skfolio.optimization import (
    EqualWeighted,
    HierarchicalRiskParity,
    InverseVolatility,
    MeanRisk,
    ObjectiveFunction,
)
from sklearn.base import clone

from .estimator import MeanFieldAllocation, default_prior

__all__ = ["GAME_STRATEGIES", "STRATEGIES", "estimator_strategy", "make_estimator"]

#: The keys of the built-in strategies, in the order of the reports (see :func:`make_estimator`).
STRATEGIES = (
    "mean_field",
    "cooperative",
    "equal_weight",
    "inverse_volatility",
    "min_variance",
    "mean_variance",
    "hrp",
)
#: strategies that trade from the current weights along the game's path
GAME_STRATEGIES = ("mean_field", "cooperative")


def make_estimator(name: str, game: dict, *, max_weight: float = 1.0, cardinality: int | None = None,
                   periods_per_year: float = 252.0):  # fmt: skip
    """The skfolio estimator of a backtest strategy, by key.

    Parameters
    ----------
    name : str
        One of :data:`STRATEGIES`: ``"mean_field"``, ``"cooperative"``
        (:class:`MeanFieldAllocation`), ``"equal_weight"``,
        ``"inverse_volatility"``, ``"min_variance"``, ``"mean_variance"``
        (``MeanRisk`` with risk aversion gamma/2, Markowitz with the game's
        moments), ``"hrp"`` (hierarchical risk parity).
    game : dict
        :class:`MeanFieldAllocation`'s game parameters (``risk_aversion``,
        ``crowding``, ``trading_cost``, ``dispersion``, ``horizon``, ``seed``,
        ``max_evaluations``); the baselines only read ``risk_aversion``.
    max_weight : float, default 1
        Cap per asset.
    cardinality : int, optional
        Holdings limit (game strategies only).
    periods_per_year : float, default 252
        Rows per year.

    Returns
    -------
    skfolio.optimization.BaseOptimization

    Raises
    ------
    ValueError
        If ``name`` is not a strategy.

    Examples
    --------
    >>> from meanfolio.backtest import make_estimator
    >>> make_estimator("mean_field", {"crowding": 0.2})
    MeanFieldAllocation(crowding=0.2)
    """
    if name in GAME_STRATEGIES:
        return MeanFieldAllocation(
            **game, max_weight=max_weight, cardinality=cardinality, planner=name == "cooperative",
            periods_per_year=periods_per_year,
        )  # fmt: skip
    gamma = float(game.get("risk_aversion", 3.0))
    builders: dict[str, Callable[[], object]] = {
        "equal_weight": EqualWeighted,
        "inverse_volatility": lambda: InverseVolatility(prior_estimator=default_prior()),
        "min_variance": lambda: MeanRisk(prior_estimator=default_prior(), max_weights=max_weight),
        "mean_variance": lambda: MeanRisk(
            objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
            risk_aversion=gamma / 2.0,
            prior_estimator=default_prior(),
            max_weights=max_weight,
        ),  # fmt: skip
        "hrp": lambda: HierarchicalRiskParity(prior_estimator=default_prior(), max_weights=max_weight),
    }
    if name not in builders:
        raise ValueError(f"strategy = {name!r} is not allowed: expected one of {', '.join(STRATEGIES)}")
    return builders[name]()


def estimator_strategy(estimator) -> Callable:
    """The engine's strategy callable for a skfolio estimator: a fresh clone fitted on each window.

    A :class:`MeanFieldAllocation` also gets the current (drifted) weights and
    the holding period, so it trades along the game's path; the first
    rebalance (from cash) goes to the constrained equilibrium.

    Parameters
    ----------
    estimator : skfolio.optimization.BaseOptimization
        The estimator (cloned at every rebalance).

    Returns
    -------
    callable
        ``strategy(window, current, rebalance) -> weights (n,)`` for :func:`run_backtest`.
    """
    trades_along_path = isinstance(estimator, MeanFieldAllocation)

    def strategy(window: np.ndarray, current: np.ndarray, rebalance) -> np.ndarray:
        est = clone(estimator)
        if trades_along_path:
            est.set_params(
                previous_weights=np.array(current) if current.sum() > 0 else None,
                holding_period=rebalance.holding_days / rebalance.periods_per_year,
            )
        return np.asarray(est.fit(np.array(window)).weights_, dtype=np.float64)

    return strategy
