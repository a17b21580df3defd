"""meanfolio: mean-field models of portfolios and markets.

Capabilities live in subpackages (``meanfolio.mfg``, ...); the names most
users need are re-exported here.
"""

from meanfolio.mfg import MFGConfig, MFGSolution, solve_mfg, solve_mfg_1d
from meanfolio.optimize import differential_evolution
from meanfolio.risk import compute_risk_metrics

__version__ = "0.1.0"

__all__ = [
    "MFGConfig",
    "MFGSolution",
    "__version__",
    "compute_risk_metrics",
    "differential_evolution",
    "solve_mfg",
    "solve_mfg_1d",
]
