"""Every Hamiltonian x coupling converges; the smoothing of kinked Hamiltonians and its limit."""

import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meanfolio.mfg import (
    Congestion,
    Continuation,
    Grid1D,
    Linear,
    LocalCoupling,
    LogDensity,
    MarketImpact,
    MeanTracking,
    MFGConfig,
    MFGProblem,
    PowerLaw,
    Quadratic,
    RunningCost,
    solve_mfg,
)
from meanfolio.mfg.hamiltonians import Hamiltonian, upwind
from meanfolio.mfg.schemes.hjb import upwind_terms

from .conftest import gaussian

HAMILTONIANS = {
    "quadratic": Quadratic(),
    "linear1": Linear(1.0),
    "linear0.5": Linear(0.5),
    "power1.1": PowerLaw(1.1),
    "power1.5": PowerLaw(1.5),
    "power3": PowerLaw(3.0),
}
COUPLINGS = {
    "congestion": lambda: Congestion(1.0),
    "log": lambda: LogDensity(1.0),
    "local_sqrt": lambda: LocalCoupling(lambda x, m: np.sqrt(m)),
    "mean_tracking": lambda: MeanTracking(1.0),
    "market_impact": lambda: MarketImpact(0.5) + RunningCost(lambda t, x: 0.5 * x**2),
}
X = np.linspace(-2, 2, 60)
M0 = gaussian(X, 0.3, 0.5)
TERMINAL = 0.5 * (X - 0.5) ** 2


def config(viscosity, **kw):
    return MFGConfig(nx=60, nt=30, x_min=-2, x_max=2, viscosity=viscosity, tolerance=1e-8, **kw)


def solve(hamiltonian, f, viscosity, **kw):
    return solve_mfg(config(viscosity), M0, f, terminal=TERMINAL, hamiltonian=hamiltonian, **kw)


def independent_residual(sol, f, viscosity):
    """The discrete residual of the returned (u, m) for the game it claims to solve."""
    problem = MFGProblem.create(config(viscosity), M0, f, terminal=TERMINAL, hamiltonian=sol.hamiltonian)
    return problem.residual_norm(sol.u, sol.m)


# -- the smoothed Hamiltonians ------------------------------------------------------

SMOOTHED = [Linear(0.7, 0.05), Linear(1.0, 1e-3), PowerLaw(1.1, 0.05), PowerLaw(1.5, 0.2), PowerLaw(3.0, 0.1)]


@pytest.mark.parametrize("H", SMOOTHED, ids=repr)
def test_smoothed_derivatives_by_central_differences(H):
    x = np.zeros(8)
    p = np.array([-2.0, -1.1, -0.3, -1e-3, 0.0, 0.4, 0.9, 2.5])
    h = 1e-7
    np.testing.assert_allclose(H.H_p(x, p), (H.H(x, p + h) - H.H(x, p - h)) / (2 * h), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H.H_pp(x, p), (H.H_p(x, p + h) - H.H_p(x, p - h)) / (2 * h), rtol=1e-5, atol=1e-5)
    assert H.H(x, np.zeros(1))[0] == 0.0 and H.H_p(x, np.zeros(1))[0] == 0.0


@pytest.mark.parametrize("H", SMOOTHED, ids=repr)
@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_compiled_smoothed_split_equals_numpy_split(H, boundary):
    class Plain(Hamiltonian):  # the same H through the generic vectorised path
        def H(self, x, p):
            return H.H(x, p)

        def H_p(self, x, p):
            return H.H_p(x, p)

        def H_pp(self, x, p):
            return H.H_pp(x, p)

    grid = Grid1D.from_config(MFGConfig(nx=31, nt=3, x_min=-1, x_max=2, boundary=boundary))
    u = np.random.default_rng(0).normal(size=(4, 31)).cumsum(axis=1) * 0.2
    fast = upwind_terms(grid, H, u)
    slow = upwind(Plain(), grid.x, grid.backward_difference(u), grid.forward_difference(u))
    for name in ("value", "left", "right", "dleft", "dright"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-13, atol=1e-14)


@settings(max_examples=100, deadline=None)
@given(a=st.floats(-5, 5), b=st.floats(-5, 5), da=st.floats(0, 1), db=st.floats(0, 1), k=st.integers(0, 4))
def test_smoothed_split_is_monotone_consistent_and_close_to_the_kinked_one(a, b, da, db, k):
    H = SMOOTHED[k]
    x = np.zeros(1)

    def val(a_, b_, ham=H):
        return upwind(ham, x, np.array([a_]), np.array([b_])).value[0]

    assert val(a + da, b) >= val(a, b) - 1e-12
    assert val(a, b + db) <= val(a, b) + 1e-12
    assert val(a, a) == pytest.approx(H.H(x, np.array([a]))[0], rel=1e-12, abs=1e-12)
    exact = H.smoothed(0.0)
    bound = 2 * (H.speed * H.smoothing if isinstance(H, Linear) else H.smoothing**H.exponent / H.exponent)
    if isinstance(H, Linear) or H.exponent <= 2:
        assert abs(val(a, b) - val(a, b, exact)) <= bound + 1e-12


