"""`MFGScenario`: a 1D game described by a few numbers (CLI flags, TOML, the lab).

A scenario is the config plus a small model vocabulary::

    hamiltonian = "quadratic" | "linear" | "linear:SPEED" | "power:EXPONENT"
    m0          = "gaussian:MU,SIGMA" | "uniform"
    potential   = c      # running cost (c/2) x^2
    congestion  = s      # s * m^congestion_power
    log_density = s      # s * log m
    mean_tracking = q    # (q/2) (x - mean m)^2
    market_impact = lam  # -lam x * mean(alpha)
    terminal_quadratic = c   # g(x) = (c/2) x^2

TOML files hold a ``[config]`` table (MFGConfig fields) and a ``[model]``
table (the fields above).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from meanfolio._validation import check_fields, check_memory, check_number

from .config import MFGConfig
from .couplings import Congestion, Coupling, LogDensity, MarketImpact, MeanTracking, RunningCost
from .grid import Grid1D
from .hamiltonians import Hamiltonian, Linear, PowerLaw, Quadratic
from .solver import MFGSolution, solve_mfg

__all__ = ["BYTES_PER_CELL", "MFGScenario", "parse_hamiltonian", "parse_m0"]

#: memory of a 1D solve per (t, x) cell: the peak RSS over the import baseline was 490-500 bytes per cell
#: (Newton with congestion, nx x nt = 1000 x 500 and 2000 x 1000)
BYTES_PER_CELL = 500


def parse_hamiltonian(spec: str) -> Hamiltonian:
    """'quadratic', 'linear', 'linear:SPEED' or 'power:EXPONENT'."""
    name, _, arg = str(spec).partition(":")
    try:
        if name == "quadratic" and not arg:
            return Quadratic()
        if name == "linear":
            return Linear(float(arg)) if arg else Linear()
        if name == "power" and arg:
            return PowerLaw(float(arg))
    except ValueError as exc:
        raise ValueError(f"hamiltonian = {spec!r} is not allowed: {exc}") from exc
    raise ValueError(
        f"hamiltonian = {spec!r} is not allowed: expected 'quadratic', 'linear', 'linear:SPEED' or 'power:EXPONENT'"
    )


def parse_m0(spec: str, x: np.ndarray) -> np.ndarray:
    """'gaussian:MU,SIGMA' or 'uniform' evaluated on the grid x."""
    name, _, arg = str(spec).partition(":")
    if name == "uniform" and not arg:
        return np.ones_like(x)
    if name == "gaussian":
        try:
            mu, sigma = (float(v) for v in arg.split(",")) if arg else (0.0, 1.0)
        except ValueError:
            mu, sigma = np.nan, np.nan
        if np.isfinite(mu) and np.isfinite(sigma) and sigma > 0:
            return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    raise ValueError(f"m0 = {spec!r} is not allowed: expected 'gaussian:MU,SIGMA' with SIGMA > 0 or 'uniform'")


@dataclass(frozen=True)
class MFGScenario:
    """A validated scenario; :meth:`solve` builds the problem and runs it."""

    config: MFGConfig = field(default_factory=MFGConfig)
    hamiltonian: str = "quadratic"
    m0: str = "gaussian:0,1"
    potential: float = 0.0
    congestion: float = 0.0
    congestion_power: float = 1.0
    log_density: float = 0.0
    mean_tracking: float = 0.0
    market_impact: float = 0.0
    terminal_quadratic: float = 0.0

    def __post_init__(self):
        check_fields(self, ("potential", "mean_tracking", "market_impact", "terminal_quadratic"))
        check_fields(self, ("congestion", "log_density"), low=0)
        object.__setattr__(
            self,
            "congestion_power",
            check_number("congestion_power", self.congestion_power, low=0, low_inclusive=False),
        )
        parse_hamiltonian(self.hamiltonian)
        parse_m0(self.m0, np.linspace(0.0, 1.0, 3))
        self._check_m0_on_grid()

    def _check_m0_on_grid(self) -> None:
        """A Gaussian m0 must have most of its mass inside [x_min, x_max] (else it is not this grid's game)."""
        name, _, arg = self.m0.partition(":")
        if name != "gaussian":
            return
        from math import erf, sqrt

        mu, sigma = (float(v) for v in arg.split(",")) if arg else (0.0, 1.0)
        lo, hi = self.config.x_min, self.config.x_max
        inside = 0.5 * (erf((hi - mu) / (sigma * sqrt(2))) - erf((lo - mu) / (sigma * sqrt(2))))
        if inside < 0.5:
            raise ValueError(
                f"m0 = {self.m0!r} is not allowed: {inside:.1%} of its mass lies on the grid [{lo:g}, {hi:g}]; "
                f"expected MU inside the grid with most of the mass on it (or widen --x-min/--x-max)"
            )

    def memory_estimate(self) -> float:
        """Bytes a solve of this scenario needs (``BYTES_PER_CELL`` per (t, x) cell)."""
        return float(BYTES_PER_CELL) * self.config.nt * self.config.nx

    @classmethod
    def model_fields(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "config"]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MFGScenario:
        unknown = set(data) - {"config", "model"}
        if unknown:
            raise ValueError(f"sections {sorted(unknown)} are not allowed: expected [config] and [model]")
        config, model = dict(data.get("config", {})), dict(data.get("model", {}))
        allowed = {f.name for f in fields(MFGConfig)}
        for key in config:
            if key not in allowed:
                raise ValueError(f"config.{key} is not allowed: expected one of {sorted(allowed)}")
        for key in model:
            if key not in cls.model_fields():
                raise ValueError(f"model.{key} is not allowed: expected one of {cls.model_fields()}")
        return cls(config=MFGConfig(**config), **model)

    @classmethod
    def from_toml(cls, path: str | Path) -> MFGScenario:
        with open(path, "rb") as fh:
            return cls.from_dict(tomllib.load(fh))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["config"] = self.config.to_dict()
        return data

    def build(self) -> dict[str, Any]:
        """Keyword arguments of :func:`solve_mfg`."""
        x = Grid1D.from_config(self.config).x
        terms: list[Coupling] = []
        if self.potential:
            terms.append(RunningCost(0.5 * self.potential * x**2))
        if self.congestion:
            terms.append(Congestion(self.congestion_power, self.congestion))
        if self.log_density:
            terms.append(LogDensity(self.log_density))
        if self.mean_tracking:
            terms.append(MeanTracking(self.mean_tracking))
        if self.market_impact:
            terms.append(MarketImpact(self.market_impact))
        f = sum(terms[1:], terms[0]) if terms else None
        return dict(
            config=self.config,
            m0=parse_m0(self.m0, x),
            f=f,
            terminal=0.5 * self.terminal_quadratic * x**2,
            hamiltonian=parse_hamiltonian(self.hamiltonian),
        )

    def solve(self, callback=None, *, max_memory=None) -> MFGSolution:
        """Solve; refused before any allocation if :meth:`memory_estimate` exceeds ``max_memory`` (a size such
        as "8G", default: $MEANFOLIO_MAX_MEMORY or 80 % of the available memory)."""
        check_memory(f"the game on an nt x nx = {self.config.nt} x {self.config.nx} grid", self.memory_estimate(),
                     max_memory)  # fmt: skip
        return solve_mfg(**self.build(), callback=callback)
