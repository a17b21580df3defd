"""Counter-based draws of differential evolution (private): indices, crossover, bound repair.

Draw j of individual i in generation g is ``uniform(base_g, i STRIDE + j)``,
a pure function of (key, g, i, j): trials can be built in parallel and
results do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from meanfolio._random_kernels import uniform

STRIDE = np.int64(1 << 20)  # draws reserved per individual and generation
SELECT_ROW = np.int64(1 << 30)  # "individual" whose draws serve the selection step
JDE, SHADE, LSHADE = 10, 11, 12


@njit(cache=True, inline="always")
def _u(base, i, j):
    return uniform(base, np.int64(i) * STRIDE + j)


@njit(cache=True)
def _distinct(base, i, j, n, k, out, n_extra=0):
    """k distinct indices in [0, n + n_extra), all != i; returns the next draw counter."""
    got = 0
    while got < k:
        r = int(_u(base, i, j) * (n + n_extra))
        j += 1
        if r == i:
            continue
        dup = False
        for q in range(got):
            if out[q] == r:
                dup = True
        if not dup:
            out[got] = r
            got += 1
    return j


@njit(cache=True)
def _crossover(base, i, j, parent, mutant, CR, exp, trial):
    D = parent.size
    fill = int(_u(base, i, j) * D)
    j += 1
    if exp:
        trial[:] = parent
        d = fill
        for _ in range(D):
            trial[d] = mutant[d]
            d = (d + 1) % D
            u = _u(base, i, j)
            j += 1
            if u >= CR:
                break
    else:
        for d in range(D):
            u = _u(base, i, j)
            j += 1
            trial[d] = mutant[d] if (u < CR or d == fill) else parent[d]
    return j


@njit(cache=True)
def _redraw_out_of_bounds(base, i, j, trial):
    # scipy's rule: a coordinate outside [0, 1] is replaced by a uniform draw.
    for d in range(trial.size):
        if trial[d] < 0.0 or trial[d] > 1.0:
            trial[d] = _u(base, i, j)
            j += 1
    return j
