"""Couplings f(x, m(t)) of the HJB equation and terminal costs g(x, m(T)).

A coupling maps the state of the population at each implicit step to a cost
on the grid, and gives its derivative for Newton's method:

    dF_i/dm_j = diag_i * delta_ij + sum_k c_k[i] * w_k[j]       (CouplingJacobian)

Non-local couplings that depend on m through a few moments contribute
rank-one terms ``c w^T`` (with ``w`` the moment's weights), so Newton's
Jacobian stays sparse: no dense nx-by-nx block is ever formed.

Couplings add: ``MeanTracking(1.0) + RunningCost(f)`` is a coupling.
"""

from .base import Coupling, CouplingJacobian, CouplingState, CouplingSum, RunningCost, Scaled, as_coupling  # noqa: F401 (for the solvers)
from .local import Congestion, LocalCoupling, LogDensity
from .mean_field import MarketImpact, MeanInteraction, MeanTracking

# the public couplings (re-exported by meanfolio.mfg); the interface types are imported from .base
__all__ = [
    "Congestion",
    "Coupling",
    "LocalCoupling",
    "LogDensity",
    "MarketImpact",
    "MeanInteraction",
    "MeanTracking",
    "RunningCost",
    "Scaled",
]
