"""Finance mean-field games solved exactly.

* :class:`AllocationGame`: d assets, N portfolio managers under crowding,
  trading costs and a dispersion penalty; static (mean-field, N-player,
  cooperative) and dynamic equilibria in closed form along the principal
  portfolios, the PDE route through :func:`meanfolio.mfg.solve_mfg`, and the
  epsilon-Nash gap of N managers.
* :func:`systemic_risk`: Carmona, Fouque & Sun (2015), banks lending and borrowing.
* :func:`trade_crowding`: Cardaliaguet & Lehalle (2018), a mean-field game of controls.

Each game's :class:`EpsilonNash` measures the gain of a best response
against N - 1 players using the mean-field strategy, with its fitted and
derived rates in N.
"""

from .allocation import AllocationGame, AllocationSolution
from .allocation_pde import AllocationPDE, solve_allocation_pde
from .allocation_players import AllocationSimulation, allocation_epsilon_nash, simulate_managers
from .nash import EpsilonNash, fit_rate
from .systemic_risk import (
    SystemicRiskModel,
    SystemicRiskSimulation,
    SystemicRiskSolution,
    systemic_risk,
    systemic_risk_epsilon_nash,
)
from .trade_crowding import (
    TradeCrowdingSolution,
    crowding_deviation_problem,
    trade_crowding,
    trade_crowding_epsilon_nash,
)

__all__ = [
    "AllocationGame",
    "AllocationPDE",
    "AllocationSimulation",
    "AllocationSolution",
    "EpsilonNash",
    "SystemicRiskModel",
    "SystemicRiskSimulation",
    "SystemicRiskSolution",
    "TradeCrowdingSolution",
    "allocation_epsilon_nash",
    "crowding_deviation_problem",
    "fit_rate",
    "simulate_managers",
    "solve_allocation_pde",
    "systemic_risk",
    "systemic_risk_epsilon_nash",
    "trade_crowding",
    "trade_crowding_epsilon_nash",
]
