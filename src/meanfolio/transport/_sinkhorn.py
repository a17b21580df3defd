"""The entropic OT solver behind :func:`meanfolio.transport.entropic_ot` (private).

Stages: epsilon scaling (geometric, from osc C down to eps), each stage a
stabilised Sinkhorn run (``_kernels.sinkhorn_iterate``: BLAS matrix-vector
products, absorption, adaptive over-relaxation) that hands over at a loose
marginal error; the last stage runs to ``tol``. When its observed rate says
that first-order iterations would need more than a Newton polish costs, the
last stage switches to Newton's method on the semi-dual in the potential of
the smaller side (dense Hessian ``diag(r) - P diag(1/b) P^T``, Cholesky,
Levenberg-Marquardt damping): at small eps Sinkhorn's error decays like a
power of the iteration count (the spectrum of the plan's Markov chain crowds
at 1), while Newton keeps dividing it by 3-50 per step.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.linalg import blas, lapack
from threadpoolctl import ThreadpoolController

from meanfolio._parallel import free_threads, numba_threads

from . import _kernels as kern

STAGE_TOL = 1e-1  # marginal error at which an intermediate eps stage hands over to the next
STAGE_ITERS = 20  # at most this many iterations per intermediate stage
TAU = 25.0  # absorb the scalings into the potentials when |log u| or |log v| exceeds this
CHUNK = 25  # the last stage checks its rate (and whether to switch to Newton) every CHUNK iterations
NEWTON_MAX = 4000  # Newton only when the smaller side has at most this many points (dense Hessian)
NEWTON_START = 1e-2  # Newton only below this marginal error (closer, its steps are whole)
PATIENCE = 10  # Newton gives up after this many steps without halving the error
NEWTON_STEPS = 12  # Newton steps expected for a polish, in the switching rule
_U = 2.0**-52


def schedule(osc: float, eps: float, scaling: float) -> list[float]:
    """osc, osc * scaling, ... (all > eps), then eps."""
    stages, e = [], osc
    while e > eps:
        stages.append(e)
        e *= scaling
    return [*stages, eps]


class Solver:
    """One solve: the kernel K of base potentials (fa, ga) at eps e and the scalings u, v."""

    can_newton = True  # the dense kernel allows the Newton polish
    kernel = "dense"

    def __init__(self, C, a, b, symmetric: bool, max_iter: int, omega: float | None):
        self.C, self.a, self.b, self.sym = C, a, b, symmetric
        with np.errstate(divide="ignore"):
            self.loga, self.logb = np.log(a), np.log(b)
        n, m = self.shape = C.shape
        self.osc = float(C.max() - C.min())
        self.K = np.empty((n, m))
        self.u, self.v = np.ones(n), np.ones(m)
        self.hist = np.full(min(max_iter, 1024), np.nan)  # grown on demand (_reserve)
        self.used, self.max_iter, self.newton_steps = 0, max_iter, 0
        self.omega, self.adapt = (1.0, True) if omega is None else (omega, False)
        self.CT = None
        self.rows_exact = False
        self.lam = 1e-4  # Levenberg-Marquardt damping of the Newton steps

    def _reserve(self, stop: int) -> None:
        if stop > self.hist.size:
            grown = np.full(min(max(stop, 2 * self.hist.size), self.max_iter), np.nan)
            grown[: self.hist.size] = self.hist
            self.hist = grown

    def build(self, fa, ga, e):
        self.fa, self.ga, self.e = fa, (fa if self.sym else ga), e
        kern.gibbs(self.C, self.fa, self.ga, e, self.K)
        self.u[:] = 1.0
        self.v[:] = 1.0
        self.col_err = np.inf
        self.window = np.zeros(2)  # the over-relaxation estimate restarts its window (not its factor)

    def potentials(self):
        f = self.fa + self.e * np.log(self.u)
        return f, (f if self.sym else self.ga + self.e * np.log(self.v))

    def _log_step(self):
        """One exact log-domain iteration (when the scaled kernel under/overflows right after a build)."""
        f, g = self.potentials()
        t = np.empty_like(f)
        if self.sym:
            kern.soft_min(self.C, f, self.loga, self.e, t)
            self.build(0.5 * (f + t), None, self.e)
            return
        kern.soft_min(self.C, g, self.logb, self.e, t)
        if self.CT is None:
            self.CT = np.ascontiguousarray(self.C.T)
        g = np.empty_like(g)
        kern.soft_min(self.CT, t, self.loga, self.e, g)
        self.build(t, g, self.e)

    def run(self, tol: float, cap: int) -> float:
        """Iterate at the current eps until the marginal error is below tol or ``cap`` iterations."""
        stop = min(self.used + cap, self.max_iter)
        self._reserve(stop)
        err = np.inf
        while self.used < stop:
            if self.sym:
                its, err, status = kern.symmetric_iterate(
                    self.K, self.a, self.u, tol, stop - self.used, TAU, self.hist, self.used
                )
            else:
                its, err, status, self.omega, self.col_err = kern.sinkhorn_iterate(
                    self.K, self.a, self.b, self.u, self.v, self.col_err, self.omega, self.adapt, self.window,
                    tol, stop - self.used, TAU, self.hist, self.used,
                )  # fmt: skip
            self.used += its
            if status in (kern.CONVERGED, kern.BUDGET):
                return err
            if its == 0:
                self._log_step()
                self.used += 1
            else:
                self.build(*self.potentials(), self.e)
        return err

    def finish(self):
        """Exact marginal on one side (g <- T(f), or f <- T(g) after a Newton polish of g), then the
        error of the other; returns (f, g, L1 marginal error, mass) of the final pair."""
        b = self.a if self.sym else self.b
        u, v = self.u.copy(), self.u.copy() if self.sym else self.v.copy()
        if self.rows_exact:
            err, mass = kern.finish(self.K.T, b, self.a, v, u)
        else:
            err, mass = kern.finish(self.K, self.a, b, u, v)
        if not (math.isfinite(err) and np.all(np.isfinite(u)) and np.all(np.isfinite(v)) and u.min() > 0 < v.min()):
            return self._log_finish()  # the kernel under/overflows (far from converged): log domain
        return self.fa + self.e * np.log(u), self.ga + self.e * np.log(v), err, mass

    def _log_finish(self):
        """f <- T(g), g <- T(f) and the row error by exact log-sum-exps (no kernel)."""
        f, g = self.potentials()
        if self.CT is None:
            self.CT = np.ascontiguousarray(self.C.T)
        logb = self.loga if self.sym else self.logb
        t = np.empty_like(f)
        kern.soft_min(self.C, g, logb, self.e, t)
        f, g = t.copy(), np.empty_like(g)
        kern.soft_min(self.CT, f, self.loga, self.e, g)
        kern.soft_min(self.C, g, logb, self.e, t)
        rows = self.a * np.exp(np.minimum((f - t) / self.e, 700.0))
        return f, g, float(np.abs(rows - self.a).sum()), float(rows.sum())

    def last_stage(self, tol: float, newton: bool | None) -> None:
        """Run the last stage to tol: Sinkhorn in chunks, Newton when it is predicted to be faster."""
        n_small = min(self.shape)
        allowed = self.can_newton and not self.sym and newton is not False and n_small <= NEWTON_MAX
        # cost of a Newton step in Sinkhorn iterations: a rank-m update of an (n, n) matrix (compute
        # bound) against two matrix-vector products (memory bound): about n_small / 50
        threshold = NEWTON_STEPS * max(10.0, n_small / 50)
        prev, retry_below = np.inf, np.inf
        while self.used < self.max_iter:
            self.rows_exact = False
            err = self.run(tol, CHUNK)
            if not err < tol:
                # predicted Sinkhorn iterations to tol, from the rate over the last chunk, against the threshold
                slow = prev < np.inf and (err >= prev or math.log(err / tol) * CHUNK > math.log(prev / err) * threshold)
                prev = err
                if not (allowed and (slow or newton) and err < min(retry_below, NEWTON_START)):
                    continue
                if not self.newton(tol):
                    retry_below = err / 100  # Newton stalled: Sinkhorn first, Newton again much closer
                    continue
            if self.finish()[2] <= tol:
                return
            self.build(*self.potentials(), self.e)

    def newton(self, tol: float) -> bool:
        """Newton (Levenberg-Marquardt damped) on the semi-dual of the smaller side; True when tol
        was reached (that side's potential is the variable, the other marginal is exact: ``rows_exact``).

        Direction: ``(H + lam diag(r)) d = eps (a - r)`` with the Hessian ``H = diag(r) - P diag(1/b)
        P^T + r r^T`` (the rank-one term fixes the constant mode). A step is taken whole when it
        raises the semi-dual F (Armijo) and lam is divided by 10; otherwise lam is multiplied by
        10 (large lam: a Sinkhorn-like step ``d = eps (a - r) / (lam r)``). At small eps the
        plan splits into nearly disconnected blocks whose modes make H nearly singular: lam keeps
        the steps finite there.
        """
        tr = self.K.shape[0] > self.K.shape[1]
        best, misses, errs = np.inf, 0, []
        while self.used < self.max_iter:
            K = self.K.T if tr else self.K
            a, b = (self.b, self.a) if tr else (self.a, self.b)
            u, v = (self.v, self.u) if tr else (self.u, self.v)
            v[:] = 1.0 / np.dot(K.T, a * u)  # exact marginal on the larger side
            r = a * u * np.dot(K, b * v)
            err = float(np.abs(r - a).sum())
            self._reserve(self.used + 1)
            self.hist[self.used] = err
            self.used += 1
            self.newton_steps += 1
            self.rows_exact = tr
            if err <= tol:
                return True
            misses = 0 if err < best else misses + 1
            best = min(best, err)
            errs.append(err)
            if misses >= PATIENCE or (len(errs) > PATIENCE and err > 0.5 * errs[-PATIENCE - 1]):
                return False  # slow (damped phase: Sinkhorn is cheaper) or at the rounding floor
            H = self._hessian(K, a, b, u, v, r)
            for _ in range(16):
                d = self._direction(H, r, self.e * (a - r))
                if d is not None and self._step(K, a, b, u, v, r, d, err):
                    self.lam = self.lam / 10 if self.lam > 1e-12 else 0.0
                    break
                self.lam = max(self.lam * 10, 1e-9)
            else:
                return False
            if np.abs(np.log(u)).max() > TAU or np.abs(np.log(v)).max() > TAU:
                self.build(*self.potentials(), self.e)
        return False

    @staticmethod
    def _hessian(K, a, b, u, v, r):
        """The upper triangle (Fortran order) of diag(r) - Q Q^T + r r^T, Q = diag(a u) K diag(v sqrt(b))."""
        Q = np.multiply(K, v * np.sqrt(b))
        Q *= (a * u)[:, None]
        H = np.asfortranarray(np.outer(r, r))
        H[np.diag_indices_from(H)] += r
        return blas.dsyrk(-1.0, Q.T, beta=1.0, c=H, trans=1, overwrite_c=1)

    def _direction(self, H, r, rhs):
        Hs = H.copy(order="F")
        Hs[np.diag_indices_from(Hs)] += self.lam * r
        chol, info = lapack.dpotrf(Hs, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            return None
        d, info = lapack.dpotrs(chol, rhs, lower=0)
        return d if info == 0 and np.all(np.isfinite(d)) else None

    def _step(self, K, a, b, u, v, r, d, err) -> bool:
        """Take f <- f + d (u <- u exp(d / eps)) if it raises F = <f, a> + <T(f), b> (Armijo), or
        lowers the marginal error without lowering F beyond rounding."""
        e = self.e
        if np.abs(d).max() > TAU * e:
            return False  # beyond the range of the kernel's scalings: damp more
        logu, logv = np.log(u), np.log(v)
        F0 = a @ logu + b @ logv  # F up to the constant <fa, a> + <ga, b>, in units of eps
        lu = logu + d / e
        un = np.exp(lu)
        c = np.dot(K.T, a * un)
        if not (np.all(c > 0) and np.all(np.isfinite(c))):
            return False
        lv = -np.log(c)
        F = a @ lu + b @ lv
        en = float(np.abs(a * un * np.dot(K, b * np.exp(lv)) - a).sum())
        noise = 64 * _U * (abs(F0) + a @ np.abs(logu) + b @ np.abs(logv) + 1.0)
        if F >= F0 + 1e-4 * ((a - r) @ d) / e or (en < err and F >= F0 - noise):
            u[:] = un
            v[:] = np.exp(lv)
            return True
        return False


_CONTROLLER: list[ThreadpoolController] = []


def solve(C, a, b, eps, **kw):
    """Returns (f, g, error, mass, solver, stages, seconds).

    ``C``: the dense cost matrix, or a :class:`meanfolio.transport._online.Clouds` for the online
    kernel (no matrix stored). Threads (numba and BLAS alike):
    :func:`meanfolio._parallel.free_threads` of the n m work, so that short parallel regions do not
    wait for threads that share a core with other processes.
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    threads = free_threads(C.shape[0] * C.shape[1])
    with numba_threads(threads), _CONTROLLER[0].limit(limits=threads, user_api="blas"):
        return _solve(C, a, b, eps, **kw)


def _solve(C, a, b, eps, *, tol, max_iter, scaling, warm_start, symmetric, omega, newton):
    start = time.perf_counter()
    n, m = C.shape
    if isinstance(C, np.ndarray):
        s = Solver(C, a, b, symmetric, max_iter, omega)
    else:
        from ._online import OnlineSolver

        s = OnlineSolver(C, a, b, symmetric, max_iter, omega)
    osc = s.osc
    if warm_start is not None:
        f, g = (np.array(w, dtype=np.float64) for w in warm_start)
        stages = [eps]
    else:
        f, g = np.zeros(n), np.zeros(m)
        stages = schedule(osc, eps, scaling) if osc > eps else [eps]
    omega, adapt = s.omega, s.adapt
    s.omega, s.adapt = 1.0, False  # plain Sinkhorn while eps falls: over-relaxation is for the last stage
    for e in stages[:-1]:
        s.build(f, g, e)
        s.run(max(tol, STAGE_TOL), STAGE_ITERS)
        f, g = s.potentials()
    s.omega, s.adapt = omega, adapt
    s.build(f, g, eps)

    s.last_stage(tol, newton)
    f, g, err, mass = s.finish()
    return f, g, err, mass, s, len(stages), time.perf_counter() - start
