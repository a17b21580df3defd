"""McKean-Vlasov particle systems: interacting agents whose dynamics depend on their empirical law.

The finance specification (agents adjusting a position X):

.. math::
    dX^i = \\big[\\alpha(t, X^i) + \\lambda \\bar\\alpha_N(t) - \\kappa (X^i - \\bar X_N)\\big] dt
           + \\big(\\sigma + \\eta \\operatorname{Var}_N(X)\\big)\\, g(X^i)\\, dW^i

with the own feedback control alpha (linear ``-gain (x - target)`` or a grid
field such as an MFG equilibrium ``alpha*(t, x)``), the aggregate price
impact ``lam * mean(alpha)``, attraction ``kappa`` to the empirical mean, and
a volatility that rises with the dispersion of positions; g = 1 (additive)
or g(x) = x (geometric, where Milstein's correction applies).

As N grows the empirical law converges to the McKean-Vlasov limit
(propagation of chaos), at the rate N^(-1/2) in W2 for these Lipschitz
interactions (Sznitman 1991; Fournier & Guillin 2015).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._parallel import block_count, free_threads, numba_threads
from meanfolio._random_kernels import kernel_key
from meanfolio._rng import SeedLike
from meanfolio._validation import check_array, check_choice, check_fields, check_integer, check_memory, check_number

from . import _kernels as kern

__all__ = ["GridControl", "McKeanVlasov", "ParticleResult", "ParticleStabilityError", "simulate_particles"]


#: Below this many particles a run uses one thread: a step's parallel regions are then a few
#: microseconds, shorter than waking the pool (measured: 400 particles ran 10x slower on 2 threads
#: of a loaded 2-core machine, 50 000 ran 3x faster on 2 threads).
PARALLEL_PARTICLES = 20_000


class ParticleStabilityError(FloatingPointError):
    """The particle system left the range where the scheme is stable or finite.

    Raised by :func:`simulate_particles` (a :class:`FloatingPointError`).
    """


@dataclass(frozen=True)
class GridControl:
    r"""A feedback control :math:`\alpha(t, x)` given on a grid.

    Linear in x between nodes, constant beyond the ends; level n is used on
    :math:`[t_n, t_{n+1})` (the convention of the implicit Fokker-Planck step).
    Build it from an MFG solution with :meth:`from_solution`.

    Parameters
    ----------
    alpha : ndarray, shape (nt, nx)
        The control (units of x per unit time) at times ``t`` and nodes ``x``.
    x : ndarray, shape (nx,)
        Increasing nodes.
    t : ndarray, shape (nt,)
        Increasing times.

    Raises
    ------
    ValueError
        If the shapes do not match or the nodes/times are not increasing.
    """

    alpha: np.ndarray
    x: np.ndarray
    t: np.ndarray

    def __post_init__(self):
        x = check_array("x", self.x, ndim=1)
        t = check_array("t", self.t, ndim=1)
        alpha = check_array("alpha", self.alpha, shape=(t.size, x.size))
        if x.size < 2 or np.any(np.diff(x) <= 0) or not np.allclose(np.diff(x), x[1] - x[0]):
            raise ValueError("x is not allowed: expected an increasing uniform grid of >= 2 nodes")
        if t.size < 2 or not np.allclose(np.diff(t), t[1] - t[0]) or t[1] <= t[0]:
            raise ValueError("t is not allowed: expected an increasing uniform grid of >= 2 times")
        object.__setattr__(self, "alpha", np.ascontiguousarray(alpha))
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "t", t)

    @classmethod
    def from_solution(cls, solution) -> GridControl:
        """The scheme's optimal control :math:`\\alpha^*` of a 1D :class:`meanfolio.mfg.MFGSolution`."""
        return cls(solution.alpha, solution.x, solution.t)


