"""The stationary (ergodic) MFG against its exact Gaussian solution, and continuation."""

import numpy as np
import pytest

from meanfolio.mfg import (
    Continuation,
    LogDensity,
    MarketImpact,
    MeanTracking,
    MFGConfig,
    RunningCost,
    solve_ergodic_mfg,
    solve_mfg,
)

from .conftest import lq_config

NU, A, B = 0.3, 1.0, 0.5


def exact(a=A, b=B, nu=NU, dim=1):
    """m = N(0, nu/P) per coordinate, lambda = dim * (nu P - (b/2) log(2 pi nu / P))."""
    P = (-(b / nu) + np.sqrt((b / nu) ** 2 + 4 * a)) / 2
    return P, nu / P, dim * (nu * P - 0.5 * b * np.log(2 * np.pi * nu / P))


def solve_1d(n, f=None, box=(-4.0, 4.0), **kw):
    config = MFGConfig(nx=n, x_min=box[0], x_max=box[1], viscosity=NU, tolerance=1e-10, max_iterations=60)
    f = RunningCost(lambda t, x: 0.5 * A * x**2) + LogDensity(B) if f is None else f
    sol = solve_ergodic_mfg(config, f, **kw)
    assert sol.converged, sol.message
    assert sol.mass_error < 1e-12 and sol.m.min() > 0
    dx = sol.x[1] - sol.x[0]
    mean = dx * np.sum(sol.x * sol.m)
    return sol, mean, dx * np.sum((sol.x - mean) ** 2 * sol.m)


def test_ergodic_1d_first_order_to_the_exact_gaussian():
    P, var, lam = exact()
    errors = []
    for n in (100, 200, 400):
        sol, mean, v = solve_1d(n)
        errors.append([abs(sol.lam - lam), abs(v - var), abs(mean)])
        assert abs(np.sum(sol.u)) < 1e-9  # normalisation
    errors = np.array(errors)
    assert np.all(errors[:, 2] < 1e-10)  # symmetric problem, symmetric answer
    ratio = errors[:-1, :2] / errors[1:, :2]
    assert np.all((ratio > 1.8) & (ratio < 2.2)), ratio
    assert errors[-1, 0] < 2e-3 and errors[-1, 1] < 5e-3


def test_ergodic_non_local_moments_are_extra_unknowns():
    # f = (a/2)(x - c)^2 + (q/2)(x - mbar)^2 + b log m: the Gaussian centred at c with
    # curvature a + q, so the same variance and lambda as the local game with a + q alone.
    a, q, c = 0.6, 0.4, 0.7
    _, var, _ = exact(a=a + q)
    box = (-5.0, 7.0)  # wide enough that the no-flux walls do not move the mean
    errs = []
    for n in (300, 600):
        f = RunningCost(lambda t, x: 0.5 * a * (x - c) ** 2) + MeanTracking(q) + LogDensity(B)
        sol, mean, v = solve_1d(n, f, box)
        local, _, _ = solve_1d(n, RunningCost(lambda t, x: 0.5 * (a + q) * (x - c) ** 2) + LogDensity(B), box)
        assert abs(mean - c) < 1e-6
        assert sol.lam == pytest.approx(local.lam, abs=1e-9)
        np.testing.assert_allclose(sol.m, local.m, atol=1e-8)
        errs.append(abs(v - var))
    assert 1.8 < errs[0] / errs[1] < 2.2, errs


def test_ergodic_2d_first_order():
    _, var, lam = exact(dim=2)
    errors = []
    for n in (30, 60):
        config = MFGConfig(nx=n, dim=2, x_min=-4, x_max=4, viscosity=NU, tolerance=1e-10, max_iterations=60)
        sol = solve_ergodic_mfg(config, RunningCost(lambda t, x, y: 0.5 * A * (x**2 + y**2)) + LogDensity(B))
        assert sol.converged, sol.message
        assert sol.mass_error < 1e-12 and sol.m.min() > 0
        assert sol.m.shape == (n, n) and sol.alpha.shape == (n, n, 2)
        np.testing.assert_allclose(sol.m, sol.m.T, atol=1e-10)
        cell = (sol.x[1] - sol.x[0]) ** 2
        X, _ = np.meshgrid(sol.x, sol.y)
        errors.append([abs(sol.lam - lam), abs(cell * np.sum(X**2 * sol.m) - var)])
    errors = np.array(errors)
    ratio = errors[0] / errors[1]
    assert np.all((ratio > 1.7) & (ratio < 2.4)), (errors, ratio)


