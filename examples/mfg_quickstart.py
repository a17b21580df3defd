"""Solve a 1D mean-field game with congestion and compare Newton with the fixed point."""

import numpy as np

from meanfolio.mfg import Congestion, MFGConfig, RunningCost, solve_mfg

config = MFGConfig(nx=200, nt=100, x_min=-5, x_max=5, viscosity=0.1, tolerance=1e-8)
x = np.linspace(-5, 5, 200)
m0 = np.exp(-((x - 2) ** 2))  # rescaled to unit mass by the solver
f = RunningCost(0.5 * x**2) + Congestion(power=1.0, scale=2.0)

sol = solve_mfg(config, m0, f, terminal=np.zeros_like(x))
print(sol.summary())
slow = solve_mfg(config.replace(method="fixed_point"), m0, f, terminal=np.zeros_like(x))
print("fixed point:", slow.iterations, "iterations; max |m - m_newton| =", np.abs(slow.m - sol.m).max())
sol.plot("mfg_quickstart.png")
