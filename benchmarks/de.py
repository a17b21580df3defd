"""Benchmark of differential_evolution against scipy's, in the same process.

For Rastrigin, Rosenbrock and Ackley at D = 10 and 30, budget 10000 D
evaluations (best1bin, popsize 15, tol = 0, no polishing), five seeds:

- ours with the numba objective (compiled loop),
- scipy's default (scalar calls of the same numba objective, immediate updating),
- scipy vectorized=True with a numpy objective over the whole population.

Also: L-SHADE on CEC 2014 F1-F10 at D = 10 (budget 100 000), and the
framework overhead per evaluation with a trivial Python objective.

    python benchmarks/de.py            # prints tables, writes results/de.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import differential_evolution as scipy_de

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report  # noqa: E402
from meanfolio.optimize import differential_evolution  # noqa: E402
from meanfolio.optimize.benchmarks import CLASSIC, cec2014, cec2014_data_dir  # noqa: E402

SEEDS = range(5)


def vectorized(name):
    """numpy versions over x of shape (D, S), for scipy's vectorized mode."""
    if name == "rastrigin":
        return lambda x: 10 * x.shape[0] + np.sum(x * x - 10 * np.cos(2 * np.pi * x), axis=0)
    if name == "rosenbrock":
        return lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2, axis=0)
    return lambda x: (
        -20 * np.exp(-0.2 * np.sqrt(np.mean(x * x, axis=0)))
        - np.exp(np.mean(np.cos(2 * np.pi * x), axis=0))
        + 20
        + np.e
    )


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    res = fn(*args, **kwargs)
    return time.perf_counter() - start, res


def classic_cases(report: Report) -> None:
    for name in ("rastrigin", "rosenbrock", "ackley"):
        f, (lo, hi), _ = CLASSIC[name]
        fv = vectorized(name)
        for D in (10, 30):
            b = [(lo, hi)] * D
            maxiter = 10_000 * D // (15 * D) - 1
            common = dict(maxiter=maxiter, popsize=15, tol=0, polish=False)
            differential_evolution(f, b, seed=0, **{**common, "maxiter": 2})  # compile
            rows = {"ours": [], "scipy": [], "scipy_vec": []}
            for seed in SEEDS:
                rows["ours"].append(timed(differential_evolution, f, b, seed=seed, **common))
                rows["scipy"].append(timed(scipy_de, f, b, seed=seed, **common))
                rows["scipy_vec"].append(
                    timed(scipy_de, fv, b, seed=seed, vectorized=True, updating="deferred", **common)
                )
            t = {k: float(np.median([r[0] for r in v])) for k, v in rows.items()}
            e = {k: float(np.median([r[1].fun for r in v])) for k, v in rows.items()}
            report.add(
                f"{name} D={D}", t["ours"], t["scipy"], ratio_vs_vectorized=t["scipy_vec"] / t["ours"],
                scipy_vec_s=t["scipy_vec"], median_err_ours=e["ours"], median_err_scipy=e["scipy"],
                median_err_scipy_vec=e["scipy_vec"], nfev=int(rows["ours"][0][1].nfev),
            )  # fmt: skip


def lshade_cases(report: Report) -> None:
    if cec2014_data_dir() is None:
        print("CEC 2014 data not installed (pip install opfunu): L-SHADE rows skipped")
        return
    for fid in range(1, 11):
        f = cec2014(fid, 10)
        b = [(-100, 100)] * 10
        differential_evolution(f, b, strategy="lshade", seed=0, maxfev=2000, polish=False)  # compile
        runs = [
            timed(differential_evolution, f, b, strategy="lshade", seed=s, tol=0, maxiter=10**6, polish=False)
            for s in SEEDS
        ]
        errs = [r[1].fun - f.f_star for r in runs]
        report.add(
            f"L-SHADE CEC2014 F{fid} D=10", float(np.median([r[0] for r in runs])), None,
            median_err_ours=float(np.median(errs)), worst_err_ours=float(np.max(errs)), nfev=int(runs[0][1].nfev),
        )  # fmt: skip


def overhead_case(report: Report) -> None:
    def trivial(x):
        return float(x[0] * x[0])

    b = [(-1, 1)] * 10
    common = dict(maxiter=200, tol=0, polish=False, seed=1)
    t_ours, r_ours = timed(differential_evolution, trivial, b, **common)
    t_scipy, r_scipy = timed(scipy_de, trivial, b, **common)
    z = np.zeros(10)
    t_call, _ = timed(lambda: [trivial(z) for _ in range(r_ours.nfev)])
    report.add(
        "overhead per evaluation, Python objective (us)", 1e6 * (t_ours - t_call) / r_ours.nfev,
        1e6 * (t_scipy - t_call) / r_scipy.nfev, nfev=int(r_ours.nfev),
    )  # fmt: skip


def main() -> None:
    report = Report("de")
    overhead_case(report)
    classic_cases(report)
    lshade_cases(report)
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main()
