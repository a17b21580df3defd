"""Bad input raises ValueError naming the parameter, the value and what is allowed."""

import numpy as np
import pytest

from meanfolio.mfg import (
    Congestion,
    LocalCoupling,
    MFGConfig,
    MFGConvergenceWarning,
    PowerLaw,
    solve_mfg,
    solve_mfg_1d,
)

from .conftest import gaussian

X = np.linspace(-5, 5, 20)
CFG = MFGConfig(nx=20, nt=10)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("nx", 2, r"nx = 2 .*integer >= 3"),
        ("nt", 1, r"nt = 1 .*integer >= 2"),
        ("viscosity", -0.1, r"viscosity = -0.1 .*>= 0"),
        ("tolerance", 0.0, r"tolerance = 0.0 .*> 0"),
        ("relaxation", 0.0, r"relaxation = 0.0 .*\(0, 1\]"),
        ("relaxation", 1.5, r"relaxation = 1.5 .*\(0, 1\]"),
        ("x_max", -6.0, r"x_min = -5.0 and x_max = -6.0 .*x_min < x_max"),
        ("time_horizon", float("nan"), r"time_horizon = nan .*finite"),
        ("boundary", "dirichlet", r"boundary = 'dirichlet' .*'neumann', 'periodic'"),
        ("method", "magic", r"method = 'magic' .*'newton'"),
        ("max_iterations", 2.5, r"max_iterations = 2.5 .*integer"),
    ],
)
def test_config_rejects(field, value, match):
    with pytest.raises(ValueError, match=match):
        CFG.replace(**{field: value})


@pytest.mark.parametrize(
    "m0, match",
    [
        (-gaussian(X), r"m0 has a negative value"),
        (np.where(X > 0, np.nan, gaussian(X)), r"m0 contains .* non-finite"),
        (gaussian(X)[:-1], r"m0 has shape \(19,\) .*expected shape \(20,\)"),
        (np.zeros(20), r"m0 has total mass 0.0 .*> 0"),
    ],
)
def test_bad_initial_density(m0, match):
    with pytest.raises(ValueError, match=match):
        solve_mfg(CFG, m0)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_bad_cost_shapes():
    with pytest.raises(ValueError, match=r"f has shape \(9, 20\) .*\(nt, nx\) = \(10, 20\)"):
        solve_mfg(CFG, gaussian(X), np.zeros((9, 20)))
    with pytest.raises(ValueError, match=r"terminal has shape \(10, 20\)"):
        solve_mfg(CFG, gaussian(X), terminal=np.zeros((10, 20)))
    with pytest.raises(ValueError, match=r"f contains .* non-finite"):
        solve_mfg(CFG, gaussian(X), np.full((10, 20), np.inf))
    with pytest.raises(ValueError, match=r"func\(x, m\) returned non-finite"):
        solve_mfg(CFG, gaussian(X), LocalCoupling(lambda x, m: np.log(m - 1.0)))


def test_bad_model_parameters():
    with pytest.raises(ValueError, match=r"exponent = 1.0 .*> 1"):
        PowerLaw(1.0)
    with pytest.raises(ValueError, match=r"power = -1.0 .*> 0"):
        Congestion(-1.0)
    with pytest.raises(ValueError, match=r"hamiltonian = .* expected a Hamiltonian"):
        solve_mfg(CFG, gaussian(X), hamiltonian="quadratic")


def test_non_convergence_is_reported_not_hidden():
    config = MFGConfig(nx=30, nt=15, method="fixed_point", relaxation=0.1, max_iterations=3, tolerance=1e-12)
    x = np.linspace(-5, 5, 30)
    sol = solve_mfg(config, gaussian(x, 1.0), Congestion(1.0, 5.0))
    assert not sol.converged
    assert sol.iterations == 3 and len(sol.residual_history) == 4
    assert "not converged" in sol.message
    assert np.all(np.isfinite(sol.u)) and np.all(np.isfinite(sol.m))
    with pytest.warns(MFGConvergenceWarning, match="not converged"):
        u, m, iterations = solve_mfg_1d(config, gaussian(x, 1.0), Congestion(1.0, 5.0))
    assert iterations == 3


def test_callback_can_stop_a_run():
    config = MFGConfig(nx=30, nt=15, method="fixed_point", tolerance=1e-12, max_iterations=100)
    x = np.linspace(-5, 5, 30)
    seen = []
    sol = solve_mfg(config, gaussian(x), Congestion(1.0, 5.0), callback=lambda k, r: seen.append(r) or k >= 2)
    assert not sol.converged and sol.iterations == 2 and "callback" in sol.message
    assert seen == sol.residual_history[:3]


def test_interrupt_returns_what_was_finished():
    config = MFGConfig(nx=30, nt=15, method="fixed_point", tolerance=1e-12, max_iterations=100)
    x = np.linspace(-5, 5, 30)

    def interrupt(k, r):
        if k == 3:
            raise KeyboardInterrupt

    sol = solve_mfg(config, gaussian(x), Congestion(1.0, 5.0), callback=interrupt)
    assert not sol.converged and "interrupted" in sol.message
    assert len(sol.residual_history) == 4 and sol.mass_error < 1e-12