@dataclass(frozen=True)
class McKeanVlasov:
    r"""Coefficients of a McKean-Vlasov particle system of N interacting agents.

    .. math::

        dX^i = \big[\alpha(t, X^i) + \lambda \bar\alpha_N(t) - \kappa (X^i - \bar X_N)\big] dt
               + \big(\sigma + \eta \operatorname{Var}_N(X)\big)\, g(X^i)\, dW^i,

    with the own feedback :math:`\alpha`, the aggregate price impact
    :math:`\lambda \bar\alpha_N` (mean of the controls), attraction :math:`\kappa`
    to the empirical mean, a volatility that rises with the dispersion of the
    positions, and :math:`g = 1` (additive) or :math:`g(x) = x` (geometric).

    Parameters
    ----------
    sigma : float, default 0.2
        Base volatility :math:`\sigma \ge 0` (units of x per square-root time).
    eta : float, default 0
        :math:`\eta \ge 0`, the volatility's sensitivity to :math:`\operatorname{Var}_N(X)`.
    lam : float, default 0
        Aggregate impact :math:`\lambda`: the drift gets ``lam * mean_j alpha(t, X^j)``.
    kappa : float, default 0
        Attraction :math:`\kappa \ge 0` to the empirical mean (1/time).
    gain, target : float, default 0
        The linear own control ``alpha = -gain (x - target)`` (gain >= 0),
        used when no :class:`GridControl` is given.
    noise : {"additive", "geometric"}
        :math:`g(x) = 1` or :math:`g(x) = x`.
    box : (float, float), optional
        Reflecting walls (the no-flux box of the grid solvers).

    Raises
    ------
    ValueError
        If a coefficient is out of range.

    References
    ----------
    .. [1] A.-S. Sznitman, "Topics in propagation of chaos", Ecole d'Ete de
       Probabilites de Saint-Flour XIX, Lecture Notes in Math. 1464 (1991).
    .. [2] N. Fournier, A. Guillin, "On the rate of convergence in Wasserstein
       distance of the empirical measure", Probab. Theory Relat. Fields 162 (2015).
    """

    sigma: float = 0.2
    eta: float = 0.0
    lam: float = 0.0
    kappa: float = 0.0
    gain: float = 0.0
    target: float = 0.0
    noise: str = "additive"
    box: tuple[float, float] | None = None

    def __post_init__(self):
        check_fields(self, ("sigma", "eta", "kappa", "gain"), low=0)
        check_fields(self, ("lam", "target"))
        check_choice("noise", self.noise, ("additive", "geometric"))
        if self.box is not None:
            lo, hi = (check_number(n, v) for n, v in zip(("box[0]", "box[1]"), self.box, strict=True))
            if not lo < hi:
                raise ValueError(f"box = {self.box!r} is not allowed: expected (low, high) with low < high")
            object.__setattr__(self, "box", (lo, hi))


@dataclass
class ParticleResult:
    """Output of :func:`simulate_particles`.

    Attributes
    ----------
    x : ndarray, shape (N,)
        Final positions.
    t : ndarray, shape (steps + 1,)
        Times.
    mean, variance, mean_control : ndarray, shape (steps + 1,)
        Empirical moments of the positions and mean control (the last after the final step).
    wall_time : float
        Seconds of the last call.
    completed : bool
        False if interrupted: the arrays then hold the steps done; pass the
        result as ``resume=`` to finish the run bitwise as if never interrupted.
    random_key : int
        The key of the counter-based random stream.
    """

    x: np.ndarray
    t: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    mean_control: np.ndarray
    wall_time: float
    completed: bool = True
    random_key: int = 0


def _pack(model: McKeanVlasov, dt: float, control: GridControl | None, scheme: str, start_time: float):
    P = np.zeros(kern.N_FLOAT)
    P[kern.START] = start_time
    C = np.zeros(kern.N_CODE, dtype=np.int64)
    P[kern.SIGMA], P[kern.ETA], P[kern.LAM], P[kern.KAPPA] = model.sigma, model.eta, model.lam, model.kappa
    P[kern.GAIN], P[kern.TARGET], P[kern.DT] = model.gain, model.target, dt
    if model.box is not None:
        P[kern.LOW], P[kern.HIGH] = model.box
        C[kern.REFLECT] = 1
    C[kern.NOISE] = kern.GEOMETRIC if model.noise == "geometric" else kern.ADDITIVE
    C[kern.MILSTEIN] = 1 if scheme == "milstein" else 0
    if control is None:
        alpha = np.zeros((1, 2))
    else:
        C[kern.CONTROL] = kern.GRID
        alpha = control.alpha
        P[kern.GRID_X0], P[kern.GRID_DX] = control.x[0], control.x[1] - control.x[0]
        P[kern.GRID_DT], P[kern.GRID_T0] = control.t[1] - control.t[0], control.t[0]
    return P, C, alpha


