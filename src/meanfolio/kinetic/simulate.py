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

from meanfolio._parallel import free_threads, numba_threads
from meanfolio._random_kernels import kernel_key
from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_memory

from . import _kernels as kern
from .params import KineticParams

__all__ = ["KineticResult", "KineticStabilityError", "check_stability", "simulate", "wealth_step"]

MODELS = ("kinetic", "microscopic")
#: Below this many agents (and brokers) a run uses one numba thread: a step's parallel
#: regions are too short to pay for waking other threads on a shared machine.
PARALLEL_AGENTS = 20_000


class KineticStabilityError(ValueError):
    """The step dt is too large for the parameters (the run would leave the model's domain).

    A :class:`ValueError`, raised by :func:`simulate`, :func:`check_stability` and :func:`solve_moments`.
    """


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
    P[kern.CMEM], P[kern.VOLMEM], P[kern.VOLVOL] = p.chartist_memory, p.broker_vol_memory, p.broker_vol_vol
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

    Attributes
    ----------
    params : KineticParams
        The model.
    model : {"kinetic", "microscopic"}
        Which dynamics ran.
    series : dict of str to ndarray, each shape (steps + 1,)
        ``t, S, s_f, ED, X, Y, g, W, refused, R`` (row 0 is the initial
        state). Row n holds S, s_f, X, Y and the chartist signal R at
        :math:`t_n`, and the decision g, W, ED taken at :math:`t_n` for the step
        :math:`[t_n, t_n + dt)` (so ``series["g"][:-1]`` are the estimates used
        on the steps); ``refused`` is the fraction of interactions refused by
        the non-negativity kernel in the step that ended at :math:`t_n` (row 0:
        0). With high-frequency traders g, W, ED and R are means over the brokers.
    x, y : ndarray, shape (n_agents,)
        The agents' final stock and bond wealth.
    broker_prices : ndarray, shape (n_brokers,)
        The brokers' final prices.
    completed_steps : int
        Steps done (fewer than asked if stopped early).
    message : str
        How the run ended.
    wall_time : float
        Seconds.
    extra : dict
        E.g. ``"snapshots"``: list of (t, broker prices).
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
    kern.NEGATIVE_PRICE: "the price left (0, inf) at step {step} (kappa * ED * dt <= -1, or a broker price "
    "under- or overflowed); dt = {dt} is not allowed for these parameters: expected a smaller dt (or a "
    "smaller kappa)",
    kern.IMPLICIT_FAILED: "the implicit chartist signal R = kappa ED(R) has no convergent fixed point at "
    "step {step}: chartist_signal = 'implicit' is not allowed here: "
    "expected 'lagged' or a smaller kappa * mu",
}


#: Mispricing over which the fundamentalists' restoring slope is measured (U_gamma has an infinite
#: slope at 0 when gamma = 0, which says nothing about the restoring force at a 5% mispricing).
SLOPE_SPAN = 0.05


def _value_slope(params: KineticParams) -> float:
    """Secant slope of U over [-SLOPE_SPAN, SLOPE_SPAN] (1 for the identity)."""
    from .functions import value_function

    u = value_function(np.array([-SLOPE_SPAN, SLOPE_SPAN]), params)
    return float((u[1] - u[0]) / (2 * SLOPE_SPAN))


