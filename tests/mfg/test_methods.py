"""Newton, fixed point, fictitious play and policy iteration solve the same discrete system."""

import numpy as np
import pytest

from meanfolio.mfg import Congestion, MeanTracking, solve_mfg

from .conftest import grid_of, lq_config


@pytest.fixture(scope="module")
def problem(lq):
    config = lq_config(40, 21, tolerance=1e-10, max_iterations=50)
    x = grid_of(config).x
    return config, lq.m0(x), lq.coupling() + Congestion(1.0, 0.2), lq.terminal(x)


@pytest.fixture(scope="module")
def reference(problem):
    config, m0, f, g = problem
    sol = solve_mfg(config, m0, f, terminal=g)
    assert sol.converged and sol.iterations <= 6
    return sol


@pytest.mark.parametrize(
    "method, relaxation, tol, max_iterations",
    [
        ("fixed_point", 0.5, 1e-9, 1000),
        ("policy_iteration", 1.0, 1e-9, 100),
        ("fictitious_play", 1.0, 1e-3, 3000),
    ],
)
def test_methods_agree_with_newton(problem, reference, method, relaxation, tol, max_iterations):
    config, m0, f, g = problem
    config = config.replace(method=method, relaxation=relaxation, tolerance=tol, max_iterations=max_iterations)
    sol = solve_mfg(config, m0, f, terminal=g)
    assert sol.converged, sol.message
    # The residual bounds the distance to the unique (monotone) solution:
    # allow a factor 20 for the conditioning of the discrete system.
    dx = grid_of(config).dx
    assert np.max(np.abs(sol.m - reference.m)) * dx <= 20 * tol
    du = (sol.u - sol.u.mean(axis=1, keepdims=True)) - (reference.u - reference.u.mean(axis=1, keepdims=True))
    assert np.max(np.abs(du)) <= 20 * tol * 10


def test_newton_is_quadratic_and_fast(lq):
    config = lq_config(200, 100, tolerance=1e-10)
    sol = solve_mfg(config, lq.m0(grid_of(config).x), lq.coupling() + MeanTracking(2.0), terminal=lq.terminal)
    assert sol.converged and sol.iterations <= 6
    h = sol.residual_history
    # quadratic convergence: each residual well below the previous one squared times a constant
    assert all(h[k + 1] <= 10 * h[k] ** 1.5 for k in range(1, len(h) - 1)), h
