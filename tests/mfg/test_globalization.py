"""Newton never returns a wrong or silent answer: monotone globalisation, checked linear solves,
honest failures, and local couplings defined on densities only."""

import numpy as np
import pytest

from meanfolio.mfg import (
    Congestion,
    Continuation,
    Grid2D,
    Linear,
    LocalCoupling,
    MarketImpact,
    MeanTracking,
    MFGConfig,
    MFGProblem,
    PowerLaw,
    Quadratic,
    solve_ergodic_mfg,
    solve_mfg,
)
from meanfolio.mfg.couplings import CouplingState
from meanfolio.mfg.problems import problem as problem_module
from meanfolio.mfg.problems.problem2d import MFGProblem2D
from meanfolio.mfg.solvers import regularization
from meanfolio.mfg.solvers.iterative import IterationLog
from meanfolio.mfg.solvers.linear_solve import checked_solve
from meanfolio.mfg.solvers.newton import newton

from .conftest import dense_operator, gaussian, grid_of, lq_config

X = np.linspace(-2, 2, 60)
TERMINAL = 0.5 * (X - 0.5) ** 2


def config(**kw):
    base = dict(nx=60, nt=30, x_min=-2, x_max=2, viscosity=0.05, tolerance=1e-8)
    base.update(kw)
    return MFGConfig(**base)


def make_problem(f, hamiltonian, **kw):
    return MFGProblem.create(config(**kw), gaussian(X, 0.3, 0.5), f, terminal=TERMINAL, hamiltonian=hamiltonian)


class RecordingLog(IterationLog):
    """An IterationLog that also keeps the merit sqrt(|R_H|^2 + |R_F|^2) of every recorded iterate."""

    def __init__(self, problem, *args):
        super().__init__(*args)
        self.problem = problem
        self.merits = []

    def record(self, residual, u, m):
        rh, rf = self.problem.residual(u, m)
        self.merits.append(float(np.hypot(self.problem.norm(rh), self.problem.norm(rf))))
        return super().record(residual, u, m)


# -- item 2: no residual-increasing step, the best iterate, honest failure ---------


@pytest.mark.parametrize(
    "hamiltonian, f",
    [(Linear(1.0), Congestion(1.0)), (Linear(1.0), MeanTracking(1.0)), (PowerLaw(1.1), Congestion(1.0))],
    ids=["linear-congestion", "linear-mean", "power1.1-congestion"],
)
def test_newton_never_takes_a_step_that_increases_the_residual(hamiltonian, f):
    # The unsmoothed kinked games: the old line search took steps of 1/64 that raised the residual.
    problem = make_problem(f, hamiltonian)
    log = RecordingLog(problem, 1e-8, 40)
    stats = newton(problem, log)
    merits = np.array(log.merits)
    assert np.all(np.diff(merits) <= 1e-12 * merits[:-1]), merits
    # the returned iterate is the best one seen
    u, m = log.last
    rh, rf = problem.residual(u, m)
    assert np.hypot(problem.norm(rh), problem.norm(rf)) == pytest.approx(merits.min(), rel=1e-12)
    if not log.converged:  # honest: a reason, and the message says so
        assert stats.failure or "max_iterations" in log.message
        assert "not converged" in log.message


def test_newton_failure_is_reported_with_its_cause():
    # Linear + congestion has no exact discrete equilibrium Newton can reach: it must say why it stopped.
    problem = make_problem(Congestion(1.0), Linear(1.0))
    log = IterationLog(1e-8, 100)
    stats = newton(problem, log)
    assert not log.converged and stats.failure is not None
    assert "did not decrease" in log.message or "stagnated" in log.message
    assert len(log.history) < 100  # it stops when nothing works instead of spending the budget


def test_solver_reports_failure_when_the_homotopy_cannot_help(monkeypatch):
    monkeypatch.setattr(regularization, "MAX_STAGES", 0)
    sol = solve_mfg(config(), gaussian(X, 0.3, 0.5), Congestion(1.0), terminal=TERMINAL, hamiltonian=Linear(1.0))
    assert not sol.converged and sol.smoothing == 0.0
    assert "not converged" in sol.message and sol.final_residual > sol.config.tolerance
    # the reported residual is that of the returned pair
    problem = make_problem(Congestion(1.0), Linear(1.0))
    assert problem.residual_norm(sol.u, sol.m) == pytest.approx(sol.final_residual, rel=1e-10)
    assert sol.mass_error <= 1e-12 and sol.m.min() >= 0 and np.all(np.isfinite(sol.u))


