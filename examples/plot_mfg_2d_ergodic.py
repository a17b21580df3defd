"""
A stationary crowd in two dimensions
====================================

The ergodic (stationary) mean-field game
``-nu Lap u + H(grad u) + lambda = f(x, m)``, ``-nu Lap m - div(m H_p(grad u)) = 0``,
``int m = 1`` (:func:`meanfolio.mfg.solve_ergodic_mfg`) describes a crowd in
its long-run equilibrium: here managers' positions ``(x, y)`` in two assets,
attracted to two popular portfolios (a double-well potential) and averse to
crowds (congestion ``c m``). As the congestion grows the crowd spreads out of
the wells. ``lambda`` is the long-run cost per unit time.
"""

import matplotlib.pyplot as plt

from meanfolio.mfg import Congestion, MFGConfig, RunningCost, solve_ergodic_mfg

config = MFGConfig(dim=2, nx=50, ny=50, x_min=-2.5, x_max=2.5, viscosity=0.15, tolerance=1e-10, max_iterations=60)


def potential(t, x, y):
    return 0.5 * (x**2 - 1.0) ** 2 + 0.5 * (y - 0.3 * x) ** 2


fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, c in zip(axes, (0.0, 0.5, 2.0), strict=True):
    sol = solve_ergodic_mfg(config, RunningCost(potential) + Congestion(1.0, c))
    print(f"congestion {c:3.1f}: converged {sol.converged} in {sol.iterations} Newton steps, "
          f"lambda = {sol.lam:.4f}, mass error {sol.mass_error:.1e}")  # fmt: skip
    mesh = ax.pcolormesh(sol.x, sol.y, sol.m, shading="auto", cmap="magma")
    fig.colorbar(mesh, ax=ax)
    ax.set(xlabel="position in asset 1", ylabel="position in asset 2", title=f"m, congestion {c:g}")
fig.tight_layout()
plt.show()
