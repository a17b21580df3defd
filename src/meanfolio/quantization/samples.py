"""Quantization of empirical laws (any dimension): Lloyd (k-means) and CLVQ.

Both return a :class:`Quantizer` whose points and Voronoi weights form a
discrete measure usable as an initial law or a compressed density.
"""

from __future__ import annotations

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_integer

from .gaussian import Quantizer, _not_converged

__all__ = ["clvq", "lloyd_samples"]


def _assign(X, C):
    d2 = np.sum(X**2, 1)[:, None] + np.sum(C**2, 1)[None, :] - 2 * X @ C.T
    return np.argmin(d2, axis=1), np.maximum(d2.min(axis=1), 0.0)


def lloyd_samples(X, K: int, *, seed: SeedLike = None, max_iter: int = 200, tol: float = 1e-10) -> Quantizer:
    r"""Lloyd's algorithm (k-means) on samples: an empirical quadratic quantizer.

    Alternates the nearest-point assignment and :math:`c_k \leftarrow` mean of
    cell k until the empirical distortion
    :math:`\frac1n \sum_j \min_k \lVert X_j - c_k\rVert^2` stops falling.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Samples.
    K : int
        Number of points, 1 <= K <= n.
    seed : int, numpy.random.Generator or None
        Seed of the start (K distinct samples) and of the re-seeding of empty cells.
    max_iter : int, default 200
        Iteration cap (a warning is issued when reached).
    tol : float, default 1e-10
        Relative fall of the distortion below which it stops.

    Returns
    -------
    Quantizer
        Points (K,) for 1D samples, else (K, d); empirical weights and distortion.

    See Also
    --------
    clvq : The stochastic-gradient version.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.quantization import lloyd_samples
    >>> X = np.random.default_rng(0).standard_normal(5000)
    >>> q = lloyd_samples(X, 4, seed=0)
    >>> np.sort(q.points).round(1), q.converged
    (array([-1.5, -0.4,  0.5,  1.5]), True)
    """
    X = check_array("X", X)
    X = X[:, None] if X.ndim == 1 else X
    K = check_integer("K", K, low=1, high=X.shape[0])
    rng = as_generator(seed)
    C = X[rng.choice(X.shape[0], K, replace=False)].copy()
    prev = np.inf
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        lab, d2 = _assign(X, C)
        dist = float(d2.mean())
        for k in range(K):
            sel = lab == k
            C[k] = X[sel].mean(axis=0) if sel.any() else X[rng.integers(X.shape[0])]
        if prev - dist <= tol * max(dist, 1e-300):
            converged = True
            break
        prev = dist
    if not converged:
        _not_converged("lloyd_samples", it, f"the distortion still fell by more than tol = {tol:.1e} (relative)")
    lab, d2 = _assign(X, C)
    w = np.bincount(lab, minlength=K) / X.shape[0]
    return Quantizer(C.squeeze() if C.shape[1] == 1 else C, w, float(d2.mean()), it, converged)


def clvq(X, K: int, *, seed: SeedLike = None, passes: int = 5, gamma0: float = 0.5) -> Quantizer:
    r"""Competitive learning vector quantization (CLVQ): stochastic gradient on the distortion.

    Each sample moves its nearest point c by :math:`\gamma_n (x - c)` with the
    Robbins-Monro steps :math:`\gamma_n = \gamma_0 / (1 + n/K)^{0.75}`.

    Parameters
    ----------
    X : array_like, shape (n, d) or (n,)
        Samples.
    K : int
        Number of points, 1 <= K <= n.
    seed : int, numpy.random.Generator or None
        Seed of the start and of the order of the samples.
    passes : int, default 5
        Passes over the samples.
    gamma0 : float, default 0.5
        First step size.

    Returns
    -------
    Quantizer
        ``converged`` is None (a fixed number of passes); ``iterations`` is the
        number of samples processed.

    References
    ----------
    .. [1] G. Pagès, "A space quantization method for numerical integration",
       J. Comput. Appl. Math. 89 (1998).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.quantization import clvq
    >>> X = np.random.default_rng(0).standard_normal(2000)
    >>> q = clvq(X, 4, seed=0, passes=2)
    >>> q.points.shape, q.iterations
    ((4,), 4000)
    """
    X = check_array("X", X)
    X = X[:, None] if X.ndim == 1 else X
    K = check_integer("K", K, low=1, high=X.shape[0])
    rng = as_generator(seed)
    C = X[rng.choice(X.shape[0], K, replace=False)].copy()
    n = 0
    for _ in range(check_integer("passes", passes, low=1)):
        for i in rng.permutation(X.shape[0]):
            k = int(np.argmin(np.sum((C - X[i]) ** 2, axis=1)))
            n += 1
            C[k] += gamma0 / (1.0 + n / K) ** 0.75 * (X[i] - C[k])
    lab, d2 = _assign(X, C)
    w = np.bincount(lab, minlength=K) / X.shape[0]
    return Quantizer(C.squeeze() if C.shape[1] == 1 else C, w, float(d2.mean()), n)
