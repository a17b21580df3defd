"""Entropic optimal transport and the Sinkhorn divergence.

- :func:`entropic_ot`: the full regularised value
  ``OT_eps(a, b) = min_P <P, C> + eps KL(P | a x b)``: stabilised Sinkhorn
  (compiled, BLAS matrix-vector products, absorption of the scalings) with
  epsilon scaling, warm starts and adaptive over-relaxation, and a Newton
  polish when Sinkhorn is predicted to be slower (small eps, tight tol).
  :func:`entropic_ot_linear` is ``<P_eps, C>`` only — what POT's
  ``sinkhorn2`` returns — under a different name on purpose.
- :func:`sinkhorn_divergence`: the debiased
  ``S_eps = OT_eps(a, b) - (OT_eps(a, a) + OT_eps(b, b)) / 2`` (Genevay et
  al. 2018; Feydy et al. 2019), >= 0 and 0 iff a = b.

Every result says whether it converged. The reported value is the *dual*
value ``D(f, g) = <f, a> + <g, b> - eps (<P, 1> - 1)`` of the returned
potentials, a lower bound of ``OT_eps`` for any potentials (weak duality).
The last update makes one marginal exact, so concavity gives
``OT_eps - D <= gap_bound = err (osc C + max(osc f, osc g)) / 2`` with
``err`` the L1 marginal error (``osc`` = max - min on the support): ``value
<= OT_eps <= value + gap_bound`` up to ``rounding_bound = 4 (n + m) 2^-52
(|f|_inf + |g|_inf + eps + osc C)``. When ``err > tol`` after ``max_iter``
iterations, :class:`SinkhornConvergenceWarning` is raised and ``converged``
is False.

Schedule (see :mod:`meanfolio.transport._sinkhorn`): eps starts at ``osc C``
(the diameter^p) and is multiplied by ``scaling`` until it reaches ``eps``;
intermediate stages hand over at a loose marginal error (at most
``STAGE_ITERS`` iterations each), so the work before the last stage grows like
``log(osc C / eps) / log(1 / scaling)``. The last stage runs to ``tol``. Self
terms OT(a, a) use the averaged map ``f <- (f + T(f)) / 2``, which contracts by
about 1/2 per step at any eps.

Kernels: the dense path stores the cost and Gibbs kernel matrices (two n x m
float64 arrays, 800 MB each at n = m = 10,000); the online path
(:mod:`meanfolio.transport._online`, ``kernel="online"``, or ``"auto"`` above
``ONLINE_SIZE`` pairs) stores none and recomputes each row's costs and
exponentials at every iteration, the same iteration with the same results up
to rounding, without the Newton polish.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from meanfolio._validation import check_array, check_choice, check_integer, check_memory, check_number

from . import _online, _sinkhorn
from .ot import ConvergenceWarning, _cost, _weights

__all__ = [
    "EntropicOT",
    "SinkhornConvergenceWarning",
    "SinkhornDivergence",
    "entropic_ot",
    "entropic_ot_linear",
    "sinkhorn_divergence",
]


KERNELS = ("auto", "dense", "online")
#: ``kernel="auto"`` streams the kernel (no matrix stored) above this many pairs n m: the dense path's
#: two float64 matrices take 128 MB each here, and its Newton polish stops at 4000 points anyway; at
#: n = m = 10,000 both paths took the same time (9.6 s and 9.5 s, eps 0.1, tol 1e-3), 0.2 GB against 1.8 GB.
ONLINE_SIZE = 4000 * 4000


class SinkhornConvergenceWarning(ConvergenceWarning):
    """Sinkhorn stopped after ``max_iter`` iterations with a marginal error above ``tol``.

    Issued by :func:`entropic_ot`, :func:`entropic_ot_linear` and (once, naming the terms that
    did not converge) :func:`sinkhorn_divergence`. The result is still returned, with
    ``converged=False``; its ``value`` remains a certified lower bound of ``OT_eps`` and
    ``gap_bound`` (resp. ``error_bound``) says how far it can be. Raise ``max_iter``, ``tol`` or
    ``eps`` to avoid it. A subclass of :class:`~meanfolio.transport.ConvergenceWarning`.
    """


@dataclass
class EntropicOT:
    r"""The result of :func:`entropic_ot`: the certified value, the potentials and diagnostics.

    The value is the dual objective of the returned potentials,

    .. math::

        D(f, g) = \langle f, a \rangle + \langle g, b \rangle
        - \varepsilon \big(\langle a \otimes b, e^{(f \oplus g - C)/\varepsilon} \rangle - 1\big)
        \le \mathrm{OT}_\varepsilon(a, b) \le D(f, g) + \text{gap\_bound},

    a lower bound for any potentials (weak duality); the upper bound holds up to
    ``rounding_bound``.

    Attributes
    ----------
    value : float
        The dual value :math:`D(f, g)`, in the units of the cost (distance^p).
    f : ndarray, shape (n,)
        The potential of the first measure (units of the cost).
    g : ndarray, shape (m,)
        The potential of the second measure.
    iterations : int
        Sinkhorn iterations plus ``newton_steps``, over all stages.
    marginal_error : float
        L1 error of both marginals of the plan of (f, g) (one of them is exact up to rounding).
    converged : bool
        ``marginal_error <= tol``.
    gap_bound : float
        :math:`\mathrm{OT}_\varepsilon - D(f, g) \le` ``gap_bound`` ``= err (osc C + max(osc f,
        osc g)) / 2`` with ``err`` the marginal error and ``osc`` = max - min on the support.
    rounding_bound : float
        The floating-point slack ``4 (n + m) 2^-52 (|f|_inf + |g|_inf + eps + osc C)`` of both
        bounds.
    eps : float
        The regularisation :math:`\varepsilon` of the last stage.
    tol : float
        The requested marginal error.
    stages : int
        Number of eps values of the eps-scaling schedule.
    overrelaxation : float
        The last over-relaxation factor w (1 is plain Sinkhorn).
    newton_steps : int
        Newton steps of the final polish (0 when it was not used).
    time : float
        Wall time in seconds.
    history : ndarray, shape (iterations,)
        The marginal error at each iteration (nan for the rare log-domain fallback steps).
    kernel : {"dense", "online"}
        The kernel that was used (see :func:`entropic_ot`).

    Methods
    -------
    plan(C, a, b, eps=None)
        The transport plan :math:`P_{ij} = a_i b_j e^{(f_i + g_j - C_{ij})/\varepsilon}`,
        shape (n, m), for the cost matrix ``C`` (n, m) and weights ``a`` (n,), ``b`` (m,)
        normalised as in the solve; ``eps`` defaults to the result's.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import entropic_ot
    >>> x = np.linspace(0.0, 1.0, 5)
    >>> C = (x[:, None] - x[None, :]) ** 2
    >>> a = np.full(5, 0.2)
    >>> res = entropic_ot(None, None, a, a, eps=0.05, cost=C)
    >>> res.converged, res.f.shape, bool(0 <= res.gap_bound < 1e-6)
    (True, (5,), True)
    >>> P = res.plan(C, a, a)
    >>> P.shape, bool(np.abs(P.sum(axis=1) - a).sum() <= res.tol)
    ((5, 5), True)
    """

    value: float
    f: np.ndarray
    g: np.ndarray
    iterations: int
    marginal_error: float
    converged: bool = True
    gap_bound: float = 0.0
    rounding_bound: float = 0.0
    eps: float = float("nan")
    tol: float = float("nan")
    stages: int = 1
    overrelaxation: float = 1.0
    newton_steps: int = 0
    time: float = 0.0
    history: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    kernel: str = "dense"

    def plan(self, C, a, b, eps=None) -> np.ndarray:
        """The plan ``a_i b_j exp((f_i + g_j - C_ij) / eps)`` of the potentials, shape (n, m)."""
        eps = self.eps if eps is None else eps
        return np.exp((self.f[:, None] + self.g[None, :] - C) / eps) * np.outer(a, b)


def _check_clouds(xa: np.ndarray, xb: np.ndarray) -> None:
    for name, x in (("xa", xa), ("xb", xb)):
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"{name} has shape {x.shape} which is not allowed: expected points (n,) or (n, d), n >= 1")
    da, db = int(np.prod(xa.shape[1:])), int(np.prod(xb.shape[1:]))
    if da != db:
        raise ValueError(f"xb has points of dimension {db} which is not allowed: expected {da}, as xa")


def _permutation(xa: np.ndarray, xb: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``perm`` with xb[perm] == xa and b[perm] == a exactly (the same measure, reordered), or None."""
    if xa.shape != xb.shape:
        return None
    if np.array_equal(xa, xb) and np.array_equal(a, b):
        return np.arange(xa.shape[0])
    pa, pb = xa.reshape(xa.shape[0], -1), xb.reshape(xb.shape[0], -1)
    ia = np.lexsort((a, *pa.T[::-1]))
    ib = np.lexsort((b, *pb.T[::-1]))
    if not (np.array_equal(pa[ia], pb[ib]) and np.array_equal(a[ia], b[ib])):
        return None
    perm = np.empty_like(ia)
    perm[ia] = ib
    return perm