def check_stability(params: KineticParams, n_agents: int = 1) -> dict[str, float]:
    r"""Refuse, before running, parameters whose chartist feedback is unstable in continuous time.

    Linearising the price S and the chartist signal R (memory
    tau = ``chartist_memory``) at the fundamental equilibrium S* = s_f
    (``s_bar`` for an exp-OU fundamental), R = 0, with e = (S - S*)/S*:

    .. math::

        \dot e = K (-W_0 c U'(0) e + (1 - W_0) R),\quad
        \tau \dot R = K (-W_0 c U'(0) e + (1 - W_0) R) - R,

    K = kappa mu Z (``/ S*`` for the absolute impact), Z = X0 + Y0 the mean
    total wealth (the largest value the source account can reach), W0 =
    W(g_f, g_c) at the equilibrium, U'(0) the secant slope of U over a 5%
    mispricing (``SLOPE_SPAN``; U_gamma's slope at 0 is infinite). The
    determinant K W0 c U'(0) / tau is >= 0, so the equilibrium is unstable
    iff the trace is positive:

    .. math::

        K (1 - W_0) - 1 > \tau K W_0 c U'(0).

    With the implicit signal (tau = 0) this is the condition kappa mu Z
    (1 - W) > 1 under which a one-step-lagged signal explodes in a fixed
    number of steps whatever dt. The rate does not depend on dt, so no step
    cures it.

    Parameters
    ----------
    params : KineticParams
        The model.
    n_agents : int, default 1
        0 uses the frozen wealth for Z.

    Returns
    -------
    dict of str to float
        ``K``, ``W0``, ``U_slope``, ``chartist_gain`` :math:`K(1 - W_0)`,
        ``damping`` :math:`\tau K W_0 c U'(0)` and ``growth_rate``
        (the trace, < 0 when stable).

    Raises
    ------
    KineticStabilityError
        If the equilibrium is unstable.

    Examples
    --------
    >>> from meanfolio.kinetic import check_stability, preset
    >>> numbers = check_stability(preset("long_term_varying"))
    >>> round(float(numbers["growth_rate"]), 3)
    -3.669
    """
    from .functions import return_estimate

    if n_agents == 0 or params.freeze_wealth:
        Z = params.frozen_wealth
    else:
        Z = np.exp(params.x0_logmean + params.x0_logstd**2 / 2) + np.exp(params.y0_logmean + params.y0_logstd**2 / 2)
    s_star = params.fundamental_mean
    K = params.kappa * params.mu * Z / (s_star if params.price_impact == "absolute" else 1.0)
    _, W0 = return_estimate(params, s_star, 0.0, s_star)
    slope = _value_slope(params)
    tau = params.chartist_memory if params.chartist_signal == "lagged" else 0.0
    gain = K * (1.0 - W0)
    damping = tau * K * W0 * params.reversion * slope
    info = {"K": K, "W0": W0, "U_slope": slope, "chartist_gain": gain, "damping": damping,
            "growth_rate": (gain - 1.0 - damping) / tau if tau > 0 else np.nan}  # fmt: skip
    if gain - 1.0 > damping:
        raise KineticStabilityError(
            f"unstable chartist feedback: kappa*mu*Z*(1-W) = {gain:.4g} > "
            f"1 + chartist_memory*kappa*mu*Z*W*c*U'(0) = {1 + damping:.4g} "
            f"(Z = {Z:.3g}, W = {W0:.3g}, chartist_memory = {tau:g}): the chartist feedback makes the "
            "equilibrium at the fundamental unstable at a rate independent of dt; these parameters are not "
            "allowed: expected a smaller kappa*mu, a longer chartist_memory, or more trust in fundamentals"
        )
    return info


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
    threads: int | None = None,
    max_memory: str | int | None = None,
) -> KineticResult:
    r"""Monte Carlo of the kinetic portfolio market: ``steps`` steps of length ``params.dt`` with ``n_agents`` agents.

    ``model="kinetic"`` runs the Boltzmann-type Monte Carlo: one interaction per
    agent and step, the excess demand being the mean of the controls
    :math:`u^* = \mu g Z` (no noise in ED); ``"microscopic"`` runs the
    microscopic model with the model-predictive control and the noise entering
    the excess demand. The price moves by :math:`dS = \kappa S\, ED\, dt`
    (relative impact); brokers turn it into micro prices, and the fundamental is
    constant or an exponential OU process sampled exactly.

    Parameters
    ----------
    params : KineticParams
        The model.
    n_agents : int
        >= 0 (0 only with ``freeze_wealth``, where agents are not needed).
    steps : int
        >= 1.
    seed : int, numpy.random.Generator or None
        The same seed gives the same numbers on 1 or many threads.
    model : {"kinetic", "microscopic"}, default "kinetic"
        The dynamics.
    chunk : int, default 500
        Steps per compiled call; ``callback(done, steps)`` runs between chunks
        (return True to stop early). Ctrl-C also stops and keeps what was done.
    callback : callable, optional
        See ``chunk``.
    snapshot_every : int, optional
        Keep a copy of the broker prices every this many steps
        (``result.extra["snapshots"]``: list of (t, prices)); sets the chunk.
    threads : int, optional
        Numba threads (default: 1 below 20,000 agents or brokers, else the free
        cores). Results do not depend on it.
    max_memory : str or int, optional
        Memory limit such as ``"32G"`` (``"0"``: none); default
        ``$MEANFOLIO_MAX_MEMORY``, else 80 % of the memory available now.

    Returns
    -------
    KineticResult

    Raises
    ------
    KineticStabilityError
        Before running, when the chartist feedback is unstable
        (:func:`check_stability`); during the run, when dt breaks
        :math:`\mu \lvert g\rvert\, dt < 1` or drives the price non-positive.
    MemoryLimitError
        Before allocating, when the run would need more memory than the limit.

    See Also
    --------
    preset, observed, stylized_facts, solve_moments

    References
    ----------
    .. [1] T. Trimborn, L. Pareschi, M. Frank, "Portfolio optimization and model
       predictive control: a kinetic approach", Discrete Contin. Dyn. Syst. Ser. B
       24(11) (2019).

    Examples
    --------
    >>> from meanfolio.kinetic import log_returns, observed, preset, simulate
    >>> result = simulate(preset("long_term_varying"), n_agents=1000, steps=500, seed=1)
    >>> result.completed_steps, result.x.shape
    (500, (1000,))
    >>> returns = log_returns(observed(result))   # one return per observation interval
    >>> returns.shape
    (250,)
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
    check_stability(params, n_agents)
    # wealth and its draws per agent, the brokers' state, the series and the snapshots: refused before allocating
    n_snap = 0 if snapshot_every is None else steps // chunk + 1
    floats = 6 * n_agents + (8 + n_snap) * params.n_brokers + (steps + 1) * len(kern.SERIES)
    check_memory(f"the simulation of {n_agents:,} agents over {steps:,} steps", 8.0 * floats, max_memory)
    rng = as_generator(seed)
    x, y = initial_wealth(params, n_agents, rng)
    key = kernel_key(rng)
    P, C = _pack(params, model)
    nb = params.n_brokers
    s = np.full(nb, params.S0)
    size = max(nb, 1)
    Rb, g_b, ed_b, w_b, zbar_b = (np.zeros(size) for _ in range(5))
    partial = np.zeros(((max(n_agents, nb) + kern.BLOCK - 1) // kern.BLOCK + 1, 4))
    X0 = float(x.mean()) if n_agents else params.frozen_wealth
    Y0 = float(y.mean()) if n_agents else params.frozen_wealth
    state = np.array([params.S0, 0.0, params.s_f, X0, Y0, 0.0, 0.0])
    series = np.full((steps + 1, len(kern.SERIES)), np.nan)
    series[0, [0, 1, 2, 4, 5, 8]] = (0.0, params.S0, params.s_f, X0, Y0, 0.0)
    done, message = 0, "completed"
    if snapshot_every is not None:
        snapshots.append((0.0, s.copy()))
    if threads is None:
        threads = 1 if max(n_agents, nb) < PARALLEL_AGENTS else free_threads()
    threads = check_integer("threads", threads, low=1)
    # compile (or load from the cache) before the clock starts: wall_time excludes JIT time
    warm = [a.copy() for a in (state, x, y, s, Rb, g_b, ed_b, w_b, zbar_b, partial)]
    kern.run_steps(P, C, key, 0, 0, warm[0], *warm[1:], series[:1].copy())
    start = time.perf_counter()
    try:
        with numba_threads(threads):
            while done < steps:
                n = min(chunk, steps - done)
                rows = series[done : done + 1 + n]
                buffers = (Rb, g_b, ed_b, w_b, zbar_b, partial, rows)
                try:
                    status, k = kern.run_steps(P, C, key, done, n, state, x, y, s, *buffers)
                except ZeroDivisionError as exc:  # a broker price underflowed to 0
                    message = _MESSAGES[kern.NEGATIVE_PRICE].format(step=done, dt=params.dt)
                    raise KineticStabilityError(message) from exc
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
    """One interaction of every agent at a given return estimate ``g`` and stock return.

    This is the kernel's own update, exposed for checks such as "total wealth
    gets no control and no noise".

    Parameters
    ----------
    params : KineticParams
        The model.
    g : float
        The return estimate.
    stock_return : float
        The stock's return over the step, :math:`(S' - S + D\\,dt)/S`.
    x, y : array_like, shape (n,)
        The agents' stock and bond wealth (>= 0).
    xi : array_like, shape (n,), optional
        The agents' standard normals (default zeros).

    Returns
    -------
    x, y : ndarray, shape (n,)
        The new wealth.
    refused : ndarray, shape (n,)
        1 where the interaction was refused by the non-negativity kernel, else 0.
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
