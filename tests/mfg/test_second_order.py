"""The second-order scheme (Crank-Nicolson, centred): order on the LQ closed form, mass, Jacobian."""

import numpy as np
import pytest

from meanfolio.mfg import (
    Congestion,
    Grid2D,
    LogDensity,
    MarketImpact,
    MeanTracking,
    MFGConfig,
    PowerLaw,
    RunningCost,
    solve_mfg,
)
from meanfolio.mfg.couplings import Coupling, CouplingJacobian
from meanfolio.mfg.problems.second_order import SecondOrderProblem

from .conftest import grid_of, lq_config


def _errors_1d(lq, nx, nt, scheme="second_order"):
    config = lq_config(nx, nt, scheme=scheme, tolerance=1e-10)
    grid = grid_of(config)
    sol = solve_mfg(config, lq.m0(grid.x), lq.coupling(), terminal=lq.terminal)
    assert sol.converged, sol.message
    assert sol.final_residual <= 1e-9
    mean = grid.moment(sol.m[-1])
    var = grid.moment(sol.m[-1], 2) - mean**2
    n = (nt - 1) // 2
    ux = np.gradient(sol.u[n], grid.dx)  # centred in the interior
    bulk = np.abs(grid.x - lq.mean(grid.t[n])) < 1.2
    ux_err = np.max(np.abs(ux[bulk] - lq.u_x(grid.t[n], grid.x[bulk])))
    return np.array([abs(mean - lq.mean(1.0)), abs(var - lq.variance(1.0)), ux_err]), sol


def test_lq_second_order_convergence_1d(lq):
    # Observed orders log2(e(h) / e(h/2)) when nx and nt double, for the mean and variance at T and u_x.
    errors = [_errors_1d(lq, nx, nt)[0] for nx, nt in ((50, 26), (100, 51), (200, 101))]
    for coarse, fine in zip(errors, errors[1:], strict=False):
        order = np.log2(coarse / fine)
        assert np.all(order >= 1.8), order
    # The upwind scheme at 4x the resolution in space and time is still less accurate.
    first_order, _ = _errors_1d(lq, 800, 401, scheme="upwind")
    assert np.all(errors[-1][:2] < first_order[:2]), (errors[-1], first_order)
    assert np.all(errors[-1][:2] < 0.01 * first_order[:2])


def _lq_2d(lq, n, nt, scheme):
    config = MFGConfig(
        nx=n, nt=nt, x_min=-2.5, x_max=4.0, time_horizon=lq.T, viscosity=lq.nu, tolerance=1e-9, dim=2, scheme=scheme
    )
    grid = Grid2D.from_config(config)
    X, Y = grid.mesh()
    f = MeanTracking(lq.a) + RunningCost(lambda t, x, y: 0.5 * lq.b * (x**2 + y**2))
    sol = solve_mfg(config, lq.m0(X) * lq.m0(Y), f, terminal=lambda X, Y: lq.terminal(X) + lq.terminal(Y))
    assert sol.converged, sol.message
    errors = []
    for axis, z, dz in ((0, sol.x, grid.gx.dx), (1, sol.y, grid.gy.dx)):
        marginal = sol.m[-1].sum(axis=axis) * (grid.gy.dx if axis == 0 else grid.gx.dx)
        mean = dz * np.sum(z * marginal)
        errors += [abs(mean - lq.mean(1.0)), abs(dz * np.sum(z**2 * marginal) - mean**2 - lq.variance(1.0))]
    return np.array(errors), sol


def test_lq_second_order_convergence_2d(lq):
    e1, _ = _lq_2d(lq, 20, 11, "second_order")
    e2, _ = _lq_2d(lq, 40, 21, "second_order")
    order = np.log2(e1 / e2)
    assert np.all(order >= 1.8), order
    first_order, _ = _lq_2d(lq, 80, 41, "upwind")
    assert np.all(e1 < first_order), (e1, first_order)


class _MassTerminal(Coupling):
    """g(x, m) = c * x * (dx sum x m): a terminal cost with a low-rank derivative in m."""

    def __init__(self, c):
        self.c = c

    def value(self, state):
        mean = state.dx * state.m @ state.x
        return self.c * state.x[None, :] * mean[:, None]

    def jacobian(self, state):
        N = state.m.shape[0]
        c = np.broadcast_to(self.c * state.x, (N, state.x.size)).copy()
        w = np.broadcast_to(state.dx * state.x, (N, state.x.size)).copy()
        return CouplingJacobian(np.zeros((N, state.x.size)), [(c, w)])


