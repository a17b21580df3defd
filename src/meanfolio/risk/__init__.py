"""Risk metrics, long memory and bootstrap intervals (conventions: see ``metrics``)."""

from .bootstrap import BootstrapResult, bootstrap_ci
from .hurst import expected_rs, fractional_gaussian_noise, half_life, hurst_dfa, hurst_rs
from .metrics import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    cvar,
    downside_deviation,
    drawdown_series,
    excess_kurtosis,
    max_drawdown,
    max_drawdown_duration,
    omega_ratio,
    sharpe_ratio,
    skewness,
    sortino_ratio,
    tail_ratio,
    var,
)
from .report import RiskMetrics, compute_risk_metrics, portfolio_returns

__all__ = [
    "BootstrapResult",
    "RiskMetrics",
    "annual_return",
    "annual_volatility",
    "bootstrap_ci",
    "calmar_ratio",
    "compute_risk_metrics",
    "cvar",
    "downside_deviation",
    "drawdown_series",
    "excess_kurtosis",
    "expected_rs",
    "fractional_gaussian_noise",
    "half_life",
    "hurst_dfa",
    "hurst_rs",
    "max_drawdown",
    "max_drawdown_duration",
    "omega_ratio",
    "portfolio_returns",
    "sharpe_ratio",
    "skewness",
    "sortino_ratio",
    "tail_ratio",
    "var",
]
