"""
Second-order convergence
========================

The default scheme of :func:`meanfolio.mfg.solve_mfg` (implicit Euler,
monotone upwind differences) is first order: halving ``dx`` and ``dt`` halves
the error. ``MFGConfig(scheme="second_order")`` selects a second-order scheme
(solved by Newton). On the exact linear-quadratic game
(:func:`meanfolio.mfg.lq_reference`) we measure the error of the mean of
``m(T)`` on three grids for both schemes: the second-order error on the
coarsest grid is already far below the upwind error on the finest.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.mfg import MFGConfig, lq_reference, solve_mfg

lq = lq_reference()
sizes = [(100, 51), (200, 101), (400, 201)]


def mean_error(scheme, nx, nt):
    config = MFGConfig(nx=nx, nt=nt, x_min=-2.5, x_max=4.0, time_horizon=1.0, viscosity=lq.nu, tolerance=1e-10,
                       scheme=scheme)  # fmt: skip
    x = np.linspace(config.x_min, config.x_max, nx)
    sol = solve_mfg(config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x))
    mean = float((sol.m[-1] * x).sum() * (x[1] - x[0]))
    return abs(mean - lq.mean(1.0))


h = np.array([6.5 / (nx - 1) for nx, _ in sizes])
first = {}
fig, ax = plt.subplots(figsize=(5.5, 4))
for scheme in ("upwind", "second_order"):
    errors = np.array([mean_error(scheme, nx, nt) for nx, nt in sizes])
    order = np.log2(errors[:-1] / errors[1:])
    shown = ", ".join(f"{e:.2e}" for e in errors)
    print(f"{scheme:12s} errors {shown}, observed orders {order.round(2)}")
    ax.loglog(h, errors, "o-", label=f"{scheme} (order {order[-1]:.2f})")
    first[scheme] = errors[0]
ax.loglog(h, 1.3 * first["upwind"] * h / h[0], "k:", label="slope 1")
ax.loglog(h, 1.3 * first["second_order"] * (h / h[0]) ** 2, "k--", label="slope 2")
ax.set(xlabel="dx", ylabel="|mean of m(T) - exact|", title="LQ game: error against the grid")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
