"""The allocation game: closed form along principal portfolios against the generic scipy route.

Ours: ``AllocationGame.solve`` (one eigendecomposition, then closed forms per
principal portfolio; the gain matrices P(t) materialised on request).
Baseline (same process): the matrix Riccati equation integrated by
``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10) and, for d = 20, the
forward-backward system for (xbar, b) by ``scipy.integrate.solve_bvp``; for
d = 500 the baseline is the Riccati integration alone (solve_bvp on 1000
unknowns per node is out of reach). The PDE route solves 20 principal
portfolios with the HJB-Fokker-Planck Newton solver at 200 x 100 and reports
its error against the closed form (no baseline: a 20-dimensional PDE has none).

Targets (issue 14): solve d = 20, nt = 1000 < 50 ms; d = 500 < 2 s; PDE route 20 x (200 x 100) < 1 s.

    python benchmarks/games.py      # writes results/games.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_bvp, solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.games import AllocationGame, solve_allocation_pde  # noqa: E402


def make_game(d: int, seed: int = 0) -> AllocationGame:
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(d, 3)) * 0.15
    cov = factors @ factors.T + np.diag(rng.uniform(0.02, 0.08, d))
    mu = rng.uniform(0.02, 0.12, d)
    return AllocationGame(mu, cov, risk_aversion=3.0, crowding=0.1, trading_cost=0.2, dispersion=0.05, horizon=1.0)


def scipy_route(game: AllocationGame, x0: np.ndarray, nt: int, with_bvp: bool):
    d, T, kappa = game.n_assets, game.horizon, game.trading_cost
    rhs = game.risk_aversion * game.cov + game.dispersion * np.eye(d)

    def backward(s, y):
        P = y.reshape(d, d)
        return -(P @ P / kappa - rhs).ravel()

    ric = solve_ivp(backward, (0, T), np.zeros(d * d), method="DOP853", rtol=1e-10, atol=1e-12, dense_output=True)
    t = np.linspace(0, T, nt + 1)
    if not with_bvp:
        return t, ric.sol(T - t)
    P = lambda s: ric.sol(T - s).reshape(d, d)  # noqa: E731

    def fun(ts, y):
        out = np.empty_like(y)
        for j, tj in enumerate(ts):
            Pj = P(tj)
            out[:d, j] = (y[d:, j] - Pj @ y[:d, j]) / kappa
            out[d:, j] = Pj @ y[d:, j] / kappa - game.mu + (game.crowding - game.dispersion) * y[:d, j]
        return out

    mesh = np.linspace(0, T, 40)
    bvp = solve_bvp(fun, lambda a, b: np.r_[a[:d] - x0, b[d:]], mesh, np.zeros((2 * d, mesh.size)), tol=1e-8)
    return t, bvp.sol(t)


def main() -> None:
    report = Report("games")
    nt = 1000
    for d in (20, 500):
        game = make_game(d)
        x0 = np.zeros(d)
        t_ours, sol = best_time(lambda g=game, x=x0: g.solve(x, nt), repeat=3)
        t_gain, _ = best_time(lambda g=game, x=x0: g.solve(x, nt).gain, repeat=1) if d <= 100 else (None, None)
        start = time.perf_counter()
        _, ref = scipy_route(game, x0, nt, with_bvp=d <= 100)
        t_base = time.perf_counter() - start
        error = float(np.abs(ref[:d].T - sol.mean).max()) if d <= 100 else None
        case = f"solve d={d}, nt={nt}" + ("" if d <= 100 else " (baseline: Riccati only)")
        report.add(
            case, t_ours, t_base, target_s=0.05 if d == 20 else 2.0, with_gain_matrices_s=t_gain,
            max_mean_difference=error,
        )  # fmt: skip
    game = make_game(20)
    x0 = np.full(20, 0.1)
    solve_allocation_pde(game, x0, components=[0], nx=200, nt=100)  # compile once
    t_pde, pde = best_time(lambda: solve_allocation_pde(game, x0, nx=200, nt=100, spread=0.05), repeat=1)
    report.add(
        "PDE route, 20 principal portfolios, 200x100", t_pde, None, target_s=1.0, converged=pde.converged,
        max_mean_error=pde.mean_error, newton_iterations=sum(s.iterations for s in pde.solutions),
    )  # fmt: skip
    report.print()
    print(f"wrote {report.write_json()}")


if __name__ == "__main__":
    main()
