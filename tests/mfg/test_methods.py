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


#: Conditioning of this discrete system: distance to the solution per unit of scaled residual,
#: max|m - m*| dx and max|u - u*| (u up to a constant). Every method returns a pair (u, FP(u)),
#: whose residual is the HJB's alone; measured 0.0062-0.0063 and 0.427-0.430 for all three
#: methods at residuals 1e-7..3e-2. The bounds below allow a factor 3 over that.
KAPPA_M, KAPPA_U = 0.02, 1.5


def _distance(sol, reference, dx):
    du = (sol.u - sol.u.mean(axis=1, keepdims=True)) - (reference.u - reference.u.mean(axis=1, keepdims=True))
    return np.max(np.abs(sol.m - reference.m)) * dx, np.max(np.abs(du))


@pytest.mark.parametrize(
    "method, relaxation, tol, max_iterations",
    [
        ("fixed_point", 0.5, 1e-9, 1000),
        ("policy_iteration", 1.0, 1e-9, 100),
        ("fictitious_play", 1.0, 3e-3, 400),
    ],
)
def test_methods_agree_with_newton(problem, reference, method, relaxation, tol, max_iterations):
    config, m0, f, g = problem
    config = config.replace(method=method, relaxation=relaxation, tolerance=tol, max_iterations=max_iterations)
    sol = solve_mfg(config, m0, f, terminal=g)
    assert sol.converged, sol.message
    # The stopping tolerances bound the distance between the two answers: kappa (tol + Newton's tol).
    # Fictitious play at 3e-3: m within 6e-5 (0.05 % of max m dx = 0.133), u within 5e-3.
    em, eu = _distance(sol, reference, grid_of(config).dx)
    bound = tol + reference.config.tolerance
    assert em <= KAPPA_M * bound, (em, KAPPA_M * bound)
    assert eu <= KAPPA_U * bound, (eu, KAPPA_U * bound)


def test_fictitious_play_approaches_newton_at_its_rate(problem, reference):
    # Averaging the best responses with weights 1/(k + 1) makes the error fall like k^(-p) with p
    # near 1 (Cardaliaguet & Hadikhanloo 2017): measured 1.79x per doubling of k (p = 0.84) from
    # k = 25 to 1600. A method that stalls (ratio 1) or a wrong average fails the window.
    config, m0, f, g = problem
    dx = grid_of(config).dx
    errors = []
    for k in (25, 50, 100):
        run = config.replace(method="fictitious_play", relaxation=1.0, tolerance=1e-14, max_iterations=k)
        sol = solve_mfg(run, m0, f, terminal=g)
        assert not sol.converged and sol.iterations == k
        errors.append(_distance(sol, reference, dx)[0])
    ratios = errors[0] / errors[1], errors[1] / errors[2]
    assert all(1.6 < r < 2.1 for r in ratios), (errors, ratios)
    assert errors[-1] < 5e-5, errors  # 100 iterations: 2.75e-5 measured, against max m dx = 0.133


def test_newton_is_quadratic_and_fast(lq):
    config = lq_config(200, 100, tolerance=1e-10)
    sol = solve_mfg(config, lq.m0(grid_of(config).x), lq.coupling() + MeanTracking(2.0), terminal=lq.terminal)
    assert sol.converged and sol.iterations <= 6
    h = sol.residual_history
    # quadratic convergence: each residual well below the previous one squared times a constant
    assert all(h[k + 1] <= 10 * h[k] ** 1.5 for k in range(1, len(h) - 1)), h


def test_iterative_methods_on_a_kinked_hamiltonian_are_flagged_and_point_to_newton():
    # Bang-bang best responses of Linear(1) with a local coupling: the sweeps do not settle. The
    # answer must say so (not converged, the reason, the method that works), and Newton must solve it.
    from meanfolio.mfg import Congestion, Linear, MFGConfig, solve_mfg

    x = np.linspace(-2, 2, 41)
    m0 = np.exp(-(x**2) / 0.5)
    config = MFGConfig(nx=41, nt=21, x_min=-2, x_max=2, viscosity=0.2, method="fixed_point", max_iterations=60)
    sol = solve_mfg(config, m0, Congestion(1.0), terminal=lambda x: x**2, hamiltonian=Linear(1.0))
    assert not sol.converged and "method = 'newton'" in sol.message
    newton = solve_mfg(config.replace(method="newton"), m0, Congestion(1.0), terminal=lambda x: x**2,
                       hamiltonian=Linear(1.0))
    assert newton.converged, newton.message
