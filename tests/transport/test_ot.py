"""Exact Wasserstein distances (1D samples, grids, discrete) against scipy, POT and closed forms."""

import warnings
from fractions import Fraction

import numpy as np
import ot
import pytest
from scipy import optimize, stats

from meanfolio.transport import ConvergenceWarning, wasserstein, wasserstein_1d, wasserstein_grid


def _exact_unweighted(u, v, p):
    """W_p^p of unweighted samples by the quantile merge in exact rational arithmetic."""
    u, v = np.sort(u), np.sort(v)
    n, m = len(u), len(v)
    i = j = 0
    prev, total = Fraction(0), Fraction(0)
    while i < n and j < m:
        level = min(Fraction(i + 1, n), Fraction(j + 1, m))
        total += (level - prev) * Fraction(abs(float(u[i]) - float(v[j]))) ** p
        prev = level
        i += Fraction(i + 1, n) == level
        j += Fraction(j + 1, m) == level
    return float(total)


def test_equal_size_samples_whose_cumulative_weights_round_above_one():
    # cumsum of 1/9 nine times is 1 + 2^-52: the last quantile interval was dropped (3.889)
    assert wasserstein_1d(np.arange(9.0), np.r_[np.zeros(8), 100.0]) == pytest.approx(40 / 3, rel=1e-14)
    rng = np.random.default_rng(0)
    for n in range(1, 120):  # equal sizes: sorting and pairing is exact
        u, v = rng.normal(size=n), rng.normal(size=n) * 3
        for p in (1, 2):
            ref = np.mean(np.abs(np.sort(u) - np.sort(v)) ** p) ** (1 / p)
            assert wasserstein_1d(u, v, p=p) == pytest.approx(ref, rel=1e-12)


def _sample(rng, size):
    """Normal values, or few distinct values (ties and duplicates across both samples)."""
    if rng.random() < 0.5:
        return rng.normal(size=size)
    return rng.integers(0, 4, size=size).astype(float)


def test_many_random_pairs_against_scipy_pot_and_exact_fractions():
    rng = np.random.default_rng(1)
    for k in range(300):
        n = int(rng.integers(1, 60))
        m = n if k % 3 == 0 else int(rng.integers(1, 60))
        u, v = _sample(rng, n), _sample(rng, m)
        if rng.random() < 0.3:
            v[: min(n, m)] = u[: min(n, m)]  # shared values
        # unweighted: scipy (p = 1), POT (p = 2) and an exact rational reference (p = 1, 2, 3)
        assert wasserstein_1d(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-10, abs=1e-13)
        assert wasserstein_1d(u, v, p=2) == pytest.approx(ot.wasserstein_1d(u, v, p=2) ** 0.5, rel=1e-10, abs=1e-13)
        for p in (1, 2, 3):
            ref = _exact_unweighted(u, v, p) ** (1 / p)
            assert wasserstein_1d(u, v, p=p) == pytest.approx(ref, rel=1e-12, abs=1e-14)
        # weighted (some zero weights)
        wu, wv = rng.random(n), rng.random(m)
        wu[rng.random(n) < 0.2] = 0.0
        if wu.sum() == 0:
            wu[0] = 1.0
        ref1 = stats.wasserstein_distance(u, v, wu, wv)
        assert wasserstein_1d(u, v, wu, wv) == pytest.approx(ref1, rel=1e-10, abs=1e-13)
        ref2 = ot.wasserstein_1d(u, v, wu / wu.sum(), wv / wv.sum(), p=2) ** 0.5
        assert wasserstein_1d(u, v, wu, wv, p=2) == pytest.approx(ref2, rel=1e-10, abs=1e-13)


def test_weights_are_scale_free_and_integer_weights_are_exact():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=7), rng.normal(size=9)
    wu, wv = rng.integers(1, 5, 7).astype(float), rng.integers(1, 5, 9).astype(float)
    base = wasserstein_1d(u, v, wu, wv, p=2)
    assert wasserstein_1d(u, v, wu * 2.0**600, wv * 2.0**-600, p=2) == base  # powers of two: bitwise
    assert wasserstein_1d(u, v, wu * 1e200, wv * 1e-200, p=2) == pytest.approx(base, rel=1e-14)  # no overflow
    # integer weights = repeated samples
    assert base == pytest.approx(wasserstein_1d(np.repeat(u, wu.astype(int)), np.repeat(v, wv.astype(int)), p=2), 1e-13)
    with pytest.raises(ValueError, match="u_weights"):
        wasserstein_1d(u, v, np.zeros(7))


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


def test_exact_discrete_against_an_assignment_and_the_1d_formula():
    rng = np.random.default_rng(3)
    for k in range(5):  # equal sizes, uniform weights: W_p^p is the mean cost of an optimal assignment
        xa, xb = rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + k * 0.3
        for p in (1.0, 2.0):
            cost = np.linalg.norm(xa[:, None] - xb[None], axis=-1) ** p
            rows, cols = optimize.linear_sum_assignment(cost)
            assert wasserstein(xa, xb, p=p) == pytest.approx(cost[rows, cols].mean() ** (1 / p), rel=1e-10)
    u, v, wv = rng.normal(size=50), rng.normal(size=37) + 1, rng.random(37)  # 1D, different sizes, weights
    assert wasserstein(u[:, None], v[:, None], None, wv, p=2) == pytest.approx(wasserstein_1d(u, v, None, wv, 2), 1e-9)


@pytest.mark.filterwarnings("ignore:numItermax reached:UserWarning")
def test_exact_discrete_warns_when_the_simplex_stops_early():
    rng = np.random.default_rng(4)
    with pytest.warns(ConvergenceWarning, match="upper bound"):
        wasserstein(rng.normal(size=(80, 2)), rng.normal(size=(80, 2)), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wasserstein(rng.normal(size=(20, 2)), rng.normal(size=(20, 2)))


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
    for k in range(6):
        ref = stats.wasserstein_distance(x, x, a[k], b[k])
        assert wasserstein_grid(a[k], b[k], x, 1) == pytest.approx(ref, rel=1e-10, abs=1e-14)
    # equal masses on a grid: the pairing is exact whatever the cumulative sums round to
    n = 9
    xs = np.arange(float(n))
    assert wasserstein_grid(np.ones(n), np.r_[np.zeros(n - 1), 1.0], xs, 1) == pytest.approx(np.mean(n - 1 - xs), 1e-14)
    with pytest.raises(ValueError, match="increasing"):
        wasserstein_grid(a, b, x[::-1], 1)
    with pytest.raises(ValueError, match="zero mass"):
        wasserstein_grid(np.zeros(40), b[0], x, 1)
