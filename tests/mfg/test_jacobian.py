"""Newton's operator is the derivative of the residual (central differences as oracle)."""

import numpy as np
import pytest

from meanfolio.mfg import (
    Congestion,
    LogDensity,
    MarketImpact,
    MeanInteraction,
    MeanTracking,
    MFGConfig,
    MFGProblem,
    PowerLaw,
    Quadratic,
    RunningCost,
)

from .conftest import dense_operator as _dense_operator
from .conftest import gaussian

CASES = {
    "congestion": (Quadratic(), Congestion(2.0, 0.5), None),
    "mean+impact": (
        Quadratic(),
        MeanTracking(1.5) + MarketImpact(0.7) + RunningCost(lambda t, x: x**2),
        None,
    ),
    "log+power": (PowerLaw(2.5), LogDensity(0.3), None),
    "mean interaction": (Quadratic(), MeanInteraction(1.3) + MeanTracking(0.4), None),
    "terminal(m)": (Quadratic(), Congestion(1.0), MeanTracking(2.0)),
}


def _problem(case, boundary):
    H, f, g = CASES[case]
    config = MFGConfig(nx=9, nt=5, x_min=-2, x_max=2, viscosity=0.2, boundary=boundary)
    x = np.linspace(-2, 2, 9)
    m0 = gaussian(x, 0.3, 0.7) + 0.05
    return MFGProblem.create(config, m0, f, terminal=g if g is not None else 0.3 * x, hamiltonian=H)


def _residual_vector(problem, v):
    N, nx = problem.steps, problem.config.nx
    u = np.zeros((N + 1, nx))
    m = np.empty((N + 1, nx))
    u[:-1] = v[: N * nx].reshape(N, nx)
    m[0] = problem.m0
    m[1:] = v[N * nx :].reshape(N, nx)
    rh, rf = problem.residual(u, m)
    return problem.grid.dt * np.concatenate((rh.ravel(), rf.ravel())), u, m


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_newton_operator_is_the_jacobian(case, boundary):
    problem = _problem(case, boundary)
    N, nx = problem.steps, problem.config.nx
    rng = np.random.default_rng(3)
    # a generic point: smooth-ish u with non-zero gradients, positive m
    x = problem.grid.x
    v = np.concatenate(
        [
            (np.sin(1.3 * x + 0.4)[None, :] * np.linspace(1, 2, N)[:, None] + 0.01 * rng.normal(size=(N, nx))).ravel(),
            (problem.m0[None, :] * (1 + 0.1 * rng.uniform(size=(N, nx)))).ravel(),
        ]
    )
    _, u, m = _residual_vector(problem, v)
    u[-1] = problem.terminal_cost(m[-1])
    ops = problem.newton_operator(u, m)
    size = v.size
    J = _dense_operator(ops, size)
    h = 1e-6
    J_fd = np.empty_like(J)
    for j in range(size):
        vp, vm = v.copy(), v.copy()
        vp[j] += h
        vm[j] -= h
        J_fd[:, j] = (_residual_vector(problem, vp)[0] - _residual_vector(problem, vm)[0]) / (2 * h)
    np.testing.assert_allclose(J, J_fd, atol=2e-6 * max(1.0, np.abs(J_fd).max()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_running_cost_in_place_equals_the_sum_of_the_values(case):
    # the solver adds each term of f in place (Coupling.add_value; MeanTracking by a compiled
    # pass): the same numbers as the plain sum of the values, on 1D and on a 2D state
    from meanfolio.mfg.couplings import CouplingState

    problem = _problem(case, "neumann")
    rng = np.random.default_rng(3)
    u, m = rng.normal(size=(5, 9)), rng.random((5, 9)) + 0.1
    terms = problem.terms(u)
    got = problem.running_cost(u, m, terms)
    want = problem.coupling.value(problem._state(m[1:], terms))
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
    for coupling in (MeanTracking(1.7), MeanInteraction(0.6)):
        x, y = rng.normal(size=6), rng.normal(size=6)  # a 2D grid's nodes, flattened
        state = CouplingState(x, 0.25, np.zeros(3), np.arange(3), rng.random((3, 6)), y=y)
        start = rng.normal(size=(3, 6))
        out = start.copy()
        coupling.add_value(state, out)
        np.testing.assert_allclose(out, start + coupling.value(state), rtol=1e-14, atol=1e-14)
    for coupling in (MeanTracking(1.3), MeanInteraction(0.4)):  # 1D, the compiled pass
        x = rng.normal(size=7)
        state = CouplingState(x, 0.25, np.zeros(4), np.arange(4), rng.random((4, 7)))
        start = rng.normal(size=(4, 7))
        out = start.copy()
        coupling.add_value(state, out)
        np.testing.assert_allclose(out, start + coupling.value(state), rtol=1e-14, atol=1e-14)


def test_couplings_without_local_term_report_it_without_memory():
    # dm_diag of the mean-field couplings: a read-only broadcast zero, seen as "no local term"
    from meanfolio.mfg import MarketImpact, MeanInteraction, MeanTracking
    from meanfolio.mfg.couplings import CouplingState
    from meanfolio.mfg.couplings.base import all_zero

    x = np.linspace(-1.0, 1.0, 7)
    m = np.abs(np.random.default_rng(0).normal(size=(3, 7)))
    state = CouplingState(x, x[1] - x[0], np.zeros(3), np.arange(3), m)
    state.drift = np.ones_like(m)
    state.drift_mean_gradient = np.ones_like(m)
    for coupling in (MeanTracking(1.0), MeanInteraction(0.5), MarketImpact(0.3)):
        diag = coupling.jacobian(state).dm_diag
        assert diag.shape == m.shape and all_zero(diag) and not diag.flags.writeable
        with pytest.raises(ValueError):
            diag[0, 0] = 1.0
    assert not all_zero(np.broadcast_to(np.float64(1e-300), (3, 7)))
    assert not all_zero(np.eye(3)) and all_zero(np.zeros((3, 3))) and all_zero(np.zeros((0, 4)))

