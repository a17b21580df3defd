"""The mean-field portfolio as a walk-forward backtest: the crowding game drives the weights,
differential evolution meets the constraints a QP cannot (cardinality), skfolio baselines run
through the same engine, and the statistics say what the data can and cannot tell.

from meanfolio.pipeline import PipelineConfig, run_pipeline
result = run_pipeline(PipelineConfig())          # bundled S&P 500 data, 1995-2022, monthly, 10 bp
print(result.verdict, result.report)
"""

from .config import (
    ConstraintConfig,
    DataConfig,
    GameConfig,
    PipelineConfig,
    RegimeConfig,
    ReportConfig,
    StatisticsConfig,
    SweepConfig,
    load_config,
)
from .run import PipelineResult, load_data, run_pipeline

__all__ = [
    "ConstraintConfig",
    "DataConfig",
    "GameConfig",
    "PipelineConfig",
    "PipelineResult",
    "RegimeConfig",
    "ReportConfig",
    "StatisticsConfig",
    "SweepConfig",
    "load_config",
    "load_data",
    "run_pipeline",
]