def _result(a, b, eps, tol, out) -> EntropicOT:
    f, g, err, mass, solver, stages, seconds = out
    n, m = solver.shape
    osc = solver.osc
    value = float(a @ np.where(a > 0, f, 0.0) + b @ np.where(b > 0, g, 0.0) - eps * (mass - 1.0))
    fs, gs = f[a > 0], g[b > 0]
    gap = err * (osc + max(fs.max() - fs.min(), gs.max() - gs.min())) / 2
    rounding = 4 * (n + m) * 2.0**-52 * (np.abs(f).max() + np.abs(g).max() + eps + osc)
    return EntropicOT(
        value, f, g, solver.used, float(err), bool(err <= tol), float(gap), float(rounding), eps, tol, stages,
        solver.omega, solver.newton_steps, seconds, solver.hist[: solver.used].copy(), solver.kernel,
    )  # fmt: skip


def _use_online(kernel: str, n: int, m: int, given_cost: bool) -> bool:
    check_choice("kernel", kernel, KERNELS)
    if kernel == "online" and given_cost:
        raise ValueError("kernel = 'online' is not allowed with a cost matrix: expected point clouds xa, xb")
    return kernel == "online" or (kernel == "auto" and not given_cost and n * m > ONLINE_SIZE)


def _entropic(
    xa, xb, a, b, *, eps, p, tol, max_iter, scaling, warm_start, cost, overrelaxation, newton, kernel="auto",
) -> EntropicOT:  # fmt: skip
    eps = check_number("eps", eps, low=0, low_inclusive=False)
    tol = check_number("tol", tol, low=0, low_inclusive=False)
    max_iter = check_integer("max_iter", max_iter, low=1)
    scaling = check_number("scaling", scaling, low=0, high=1, low_inclusive=False, high_inclusive=False)
    if overrelaxation is not None:
        overrelaxation = check_number("overrelaxation", overrelaxation, low=1, high=2, high_inclusive=False)
    if newton not in (None, True, False):
        raise ValueError(f"newton = {newton!r} is not allowed: expected None (automatic), True or False")
    p = check_number("p", p, low=1)
    perm = None
    if cost is None:
        xa, xb = check_array("xa", xa), check_array("xb", xb)
        _check_clouds(xa, xb)
        a, b = _weights("a", a, xa.shape[0]), _weights("b", b, xb.shape[0])
        if warm_start is None:
            perm = _permutation(xa, xb, a, b)
        ya = xa if perm is not None else xb
        online = _use_online(kernel, xa.shape[0], xb.shape[0], False)
        if not online:  # the cost and Gibbs kernel matrices and a work copy: refused before allocating
            n, m = xa.shape[0], xb.shape[0]
            check_memory(f"the dense kernel of {n:,} x {m:,} points (kernel='online' stores none)", 24.0 * n * m)
        C = _online.Clouds(xa, ya, p) if online else _cost(xa, ya, p)
    else:
        _use_online(kernel, 0, 0, True)
        C = check_array("cost", cost, ndim=2)
        a, b = _weights("a", a, C.shape[0]), _weights("b", b, C.shape[1])
        if warm_start is None and C.shape[0] == C.shape[1] and np.array_equal(a, b) and np.array_equal(C, C.T):
            perm = np.arange(C.shape[0])
    if warm_start is not None:
        f0, g0 = warm_start
        warm_start = (check_array("warm_start[0]", f0, shape=(C.shape[0],)),
                      check_array("warm_start[1]", g0, shape=(C.shape[1],)))  # fmt: skip
    bb = a if perm is not None else b
    out = _sinkhorn.solve(C, a, bb, eps, tol=tol, max_iter=max_iter, scaling=scaling, warm_start=warm_start,
                          symmetric=perm is not None, omega=overrelaxation, newton=newton)  # fmt: skip
    res = _result(a, bb, eps, tol, out)
    if perm is not None:
        g = np.empty_like(res.g)
        g[perm] = res.g
        res.g = g
    return res


