"""Classic test functions (numba, float64(float64[::1])), minimum value 0.

| function | domain used in tests | minimiser |
|---|---|---|
| sphere | [-5.12, 5.12]^D | 0 |
| rosenbrock | [-5, 10]^D | 1 |
| rastrigin | [-5.12, 5.12]^D | 0 |
| ackley | [-32.768, 32.768]^D | 0 |
| griewank | [-600, 600]^D | 0 |
| schwefel | [-500, 500]^D | 420.968746... |
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["CLASSIC", "ackley", "griewank", "rastrigin", "rosenbrock", "schwefel", "sphere"]

SCHWEFEL_ARGMIN = 420.9687462275036


@njit(cache=True)
def sphere(x):
    return float(np.sum(x * x))


@njit(cache=True)
def rosenbrock(x):
    s = 0.0
    for i in range(x.size - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


@njit(cache=True)
def rastrigin(x):
    return float(10.0 * x.size + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x)))


@njit(cache=True)
def ackley(x):
    n = x.size
    return float(
        -20.0 * np.exp(-0.2 * np.sqrt(np.sum(x * x) / n)) - np.exp(np.sum(np.cos(2.0 * np.pi * x)) / n) + 20.0 + np.e
    )


@njit(cache=True)
def griewank(x):
    p = 1.0
    for i in range(x.size):
        p *= np.cos(x[i] / np.sqrt(i + 1.0))
    return float(np.sum(x * x) / 4000.0 - p + 1.0)


@njit(cache=True)
def schwefel(x):
    return float(418.9828872724338 * x.size - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


#: name -> (function, (low, high) per coordinate, minimiser value per coordinate)
CLASSIC = {
    "sphere": (sphere, (-5.12, 5.12), 0.0),
    "rosenbrock": (rosenbrock, (-5.0, 10.0), 1.0),
    "rastrigin": (rastrigin, (-5.12, 5.12), 0.0),
    "ackley": (ackley, (-32.768, 32.768), 0.0),
    "griewank": (griewank, (-600.0, 600.0), 0.0),
    "schwefel": (schwefel, (-500.0, 500.0), SCHWEFEL_ARGMIN),
}
