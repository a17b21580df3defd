"""Monte Carlo of the kinetic portfolio model: agents, brokers, fundamental.

``simulate`` runs either

- the **kinetic** (Boltzmann-type) Monte Carlo of spec section 4: one
  interaction per agent and step, excess demand ED = mean of the controls
  u* = mu g Z (the mean-field value, no noise in ED), or
- the **microscopic** model (1a)-(1c) with the MPC control (2) and the noise
  (4): ED is the mean of the agents' actual controls, noise included.

Brokers (section 5) turn the price into N_B micro prices; long-term investors
decide on their mean S, high-frequency traders on each broker's price. The
fundamental is constant or an exponential OU process sampled exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from meanfolio._random_kernels import kernel_key
from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer

from . import _kernels as kern
from .params import KineticParams

__all__ = ["KineticResult", "KineticStabilityError", "simulate", "wealth_step"]

MODELS = ("kinetic", "microscopic")


class KineticStabilityError(ValueError):
    """The step dt is too large for the parameters (the run would leave the model's domain)."""


def _pack(params: KineticParams, model: str = "kinetic") -> tuple[np.ndarray, np.ndarray]:
    """Parameters as the kernels' float vector P and code vector C."""
    P = np.zeros(kern.N_FLOAT)
    C = np.zeros(kern.N_CODE, dtype=np.int64)
    p = params
    P[kern.KAPPA], P[kern.DIV], P[kern.RATE], P[kern.DC], P[kern.REV], P[kern.MU] = (
        p.kappa,
        p.dividend,
        p.rate,
        p.D_c,
        p.reversion,
        p.mu,
    )
    P[kern.SIGMA], P[kern.UALPHA], P[kern.ULAMBDA], P[kern.UGAMMA] = p.sigma, p.u_alpha, p.u_lambda, p.u_gamma
    d0 = -p.u_gamma  # U_0 = raw value at z = 0, so that U_gamma(0) = 0
    P[kern.U0] = (abs(d0) ** p.u_alpha) * (-p.u_lambda if d0 < 0 else 1.0) if p.value_function == "prospect" else 0.0
    P[kern.BETA], P[kern.WSCALE], P[kern.DT] = p.beta, p.weight_scale, p.dt
    P[kern.LOG_SBAR], P[kern.THETAF], P[kern.SIGMAF] = np.log(p.fundamental_mean), p.theta_f, p.sigma_f
    P[kern.SIGMAB], P[kern.WFROZEN] = p.sigma_broker, p.frozen_wealth
    C[kern.VALUE] = ("prospect", "identity").index(p.value_function)
    C[kern.WEIGHT] = ("tanh", "heaviside", "fundamentalist", "chartist").index(p.weight)
    C[kern.IMPACT] = ("relative", "absolute").index(p.price_impact)
    C[kern.SIGNAL] = ("lagged", "implicit").index(p.chartist_signal)
    C[kern.COST] = ("relative", "absolute").index(p.transaction_cost)
    C[kern.NOISE] = ("multiplicative", "additive").index(p.noise)
    C[kern.KERNEL] = ("refuse", "truncate").index(p.kernel)
    C[kern.FUND] = ("constant", "exp_ou").index(p.fundamental)
    C[kern.HFT] = int(p.investors == "high_frequency")
    C[kern.FREEZE] = int(p.freeze_wealth)
    C[kern.DEMAND_NOISE] = int(model == "microscopic")
    return P, C


@dataclass
class KineticResult:
    """Output of :func:`simulate`.

    ``series`` maps each of ``t, S, s_f, ED, X, Y, g, W, refused, R`` to an
    array of length steps + 1 (row 0 is the initial state). Row n holds S, s_f,
    X, Y and R at t_n, and the g, W, ED and refused fraction of the step that
    ended at t_n (row 0: their values at the initial state). ``x``, ``y`` are
    the agents' final stock and bond wealth (n_agents,), ``broker_prices``
    the brokers' final prices (n_brokers,). ``refused`` is the fraction of
    interactions refused by the non-negativity kernel at each step.
    """

    params: KineticParams
    model: str
    series: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    broker_prices: np.ndarray
    completed_steps: int
    message: str
    wall_time: float
    extra: dict = field(default_factory=dict)

    @property
    def refused_fraction(self) -> float:
        """Mean fraction of refused interactions over the run."""
        r = self.series["refused"][1 : self.completed_steps + 1]
        return float(r.mean()) if r.size else 0.0

    def to_frame(self):
        """The time series as a polars DataFrame."""
        import polars as pl

        return pl.DataFrame({k: v[: self.completed_steps + 1] for k, v in self.series.items()})

    def save(self, out_dir: str | Path, stem: str = "kinetic") -> dict[str, Path]:
        """Write ``<stem>_series.parquet`` and ``<stem>_samples.npz`` to ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"series": out / f"{stem}_series.parquet", "samples": out / f"{stem}_samples.npz"}
        self.to_frame().write_parquet(paths["series"])
        np.savez_compressed(paths["samples"], x=self.x, y=self.y, broker_prices=self.broker_prices)
        return paths


def initial_wealth(params: KineticParams, n_agents: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Log-normal initial stock and bond wealth, shape (n_agents,)."""
    x = np.exp(params.x0_logmean + params.x0_logstd * rng.standard_normal(n_agents))
    y = np.exp(params.y0_logmean + params.y0_logstd * rng.standard_normal(n_agents))
    return x, y


_MESSAGES = {
    kern.UNSTABLE_G: "mu * |g| * dt >= 1 at step {step}: an agent would move more than its whole account; "
    "dt = {dt} is not allowed for these parameters: expected a smaller dt (or a smaller mu)",
    kern.NEGATIVE_PRICE: "the price became non-positive at step {step}: kappa * ED * dt <= -1; "
    "dt = {dt} is not allowed for these parameters: expected a smaller dt (or a smaller kappa)",
    kern.IMPLICIT_FAILED: "the implicit chartist signal R = kappa ED(R) has no convergent fixed point at "
    "step {step}: chartist_signal = 'implicit' is not allowed here: "
    "expected 'lagged' or a smaller kappa * mu",
}


def simulate(
    params: KineticParams,
    n_agents: int,
    steps: int,
    *,
    seed: SeedLike = None,
    model: str = "kinetic",
    chunk: int = 500,
    callback: Callable[[int, int], bool | None] | None = None,
    snapshot_every: int | None = None,
) -> KineticResult:
    """Simulate ``steps`` steps of length ``params.dt`` with ``n_agents`` agents.

    Parameters
    ----------
    params : KineticParams
    n_agents : int >= 0 (0 only with ``freeze_wealth``, where agents are not needed)
    steps : int >= 1
    seed : int or numpy Generator; the same seed gives the same numbers on 1 or many threads.
    model : "kinetic" (default) or "microscopic" (noise enters the excess demand)
    chunk : steps per compiled call; ``callback(done, steps)`` runs between chunks
        (return True to stop early). Ctrl-C also stops and keeps what was done.
    snapshot_every : keep a copy of the broker prices every this many steps
        (``result.extra["snapshots"]``: list of (t, prices)); sets the chunk.

    Raises
    ------
    KineticStabilityError
        When dt breaks ``mu |g| dt < 1`` or drives the price non-positive.
    """
    check_choice("model", model, MODELS)
    n_agents = check_integer("n_agents", n_agents, low=0)
    steps = check_integer("steps", steps, low=1)
    chunk = check_integer("chunk", chunk, low=1)
    snapshots: list[tuple[float, np.ndarray]] = []
    if snapshot_every is not None:
        chunk = check_integer("snapshot_every", snapshot_every, low=1)
    if n_agents == 0 and not params.freeze_wealth:
        raise ValueError("n_agents = 0 is not allowed unless freeze_wealth = True: expected n_agents >= 1")
    if model == "microscopic" and params.investors == "high_frequency":
        raise ValueError("model = 'microscopic' is not allowed with high-frequency investors: expected 'kinetic'")
    rng = as_generator(seed)
    x, y = initial_wealth(params, n_agents, rng)
    key = kernel_key(rng)
    P, C = _pack(params, model)
    nb = params.n_brokers
    s = np.full(nb, params.S0)
    size = max(nb, 1)
    Rb, g_b, ed_b, ret_b, zbar_b = (np.zeros(size) for _ in range(5))
    partial = np.zeros(((max(n_agents, nb) + kern.BLOCK - 1) // kern.BLOCK + 1, 4))
    X0 = float(x.mean()) if n_agents else params.frozen_wealth
    Y0 = float(y.mean()) if n_agents else params.frozen_wealth
    state = np.array([params.S0, 0.0, params.s_f, X0, Y0, 0.0])
    series = np.full((steps + 1, len(kern.SERIES)), np.nan)
    g0, W0, ed0, _ = kern.market(P, C, params.S0, 0.0, params.s_f, X0, Y0)
    series[0] = (0.0, params.S0, params.s_f, ed0, X0, Y0, g0, W0, 0.0, 0.0)
    done, message = 0, "completed"
    if snapshot_every is not None:
        snapshots.append((0.0, s.copy()))
    start = time.perf_counter()
    try:
        while done < steps:
            n = min(chunk, steps - done)
            rows = series[done + 1 : done + 1 + n]
            buffers = (Rb, g_b, ed_b, ret_b, zbar_b, partial, rows)
            status, k = kern.run_steps(P, C, key, done, n, state, x, y, s, *buffers)
            done += int(k)
            if status != kern.OK:
                raise KineticStabilityError(_MESSAGES[status].format(step=done, dt=params.dt))
            if snapshot_every is not None:
                snapshots.append((float(state[kern.T_]), s.copy()))
            if callback is not None and callback(done, steps) is True:
                message = f"stopped by the callback after {done} steps"
                break
    except KeyboardInterrupt:
        message = f"interrupted after {done} of {steps} steps"
    return KineticResult(
        params=params, model=model, series={name: series[:, i] for i, name in enumerate(kern.SERIES)},
        x=x, y=y, broker_prices=s, completed_steps=done, message=message,
        wall_time=time.perf_counter() - start, extra={"snapshots": snapshots},
    )  # fmt: skip


def wealth_step(
    params: KineticParams, g: float, stock_return: float, x, y, xi=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One interaction of every agent at a given estimate ``g`` and stock return.

    ``stock_return`` is the stock's return over the step ((S' - S + D dt)/S);
    ``xi`` the agents' normals (default zeros). Returns (x', y', refused) with
    refused in {0, 1}. This is the kernel's own update, exposed for checks such
    as "total wealth gets no control and no noise".
    """
    x = check_array("x", x, ndim=1, nonnegative=True)
    y = check_array("y", y, shape=(x.size,), nonnegative=True)
    xi = np.zeros(x.size) if xi is None else check_array("xi", xi, shape=(x.size,))
    P, C = _pack(params)
    zbar = float(y.mean() if g > 0 else x.mean())
    out = np.empty((3, x.size))
    for i in range(x.size):
        out[:, i] = kern._agent_update(P, C, float(g), float(stock_return), x[i], y[i], zbar, xi[i])
    return out[0], out[1], out[2]