def test_smoothing_is_validated_and_only_for_kinked_hamiltonians():
    with pytest.raises(ValueError, match="smoothing = -0.1 .*>= 0"):
        Linear(1.0, smoothing=-0.1)
    with pytest.raises(ValueError, match="cannot be smoothed"):
        Quadratic().smoothed(0.1)
    assert Linear().kinked and PowerLaw(1.5).kinked and not PowerLaw(2.5).kinked and not Quadratic().kinked
    assert Linear(1.0).kernel == (1, 1.0) and Linear(1.0, 0.1).kernel is None


# -- the matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("viscosity", [0.05, 0.2])
@pytest.mark.parametrize("coupling", sorted(COUPLINGS))
@pytest.mark.parametrize("hamiltonian", list(HAMILTONIANS))
def test_every_hamiltonian_and_coupling_converges(hamiltonian, coupling, viscosity):
    H, f = HAMILTONIANS[hamiltonian], COUPLINGS[coupling]()
    sol = solve(H, f, viscosity)
    assert sol.converged, sol.message
    residual = independent_residual(sol, f, viscosity)
    assert residual <= sol.config.tolerance, (residual, sol.message)
    assert residual == pytest.approx(sol.final_residual, rel=1e-10, abs=1e-15)
    assert sol.mass_error <= 1e-12 and sol.m.min() >= 0
    if sol.smoothing > 0:  # only a kinked H is smoothed, to a small delta, and the message says so
        assert H.kinked and sol.smoothing < 1e-2 and "smoothed" in sol.message
        assert sol.hamiltonian == H.smoothed(sol.smoothing)
    else:
        assert sol.hamiltonian == H


@pytest.mark.parametrize(
    "H, f, viscosity",
    [(Linear(1.0), Congestion(1.0), 0.05), (PowerLaw(1.1), Congestion(1.0), 0.05), (Linear(0.5), LogDensity(1.0), 0.2)],
    ids=["linear-congestion", "power1.1-congestion", "linear0.5-log"],
)
def test_smoothed_solutions_converge_as_the_smoothing_vanishes(H, f, viscosity):
    deltas = [0.1, 0.03, 0.01, 0.003, 0.001]
    previous, initial, du, dm = None, None, [], []
    dx = X[1] - X[0]
    for delta in deltas:
        sol = solve(H.smoothed(delta), f, viscosity, initial=initial)
        assert sol.converged and independent_residual(sol, f, viscosity) <= 1e-8, sol.message
        if previous is not None:
            du.append(np.abs(sol.u - previous.u).max())
            dm.append(dx * np.abs(sol.m - previous.m).sum(axis=1).max())
        previous, initial = sol, (sol.u, sol.m)
    # |H_delta - H| <= C delta: successive differences fall (u about like delta)
    assert np.all(np.diff(du) < 0) and np.all(np.diff(dm) < 0), (du, dm)
    assert du[-1] < 0.1 * du[0] and du[-1] < 3e-3


def test_the_quoted_failures_now_converge():
    # PowerLaw(1.2) at viscosity 0.2 failed even with a continuation in viscosity
    start = time.perf_counter()
    f = Congestion(1.0)
    sol = solve(PowerLaw(1.2), f, 0.2, continuation=Continuation("viscosity", (0.8, 0.4)))
    assert sol.converged and independent_residual(sol, f, 0.2) <= 1e-8, sol.message
    assert [s["viscosity"] for s in sol.stages if s["kind"] == "continuation"][:1] == [0.8]
    # PowerLaw(1.1) at viscosity 0.05 gave up after ~16k GMRES iterations
    sol = solve(PowerLaw(1.1), f, 0.05)
    assert sol.converged and independent_residual(sol, f, 0.05) <= 1e-8, sol.message
    gmres = sum(sol.linear_iterations) + sum(s["gmres_iterations"] for s in sol.stages)
    assert gmres < 3000 and sol.unconverged_linear_solves <= 2
    assert time.perf_counter() - start < 30


def test_seed_api_warns_when_the_answer_is_for_a_smoothed_game():
    # solve_mfg_1d returns bare arrays: the smoothing must be said in a warning.
    from meanfolio.mfg import LogDensity, MFGConvergenceWarning, solve_mfg_1d

    x = np.linspace(-2, 2, 41)
    config = MFGConfig(nx=41, nt=21, x_min=-2, x_max=2, viscosity=0.2)
    with pytest.warns(MFGConvergenceWarning, match="smoothed by delta"):
        solve_mfg_1d(config, np.exp(-(x**2) / 0.5), LogDensity(1.0), terminal=lambda x: x**2, hamiltonian=Linear(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MFGConvergenceWarning)  # a smooth H: no warning
        solve_mfg_1d(config, np.exp(-(x**2) / 0.5), LogDensity(1.0), terminal=lambda x: x**2)
