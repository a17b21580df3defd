"""Mass is conserved to round-off and m stays >= 0, for every Hamiltonian and coupling; and where the
theory promises convergence (smooth Hamiltonian, smooth monotone coupling, viscosity > 0) every
method converges: the residual of the returned pair, recomputed here, is below the tolerance."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meanfolio.mfg import (
    Congestion,
    Custom,
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

from .conftest import gaussian

HAMILTONIANS = {
    "quadratic": lambda p: Quadratic(),
    "linear": lambda p: Linear(speed=0.5 + p),
    "power": lambda p: PowerLaw(1.3 + 2 * p),
    "custom": lambda p: Custom(lambda x, q: np.sqrt(1 + q**2) - 1, lambda x, q: q / np.sqrt(1 + q**2)),
}
COUPLINGS = {
    "array": lambda s: RunningCost(lambda t, x: s * np.cos(x) * (1 + t)),
    "congestion": lambda s: Congestion(0.5 + s, 1.0),
    "log": lambda s: LogDensity(s),
    "mean_tracking": lambda s: MeanTracking(2 * s),
    "market_impact": lambda s: MarketImpact(s) + RunningCost(lambda t, x: 0.5 * x**2),
    "local_callable": lambda s: LocalCoupling(lambda x, m: s * np.tanh(m)),
}
#: C^2 Hamiltonians (PowerLaw with a >= 2) and couplings smooth in m > 0 (not log m):
#: Newton and the damped iterations (relaxation 0.5) must converge for them when nu >= 0.1
#: (below, the damped iterations slow down sharply for congestion: 160 iterations at nu = 0.05).
SMOOTH_HAMILTONIANS = {
    "quadratic": lambda p: Quadratic(),
    "power": lambda p: PowerLaw(2.0 + 1.3 * p),
    "custom": HAMILTONIANS["custom"],
}
SMOOTH_COUPLINGS = sorted(set(COUPLINGS) - {"log"})
NX, NT, TOL = 24, 12, 1e-8


def _game(hamiltonian, coupling, boundary, method, viscosity, strength, shift, hp, max_iterations):
    config = MFGConfig(nx=NX, nt=NT, x_min=-3, x_max=3, viscosity=viscosity, boundary=boundary, method=method,
                       tolerance=TOL, max_iterations=max_iterations)  # fmt: skip
    x = np.linspace(-3, 3, NX)
    return config, gaussian(x, shift, 0.6), coupling(strength), 0.5 * (x - shift) ** 2, hamiltonian(hp)


def _assert_density(sol):
    assert sol.mass_error <= 1e-12
    assert sol.m.min() >= 0.0
    assert np.all(np.isfinite(sol.u)) and np.all(np.isfinite(sol.alpha))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hamiltonian=st.sampled_from(sorted(SMOOTH_HAMILTONIANS)),
    coupling=st.sampled_from(SMOOTH_COUPLINGS),
    boundary=st.sampled_from(["neumann", "periodic"]),
    method=st.sampled_from(["newton", "fixed_point", "policy_iteration"]),
    viscosity=st.floats(0.1, 0.5),
    strength=st.floats(0.0, 1.0),
    shift=st.floats(-1.0, 1.0),
    hp=st.floats(0.0, 1.0),
)
def test_smooth_games_converge_with_mass_and_positivity(
    hamiltonian, coupling, boundary, method, viscosity, strength, shift, hp
):
    # Budget: Newton needs <= 6 iterations here, the damped iterations 17-38 (measured over the
    # box and its corners): 60 leaves a margin without letting a stalled method through.
    game = _game(SMOOTH_HAMILTONIANS[hamiltonian], COUPLINGS[coupling], boundary, method, viscosity, strength,
                 shift, hp, max_iterations=60)  # fmt: skip
    config, m0, f, g, H = game
    sol = solve_mfg(config, m0, f, terminal=g, hamiltonian=H)
    assert sol.converged, sol.message
    # independent of the solver's bookkeeping: the discrete residual of the returned pair
    assert MFGProblem.create(config, m0, f, terminal=g, hamiltonian=H).residual_norm(sol.u, sol.m) <= TOL
    _assert_density(sol)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hamiltonian=st.sampled_from(sorted(HAMILTONIANS)),
    coupling=st.sampled_from(sorted(COUPLINGS)),
    boundary=st.sampled_from(["neumann", "periodic"]),
    method=st.sampled_from(["newton", "fixed_point", "policy_iteration"]),
    viscosity=st.floats(0.0, 0.5),
    strength=st.floats(0.0, 1.0),
    shift=st.floats(-1.0, 1.0),
    hp=st.floats(0.0, 1.0),
)
def test_every_iterate_is_a_density(hamiltonian, coupling, boundary, method, viscosity, strength, shift, hp):
    # The whole box, kinked Hamiltonians, log m and nu = 0 included, where 15 iterations need not
    # converge: whatever is returned, m is the exact (transposed) FP density of u, so mass and
    # positivity hold for every iterate; and the report is honest about convergence.
    game = _game(HAMILTONIANS[hamiltonian], COUPLINGS[coupling], boundary, method, viscosity, strength, shift, hp,
                 max_iterations=15)  # fmt: skip
    config, m0, f, g, H = game
    sol = solve_mfg(config, m0, f, terminal=g, hamiltonian=H)
    _assert_density(sol)
    assert sol.converged == (sol.residual <= TOL), (sol.residual, sol.message)


def test_returned_controls_are_the_schemes_feedback_of_the_returned_u():
    # alpha is -(H_p(a^+) + H_p(b^-)) of the returned u at every level, the last one included
    x = np.linspace(-2, 2, 50)
    config = MFGConfig(nx=50, nt=25, x_min=-2, x_max=2, viscosity=0.1, tolerance=1e-9)
    for hamiltonian in (Quadratic(), PowerLaw(1.5)):
        sol = solve_mfg(config, gaussian(x, 0.3, 0.5), MeanTracking(1.0), terminal=0.5 * x**2, hamiltonian=hamiltonian)
        problem = MFGProblem.create(config, gaussian(x, 0.3, 0.5), MeanTracking(1.0), terminal=0.5 * x**2,
                                    hamiltonian=hamiltonian)  # fmt: skip
        assert sol.converged
        np.testing.assert_array_equal(sol.alpha, problem.controls(sol.u))
        assert np.abs(sol.alpha).max() > 0.1  # (not trivially zero)
