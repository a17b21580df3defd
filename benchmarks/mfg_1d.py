"""Benchmark of the 1D MFG solver against the seed's explicit scheme (numpy).

Cases: the LQ game of mfg.md at 200x100 and 800x400 and the seed example.
Ours: implicit upwind scheme, Newton-GMRES (after compilation). Baseline:
explicit Euler HJB with central differences, explicit FP renormalised every
step, fixed point with relaxation 0.5, stopping on max |m_new - m| < tol,
run on the same (nt, nx) grid and, since it is only stable under
dt <= dx^2 / (2 nu), also with enough explicit sub-steps per time step.

    python benchmarks/mfg_1d.py            # prints a table, writes results/mfg_1d.json
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.mfg import lq_reference, solve_mfg  # noqa: E402
from meanfolio.mfg.examples import lq_example, seed_example  # noqa: E402


def _lap(v: np.ndarray, dx: float) -> np.ndarray:
    # no-flux ends by reflection
    p = np.concatenate(([v[1]], v, [v[-2]]))
    return (p[2:] - 2 * v + p[:-2]) / dx**2


def explicit_baseline(x, nt, T, nu, m0, cost, g, tol=1e-6, max_iter=50, relaxation=0.5, substeps=1):
    """The seed's explicit fixed point, written plainly. Returns (m, u, iterations, converged)."""
    dx = x[1] - x[0]
    dt = T / (nt - 1) / substeps
    m0 = m0 / (m0.sum() * dx)
    m = np.tile(m0, (nt, 1))
    u = np.zeros_like(m)
    with np.errstate(all="ignore"):
        for it in range(1, max_iter + 1):
            F = cost(m)
            u[-1] = g
            for n in range(nt - 2, -1, -1):
                v = u[n + 1]
                for _ in range(substeps):
                    ux = np.gradient(v, dx)
                    v = v + dt * (nu * _lap(v, dx) - 0.5 * ux**2 + F[n + 1])
                u[n] = v
            new = np.empty_like(m)
            new[0] = m0
            for n in range(nt - 1):
                w = new[n]
                ux = np.gradient(u[n], dx)
                for _ in range(substeps):
                    w = w + dt * (nu * _lap(w, dx) + np.gradient(w * ux, dx))
                    w = np.maximum(w, 0.0)
                    w = w / (w.sum() * dx)
                new[n + 1] = w
            change = np.max(np.abs(new - m))
            m = (1 - relaxation) * m + relaxation * new
            if not np.isfinite(change):
                return m, u, it, False
            if change < tol:
                return m, u, it, True
    return m, u, max_iter, False


def moments(x, m_T):
    dx = x[1] - x[0]
    mean = (x * m_T).sum() * dx
    return mean, (x**2 * m_T).sum() * dx - mean**2


def lq_case(report: Report, nx: int, nt: int) -> None:
    lq = lq_reference()
    x = np.linspace(-2.5, 4.0, nx)
    ours_t, sol = best_time(lambda: solve_mfg(**lq_example(nx, nt, lq, tolerance=1e-6)))
    mean, var = moments(x, sol.m[-1])
    ref_mean, ref_var = lq.mean(1.0), float(lq.variance(1.0))

    def cost(m):
        mbar = (m * x).sum(axis=1, keepdims=True) * (x[1] - x[0])
        return 0.5 * lq.a * (x - mbar) ** 2 + 0.5 * lq.b * x**2

    dx, dt = x[1] - x[0], 1.0 / (nt - 1)
    cfl = max(1, math.ceil(dt / (0.9 * dx**2 / (2 * lq.nu))))
    for label, sub in (("same grid", 1), (f"x{cfl} substeps", cfl)):
        base_t, (bm, _, bits, bconv) = best_time(
            lambda s=sub: explicit_baseline(x, nt, 1.0, lq.nu, lq.m0(x), cost, lq.terminal(x), substeps=s),
            repeat=1,
            warmup=False,
        )
        bmean, bvar = moments(x, bm[-1])
        report.add(
            f"LQ {nx}x{nt}, base {label}",
            ours_t,
            base_t if bconv else None,  # no ratio against a run that diverged
            newton_its=sol.iterations,
            gmres_its=sum(sol.linear_iterations),
            us_per_node=1e6 * ours_t / (nx * nt),
            ours_mean_err=abs(mean - ref_mean),
            ours_var_err=abs(var - ref_var),
            base_its=bits,
            base_converged=bconv,
            base_mean_err=abs(bmean - ref_mean) if np.isfinite(bmean) else float("nan"),
            base_var_err=abs(bvar - ref_var) if np.isfinite(bvar) else float("nan"),
        )


def seed_case(report: Report) -> None:
    x = np.linspace(-5, 5, 200)
    game = seed_example()
    m0, f = game["m0"], game["f"]
    ours_t, sol = best_time(lambda: solve_mfg(**game))
    base_t, (bm, _, bits, bconv) = best_time(
        lambda: explicit_baseline(x, 100, 1.0, 0.1, m0, lambda m: f, np.zeros(200)), repeat=1, warmup=False
    )
    report.add(
        "seed 200x100 (f fixed)",
        ours_t,
        base_t,
        newton_its=sol.iterations,
        gmres_its=sum(sol.linear_iterations),
        us_per_node=1e6 * ours_t / (200 * 100),
        base_its=bits,
        base_converged=bconv,
        max_m_diff=float(np.max(np.abs(bm - sol.m))) if np.all(np.isfinite(bm)) else float("nan"),
    )


def main() -> None:
    warnings.simplefilter("ignore")
    report = Report("mfg_1d")
    lq_case(report, 200, 100)
    lq_case(report, 800, 400)
    seed_case(report)
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main()
