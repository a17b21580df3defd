"""
Differential evolution strategies on CEC 2014
=============================================

:func:`meanfolio.differential_evolution` takes scipy's arguments and returns
scipy's ``OptimizeResult``; a numba objective runs inside a compiled
generation loop. Besides scipy's classic strategies it has jDE, SHADE and
L-SHADE (the CEC 2014 winner). Four strategies, two functions of the CEC 2014
suite in dimension 10 (:func:`meanfolio.optimize.benchmarks.cec2014`; its data
files come from the ``opfunu`` package), the same budget of 20 000 evaluations:
the error ``f(x) - f*`` reached.
"""

import matplotlib.pyplot as plt
import numpy as np

from meanfolio import differential_evolution
from meanfolio.optimize.benchmarks import cec2014, rastrigin, rosenbrock

dim, budget = 10, 20_000
strategies = ["best1bin", "jde", "shade", "lshade"]
try:
    functions = {f"F{fid}": cec2014(fid, dim) for fid in (1, 10)}
    bounds = [(-100.0, 100.0)] * dim
except (ImportError, FileNotFoundError, ValueError, RuntimeError) as exc:  # opfunu (the data) is not installed
    print("CEC 2014 data not available:", exc, "- using classic functions")
    functions = {"rastrigin": rastrigin, "rosenbrock": rosenbrock}
    bounds = [(-5.0, 5.0)] * dim

errors = np.empty((len(functions), len(strategies)))
for i, (name, f) in enumerate(functions.items()):
    f_star = getattr(f, "f_star", 0.0)
    for j, strategy in enumerate(strategies):
        res = differential_evolution(f, bounds, strategy=strategy, maxfev=budget, maxiter=10_000, tol=0,
                                     polish=False, seed=1)  # fmt: skip
        errors[i, j] = max(res.fun - f_star, 1e-8)
    print(f"{name:10s}", "  ".join(f"{s} {e:9.3g}" for s, e in zip(strategies, errors[i], strict=True)))

# %%
fig, ax = plt.subplots(figsize=(9, 4))
width = 0.2
idx = np.arange(len(functions))
for j, strategy in enumerate(strategies):
    ax.bar(idx + (j - 1.5) * width, errors[:, j], width, label=strategy)
ax.set_xticks(idx, list(functions))
ax.set(yscale="log", ylabel="f(x) - f* after 20 000 evaluations (1e-8 = solved)",
       title=f"CEC 2014, D = {dim}, seed 1")  # fmt: skip
ax.legend(fontsize=8, ncols=4)
fig.tight_layout()
plt.show()