@pytest.mark.parametrize("dim", [1, 2])
def test_newton_operator_matches_finite_differences(dim):
    # The assembled Jacobian (sparse part + low-rank part, chain rule through U^N = g(M^N)) against
    # central differences of the residual: any missing or misplaced block shows up here.
    n, nt = (9, 5) if dim == 1 else (5, 4)
    kw = dict(nx=n, nt=nt, x_min=-1.0, x_max=1.0, viscosity=0.2, scheme="second_order", dim=dim)
    config = MFGConfig(**kw)
    rng = np.random.default_rng(3)
    shape = (n,) if dim == 1 else (n, n)
    m0 = 1.0 + 0.5 * rng.random(shape)
    f = Congestion(0.7) + MeanTracking(0.4) + LogDensity(0.3)
    terminal = _MassTerminal(0.5) if dim == 1 else None
    problem = SecondOrderProblem.create(config, m0, f, terminal=terminal, hamiltonian=PowerLaw(3.0))
    u = rng.normal(size=(nt, *shape))
    m = 1.0 + 0.3 * rng.random((nt, *shape))
    m[0] = problem.m0
    ops = problem.newton_operator(u, m)
    N, size = nt - 1, int(np.prod(shape))
    dt = problem.grid.dt

    def residual(v):
        uu, mm = u.copy(), m.copy()
        uu[:-1] = v[: N * size].reshape(N, *shape)
        mm[1:] = v[N * size :].reshape(N, *shape)
        rh, rf, _ = problem.residual_and_terms(uu, mm)
        return dt * np.concatenate((rh.ravel(), rf.ravel()))

    v0 = np.concatenate((u[:-1].ravel(), m[1:].ravel()))
    for k in range(v0.size):
        e = np.zeros(v0.size)
        e[k] = 1e-6
        fd = (residual(v0 + e) - residual(v0 - e)) / 2e-6
        np.testing.assert_allclose(problem.matvec(ops, e / 1e-6), fd, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_mass_exact_and_converged_with_nonlinear_couplings(boundary):
    x = np.linspace(-2, 2, 81)
    config = MFGConfig(
        nx=81, nt=41, x_min=-2, x_max=2, viscosity=0.3, boundary=boundary, scheme="second_order", tolerance=1e-10
    )
    m0 = np.exp(-((x - 0.5) ** 2) / 0.3)
    sol = solve_mfg(config, m0, Congestion(1.0) + LogDensity(0.5), terminal=lambda x: np.cos(2 * x))
    assert sol.converged, sol.message
    # Residual recomputed independently of the solver's own flag.
    problem = SecondOrderProblem.create(config, m0, Congestion(1.0) + LogDensity(0.5), terminal=lambda x: np.cos(2 * x))
    assert problem.residual_norm(sol.u, sol.m) <= 1e-9
    assert sol.mass_error <= 1e-12


def test_second_order_input_is_checked():
    with pytest.raises(ValueError, match="scheme"):
        MFGConfig(scheme="centered")
    with pytest.raises(ValueError, match="method = 'fixed_point' is not allowed with scheme = 'second_order'"):
        MFGConfig(scheme="second_order", method="fixed_point")
    config = MFGConfig(nx=21, nt=6, scheme="second_order")
    with pytest.raises(ValueError, match="depends on the controls"):
        solve_mfg(config, np.ones(21), MarketImpact(0.5))


def test_high_peclet_is_flagged():
    x = np.linspace(-2, 2, 41)
    dx = x[1] - x[0]
    config = MFGConfig(nx=41, nt=11, x_min=-2, x_max=2, viscosity=0.05, scheme="second_order")
    problem = SecondOrderProblem.create(config, np.exp(-(x**2)), MeanTracking(1.0))
    # u = 3 x^2: H_p = u_x = 6 x, largest at the last interior node (the no-flux ends have G u = 0).
    u = np.broadcast_to(3 * x**2, (11, 41))
    assert problem.peclet(u) == pytest.approx(6 * (2 - dx) * dx / (2 * 0.05), rel=1e-12)
    assert "Peclet number" in problem.scheme_note(u)
    assert problem.scheme_note(0.01 * u) is None
    sol = solve_mfg(config.replace(nt=6), np.exp(-(x**2)), MeanTracking(1.0), terminal=lambda x: 3 * x**2)
    assert "Peclet" in sol.message
