"""`KineticParams`: every parameter and modelling choice of the kinetic model.

The model is fixed in ``shared/spec/kinetic_model.md`` (Trimborn, Pareschi
& Frank 2019). Each modelling choice the paper leaves open is a field here
(see "Modelling choices" in the spec), and five named presets reproduce the
paper's findings (section 7 of the spec).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from meanfolio._validation import check_choice, check_fields, check_integer, check_number

__all__ = ["PRESETS", "KineticParams", "parse_overrides", "preset"]

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
    r"""Parameters and modelling choices of the kinetic portfolio model of Trimborn, Pareschi & Frank.

    Agents hold stock wealth x and bond wealth y and invest at the rate
    :math:`u^* = \mu g Z` given by their return estimate
    :math:`g = W g_f + (1 - W) g_c` (fundamentalist against chartist); the
    price moves with the excess demand, :math:`dS/S = \kappa\, ED\, dt`
    (relative impact). Units: time in years, money arbitrary.

    Parameters
    ----------
    kappa : float, default 2
        Price impact :math:`\kappa > 0`.
    dividend : float, default 0
        Dividend D >= 0 (money per share per year).
    rate : float, default 0
        Bond rate r >= 0 (1/year).
    chartist_dividend : float, optional
        :math:`D_c`, the dividend the chartists see (None: D).
    reversion : float, default 1
        c > 0, the fundamentalists' speed of reversion to :math:`s_f`.
    mu : float, default 1
        Investment rate :math:`\mu > 0`.
    sigma : float, default 0
        Decision noise :math:`\sigma \ge 0` (eq. 4).
    value_function : {"identity", "prospect"}, default "identity"
        U, see :func:`value_function`.
    u_alpha, u_lambda, u_gamma : float
        Prospect theory's :math:`\alpha \in (0, 1]`, loss aversion
        :math:`\lambda \ge 1` and reference point :math:`\gamma`.
    weight : {"tanh", "heaviside", "fundamentalist", "chartist"}, default "tanh"
        W, see :func:`weight_function`.
    beta : float, default 1
        Trust coefficient :math:`\beta` of the tanh weight.
    weight_scale : float, default 1
        a > 0 in the tanh weight.
    price_impact : {"relative", "absolute"}, default "relative"
        :math:`dS = \kappa S\, ED\, dt` (1c) or :math:`dS = \kappa\, ED\, dt`.
    chartist_signal : {"lagged", "implicit"}, default "lagged"
        Lagged realised return (with memory ``chartist_memory``) or the
        implicit same-step solution.
    transaction_cost : {"relative", "absolute"}, default "relative"
        Relative to the agent's source account (2), or to the population's
        mean source account (so :math:`u^* = \mu g \bar Z`).
    noise : {"multiplicative", "additive"}, default "multiplicative"
        Noise on the own source account (4), or :math:`\sigma \bar Z\, dW`.
    kernel : {"refuse", "truncate"}, default "refuse"
        Refuse interactions with a negative outcome, or truncate the noise.
    fundamental : {"constant", "exp_ou"}, default "constant"
        A constant fundamental or an exponential Ornstein-Uhlenbeck process.
    s_f : float, default 1.5
        The fundamental price (its constant or starting value).
    s_bar, theta_f, sigma_f : float
        Long-run mean, speed and volatility of the exp-OU fundamental.
    n_brokers : int, default 0
        Number of brokers (0: the price follows (1c) with no broker noise).
    sigma_broker : float, default 0
        Broker noise :math:`\sigma_B \ge 0`.
    investors : {"long_term", "high_frequency"}, default "long_term"
        Decide on the mean price S, or on each broker's price.
    freeze_wealth : bool, default False
        Section 5's simplification X = Y = ``frozen_wealth``.
    frozen_wealth : float, default 1
        w of the frozen wealth.
    S0 : float, default 1
        Initial price.
    x0_logmean, x0_logstd, y0_logmean, y0_logstd : float
        Log-normal initial laws of x and y.
    dt : float, default 0.01
        Time step (years).
    chartist_memory : float, default 1
        :math:`\tau > 0`: the lagged chartist signal averages the realised
        return with memory :math:`\tau` (:math:`\tau \dot R = \dot S/S - R`,
        stepped exactly), so the model has a limit as dt -> 0.
    observation_interval : float, default 0.02
        Model time between two observations ("one trading day") for return
        statistics, independent of dt.
    broker_vol_memory, broker_vol_vol : float
        Extension (not in the paper): with ``broker_vol_vol = v > 0`` the broker
        noise varies slowly, :math:`\sigma_B(t) = \sigma_{broker} e^{h - v^2}`,
        h an OU process with that memory and stationary standard deviation v
        (:math:`\mathbb{E}\sigma_B^2 = \sigma_{broker}^2`).

    Raises
    ------
    ValueError
        If a value is out of range or two choices are incompatible (e.g.
        high-frequency investors without brokers).

    See Also
    --------
    preset, simulate, check_stability

    References
    ----------
    .. [1] T. Trimborn, L. Pareschi, M. Frank, "Portfolio optimization and model
       predictive control: a kinetic approach", Discrete Contin. Dyn. Syst. Ser. B
       24(11) (2019).
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
    weight_scale: float = 1.0
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
    chartist_memory: float = 1.0
    observation_interval: float = 0.02
    broker_vol_memory: float = 1.0
    broker_vol_vol: float = 0.0

    def __post_init__(self) -> None:
        positive = (
            "kappa",
            "reversion",
            "mu",
            "weight_scale",
            "S0",
            "s_f",
            "theta_f",
            "dt",
            "frozen_wealth",
            "chartist_memory",
            "observation_interval",
            "broker_vol_memory",
        )
        check_fields(self, positive, low=0, low_inclusive=False)
        check_fields(
            self,
            ("dividend", "rate", "sigma", "sigma_f", "sigma_broker", "x0_logstd", "y0_logstd", "broker_vol_vol"),
            low=0,
        )
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