def _warn(what: str, err: float, tol: float, its: int) -> None:
    warnings.warn(
        f"{what} did not reach tol = {tol:g} in {its} iterations (marginal error {err:.3g}): "
        "raise max_iter or tol, or eps; the result's gap_bound says how far the value can be",
        SinkhornConvergenceWarning,
        stacklevel=3,
    )


def entropic_ot(
    xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, tol: float = 1e-9, max_iter: int = 10_000,
    scaling: float = 0.5, warm_start: tuple[np.ndarray, np.ndarray] | None = None, cost=None,
    overrelaxation: float | None = None, newton: bool | None = None, kernel: str = "auto",
) -> EntropicOT:  # fmt: skip
    r"""Entropic optimal transport ``OT_eps(a, b)`` by stabilised Sinkhorn with eps-scaling.

    .. math::

        \mathrm{OT}_\varepsilon(a, b) = \min_{P \in \Pi(a, b)} \langle P, C \rangle
        + \varepsilon\, \mathrm{KL}(P \,\|\, a \otimes b)
        = \max_{f, g}\ \langle f, a \rangle + \langle g, b \rangle
        - \varepsilon \langle a \otimes b, e^{(f \oplus g - C)/\varepsilon} - 1 \rangle,
        \qquad C_{ij} = |x_i - y_j|^p .

    Parameters
    ----------
    xa, xb : array_like, shape (n, d) and (m, d), or (n,) and (m,)
        The points (ignored, and may be None, when ``cost`` is given).
    a, b : array_like, optional
        Nonnegative weights of the points (normalised to one); uniform by default.
    eps : float
        The regularisation eps > 0.
    p : float
        Exponent >= 1 of the cost ``|x - y|^p``.
    tol : float
        L1 error of the two marginals of the returned plan to reach (> 0): with ``scaling``, the
        precision/time trade-off.
    max_iter : int
        Budget of iterations (Sinkhorn and Newton) over all stages.
    scaling : float
        In (0, 1): the ratio of successive eps of the schedule ``osc C, osc C * scaling, ..., eps``;
        closer to 1 means more stages, each cheaper.
    warm_start : (f, g), optional
        Initial potentials; skips the schedule.
    cost : array_like, shape (n, m), optional
        A cost matrix to use instead of ``|xa - xb|^p`` (dense kernel only).
    overrelaxation : float, optional
        None (default) estimates the over-relaxation factor w along the way; a number in [1, 2)
        fixes it (1 is plain Sinkhorn).
    newton : bool, optional
        None (default) switches the last stage to Newton's method on the semi-dual when the observed
        rate predicts that Sinkhorn would be slower (dense kernel, smaller side of at most 4000
        points: dense Hessian); True switches after the first chunk of iterations, False never.
    kernel : {"auto", "dense", "online"}
        ``"dense"`` stores the cost and Gibbs kernel matrices (two n x m float64 arrays) and
        iterates with BLAS matrix-vector products; ``"online"`` stores no matrix: every iteration
        recomputes the costs from the points and sums each row's exponentials on the fly
        (log-sum-exp shifted by the current potential, rows in parallel), the same iteration
        with the same results up to rounding, and no Newton polish. ``"auto"`` (default): online
        above :data:`ONLINE_SIZE` pairs n m (4000 x 4000) when the points are given.

    Returns
    -------
    EntropicOT
        ``value`` (the dual value of the potentials, a certified lower bound: ``value <=
        OT_eps <= value + gap_bound`` up to ``rounding_bound``), the potentials ``f``, ``g``,
        ``marginal_error``, ``converged``, ``iterations``, ``kernel`` and diagnostics. Identical
        measures, also up to a permutation of the points (or a symmetric ``cost`` with a = b), go
        through the symmetric averaged iteration. Warns :class:`SinkhornConvergenceWarning`
        when ``tol`` is not reached.

    Raises
    ------
    ValueError
        For a bad argument (eps <= 0, scaling outside (0, 1), points of different dimensions,
        ``kernel="online"`` with a ``cost`` matrix, a warm start of the wrong shape, ...).

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn distances: lightspeed computation of optimal transport",
       NeurIPS 2013.
    .. [2] B. Schmitzer, "Stabilized sparse scaling algorithms for entropy regularized transport
       problems", SIAM J. Sci. Comput. 41 (2019).
    .. [3] J. Feydy, "Geometric data analysis, beyond convolutions", PhD thesis, ENS Paris-Saclay
       (2020) (eps-scaling, online log-sum-exp reductions).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import entropic_ot
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(200, 2)), 1 + rng.normal(size=(150, 2)) / 2
    >>> res = entropic_ot(x, y, eps=0.1)
    >>> res.converged, res.kernel
    (True, 'dense')
    >>> online = entropic_ot(x, y, eps=0.1, kernel="online")  # no matrix stored, same iterations
    >>> online.iterations == res.iterations, abs(online.value - res.value) < 1e-12
    (True, True)
    """
    res = _entropic(xa, xb, a, b, eps=eps, p=p, tol=tol, max_iter=max_iter, scaling=scaling,
                    warm_start=warm_start, cost=cost, overrelaxation=overrelaxation, newton=newton,
                    kernel=kernel)  # fmt: skip
    if not res.converged:
        _warn("entropic_ot", res.marginal_error, res.tol, res.iterations)
    return res


