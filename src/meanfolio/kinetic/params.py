"""`KineticParams`: every parameter and modelling choice of the kinetic model.

The model is fixed in ``shared/spec/kinetic_model.md`` (Trimborn, Pareschi
& Frank 2019). Each modelling choice the paper leaves open is a field here
(see "Modelling choices" in the spec), and five named presets reproduce the
paper's findings (section 7 of the spec).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from meanfolio._validation import check_choice, check_fields, check_integer, check_number

__all__ = ["PRESETS", "KineticParams", "preset"]

VALUE_FUNCTIONS = ("prospect", "identity")
WEIGHTS = ("tanh", "heaviside", "fundamentalist", "chartist")
PRICE_IMPACTS = ("relative", "absolute")
CHARTIST_SIGNALS = ("lagged", "implicit")
TRANSACTION_COSTS = ("relative", "absolute")
NOISES = ("multiplicative", "additive")
KERNELS = ("refuse", "truncate")
FUNDAMENTALS = ("constant", "exp_ou")
INVESTORS = ("long_term", "high_frequency")


@dataclass(frozen=True)
class KineticParams:
    """Parameters of the kinetic portfolio model (units: time in years, money arbitrary).

    Market: ``kappa`` price impact (> 0), ``dividend`` D >= 0, ``rate`` r >= 0
    (bond rate), ``chartist_dividend`` D_c (None: D), ``reversion`` c > 0.
    Decisions: ``mu`` investment rate > 0, ``sigma`` decision noise >= 0
    (eq. 4), value function U (``value_function``, ``u_alpha`` in (0, 1],
    ``u_lambda`` >= 1, ``u_gamma`` reference point), weight W (``weight``,
    ``beta`` trust coefficient, ``weight_scale`` a > 0).
    Modelling choices: ``price_impact`` relative (1c) | absolute;
    ``chartist_signal`` lagged realised return | implicit same-step solution;
    ``transaction_cost`` relative to the agent's source account (2) |
    absolute (relative to the population's mean source account, so u* =
    mu g Z_bar); ``noise`` multiplicative on the own source account (4) |
    additive (sigma Z_bar dW); ``kernel`` refuse negative outcomes | truncate xi.
    Fundamental: ``fundamental`` constant | exp_ou with ``s_f`` (its constant
    value or starting value), ``s_bar``, ``theta_f``, ``sigma_f``.
    Brokers: ``n_brokers`` (0: the price follows (1c) with no broker noise),
    ``sigma_broker``, ``investors`` long_term (decide on S) | high_frequency
    (decide on each broker's s), ``freeze_wealth`` (section 5's simplification
    X = Y = ``frozen_wealth``).
    Initial state: S0, log-normal x and y (``x0_logmean``, ``x0_logstd``,
    ``y0_logmean``, ``y0_logstd``); ``dt`` the step.
    """

    kappa: float = 2.0
    dividend: float = 0.0
    rate: float = 0.0
    chartist_dividend: float | None = None
    reversion: float = 1.0
    mu: float = 1.0
    sigma: float = 0.0
    value_function: str = "identity"
    u_alpha: float = 0.88
    u_lambda: float = 2.25
    u_gamma: float = 0.0
    weight: str = "tanh"
    beta: float = 1.0
    weight_scale: float = 10.0
    price_impact: str = "relative"
    chartist_signal: str = "lagged"
    transaction_cost: str = "relative"
    noise: str = "multiplicative"
    kernel: str = "refuse"
    fundamental: str = "constant"
    s_f: float = 1.5
    s_bar: float | None = None
    theta_f: float = 0.5
    sigma_f: float = 0.2
    n_brokers: int = 0
    sigma_broker: float = 0.0
    investors: str = "long_term"
    freeze_wealth: bool = False
    frozen_wealth: float = 1.0
    S0: float = 1.0
    x0_logmean: float = 0.0
    x0_logstd: float = 0.1
    y0_logmean: float = 0.0
    y0_logstd: float = 0.1
    dt: float = 0.01

    def __post_init__(self) -> None:
        positive = ("kappa", "reversion", "mu", "weight_scale", "S0", "s_f", "theta_f", "dt", "frozen_wealth")
        check_fields(self, positive, low=0, low_inclusive=False)
        check_fields(self, ("dividend", "rate", "sigma", "sigma_f", "sigma_broker", "x0_logstd", "y0_logstd"), low=0)
        check_fields(self, ("beta", "u_gamma", "x0_logmean", "y0_logmean"))
        check_fields(self, ("u_alpha",), low=0, high=1, low_inclusive=False)
        check_fields(self, ("u_lambda",), low=1)
        check_fields(self, ("n_brokers",), check=check_integer, low=0)
        if self.chartist_dividend is not None:
            check_number("chartist_dividend", self.chartist_dividend, low=0)
        if self.s_bar is not None:
            check_number("s_bar", self.s_bar, low=0, low_inclusive=False)
        for name, choices in (
            ("value_function", VALUE_FUNCTIONS), ("weight", WEIGHTS), ("price_impact", PRICE_IMPACTS),
            ("chartist_signal", CHARTIST_SIGNALS), ("transaction_cost", TRANSACTION_COSTS),
            ("noise", NOISES), ("kernel", KERNELS), ("fundamental", FUNDAMENTALS), ("investors", INVESTORS),
        ):  # fmt: skip
            check_choice(name, getattr(self, name), choices)
        if self.investors == "high_frequency" and self.n_brokers == 0:
            raise ValueError("investors = 'high_frequency' is not allowed with n_brokers = 0: expected n_brokers >= 1")
        if self.sigma_broker > 0 and self.n_brokers == 0:
            raise ValueError("sigma_broker > 0 is not allowed with n_brokers = 0: broker noise needs brokers")

    # convenient derived values
    @property
    def D_c(self) -> float:
        return self.dividend if self.chartist_dividend is None else float(self.chartist_dividend)

    @property
    def fundamental_mean(self) -> float:
        return self.s_f if self.s_bar is None else float(self.s_bar)

    def replace(self, **changes: Any) -> KineticParams:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, KineticParams] = {
    # Finding 1: the price fluctuates around a constant s_f = 1.5 (10 noisy brokers).
    # (Agents start with more bonds than stock, so that after the rise to s_f buying and selling
    # power, Y and X, are comparable and the fluctuations are centred on s_f.)
    "long_term_constant": KineticParams(
        kappa=1.0, beta=1.0, weight_scale=1.0, sigma=0.05, n_brokers=10, sigma_broker=0.1,
        x0_logmean=-0.7, y0_logmean=0.2,
    ),
    # Finding 2: the price follows an exponential-OU fundamental with overshoots; fat-tailed returns.
    "long_term_varying": KineticParams(
        kappa=1.0, beta=1.0, weight_scale=1.0, sigma=0.05, fundamental="exp_ou", s_f=1.5, theta_f=0.5,
        sigma_f=0.2,
    ),
    # Finding 4: s_f well above S and W = 1, so g > 0 and the bond marginal closes (log-normal).
    "marginal_positive": KineticParams(
        kappa=0.05, mu=0.5, weight="fundamentalist", s_f=3.0, S0=1.0, sigma=0.3, x0_logstd=0.3,
        y0_logstd=0.3, dt=0.002,
    ),
    # Finding 5: high-frequency traders deciding on each broker's price: fat-tailed price law.
    "high_frequency": KineticParams(
        kappa=0.3, beta=1.0, weight_scale=1.0, sigma=0.05, n_brokers=2000, sigma_broker=0.6,
        investors="high_frequency", dt=0.005,
    ),
    # Section 5's simplification: U = identity, W = 1, X = Y = w frozen -> inverse-gamma steady state.
    "high_frequency_steady_state": KineticParams(
        kappa=1.0, mu=1.0, weight="fundamentalist", value_function="identity", n_brokers=20000,
        sigma_broker=0.5, investors="high_frequency", freeze_wealth=True, frozen_wealth=1.0, s_f=1.0,
        S0=0.5, dt=0.002,
    ),
}  # fmt: skip


def preset(name: str, **changes: Any) -> KineticParams:
    """A named preset, optionally with some fields changed."""
    check_choice("preset", name, PRESETS)
    return PRESETS[name].replace(**changes) if changes else PRESETS[name]
