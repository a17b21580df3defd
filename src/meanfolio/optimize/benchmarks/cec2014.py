"""The CEC 2014 benchmark F1-F30 (Liang, Qu & Suganthan 2013), compiled with numba.

Written from the competition's definitions (the reference C code
``cec14_func.cpp``): shift and rotation ``z = M (x - o) * rate``, the basic
functions with their scaling rates, hybrid functions on shuffled blocks of
``ceil(p_k D)`` variables, and composition functions weighting components by
``w_i = exp(-|x - o_i|^2 / (2 D delta_i^2)) / |x - o_i|``. F_i(x*) = 100 i.

The shift vectors, rotation matrices and shuffles are the official data
files; they are read from the ``opfunu`` package (test extra) when it is
installed — nothing is ever downloaded. ``cec2014(fid, D)`` returns a numba
function ``f(x) -> float`` usable by ``differential_evolution``.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np
from numba import njit

from meanfolio._validation import check_choice, check_integer

__all__ = ["CEC2014_DIMENSIONS", "cec2014", "cec2014_data_dir", "cec2014_evaluate"]

#: The dimensions D for which the CEC 2014 data files (shifts, rotations, shuffles) exist:
#: ``cec2014(fid, ndim)`` accepts only these.
CEC2014_DIMENSIONS = (10, 20, 30, 50, 100)
INF_WEIGHT = 1.0e99  # the reference code's INF
# basic functions: 0 ellips, 1 bent cigar, 2 discus, 3 rosenbrock, 4 ackley, 5 weierstrass, 6 griewank,
# 7 rastrigin, 8 schwefel, 9 katsuura, 10 happycat, 11 hgbat, 12 griewank-rosenbrock, 13 expanded scaffer F6
RATES = np.array([1.0, 1.0, 1.0, 2.048 / 100, 1.0, 0.5 / 100, 600.0 / 100, 5.12 / 100, 1000.0 / 100, 5.0 / 100,
                  5.0 / 100, 5.0 / 100, 5.0 / 100, 1.0])  # fmt: skip
# F1..F16: (basic code, rotated)
SIMPLE = np.array([[0, 1], [1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 0], [7, 1], [8, 0], [8, 1],
                   [9, 1], [10, 1], [11, 1], [12, 1], [13, 1]])  # fmt: skip
# hybrid functions hf01..hf06: component codes (-1 = unused) and proportions
HYBRID_CODES = np.array([[8, 7, 0, -1, -1], [1, 11, 7, -1, -1], [6, 5, 3, 13, -1], [11, 2, 12, 7, -1],
                         [13, 11, 3, 8, 0], [9, 10, 12, 8, 4]])  # fmt: skip
HYBRID_P = np.array([[0.3, 0.3, 0.4, 0, 0], [0.3, 0.3, 0.4, 0, 0], [0.2, 0.2, 0.3, 0.3, 0], [0.2, 0.2, 0.3, 0.3, 0],
                     [0.1, 0.2, 0.2, 0.2, 0.3], [0.1, 0.2, 0.2, 0.2, 0.3]])  # fmt: skip
HYBRID_N = np.array([3, 3, 4, 4, 5, 5])
# composition functions cf01..cf08: components (kind 0 basic / 1 hybrid, code, lambda, rotated), delta
COMP_KIND = np.array([[0] * 5, [0] * 5, [0] * 5, [0] * 5, [0] * 5, [0] * 5, [1] * 5, [1] * 5])
COMP_CODE = np.array([[3, 0, 1, 2, 0], [8, 7, 11, 0, 0], [8, 7, 0, 0, 0], [8, 10, 0, 5, 6], [11, 7, 8, 5, 0],
                      [12, 10, 8, 13, 0], [0, 1, 2, 0, 0], [3, 4, 5, 0, 0]])  # fmt: skip
COMP_LAMBDA = np.array([[1.0, 1e-6, 1e-26, 1e-6, 1e-6], [1.0, 1.0, 1.0, 0, 0], [0.25, 1.0, 1e-7, 0, 0],
                        [0.25, 1.0, 1e-7, 2.5, 10.0], [10.0, 10.0, 2.5, 25.0, 1e-6], [2.5, 10.0, 2.5, 5e-4, 1e-6],
                        [1.0, 1.0, 1.0, 0, 0], [1.0, 1.0, 1.0, 0, 0]])  # fmt: skip
COMP_ROT = np.array([[1, 1, 1, 1, 0], [0, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1],
                     [1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]])  # fmt: skip
COMP_DELTA = np.array([[10.0, 20, 30, 40, 50], [20.0, 20, 20, 0, 0], [10.0, 30, 50, 0, 0],
                       [10.0, 10, 10, 10, 10], [10.0, 10, 10, 20, 20], [10.0, 20, 30, 40, 50],
                       [10.0, 30, 50, 0, 0], [10.0, 30, 50, 0, 0]])  # fmt: skip
COMP_N = np.array([5, 3, 3, 5, 5, 5, 3, 3])


def components(fid: int) -> int:
    """Number of (shift, rotation, shuffle) blocks function fid uses."""
    return int(COMP_N[fid - 23]) if fid >= 23 else 1


@njit(cache=True)
def _shift_rotate(x, o, M, rate, shift, rotate):
    n = x.size
    y = np.empty(n)
    for i in range(n):
        y[i] = ((x[i] - o[i]) if shift else x[i]) * rate
    if not rotate:
        return y
    z = np.zeros(n)
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += M[i, j] * y[j]
        z[i] = s
    return z


@njit(cache=True)
def _basic_on(code, z):
    """A basic function on already shifted, scaled and rotated z."""
    n = z.size
    f = 0.0
    if code == 0:
        for i in range(n):
            f += 10.0 ** (6.0 * i / (n - 1)) * z[i] * z[i] if n > 1 else z[i] * z[i]
    elif code == 1:
        f = z[0] * z[0]
        for i in range(1, n):
            f += 1e6 * z[i] * z[i]
    elif code == 2:
        f = 1e6 * z[0] * z[0]
        for i in range(1, n):
            f += z[i] * z[i]
    elif code == 3:
        w = z + 1.0
        for i in range(n - 1):
            t1 = w[i] * w[i] - w[i + 1]
            t2 = w[i] - 1.0
            f += 100.0 * t1 * t1 + t2 * t2
    elif code == 4:
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            s1 += z[i] * z[i]
            s2 += np.cos(2.0 * np.pi * z[i])
        f = np.e - 20.0 * np.exp(-0.2 * np.sqrt(s1 / n)) - np.exp(s2 / n) + 20.0
    elif code == 5:
        s2 = 0.0
        for k in range(21):
            s2 += 0.5**k * np.cos(2.0 * np.pi * 3.0**k * 0.5)
        for i in range(n):
            s = 0.0
            for k in range(21):
                s += 0.5**k * np.cos(2.0 * np.pi * 3.0**k * (z[i] + 0.5))
            f += s
        f -= n * s2
    elif code == 6:
        s = 0.0
        p = 1.0
        for i in range(n):
            s += z[i] * z[i]
            p *= np.cos(z[i] / np.sqrt(1.0 + i))
        f = 1.0 + s / 4000.0 - p
    elif code == 7:
        for i in range(n):
            f += z[i] * z[i] - 10.0 * np.cos(2.0 * np.pi * z[i]) + 10.0
    elif code == 8:
        for i in range(n):
            zi = z[i] + 4.209687462275036e002
            if zi > 500:
                m = 500.0 - np.fmod(zi, 500.0)
                f -= m * np.sin(np.sqrt(m))
                f += ((zi - 500.0) / 100.0) ** 2 / n
            elif zi < -500:
                m = 500.0 - np.fmod(abs(zi), 500.0)
                f -= (-500.0 + np.fmod(abs(zi), 500.0)) * np.sin(np.sqrt(m))
                f += ((zi + 500.0) / 100.0) ** 2 / n
            else:
                f -= zi * np.sin(np.sqrt(abs(zi)))
        f += 4.189828872724338e002 * n
    elif code == 9:
        f = 1.0
        e = 10.0 / n**1.2
        for i in range(n):
            t = 0.0
            for j in range(1, 33):
                p2 = 2.0**j
                v = p2 * z[i]
                t += abs(v - np.floor(v + 0.5)) / p2
            f *= (1.0 + (i + 1) * t) ** e
        c = 10.0 / n / n
        f = f * c - c
    elif code == 10 or code == 11:
        r2 = 0.0
        sz = 0.0
        for i in range(n):
            w = z[i] - 1.0
            r2 += w * w
            sz += w
        if code == 10:
            f = abs(r2 - n) ** 0.25 + (0.5 * r2 + sz) / n + 0.5
        else:
            f = abs(r2 * r2 - sz * sz) ** 0.5 + (0.5 * r2 + sz) / n + 0.5
    elif code == 12:
        w = z + 1.0
        for i in range(n):
            a = w[i]
            b = w[(i + 1) % n]
            t1 = a * a - b
            t2 = a - 1.0
            t = 100.0 * t1 * t1 + t2 * t2
            f += t * t / 4000.0 - np.cos(t) + 1.0
    else:
        for i in range(n):
            a = z[i]
            b = z[(i + 1) % n]
            s = a * a + b * b
            t1 = np.sin(np.sqrt(s)) ** 2
            t2 = 1.0 + 0.001 * s
            f += 0.5 + (t1 - 0.5) / (t2 * t2)
    return f


@njit(cache=True)
def _basic(code, x, o, M, shift, rotate):
    return _basic_on(code, _shift_rotate(x, o, M, RATES[code], shift, rotate))


@njit(cache=True)
def _hybrid(h, x, o, M, S, shift, rotate):
    n = x.size
    z = _shift_rotate(x, o, M, 1.0, shift, rotate)
    y = np.empty(n)
    for i in range(n):
        y[i] = z[S[i]]
    k = HYBRID_N[h]
    sizes = np.empty(k, dtype=np.int64)
    used = 0
    for i in range(k - 1):
        sizes[i] = int(np.ceil(HYBRID_P[h, i] * n))  # float ceil, as in the reference code
        used += sizes[i]
    sizes[k - 1] = n - used
    f = 0.0
    start = 0
    for i in range(k):
        seg = y[start : start + sizes[i]]
        f += _basic_on(HYBRID_CODES[h, i], seg * RATES[HYBRID_CODES[h, i]])
        start += sizes[i]
    return f


@njit(cache=True)
def cec2014_evaluate(x, fid, O, M, S):
    r"""Evaluate CEC 2014 function F\ :sub:`fid` at x with explicit data (compiled with numba).

    The low-level evaluator behind :func:`cec2014`. With :math:`z = M (x - o) \cdot r`
    (shift, rate r of the basic function, rotation):

    - F1-F16 (unimodal and simple multimodal): :math:`F(x) = g(z) + 100\, \text{fid}` for a
      basic function g (rotated high-conditioned elliptic, bent cigar, discus, Rosenbrock,
      Ackley, Weierstrass, Griewank, Rastrigin, Schwefel, Katsuura, HappyCat, HGBat, expanded
      Griewank-plus-Rosenbrock, expanded Scaffer F6);
    - F17-F22 (hybrid): the shifted, rotated and shuffled variables are cut into blocks of
      :math:`\lceil p_k D \rceil` variables, each fed to a different basic function, summed;
    - F23-F30 (composition): :math:`F(x) = \sum_i \frac{w_i}{\sum_j w_j}
      (\lambda_i g_i(x) + \text{bias}_i) + 100\, \text{fid}` with
      :math:`w_i = \lvert x - o_i \rvert^{-1} \exp\big(-\lvert x - o_i \rvert^2 / (2 D
      \delta_i^2)\big)` (:math:`10^{99}` at :math:`x = o_i`), bias 0, 100, 200, ...

    The minimum is :math:`F^* = 100\, \text{fid}` at :math:`x^* = o_1` (the first shift).

    Parameters
    ----------
    x : ndarray of float64, shape (D,)
        The point, in the search box :math:`[-100, 100]^D`.
    fid : int
        The function number, 1 to 30.
    O : ndarray of float64, shape (k, D)
        The shift vectors :math:`o_i` of the k components (k = 1 except for compositions).
    M : ndarray of float64, shape (k, D, D)
        The rotation matrices.
    S : ndarray of int64, shape (k, D)
        The 0-based shuffles of the hybrid functions (unused for the others).

    Returns
    -------
    float
        F(x) >= 100 fid.

    See Also
    --------
    cec2014 : the same function with the official data bound in, as a one-argument ``f(x)``.

    References
    ----------
    .. [1] J. J. Liang, B. Y. Qu, P. N. Suganthan, "Problem definitions and evaluation criteria
       for the CEC 2014 special session and competition on single objective real-parameter
       numerical optimization", Technical Report 201311, Computational Intelligence Laboratory,
       Zhengzhou University, and Nanyang Technological University, Singapore (2013).

    Examples
    --------
    >>> from meanfolio.optimize.benchmarks import cec2014_evaluate
    >>> from meanfolio.optimize.benchmarks.cec2014 import load_data
    >>> O, M, S = load_data(4, 10)  # the official data (opfunu, test extra)
    >>> O.shape, M.shape, S.shape
    ((1, 10), (1, 10, 10), (1, 10))
    >>> round(cec2014_evaluate(O[0], 4, O, M, S), 9)  # F4 at its minimiser
    400.0
    """
    n = x.size
    if fid <= 16:
        code, rot = SIMPLE[fid - 1, 0], SIMPLE[fid - 1, 1]
        return _basic(code, x, O[0], M[0], True, rot == 1) + 100.0 * fid
    if fid <= 22:
        return _hybrid(fid - 17, x, O[0], M[0], S[0], True, True) + 100.0 * fid
    c = fid - 23
    k = COMP_N[c]
    w = np.empty(k)
    fit = np.empty(k)
    w_max = 0.0
    for i in range(k):
        if COMP_KIND[c, i] == 0:
            fit[i] = _basic(COMP_CODE[c, i], x, O[i], M[i], True, COMP_ROT[c, i] == 1)
        else:
            fit[i] = _hybrid(COMP_CODE[c, i], x, O[i], M[i], S[i], True, COMP_ROT[c, i] == 1)
        fit[i] = COMP_LAMBDA[c, i] * fit[i] + 100.0 * i
        d2 = 0.0
        for j in range(n):
            d2 += (x[j] - O[i, j]) ** 2
        if d2 != 0.0:
            w[i] = 1.0 / np.sqrt(d2) * np.exp(-d2 / 2.0 / n / COMP_DELTA[c, i] ** 2)
        else:
            w[i] = INF_WEIGHT
        w_max = max(w_max, w[i])
    if w_max == 0.0:
        w[:] = 1.0
    f = 0.0
    ws = np.sum(w)
    for i in range(k):
        f += w[i] / ws * fit[i]
    return f + 100.0 * fid


def cec2014_data_dir() -> Path | None:
    """The folder of the official CEC 2014 data files, taken from the installed ``opfunu`` package.

    The shift vectors, rotation matrices and shuffles of the competition ship with ``opfunu``
    (in ``opfunu/cec_based/data_2014``, installed by meanfolio's ``test`` and ``docs`` extras);
    they are read from there and never downloaded. ``opfunu`` is located without being
    imported.

    Returns
    -------
    pathlib.Path or None
        The folder, or None when ``opfunu`` is not installed or has no such folder (then
        :func:`cec2014` raises ModuleNotFoundError).

    References
    ----------
    .. [1] J. J. Liang, B. Y. Qu, P. N. Suganthan, "Problem definitions and evaluation criteria
       for the CEC 2014 special session and competition on single objective real-parameter
       numerical optimization", Technical Report 201311, Computational Intelligence Laboratory,
       Zhengzhou University, and Nanyang Technological University, Singapore (2013).

    Examples
    --------
    >>> from meanfolio.optimize.benchmarks import cec2014_data_dir
    >>> folder = cec2014_data_dir()
    >>> folder is None or (folder / "shift_data_1.txt").is_file()
    True
    """
    spec = importlib.util.find_spec("opfunu")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "cec_based" / "data_2014"
    return path if path.is_dir() else None


@cache
def load_data(fid: int, ndim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(O, M, S) of function fid in dimension ndim from the official files."""
    fid = check_integer("fid", fid, low=1, high=30)
    check_choice("ndim", ndim, CEC2014_DIMENSIONS)
    folder = cec2014_data_dir()
    if folder is None:
        raise ModuleNotFoundError(
            "the CEC 2014 data files come from the 'opfunu' package: pip install opfunu "
            "(meanfolio's test extra installs it)"
        )
    k = components(fid)
    shift = np.loadtxt(folder / f"shift_data_{fid}.txt", ndmin=2)
    O = np.ascontiguousarray(shift.reshape(-1, shift.shape[-1])[:k, :ndim]) if k > 1 else shift.ravel()[None, :ndim]
    M = np.loadtxt(folder / f"M_{fid}_D{ndim}.txt").reshape(-1, ndim)[: k * ndim].reshape(k, ndim, ndim)
    if 17 <= fid <= 22 or fid >= 29:
        S = np.loadtxt(folder / f"shuffle_data_{fid}_D{ndim}.txt").ravel()[: k * ndim].astype(np.int64) - 1
        S = S.reshape(k, ndim)
    else:
        S = np.zeros((k, ndim), dtype=np.int64)
    return np.ascontiguousarray(O), np.ascontiguousarray(M), np.ascontiguousarray(S)


def cec2014(fid: int, ndim: int):
    r"""CEC 2014 function F\ :sub:`fid` in dimension ``ndim`` as a compiled ``f(x) -> float``.

    The 30 functions of the CEC 2014 single-objective competition: F1-F3 unimodal, F4-F16
    simple multimodal, F17-F22 hybrid, F23-F30 composition, all shifted and (but F8, F10)
    rotated, :math:`F_i(x) = g_i(M_i (x - o_i)) + 100\, i` for the simple ones (see
    :func:`cec2014_evaluate` for the hybrid and composition formulas), with the official shift
    vectors :math:`o_i`, rotations :math:`M_i` and shuffles. Search box :math:`[-100,
    100]^D`; minimum :math:`F_i^* = 100\, i` at :math:`x^* = o_i`. The data are compile-time
    constants of the returned numba function, so it runs in the compiled loop of
    :func:`~meanfolio.optimize.differential_evolution` like any ``@njit`` objective.

    Parameters
    ----------
    fid : int
        The function number, 1 to 30.
    ndim : int
        The dimension D, one of :data:`CEC2014_DIMENSIONS` (10, 20, 30, 50, 100).

    Returns
    -------
    numba.core.registry.CPUDispatcher
        ``f(x)`` with x a float64 array of shape (D,), returning a float; ``f.f_star`` is the
        minimum value 100 fid.

    Raises
    ------
    ValueError
        If ``fid`` is not an integer in [1, 30] or ``ndim`` not in ``CEC2014_DIMENSIONS``.
    ModuleNotFoundError
        If the data files are not available (``opfunu`` not installed, see
        :func:`cec2014_data_dir`).

    References
    ----------
    .. [1] J. J. Liang, B. Y. Qu, P. N. Suganthan, "Problem definitions and evaluation criteria
       for the CEC 2014 special session and competition on single objective real-parameter
       numerical optimization", Technical Report 201311, Computational Intelligence Laboratory,
       Zhengzhou University, and Nanyang Technological University, Singapore (2013).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.optimize.benchmarks import cec2014
    >>> f = cec2014(4, 10)  # shifted and rotated Rosenbrock, D = 10 (data from opfunu)
    >>> f.f_star, bool(f(np.zeros(10)) > f.f_star)
    (400.0, True)
    """
    O, M, S = load_data(fid, ndim)
    # fid travels in an array: a plain int would be frozen as a literal and make numba compile
    # cec2014_evaluate again for every function; this way one cached specialisation serves all.
    which = np.array([fid], dtype=np.int64)

    @njit
    def f(x):
        return cec2014_evaluate(x, which[0], O, M, S)

    f.f_star = 100.0 * fid
    return f