def test_ergodic_continuation_reaches_the_same_solution():
    direct, _, _ = solve_1d(120)
    cont, _, _ = solve_1d(120, continuation=Continuation("viscosity", (2.0, 1.0)))
    assert [s["viscosity"] for s in cont.stages] == [2.0, 1.0, NU]
    np.testing.assert_allclose(cont.m, direct.m, atol=1e-9)
    assert cont.lam == pytest.approx(direct.lam, abs=1e-10)
    coupling, _, _ = solve_1d(120, continuation=Continuation("coupling", (0.0, 0.5)))
    np.testing.assert_allclose(coupling.m, direct.m, atol=1e-9)


def test_time_dependent_continuation_and_wasserstein_history(lq):
    config = lq_config(100, 51)
    x = np.linspace(-2.5, 4.0, 100)
    plain = solve_mfg(config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x), diagnostics=True)
    staged = solve_mfg(
        config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x), continuation=Continuation("coupling", (0.3,))
    )
    assert staged.converged and staged.stages[0]["factor"] == 0.3 and staged.stages[0]["converged"]
    np.testing.assert_allclose(staged.m, plain.m, atol=1e-8)
    assert staged.wasserstein_history == []  # not asked for: not computed
    # W1 <= W2 for probability measures; Newton's last change is tiny
    w = np.array(plain.wasserstein_history)
    assert w.shape == (plain.iterations, 2)
    assert np.all(w[:, 0] <= w[:, 1] + 1e-14)
    # Newton's changes shrink fast (W2 like the square root of the small mass moved)
    assert w[-1, 0] < 1e-5 < w[0, 0] and np.all(np.diff(w[:, 1]) < 0)


def test_bad_input():
    with pytest.raises(ValueError, match="parameter"):
        Continuation("time", (1.0,))
    with pytest.raises(ValueError, match="values"):
        Continuation("coupling", (1.5,))
    with pytest.raises(ValueError, match="values"):
        Continuation("viscosity", ())
    config = MFGConfig(nx=20)
    with pytest.raises(ValueError, match="MarketImpact"):
        solve_ergodic_mfg(config, MarketImpact(1.0))
    with pytest.raises(ValueError, match="continuation"):
        solve_mfg(config.replace(method="fixed_point"), np.ones(20), continuation=Continuation("coupling", (0.5,)))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the ascent direction is meant to blow up
def test_ergodic_newton_never_takes_a_residual_raising_step(monkeypatch):
    # Feed Newton an ascent direction (the negated Newton step): no step length decreases |R|, so it
    # must stop unconverged, say so, and return an iterate no worse than where it started.
    from meanfolio.mfg.problems import ergodic

    solve = ergodic._Lagged.solve
    monkeypatch.setattr(ergodic._Lagged, "solve", lambda self, *a, **k: -solve(self, *a, **k))
    config = MFGConfig(nx=60, x_min=-4.0, x_max=4.0, viscosity=NU, tolerance=1e-10, max_iterations=20)
    sol = solve_ergodic_mfg(config, RunningCost(lambda t, x: 0.5 * A * x**2) + LogDensity(B))
    assert not sol.converged and "decreased the residual" in sol.message
    assert np.all(np.diff(sol.residual_history) <= 0), sol.residual_history


def test_coarse_grid_start_reaches_the_same_solution_in_fewer_newton_steps():
    # Nested iteration: the default start on a 48x48 grid is the interpolated 24x24 solution. It must
    # give the same discrete solution as the best-response start (a continuation turns the coarse
    # start off) and save Newton steps on the fine grid.
    from meanfolio.mfg import Continuation

    config = MFGConfig(nx=48, dim=2, x_min=-4, x_max=4, viscosity=NU, tolerance=1e-10, max_iterations=60)
    f = RunningCost(lambda t, x, y: 0.5 * A * (x**2 + y**2)) + LogDensity(B)
    nested = solve_ergodic_mfg(config, f)
    plain = solve_ergodic_mfg(config, f, continuation=Continuation("coupling", (0.9,)))
    assert nested.converged and plain.converged, (nested.message, plain.message)
    np.testing.assert_allclose(nested.m, plain.m, atol=1e-9)
    assert abs(nested.lam - plain.lam) < 1e-9
    assert nested.iterations < plain.iterations, (nested.iterations, plain.iterations)
