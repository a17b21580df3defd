"""Walk-forward backtests: one engine for every strategy (drift, turnover, costs, no look-ahead).

    from meanfolio.backtest import BacktestConfig, run_backtest

    def equal_weight(window, current, rebalance):
        return np.full(window.shape[1], 1.0 / window.shape[1])

    result = run_backtest(returns, dates, {"equal": equal_weight}, BacktestConfig(rebalance="monthly", window=252))
    result.returns_frame(); result.weights_frame(); result.summary(); result.plot()

The conventions (timing, cash, drift, costs, calendar) are documented in
:mod:`meanfolio.backtest.engine` and :mod:`meanfolio.backtest.schedule`.


The strategies: :class:`MeanFieldAllocation` (the crowding game as a skfolio estimator),
:func:`make_estimator` (it and the skfolio baselines by key), :func:`estimator_strategy`
(an estimator as the engine's strategy), :func:`closest_feasible` (constraints by QP / L-SHADE).
"""

from meanfolio.backtest.constraints import FeasibleWeights, closest_feasible, project_capped_simplex
from meanfolio.backtest.engine import BacktestResult, Strategy, run_backtest
from meanfolio.backtest.estimator import MeanFieldAllocation, annual_moments, default_prior
from meanfolio.backtest.schedule import BacktestConfig, Rebalance, rebalance_rows
from meanfolio.backtest.strategies import STRATEGIES, estimator_strategy, make_estimator

__all__ = [
    "STRATEGIES",
    "BacktestConfig",
    "BacktestResult",
    "FeasibleWeights",
    "MeanFieldAllocation",
    "Rebalance",
    "Strategy",
    "annual_moments",
    "closest_feasible",
    "default_prior",
    "estimator_strategy",
    "make_estimator",
    "project_capped_simplex",
    "rebalance_rows",
    "run_backtest",
]
