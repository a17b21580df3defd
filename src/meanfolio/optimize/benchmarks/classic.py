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
    r"""The sphere function, convex and unimodal.

    .. math::

        f(x) = \sum_{i=1}^D x_i^2,

    on the usual domain :math:`[-5.12, 5.12]^D`; minimum :math:`f^* = 0` at :math:`x^* = 0`.

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0.

    References
    ----------
    .. [1] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import sphere
    >>> sphere(np.zeros(5)), sphere(np.array([1.0, 2.0]))
    (0.0, 5.0)
    """
    return float(np.sum(x * x))


@njit(cache=True)
def rosenbrock(x):
    r"""The Rosenbrock function: a narrow curved valley, unimodal for D <= 3.

    .. math::

        f(x) = \sum_{i=1}^{D-1} \big[100\,(x_{i+1} - x_i^2)^2 + (1 - x_i)^2\big],

    on the usual domain :math:`[-5, 10]^D` (D >= 2); minimum :math:`f^* = 0` at
    :math:`x^* = (1, \dots, 1)`.

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0.

    References
    ----------
    .. [1] H. H. Rosenbrock, "An automatic method for finding the greatest or least value of a
       function", Comput. J. 3(3), 175-184 (1960).
    .. [2] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import rosenbrock
    >>> rosenbrock(np.ones(5)), rosenbrock(np.zeros(5))
    (0.0, 4.0)
    """
    s = 0.0
    for i in range(x.size - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


@njit(cache=True)
def rastrigin(x):
    r"""The Rastrigin function: a sphere with a regular lattice of ~10^D local minima.

    .. math::

        f(x) = 10 D + \sum_{i=1}^D \big[x_i^2 - 10 \cos(2 \pi x_i)\big],

    on the usual domain :math:`[-5.12, 5.12]^D`; minimum :math:`f^* = 0` at :math:`x^* = 0`.

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0.

    References
    ----------
    .. [1] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import rastrigin
    >>> rastrigin(np.zeros(10)), round(rastrigin(np.ones(10)), 12)  # 1 is a local minimum
    (0.0, 10.0)
    """
    return float(10.0 * x.size + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x)))


@njit(cache=True)
def ackley(x):
    r"""The Ackley function: a nearly flat outer region with a deep hole at the origin.

    .. math::

        f(x) = -20 \exp\Big(-0.2 \sqrt{\tfrac1D \textstyle\sum_i x_i^2}\Big)
        - \exp\Big(\tfrac1D \textstyle\sum_i \cos(2 \pi x_i)\Big) + 20 + e,

    on the usual domain :math:`[-32.768, 32.768]^D`; minimum :math:`f^* = 0` at
    :math:`x^* = 0` (up to rounding, ~4e-16).

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0.

    References
    ----------
    .. [1] D. H. Ackley, "A Connectionist Machine for Genetic Hillclimbing", Kluwer (1987).
    .. [2] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import ackley
    >>> round(ackley(np.zeros(10)), 12)
    0.0
    """
    n = x.size
    return float(
        -20.0 * np.exp(-0.2 * np.sqrt(np.sum(x * x) / n)) - np.exp(np.sum(np.cos(2.0 * np.pi * x)) / n) + 20.0 + np.e
    )


@njit(cache=True)
def griewank(x):
    r"""The Griewank function: a sphere times a product of cosines (many shallow local minima).

    .. math::

        f(x) = 1 + \frac{1}{4000} \sum_{i=1}^D x_i^2 - \prod_{i=1}^D \cos\Big(\frac{x_i}{\sqrt i}\Big),

    on the usual domain :math:`[-600, 600]^D`; minimum :math:`f^* = 0` at :math:`x^* = 0`.

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0.

    References
    ----------
    .. [1] A. O. Griewank, "Generalized descent for global optimization", J. Optim. Theory
       Appl. 34(1), 11-39 (1981).
    .. [2] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import griewank
    >>> griewank(np.zeros(10))
    0.0
    """
    p = 1.0
    for i in range(x.size):
        p *= np.cos(x[i] / np.sqrt(i + 1.0))
    return float(np.sum(x * x) / 4000.0 - p + 1.0)


@njit(cache=True)
def schwefel(x):
    r"""The Schwefel function (2.26, shifted to a zero minimum): the best local minima far apart.

    .. math::

        f(x) = 418.9828872724338\, D - \sum_{i=1}^D x_i \sin\big(\sqrt{\lvert x_i \rvert}\big),

    on the usual domain :math:`[-500, 500]^D`; minimum :math:`f^* = 0` (up to rounding) at
    :math:`x^* = (420.9687462\ldots, \dots)` (``SCHWEFEL_ARGMIN`` in every coordinate), near a
    corner of the box and far from the second-best minimum.

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, a float64 array (the function is compiled with numba: call it from ``@njit`` code too).

    Returns
    -------
    float
        f(x) >= 0 (up to rounding).

    References
    ----------
    .. [1] H.-P. Schwefel, "Numerical Optimization of Computer Models", Wiley (1981).
    .. [2] M. Jamil, X.-S. Yang, "A literature survey of benchmark functions for global
       optimization problems", Int. J. Math. Model. Numer. Optim. 4(2), 150-194 (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import schwefel
    >>> round(schwefel(np.full(10, 420.9687462275036)), 9)
    0.0
    """
    return float(418.9828872724338 * x.size - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


#: The classic test functions by name: ``name -> (function, (low, high), x_i^*)``, with the usual search
#: box ``[low, high]^D`` and the minimiser's value in every coordinate (f* = 0 for all).
CLASSIC = {
    "sphere": (sphere, (-5.12, 5.12), 0.0),
    "rosenbrock": (rosenbrock, (-5.0, 10.0), 1.0),
    "rastrigin": (rastrigin, (-5.12, 5.12), 0.0),
    "ackley": (ackley, (-32.768, 32.768), 0.0),
    "griewank": (griewank, (-600.0, 600.0), 0.0),
    "schwefel": (schwefel, (-500.0, 500.0), SCHWEFEL_ARGMIN),
}
