"""Wasserstein distances and entropic optimal transport.

- :func:`wasserstein_1d`: exact W_p between two weighted 1D samples by the
  quantile formula ``W_p^p = int_0^1 |F^-1(u) - G^-1(u)|^p du``.
- :func:`wasserstein_grid`: the same for densities on a grid (atoms at the
  nodes with masses ``m dx``).
- :func:`wasserstein`: exact discrete OT in any dimension (POT's network
  simplex, ``ot.emd2``), cost ``|x - y|^p``.
- :func:`entropic_ot`: the full regularised value
  ``OT_eps(a, b) = min_P <P, C> + eps KL(P | a x b)`` by log-domain Sinkhorn
  (compiled, parallel, with epsilon scaling and warm starts); at the optimum
  it equals the dual value ``<f, a> + <g, b>``.
  :func:`entropic_ot_linear` is ``<P_eps, C>`` only — what POT's
  ``sinkhorn2`` returns — under a different name on purpose.
- :func:`sinkhorn_divergence`: the debiased
  ``S_eps = OT_eps(a, b) - (OT_eps(a, a) + OT_eps(b, b)) / 2`` (Genevay et
  al. 2018; Feydy et al. 2019), >= 0 and 0 iff a = b.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_array, check_integer, check_number

from . import _kernels as kern

__all__ = [
    "EntropicOT",
    "entropic_ot",
    "entropic_ot_linear",
    "sinkhorn_divergence",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_grid",
]


def _weights(name: str, w, n: int) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    w = check_array(name, w, shape=(n,), nonnegative=True)
    total = w.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to {total} which is not allowed: expected a positive total mass")
    return w / total


def wasserstein_1d(u_values, v_values, u_weights=None, v_weights=None, p: float = 1.0) -> float:
    """Exact W_p between weighted 1D samples (weights normalised to one)."""
    p = check_number("p", p, low=1)
    u = check_array("u_values", u_values, ndim=1)
    v = check_array("v_values", v_values, ndim=1)
    a = _weights("u_weights", u_weights, u.size)
    b = _weights("v_weights", v_weights, v.size)
    iu, iv = np.argsort(u), np.argsort(v)
    u, a, v, b = u[iu], a[iu], v[iv], b[iv]
    cu, cv = np.cumsum(a), np.cumsum(b)
    levels = np.unique(np.concatenate(([0.0], cu, cv)))
    levels = levels[levels <= 1.0]
    levels[-1] = 1.0
    mids = 0.5 * (levels[1:] + levels[:-1])
    qu = u[np.minimum(np.searchsorted(cu, mids), u.size - 1)]
    qv = v[np.minimum(np.searchsorted(cv, mids), v.size - 1)]
    return float(np.sum(np.diff(levels) * np.abs(qu - qv) ** p) ** (1.0 / p))


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
    ta, tb = a2.sum(axis=1, keepdims=True), b2.sum(axis=1, keepdims=True)
    if not (np.all(ta > 0) and np.all(tb > 0)):
        raise ValueError("m_a or m_b has a row of zero mass which is not allowed: expected positive masses")
    Fa, Fb = np.cumsum(a2 / ta, axis=1), np.cumsum(b2 / tb, axis=1)
    Fa[:, -1] = Fb[:, -1] = 1.0
    out = np.empty((len(orders), a2.shape[0]))
    kern.grid_wasserstein(np.minimum(Fa, 1.0), np.minimum(Fb, 1.0), x, np.array(orders), out)
    res = [float(w[0]) if m_a.ndim == 1 else w for w in out]
    return tuple(res) if isinstance(p, tuple) else res[0]


def _cost(xa, xb, p: float) -> np.ndarray:
    xa = xa.reshape(xa.shape[0], -1)
    xb = xb.reshape(xb.shape[0], -1)
    d2 = np.maximum(np.sum(xa**2, 1)[:, None] + np.sum(xb**2, 1)[None, :] - 2 * xa @ xb.T, 0.0)
    return np.ascontiguousarray(d2 if p == 2 else np.sqrt(d2) ** p)


def wasserstein(xa, xb, a=None, b=None, p: float = 2.0) -> float:
    """Exact W_p between discrete measures (points (n, d) and (m, d)) with POT's emd2."""
    import ot

    p = check_number("p", p, low=1)
    xa, xb = check_array("xa", xa), check_array("xb", xb)
    a, b = _weights("a", a, xa.shape[0]), _weights("b", b, xb.shape[0])
    return float(ot.emd2(a, b, _cost(xa, xb, p), numItermax=10_000_000) ** (1.0 / p))


