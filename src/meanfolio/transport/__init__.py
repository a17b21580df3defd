"""Optimal transport: exact 1D and discrete Wasserstein distances, entropic OT, Sinkhorn divergence."""

from .entropic import (
    EntropicOT,
    SinkhornConvergenceWarning,
    SinkhornDivergence,
    entropic_ot,
    entropic_ot_linear,
    sinkhorn_divergence,
)
from .ot import ConvergenceWarning, wasserstein, wasserstein_1d, wasserstein_grid

__all__ = [
    "ConvergenceWarning",
    "EntropicOT",
    "SinkhornConvergenceWarning",
    "SinkhornDivergence",
    "entropic_ot",
    "entropic_ot_linear",
    "sinkhorn_divergence",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_grid",
]
