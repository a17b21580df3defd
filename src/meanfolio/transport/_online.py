"""Entropic OT without the cost matrix: the online (streamed) kernel (private).

For large point clouds the dense path's two ``n x m`` matrices (the cost and
the Gibbs kernel, 800 MB each at n = m = 10,000 in float64) are replaced by
log-sum-exps computed row by row from the points:

    lse_i = log sum_j exp((s_i + g_j - C_ij) / eps + log w_j),  C_ij = |x_i - y_j|^p,

with the cost recomputed on the fly (``d`` subtractions and products per
pair), written to a row buffer that stays in cache together with the
exponent's running maximum, then exponentiated by the vectorised
``_kernels._exp_inplace`` and summed. The shift ``s_i`` is the current
potential of the row, so that near the solution the terms are O(1) and one
pass suffices; a row whose largest exponent leaves [-600, 600] is shifted by
that maximum instead (no overflow, no total underflow). One call is one
parallel region over blocks of ``ROWS`` rows (a few tens of milliseconds of
work at n = 10,000): a Sinkhorn iteration is two of them. Each row is summed
by one thread in a fixed order, so the results do not depend on the number
of threads.

:class:`OnlineSolver` runs the same iteration as the dense
:class:`meanfolio.transport._sinkhorn.Solver` (same schedule, same
over-relaxation rule, same stopping test, same finish) on the potentials
(f, g) directly: ``f <- f - w eps lse(f, g)`` is the dense path's
``u <- u (u K b v)^-w``. There is no Newton polish on this path (its Hessian
is dense).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from meanfolio._vector_kernels import vdot

from ._kernels import _exp_inplace
from ._sinkhorn import Solver

ROWS = 16  # rows per parallel work item
SHIFT_LIMIT = 600.0  # a row whose largest exponent leaves [-SHIFT_LIMIT, SHIFT_LIMIT] is shifted by it


@njit(cache=True, fastmath={"contract", "arcp", "nsz", "reassoc"})
def _row_costs(x, Yt, c, p):
    """c_j = |x - y_j|^p for the points y_j = Yt[:, j] (differences, no cancellation)."""
    d, m = Yt.shape
    x0 = x[0]
    for j in range(m):
        t = x0 - Yt[0, j]
        c[j] = t * t
    for k in range(1, d):
        xk = x[k]
        for j in range(m):
            t = xk - Yt[k, j]
            c[j] += t * t
    if p == 2.0:
        return
    if p == 1.0:
        for j in range(m):
            c[j] = math.sqrt(c[j])
        return
    h = 0.5 * p
    for j in range(m):
        c[j] = c[j] ** h


@njit(cache=True, fastmath={"contract", "arcp", "nsz", "nnan", "reassoc"})
def _exponents(z, s, potw, inv):
    """z_j <- s + potw_j - z_j inv (z holds the costs on entry); returns max_j z_j (finite inputs but
    potw_j = -inf for zero weights: no NaN, so the max reduction may vectorise)."""
    mx = -np.inf
    for j in range(z.size):
        v = s + potw[j] - z[j] * inv
        z[j] = v
        if v > mx:
            mx = v
    return mx


@njit(cache=True, fastmath={"contract", "arcp", "nsz", "reassoc"})
def _sum(z):
    s = 0.0
    for j in range(z.size):
        s += z[j]
    return s


@njit(cache=True)
def _row(x, Yt, s, potw, inv, p, z, bits, c, weighted):
    """(lse, <exp(z - shift), c> / sum exp(z - shift)) of one row; the second only when ``weighted``."""
    _row_costs(x, Yt, z, p)
    if weighted:
        c[:] = z
    mx = _exponents(z, s, potw, inv)
    off = 0.0
    if not (-SHIFT_LIMIT <= mx <= SHIFT_LIMIT):
        if not math.isfinite(mx):
            return mx, 0.0
        off = mx
        for j in range(z.size):
            z[j] -= mx
    _exp_inplace(z, bits)
    total = _sum(z)
    return off + math.log(total), (vdot(z, c) / total if weighted else 0.0)


@njit(cache=True, parallel=True)
def online_lse(X, Yt, shift, potw, inv, p, out):
    """out_i = log sum_j exp(shift_i inv + potw_j - |x_i - y_j|^p inv), rows in parallel.

    ``X`` (n, d) and ``Yt`` (d, m) C-contiguous; ``potw_j = g_j inv + log w_j`` (-inf for w_j = 0).
    """
    n, m = X.shape[0], Yt.shape[1]
    for blk in prange((n + ROWS - 1) // ROWS):
        z, c, bits = np.empty(m), np.empty(0), np.empty(m, np.int64)
        for i in range(blk * ROWS, min(n, (blk + 1) * ROWS)):
            out[i] = _row(X[i], Yt, shift[i] * inv, potw, inv, p, z, bits, c, False)[0]


@njit(cache=True, parallel=True)
def online_plan_cost(X, Yt, shift, potw, inv, p, lse, cost):
    """Per row: lse_i as in :func:`online_lse` and cost_i = sum_j P_ij C_ij / sum_j P_ij (the row's mean cost)."""
    n, m = X.shape[0], Yt.shape[1]
    for blk in prange((n + ROWS - 1) // ROWS):
        z, c, bits = np.empty(m), np.empty(m), np.empty(m, np.int64)
        for i in range(blk * ROWS, min(n, (blk + 1) * ROWS)):
            lse[i], cost[i] = _row(X[i], Yt, shift[i] * inv, potw, inv, p, z, bits, c, True)


@njit(cache=True, parallel=True)
def cost_range(X, Yt, p, out):
    """out[0], out[1] = min and max of |x_i - y_j|^p over all pairs."""
    n, m = X.shape[0], Yt.shape[1]
    nb = (n + ROWS - 1) // ROWS
    part = np.empty((nb, 2))
    for blk in prange(nb):
        c = np.empty(m)
        lo, hi = np.inf, -np.inf
        for i in range(blk * ROWS, min(n, (blk + 1) * ROWS)):
            _row_costs(X[i], Yt, c, p)
            lo, hi = min(lo, c.min()), max(hi, c.max())
        part[blk, 0], part[blk, 1] = lo, hi
    out[0], out[1] = part[:, 0].min(), part[:, 1].max()


class Clouds:
    """Two point clouds and the exponent p of the cost |x - y|^p (what the online kernel needs)."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, p: float):
        self.X = np.ascontiguousarray(X.reshape(X.shape[0], -1), dtype=np.float64)
        self.Y = np.ascontiguousarray(Y.reshape(Y.shape[0], -1), dtype=np.float64)
        self.p = float(p)
        self.Xt, self.Yt = np.ascontiguousarray(self.X.T), np.ascontiguousarray(self.Y.T)
        self.shape = (self.X.shape[0], self.Y.shape[0])

    def osc(self) -> float:
        out = np.empty(2)
        cost_range(self.X, self.Yt, self.p, out)
        return float(out[1] - out[0])

    def rows(self, f, g, logb, e) -> np.ndarray:
        """lse_i = log sum_j b_j exp((f_i + g_j - C_ij) / e): the row marginal of (f, g) is a exp(lse)."""
        out = np.empty(self.shape[0])
        online_lse(self.X, self.Yt, f, g / e + logb, 1.0 / e, self.p, out)
        return out

    def cols(self, g, f, loga, e) -> np.ndarray:
        """The same for the columns: the column marginal of (f, g) is b exp(lse)."""
        out = np.empty(self.shape[1])
        online_lse(self.Y, self.Xt, g, f / e + loga, 1.0 / e, self.p, out)
        return out

    def plan_cost(self, f, g, a, b, e) -> float:
        """<P, C> for the plan P_ij = a_i b_j exp((f_i + g_j - C_ij) / e) of the potentials."""
        n = self.shape[0]
        lse, cost = np.empty(n), np.empty(n)
        with np.errstate(divide="ignore"):
            potw = g / e + np.log(b)
        online_plan_cost(self.X, self.Yt, f, potw, 1.0 / e, self.p, lse, cost)
        return float(np.sum(a * np.exp(lse) * cost))


class OnlineSolver(Solver):
    """The solver of ``_sinkhorn`` on potentials (f, g) with the online kernel: no matrix is stored."""

    can_newton = False
    kernel = "online"

    def __init__(self, clouds: Clouds, a, b, symmetric: bool, max_iter: int, omega: float | None):
        self.P, self.a, self.b, self.sym = clouds, a, b, symmetric
        with np.errstate(divide="ignore"):
            self.loga, self.logb = np.log(a), np.log(b)
        self.shape = clouds.shape
        self.osc = clouds.osc()
        self.f, self.g = np.zeros(self.shape[0]), np.zeros(self.shape[1])
        self.hist = np.full(min(max_iter, 1024), np.nan)
        self.used, self.max_iter, self.newton_steps = 0, max_iter, 0
        self.omega, self.adapt = (1.0, True) if omega is None else (omega, False)
        self.rows_exact = False

    def build(self, fa, ga, e):
        self.f = np.array(fa, dtype=np.float64)
        self.g = self.f if self.sym else np.array(ga, dtype=np.float64)
        self.e = e
        self.col_err = np.inf
        self.window = np.zeros(2)

    def potentials(self):
        f = self.f.copy()
        return f, (f if self.sym else self.g.copy())

    def run(self, tol: float, cap: int) -> float:
        """Iterate at the current eps until the marginal error is below tol or ``cap`` iterations
        (the dense ``sinkhorn_iterate`` / ``symmetric_iterate`` on the potentials)."""
        stop = min(self.used + cap, self.max_iter)
        self._reserve(stop)
        err, e, a, b = np.inf, self.e, self.a, self.b
        while self.used < stop:
            lse = self.P.rows(self.f, self.g, self.logb, e)
            row = float(a @ np.abs(np.exp(lse) - 1.0))
            err = 2.0 * row if self.sym else row + self.col_err  # col_err is inf right after a build
            self.hist[self.used] = err
            if err < tol:
                return err
            self.used += 1
            if not math.isfinite(row):  # cannot happen with finite potentials (the rows are shifted)
                return err
            if self.sym:
                self.f = self.g = self.f - 0.5 * e * lse  # (f + T(f)) / 2
                continue
            if self.adapt:
                self._adapt(err)
            w = self.omega
            self.f = self.f - w * e * lse  # f + w (T(g) - f)
            lc = self.P.cols(self.g, self.f, self.loga, e)
            self.g = self.g - w * e * lc
            self.col_err = float(b @ np.abs(np.exp((1.0 - w) * lc) - 1.0))
        return err

    def _adapt(self, err: float) -> None:
        """The over-relaxation estimate of ``_kernels.sinkhorn_iterate`` (Young's relation)."""
        win, e0 = int(self.window[0]), self.window[1]
        if win == 0 or not math.isfinite(e0):
            win, e0 = 0, err
        elif win >= 10:
            lam = (err / e0) ** 0.1
            w = self.omega
            if lam >= 1.0:
                self.omega = 1.0 + 0.5 * (w - 1.0)
            elif lam > 0.0:
                mu2 = min((lam + w - 1.0) ** 2 / (lam * w * w), 1.0)
                self.omega = 2.0 / (1.0 + math.sqrt(1.0 - mu2))
            win, e0 = 0, err
        self.window[0], self.window[1] = win + 1, e0

    def finish(self):
        """g <- T(f) (exact column marginal), then the row error and the mass of the final pair."""
        e = self.e
        f = self.f.copy()
        g = f.copy() if self.sym else self.g.copy()
        g -= e * self.P.cols(g, f, self.loga, e)
        rows = self.a * np.exp(self.P.rows(f, g, self.logb, e))
        return f, g, float(np.abs(rows - self.a).sum()), float(rows.sum())
