"""The GMRES helper kernels of _gmres1d and the coupling shortcuts of MFGProblem, against numpy."""

import numpy as np
import pytest

from meanfolio._vector_kernels import vdot
from meanfolio.mfg import MeanTracking, MFGConfig, RunningCost
from meanfolio.mfg.couplings import Congestion
from meanfolio.mfg.problems.problem import MFGProblem
from meanfolio.mfg.solvers import _gmres1d, _newton_kernels


@pytest.mark.parametrize("n", [1, 7, 1001])
def test_vdot_mgs_pass_and_combine_match_numpy(n):
    rng = np.random.default_rng(n)
    a, b, c = rng.normal(size=(3, n))
    assert vdot(a, b) == pytest.approx(float(np.dot(a, b)), rel=1e-13, abs=1e-13)
    w = a.copy()
    s = _gmres1d.mgs_pass(w, b, 0.7, c)  # w -= 0.7 b, then w . c
    np.testing.assert_allclose(w, a - 0.7 * b, rtol=1e-15, atol=1e-15)  # (a fused multiply-add)
    assert s == pytest.approx(float(np.dot(a - 0.7 * b, c)), rel=1e-13, abs=1e-13)
    w = a.copy()
    s = _gmres1d.mgs_pass(w, b, -1.3, w)  # with w itself: the squared norm
    assert s == pytest.approx(float(np.dot(a + 1.3 * b, a + 1.3 * b)), rel=1e-13)
    vecs = rng.normal(size=(4, n))
    y = rng.normal(size=4)
    for k in (1, 3):
        out = c.copy()
        _gmres1d.combine(y, k, vecs, out)
        np.testing.assert_allclose(out, c + y[:k] @ vecs[:k], rtol=1e-13, atol=1e-13)


def test_newton_residual_returns_its_squared_norm(lq_problem_operator):
    ops, size = lq_problem_operator
    rng = np.random.default_rng(7)
    x, b = rng.normal(size=(2, size))
    out = np.empty(size)
    squares = _newton_kernels.newton_residual(ops, x, b, out)
    Jx = np.empty(size)
    _newton_kernels.newton_matvec(ops, x, Jx)
    np.testing.assert_allclose(out, b - Jx, rtol=1e-14, atol=1e-14)
    assert squares == pytest.approx(float(np.dot(b - Jx, b - Jx)), rel=1e-13)


def _problem(coupling):
    x = np.linspace(-1.0, 1.0, 40)
    m0 = np.exp(-4 * x**2)
    m0 /= m0.sum() * (x[1] - x[0])
    config = MFGConfig(nx=40, nt=12, x_min=-1, x_max=1, time_horizon=1.0, viscosity=0.2)
    return MFGProblem.create(config, m0, coupling, terminal=0.5 * x**2)


@pytest.mark.parametrize("static_first", [False, True])
def test_running_cost_with_cached_static_terms_equals_the_couplings_value(static_first):
    # f(t, x) terms are evaluated once per problem and the m terms each time: the value and the
    # Jacobian must be what the coupling itself gives, at two different densities
    static = RunningCost(lambda t, x: 0.3 * x**2 + t)
    dynamic = MeanTracking(1.5) + Congestion(1.0, 0.5)
    coupling = static + dynamic if static_first else dynamic + static
    problem = _problem(coupling)
    rng = np.random.default_rng(3)
    u = rng.normal(size=(12, 40))
    for _ in range(2):
        m = np.abs(rng.normal(size=(12, 40)))
        f = problem.running_cost(u, m)
        np.testing.assert_allclose(f, coupling.value(problem._state(m[1:], None)), rtol=1e-15, atol=1e-15)
        ops = problem.newton_operator(u, m)
        jac = coupling.jacobian(problem._state(m[1:], None))
        np.testing.assert_allclose(ops[8], problem.grid.dt * jac.dm_diag, rtol=1e-15)
        assert ops[9].shape[1] == 1  # MeanTracking's rank-one term, and nothing from RunningCost
        np.testing.assert_allclose(ops[9][:, 0], problem.grid.dt * jac.dm_lowrank[0][0], rtol=1e-15)
    # a new coupling on the same problem object is not served from the cache
    problem.coupling = MeanTracking(0.5) + RunningCost(lambda t, x: -x)
    np.testing.assert_allclose(
        problem.running_cost(u, m), problem.coupling.value(problem._state(m[1:], None)), rtol=1e-15, atol=1e-15
    )


def test_operator_without_local_term_skips_the_diagonal():
    problem = _problem(MeanTracking(1.0) + RunningCost(lambda t, x: x**2))
    m = np.tile(problem.m0, (12, 1))
    ops = problem.newton_operator(np.zeros((12, 40)), m)
    assert ops[8].shape == (11, 0)
