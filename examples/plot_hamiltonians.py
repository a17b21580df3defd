"""
Hamiltonians as trading costs
=============================

In a mean-field game the Hamiltonian ``H(p) = sup_a (-a p - L(a))`` is the
Legendre transform of the running cost ``L`` of the control: in finance, the
cost of trading at speed ``a``. Three choices in :mod:`meanfolio.mfg`:

* :class:`~meanfolio.mfg.Quadratic` ``|p|^2/2``: the quadratic (linear temporary
  impact) cost ``a^2/2``, speed ``-p``;
* :class:`~meanfolio.mfg.PowerLaw` ``|p|^a/a``: the cost ``|a|^b/b`` with
  ``b = a/(a-1)``; ``a = 1.5`` gives ``|a|^3/3``, a steeper, power-law impact;
* :class:`~meanfolio.mfg.Linear` ``speed |p|``: no cost within a speed limit
  (bang-bang trading at the limit).

A crowd of traders holding inventory around ``x = 2`` pays ``x^2/2`` per
unit time for the risk of holding it, ``x^2`` at ``T`` and a congestion cost:
the mean inventory falls at a rate set by the Hamiltonian.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.mfg import Congestion, Linear, MFGConfig, PowerLaw, Quadratic, RunningCost, solve_mfg

config = MFGConfig(nx=200, nt=101, x_min=-2.0, x_max=4.0, time_horizon=1.0, viscosity=0.05, tolerance=1e-8)
x = np.linspace(config.x_min, config.x_max, config.nx)
dx = x[1] - x[0]
m0 = np.exp(-0.5 * ((x - 2.0) / 0.3) ** 2)
f = RunningCost(0.5 * x**2) + Congestion(1.0, 0.2)
hamiltonians = {
    "quadratic |p|^2/2": Quadratic(),
    "power law |p|^1.5/1.5": PowerLaw(1.5),
    "linear 1.5 |p| (smoothed)": Linear(1.5, smoothing=0.05),
}

p = np.linspace(-3, 3, 301)
fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(14, 3.8))
for name, H in hamiltonians.items():
    sol = solve_mfg(config, m0, f, terminal=x**2, hamiltonian=H)
    print(f"{name:28s} converged {sol.converged}, {sol.iterations} iterations, residual {sol.residual:.1e}")
    mean = (sol.m * x).sum(axis=1) * dx
    ax0.plot(p, H.H(np.zeros_like(p), p), label=name)
    ax1.plot(p, H.optimal_control(np.zeros_like(p), p), label=name)
    ax2.plot(sol.t, mean, label=name)
ax0.set(xlabel="p = u_x", ylabel="H(p)", title="Hamiltonian")
ax1.set(xlabel="p = u_x", ylabel="alpha*(p) = -H_p(p)", title="optimal trading speed")
ax2.set(xlabel="t", ylabel="mean inventory", title="the crowd's liquidation")
ax0.legend(fontsize=8)
fig.tight_layout()
plt.show()
