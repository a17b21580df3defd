"""Benchmark of the stationary (ergodic) MFG solver in 2D: Schur complement vs the bordered LU.

Games on [-4, 4]^2 with nu = 0.3, tolerance 1e-10 on the scaled residual:

- "log": f = |x|^2 / 2 + 0.5 log m (the exact Gaussian game of the tests);
- "log+mean": f = |x - (0.5, 0)|^2 / 2 + mean tracking 0.5 + 0.5 log m
  (two moments: the border has 7 columns);
- "crowd": f = |x - (0.5, 0)|^2 / 2 + mean tracking 0.5 + congestion m.

Ours: each Newton step's Jacobian J = S + P Q^T, S sparse (border replaced
by single entries) factored by SuperLU and reused across steps as GMRES's
preconditioner, the border through a small Schur complement. Baseline in
the same process: the previous linear algebra, the whole bordered J in one
sparse LU at every Newton (and best-response) step. ``nnz`` columns: the
factors of S and of the full J at the solution, with the best of three
factorisation times.

    python benchmarks/mfg_ergodic.py       # table + results/mfg_ergodic.json
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.mfg import (  # noqa: E402
    Congestion,
    LogDensity,
    MeanTracking,
    MFGConfig,
    RunningCost,
    ergodic,
    solve_ergodic_mfg,
)


def _shifted():
    return RunningCost(lambda t, x, y: 0.5 * ((x - 0.5) ** 2 + y**2)) + MeanTracking(0.5)


GAMES = {
    "log": lambda: RunningCost(lambda t, x, y: 0.5 * (x**2 + y**2)) + LogDensity(0.5),
    "log+mean": lambda: _shifted() + LogDensity(0.5),
    "crowd": lambda: _shifted() + Congestion(1.0),
}


class BorderedLU:
    """The previous linear algebra: the whole bordered Jacobian in one sparse LU, every step."""

    factorisations = 0

    def solve(self, S, P, Q, rhs, rtol):
        self.factorisations += 1
        return spla.splu(sp.csc_matrix(S + sp.csr_matrix(P) @ sp.csr_matrix(Q.T))).solve(rhs)


CREATED: list = []


class Counting(ergodic._Lagged):
    """Ours, keeping the solver objects to count their factorisations."""

    def __init__(self):
        super().__init__()
        CREATED.append(self)


def config(n: int) -> MFGConfig:
    return MFGConfig(nx=n, dim=2, x_min=-4, x_max=4, viscosity=0.3, tolerance=1e-10, max_iterations=60)


def solve_with(linear, n: int, game: str):
    saved = ergodic._Lagged
    ergodic._Lagged = linear
    try:
        return solve_ergodic_mfg(config(n), GAMES[game]())
    finally:
        ergodic._Lagged = saved


def factor_sizes(sol, n: int, game: str) -> tuple[int, int, float, float]:
    """nnz and seconds of the factors of S (Schur) and of the full J, at the solution."""
    system = ergodic._Stationary(config(n), GAMES[game](), None)
    u, m = sol.u.ravel(), sol.m.ravel()
    _, terms, G = system.residual(u, m, sol.lam, system.coupling)
    S, P, Q = system.linearisation(u, m, terms, G, system.coupling)
    J = sp.csc_matrix(S + sp.csr_matrix(P) @ sp.csr_matrix(Q.T))
    schur_s, schur = best_time(lambda: ergodic._Schur(S, P, Q), repeat=3, warmup=False)
    full_s, full = best_time(lambda: spla.splu(J), repeat=3, warmup=False)
    return schur.nnz, int(full.L.nnz + full.U.nnz), schur_s, full_s


def main() -> None:
    report = Report("mfg_ergodic")
    for game in GAMES:
        for n in (40, 80):
            CREATED.clear()
            cpu = time.process_time()
            ours_t, ours = best_time(functools.partial(solve_with, Counting, n, game), repeat=3)
            ours_cpu = (time.process_time() - cpu) / 4
            counts = CREATED[-2:]  # the last run: Newton's, then the best response's
            cpu = time.process_time()
            base_t, base = best_time(functools.partial(solve_with, BorderedLU, n, game), repeat=1, warmup=False)
            base_cpu = time.process_time() - cpu
            nnz_s, nnz_j, schur_s, full_s = factor_sizes(ours, n, game)
            report.add(
                f"{game} {n}x{n} vs bordered LU", ours_t, base_t, ours_cpu_s=ours_cpu, baseline_cpu_s=base_cpu,
                newton_its=ours.iterations, baseline_its=base.iterations,
                factorisations=sum(c.factorisations for c in counts), nnz_schur=nnz_s, nnz_bordered=nnz_j,
                factor_schur_s=schur_s, factor_bordered_s=full_s, residual=ours.residual,
                goal_s=0.5 if n == 80 else None, max_diff_m=float(np.abs(ours.m - base.m).max()),
                max_diff_u=float(np.abs(ours.u - base.u).max()), diff_lambda=abs(ours.lam - base.lam),
            )  # fmt: skip
    report.print()
    print(report.write_json())


if __name__ == "__main__":
    main()