def test_fallback_sweep_rescues_a_stalled_newton():
    # Quadratic + log density at low viscosity: Newton alone stalls at a kink of log(max(m, floor));
    # the solve must still converge (through the sweep or the coupling homotopy), checked independently.
    from meanfolio.mfg import LogDensity

    sol = solve_mfg(config(), gaussian(X, 0.3, 0.5), LogDensity(1.0), terminal=TERMINAL)
    assert sol.converged, sol.message
    problem = make_problem(LogDensity(1.0), Quadratic())
    assert problem.residual_norm(sol.u, sol.m) <= sol.config.tolerance


# -- item 3: the GMRES cap ------------------------------------------------------------


def test_checked_solve_measures_the_true_residual_and_restarts(lq, monkeypatch):
    cfg = lq_config(12, 6)
    x = grid_of(cfg).x
    problem = MFGProblem.create(cfg, lq.m0(x), lq.coupling() + MarketImpact(0.5), terminal=lq.terminal)
    u, m = problem.initial_guess()
    ops = problem.newton_operator(u, m)
    size = 2 * problem.steps * cfg.nx
    J = dense_operator(ops, size)
    b = np.random.default_rng(1).normal(size=size)

    def true_rel(v):
        return np.linalg.norm(b - J @ v) / np.linalg.norm(b)

    monkeypatch.setattr(problem_module, "GMRES_MAXITER", 1)  # the cap stops every solve short
    solve = checked_solve(problem, ops, b, 1e-12)
    assert solve.relative_residual == pytest.approx(true_rel(solve.x), rel=1e-8)
    assert not solve.converged and solve.relative_residual > 1e-12
    single, *_ = problem.linear_solve(ops, b, 1e-12)
    assert solve.relative_residual < true_rel(single)  # the warm restarts helped
    monkeypatch.setattr(problem_module, "GMRES_MAXITER", 400)
    solve = checked_solve(problem, ops, b, 1e-10)
    assert solve.converged and true_rel(solve.x) <= 1.01e-10


@pytest.mark.parametrize("periodic", [False, True])
def test_the_1d_gmres_estimate_that_is_trusted_is_the_true_residual(lq, periodic):
    # checked_solve takes the 1D GMRES's own residual when it met its tolerance (no product by J):
    # it must be the true relative residual |b - J x| / |b| of the full system, at every tolerance
    cfg = lq_config(40, 20, boundary="periodic") if periodic else lq_config(40, 20)
    x = grid_of(cfg).x
    f = lq.coupling() + MarketImpact(0.5) + Congestion(0.3)  # C_M, C_U and a local term
    problem = MFGProblem.create(cfg, lq.m0(x), f, terminal=lq.terminal)
    u, m = problem.initial_guess()
    ops = problem.newton_operator(u, m)
    size = 2 * problem.steps * cfg.nx
    J = dense_operator(ops, size)
    b = np.random.default_rng(3).normal(size=size)
    trusted = 0
    for rtol in (1e-1, 1e-3, 1e-5, 1e-7, 1e-9, 1e-11):
        delta, its, estimate = problem.linear_solve(ops, b, rtol)
        true = np.linalg.norm(b - J @ delta) / np.linalg.norm(b)
        assert true <= 1.001 * rtol
        if estimate is not None:  # a bound (the Givens estimate plus its rounding floor)
            trusted += 1
            assert true <= estimate * (1 + 1e-9) + 1e-15 and estimate <= rtol
            assert estimate <= 1.001 * true + 1e-10  # and a close one
        solve = checked_solve(problem, ops, b, rtol)
        assert solve.converged and solve.relative_residual == pytest.approx(true, rel=1e-3, abs=1e-10)
    assert trusted >= 5


