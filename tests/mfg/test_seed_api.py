"""The seed document's call works unchanged."""

import numpy as np

import meanfolio
from meanfolio import MFGConfig, solve_mfg_1d


def test_seed_example():
    config = MFGConfig(
        nx=200,
        nt=100,
        x_min=-5,
        x_max=5,
        time_horizon=1.0,
        viscosity=0.1,
        tolerance=1e-6,
        max_iterations=500,
        relaxation=0.5,
    )
    x = np.linspace(-5, 5, 200)
    m0 = np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)
    f = np.tile(0.5 * x**2, (100, 1)) + 0.1 * np.sin(np.linspace(0, 1, 100))[:, None]
    u, m, iterations = solve_mfg_1d(config, m0, f)
    assert u.shape == (100, 200) and m.shape == (100, 200)
    dx = x[1] - x[0]
    np.testing.assert_allclose(m.sum(axis=1) * dx, 1.0, atol=1e-12)
    assert iterations <= 6
    # the quadratic confinement pulls the crowd toward 0: the variance shrinks
    var = ((x**2) * m).sum(axis=1) * dx - ((x * m).sum(axis=1) * dx) ** 2
    assert var[-1] < var[0]
    assert meanfolio.__version__
