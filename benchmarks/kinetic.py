"""Benchmark of the kinetic Monte Carlo: agent-steps per second.

Ours: the compiled kinetic step (noisy, refusal kernel, counter-based
normals, block reductions) on all cores. Baseline: the same step written
as plain vectorised numpy (numpy's Generator for the normals), in the same
process. Preset long_term_varying (no brokers), sigma = 0.05.

    python benchmarks/kinetic.py            # prints a table, writes results/kinetic.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.kinetic import preset, simulate  # noqa: E402
from meanfolio.kinetic.functions import return_estimate  # noqa: E402


def numpy_kinetic(params, n_agents: int, steps: int, seed: int) -> float:
    """The same kinetic step in plain numpy; returns the final price."""
    rng = np.random.default_rng(seed)
    p = params
    x = np.exp(p.x0_logmean + p.x0_logstd * rng.standard_normal(n_agents))
    y = np.exp(p.y0_logmean + p.y0_logstd * rng.standard_normal(n_agents))
    S, R, sf, X, Y = p.S0, 0.0, p.s_f, x.mean(), y.mean()
    a = np.exp(-p.dt / p.chartist_memory)
    for _ in range(steps):
        g, _ = return_estimate(p, S, R, sf)
        ED = p.mu * g * (Y if g > 0 else X)
        S_new = S * (1 + p.kappa * ED * p.dt)
        ret = (S_new - S + p.dividend * p.dt) / S
        Z = y if g > 0 else x
        u = p.mu * g * Z
        k = np.sqrt(p.dt) * p.sigma * Z
        xi = rng.standard_normal(n_agents)
        xn = x + ret * x + p.dt * u + k * xi
        yn = y + p.dt * (p.rate * y - u) - k * xi
        bad = (xn < 0) | (yn < 0)
        x = np.where(bad, x, xn)
        y = np.where(bad, y, yn)
        X, Y = x.mean(), y.mean()
        R = a * R + (1 - a) * (S_new - S) / (S * p.dt)  # the chartists' memory-weighted realised return
        S = S_new
        # the OU fundamental costs O(1) per step; keep it constant here in both versions
    return S


def main() -> None:
    params = preset("long_term_varying", fundamental="constant")
    report = Report("kinetic")
    threads = numba.config.NUMBA_NUM_THREADS
    simulate(params, 1000, 10, seed=0)  # compile
    for n_agents, steps in ((10**5, 400), (10**6, 60), (10**7, 24)):
        # Per-step cost by differencing a long and a short run: initial draws and call overhead cancel.
        short = steps // 4

        def ours(n=n_agents, s=steps):  # threads: numba's current count (simulate would pick the free cores)
            return simulate(params, n, s, seed=1, chunk=s, threads=numba.get_num_threads())

        def ours_short(n=n_agents, s=short):
            return simulate(params, n, s, seed=1, chunk=s, threads=numba.get_num_threads())

        t_long, res = best_time(ours, repeat=3)
        t_short, _ = best_time(ours_short, repeat=3)
        ours_t = (t_long - t_short) / (steps - short)
        numba.set_num_threads(1)
        one_t = (best_time(ours, repeat=2)[0] - best_time(ours_short, repeat=2)[0]) / (steps - short)
        numba.set_num_threads(threads)
        b_long, base_S = best_time(lambda n=n_agents, s=steps: numpy_kinetic(params, n, s, 1), repeat=2, warmup=False)
        b_short, _ = best_time(lambda n=n_agents, s=short: numpy_kinetic(params, n, s, 1), repeat=2, warmup=False)
        base_t = (b_long - b_short) / (steps - short)
        report.add(
            f"N = {n_agents:.0e} (s per step)", ours_t, base_t,
            ours_Magent_steps_s=n_agents / ours_t / 1e6, ours_1thread_Magent_steps_s=n_agents / one_t / 1e6,
            numpy_Magent_steps_s=n_agents / base_t / 1e6, threads=threads,
            price_ours=float(res.series["S"][-1]), price_numpy=float(base_S),
        )  # fmt: skip
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main()
