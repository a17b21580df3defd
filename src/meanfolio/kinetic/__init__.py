"""The kinetic portfolio model of Trimborn, Pareschi & Frank (spec: kinetic_model.md).

from meanfolio.kinetic import preset, simulate
result = simulate(preset("long_term_varying"), n_agents=10_000, steps=5_000, seed=1)
"""

from .analytic import (
    InverseGamma,
    LogNormal,
    bond_marginal,
    broker_price_law,
    inverse_gamma_steady_state,
    stock_marginal,
)
from .calibrate import Calibration, bundled_index_returns
from .findings import Finding, observed
from .fokker_planck import PriceDensity, solve_price_fokker_planck, stationary_price_density
from .functions import plot_functions, return_estimate, value_function, weight_function
from .moments import MomentSolution, solve_moments
from .params import PRESETS, KineticParams, parse_overrides, preset
from .simulate import KineticResult, KineticStabilityError, check_stability, simulate, wealth_step
from .stylized import (
    autocorrelation,
    excess_kurtosis,
    hill_tail_index,
    jarque_bera,
    log_returns,
    qq_normal,
    stylized_facts,
)

__all__ = [
    "PRESETS",
    "Calibration",
    "Finding",
    "InverseGamma",
    "KineticParams",
    "KineticResult",
    "KineticStabilityError",
    "LogNormal",
    "MomentSolution",
    "PriceDensity",
    "autocorrelation",
    "bond_marginal",
    "broker_price_law",
    "bundled_index_returns",
    "check_stability",
    "excess_kurtosis",
    "hill_tail_index",
    "inverse_gamma_steady_state",
    "jarque_bera",
    "log_returns",
    "observed",
    "parse_overrides",
    "plot_functions",
    "preset",
    "qq_normal",
    "return_estimate",
    "simulate",
    "solve_moments",
    "solve_price_fokker_planck",
    "stationary_price_density",
    "stock_marginal",
    "stylized_facts",
    "value_function",
    "wealth_step",
    "weight_function",
]