@dataclass
class EntropicOT:
    """value (the full regularised OT_eps), potentials f (n,), g (m,), iterations, marginal error."""

    value: float
    f: np.ndarray
    g: np.ndarray
    iterations: int
    marginal_error: float

    def plan(self, C, a, b, eps) -> np.ndarray:
        return np.exp((self.f[:, None] + self.g[None, :] - C) / eps) * np.outer(a, b)


def entropic_ot(
    xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, tol: float = 1e-9, max_iter: int = 10_000,
    scaling: float = 0.5, warm_start: tuple[np.ndarray, np.ndarray] | None = None, cost=None,
    overrelaxation: float = 1.7,
) -> EntropicOT:  # fmt: skip
    """``OT_eps`` with cost ``|x - y|^p`` (or a given ``cost`` matrix), log-domain Sinkhorn.

    Epsilon scaling: eps starts at max(C) and is multiplied by ``scaling``
    until it reaches ``eps``, each stage warm-starting the next (skipped
    when ``warm_start`` potentials are given). Stops when the L1 error of the
    first marginal is below ``tol``. ``overrelaxation`` in [1, 2) extrapolates
    each update (1 is plain Sinkhorn; it falls back to 1 if the error grows).

    When both measures are the same (same points and weights), the symmetric
    iteration ``f <- (f + T(f)) / 2`` is used and ``OT_eps(a, a) = 2 <f, a>``:
    a few iterations per stage instead of thousands at small eps.
    """
    eps = check_number("eps", eps, low=0, low_inclusive=False)
    max_iter = check_integer("max_iter", max_iter, low=1)
    scaling = check_number("scaling", scaling, low=0, high=1, low_inclusive=False, high_inclusive=False)
    overrelaxation = check_number("overrelaxation", overrelaxation, low=1, high=2, high_inclusive=False)
    if cost is None:
        xa, xb = check_array("xa", xa), check_array("xb", xb)
        C = _cost(xa, xb, p)
        same_points = xa.shape == xb.shape and np.array_equal(xa, xb)
    else:
        C = check_array("cost", cost, ndim=2)
        same_points = C.shape[0] == C.shape[1] and np.array_equal(C, C.T)
    a, b = _weights("a", a, C.shape[0]), _weights("b", b, C.shape[1])
    symmetric = same_points and np.array_equal(a, b) and warm_start is None
    with np.errstate(divide="ignore"):
        loga, logb = np.log(a), np.log(b)
    if warm_start is not None:
        f, g = (np.array(v, dtype=np.float64) for v in warm_start)
        stages = [eps]
    else:
        f, g = np.zeros(C.shape[0]), np.zeros(C.shape[1])
        stages, e = [], max(float(C.max()), eps)
        while e > eps:
            stages.append(e)
            e *= scaling
        stages.append(eps)
    total = 0
    CT = None if symmetric else np.ascontiguousarray(C.T)
    for k, e in enumerate(stages):
        last = k == len(stages) - 1
        its, tol_k = (max_iter, tol) if last else (50, 1e-3)
        if symmetric:
            its, err = kern.sinkhorn_symmetric(C, loga, e, f, its, tol_k)
        else:
            its, err = kern.sinkhorn_log(C, CT, loga, logb, e, f, g, its, tol_k, overrelaxation)
        total += its
    if symmetric:
        g = f.copy()
    value = float(np.dot(np.where(a > 0, f, 0.0), a) + np.dot(np.where(b > 0, g, 0.0), b))
    return EntropicOT(value, f, g, total, float(err))


def entropic_ot_linear(xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, **kw) -> float:
    """``<P_eps, C>``: the transport cost of the entropic plan (POT's ``sinkhorn2`` value)."""
    xa, xb = check_array("xa", xa), check_array("xb", xb)
    C = _cost(xa, xb, p)
    a, b = _weights("a", a, C.shape[0]), _weights("b", b, C.shape[1])
    res = entropic_ot(None, None, a, b, eps=eps, cost=C, **kw)
    return float(np.sum(res.plan(C, a, b, eps) * C))


def sinkhorn_divergence(xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, **kw) -> float:
    """Debiased Sinkhorn divergence with the full regularised values (>= 0)."""
    xa, xb = check_array("xa", xa), check_array("xb", xb)
    ab = entropic_ot(xa, xb, a, b, eps=eps, p=p, **kw).value
    aa = entropic_ot(xa, xa, a, a, eps=eps, p=p, **kw).value
    bb = entropic_ot(xb, xb, b, b, eps=eps, p=p, **kw).value
    return float(ab - 0.5 * (aa + bb))
