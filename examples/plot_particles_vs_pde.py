"""
Particles against the PDE
=========================

A mean-field game's population can be represented on a grid (the
Fokker-Planck equation of :func:`meanfolio.mfg.solve_mfg`) or by N particles
following the equilibrium feedback ``alpha*(t, x)`` with noise
``sqrt(2 nu) dW`` (:func:`meanfolio.particles.simulate_particles` with a
:class:`~meanfolio.particles.GridControl`). As N grows, the particles' law at
``T`` approaches the PDE's density; the Wasserstein distance between the two
falls like ``N^(-1/2)`` (propagation of chaos) until the grid's own error is
reached.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.mfg import Congestion, MFGConfig, RunningCost, solve_mfg
from meanfolio.particles import GridControl, McKeanVlasov, histogram_density, sample_density, simulate_particles
from meanfolio.transport import wasserstein_1d

config = MFGConfig(nx=300, nt=101, x_min=-3.0, x_max=3.0, time_horizon=1.0, viscosity=0.1, tolerance=1e-9)
x = np.linspace(config.x_min, config.x_max, config.nx)
dx = x[1] - x[0]
m0 = np.exp(-0.5 * ((x - 1.0) / 0.4) ** 2)
m0 /= m0.sum() * dx
sol = solve_mfg(config, m0, RunningCost(0.5 * x**2) + Congestion(1.0, 0.5), terminal=np.zeros_like(x))
print(sol.summary()["message"])

model = McKeanVlasov(sigma=np.sqrt(2 * config.viscosity), box=(config.x_min, config.x_max))
control = GridControl.from_solution(sol)
sizes = [250, 1000, 4000, 16000, 64000]
w1 = []
for n in sizes:
    x0 = sample_density(m0, x, n, seed=1)
    run = simulate_particles(model, x0, config.time_horizon, 4 * (config.nt - 1), control=control, seed=2)
    w1.append(wasserstein_1d(run.x, x, v_weights=sol.m[-1] * dx))
    print(f"N = {n:6d}: W1(particles, PDE) at T = {w1[-1]:.4f}")

# %%
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
ax0.plot(x, m0, "k:", label="m(0)")
ax0.plot(x, sol.m[-1], "k-", label="PDE m(T)")
ax0.plot(x, histogram_density(run.x, x), "C1", alpha=0.7, label=f"{sizes[-1]} particles at T")
ax0.set(xlabel="x", ylabel="density", title="the population at T")
ax0.legend(fontsize=8)
sizes = np.array(sizes)
ax1.loglog(sizes, w1, "o-", label="W1(particles, PDE)")
ax1.loglog(sizes, w1[0] * np.sqrt(sizes[0] / sizes), "k:", label="N^(-1/2)")
ax1.set(xlabel="particles N", ylabel="W1 at T", title="particles converge to the PDE")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
