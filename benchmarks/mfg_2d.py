"""Benchmark of the 2D MFG solver: 50x50 and 100x100 grids x 50 time steps.

Game: congestion m + mean tracking |x - mbar|^2 / 2, terminal 0.4 |x|^2,
nu = 0.2 on [-3, 3]^2, m0 a Gaussian bump; tolerance 1e-8 on the scaled
residual. Ours: Newton, GMRES right-preconditioned by ADI line sweeps
(compiled, vectorised over lines), the returned FP density by GMRES with the
ADI step to round-off. Baselines in the same process:

- "newton + LU": the same Newton whose preconditioner inverts each implicit
  step exactly with scipy's SuperLU (the textbook route);
- "explicit": the seed's explicit fixed point in numpy (central differences,
  FP renormalised every step, relaxation 0.5, CFL sub-steps), stopping on
  max |m_new - m| < 1e-6 (a looser test than ours); 50x50 only.

    python benchmarks/mfg_2d.py       # table + results/mfg_2d.json
"""

from __future__ import annotations

import functools
import math
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.mfg import Congestion, MeanTracking, MFGConfig, solve_mfg
from meanfolio.mfg.problems import problem2d

NU, L = 0.2, 3.0


def game(n: int):
    config = MFGConfig(nx=n, nt=50, x_min=-L, x_max=L, dim=2, viscosity=NU, tolerance=1e-8)
    x = np.linspace(-L, L, n)
    X, Y = np.meshgrid(x, x)
    m0 = np.exp(-((X - 0.5) ** 2 + (Y + 0.3) ** 2) / 0.5)
    return config, m0, Congestion(1.0) + MeanTracking(1.0), 0.4 * (X**2 + Y**2)


class LUProblem(problem2d.MFGProblem2D):
    """Same scheme and Newton; the preconditioner's steps are solved exactly by SuperLU."""

    def preconditioner(self, ops):
        _, hdata, bdata, _, _ = ops
        N, K = hdata.shape[:2]
        indptr = np.arange(0, 5 * K + 1, 5)
        mats = [sp.csr_matrix((d.ravel(), self.neighbours.ravel(), indptr), shape=(K, K)) for d in hdata]
        lus = [spla.splu(A.T.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0) for A in mats]
        cols = (self.neighbours[None] + (K * np.arange(N))[:, None, None]).ravel()
        B = sp.csr_matrix((bdata.ravel(), cols, np.arange(0, 5 * N * K + 1, 5)), shape=(N * K, N * K))

        def precondition(r, out=None):
            rU, rM = r[: N * K].reshape(N, K), r[N * K :].reshape(N, K)
            zU, zM = np.empty((N, K)), np.empty((N, K))
            nxt = np.zeros(K)
            for n in range(N - 1, -1, -1):  # the LU is of A^T: A itself is the transposed solve
                zU[n] = nxt = lus[n].solve(rU[n] + nxt, trans="T")
            rhs_m = rM - (B @ zU.ravel()).reshape(N, K)
            prev = np.zeros(K)
            for n in range(N):
                zM[n] = prev = lus[n].solve(rhs_m[n] + prev)
            z = np.concatenate((zU.ravel(), zM.ravel()))
            if out is None:
                return z
            out[:] = z
            return out

        return precondition


def solve_with(problem_class, config, m0, f, g):
    import meanfolio.mfg.solver as solver

    saved = solver.MFGProblem2D
    solver.MFGProblem2D = problem_class
    try:
        return solve_mfg(config, m0, f, terminal=g)
    finally:
        solver.MFGProblem2D = saved


def _lap(v, dx):
    p = np.pad(v, 1, mode="reflect")
    return (p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * v) / dx**2


def explicit_baseline(n, tol=1e-6, max_iter=200):
    config, m0, _, g = game(n)
    x = np.linspace(-L, L, n)
    dx = x[1] - x[0]
    X, Y = np.meshgrid(x, x)
    nt, T = config.nt, config.time_horizon
    sub = max(1, math.ceil((T / (nt - 1)) / (0.9 * dx**2 / (4 * NU))))
    dt = T / (nt - 1) / sub
    m0 = m0 / (m0.sum() * dx * dx)
    m = np.repeat(m0[None], nt, axis=0)
    u = np.zeros_like(m)
    for it in range(1, max_iter + 1):
        mx = (m * X).sum(axis=(1, 2)) * dx * dx
        my = (m * Y).sum(axis=(1, 2)) * dx * dx
        F = m + 0.5 * ((X - mx[:, None, None]) ** 2 + (Y - my[:, None, None]) ** 2)
        u[-1] = g
        for k in range(nt - 2, -1, -1):
            v = u[k + 1]
            for _ in range(sub):
                uy, ux = np.gradient(v, dx)
                v = v + dt * (NU * _lap(v, dx) - 0.5 * (ux**2 + uy**2) + F[k + 1])
            u[k] = v
        new = np.empty_like(m)
        new[0] = m0
        for k in range(nt - 1):
            w = new[k]
            uy, ux = np.gradient(u[k], dx)
            for _ in range(sub):
                fy = np.gradient(w * uy, dx, axis=0)
                fx = np.gradient(w * ux, dx, axis=1)
                w = np.maximum(w + dt * (NU * _lap(w, dx) + fx + fy), 0.0)
                w = w / (w.sum() * dx * dx)
            new[k + 1] = w
        change = np.abs(new - m).max()
        m = 0.5 * m + 0.5 * new
        if not np.isfinite(change) or change < tol:
            return it, bool(np.isfinite(change)), sub
    return max_iter, False, sub


def main() -> None:
    report = Report("mfg_2d")
    for n in (50, 100):
        config, m0, f, g = game(n)
        ours_t, sol = best_time(functools.partial(solve_mfg, config, m0, f, terminal=g), repeat=2)
        lu_t, lu = best_time(functools.partial(solve_with, LUProblem, config, m0, f, g), repeat=1)
        target = 3.0 if n == 50 else 20.0
        report.add(
            f"{n}x{n}x50 vs newton + LU", ours_t, lu_t, newton_its=sol.iterations,
            gmres_its=sum(sol.linear_iterations), baseline_gmres=sum(lu.linear_iterations),
            residual=sol.residual, mass_error=sol.mass_error, target_s=target, within_target=ours_t <= target,
            max_diff_m=float(np.abs(sol.m - lu.m).max()),
        )  # fmt: skip
        if n == 50:
            ex_t, (its, ok, sub) = best_time(functools.partial(explicit_baseline, n), repeat=1)
            report.add(f"{n}x{n}x50 vs explicit", ours_t, ex_t, baseline_its=its, baseline_converged=ok,
                       substeps=sub)  # fmt: skip
    report.print()
    print(report.write_json())


if __name__ == "__main__":
    main()
