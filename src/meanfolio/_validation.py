"""Argument checking shared by every capability.

Each helper raises :class:`ValueError` whose message names the parameter, the
value it received and what is allowed, e.g.::

    ValueError: viscosity = -0.1 is not allowed: expected a finite number >= 0
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "MemoryLimitError",
    "check_array",
    "check_choice",
    "check_density",
    "check_fields",
    "check_finite_number",
    "check_integer",
    "check_interval",
    "check_memory",
    "check_number",
    "memory_limit",
    "parse_size",
]

#: environment variable with the memory limit of one computation (e.g. "8G"; "0" or "none": no limit)
MEMORY_ENV = "MEANFOLIO_MAX_MEMORY"
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


class MemoryLimitError(ValueError):
    """A computation would need more memory than allowed; the message names the estimate, the limit and how to
    raise it."""


def _fail(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{name} = {value!r} is not allowed: expected {allowed}")


def check_finite_number(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _fail(name, value, "a finite real number")
    value = float(value)
    if not math.isfinite(value):
        raise _fail(name, value, "a finite real number")
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float checked against optional bounds.

    ``low``/``high`` are inclusive unless ``low_inclusive``/``high_inclusive``
    say otherwise, so ``check_number("relaxation", w, low=0, high=1,
    low_inclusive=False)`` accepts the interval (0, 1].
    """
    value = check_finite_number(name, value)
    ok = True
    if low is not None:
        ok &= value >= low if low_inclusive else value > low
    if high is not None:
        ok &= value <= high if high_inclusive else value < high
    if not ok:
        raise _fail(name, value, "a finite number " + _describe(low, high, low_inclusive, high_inclusive))
    return value


def _describe(low, high, low_inclusive, high_inclusive) -> str:
    if low is not None and high is not None:
        return f"in {'[' if low_inclusive else '('}{low}, {high}{']' if high_inclusive else ')'}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {low}"
    if high is not None:
        return f"{'<=' if high_inclusive else '<'} {high}"
    return ""


def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high] (bounds optional)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(name, value, "an integer " + _describe(low, high, True, True))
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _fail(name, value, "an integer " + _describe(low, high, True, True))
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings)."""
    choices = tuple(choices)
    if value not in choices:
        raise _fail(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_interval(low_name: str, low: Any, high_name: str, high: Any) -> tuple[float, float]:
    """Check two finite bounds with ``low < high`` (e.g. x_min < x_max)."""
    low = check_finite_number(low_name, low)
    high = check_finite_number(high_name, high)
    if not low < high:
        raise ValueError(
            f"{low_name} = {low!r} and {high_name} = {high!r} are not allowed: expected {low_name} < {high_name}"
        )
    return low, high


def check_array(
    name: str,
    value: Any,
    *,
    shape: tuple[int, ...] | None = None,
    ndim: int | None = None,
    finite: bool = True,
    nonnegative: bool = False,
) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array after checking it.

    ``shape`` entries of -1 accept any length along that axis.
    """
    try:
        arr = np.array(value, dtype=np.float64, order="C")  # keeps 0-d, always a copy
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be read as an array of floats: {exc}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} has shape {arr.shape} which is not allowed: expected {ndim} dimensions")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(s in (-1, a) for s, a in zip(shape, arr.shape, strict=False))
        if not ok:
            want = "(" + ", ".join("any" if s == -1 else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} has shape {arr.shape} which is not allowed: expected shape {want}")
    if finite and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        raise ValueError(
            f"{name} contains {bad.size} non-finite value(s) (first at flat index {bad[0]}: "
            f"{float(arr.ravel()[bad[0]])!r}) which is not allowed: expected finite numbers"
        )
    if nonnegative and np.any(arr < 0):
        i = int(np.argmin(arr.ravel()))
        raise ValueError(
            f"{name} has a negative value {float(arr.ravel()[i])!r} at flat index {i} which is not allowed: "
            "expected values >= 0"
        )
    return arr


def check_density(name: str, value: Any, *, size: int, cell: float) -> tuple[np.ndarray, float]:
    """Check a density on a grid of ``size`` points of width ``cell``.

    Returns the density rescaled to unit mass (``sum(m) * cell == 1``) and the
    mass it had, so callers can report it.
    """
    arr = check_array(name, value, shape=(size,), nonnegative=True)
    mass = float(arr.sum() * cell)
    if not mass > 0.0:
        raise ValueError(f"{name} has total mass {mass!r} which is not allowed: expected a mass > 0")
    return arr / mass, mass


def check_fields(instance: Any, names: Iterable[str], check=check_number, **bounds: Any) -> None:
    """Check the named fields of a (frozen) dataclass with ``check`` and store the
    normalised values, e.g. ``check_fields(self, ("mu", "dt"), low=0, low_inclusive=False)``."""
    for name in names:
        object.__setattr__(instance, name, check(name, getattr(instance, name), **bounds))


def parse_size(name: str, text: Any) -> int | None:
    """Bytes from '512M', '8G', '1.5T' or a plain number; None for '0' / 'none' (no limit)."""
    raw = str(text).strip().upper().removesuffix("IB").removesuffix("B")
    if raw in ("0", "NONE", "NO", "OFF"):
        return None
    unit = raw[-1:] if raw[-1:] in _UNITS else ""
    try:
        value = float(raw[: len(raw) - len(unit)])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise _fail(name, text, "a size such as '512M', '8G' or '0' (no limit)")
    return int(value * _UNITS[unit])


def memory_limit(limit: Any = None) -> int | None:
    """The limit in bytes: ``limit`` if given, else $MEANFOLIO_MAX_MEMORY, else 80 % of the memory available
    now; None means no limit."""
    import os

    if limit is not None:
        return parse_size("max_memory", limit)
    if os.environ.get(MEMORY_ENV):
        return parse_size(MEMORY_ENV, os.environ[MEMORY_ENV])
    try:
        import psutil

        return int(0.8 * psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TB"  # pragma: no cover


def check_memory(what: str, nbytes: float, limit: Any = None) -> float:
    """Refuse a computation whose estimated memory ``nbytes`` exceeds the limit (see :func:`memory_limit`),
    before anything is allocated; returns the estimate."""
    allowed = memory_limit(limit)
    if allowed is not None and nbytes > allowed:
        raise MemoryLimitError(
            f"{what} needs about {_size(nbytes)} of memory, which is not allowed: expected at most {_size(allowed)} "
            f"(the limit: --max-memory / max_memory= or ${MEMORY_ENV}, e.g. '32G', '0' for none)"
        )
    return float(nbytes)
