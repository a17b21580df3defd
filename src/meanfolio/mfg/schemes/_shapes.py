"""Cheap argument checks for the scheme functions the solvers call on every iteration."""

from __future__ import annotations

import numpy as np


class NonFiniteError(ValueError, FloatingPointError):
    """Non-finite entries: a ValueError for a caller's bad argument, a FloatingPointError for the solvers that
    treat a blown-up iterate as a failed step."""


def checked_shape(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a C-contiguous float64 array (no copy when it already is one), refused unless it has
    ``shape`` and only finite entries."""
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape} which is not allowed: expected shape {shape}")
    if not np.isfinite(arr).all():
        raise NonFiniteError(f"{name} has non-finite entries, which is not allowed: expected finite numbers")
    return arr