def entropic_ot_linear(xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, **kw) -> float:
    r"""The transport cost ``<P_eps, C>`` of the entropic plan (what POT's ``sinkhorn2`` returns).

    .. math::

        \langle P_\varepsilon, C \rangle = \sum_{ij} a_i b_j\,
        e^{(f_i + g_j - C_{ij})/\varepsilon}\, C_{ij},

    with (f, g) the potentials of :func:`entropic_ot`; not ``OT_eps`` itself (no entropy term),
    hence its own name.

    Parameters
    ----------
    xa, xb : array_like, shape (n, d) and (m, d)
        The points.
    a, b : array_like, optional
        Nonnegative weights (normalised to one); uniform by default.
    eps : float
        The regularisation eps > 0.
    p : float
        Exponent >= 1 of the cost ``|x - y|^p``.
    **kw
        Further keywords of :func:`entropic_ot` (``tol``, ``max_iter``, ``scaling``, ``kernel``,
        ...; not ``cost``). With the online kernel the sum is streamed too.

    Returns
    -------
    float
        ``<P_eps, C>``.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn distances: lightspeed computation of optimal transport",
       NeurIPS 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import entropic_ot_linear
    >>> x = np.random.default_rng(0).normal(size=(100, 2))
    >>> round(entropic_ot_linear(x, x + np.array([1.0, 0.0]), eps=0.01), 3)
    1.0
    """
    if "cost" in kw:
        raise ValueError("cost is not allowed in entropic_ot_linear: expected the points xa, xb (see entropic_ot)")
    res = entropic_ot(xa, xb, a, b, eps=eps, p=p, **kw)
    xa, xb, p = check_array("xa", xa), check_array("xb", xb), float(p)
    a, b = _weights("a", a, xa.shape[0]), _weights("b", b, xb.shape[0])
    if res.kernel == "online":
        return _online.Clouds(xa, xb, p).plan_cost(res.f, res.g, a, b, eps)
    C = _cost(xa, xb, p)
    return float(np.sum(res.plan(C, a, b) * C))


