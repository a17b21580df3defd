"""Seeding: every stochastic function takes ``seed`` (int, None or Generator)."""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.Generator | None

__all__ = ["SeedLike", "as_generator", "spawn"]


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a numpy Generator for ``seed``.

    An int (or None) builds a fresh PCG64 Generator; a Generator is returned
    as is, so that callers can thread one stream through several functions.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise ValueError(f"seed = {seed!r} is not allowed: expected a non-negative int, None or a numpy Generator")


def spawn(seed: SeedLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent Generators derived from ``seed``.

    Used to give each thread or worker its own stream, so results do not
    depend on how work is split across threads.
    """
    return list(as_generator(seed).spawn(n))
