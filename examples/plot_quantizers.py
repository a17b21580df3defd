"""
Optimal quantizers of the Gaussian
==================================

An optimal K-point quantizer of N(0, 1) minimises the distortion
``E|X - q(X)|^2``. In 1D the optimum is unique; Newton on the stationarity
equations (:func:`meanfolio.quantization.optimal_gaussian_grid`) finds it in a
few iterations, Lloyd's fixed point (:func:`~meanfolio.quantization.lloyd_gaussian`)
in many, and CLVQ (:func:`~meanfolio.quantization.clvq`) learns it from samples.
For K = 4 the optimum is +-0.4527800, +-1.5104176 with distortion 0.1174818478,
and ``K^2 * distortion`` tends to ``pi sqrt(3) / 2``.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio.quantization import clvq, lloyd_gaussian, lloyd_samples, optimal_gaussian_grid

q4 = optimal_gaussian_grid(4)
print("K = 4:", q4.points.round(7), "distortion", f"{q4.distortion:.10f}", "in", q4.iterations, "Newton steps")
print("Lloyd, K = 4:", lloyd_gaussian(4).iterations, "iterations")

samples = np.random.default_rng(1).standard_normal(20_000)
learned = clvq(samples, 10, seed=1, passes=20)
batch = lloyd_samples(samples, 10, seed=1)
exact = optimal_gaussian_grid(10)
print("K = 10 points, Newton :", exact.points.round(3))
print("K = 10 points, CLVQ   :", np.sort(learned.points).round(3))
print("K = 10 points, Lloyd  :", np.sort(batch.points).round(3))

# %%
ks = np.arange(2, 41)
scaled = [k**2 * optimal_gaussian_grid(int(k)).distortion for k in ks]
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8))
grid = np.linspace(-4, 4, 400)
ax0.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), "k-", lw=1)
ax0.vlines(exact.points, 0, exact.weights, color="C0", lw=3, label="optimal (Newton): weights")
ax0.plot(np.sort(learned.points), np.zeros(10) + 0.01, "C1^", label="CLVQ on 20 000 samples")
ax0.set(xlabel="x", title="10-point quantizer of N(0, 1)")
ax0.legend(fontsize=8)
ax1.plot(ks, scaled, "o-", ms=3, label="K^2 distortion")
ax1.axhline(np.pi * np.sqrt(3) / 2, color="k", ls=":", label="pi sqrt(3) / 2")
ax1.set(xlabel="K", title="Zador's asymptotics")
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
