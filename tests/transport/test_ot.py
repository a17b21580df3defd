"""Transport against POT, scipy and closed forms."""

import numpy as np
import ot
import pytest
from scipy import stats

from meanfolio.transport import (
    entropic_ot,
    entropic_ot_linear,
    sinkhorn_divergence,
    wasserstein,
    wasserstein_1d,
    wasserstein_grid,
)

rng = np.random.default_rng(0)


def test_1d_against_scipy_and_pot():
    u, v = rng.normal(size=300), rng.normal(1, 2, size=200)
    wu, wv = rng.uniform(size=300), rng.uniform(size=200)
    assert wasserstein_1d(u, v, wu, wv, 1) == pytest.approx(stats.wasserstein_distance(u, v, wu, wv), rel=1e-12)
    ref = ot.wasserstein_1d(u, v, wu / wu.sum(), wv / wv.sum(), p=2) ** 0.5
    assert wasserstein_1d(u, v, wu, wv, 2) == pytest.approx(ref, rel=1e-12)


def test_gaussian_closed_form_on_a_grid():
    x = np.linspace(-12, 14, 20001)
    m1, s1, m2, s2 = 0.5, 1.0, 2.0, 1.7
    w2 = wasserstein_grid(stats.norm.pdf(x, m1, s1), stats.norm.pdf(x, m2, s2), x, p=2)
    assert w2 == pytest.approx(np.hypot(m1 - m2, s1 - s2), abs=2e-3)
    assert wasserstein_grid(stats.norm.pdf(x, m1, s1), stats.norm.pdf(x, m2, s1), x, p=1) == pytest.approx(1.5, 1e-3)


def test_empirical_w2_shrinks_like_one_over_sqrt_n():
    q = stats.norm.ppf((np.arange(20000) + 0.5) / 20000)  # a fine quantization of the law
    means = []
    for n in (100, 400, 1600):
        means.append(np.mean([wasserstein_1d(np.random.default_rng(s).normal(size=n), q, p=2) for s in range(40)]))
    assert 1.5 < means[0] / means[1] < 2.6 and 1.5 < means[1] / means[2] < 2.6


def test_exact_discrete_matches_pot():
    xa, xb = rng.normal(size=(120, 2)), rng.normal(size=(90, 2)) + 1
    ref = np.sqrt(ot.emd2(np.full(120, 1 / 120), np.full(90, 1 / 90), ot.dist(xa, xb)))
    assert wasserstein(xa, xb) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("eps", [0.05, 0.5])
def test_entropic_values_against_pot(eps):
    xa, xb = rng.normal(size=(150, 2)), rng.normal(size=(100, 2)) + 0.5
    a, b = np.full(150, 1 / 150), np.full(100, 1 / 100)
    M = ot.dist(xa, xb)
    P = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", stopThr=1e-13, numItermax=200_000)
    ab = np.outer(a, b)
    full = np.sum(P * M) + eps * np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / ab), 0.0))
    res = entropic_ot(xa, xb, eps=eps, tol=1e-12)
    assert res.value == pytest.approx(full, rel=1e-7)
    assert entropic_ot_linear(xa, xb, eps=eps, tol=1e-12) == pytest.approx(np.sum(P * M), rel=1e-7)
    # warm start from the solution converges at once
    again = entropic_ot(xa, xb, eps=eps, tol=1e-12, warm_start=(res.f, res.g))
    assert again.iterations <= 10 and again.value == pytest.approx(res.value, rel=1e-10)


def test_sinkhorn_divergence_properties():
    xa, xb = rng.normal(size=(100, 2)), rng.normal(size=(80, 2)) + 1.0
    assert sinkhorn_divergence(xa, xa, eps=0.1) == pytest.approx(0.0, abs=1e-9)
    s = sinkhorn_divergence(xa, xb, eps=0.05)
    w2sq = wasserstein(xa, xb) ** 2
    assert 0 < s <= w2sq * 1.05  # debiased: close to W2^2 for small eps, never negative
    assert s == pytest.approx(w2sq, rel=0.15)
    with pytest.raises(ValueError, match=r"eps = 0.0 .*> 0"):
        entropic_ot(xa, xb, eps=0.0)


def _pot_full(x, y, eps):
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    M = ot.dist(x, y)
    P = ot.sinkhorn(a, b, M, eps, method="sinkhorn_log", stopThr=1e-11, numItermax=100_000)
    return np.sum(P * M) + eps * np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0) / np.outer(a, b)), 0.0))


def test_symmetric_iteration_against_pot():
    # OT(a, a) goes through the averaged symmetric map: same value as POT's plain
    # Sinkhorn (eps = 0.5: POT needs 180 iterations here; at eps = 0.2 it needs 17 000, ours 79).
    x = np.random.default_rng(0).normal(size=(120, 2))
    res = entropic_ot(x, x, eps=0.5, tol=1e-12)
    assert res.iterations < 100
    assert np.array_equal(res.f, res.g)
    assert res.value == pytest.approx(_pot_full(x, x, 0.5), rel=1e-9)
    # a cost matrix given directly is recognised as symmetric too
    assert entropic_ot(None, None, cost=ot.dist(x, x), eps=0.5, tol=1e-12).value == pytest.approx(res.value, 1e-10)


@pytest.mark.parametrize("omega", [1.0, 1.3, 1.9])
def test_overrelaxation_changes_speed_not_the_answer(omega):
    xa, xb = rng.normal(size=(90, 2)), rng.normal(size=(70, 2)) + 0.3
    plain = entropic_ot(xa, xb, eps=0.05, tol=1e-12, overrelaxation=1.0)
    res = entropic_ot(xa, xb, eps=0.05, tol=1e-12, overrelaxation=omega)
    assert res.value == pytest.approx(plain.value, rel=1e-9)
    assert res.value == pytest.approx(_pot_full(xa, xb, 0.05), rel=1e-7)
    with pytest.raises(ValueError, match="overrelaxation"):
        entropic_ot(xa, xb, overrelaxation=2.0)


def test_grid_rows_equal_the_one_dimensional_formula():
    # the vectorised rows of wasserstein_grid against wasserstein_1d row by row (and scipy for p = 1)
    r = np.random.default_rng(7)
    x = np.sort(r.normal(size=40))
    a, b = r.random((6, 40)), r.random((6, 40))
    a[2, :20] = 0.0  # rows with empty stretches
    for p in (1.0, 2.0, 3.0):
        rows = wasserstein_grid(a, b, x, p)
        assert rows.shape == (6,)
        for k in range(6):
            assert rows[k] == pytest.approx(wasserstein_1d(x, x, a[k], b[k], p), rel=1e-12, abs=1e-14)
    assert wasserstein_grid(a[0], b[0], x, 1) == pytest.approx(stats.wasserstein_distance(x, x, a[0], b[0]), 1e-12)
    with pytest.raises(ValueError, match="increasing"):
        wasserstein_grid(a, b, x[::-1], 1)
    with pytest.raises(ValueError, match="zero mass"):
        wasserstein_grid(np.zeros(40), b[0], x, 1)
