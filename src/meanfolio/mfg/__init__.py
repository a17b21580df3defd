"""Mean-field games: HJB / Fokker-Planck systems, their schemes and solvers.

Public API::

    from meanfolio.mfg import MFGConfig, solve_mfg, Quadratic, Congestion
    sol = solve_mfg(MFGConfig(nx=200, nt=100), m0, Congestion(1.0))
"""

from .config import MFGConfig
from .couplings import (
    Congestion,
    Coupling,
    LocalCoupling,
    LogDensity,
    MarketImpact,
    MeanInteraction,
    MeanTracking,
    RunningCost,
    Scaled,
)
from .grid import Grid1D, Grid2D
from .hamiltonians import Custom, Hamiltonian, Linear, PowerLaw, Quadratic
from .lq import LQReference, lq_reference
from .problems.ergodic import ErgodicSolution, solve_ergodic_mfg
from .problems.problem import MFGProblem
from .schemes.fokker_planck import fokker_planck_step, solve_fokker_planck
from .schemes.hjb import solve_hjb
from .solver import MFGConvergenceWarning, MFGSolution, solve_mfg, solve_mfg_1d
from .solvers.continuation import Continuation

__all__ = [
    "Congestion",
    "Continuation",
    "ErgodicSolution",
    "Coupling",
    "Custom",
    "Grid1D",
    "Grid2D",
    "Hamiltonian",
    "LQReference",
    "Linear",
    "LocalCoupling",
    "LogDensity",
    "MFGConfig",
    "MFGConvergenceWarning",
    "MFGProblem",
    "MFGSolution",
    "MarketImpact",
    "MeanInteraction",
    "MeanTracking",
    "PowerLaw",
    "Quadratic",
    "RunningCost",
    "Scaled",
    "fokker_planck_step",
    "lq_reference",
    "solve_ergodic_mfg",
    "solve_fokker_planck",
    "solve_hjb",
    "solve_mfg",
    "solve_mfg_1d",
]
