"""Parallel helpers shared by capabilities: deterministic block sums and the thread count.

Items are visited in fixed blocks of ``BLOCK`` under ``prange``; each block
writes its partial sums to its own row of a ``partial`` array and the rows
are added in block order by :func:`block_total`. The result is bitwise the
same on 1 or many threads (a plain prange reduction is not: its order of
additions depends on how the work is split).

:func:`free_threads` picks how many numba threads a solve should use from
the cores that are actually free: on a loaded machine a parallel region
waits for its slowest thread, and a thread that shares a core with another
busy process runs a fraction of the time, so many small parallel regions
became ten times slower than one thread. :func:`numba_threads` sets the
count for a block of code and restores it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import numba
from numba import njit

__all__ = [
    "BLOCK",
    "block_count",
    "block_total",
    "busy_cores",
    "free_threads",
    "numba_threads",
    "own_running_threads",
    "usable_cores",
]

BLOCK = 2048

#: Below this many units of work (e.g. steps x nodes) a solve runs on one thread:
#: the parallel regions would be too short to pay for waking the other threads.
MIN_PARALLEL_WORK = 200_000


@njit(cache=True)
def block_count(n):
    """Number of blocks covering n items."""
    return (n + BLOCK - 1) // BLOCK


@njit(cache=True)
def block_total(partial, nblocks, col):
    """Sum of ``partial[:nblocks, col]`` in block order."""
    total = 0.0
    for b in range(nblocks):
        total += partial[b, col]
    return total


def _env_threads() -> int | None:
    """NUMBA_NUM_THREADS, else OMP_NUM_THREADS (first entry of a list), when set to a positive integer."""
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS"):
        try:
            value = int(os.environ.get(name, "").split(",")[0])
        except ValueError:
            continue
        if value >= 1:
            return value
    return None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, and a cgroup CPU quota if one is set)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError):
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    return max(1, cores)


def busy_cores(samples: int = 5, pause: float = 2e-4) -> float:
    """Cores kept busy by other processes right now.

    Linux: the fewest runnable threads in ``/proc/loadavg`` over a few samples
    ``pause`` seconds apart, less this process's own runnable threads (the
    caller, and numba's OpenMP workers, which spin for a few milliseconds
    after each parallel region: counted as busy, they made every other
    Newton step of a 1D solve choose one thread); instant, unlike the load
    averages, and blind to short blips. Elsewhere: the 1-minute load average.
    """
    try:
        fewest = None
        for k in range(samples):
            if k:
                time.sleep(pause)
            with open("/proc/loadavg") as fh:
                running = int(fh.read().split()[3].split("/")[0])
            others = running - 1 if running <= 1 else running - max(1, own_running_threads())
            fewest = others if fewest is None else min(fewest, others)
            if fewest <= 0:  # (the fewest cannot fall further: no need to wait for more samples)
                break
        return float(max(0, fewest))
    except (OSError, ValueError, IndexError):
        try:
            return float(os.getloadavg()[0])
        except (AttributeError, OSError):
            return 0.0


def own_running_threads() -> int:
    """This process's threads in the running state (Linux ``/proc/self/task``; 1 elsewhere)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    count = 0
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                # the state follows the command name, which is in parentheses and may hold spaces
                count += fh.read().rsplit(")", 1)[1].split()[0] == "R"
        except (OSError, IndexError):
            continue  # (a thread that ended meanwhile)
    return count


def free_threads(work: int | None = None) -> int:
    """Numba threads for a solve: NUMBA_NUM_THREADS / OMP_NUM_THREADS when set, else the free cores.

    (Set the variables before Python starts: numba reads NUMBA_NUM_THREADS
    again whenever it compiles and refuses a value other than its pool's.)
    The count never exceeds numba's pool nor the caller's current
    ``numba.get_num_threads()``; without the variables it is 1 for less than
    :data:`MIN_PARALLEL_WORK` units of ``work`` or when the other processes
    leave less than one core free.
    """
    limit = min(numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())
    env = _env_threads()
    if env is not None:
        return max(1, min(env, limit))
    if limit <= 1 or (work is not None and work < MIN_PARALLEL_WORK):
        return 1
    cores = min(usable_cores(), limit)
    return max(1, cores - int(busy_cores()))


@contextlib.contextmanager
def numba_threads(count: int) -> Iterator[int]:
    """Run the block with ``count`` numba threads (capped by the pool) and restore the previous count."""
    previous = numba.get_num_threads()
    count = max(1, min(int(count), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(count)
    try:
        yield count
    finally:
        numba.set_num_threads(previous)
