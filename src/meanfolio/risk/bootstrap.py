"""Bootstrap confidence intervals for any metric of a return series.

``method="iid"`` resamples single returns; ``method="stationary"`` is the
stationary block bootstrap of Politis & Romano (1994): blocks start at
uniform positions and have geometric lengths of mean ``block_size``
(default ``T ** (1/3)``), wrapping around the end, which keeps the serial
dependence that volatility clustering creates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_choice, check_integer, check_number

from ._series import as_1d

__all__ = ["BootstrapResult", "bootstrap_ci", "bootstrap_indices"]


@dataclass(frozen=True)
class BootstrapResult:
    estimate: float
    low: float
    high: float
    level: float
    samples: np.ndarray


def bootstrap_indices(T: int, n_boot: int, method: str, block_size: float | None, rng) -> np.ndarray:
    """Resampling indices, shape (n_boot, T)."""
    if method == "iid":
        return rng.integers(0, T, size=(n_boot, T))
    L = T ** (1 / 3) if block_size is None else check_number("block_size", block_size, low=1)
    p = 1.0 / L
    idx = np.empty((n_boot, T), dtype=np.int64)
    idx[:, 0] = rng.integers(0, T, size=n_boot)
    new_block = rng.uniform(size=(n_boot, T)) < p
    starts = rng.integers(0, T, size=(n_boot, T))
    for t in range(1, T):
        idx[:, t] = np.where(new_block[:, t], starts[:, t], (idx[:, t - 1] + 1) % T)
    return idx


def bootstrap_ci(
    metric: Callable[[np.ndarray], float],
    returns,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    method: str = "stationary",
    block_size: float | None = None,
    seed: SeedLike = None,
) -> BootstrapResult:
    """Percentile interval of ``metric`` over bootstrap resamples of ``returns``."""
    r = as_1d(returns)
    n_boot = check_integer("n_boot", n_boot, low=10)
    level = check_number("level", level, low=0, high=1, low_inclusive=False, high_inclusive=False)
    check_choice("method", method, ("iid", "stationary"))
    idx = bootstrap_indices(r.size, n_boot, method, block_size, as_generator(seed))
    samples = np.array([metric(r[i]) for i in idx])
    a = (1.0 - level) / 2
    low, high = np.quantile(samples, [a, 1 - a])
    return BootstrapResult(float(metric(r)), float(low), float(high), level, samples)
