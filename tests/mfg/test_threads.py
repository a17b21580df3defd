"""2D solves on 1 and 2 numba threads: the same numbers; the thread-count helper."""

import numba
import numpy as np
import pytest

from meanfolio import _parallel
from meanfolio.mfg import Congestion, Grid2D, MarketImpact, MeanTracking, MFGConfig, RunningCost, solve_mfg
from meanfolio.mfg.problems import _base as problem_base
from meanfolio.mfg.schemes import _kernels2d as k2

two_threads = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")


def _game(n=24, nt=11, boundary="neumann", impact=False):
    config = MFGConfig(nx=n, nt=nt, dim=2, x_min=-2, x_max=2, viscosity=0.2, boundary=boundary, tolerance=1e-10)
    X, Y = Grid2D.from_config(config).mesh()
    f = Congestion(1.0) + MeanTracking(0.5) + (MarketImpact(0.5) if impact else RunningCost(0.0))
    return config, np.exp(-2 * ((X - 0.3) ** 2 + Y**2)), f, 0.3 * (X**2 + Y**2)


def _solve(threads, monkeypatch, **kw):
    # the solver's choice of threads, forced (not through NUMBA_NUM_THREADS: numba reads it again
    # whenever it compiles and refuses a value other than its running pool's)
    monkeypatch.setattr(problem_base, "free_threads", lambda work=None: threads)
    config, m0, f, g = _game(**kw)
    return solve_mfg(config, m0, f, terminal=g)


@two_threads
@pytest.mark.parametrize("boundary, impact", [("neumann", False), ("periodic", True)])
def test_one_and_two_threads_give_the_same_solution(monkeypatch, boundary, impact):
    one = _solve(1, monkeypatch, boundary=boundary, impact=impact)
    two = _solve(2, monkeypatch, boundary=boundary, impact=impact)
    assert one.converged and two.converged
    # no sum depends on how the work is split: bitwise equal, not only to round-off
    np.testing.assert_array_equal(one.u, two.u)
    np.testing.assert_array_equal(one.m, two.m)
    assert one.residual_history == two.residual_history
    assert one.linear_iterations == two.linear_iterations


@two_threads
def test_kernels_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(5)
    N, K, n = 7, 90, 5 * _parallel.BLOCK + 17
    hdata, bdata = rng.standard_normal((N, K, 5)), rng.standard_normal((N, K, 5))
    cols = np.ascontiguousarray(rng.integers(0, K, (K, 5)))
    low = [rng.standard_normal(s) for s in ((N, K), (N, 2, K), (N, 2, K), (N, 1, K), (N, 1, K), (1, K), (1, 2, K))]
    v = rng.standard_normal(2 * N * K)
    V, w = rng.standard_normal((4, n)), rng.standard_normal(n)
    results = []
    for threads in (1, 2):
        with _parallel.numba_threads(threads):
            out = np.empty(2 * N * K)
            k2.newton_matvec(hdata, bdata, cols, *low, low[-1].copy(), v, out)
            partial = np.empty((_parallel.block_count(n), 5))
            k2._block_dots(V, 3, w, partial)
            x = w.copy()
            h, rest = k2._orthogonalize(V, 3, x, partial)
            results.append((out, k2.norm(w), partial.copy(), x, h, rest))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_free_threads_honours_the_environment(monkeypatch):
    # (nothing compiles in this test: numba would read a changed NUMBA_NUM_THREADS and refuse it)
    limit = min(numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _parallel.free_threads(10**9) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "64,2")
    assert _parallel.free_threads(10**9) == limit
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")  # NUMBA_NUM_THREADS first
    assert _parallel.free_threads(10**9) == 1
    monkeypatch.setenv("NUMBA_NUM_THREADS", "bad")
    monkeypatch.delenv("OMP_NUM_THREADS")
    # no usable variable: small work runs on one thread, large work on the free cores
    assert _parallel.free_threads(10) == 1
    assert 1 <= _parallel.free_threads(10**9) <= limit


def test_free_threads_counts_busy_cores(monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_parallel, "usable_cores", lambda: 2)
    monkeypatch.setattr(numba, "get_num_threads", lambda: 2)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    for busy, expected in ((0.0, 2), (1.0, 1), (3.0, 1)):
        monkeypatch.setattr(_parallel, "busy_cores", lambda busy=busy: busy)
        assert _parallel.free_threads(10**9) == expected
    assert _parallel.busy_cores() >= 0.0
    assert _parallel.usable_cores() >= 1


def test_busy_cores_does_not_count_this_process(monkeypatch):
    # numba's OpenMP workers spin for milliseconds after a parallel region: they are runnable
    # threads of this process, not other work (counted, they halved the 1D solver's threads)
    import builtins
    import io

    real_open = builtins.open
    for runnable, own, expected in ((3, 3, 0.0), (5, 3, 2.0), (1, 1, 0.0), (4, 1, 3.0), (2, 0, 1.0)):

        def fake_open(path, *args, runnable=runnable, **kw):
            if path == "/proc/loadavg":
                return io.StringIO(f"0.50 0.40 0.30 {runnable}/120 4242\n")
            return real_open(path, *args, **kw)

        monkeypatch.setattr(builtins, "open", fake_open)
        monkeypatch.setattr(_parallel, "own_running_threads", lambda own=own: own)
        assert _parallel.busy_cores(samples=2, pause=0.0) == expected
    monkeypatch.undo()
    assert _parallel.own_running_threads() >= 1  # (the caller itself is running)


def test_numba_threads_restores_the_count():
    before = numba.get_num_threads()
    with _parallel.numba_threads(1) as used:
        assert used == 1 and numba.get_num_threads() == 1
        with _parallel.numba_threads(10**6) as capped:
            assert capped == numba.config.NUMBA_NUM_THREADS
    assert numba.get_num_threads() == before
    with pytest.raises(RuntimeError), _parallel.numba_threads(1):
        raise RuntimeError
    assert numba.get_num_threads() == before