@dataclass
class SinkhornDivergence:
    r"""The result of :func:`sinkhorn_divergence`: the divergence, its error bound and the terms.

    .. math::

        \text{raw} = D_{ab} - \tfrac12 (D_{aa} + D_{bb}), \qquad \text{value} = \max(\text{raw}, 0),
        \qquad \lvert \text{value} - S_\varepsilon(a, b) \rvert \le \text{error\_bound},

    with :math:`D` the certified dual values of the three entropic problems. ``raw >=
    -(gap_bound of OT(a, b) + rounding)`` always holds, so the clip at 0 never hides more than
    the error bound. ``float(result)`` is ``value``.

    Attributes
    ----------
    value : float
        The divergence :math:`S_\varepsilon \ge 0`, in the units of the cost (distance^p).
    raw : float
        ``OT(a, b) - (OT(a, a) + OT(b, b)) / 2`` of the computed terms, before the clip at 0.
    error_bound : float
        Bound on ``|value - S_eps|``: the gap bounds of the terms plus their rounding bounds.
    converged : bool
        True when all three terms converged.
    marginal_error : float
        The largest marginal error of the three terms.
    same_measure : bool
        a and b are the same measure up to a permutation of the points: then value = 0
        exactly and no term is computed.
    iterations : int
        Total iterations of the three terms.
    ab, aa, bb : EntropicOT or None
        The terms OT(a, b), OT(a, a), OT(b, b) (None when ``same_measure``).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import sinkhorn_divergence
    >>> x = np.random.default_rng(1).normal(size=(50, 2))
    >>> res = sinkhorn_divergence(x, x + 1.0, eps=0.1)
    >>> res.converged, res.same_measure, bool(abs(res.value - res.raw) <= res.error_bound)
    (True, False, True)
    >>> sinkhorn_divergence(x, x[::-1]).same_measure
    True
    """

    value: float
    raw: float
    error_bound: float
    converged: bool
    marginal_error: float
    same_measure: bool
    iterations: int
    ab: EntropicOT | None = field(default=None, repr=False)
    aa: EntropicOT | None = field(default=None, repr=False)
    bb: EntropicOT | None = field(default=None, repr=False)

    def __float__(self) -> float:
        """The divergence ``value``."""
        return self.value


