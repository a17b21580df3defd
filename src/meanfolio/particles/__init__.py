"""McKean-Vlasov particle systems and a particle solver of the MFG.

from meanfolio.particles import McKeanVlasov, simulate_particles
run = simulate_particles(McKeanVlasov(sigma=0.2, eta=0.5, lam=0.3, gain=1.0), x0, 1.0, 200, seed=1)
"""

from .mfg import ParticleMFGSolution, histogram_density, sample_density, solve_mfg_particles
from .model import GridControl, McKeanVlasov, ParticleResult, ParticleStabilityError, simulate_particles

__all__ = [
    "GridControl",
    "McKeanVlasov",
    "ParticleMFGSolution",
    "ParticleResult",
    "ParticleStabilityError",
    "histogram_density",
    "sample_density",
    "simulate_particles",
    "solve_mfg_particles",
]
