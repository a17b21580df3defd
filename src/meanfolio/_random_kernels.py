"""Counter-based random numbers for compiled kernels (shared by capabilities).

A normal variate is a pure function of ``(key, stream, step, index)``, so a
parallel kernel draws the same numbers whatever the number of threads and
whatever order the agents are visited in: seeded runs are reproducible on 1
or many threads, and no random-number buffer has to be stored.

The mixer is SplitMix64 (Steele, Lea & Flood 2014). :func:`normal` uses the
ziggurat of Marsaglia & Tsang (2000, 128 layers) on the 32-bit halves of the
hash (about 1 % of draws need a second hash), which is several times faster
than Box-Muller here because it avoids log/sin/cos on the fast path;
:func:`normal_pair` is Box-Muller (two variates per hash).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from meanfolio._rng import SeedLike, as_generator

__all__ = ["kernel_key", "normal", "normal_pair", "step_base", "uniform"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO_PI = 2.0 * np.pi
_INV_2_32 = 1.0 / 4294967296.0


@njit(cache=True, inline="always")
def _splitmix(z):
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def step_base(key, stream, step):
    """The hash of one (stream, step): combine with an index in :func:`normal_pair`."""
    return _splitmix(np.uint64(key) ^ _splitmix((np.uint64(stream) << np.uint64(48)) ^ np.uint64(step)))


@njit(cache=True, inline="always")
def normal_pair(base, index):
    """Two independent N(0, 1) variates for ``index`` (a pair counter) at ``base``."""
    h = _splitmix(base + np.uint64(index) * _GOLDEN)
    u1 = (float(h >> np.uint64(32)) + 0.5) * _INV_2_32
    u2 = (float(h & _LOW32) + 0.5) * _INV_2_32
    r = np.sqrt(-2.0 * np.log(u1))
    return r * np.cos(_TWO_PI * u2), r * np.sin(_TWO_PI * u2)


def _ziggurat_tables():
    # Marsaglia & Tsang (2000), "The ziggurat method for generating random variables", 128 layers.
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    kn = np.zeros(128)
    wn = np.zeros(128)
    fn = np.zeros(128)
    q = vn / np.exp(-0.5 * dn * dn)
    kn[0] = (dn / q) * m1
    kn[1] = 0.0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = np.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        kn[i + 1] = (dn / tn) * m1
        tn = dn
        fn[i] = np.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()
_R = 3.442620


@njit(cache=True, inline="always")
def _signed32(h):
    v = np.int64(h >> np.uint64(32))
    return v - 4294967296 if v >= 2147483648 else v


@njit(cache=True)
def _normal_slow(h, hz, iz):
    # The ziggurat's rare path: wedges and the tail, with fresh hashes of h.
    while True:
        x = hz * _WN[iz]
        if iz == 0:  # tail beyond R, Marsaglia's method
            while True:
                h = _splitmix(h)
                u1 = (float(h >> np.uint64(32)) + 0.5) * _INV_2_32
                u2 = (float(h & _LOW32) + 0.5) * _INV_2_32
                xt = -np.log(u1) / _R
                if -2.0 * np.log(u2) >= xt * xt:
                    return _R + xt if hz > 0 else -_R - xt
        h = _splitmix(h)
        u = (float(h & _LOW32) + 0.5) * _INV_2_32
        if _FN[iz] + u * (_FN[iz - 1] - _FN[iz]) < np.exp(-0.5 * x * x):
            return x
        h = _splitmix(h)
        hz = _signed32(h)
        iz = hz & 127
        if abs(hz) < _KN[iz]:
            return hz * _WN[iz]


@njit(cache=True, inline="always")
def normal(base, index):
    """One N(0, 1) variate for ``index`` at ``base`` (ziggurat)."""
    h = _splitmix(base + np.uint64(index) * _GOLDEN)
    hz = _signed32(h)
    iz = hz & 127
    if abs(hz) < _KN[iz]:
        return hz * _WN[iz]
    return _normal_slow(h, hz, iz)


@njit(cache=True, inline="always")
def uniform(base, index):
    """A U(0, 1) variate (53 random bits, never exactly 0 or 1) for ``index`` at ``base``."""
    h = _splitmix(base + np.uint64(index) * _GOLDEN)
    return (float(h >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


def kernel_key(seed: SeedLike) -> np.uint64:
    """A 64-bit key for the kernels from an int seed or a Generator (which it advances)."""
    return np.uint64(as_generator(seed).integers(0, 2**63, dtype=np.int64))
