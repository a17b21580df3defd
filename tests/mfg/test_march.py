"""The level-by-level compiled solves (``_march``) against the global formulations they replace,
and the reuse of Newton's work arrays (``MFGProblem._spare``)."""

import numpy as np
import pytest

from meanfolio.mfg import Grid1D, Linear, PowerLaw, Quadratic
from meanfolio.mfg.schemes import _kernels
from meanfolio.mfg.schemes.fokker_planck import fokker_planck_operator, solve_fokker_planck
from meanfolio.mfg.schemes.hjb import _solve_hjb_global, hjb_residual, solve_hjb, upwind_terms

from .conftest import gaussian, lq_config

HAMILTONIANS = [Quadratic(), Linear(1.0), PowerLaw(1.5), PowerLaw(3.0)]


def _game(boundary, nx=41, nt=25):
    grid = Grid1D.uniform(nx, -2.0, 2.0, nt, 1.0, boundary)
    x = grid.x
    t = grid.t[:-1, None]
    f = 0.5 * (x - 0.3 * np.sin(3 * t)) ** 2 + 0.2 * np.cos(2 * x)  # time-dependent running cost
    g = 0.4 * np.sin(2 * x) + 0.1 * x**2
    return grid, f, g


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
@pytest.mark.parametrize("hamiltonian", HAMILTONIANS, ids=repr)
@pytest.mark.parametrize("with_init", [False, True])
def test_hjb_march_solves_the_same_equations_as_the_global_newton(boundary, hamiltonian, with_init):
    grid, f, g = _game(boundary)
    rng = np.random.default_rng(0)
    init = g + 0.3 * rng.normal(size=(grid.nt, grid.nx)) if with_init else None
    u, its = solve_hjb(grid, 0.2, hamiltonian, f, g, u_init=init)
    assert its >= 1
    # the discrete HJB holds at every level, to the tolerance of solve_hjb (dt-scaled, max norm)
    terms = upwind_terms(grid, hamiltonian, u[:-1])
    res = grid.dt * hjb_residual(grid, 0.2, terms, u, f)
    assert np.abs(res).max() <= 1e-13 * (1 + np.abs(u).max())
    np.testing.assert_array_equal(u[-1], g)
    u_global, _ = _solve_hjb_global(grid, 0.2, hamiltonian, np.ascontiguousarray(f), g, init, 1e-13, 100)
    np.testing.assert_allclose(u, u_global, rtol=0, atol=1e-10 * (1 + np.abs(u).max()))


def test_hjb_march_falls_back_and_reports_a_level_that_does_not_converge():
    grid, f, g = _game("neumann")
    with pytest.raises(RuntimeError, match="did not converge"):
        solve_hjb(grid, 0.2, Quadratic(), f, g, max_iterations=0)  # no Newton step allowed
    with pytest.raises(FloatingPointError):
        solve_hjb(grid, 0.2, Quadratic(), np.full_like(f, np.nan), g)


@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
@pytest.mark.parametrize("hamiltonian", HAMILTONIANS, ids=repr)
def test_fp_march_equals_the_assembled_transpose_sweep(boundary, hamiltonian):
    grid, _, g = _game(boundary, nt=24)  # 23 steps: the last group of levels factored together is short
    rng = np.random.default_rng(1)
    u = g + np.cumsum(0.05 * rng.normal(size=(grid.nt, grid.nx)), axis=0)
    terms = upwind_terms(grid, hamiltonian, u[:-1])
    m0 = gaussian(grid.x, 0.2, 0.5)
    m = solve_fokker_planck(grid, 0.2, terms, m0)
    lo, di, up = fokker_planck_operator(grid, 0.2, terms)
    ref = np.empty((grid.nt - 1, grid.nx))
    _kernels.forward_sweep(lo, di, up, np.zeros_like(ref), m0, ref)
    np.testing.assert_allclose(m[1:], ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_array_equal(m[0], m0)
    np.testing.assert_allclose(m.sum(axis=1), m0.sum(), rtol=1e-12)  # mass kept exactly


def test_newton_operator_reuses_its_arrays_only_when_released(lq):
    from meanfolio.mfg import MFGProblem

    config = lq_config(30, 12)
    x = np.linspace(-2.5, 4.0, 30)
    problem = MFGProblem.create(config, lq.m0(x), lq.coupling(), terminal=lq.terminal)
    u, m = problem.initial_guess()
    first = problem.newton_operator(u, m)
    kept = [a.copy() for a in first]
    u2 = u + 0.2 * np.sin(x)
    second = problem.newton_operator(u2, m)
    for a, b in zip(first, kept, strict=True):  # a caller's operator is never overwritten
        np.testing.assert_array_equal(a, b)
    bases = {id(first[0].base), id(second[0].base)}
    assert len(bases) == 2
    del first, second
    third = problem.newton_operator(u2, m)
    assert id(third[0].base) in bases  # released: their memory is reused
    fresh = MFGProblem.create(config, lq.m0(x), lq.coupling(), terminal=lq.terminal).newton_operator(u2, m)
    for a, b in zip(third, fresh, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_finiteness_check_of_the_iteration_log_is_exact():
    from meanfolio.mfg.solvers.iterative import _all_finite

    a = np.ones((4, 5))
    assert _all_finite(a)
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[2, 3] = bad
        assert not _all_finite(b)
    huge = np.full(6, 1e308)  # finite, but its sum overflows: the exact test decides
    assert _all_finite(huge)
    huge[1] = np.inf
    huge[2] = -np.inf  # inf - inf: a NaN sum, still caught
    assert not _all_finite(huge)


def test_newtons_start_keeps_its_fp_factors_for_the_first_operator():
    # initial_point solves its FP with factors made first and kept; the first Newton operator at the
    # same point reuses them: the same bits as the plain march and as an operator factored afresh
    from meanfolio.mfg import MFGProblem
    from meanfolio.mfg.examples import lq_example

    game = lq_example(120, 60)
    problem = MFGProblem.create(game["config"], game["m0"], game["f"], terminal=game["terminal"])
    u, m, terms = problem.initial_point()
    assert problem._factored is not None and problem._factored[0] is terms
    # (the plain march of solve_fokker_planck, which factors each level as it passes)
    np.testing.assert_array_equal(m, solve_fokker_planck(problem.grid, problem.config.viscosity, terms, problem.m0))
    reused = problem.newton_operator(u, m, terms)
    assert problem._factored is None  # (used once, then released)
    fresh = problem.newton_operator(u, m, terms)
    assert reused[0] is not fresh[0]
    for a, b in zip(reused, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
