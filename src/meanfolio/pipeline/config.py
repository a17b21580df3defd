"""The pipeline's settings: one frozen, validated dataclass per stage, read from YAML.

Unknown keys are errors (a typo must not silently fall back to a default).
See ``examples/pipeline.yaml`` for a documented file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from meanfolio._validation import check_choice, check_fields, check_integer, check_number

__all__ = [
    "DataConfig",
    "EquilibriumConfig",
    "PipelineConfig",
    "PortfolioConfig",
    "RegimeConfig",
    "ReportConfig",
    "load_config",
]


@dataclass(frozen=True)
class DataConfig:
    """source: "bundled:sp500" or a CSV/Parquet/Arrow path; layout wide|long|auto; start/end ISO dates;
    assets: tickers (None = all); missing: how missing prices are handled (drop_rows or raise)."""

    source: str = "bundled:sp500"
    layout: str = "auto"
    start: str | None = None
    end: str | None = None
    assets: list[str] | None = None
    missing: str = "drop_rows"

    def __post_init__(self):
        check_choice("layout", self.layout, ("auto", "wide", "long"))
        check_choice("missing", self.missing, ("drop_rows", "raise"))
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value))
        if self.assets is not None:
            if isinstance(self.assets, str) or len(self.assets) < 2:
                raise ValueError(f"assets = {self.assets!r} is not allowed: expected a list of >= 2 tickers or null")
            object.__setattr__(self, "assets", [str(a) for a in self.assets])


@dataclass(frozen=True)
class RegimeConfig:
    """Gaussian HMM on the equal-weight market returns."""

    n_states: int = 2
    n_init: int = 5
    max_iter: int = 200
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "n_states", check_integer("n_states", self.n_states, low=1, high=6))
        check_fields(self, ("n_init", "max_iter"), check_integer, low=1)
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))


@dataclass(frozen=True)
class EquilibriumConfig:
    """The allocation MFG: grid, horizon (years), idiosyncratic noise nu, Almgren-Chriss
    trading cost kappa (cost kappa alpha^2 / 2), permanent impact lam, risk aversion gamma."""

    nx: int = 201
    nt: int = 101
    x_min: float = -1.0
    x_max: float = 3.0
    horizon: float = 1.0
    viscosity: float = 0.01
    trading_cost: float = 0.25
    impact: float = 0.5
    risk_aversion: float = 3.0

    def __post_init__(self):
        object.__setattr__(self, "nx", check_integer("nx", self.nx, low=20))
        object.__setattr__(self, "nt", check_integer("nt", self.nt, low=10))
        check_fields(self, ("horizon", "trading_cost", "risk_aversion"), low=0, low_inclusive=False)
        check_fields(self, ("viscosity",), low=0)
        check_fields(self, ("impact", "x_min", "x_max"))
        if not self.x_min < self.x_max:
            raise ValueError(f"x_min = {self.x_min}, x_max = {self.x_max} is not allowed: expected x_min < x_max")


@dataclass(frozen=True)
class PortfolioConfig:
    """L-SHADE on the long-only simplex: maximise mean - risk_aversion * variance (annualised)
    or the Sharpe ratio, minus deviation_penalty * |w - w_eq|^2."""

    objective: str = "mean_variance"
    risk_aversion: float = 3.0
    deviation_penalty: float = 0.5
    max_evaluations: int = 20_000
    seed: int = 0

    def __post_init__(self):
        check_choice("objective", self.objective, ("mean_variance", "sharpe"))
        check_fields(self, ("risk_aversion", "deviation_penalty"), low=0)
        object.__setattr__(self, "max_evaluations", check_integer("max_evaluations", self.max_evaluations, low=100))
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))


@dataclass(frozen=True)
class ReportConfig:
    """Walk-forward evaluation: ``folds`` expanding-window folds over the last ``test_fraction``
    of the dates; outputs in ``output_dir``."""

    test_fraction: float = 0.25
    folds: int = 1
    output_dir: str = "pipeline_output"
    periods_per_year: int = 252

    def __post_init__(self):
        check_number("test_fraction", self.test_fraction, low=0, high=0.9, low_inclusive=False)
        object.__setattr__(self, "folds", check_integer("folds", self.folds, low=1, high=20))
        object.__setattr__(self, "periods_per_year", check_integer("periods_per_year", self.periods_per_year, low=1))


@dataclass(frozen=True)
class PipelineConfig:
    data: DataConfig = field(default_factory=DataConfig)
    regimes: RegimeConfig = field(default_factory=RegimeConfig)
    equilibrium: EquilibriumConfig = field(default_factory=EquilibriumConfig)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    store: str = "runs.duckdb"

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> PipelineConfig:
        raw = dict(raw or {})
        sections = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(sections))
        if unknown:
            raise ValueError(f"unknown pipeline settings {unknown}: expected some of {sorted(sections)}")
        kwargs: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "store":
                kwargs[name] = str(value)
                continue
            section_cls = sections[name].default_factory  # type: ignore[misc]
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ValueError(f"{name} = {value!r} is not allowed: expected a mapping of settings")
            known = {f.name for f in fields(section_cls)}
            bad = sorted(set(value) - known)
            if bad:
                raise ValueError(f"unknown settings {bad} in section {name!r}: expected some of {sorted(known)}")
            kwargs[name] = section_cls(**value)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config(path: str | Path) -> PipelineConfig:
    """Read a YAML pipeline config (see ``examples/pipeline.yaml``)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist: expected a YAML file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name} is not valid YAML: {exc}") from exc
    if raw is not None and not isinstance(raw, dict):
        raise ValueError(f"{path.name} holds a {type(raw).__name__}: expected a mapping of sections")
    return PipelineConfig.from_dict(raw)
