"""The pipeline's settings: one frozen, validated dataclass per section, read from YAML.

Unknown keys are errors (a typo must not silently fall back to a default),
and every message names the key. See ``examples/pipeline.yaml`` for a
documented file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from meanfolio._validation import check_choice, check_fields, check_integer, check_number
from meanfolio.backtest import BacktestConfig
from meanfolio.backtest.strategies import STRATEGIES

__all__ = [
    "ConstraintConfig",
    "DataConfig",
    "GameConfig",
    "PipelineConfig",
    "RegimeConfig",
    "ReportConfig",
    "StatisticsConfig",
    "SweepConfig",
    "load_config",
]

STRATEGY_KEYS = STRATEGIES


@dataclass(frozen=True)
class DataConfig:
    """source: "bundled:sp500" or a CSV/Parquet/Arrow path; layout wide|long|auto; date_format: a
    strptime format for the date column (e.g. "%m/%d/%Y"; None: ISO dates); column: the price column of
    a long file (date, asset and several price columns such as "Close" and "Adj Close"; default "price");
    start/end ISO dates; assets: tickers (None = all); missing: drop_rows (dates with a missing price
    dropped, counted) or raise."""

    source: str = "bundled:sp500"
    layout: str = "auto"
    date_format: str | None = None
    column: str | None = None
    start: str | None = "1995-01-01"
    end: str | None = None
    assets: list[str] | None = None
    missing: str = "drop_rows"

    def __post_init__(self):
        check_choice("layout", self.layout, ("auto", "wide", "long"))
        check_choice("missing", self.missing, ("drop_rows", "raise"))
        if self.column is not None and self.layout == "wide":
            raise ValueError(
                f"column = {self.column!r} is not allowed with layout = 'wide': expected layout long or auto"
            )
        for name in ("start", "end", "date_format", "column"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value))
        if self.assets is not None:
            if isinstance(self.assets, str) or len(self.assets) < 2:
                raise ValueError(f"assets = {self.assets!r} is not allowed: expected a list of >= 2 tickers or null")
            object.__setattr__(self, "assets", [str(a) for a in self.assets])


@dataclass(frozen=True)
class GameConfig:
    """The allocation game behind ``mean_field`` and ``cooperative`` (annual units).

    Defaults and why: gamma = 3, a common mean-variance risk aversion; crowding
    lam = 0.1, one unit of crowd holding costs 10 %/yr of return, the size of
    gamma times a typical stock's variance (3 x 0.04), so crowding weighs like
    risk aversion on a single name; trading_cost kappa = 5e-4, trading the
    whole book within a month costs kappa/2 * 12^2 / 12 = 3 bp per unit, on top
    of the proportional cost; dispersion eta = 0 (it does not move the mean
    path); horizon T = 1 year."""

    risk_aversion: float = 3.0
    crowding: float = 0.1
    trading_cost: float = 5e-4
    dispersion: float = 0.0
    horizon: float = 1.0
    seed: int = 0
    max_evaluations: int = 2000

    def __post_init__(self):
        check_fields(self, ("risk_aversion", "trading_cost", "horizon"), low=0, low_inclusive=False)
        check_fields(self, ("crowding", "dispersion"), low=0)
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))
        object.__setattr__(self, "max_evaluations", check_integer("max_evaluations", self.max_evaluations, low=100))


@dataclass(frozen=True)
class ConstraintConfig:
    """Long-only, fully invested; max_weight per asset; cardinality: at most K holdings (game strategies)."""

    max_weight: float = 0.25
    cardinality: int | None = None

    def __post_init__(self):
        check_number("max_weight", self.max_weight, low=0, high=1, low_inclusive=False)
        if self.cardinality is not None:
            object.__setattr__(self, "cardinality", check_integer("cardinality", self.cardinality, low=1))


@dataclass(frozen=True)
class SweepConfig:
    """Game parameters tried besides the configured ones (lists); their number enters the deflated Sharpe."""

    crowding: list[float] | None = None
    trading_cost: list[float] | None = None

    def __post_init__(self):
        for name in ("crowding", "trading_cost"):
            values = getattr(self, name)
            if values is None:
                continue
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or len(values) == 0:
                raise ValueError(f"{name} = {values!r} is not allowed: expected a non-empty list of numbers or null")
            low_inclusive = name == "crowding"
            object.__setattr__(
                self, name, [check_number(name, v, low=0, low_inclusive=low_inclusive) for v in values]
            )  # fmt: skip


@dataclass(frozen=True)
class StatisticsConfig:
    """Sharpe CIs at ``level``; Ledoit-Wolf bootstrap test with ``n_boot`` resamples and ``seed``."""

    level: float = 0.95
    n_boot: int = 2000
    seed: int = 0

    def __post_init__(self):
        check_number("level", self.level, low=0.5, high=1, high_inclusive=False)
        object.__setattr__(self, "n_boot", check_integer("n_boot", self.n_boot, low=100))
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))


@dataclass(frozen=True)
class RegimeConfig:
    """Gaussian HMM on the equal-weight market returns, for the regime-conditional performance (ex post)."""

    n_states: int = 2
    n_init: int = 3
    max_iter: int = 200
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "n_states", check_integer("n_states", self.n_states, low=1, high=6))
        check_fields(self, ("n_init", "max_iter"), check_integer, low=1)
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))


@dataclass(frozen=True)
class ReportConfig:
    """output_dir: report.html, summary.json, weights.csv, returns.csv and the figures
    go to <output_dir>/<run id>/ (``pipeline run --out DIR`` writes to DIR itself)."""

    output_dir: str = "pipeline_output"


def _strategies(value) -> dict[str, dict]:
    """A list of strategy keys, or a mapping key -> parameters (game parameters for mean_field/cooperative)."""
    if isinstance(value, (list, tuple)):
        value = {name: {} for name in value}
    if not isinstance(value, dict) or not value:
        raise ValueError(f"strategies = {value!r} is not allowed: expected a non-empty list or mapping of strategies")
    out = {}
    known_game = {f.name for f in fields(GameConfig)}
    for name, params in value.items():
        check_choice("strategies", name, STRATEGY_KEYS)
        params = dict(params or {})
        bad = sorted(set(params) - (known_game if name in ("mean_field", "cooperative") else set()))
        if bad:
            raise ValueError(f"unknown settings {bad} for strategy {name!r}: expected some of {sorted(known_game)}"
                             if name in ("mean_field", "cooperative") else
                             f"unknown settings {bad} for strategy {name!r}: it takes no parameters")  # fmt: skip
        out[name] = params
    return out


@dataclass(frozen=True)
class PipelineConfig:
    data: DataConfig = field(default_factory=DataConfig)
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    game: GameConfig = field(default_factory=GameConfig)
    constraints: ConstraintConfig = field(default_factory=ConstraintConfig)
    strategies: dict = field(default_factory=lambda: {name: {} for name in STRATEGY_KEYS})
    sweep: SweepConfig = field(default_factory=SweepConfig)
    statistics: StatisticsConfig = field(default_factory=StatisticsConfig)
    regimes: RegimeConfig = field(default_factory=RegimeConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    store: str = "runs.duckdb"

    def __post_init__(self):
        object.__setattr__(self, "strategies", _strategies(self.strategies))
        if self.backtest.window < 20:  # the engine takes 2; the covariance estimates need more
            raise ValueError(f"backtest.window = {self.backtest.window} is not allowed: expected >= 20 return rows")
        if not isinstance(self.store, str) or not self.store.endswith((".duckdb", ".db")):
            raise ValueError(f"store = {self.store!r} is not allowed: expected a path ending in .duckdb")

    def game_params(self, strategy: str) -> dict:
        """The game parameters of a game strategy: the ``game`` section overridden by its own."""
        return {**asdict(self.game), **self.strategies.get(strategy, {})}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> PipelineConfig:
        raw = dict(raw or {})
        sections = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(sections))
        if unknown:
            raise ValueError(f"unknown pipeline settings {unknown}: expected some of {sorted(sections)}")
        kwargs: dict[str, Any] = {}
        for name, value in raw.items():
            if name in ("store", "strategies"):
                if value is None:
                    raise ValueError(
                        f"{name} = None is not allowed: expected a value (leave the key out for the default)"
                    )
                kwargs[name] = value
                continue
            if value is None:
                continue
            section_cls = sections[name].default_factory  # type: ignore[misc]
            if not isinstance(value, dict):
                raise ValueError(f"{name} = {value!r} is not allowed: expected a mapping of settings")
            known = {f.name for f in fields(section_cls)}
            bad = sorted(set(value) - known)
            if bad:
                raise ValueError(f"unknown settings {bad} in section {name!r}: expected some of {sorted(known)}")
            try:
                kwargs[name] = section_cls(**value)
            except ValueError as exc:
                raise ValueError(f"{name}.{exc}") from exc
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
