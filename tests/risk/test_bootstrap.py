"""Bootstrap intervals: block-length rules, the Politis-White length (vs arch), coverage by simulation."""

import warnings

import numpy as np
import pytest

from meanfolio.risk import bootstrap_ci
from meanfolio.risk.bootstrap import bootstrap_indices, optimal_block_length


def _ar1(rng, T, phi, burn=100):
    e = rng.normal(size=T + burn)
    x = np.zeros_like(e)
    for t in range(1, T + burn):
        x[t] = phi * x[t - 1] + e[t]
    return x[burn:]


# arch 8.0.0, arch.bootstrap.optimal_block_length(x)["stationary"], on the series below
ARCH = [(20, 0.0, 0.2843410992853611), (50, 0.5, 5.867257123560485), (250, 0.5, 5.419058905305751),
        (1000, 0.9, 30.580137428926495), (500, -0.3, 6.293138856096448)]  # fmt: skip


def test_politis_white_block_length_equals_arch():
    rng = np.random.default_rng(11)
    for T, phi, ref in ARCH:
        x = _ar1(rng, T, phi)
        assert optimal_block_length(x) == pytest.approx(max(ref, 1.0), rel=1e-12), (T, phi)


def test_block_size_of_T_or_more_is_refused():
    r = np.random.default_rng(0).normal(size=100)
    for L in (100, 250.0):
        with pytest.raises(ValueError, match=rf"block_size = {L} is not allowed: .*\[1, 100\).*zero-width"):
            bootstrap_ci(np.mean, r, block_size=L)
    with pytest.raises(ValueError, match="block_size"):
        bootstrap_indices(100, 10, "stationary", 100, np.random.default_rng(0))
    ok = bootstrap_ci(np.mean, r, block_size=99, n_boot=200, interval="percentile", seed=0)
    assert ok.high > ok.low


def test_stationary_indices_are_blocks_with_geometric_lengths():
    idx = bootstrap_indices(400, 300, "stationary", 8.0, np.random.default_rng(1))
    cont = (np.diff(idx, axis=1) % 400) == 1
    # a new block starts with probability 1/8 (and by chance continues with probability 1/400)
    assert 1 - cont.mean() == pytest.approx(1 / 8 * (1 - 1 / 400), abs=0.005)
    assert idx.min() >= 0 and idx.max() < 400


def test_degenerate_and_vectorized_metric():
    with pytest.warns(RuntimeWarning, match="no spread"):
        res = bootstrap_ci(np.mean, np.full(60, 0.01), n_boot=50, seed=0)
    assert res.low == res.high == pytest.approx(0.01)
    r = np.random.default_rng(2).normal(size=80)
    a = bootstrap_ci(np.mean, r, n_boot=100, n_inner=10, seed=3)
    b = bootstrap_ci(lambda x: x.mean(axis=0), r, n_boot=100, n_inner=10, seed=3, vectorized=True)
    assert (a.low, a.high) == pytest.approx((b.low, b.high), rel=1e-12)
    with pytest.raises(ValueError, match="interval = 'bca'"):
        bootstrap_ci(np.mean, r, interval="bca")


def _coverage(T, phi, reps, interval, block_size=None, seed=0):
    rng = np.random.default_rng(seed)
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(reps):
            x = _ar1(rng, T, phi, burn=50)
            r = bootstrap_ci(lambda a: a.mean(axis=0), x, n_boot=199, n_inner=30, interval=interval,
                             block_size=block_size, vectorized=True, seed=i)  # fmt: skip
            hits += r.low <= 0.0 <= r.high
    return hits / reps


@pytest.mark.parametrize(
    "T, phi, reps, floor",
    [(20, 0.0, 200, 0.88), (50, 0.0, 150, 0.90), (250, 0.0, 60, 0.90),
     (20, 0.5, 200, 0.77), (50, 0.5, 150, 0.87), (250, 0.5, 60, 0.88)],
)  # fmt: skip
def test_coverage_by_simulation(T, phi, reps, floor):
    # 0.95 intervals of the mean (true value 0) of iid N(0, 1) and AR(1) (phi = 0.5) series, default
    # interval ("auto": calibrated below T = 100, studentized from there) and Politis-White block. Measured
    # with these seeds: iid 0.905 / 0.927 / 0.95, AR(1) 0.795 / 0.90 / 0.933 (binomial sd 0.02-0.03); the
    # study with 400 paths and n_boot = 499 (benchmarks/results/risk_bootstrap_coverage.json): iid 0.94 /
    # 0.965 / 0.9575, AR(1) 0.89 / 0.95 / 0.95. The former interval (percentile, block T^(1/3)) covered
    # 0.85 (iid) and 0.75 (AR(1)) at T = 20, and 0.85 (AR(1)) at T = 50.
    new = _coverage(T, phi, reps, "auto")
    assert new >= floor
    if T == 20:
        old = _coverage(T, phi, reps, "percentile", block_size=T ** (1 / 3))
        assert old < floor and new > old + 0.04


def test_short_series_warn_that_they_undercover():
    with pytest.warns(RuntimeWarning, match="undercover"):
        bootstrap_ci(np.mean, np.random.default_rng(0).normal(size=30), n_boot=20, n_inner=5, seed=0)
