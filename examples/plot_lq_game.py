"""
The linear-quadratic game against its closed form
=================================================

The LQ mean-field game of the specification (``H = p^2/2``, running cost
``(a/2)(x - mbar)^2 + (b/2) x^2``, terminal cost ``(cT/2) x^2``, Gaussian ``m0``)
has an exact solution: ``m(t)`` stays Gaussian with mean ``mbar(t)`` and
variance ``V(t)`` given by Riccati ODEs (:func:`meanfolio.mfg.lq_reference`).
We solve it with :func:`meanfolio.mfg.solve_mfg` (Newton) on three grids and
watch the error of the mean and the variance at ``T`` halve with ``dx`` and
``dt``: the implicit upwind scheme is first order.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.mfg import MFGConfig, lq_reference, solve_mfg

lq = lq_reference()  # nu = 0.3, a = 1, b = 0.5, cT = 0.8, T = 1, mu0 = 1, s0 = 0.5


def solve(nx, nt):
    config = MFGConfig(nx=nx, nt=nt, x_min=-2.5, x_max=4.0, time_horizon=1.0, viscosity=lq.nu, tolerance=1e-9)
    x = np.linspace(config.x_min, config.x_max, nx)
    sol = solve_mfg(config, lq.m0(x), lq.coupling(), terminal=lq.terminal(x))
    dx = x[1] - x[0]
    mean = (sol.m * x).sum(axis=1) * dx
    var = (sol.m * x**2).sum(axis=1) * dx - mean**2
    return sol, mean, var


# %%
# The solution on the finest grid against the closed form
sol, mean, var = solve(400, 201)
print(sol.summary())
t = sol.t
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
ax0.plot(t, lq.mean(t), "k-", label="closed form")
ax0.plot(t, mean, "C1--", label="solver 400 x 201")
ax0.set(xlabel="t", ylabel="mean of m(t)", title="mean")
ax0.legend()
ax1.plot(t, lq.variance(t), "k-", label="closed form")
ax1.plot(t, var, "C1--", label="solver")
ax1.set(xlabel="t", ylabel="variance of m(t)", title="variance")
fig.tight_layout()

# %%
# First order: errors at T on three grids
sizes = [(100, 51), (200, 101), (400, 201)]
errors = []
for nx, nt in sizes:
    _, mean, var = solve(nx, nt)
    errors.append((abs(mean[-1] - lq.mean(1.0)), abs(var[-1] - lq.variance(1.0))))
errors = np.array(errors)
h = np.array([6.5 / (nx - 1) for nx, _ in sizes])
for (nx, nt), (em, ev) in zip(sizes, errors, strict=True):
    print(f"{nx:4d} x {nt:3d}: |mean error| = {em:.2e}, |variance error| = {ev:.2e}")
print("error ratios (coarse / fine):", (errors[:-1] / errors[1:]).round(2).tolist())

fig, ax = plt.subplots(figsize=(5, 3.8))
ax.loglog(h, errors[:, 0], "o-", label="mean at T")
ax.loglog(h, errors[:, 1], "s-", label="variance at T")
ax.loglog(h, errors[0, 0] * h / h[0], "k:", label="slope 1")
ax.set(xlabel="dx", ylabel="error", title="first-order convergence")
ax.legend()
fig.tight_layout()
plt.show()