def sinkhorn_divergence(xa, xb, a=None, b=None, *, eps: float = 0.1, p: float = 2.0, **kw) -> SinkhornDivergence:
    r"""Debiased Sinkhorn divergence with the full regularised values (>= 0, 0 iff a = b).

    .. math::

        S_\varepsilon(a, b) = \mathrm{OT}_\varepsilon(a, b)
        - \tfrac12 \mathrm{OT}_\varepsilon(a, a) - \tfrac12 \mathrm{OT}_\varepsilon(b, b) .

    Parameters
    ----------
    xa, xb : array_like, shape (n, d) and (m, d)
        The points.
    a, b : array_like, optional
        Nonnegative weights (normalised to one); uniform by default.
    eps : float
        The regularisation eps > 0.
    p : float
        Exponent >= 1 of the cost ``|x - y|^p``.
    **kw
        Keywords of :func:`entropic_ot` for the three terms (``tol``, default 1e-9, ``max_iter``,
        ``scaling``, ``overrelaxation``, ``newton``, ``kernel``).

    Returns
    -------
    SinkhornDivergence
        ``float(result)`` is the divergence; ``error_bound`` bounds ``|value - S_eps|``; the
        three terms are ``ab``, ``aa``, ``bb``. When a and b are the same measure (also up to a
        permutation of the points) the value is 0 exactly and nothing is computed. One
        :class:`SinkhornConvergenceWarning` when a term did not converge.

    References
    ----------
    .. [1] A. Genevay, G. Peyré, M. Cuturi, "Learning generative models with Sinkhorn
       divergences", AISTATS 2018.
    .. [2] J. Feydy, T. Séjourné, F.-X. Vialard, S. Amari, A. Trouvé, G. Peyré, "Interpolating
       between optimal transport and MMD using Sinkhorn divergences", AISTATS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.transport import sinkhorn_divergence
    >>> x = np.random.default_rng(0).normal(size=(100, 2))
    >>> round(float(sinkhorn_divergence(x, x + np.array([0.3, 0.4]), eps=0.1)), 9)  # the squared shift
    0.25
    >>> float(sinkhorn_divergence(x, x[::-1], eps=0.1))  # the same measure
    0.0
    """
    xa, xb = check_array("xa", xa), check_array("xb", xb)
    a, b = _weights("a", a, xa.shape[0]), _weights("b", b, xb.shape[0])
    check_number("eps", eps, low=0, low_inclusive=False)
    if _permutation(xa, xb, a, b) is not None:
        return SinkhornDivergence(0.0, 0.0, 0.0, True, 0.0, True, 0)
    opts = {"eps": eps, "p": p, "tol": 1e-9, "max_iter": 10_000, "scaling": 0.5, "warm_start": None, "cost": None,
            "overrelaxation": None, "newton": None, "kernel": "auto", **kw}  # fmt: skip
    ab = _entropic(xa, xb, a, b, **opts)
    aa = _entropic(xa, xa, a, a, **opts)
    bb = _entropic(xb, xb, b, b, **opts)
    raw = ab.value - 0.5 * (aa.value + bb.value)
    rounding = ab.rounding_bound + 0.5 * (aa.rounding_bound + bb.rounding_bound)
    if raw < -(ab.gap_bound + rounding):
        raise RuntimeError(f"Sinkhorn divergence {raw} below its error bound {-(ab.gap_bound + rounding)}: a bug")
    terms = (ab, aa, bb)
    res = SinkhornDivergence(
        max(raw, 0.0), raw, max(ab.gap_bound, 0.5 * (aa.gap_bound + bb.gap_bound)) + rounding,
        all(t.converged for t in terms), max(t.marginal_error for t in terms), False,
        sum(t.iterations for t in terms), ab, aa, bb,
    )  # fmt: skip
    if not res.converged:
        bad = [name for name, t in zip(("OT(a, b)", "OT(a, a)", "OT(b, b)"), terms, strict=True) if not t.converged]
        _warn("sinkhorn_divergence (" + ", ".join(bad) + ")", res.marginal_error, opts["tol"], res.iterations)
    return res
