"""Benchmark: the 2D MFG solver on an idle and on a loaded machine, by thread setting.

Game of ``mfg_2d.py`` (50x50 and 100x100, 50 time steps), and the 1D LQ game
of ``mfg.md`` on a 2000 x 1000 grid (one row, idle vs loaded, goal 0.35 s
idle; the 1D solver runs its level-by-level kernels on the free cores and its
sweeps in time on one). Thread settings of the 2D solver:

- "default": the solver picks the numba threads of each linear solve from
  the cores that are free (``meanfolio._parallel.free_threads``);
- "all cores": every core (as if NUMBA_NUM_THREADS were set, which the
  solver honours): what the default was before the count came from the load;
- "1 thread".

Each setting is timed first on the machine as it is ("idle": on a shared
machine other processes may still run, so the load average is recorded),
then while one CPU-bound busy loop runs in a subprocess started here (time
bounded, killed at the end). Rows "idle vs loaded": ours = idle time,
baseline = loaded time, so ratio = loaded / idle (goal <= 2). Rows
"1 thread / default": ratio = one-thread time / default time in the same
conditions (>= 1: the default is no worse than one thread). Times are the
best of a few runs (7 in 1D, 4 in 2D), the thread modes interleaved run by
run so that a drift of the machine's speed favours none; CPU seconds (all
threads) per run are also given.

    python benchmarks/mfg_load.py       # table + results/mfg_load.json
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import time
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report  # noqa: E402
from meanfolio import _parallel  # noqa: E402
from meanfolio.mfg import solve_mfg
from meanfolio.mfg.examples import lq_example  # noqa: E402
from meanfolio.mfg.problems import _base as problem_base
from mfg_2d import game  # noqa: E402

BUSY_SECONDS = 300  # the busy loop ends by itself after this, whatever happens here
CORES = numba.config.NUMBA_NUM_THREADS
MODES = {"default": None, "all cores": CORES, "1 thread": 1}


@contextlib.contextmanager
def busy_loop():
    """One CPU-bound subprocess for the duration of the block (time-bounded, killed on exit)."""
    code = f"import time\nend = time.time() + {BUSY_SECONDS}\nwhile time.time() < end:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # let it reach the run queue
        yield proc
    finally:
        proc.kill()
        proc.wait()


CHOSEN: list[int] = []
FORCED: list[int | None] = [None]


def _choice(work=None):
    """The solver's thread choice (forced by the mode, else ``free_threads``), recorded. Not through
    NUMBA_NUM_THREADS: numba reads it again when it compiles and refuses a changed value."""
    CHOSEN.append(_parallel.free_threads(work) if FORCED[0] is None else FORCED[0])
    return CHOSEN[-1]


def timed(run, modes: tuple[str, ...], repeat: int) -> dict[str, dict]:
    """Best of ``repeat`` runs per thread mode (see MODES), the modes interleaved run by run (a
    machine whose speed drifts, as a shared one does, then favours none of them), with the threads
    chosen, the CPU time per run and the 1-minute load average."""
    chosen = {mode: [] for mode in modes}
    wall = {mode: float("inf") for mode in modes}
    cpu = dict.fromkeys(modes, 0.0)
    sols = {}
    for _ in range(repeat):
        for mode in modes:
            CHOSEN.clear()
            FORCED[0] = MODES[mode]
            start_cpu, start = time.process_time(), time.perf_counter()
            sols[mode] = run()
            wall[mode] = min(wall[mode], time.perf_counter() - start)
            cpu[mode] += (time.process_time() - start_cpu) / repeat
            chosen[mode] += CHOSEN
    FORCED[0] = None
    load = os.getloadavg()[0]
    out = {}
    for mode in modes:
        used = chosen[mode]
        threads = f"{min(used)}-{max(used)}" if len(set(used)) > 1 else str(used[0])
        out[mode] = {"wall": wall[mode], "cpu": cpu[mode], "threads": threads, "load": load, "sol": sols[mode]}
    return out


def main() -> None:
    report = Report("mfg_load")
    problem_base.free_threads = _choice  # (the thread choice of every problem class)
    for n in (50, 100):  # compile and warm up
        config, m0, f, g = game(n)
        solve_mfg(config, m0, f, terminal=g)
    lq_1d = functools.partial(solve_mfg, **lq_example(2000, 1000, tolerance=1e-8))
    lq_1d()
    results = {}
    for state in ("idle", "loaded"):
        with busy_loop() if state == "loaded" else contextlib.nullcontext():
            for mode, r in timed(lq_1d, ("default", "1 thread"), repeat=7).items():
                results[state, "1d", mode] = r
            for n in (50, 100):
                config, m0, f, g = game(n)
                run = functools.partial(solve_mfg, config, m0, f, terminal=g)
                for mode, r in timed(run, tuple(MODES), repeat=4).items():
                    results[state, n, mode] = r
    idle, loaded = results["idle", "1d", "default"], results["loaded", "1d", "default"]
    report.add(
        "1D LQ 2000x1000: loaded / idle", idle["wall"], loaded["wall"], idle_cpu_s=idle["cpu"],
        loaded_cpu_s=loaded["cpu"], threads_idle=idle["threads"], threads_loaded=loaded["threads"],
        load_idle=idle["load"], load_loaded=loaded["load"], goal_idle_s=0.35,
        goal_loaded_over_idle=2.0, newton_its=idle["sol"].iterations, gmres_its=sum(idle["sol"].linear_iterations),
    )  # fmt: skip
    for state in ("idle", "loaded"):
        default, one = results[state, "1d", "default"], results[state, "1d", "1 thread"]
        report.add(f"1D LQ 2000x1000 {state}: 1 thread / default", default["wall"], one["wall"],
                   threads=default["threads"], load=default["load"],
                   max_diff_m=float(abs(default["sol"].m - one["sol"].m).max()))  # fmt: skip
    for n in (50, 100):
        ref = results["idle", n, "1 thread"]["sol"]
        for mode in MODES:
            idle, loaded = results["idle", n, mode], results["loaded", n, mode]
            same = max(float(abs(r["sol"].m - ref.m).max()) for r in (idle, loaded))
            report.add(
                f"{n}^2x50 {mode}: loaded / idle", idle["wall"], loaded["wall"],
                idle_cpu_s=idle["cpu"], loaded_cpu_s=loaded["cpu"], threads_idle=idle["threads"],
                threads_loaded=loaded["threads"], load_idle=idle["load"], load_loaded=loaded["load"],
                goal_idle_s=1.5 if n == 100 else None, goal_loaded_over_idle=2.0,
                max_diff_m_vs_1_thread=same, newton_its=idle["sol"].iterations,
            )  # fmt: skip
        for state in ("idle", "loaded"):
            default, one = results[state, n, "default"], results[state, n, "1 thread"]
            report.add(f"{n}^2x50 {state}: 1 thread / default", default["wall"], one["wall"],
                       threads=default["threads"], load=default["load"])  # fmt: skip
    report.print()
    print(report.write_json())


if __name__ == "__main__":
    main()