#: The named :class:`KineticParams` that reproduce the paper's findings (see :func:`preset`).
PRESETS: dict[str, KineticParams] = {
    # Finding 1 (Fig 3): a damped price cycle around a constant s_f = 1.5, produced by the chartists'
    # memory (chartist_memory) against slow fundamentalists (c = 0.3), prospect value function U_gamma;
    # linearised period about 6.4 (check_stability). Run it with model="microscopic": the finite-N
    # decision noise (4) excites the cycle.
    "long_term_constant": KineticParams(
        kappa=1.5, reversion=0.3, value_function="prospect", sigma=0.3, chartist_memory=1.0, dt=0.02,
    ),
    # Finding 2 (Figs 3-4): the price follows an exponential-OU fundamental with overshoots; fat tails.
    "long_term_varying": KineticParams(
        kappa=2.0, reversion=1.0, value_function="prospect", sigma=0.05, chartist_memory=1.0,
        fundamental="exp_ou", s_f=1.5, theta_f=0.5, sigma_f=0.2,
    ),
    # Finding 3 (Figs 5-6): long-term investors trading through 5000 noisy brokers; agents start with
    # (almost) equal wealth, so the spread of the stock wealth is made by the decision noise (4).
    "long_term_brokers": KineticParams(
        kappa=2.0, reversion=1.0, value_function="prospect", sigma=0.05, chartist_memory=1.0,
        n_brokers=5000, sigma_broker=0.2, x0_logstd=0.01, y0_logstd=0.01,
    ),
    # Finding 4 (Fig 7): s_f well above S and W = 1, so g > 0 and the bond marginal closes (log-normal).
    "marginal_positive": KineticParams(
        kappa=0.05, mu=0.5, weight="fundamentalist", value_function="prospect", s_f=3.0, S0=1.0, sigma=0.3,
        x0_logstd=0.3, y0_logstd=0.3, dt=0.002,
    ),
    # Finding 5 (Figs 8-9): high-frequency traders deciding on each broker's price.
    "high_frequency": KineticParams(
        kappa=1.0, value_function="prospect", sigma=0.05, chartist_memory=1.0, n_brokers=2000,
        sigma_broker=0.3, investors="high_frequency", dt=0.005,
    ),
    # Finding 6 (Fig 10), section 5's simplification: U = identity, W = 1, X = Y = w frozen -> inverse gamma.
    "high_frequency_steady_state": KineticParams(
        kappa=1.0, mu=1.0, weight="fundamentalist", value_function="identity", n_brokers=20000,
        sigma_broker=0.5, investors="high_frequency", freeze_wealth=True, frozen_wealth=1.0, s_f=1.0,
        S0=0.5, dt=0.002,
    ),
}  # fmt: skip


def preset(name: str, **changes: Any) -> KineticParams:
    """A named preset of :class:`KineticParams` (one per finding of the paper), optionally with some fields changed.

    Parameters
    ----------
    name : str
        One of :data:`PRESETS`: ``"long_term_constant"``, ``"long_term_varying"``,
        ``"long_term_brokers"``, ``"marginal_positive"``, ``"high_frequency"``,
        ``"high_frequency_steady_state"``.
    **changes
        Fields to change (validated again).

    Returns
    -------
    KineticParams

    Raises
    ------
    ValueError
        If the name is unknown or a change is out of range.

    Examples
    --------
    >>> from meanfolio.kinetic import preset
    >>> p = preset("long_term_varying", beta=2.0)
    >>> p.beta, p.value_function
    (2.0, 'prospect')
    """
    check_choice("preset", name, PRESETS)
    return PRESETS[name].replace(**changes) if changes else PRESETS[name]


def _convert(name: str, text: str, default: Any) -> Any:
    """``text`` as the type of the field's default (bool, int, float, str; 'none' for optional floats)."""
    t = text.strip()
    if default is None or name in ("chartist_dividend", "s_bar"):
        if t.lower() in ("none", "null", ""):
            return None
        default = 0.0
    try:
        if isinstance(default, bool):
            if t.lower() in ("true", "1", "yes", "on"):
                return True
            if t.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(t)
        if isinstance(default, float):
            return float(t)
    except ValueError:
        kind = {bool: "true or false", int: "an integer", float: "a number"}[type(default)]
        raise ValueError(f"--set {name}={text} is not allowed: expected {name} = {kind}") from None
    return t


def parse_overrides(items) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` overrides of :class:`KineticParams` fields (the CLI's ``--set``), typed by the field.

    Values are converted to the field's type here and range-checked when the
    parameters are built.

    Parameters
    ----------
    items : iterable of str
        ``"NAME=VALUE"`` strings; names must be fields of :class:`KineticParams`.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If an item is malformed, names no field, or its value has the wrong type.

    Examples
    --------
    >>> from meanfolio.kinetic import parse_overrides
    >>> parse_overrides(["kappa=1.5", "weight=tanh", "freeze_wealth=yes"])
    {'kappa': 1.5, 'weight': 'tanh', 'freeze_wealth': True}
    """
    known = {f.name: f.default for f in fields(KineticParams)}
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"--set {item!r} is not allowed: expected NAME=VALUE")
        name, text = (part.strip() for part in item.split("=", 1))
        if name not in known:
            raise ValueError(
                f"--set {name}={text}: {name!r} is not a parameter: expected one of {', '.join(sorted(known))}"
            )
        out[name] = _convert(name, text, known[name])
    return out
