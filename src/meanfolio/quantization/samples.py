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
    """Lloyd's algorithm on samples X (n, d) or (n,): points, weights, empirical distortion."""
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
    """Competitive learning vector quantization (stochastic gradient on the distortion).

    Each sample moves its nearest point by ``gamma_n (x - c)``, gamma_n =
    gamma0 / (1 + n / K)^0.75 (Robbins-Monro steps).
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
