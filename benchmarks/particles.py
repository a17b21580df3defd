"""Particle-steps per second at N = 10^6, and W2 between the particle and grid MFG laws vs N.

Model: dX = [-gain (X - target) + lam mean(alpha) - kappa (X - mean X)] dt
+ (sigma + eta Var X) dW (the finance specification). Ours: the compiled
parallel kernel (Euler). Baseline: the same step in vectorised numpy
(numpy's Generator for the normals), in the same process.

Second part: the particle MFG solver on an LQ game (400 x 161 grid), W2 at T
between N particles and the grid FP law, N = 250 ... 64000, mean of 3 seeds;
the log-log slope should be -1/2 until the grid's own error (a floor near
0.008 here) is reached. Writes results/particles.json and particles_w2.png.

    python benchmarks/particles.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import RESULTS, Report, best_time  # noqa: E402
from meanfolio.mfg import MeanTracking, MFGConfig, RunningCost, solve_mfg  # noqa: E402
from meanfolio.particles import McKeanVlasov, simulate_particles, solve_mfg_particles  # noqa: E402
from meanfolio.plotting import new_figure, save_figure  # noqa: E402
from meanfolio.transport import wasserstein_1d  # noqa: E402

N, STEPS = 1_000_000, 100
MODEL = McKeanVlasov(sigma=0.3, eta=0.5, lam=0.4, kappa=0.5, gain=1.0, target=0.5)


def numpy_baseline(x0, steps, dt, seed=0):
    rng = np.random.default_rng(seed)
    x = x0.copy()
    m = MODEL
    for _ in range(steps):
        a = -m.gain * (x - m.target)
        mean, var = x.mean(), x.var()
        vol = m.sigma + m.eta * var
        x = x + (a + m.lam * a.mean() - m.kappa * (x - mean)) * dt + vol * np.sqrt(dt) * rng.standard_normal(x.size)
    return x


def propagation_of_chaos(report):
    nx, nt = 400, 161
    config = MFGConfig(nx=nx, nt=nt, x_min=-3, x_max=4, viscosity=0.2, tolerance=1e-9, max_iterations=30,
                       relaxation=0.7)  # fmt: skip
    x = np.linspace(-3, 4, nx)
    m0, f, g = norm.pdf(x, 1.0, 0.5), MeanTracking(1.0) + RunningCost(lambda t, x: 0.25 * x**2), 0.4 * x**2
    grid = solve_mfg(config, m0, f, terminal=g)
    sizes = [250, 1000, 4000, 16000, 64000]
    w2 = []
    for n in sizes:
        d = [wasserstein_1d(solve_mfg_particles(config, m0, f, terminal=g, n_particles=n, seed=s).particles,
                            grid.x, None, grid.m[-1], p=2) for s in range(3)]  # fmt: skip
        w2.append(float(np.mean(d)))
    slope = float(np.polyfit(np.log(sizes[:3]), np.log(w2[:3]), 1)[0])
    report.add("particle MFG vs grid FP: W2 at T", None, None, sizes=sizes, w2=w2, slope_first_three=slope)
    fig, (ax,) = new_figure(1, width=5.5)
    ax.loglog(sizes, w2, "o-", label="W2(particles, grid law)")
    ax.loglog(sizes, w2[0] * np.sqrt(sizes[0] / np.array(sizes)), "--", label="N^(-1/2)")
    ax.set_xlabel("particles N")
    ax.set_ylabel("W2 at T")
    ax.set_title("propagation of chaos (LQ game, 400 x 161 grid)")
    ax.legend()
    save_figure(fig, RESULTS / "particles_w2.png")


def main() -> None:
    report = Report("particles")
    x0 = np.random.default_rng(1).normal(1.0, 0.4, N)
    ours_t, _ = best_time(lambda: simulate_particles(MODEL, x0, 1.0, STEPS, seed=2), repeat=3)
    base_t, _ = best_time(lambda: numpy_baseline(x0, STEPS, 1.0 / STEPS), repeat=1)
    report.add(f"N = {N:.0e}, {STEPS} Euler steps", ours_t, base_t,
               particle_steps_per_s=N * STEPS / ours_t, baseline_particle_steps_per_s=N * STEPS / base_t)  # fmt: skip
    propagation_of_chaos(report)
    report.print()
    print(report.write_json())


if __name__ == "__main__":
    main()
