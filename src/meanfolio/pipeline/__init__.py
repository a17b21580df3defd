"""The end-to-end mean-field portfolio pipeline: regimes -> MFG equilibrium -> DE weights -> risk report.

from meanfolio.pipeline import PipelineConfig, run_pipeline
result = run_pipeline(PipelineConfig())          # bundled S&P 500 data
print(result.report)                             # the HTML report
"""

from .config import (
    DataConfig,
    EquilibriumConfig,
    PipelineConfig,
    PortfolioConfig,
    RegimeConfig,
    ReportConfig,
    load_config,
)
from .run import PipelineResult, load_data, run_pipeline

__all__ = [
    "DataConfig",
    "EquilibriumConfig",
    "PipelineConfig",
    "PipelineResult",
    "PortfolioConfig",
    "RegimeConfig",
    "ReportConfig",
    "load_config",
    "load_data",
    "run_pipeline",
]
