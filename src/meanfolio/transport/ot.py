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
    """A transport solver stopped before reaching optimality or its tolerance.

    Issued by :func:`wasserstein` when POT's network simplex stops after ``max_iter`` pivots
    without proving optimality (the returned W_p is then only an upper bound), and, through its
    subclass :class:`~meanfolio.transport.SinkhornConvergenceWarning`, by the entropic solvers
    when the marginal error is still above ``tol`` after ``max_iter`` iterations (the result's
    ``gap_bound`` says by how much the value can be off). A subclass of :class:`RuntimeWarning`:
    filter it with ``warnings.simplefilter("error", ConvergenceWarning)`` to make it an error.
    """


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
    r"""Exact p-Wasserstein distance between two weighted 1D samples.

    The weights are normalised to one and the distance is computed exactly through the
    quantile functions :math:`F^{-1}`, :math:`G^{-1}` of the two empirical measures,

    .. math::

        W_p(\mu, \nu) = \Big( \int_0^1 \lvert F^{-1}(t) - G^{-1}(t) \rvert^p \, dt \Big)^{1/p},
        \qquad \mu = \sum_i a_i \delta_{u_i},\ \nu = \sum_j b_j \delta_{v_j},

    by one merge of the two sorted samples (O((n + m) log(n + m)) for the sorts): on each
    interval between consecutive cumulative weights the two quantiles are constant.

    Parameters
    ----------
    u_values : array_like, shape (n,)
        The atoms of the first measure (any order, ties allowed), in the units of x.
    v_values : array_like, shape (m,)
        The atoms of the second measure.
    u_weights : array_like, shape (n,), optional
        Nonnegative weights of ``u_values`` with a positive sum (normalised to one); uniform
        by default.
    v_weights : array_like, shape (m,), optional
        Nonnegative weights of ``v_values``, as ``u_weights``.
    p : float, default 1
        The order p >= 1.

    Returns
    -------
    float
        :math:`W_p`, in the units of the values.

    Raises
    ------
    ValueError
        If ``p < 1``, a sample is empty or not 1D, a weight array has the wrong shape, a
        negative entry or a zero total.

    See Also
    --------
    wasserstein_grid : the same formula for densities on a grid, row by row.
    wasserstein : exact discrete OT in any dimension.

    Notes
    -----
    Unweighted samples are merged on the integer levels ``(i + 1) m`` and ``(j + 1) n``, so
    equal sizes pair the sorted samples one to one and any sizes are exact up to the final
    division; weighted samples merge cumulative weights scaled to end at the same float (see
    the module docstring), exact up to n roundings of the cdf. This is what
    :func:`scipy.stats.wasserstein_distance` computes for p = 1.

    References
    ----------
    .. [1] C. Villani, "Optimal Transport: Old and New", Springer (2009), Remark 2.19.
    .. [2] G. Peyré, M. Cuturi, "Computational Optimal Transport", Found. Trends Mach. Learn.
       11(5-6) (2019), Section 2.6.

    Examples
    --------
    A sample and its translate are at distance the shift, for every p:

    >>> import numpy as np
    >>> from meanfolio.transport import wasserstein_1d
    >>> u = np.random.default_rng(0).normal(size=500)
    >>> round(wasserstein_1d(u, u + 0.5), 12), round(wasserstein_1d(u, u + 0.5, p=2), 12)
    (0.5, 0.5)
    >>> round(wasserstein_1d([0.0, 1.0], [0.0, 1.0, 2.0], u_weights=[1, 3]), 6)  # weights 1/4, 3/4
    0.416667
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
    r"""Exact p-Wasserstein distance between two densities on the same 1D grid, row by row.

    Each density is read as atoms at the nodes :math:`x_i` with masses proportional to its
    values, normalised to one per row, :math:`\mu = \sum_i m_{a,i} \delta_{x_i} / \sum_k
    m_{a,k}` (on a uniform grid these are the cell masses :math:`m_i\, \Delta x`, so the cell
    size cancels), and the distance is the quantile formula of :func:`wasserstein_1d`,

    .. math::

        W_p(\mu_a, \mu_b) = \Big( \int_0^1 \lvert F_a^{-1}(t) - F_b^{-1}(t) \rvert^p \, dt
        \Big)^{1/p},

    computed as one compiled merge of the two cdfs per row (O(n), rows in parallel): the MFG
    solvers call it on every time level of every iterate.

    Parameters
    ----------
    m_a : array_like, shape (n,) or (rows, n)
        Nonnegative density values at the nodes (any normalisation, e.g. a density in units of
        1/x); every row needs a positive total.
    m_b : array_like, same shape as ``m_a``
        The second density.
    x : array_like, shape (n,)
        The strictly increasing grid nodes. On a non-uniform grid, pass the cell masses
        :math:`m_i\, \Delta x_i` as ``m_a``, ``m_b`` (the values are used as masses).
    p : float or tuple of float, default 1
        The order p >= 1, or several orders (the quantiles are found once for all).

    Returns
    -------
    float or ndarray of shape (rows,), or a tuple of them
        :math:`W_p` in the units of x: a float for 1D ``m_a``, an array of shape (rows,) for
        2D ``m_a``; a tuple with one such result per order when ``p`` is a tuple.

    Raises
    ------
    ValueError
        If ``p < 1``, ``x`` is not increasing, the shapes do not match ``x``, a value is
        negative, or a row has zero mass.

    See Also
    --------
    wasserstein_1d : the same distance between weighted samples.

    References
    ----------
    .. [1] C. Villani, "Optimal Transport: Old and New", Springer (2009), Remark 2.19.
    .. [2] G. Peyré, M. Cuturi, "Computational Optimal Transport", Found. Trends Mach. Learn.
       11(5-6) (2019), Section 2.6.

    Examples
    --------
    Two Gaussians against the closed form
    :math:`W_2 = \sqrt{(m_1 - m_2)^2 + (s_1 - s_2)^2}`:

    >>> import numpy as np
    >>> from meanfolio.transport import wasserstein_grid
    >>> x = np.linspace(-6.0, 6.0, 2001)
    >>> def gauss(m, s):
    ...     return np.exp(-((x - m) ** 2) / (2 * s * s)) / (s * np.sqrt(2 * np.pi))
    >>> round(wasserstein_grid(gauss(0.0, 1.0), gauss(1.0, 0.5), x, p=2), 4)
    1.118
    >>> round(float(np.hypot(1.0, 0.5)), 4)
    1.118
    >>> wasserstein_grid(np.stack([gauss(0, 1)] * 2), np.stack([gauss(1, 1), gauss(0.5, 1)]), x).round(4)
    array([1. , 0.5])
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
    r"""Exact p-Wasserstein distance between two discrete measures in any dimension.

    The weights are normalised to one and the linear program

    .. math::

        W_p(a, b) = \Big( \min_{P \in \Pi(a, b)} \sum_{ij} P_{ij}\, \lvert x_i - y_j \rvert^p
        \Big)^{1/p}, \qquad \Pi(a, b) = \{P \ge 0 : P 1 = a,\ P^\top 1 = b\},

    with the Euclidean distance :math:`\lvert\cdot\rvert`, is solved exactly by POT's network
    simplex (``ot.emd2``) on the dense n x m cost matrix.

    Parameters
    ----------
    xa : array_like, shape (n, d) or (n,)
        The points of the first measure (a 1D array is n points on the line).
    xb : array_like, shape (m, d) or (m,)
        The points of the second measure, same dimension d.
    a : array_like, shape (n,), optional
        Nonnegative weights of ``xa`` with a positive sum (normalised to one); uniform by default.
    b : array_like, shape (m,), optional
        Nonnegative weights of ``xb``, as ``a``.
    p : float, default 2
        The order p >= 1 of the cost :math:`\lvert x - y \rvert^p`.
    max_iter : int, default 10_000_000
        The largest number of network-simplex pivots.

    Returns
    -------
    float
        :math:`W_p`, in the units of the points.

    Raises
    ------
    ValueError
        If ``p < 1``, ``max_iter < 1``, or a weight array has the wrong shape, a negative
        entry or a zero total.

    Warns
    -----
    ConvergenceWarning
        When the network simplex stops before optimality (``max_iter`` pivots): the value is
        then only an upper bound.

    See Also
    --------
    wasserstein_1d : the exact O(n log n) formula in 1D.
    entropic_ot, sinkhorn_divergence : the regularised problem, for large clouds.

    References
    ----------
    .. [1] N. Bonneel, M. van de Panne, S. Paris, W. Heidrich, "Displacement interpolation
       using Lagrangian mass transport", ACM Trans. Graph. 30(6) (2011) (the network simplex
       of ``ot.emd2``).
    .. [2] R. Flamary et al., "POT: Python Optimal Transport", J. Mach. Learn. Res. 22(78)
       (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import wasserstein
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> round(wasserstein(x, x + np.array([3.0, 4.0])), 9)  # a translation by (3, 4)
    5.0
    >>> round(wasserstein([[0.0], [1.0]], [[0.0], [2.0]], p=1), 9)
    0.5
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
