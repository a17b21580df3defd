"""The online (streamed) kernel of entropic OT: the same results as the dense path, no matrix stored."""

import tracemalloc

import numba
import numpy as np
import pytest
from scipy.special import logsumexp

from meanfolio.transport import _online as online
from meanfolio.transport import entropic, entropic_ot, entropic_ot_linear, sinkhorn_divergence


def _clouds(n, m, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), 1 + rng.normal(size=(m, d)) / np.sqrt(2)


@pytest.mark.parametrize("eps", [0.05, 0.5])
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0])
def test_online_equals_dense(eps, p):
    xa, xb = _clouds(150, 100, seed=1)
    rng = np.random.default_rng(2)
    wa, wb = rng.random(150), rng.random(100)
    wa[:7] = 0.0  # points without mass
    # the same iteration (newton=False: the online path has no Newton polish)
    dense = entropic_ot(xa, xb, wa, wb, eps=eps, p=p, tol=1e-12, newton=False, kernel="dense", max_iter=50_000)
    res = entropic_ot(xa, xb, wa, wb, eps=eps, p=p, tol=1e-12, kernel="online", max_iter=50_000)
    assert dense.kernel == "dense" and res.kernel == "online" and res.newton_steps == 0
    assert res.converged and dense.converged
    assert abs(res.iterations - dense.iterations) <= 1
    assert res.value == pytest.approx(dense.value, rel=1e-12, abs=1e-14)
    assert np.allclose(res.f[wa > 0], dense.f[wa > 0], rtol=0, atol=1e-11)
    assert np.allclose(res.g, dense.g, rtol=0, atol=1e-11)
    assert res.marginal_error <= 1e-12 and res.gap_bound < 1e-10
    # against the dense path with its Newton polish too (same solution, another route)
    assert res.value == pytest.approx(entropic_ot(xa, xb, wa, wb, eps=eps, p=p, tol=1e-12).value, rel=1e-12)


def test_online_symmetric_warm_start_linear_and_divergence():
    x = _clouds(120, 1, seed=3)[0]
    dense, res = (entropic_ot(x, x[::-1], eps=0.05, tol=1e-12, kernel=k) for k in ("dense", "online"))
    assert res.kernel == "online" and res.value == pytest.approx(dense.value, rel=1e-12)
    assert np.allclose(res.g, dense.g, atol=1e-11) and np.allclose(res.g, res.f[::-1], atol=1e-11)
    xa, xb = _clouds(90, 70, seed=4)
    first = entropic_ot(xa, xb, eps=0.1, tol=1e-11, kernel="online")
    again = entropic_ot(xa, xb, eps=0.1, tol=1e-11, kernel="online", warm_start=(first.f, first.g))
    assert again.iterations <= 3 and again.value == pytest.approx(first.value, rel=1e-12)
    lin = [entropic_ot_linear(xa, xb, eps=0.1, tol=1e-12, kernel=k) for k in ("dense", "online")]
    assert lin[1] == pytest.approx(lin[0], rel=1e-11)
    div = [sinkhorn_divergence(xa, xb, eps=0.1, tol=1e-12, kernel=k) for k in ("dense", "online")]
    assert div[1].ab.kernel == div[1].aa.kernel == "online"
    assert div[1].value == pytest.approx(div[0].value, rel=1e-10)


def test_auto_kernel_switches_above_the_threshold(monkeypatch):
    xa, xb = _clouds(60, 50, seed=5)
    assert entropic_ot(xa, xb, eps=0.1).kernel == "dense"
    assert entropic_ot(None, None, cost=np.ones((3, 3)) - np.eye(3), eps=0.1).kernel == "dense"
    monkeypatch.setattr(entropic, "ONLINE_SIZE", 60 * 50 - 1)
    assert entropic_ot(xa, xb, eps=0.1).kernel == "online"
    monkeypatch.setattr(entropic, "ONLINE_SIZE", 60 * 50)
    assert entropic_ot(xa, xb, eps=0.1).kernel == "dense"


def test_online_stores_no_matrix():
    # the dense path allocates the cost and kernel matrices (2 n m floats); the online path O(n + m)
    xa, xb = _clouds(1200, 1000, seed=6)
    peaks = {}
    for kernel in ("online", "dense"):
        entropic_ot(xa[:20], xb[:20], eps=0.5, kernel=kernel)  # compile outside the measurement
        tracemalloc.start()
        entropic_ot(xa, xb, eps=0.5, tol=1e-6, kernel=kernel)
        peaks[kernel] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["dense"] >= 2 * 1200 * 1000 * 8
    assert peaks["online"] < 1200 * 1000 * 8 / 20


def test_online_lse_against_scipy_shifted_rows_and_threads():
    # rows whose exponents are far outside [-600, 600] are shifted by their maximum; zero weights give -inf
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(70, 3))
    shift = rng.normal(size=40) * 5
    shift[:5] = [1e4, -1e4, 650.0, -650.0, 0.0]
    logw = np.log(rng.random(70))
    logw[::9] = -np.inf
    g, inv = rng.normal(size=70), 3.0
    C = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) ** 0.75  # p = 1.5
    want = logsumexp(shift[:, None] * inv + (g * inv + logw)[None, :] - C * inv, axis=1)
    outs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        out = np.empty(40)
        online.online_lse(X, np.ascontiguousarray(Y.T), shift, g * inv + logw, inv, 1.5, out)
        outs.append(out)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert np.allclose(outs[0], want, rtol=1e-14, atol=1e-10)
    assert np.array_equal(outs[0], outs[1])  # each row summed by one thread in a fixed order


def test_online_arguments_are_validated():
    xa, xb = _clouds(10, 8)
    with pytest.raises(ValueError, match="kernel"):
        entropic_ot(xa, xb, kernel="sparse")
    with pytest.raises(ValueError, match="kernel = 'online' is not allowed with a cost matrix"):
        entropic_ot(None, None, cost=np.ones((3, 3)), kernel="online")
    with pytest.raises(ValueError, match="dimension 3 .*expected 2"):
        entropic_ot(xa, np.zeros((8, 3)), kernel="online")
    with pytest.raises(ValueError, match="xa has shape"):
        entropic_ot(np.zeros((0, 2)), xb)
    with pytest.raises(ValueError, match="cost is not allowed"):
        entropic_ot_linear(xa, xb, cost=np.ones((10, 8)))


def test_a_dense_kernel_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    from meanfolio._validation import MemoryLimitError

    monkeypatch.setenv("MEANFOLIO_MAX_MEMORY", "1M")
    x = np.linspace(0.0, 1.0, 400)[:, None]
    with pytest.raises(MemoryLimitError, match="dense kernel of 400 x 400 points"):
        entropic_ot(x, x + 0.1, eps=0.1, kernel="dense")
    assert entropic_ot(x, x + 0.1, eps=0.1, kernel="online").converged  # the streamed kernel needs no matrix
