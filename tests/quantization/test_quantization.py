"""Optimal quantization against the known N(0, 1) grids and rates."""

import numpy as np
import pytest

from meanfolio.quantization import clvq, gaussian_distortion, lloyd_gaussian, lloyd_samples, optimal_gaussian_grid


def test_optimal_four_point_gaussian_grid():
    q = optimal_gaussian_grid(4)
    np.testing.assert_allclose(q.points, [-1.5104176, -0.4527800, 0.4527800, 1.5104176], atol=5e-8)
    np.testing.assert_allclose(q.weights, [0.1631488, 0.3368512, 0.3368512, 0.1631488], atol=5e-8)
    assert q.distortion == pytest.approx(0.1174818478, abs=1e-10)
    lloyd = lloyd_gaussian(4)
    np.testing.assert_allclose(lloyd.points, q.points, atol=1e-9)
    assert q.iterations < 10 < lloyd.iterations  # Newton is quadratic, Lloyd slow


def test_distortion_rate_and_monte_carlo():
    assert [K * K * optimal_gaussian_grid(K).distortion for K in (64, 256)][-1] == pytest.approx(
        np.pi * np.sqrt(3) / 2, rel=0.01
    )
    vals = [K * K * optimal_gaussian_grid(K).distortion for K in (8, 32, 128)]
    assert vals[0] < vals[1] < vals[2] < np.pi * np.sqrt(3) / 2
    x = np.random.default_rng(0).normal(size=400_000)
    q = optimal_gaussian_grid(6)
    mc = np.mean(np.min((x[:, None] - q.points[None]) ** 2, axis=1))
    assert mc == pytest.approx(gaussian_distortion(q.points)[0], rel=0.01)


def test_two_dimensional_rate_and_clvq():
    X = np.random.default_rng(1).normal(size=(20000, 2))
    d = [lloyd_samples(X, K, seed=2).distortion for K in (8, 32, 128)]
    # distortion ~ K^(-2/d) = K^-1 in 2D
    assert 3.0 < d[0] / d[1] < 4.8 and 3.0 < d[1] / d[2] < 4.8
    c = clvq(np.random.default_rng(3).normal(size=20000), 4, seed=4)
    np.testing.assert_allclose(np.sort(c.points), [-1.5104176, -0.4527800, 0.4527800, 1.5104176], atol=0.08)


def test_results_say_whether_they_converged():
    # A converged Newton grid is stationary (G = 0 to tol, checked here independently).
    from scipy.stats import norm

    q = optimal_gaussian_grid(12)
    assert q.converged is True
    e = np.concatenate(([-np.inf], 0.5 * (q.points[1:] + q.points[:-1]), [np.inf]))
    G = q.points * np.diff(norm.cdf(e)) - (norm.pdf(e[:-1]) - norm.pdf(e[1:]))
    assert np.max(np.abs(G)) < 1e-14
    # Stopped at the iteration cap: flagged and warned, never silently returned as optimal.
    with pytest.warns(RuntimeWarning, match="without converging"):
        assert optimal_gaussian_grid(40, max_iter=1).converged is False
    with pytest.warns(RuntimeWarning, match="without converging"):
        assert lloyd_gaussian(20, max_iter=3).converged is False
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    with pytest.warns(RuntimeWarning, match="without converging"):
        assert lloyd_samples(X, 8, seed=1, max_iter=2).converged is False
    assert lloyd_samples(X, 8, seed=1).converged is True
    assert clvq(X, 8, seed=1, passes=1).converged is None
