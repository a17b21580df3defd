"""Mass is conserved to round-off and m stays >= 0, for every Hamiltonian and coupling."""

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
def test_mass_and_positivity(hamiltonian, coupling, boundary, method, viscosity, strength, shift, hp):
    config = MFGConfig(
        nx=24,
        nt=12,
        x_min=-3,
        x_max=3,
        viscosity=viscosity,
        boundary=boundary,
        method=method,
        tolerance=1e-8,
        max_iterations=15,
    )
    x = np.linspace(-3, 3, 24)
    m0 = gaussian(x, shift, 0.6)
    sol = solve_mfg(
        config,
        m0,
        COUPLINGS[coupling](strength),
        terminal=0.5 * (x - shift) ** 2,
        hamiltonian=HAMILTONIANS[hamiltonian](hp),
    )
    # whether or not it converged, the returned density is a density
    assert sol.mass_error <= 1e-12
    assert sol.m.min() >= 0.0
    assert np.all(np.isfinite(sol.u)) and np.all(np.isfinite(sol.alpha))
