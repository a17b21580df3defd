"""Differential evolution for portfolio search (scipy's interface, jDE, SHADE, L-SHADE)."""

from .constraints import Simplex
from .de import STRATEGIES, differential_evolution

__all__ = ["STRATEGIES", "Simplex", "differential_evolution"]