def simulate_particles(
    model: McKeanVlasov,
    x0,
    horizon: float,
    steps: int,
    *,
    seed: SeedLike = None,
    scheme: str = "euler",
    control: GridControl | None = None,
    start_step: int = 0,
    start_time: float = 0.0,
    chunk: int = 64,
    callback: Callable[[int, np.ndarray], bool | None] | None = None,
    resume: ParticleResult | None = None,
    threads: int | None = None,
    max_memory: str | int | None = None,
) -> ParticleResult:
    r"""Simulate N interacting particles of a :class:`McKeanVlasov` system from ``x0`` over [0, horizon].

    Euler-Maruyama (or Milstein) steps of :math:`dt = T/\text{steps}` in compiled,
    parallel chunks; the empirical law converges to the McKean-Vlasov limit at
    the rate :math:`N^{-1/2}` in :math:`W_2` (propagation of chaos).

    Parameters
    ----------
    model : McKeanVlasov
        The coefficients.
    x0 : array_like, shape (N,)
        Initial positions (N >= 2); copied.
    horizon : float
        T > 0.
    steps : int
        Number of steps (>= 1). Explicit Euler needs ``(gain + kappa) dt < 2``
        (checked; a grid control's own stiffness is the user's).
    seed : int, numpy.random.Generator or None
        The same seed gives bitwise the same run on any number of threads.
    scheme : {"euler", "milstein"}
        Milstein adds :math:`\tfrac12 s^2 g g' (\Delta W^2 - dt)` (matters for geometric noise).
    control : GridControl, optional
        Own feedback :math:`\alpha(t, x)` on a grid (e.g. an MFG equilibrium); else linear.
    start_step, start_time : int, float
        Offset of the random stream (global step j draws at ``start_step + j``)
        and of the clock (step j is at ``start_time + j dt``).
    chunk : int, default 64
        Steps per compiled call; ``callback(steps_done, x)`` runs after each
        and may return True to stop (Ctrl-C also stops, keeping the steps done).
        The result does not depend on ``chunk`` (bitwise).
    callback : callable, optional
        ``callback(steps_done, x) -> bool | None``, see ``chunk``.
    resume : ParticleResult, optional
        An interrupted result of this call (same arguments): continue it to
        ``steps``, bitwise as the uninterrupted run (also after pickling).
        Its random key is used; an int ``seed`` must be the one it was run with.
    threads : int, optional
        Numba threads (capped by the pool); by default 1 below
        ``PARALLEL_PARTICLES`` particles, else the free cores. Results do not depend on it.
    max_memory : str or int, optional
        Memory limit such as ``"32G"`` (``"0"``: none); default ``$MEANFOLIO_MAX_MEMORY``,
        else 80 % of the memory available now.

    Returns
    -------
    ParticleResult

    Raises
    ------
    ParticleStabilityError
        If dt is unstable or the moments become non-finite (with the step).
    ValueError
        If an argument is out of range.
    MemoryLimitError
        Before allocating, when the run would need more memory than the limit
        (80 % of the available memory, or ``$MEANFOLIO_MAX_MEMORY``).

    See Also
    --------
    solve_mfg_particles : The MFG equilibrium with particles for the population.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.particles import McKeanVlasov, simulate_particles
    >>> model = McKeanVlasov(sigma=0.3, kappa=1.0)
    >>> result = simulate_particles(model, np.linspace(-1.0, 1.0, 1000), 1.0, 100, seed=0)
    >>> result.x.shape, result.completed
    ((1000,), True)
    >>> bool(result.variance[-1] < result.variance[0])  # attraction to the mean
    True
    """
    x = check_array("x0", x0, ndim=1).copy()
    if x.size < 2:
        raise ValueError(f"x0 has {x.size} particles which is not allowed: expected at least 2")
    horizon = check_number("horizon", horizon, low=0, low_inclusive=False)
    steps = check_integer("steps", steps, low=1)
    check_choice("scheme", scheme, ("euler", "milstein"))
    start_step = check_integer("start_step", start_step, low=0)
    start_time = check_number("start_time", start_time, low=0)
    chunk = check_integer("chunk", chunk, low=1)
    if threads is not None:
        threads = check_integer("threads", threads, low=1)
    if not isinstance(model, McKeanVlasov):
        raise ValueError(f"model = {model!r} is not allowed: expected a McKeanVlasov")
    dt = horizon / steps
    if (model.gain + model.kappa) * dt >= 2.0:
        raise ParticleStabilityError(
            f"dt = {dt:g} is not allowed: (gain + kappa) dt = {(model.gain + model.kappa) * dt:g} >= 2 makes "
            "explicit Euler unstable; expected more steps"
        )
    if model.box is not None and (x.min() < model.box[0] or x.max() > model.box[1]):
        raise ValueError(f"x0 lies outside box = {model.box!r}: expected positions inside the walls")
    check_memory(f"{x.size:,} particles over {steps:,} steps", 8.0 * (3 * (steps + 1) + 4 * x.size), max_memory)
    P, C, alpha = _pack(model, dt, control, scheme, start_time)
    moments = np.full((steps + 1, 3), np.nan)
    if resume is None:
        key, done = kernel_key(seed), 0
    elif not isinstance(resume, ParticleResult):
        raise ValueError(f"resume of type {type(resume).__name__} is not allowed: expected a ParticleResult")
    else:
        key, done, x = _resume(resume, x.size, steps, seed, _clock(start_time, dt, resume.t.size - 1), moments)
    partial = np.zeros((block_count(x.size) + 1, 3))
    if threads is None:
        threads = 1 if x.size < PARALLEL_PARTICLES else free_threads()
    start = time.perf_counter()
    completed = True
    with numba_threads(threads):
        try:
            while done < steps:
                k = min(chunk, steps - done)
                ok = kern.run_steps(P, C, alpha, key, start_step, done, k, x, partial, moments[done:])
                if ok < k or not np.all(np.isfinite(x)):
                    raise ParticleStabilityError(
                        f"the particle system became non-finite at step {done + ok} "
                        f"(t = {start_time + (done + ok) * dt:g}): expected smaller dt, eta or volatility"
                    )
                done += k
                if callback is not None and callback(done, x) is True:
                    completed = False
                    break
        except KeyboardInterrupt:
            completed = False
        # moments after the last step: the kernel's own function of x, as at every chunk boundary
        t = _clock(start_time, dt, done)
        kern.moments(P, C, alpha, kern.level_at(P, C, alpha, t[-1]), x, partial, moments[done])
    m = moments[: done + 1]
    return ParticleResult(
        x, t, m[:, 0].copy(), m[:, 1].copy(), m[:, 2].copy(), time.perf_counter() - start, completed, int(key)
    )


def _clock(start_time: float, dt: float, done: int) -> np.ndarray:
    """Times of global steps 0..done, each ``start_time + j dt`` (the kernel's clock)."""
    return start_time + np.arange(done + 1) * dt


def _resume(previous, n: int, steps: int, seed: SeedLike, clock: np.ndarray, moments: np.ndarray):
    """Key, steps done and positions of an interrupted run; its moments copied into ``moments``."""
    done = previous.t.size - 1
    if previous.x.size != n or done > steps or not np.array_equal(previous.t, clock):
        raise ValueError(
            f"resume with {previous.x.size} particles at t = {previous.t[-1]:g} after {done} steps is not allowed: "
            "expected the result of a call with the same x0, horizon, steps and start_time"
        )
    key = np.uint64(previous.random_key)
    if isinstance(seed, (int, np.integer)) and kernel_key(seed) != key:
        raise ValueError(f"seed = {seed!r} is not allowed with this resume: expected the seed of the interrupted run")
    moments[: done + 1] = np.column_stack([previous.mean, previous.variance, previous.mean_control])
    return key, done, np.array(previous.x, dtype=np.float64, order="C")
