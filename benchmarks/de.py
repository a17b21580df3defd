"""Benchmark of differential_evolution against scipy's, in the same process.

For Rastrigin, Rosenbrock and Ackley at D = 10 and 30, budget 10000 D
evaluations (best1bin, popsize 15, tol = 0, no polishing), five seeds:

- ours with the numba objective (compiled loop),
- scipy's default (scalar calls of the same numba objective, immediate updating),
- scipy vectorized=True with a numpy objective over the whole population.

Also: L-SHADE on CEC 2014 F1-F10 at D = 10 (budget 100 000), and the
framework overhead per evaluation with a trivial Python objective.

    python benchmarks/de.py               # prints tables, writes results/de.json
    python benchmarks/de.py --contention  # alone vs busy cores, writes results/de_contention.json
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


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def _slow_rastrigin():
    """Rastrigin evaluated 100 times per call (~20-40 us): a generation of 150 costs a few ms, enough for
    the compiled loop to use a parallel region when cores are free."""
    from numba import njit

    from meanfolio.optimize.benchmarks import rastrigin

    @njit(cache=True)
    def slow_rastrigin(x):
        s = 0.0
        for _ in range(100):
            s += rastrigin(x)
        return s / 100

    return slow_rastrigin


def contention_case() -> Path:
    """Deferred updating (compiled objective) alone and while other processes keep every core busy.

    The generation loop runs one parallel region per generation, and only when a generation's
    evaluations take more than ``de.PARALLEL_GENERATION_SECONDS`` of CPU; the thread count comes from
    the free cores (:func:`meanfolio._parallel.free_threads`). Rows "now" use that rule; rows "all
    threads" force every numba thread and a parallel region in every generation (the former
    behaviour, which was 15-90x slower under load). Ratio = time under load / time alone, both
    measured in this process (1 is ideal; ~cores / (cores - 1 + 1) when a spinner shares our core).
    Writes results/de_contention.json.
    """
    import json
    import multiprocessing as mp
    import os

    import numba

    import meanfolio.optimize.de as de_module
    from meanfolio.optimize.benchmarks import rastrigin, sphere

    b = [(-5.0, 5.0)] * 10
    slow = _slow_rastrigin()
    cases = [(sphere, 300), (rastrigin, 300), (slow, 60)]
    for f, _ in cases:
        differential_evolution(f, b, seed=0, maxiter=2, polish=False, updating="deferred")  # compile

    def best(f, maxiter):
        kw = dict(maxiter=maxiter, tol=0, polish=False, updating="deferred")
        return min(timed(differential_evolution, f, b, seed=s, **kw)[0] for s in range(3))

    def loaded(fn):
        stop = mp.Event()
        spinners = [mp.Process(target=_spin, args=(stop,)) for _ in range(os.cpu_count() or 1)]
        for p in spinners:
            p.start()
        try:
            time.sleep(0.2)
            return fn()
        finally:
            stop.set()
            for p in spinners:
                p.join()

    rows = []
    original = (de_module.free_threads, de_module.PARALLEL_GENERATION_SECONDS)
    for mode in ("now", "all threads"):
        if mode == "all threads":
            de_module.free_threads = lambda *a: numba.config.NUMBA_NUM_THREADS
            de_module.PARALLEL_GENERATION_SECONDS = 0.0
        try:
            for f, maxiter in cases:
                alone = best(f, maxiter)
                busy = loaded(lambda f=f, maxiter=maxiter: best(f, maxiter))
                rows.append({"case": f"{f.__name__} D=10 deferred, {maxiter} generations", "mode": mode,
                             "alone_s": alone, "loaded_s": busy, "ratio": busy / alone})  # fmt: skip
                print(rows[-1], flush=True)
        finally:
            de_module.free_threads, de_module.PARALLEL_GENERATION_SECONDS = original
    meta = {"cores": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "load": "one busy-loop process per core"}  # fmt: skip
    path = Path(__file__).resolve().parent / "results" / "de_contention.json"
    path.write_text(json.dumps({"name": "de_contention", "meta": meta, "rows": rows}, indent=2))
    return path


def main() -> None:
    if "--contention" in sys.argv:
        print("written", contention_case())
        return
    report = Report("de")
    overhead_case(report)
    classic_cases(report)
    lshade_cases(report)
    report.print()
    print("written", report.write_json())


if __name__ == "__main__":
    main()
