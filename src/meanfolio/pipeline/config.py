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
from meanfolio.data.store import check_store_path

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
    """The ``data`` section: where the prices come from and which part of them is used.

    Parameters
    ----------
    source : str, default "bundled:sp500"
        ``"bundled:sp500"`` (:func:`meanfolio.data.load_sp500`) or a CSV/Parquet/Arrow path.
    layout : {"auto", "wide", "long"}, default "auto"
        As in :func:`meanfolio.data.read_prices`.
    date_format : str, optional
        strptime format of the date column (e.g. ``"%m/%d/%Y"``; None: inferred
        from the whole column, an ambiguous one refused).
    column : str, optional
        The price column of an OHLCV export or of a long file with several
        price columns (default: "price", else Adj Close, else Close).
    decimal : {".", ","}, default "."
        Decimal separator (``","`` reads 1.234,56).
    start, end : str, optional
        ISO dates (inclusive); start defaults to 1995-01-01.
    assets : list of str, optional
        At least 2 tickers (None = all).
    missing : {"drop_rows", "raise"}, default "drop_rows"
        Dates with a missing price are dropped (and counted), or an error.

    Raises
    ------
    ValueError
        If a setting is not allowed.
    """

    source: str = "bundled:sp500"
    layout: str = "auto"
    date_format: str | None = None
    column: str | None = None
    decimal: str = "."
    start: str | None = "1995-01-01"
    end: str | None = None
    assets: list[str] | None = None
    missing: str = "drop_rows"

    def __post_init__(self):
        check_choice("layout", self.layout, ("auto", "wide", "long"))
        check_choice("missing", self.missing, ("drop_rows", "raise"))
        check_choice("decimal", self.decimal, (".", ","))
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
    """The ``game`` section: the allocation game behind ``mean_field`` and ``cooperative`` (annual units).

    Parameters
    ----------
    risk_aversion : float, default 3
        :math:`\\gamma > 0`.
    crowding : float, default 0.1
        :math:`\\lambda \\ge 0`, return lost per year per unit of crowd holding.
    trading_cost : float, default 5e-4
        :math:`\\kappa > 0`.
    dispersion : float, default 0
        :math:`\\eta \\ge 0`.
    horizon : float, default 1
        T > 0, years.
    seed : int, default 0
        L-SHADE's seed (cardinality constraints).
    max_evaluations : int, default 2000
        L-SHADE's budget (>= 100).

    See Also
    --------
    meanfolio.games.AllocationGame

    Notes
    -----
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
    """The ``constraints`` section: long-only, fully invested weights, capped, with an optional holdings limit.

    Parameters
    ----------
    max_weight : float, default 0.25
        Cap per asset, in (0, 1].
    cardinality : int, optional
        At most K >= 1 holdings (game strategies; L-SHADE picks them).

    Raises
    ------
    ValueError
        If a setting is out of range.
    """

    max_weight: float = 0.25
    cardinality: int | None = None

    def __post_init__(self):
        check_number("max_weight", self.max_weight, low=0, high=1, low_inclusive=False)
        if self.cardinality is not None:
            object.__setattr__(self, "cardinality", check_integer("cardinality", self.cardinality, low=1))


@dataclass(frozen=True)
class SweepConfig:
    """The ``sweep`` section: game parameters tried besides the configured ones.

    The number of configurations tried enters the deflated Sharpe ratio.

    Parameters
    ----------
    crowding : list of float, optional
        Crowding values :math:`\\lambda \\ge 0` to try.
    trading_cost : list of float, optional
        Trading costs :math:`\\kappa > 0` to try.

    Raises
    ------
    ValueError
        If a list is empty or a value out of range.
    """

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
    """The ``statistics`` section: Sharpe confidence intervals and the bootstrap test of the Sharpe difference.

    Parameters
    ----------
    level : float, default 0.95
        Confidence level of the Sharpe intervals, in [0.5, 1).
    n_boot : int, default 2000
        Resamples of the Ledoit-Wolf bootstrap test (>= 100).
    seed : int, default 0
        Seed of the bootstrap.

    References
    ----------
    .. [1] O. Ledoit, M. Wolf, "Robust performance hypothesis testing with the
       Sharpe ratio", J. Empir. Finance 15 (2008).
    """

    level: float = 0.95
    n_boot: int = 2000
    seed: int = 0

    def __post_init__(self):
        check_number("level", self.level, low=0.5, high=1, high_inclusive=False)
        object.__setattr__(self, "n_boot", check_integer("n_boot", self.n_boot, low=100))
        object.__setattr__(self, "seed", check_integer("seed", self.seed, low=0))


@dataclass(frozen=True)
class RegimeConfig:
    """The ``regimes`` section: a Gaussian HMM on the equal-weight market returns (ex-post regime performance).

    Parameters
    ----------
    n_states : int, default 2
        Number of hidden states, 1 to 6.
    n_init : int, default 3
        Random restarts of the EM fit.
    max_iter : int, default 200
        EM iterations per restart.
    seed : int, default 0
        Seed of the restarts.
    """

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
    """The ``report`` section.

    Parameters
    ----------
    output_dir : str, default "pipeline_output"
        report.html, summary.json, weights.csv, returns.csv and the figures go
        to ``<output_dir>/<run id>/`` (``pipeline run --out DIR`` writes to DIR itself).
    """

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
    """The settings of :func:`run_pipeline`, one validated section per stage (read from YAML by :func:`load_config`).

    Parameters
    ----------
    data : DataConfig
        Prices.
    backtest : meanfolio.backtest.BacktestConfig
        Calendar, window (>= 20 rows here) and costs.
    game : GameConfig
        The allocation game of the game strategies.
    constraints : ConstraintConfig
        Weight caps and holdings limit.
    strategies : list of str or dict
        Strategy keys of :data:`meanfolio.backtest.STRATEGIES` (default: all),
        or a mapping key -> game parameters overriding ``game`` (game strategies only).
    sweep : SweepConfig
        Game parameters tried besides the configured ones.
    statistics : StatisticsConfig
        Sharpe intervals and tests.
    regimes : RegimeConfig
        The HMM of the regime-conditional performance.
    report : ReportConfig
        Output folder.
    store : str, default "runs.duckdb"
        The :class:`~meanfolio.data.ResultStore` file.

    Raises
    ------
    ValueError
        If a setting is not allowed (the message names the key).

    Examples
    --------
    >>> from meanfolio.pipeline import PipelineConfig, load_data
    >>> cfg = PipelineConfig.from_dict({"data": {"assets": ["AAPL", "KO", "XOM"], "start": "2020-01-01"},
    ...                                 "strategies": ["mean_field", "equal_weight"]})
    >>> cfg.backtest.rebalance, sorted(cfg.strategies)
    ('monthly', ['equal_weight', 'mean_field'])
    >>> table = load_data(cfg)
    >>> table.tickers, str(table.dates[0])
    (('AAPL', 'KO', 'XOM'), '2020-01-02')
    """

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
        object.__setattr__(self, "store", str(check_store_path(self.store)))

    def game_params(self, strategy: str) -> dict:
        """The game parameters of a game strategy: the ``game`` section overridden by its own."""
        return {**asdict(self.game), **self.strategies.get(strategy, {})}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> PipelineConfig:
        """A config from a mapping of sections (as read from YAML); unknown keys are errors."""
        raw = dict(raw or {})
        sections = {f.name: f for f in fields(cls)}
        unknown = sorted(set(raw) - set(sections))
        if unknown:
            raise ValueError(f"unknown pipeline settings {unknown}: expected some of {sorted(sections)}")
        kwargs: dict[str, Any] = {}
        for name, value in raw.items():
            if name in ("store", "strategies"):
                if value is None:
                    expected = "a path ending in .duckdb" if name == "store" else "a list of strategies"
                    raise ValueError(f"{name} = None is not allowed: expected {expected} (leave the key out for "
                                     "the default)")  # fmt: skip
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
    """Read a YAML pipeline config (see ``examples/pipeline.yaml``).

    Parameters
    ----------
    path : str or Path
        The YAML file: a mapping of sections (``data``, ``backtest``, ``game``,
        ``constraints``, ``strategies``, ``sweep``, ``statistics``, ``regimes``,
        ``report``, ``store``); missing sections take their defaults.

    Returns
    -------
    PipelineConfig

    Raises
    ------
    ValueError
        If the file is missing, not YAML, or holds an unknown or invalid setting.
    """
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
