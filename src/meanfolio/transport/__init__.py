"""Optimal transport: exact 1D and discrete Wasserstein distances, entropic OT, Sinkhorn divergence."""

from .ot import (
    EntropicOT,
    entropic_ot,
    entropic_ot_linear,
    sinkhorn_divergence,
    wasserstein,
    wasserstein_1d,
    wasserstein_grid,
)

__all__ = [
    "EntropicOT",
    "entropic_ot",
    "entropic_ot_linear",
    "sinkhorn_divergence",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_grid",
]