def test_gmres_estimates_are_not_trusted_below_their_rounding(lq):
    # a strong coupling (|J| ~ 1e6 |b|, cond ~ 1e11): the Givens estimates fall far below what the
    # products' rounding lets the true residual reach; linear_solve must then give no estimate (or a
    # bound above the truth) and checked_solve must report the measured residual
    from meanfolio.mfg.solvers import _newton_kernels

    cfg = lq_config(5, 3)
    problem = MFGProblem.create(cfg, lq.m0(grid_of(cfg).x), MeanTracking(1e6), terminal=lq.terminal)
    ops = problem.newton_operator(*problem.initial_guess())
    size = 2 * problem.steps * cfg.nx
    J = dense_operator(ops, size)
    refused = 0
    for seed in range(12):
        b = np.random.default_rng(seed).normal(size=size)
        for rtol in (1e-8, 1e-10, 1e-14):
            delta, its, estimate = problem.linear_solve(ops, b, rtol)
            true = np.linalg.norm(b - J @ delta) / np.linalg.norm(b)
            if estimate is None:
                refused += 1
            else:
                assert true <= estimate * (1 + 1e-9)
            solve = checked_solve(problem, ops, b, rtol)
            measured = np.linalg.norm(b - J @ solve.x) / np.linalg.norm(b)
            # never an underestimate, above the ~1e-9 at which two ways of computing this residual
            # already differ by rounding (numpy's dense solve ends at 1e-10 to 1e-9 here)
            assert solve.relative_residual >= 0.5 * measured or measured < 1e-8
            assert solve.converged == (solve.relative_residual <= rtol)
        # the full GMRES's estimate too: its floor covers the truth
        x = np.zeros(size)
        work = np.empty((_newton_kernels.gmres_rows(9), size // 2))
        _, rel, floor = _newton_kernels.gmres_into(ops, b, 1e-10, 9, 400, x, work)
        assert np.linalg.norm(b - J @ x) / np.linalg.norm(b) <= rel + floor
    assert refused >= 24  # (the old code trusted every one of them)


def test_right_hand_sides_of_extreme_size_are_scaled_not_misread(lq):
    # |b|^2 under- or overflows for |b| ~ 1e-170 or 1e160: the kernels refuse such a b, checked_solve
    # scales it (the same direction, the same relative residual)
    from meanfolio.mfg.solvers import _gmres_lowrank, _newton_kernels

    cfg = lq_config(8, 4)
    problem = MFGProblem.create(cfg, lq.m0(grid_of(cfg).x), lq.coupling(), terminal=lq.terminal)
    ops = problem.newton_operator(*problem.initial_guess())
    size = 2 * problem.steps * cfg.nx
    b = np.random.default_rng(4).normal(size=size)
    plain = checked_solve(problem, ops, b, 1e-10)
    for factor in (1e-170, 1e160):
        solve = checked_solve(problem, ops, factor * b, 1e-10)
        assert solve.converged and solve.relative_residual == pytest.approx(plain.relative_residual, rel=1e-6)
        np.testing.assert_allclose(solve.x / factor, plain.x, rtol=1e-10, atol=1e-12 * np.abs(plain.x).max())
        rows = tuple(np.zeros(size // 2) for _ in range(_gmres_lowrank.ROWS))
        its, rel, floor = _gmres_lowrank.gmres_lowrank(ops, factor * b, 1e-10, 40, 400, np.zeros(size), rows)
        assert rel == np.inf  # refused, not "converged at 0"
        work = np.zeros((_newton_kernels.gmres_rows(40), size // 2))
        assert _newton_kernels.gmres_into(ops, factor * b, 1e-10, 40, 400, np.zeros(size), work)[1] == np.inf


def test_unconverged_inner_solves_are_counted_and_never_trusted(monkeypatch):
    # (a tolerance well below the first residuals: the forcing terms ask for precise solves, which
    # two GMRES iterations and their warm restarts do not reach)
    monkeypatch.setattr(problem_module, "GMRES_MAXITER", 2)
    f = Congestion(1.0) + MeanTracking(1.0)
    sol = solve_mfg(config(viscosity=0.2, tolerance=1e-11), gaussian(X, 0.3, 0.5), f, terminal=TERMINAL)
    assert sol.unconverged_linear_solves > 0
    assert len(sol.linear_residuals) == sol.iterations
    assert max(sol.linear_residuals) > 1e-8  # the cap stopped some solves short, and it shows
    problem = make_problem(f, Quadratic(), viscosity=0.2)
    if sol.converged:
        assert problem.residual_norm(sol.u, sol.m) <= sol.config.tolerance
    else:
        assert "not converged" in sol.message


# -- item 4: LocalCoupling on densities only -------------------------------------------


@pytest.mark.parametrize(
    "func, exact",
    [
        (lambda x, m: np.sqrt(m), lambda m: 0.5 / np.sqrt(m)),
        (lambda x, m: np.log(m + 1e-300), lambda m: 1.0 / m),
        (lambda x, m: m**0.5 + 2 * m, lambda m: 0.5 / np.sqrt(m) + 2),
    ],
    ids=["sqrt", "log", "sqrt+linear"],
)
def test_local_coupling_derivative_stays_in_the_domain(func, exact):
    coupling = LocalCoupling(func)
    m = np.array([[0.0, 1e-14, 1e-9, 1e-6, 1e-3, 0.3, 2.0]])
    state = CouplingState(np.zeros(7), 0.1, np.zeros(1), np.zeros(1, dtype=int), m)
    with np.errstate(all="raise"):  # no evaluation outside m >= 0
        d = coupling.jacobian(state).dm_diag
    assert np.all(np.isfinite(d)) and np.all(d > 0)
    np.testing.assert_allclose(d[0, 3:], exact(m[0, 3:]), rtol=1e-6)
    # a Newton iterate slightly below 0: finite, continuous at 0, increasing
    state.m = np.array([[-1e-7, -1e-12, 0.0, 1e-12]])
    state.x = np.zeros(4)
    v = coupling.value(state)
    assert np.all(np.isfinite(v)) and np.all(np.diff(v) > 0)


def test_local_coupling_with_a_singular_derivative_gets_a_finite_one():
    coupling = LocalCoupling(lambda x, m: np.sqrt(m), derivative=lambda x, m: 0.5 / np.sqrt(m))
    state = CouplingState(np.zeros(3), 0.1, np.zeros(1), np.zeros(1, dtype=int), np.array([[0.0, 0.25, 1.0]]))
    with np.errstate(divide="ignore"):
        d = coupling.jacobian(state).dm_diag
    assert np.all(np.isfinite(d)) and d[0, 1] == 1.0 and d[0, 2] == 0.5


@pytest.mark.parametrize("func", [lambda x, m: np.sqrt(m), lambda x, m: 0.3 * np.log(m + 1e-300)], ids=["sqrt", "log"])
@pytest.mark.parametrize("hamiltonian", [Quadratic(), PowerLaw(1.5)], ids=["quadratic", "power1.5"])
def test_solver_converges_with_couplings_defined_on_densities_only(func, hamiltonian):
    sol = solve_mfg(config(), gaussian(X, 0.3, 0.5), LocalCoupling(func), terminal=TERMINAL, hamiltonian=hamiltonian)
    assert sol.converged, sol.message
    problem = make_problem(LocalCoupling(func), sol.hamiltonian)
    assert problem.residual_norm(sol.u, sol.m) <= sol.config.tolerance


# -- continuation in the smoothing, 2D ------------------------------------------------


def test_continuation_in_smoothing_and_its_validation():
    H = Linear(1.0, smoothing=0.01)
    sol = solve_mfg(
        config(), gaussian(X, 0.3, 0.5), Congestion(1.0), terminal=TERMINAL, hamiltonian=H,
        continuation=Continuation("smoothing", (0.3, 0.1)),
    )  # fmt: skip
    assert sol.converged and sol.smoothing == 0.01 and sol.hamiltonian == H
    assert [s["smoothing"] for s in sol.stages] == [0.3, 0.1] and all(s["converged"] for s in sol.stages)
    with pytest.raises(ValueError, match="Quadratic cannot be smoothed"):
        solve_mfg(config(), gaussian(X), continuation=Continuation("smoothing", (0.1,)))
    with pytest.raises(ValueError, match="smoothing"):
        solve_ergodic_mfg(config(), Congestion(1.0), continuation=Continuation("smoothing", (0.1,)))
    with pytest.raises(ValueError, match="values"):
        Continuation("smoothing", (0.0,))


def test_kinked_2d_game_converges_through_the_smoothing():
    cfg = MFGConfig(dim=2, nx=14, ny=14, nt=10, x_min=-2, x_max=2, viscosity=0.1, tolerance=1e-8)
    X2, Y2 = Grid2D.from_config(cfg).mesh()
    m0 = np.exp(-((X2 - 0.3) ** 2 + Y2**2) / 0.5)
    g = 0.5 * (X2**2 + (Y2 - 0.5) ** 2)
    sol = solve_mfg(cfg, m0, Congestion(1.0), terminal=g, hamiltonian=Linear(1.0))
    assert sol.converged and 0 < sol.smoothing < 1e-2, sol.message
    problem = MFGProblem2D.create(cfg, m0, Congestion(1.0), terminal=g, hamiltonian=sol.hamiltonian)
    assert problem.residual_norm(sol.u, sol.m) <= cfg.tolerance
    assert sol.mass_error <= 1e-12 and sol.m.min() >= 0


def test_forcing_terms_do_not_over_solve_the_last_step():
    # Eisenstat-Walker: 0.05 res far away (quadratic convergence), but never tighter than the
    # stopping test needs (0.1 tol / res), and within [1e-10, 1e-2]
    from meanfolio.mfg.solvers.newton import forcing_term

    assert forcing_term(1.0, 1e-8) == 1e-2
    assert forcing_term(1e-2, 1e-8) == pytest.approx(5e-4)
    assert forcing_term(1e-5, 1e-8) == pytest.approx(1e-4)  # not 1e-6: the next residual needs only < tol
    assert forcing_term(1e-9, 1e-8) == 1e-2
    assert forcing_term(1e-12, 1e-30) == 1e-10
    # and the run still lands below its tolerance with these looser last solves
    sol = solve_mfg(config(viscosity=0.2, tolerance=1e-9), gaussian(X, 0.3, 0.5), MeanTracking(1.0), terminal=TERMINAL)
    assert sol.converged and sol.final_residual <= 1e-9
    history = sol.residual_history
    for res, achieved in zip(history[:-1], sol.linear_residuals, strict=True):
        assert achieved <= forcing_term(res, 1e-9)
