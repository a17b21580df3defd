"""Benchmark functions for optimisers: classic ones and the CEC 2014 suite."""

from .cec2014 import CEC2014_DIMENSIONS, cec2014, cec2014_data_dir, cec2014_evaluate
from .classic import CLASSIC, ackley, griewank, rastrigin, rosenbrock, schwefel, sphere

__all__ = [
    "CEC2014_DIMENSIONS",
    "CLASSIC",
    "ackley",
    "cec2014",
    "cec2014_data_dir",
    "cec2014_evaluate",
    "griewank",
    "rastrigin",
    "rosenbrock",
    "schwefel",
    "sphere",
]
