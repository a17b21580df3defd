"""Exact Wasserstein distances: 1D samples, densities on a grid, discrete measures.

- :func:`wasserstein_1d`: exact W_p between two weighted 1D samples by the
  quantile formula ``W_p^p = int_0^1 |F^-1(u) - G^-1(u)|^p du``.
- :func:`wasserstein_grid`: the same for densities on a grid (atoms at the
  nodes with masses ``m dx``).
- :func:`wasserstein`: exact discrete OT in any dimension (POT's network
  simplex, ``ot.emd2``), cost ``|x - y|^p``.

Entropic OT and the Sinkhorn divergence are in :mod:`meanfolio.transport.entropic`.

Round-off: the quantile formula merges the two cumulative weight arrays; if
they end at different floats (``cumsum`` of 1/9 nine times is 1 + 2^-52),
intervals are lost or mis-paired. Here the cdf of ``a`` is scaled by the
total of ``b`` and vice versa, so both end at the *same* float ``Ta * Tb``
(products commute in IEEE arithmetic); unweighted samples use counts, so the
levels ``(i + 1) m`` and ``(j + 1) n`` are exact integers: equal sizes pair
the sorted samples one to one, any sizes are exact up to the final
division. Weighted samples are exact up to ``n`` roundings of the cdf.
"""

from __future__ import annotations

import warnings

import numpy as np

from meanfolio._validation import check_array, check_integer, check_number

from . import _kernels as kern

__all__ = ["ConvergenceWarning", "wasserstein", "wasserstein_1d", "wasserstein_grid"]


class ConvergenceWarning(RuntimeWarning):
    """A transport solver stopped before reaching its tolerance: the result says by how much."""


def _weights(name: str, w, n: int) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    w = check_array(name, w, shape=(n,), nonnegative=True)
    total = w.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to {total} which is not allowed: expected a positive total mass")
    return w / total


def _raw_weights(name: str, w, n: int) -> np.ndarray:
    """Unnormalised weights scaled by a power of two (exact) so that the largest is in [0.5, 1)."""
    if w is None:
        return np.ones(n)
    w = check_array(name, w, shape=(n,), nonnegative=True)
    if not w.sum() > 0:
        raise ValueError(f"{name} sums to {w.sum()} which is not allowed: expected a positive total mass")
    return np.ldexp(w, -np.frexp(w.max())[1])


def _common_cdfs(wa: np.ndarray, wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cumsum(wa) * Tb and cumsum(wb) * Ta along the last axis: nondecreasing, equal last entries."""
    Fa, Fb = np.cumsum(wa, axis=-1), np.cumsum(wb, axis=-1)
    return Fa * Fb[..., -1:], Fb * Fa[..., -1:]


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p: float = 1.0) -> float:
    """Exact W_p between weighted 1D samples (weights normalised to one).

    Unweighted samples are handled with integer levels (exact pairing of the sorted samples);
    weighted ones by one merge of cdfs that end at the same float (see the module docstring).
    """
    p = check_number("p", p, low=1)
    u = check_array("u_values", u_values, ndim=1)
    v = check_array("v_values", v_values, ndim=1)
    if u.size == 0 or v.size == 0:
        raise ValueError("u_values or v_values is empty which is not allowed: expected at least one value")
    a = _raw_weights("u_weights", u_weights, u.size)
    b = _raw_weights("v_weights", v_weights, v.size)
    iu, iv = np.argsort(u, kind="stable"), np.argsort(v, kind="stable")
    Fu, Fv = _common_cdfs(a[iu], b[iv])
    acc = np.zeros(1)
    kern.quantile_merge(u[iu], Fu, v[iv], Fv, np.array([p]), acc)
    return float((acc[0] / Fu[-1]) ** (1.0 / p))


def wasserstein_grid(m_a, m_b, x, p: float | tuple[float, ...] = 1.0):
    """W_p between densities on the same increasing 1D grid x (atoms at the nodes, masses
    normalised), row by row: ``m_a``, ``m_b`` of shape (n,) give a float, (rows, n) an array;
    a tuple of orders ``p`` gives one result per order (the quantiles are found once).

    The quantile formula of :func:`wasserstein_1d` as one compiled merge of the two cdfs per
    row (O(n), parallel over rows): the MFG solvers call it on every time level of every iterate.
    """
    orders = tuple(check_number("p", q, low=1) for q in (p if isinstance(p, tuple) else (p,)))
    x = check_array("x", x, ndim=1)
    if x.size > 1 and np.any(np.diff(x) <= 0):
        raise ValueError("x is not allowed: expected an increasing grid")
    m_a = check_array("m_a", m_a, nonnegative=True)
    m_b = check_array("m_b", m_b, shape=m_a.shape, nonnegative=True)
    if m_a.shape[-1] != x.size or m_a.ndim > 2:
        raise ValueError(f"m_a has shape {m_a.shape} which is not allowed: expected ({x.size},) or (rows, {x.size})")
    a2, b2 = np.atleast_2d(m_a), np.atleast_2d(m_b)
    ta, tb = a2.max(axis=1, keepdims=True), b2.max(axis=1, keepdims=True)
    if not (np.all(ta > 0) and np.all(tb > 0)):
        raise ValueError("m_a or m_b has a row of zero mass which is not allowed: expected positive masses")
    # scale each row by a power of two (exact) so that the products of totals cannot overflow
    Fa, Fb = _common_cdfs(np.ldexp(a2, -np.frexp(ta)[1]), np.ldexp(b2, -np.frexp(tb)[1]))
    out = np.empty((len(orders), a2.shape[0]))
    kern.grid_wasserstein(Fa, Fb, x, np.array(orders), out)
    res = [float(w[0]) if m_a.ndim == 1 else w for w in out]
    return tuple(res) if isinstance(p, tuple) else res[0]


def _cost(xa, xb, p: float) -> np.ndarray:
    xa = xa.reshape(xa.shape[0], -1)
    xb = xb.reshape(xb.shape[0], -1)
    d2 = np.maximum(np.sum(xa**2, 1)[:, None] + np.sum(xb**2, 1)[None, :] - 2 * xa @ xb.T, 0.0)
    return np.ascontiguousarray(d2 if p == 2 else np.sqrt(d2) ** p)


def wasserstein(xa, xb, a=None, b=None, p: float = 2.0, max_iter: int = 10_000_000) -> float:
    """Exact W_p between discrete measures (points (n, d) and (m, d)) with POT's emd2.

    Warns :class:`ConvergenceWarning` when the network simplex stops before optimality
    (``max_iter`` pivots): the value is then only an upper bound.
    """
    import ot

    p = check_number("p", p, low=1)
    max_iter = check_integer("max_iter", max_iter, low=1)
    xa, xb = check_array("xa", xa), check_array("xb", xb)
    a, b = _weights("a", a, xa.shape[0]), _weights("b", b, xb.shape[0])
    cost, log = ot.emd2(a, b, _cost(xa, xb, p), numItermax=max_iter, log=True)
    if log["result_code"] != 1:
        warnings.warn(
            f"the network simplex stopped before optimality ({log['warning']}): W_p is only an upper bound",
            ConvergenceWarning,
            stacklevel=2,
        )
    return float(cost ** (1.0 / p))
