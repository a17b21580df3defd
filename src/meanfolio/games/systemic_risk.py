"""Systemic risk: inter-bank lending as a mean-field game (Carmona, Fouque & Sun 2015).

Reference: R. Carmona, J.-P. Fouque, L.-H. Sun, "Mean field games and systemic
risk", Commun. Math. Sci. 13(4), 911-933 (2015); without common noise (rho = 0).

N banks with log-monetary reserves X^i (dimensionless, log units) lend to and
borrow from each other at rate a (1/time) and control a further rate alpha^i:

    dX^i = [a (Xbar - X^i) + alpha^i] dt + sigma dW^i,       Xbar = (1/N) sum_j X^j,

each minimising (q the incentive to lend/borrow, eps the penalty, c terminal)

    J^i = E[ int_0^T (alpha^2/2 - q alpha (Xbar - X^i) + eps/2 (Xbar - X^i)^2) dt + c/2 (Xbar - X^i_T)^2 ],

with q^2 <= eps (the paper's condition: the running cost is convex in
(alpha, Xbar - X)). The closed-loop Nash equilibrium is

    alpha^i = (q + (1 - 1/N) eta_t) (Xbar - X^i),
    eta' = 2 (a + q) eta + (1 - 1/N^2) eta^2 - (eps - q^2),   eta_T = c,

and the mean field (N = infinity) replaces both 1 - 1/N and 1 - 1/N^2 by 1.
The Riccati equation has the paper's explicit solution, with
R = (a + q)^2 + (1 - 1/N^2)(eps - q^2), delta+- = -(a + q) +- sqrt(R), E = e^{(delta+ - delta-)(T - t)}:

    eta_t = [-(eps - q^2)(E - 1) - c (delta+ E - delta-)] / [(delta- E - delta+) - c (1 - 1/N^2)(E - 1)],

evaluated here after dividing through by E (the same formula without overflow
for large (a + q) T). As T - t grows eta tends to the root
eta* = (eps - q^2) / (a + q + sqrt(R)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_choice, check_integer, check_number

from ._lq import LinearQuadratic, feedback_cost, optimal_cost
from .nash import EpsilonNash, check_player_counts

__all__ = [
    "SystemicRiskModel",
    "SystemicRiskSimulation",
    "SystemicRiskSolution",
    "systemic_risk",
    "systemic_risk_epsilon_nash",
]

_MAX_STORED = 2_000_000  # floats of stored paths in a simulation (16 MB)


@dataclass(frozen=True)
class SystemicRiskModel:
    r"""The systemic risk game of Carmona, Fouque & Sun (2015): banks lending to and borrowing from each other.

    N banks with log-monetary reserves :math:`X^i` lend and borrow at rate
    :math:`a` and control a further rate :math:`\alpha^i`,

    .. math::

        dX^i_t = [a (\bar X_t - X^i_t) + \alpha^i_t]\, dt + \sigma\, dW^i_t,

    each minimising

    .. math::

        J^i = \mathbb{E}\Big[\int_0^T \big(\tfrac12 \alpha^2 - q \alpha (\bar X - X^i)
        + \tfrac{\varepsilon}{2} (\bar X - X^i)^2\big) dt + \tfrac{c}{2} (\bar X_T - X^i_T)^2\Big].

    The Nash feedback is :math:`\alpha^i = (q + (1 - 1/N)\eta_t)(\bar X - X^i)` with

    .. math::

        \dot\eta = 2 (a + q) \eta + (1 - 1/N^2) \eta^2 - (\varepsilon - q^2), \qquad \eta_T = c,

    solved explicitly (:meth:`eta`); the mean field replaces :math:`1 - 1/N` and
    :math:`1 - 1/N^2` by 1.

    Parameters
    ----------
    a : float
        Lending rate :math:`a \ge 0` (1/time).
    q : float
        Incentive :math:`q \ge 0` to lend and borrow (1/time).
    epsilon : float
        Penalty :math:`\varepsilon \ge q^2` on the distance to the mean (cost per squared log-reserve).
    c : float
        Terminal penalty :math:`c \ge 0`.
    sigma : float
        Volatility :math:`\sigma \ge 0` of the reserves (log units per square-root time).
    horizon : float
        :math:`T > 0`.

    Raises
    ------
    ValueError
        If a parameter is negative, ``horizon <= 0`` or :math:`q^2 > \varepsilon`
        (the running cost would not be convex).

    References
    ----------
    .. [1] R. Carmona, J.-P. Fouque, L.-H. Sun, "Mean field games and systemic
       risk", Commun. Math. Sci. 13(4), 911-933 (2015).
    """

    a: float
    q: float
    epsilon: float
    c: float
    sigma: float
    horizon: float

    def __post_init__(self):
        for name in ("a", "q", "c", "sigma"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=0))
        object.__setattr__(self, "horizon", check_number("horizon", self.horizon, low=0, low_inclusive=False))
        eps = check_number("epsilon", self.epsilon, low=0)
        if self.q**2 > eps:
            raise ValueError(
                f"epsilon = {eps!r} is not allowed with q = {self.q!r}: expected q^2 <= epsilon "
                "(Carmona-Fouque-Sun's condition for a convex running cost)"
            )
        object.__setattr__(self, "epsilon", eps)

    def _coefficients(self, n_players: int | None) -> tuple[float, float, float, float]:
        """(A = 1 - 1/N^2, C = eps - q^2, k = a + q, sqrt(R))."""
        A = 1.0 if n_players is None else 1.0 - 1.0 / n_players**2
        C, k = self.epsilon - self.q**2, self.a + self.q
        return A, C, k, math.sqrt(k * k + A * C)

    def eta(self, t, n_players: int | None = None) -> np.ndarray:
        """The Riccati solution :math:`\\eta_t` of the N-player game (None: the mean field), explicit.

        Same shape as ``t``.
        """
        A, C, k, root = self._coefficients(n_players)
        tau = self.horizon - np.asarray(t, dtype=np.float64)
        s = 2.0 * root  # delta+ - delta-
        phi = tau if s == 0.0 else -np.expm1(-s * tau) / s  # (1 - 1/E) / s
        psi = 0.5 * (1.0 + np.exp(-s * tau))  # (1 + 1/E) / 2
        # the paper's numerator and denominator divided by -s E (delta+- = -k +- s/2)
        return (C * phi - self.c * k * phi + self.c * psi) / (k * phi + psi + self.c * A * phi)

    def eta_stationary(self, n_players: int | None = None) -> float:
        """The limit of :math:`\\eta_t` as :math:`T - t \\to \\infty`.

        :math:`\\eta^* = (\\varepsilon - q^2)/(a + q + \\sqrt{R})` (inf if a + q = R = 0).
        """
        _, C, k, root = self._coefficients(n_players)
        return C / (k + root) if k + root > 0 else (0.0 if C == 0 else math.inf)


def _diag(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(K, 2, 2) diagonal matrices."""
    return np.einsum("kj,ij->kij", np.stack(np.broadcast_arrays(first, second), axis=1), np.eye(2))


def _weight(n_players: int | None) -> float:
    return 1.0 if n_players is None else 1.0 - 1.0 / n_players


@dataclass
class SystemicRiskSimulation:
    r"""Euler-Maruyama paths of N banks playing a feedback, from :meth:`SystemicRiskSolution.simulate`.

    Attributes
    ----------
    t : ndarray, shape (nt + 1,)
        Time grid.
    paths : ndarray, shape (stored_paths, nt + 1, n_banks)
        :math:`X^i_t` of the first ``stored_paths`` paths (all of them unless
        n_paths (nt + 1) n_banks > 2e6).
    terminal : ndarray, shape (n_paths, n_banks)
        :math:`X^i_T` of every path.
    default_time : ndarray, shape (n_paths, n_banks)
        First grid time with :math:`X^i_t \le` ``default_level`` (nan: no default by T).
        Defaulted banks stay in the system, as in the paper's simulations: a
        default is a first-passage marker.
    defaults : ndarray of int, shape (n_paths,)
        Number of banks that defaulted by T, per path.
    systemic : ndarray of bool, shape (n_paths,)
        Systemic event: at least ceil(systemic_share n_banks) banks defaulted by T.
    systemic_fraction : float
        Fraction of paths with a systemic event.
    mean_hit : ndarray of bool, shape (n_paths,)
        Whether the empirical mean :math:`\bar X` reached ``default_level`` (Fouque-Sun's systemic event).
    default_level : float
        The default level of the log-reserves.
    systemic_share : float
        The share of banks whose default makes a systemic event.
    """

    t: np.ndarray
    paths: np.ndarray
    terminal: np.ndarray
    default_time: np.ndarray
    defaults: np.ndarray
    systemic: np.ndarray
    systemic_fraction: float
    mean_hit: np.ndarray
    default_level: float
    systemic_share: float

    def summary(self) -> dict:
        n_paths, n_banks = self.terminal.shape
        return {
            "n_paths": n_paths,
            "n_banks": n_banks,
            "mean_defaults": float(self.defaults.mean()),
            "default_probability": float(self.defaults.mean() / n_banks),
            "systemic_fraction": self.systemic_fraction,
            "mean_hit_fraction": float(self.mean_hit.mean()),
        }

    def plot(self, ax=None, *, path: int = 0, title: str | None = None):
        """The banks' reserves on one stored path, their mean, the default level and the defaults (x)."""
        from meanfolio.plotting import new_figure

        if ax is None:
            _, (ax,) = new_figure(1, width=5.5)
        x = self.paths[path]
        ax.plot(self.t, x, lw=0.8, alpha=0.7)
        ax.plot(self.t, x.mean(axis=1), "k", lw=2, label="mean Xbar")
        ax.axhline(self.default_level, color="r", ls="--", label="default level")
        hit = ~np.isnan(self.default_time[path])
        ax.plot(self.default_time[path][hit], np.full(hit.sum(), self.default_level), "rx", ms=8, label="defaults")
        ax.set(xlabel="t", ylabel="log-reserves X^i", title=title or f"{int(self.defaults[path])} banks defaulted")
        ax.legend(loc="lower left", fontsize=8)
        return ax.figure


@dataclass
class SystemicRiskSolution:
    r"""The Nash (or mean-field) feedback of the systemic risk game, from :func:`systemic_risk`.

    Attributes
    ----------
    model : SystemicRiskModel
        The parameters.
    t : ndarray, shape (nt + 1,)
        Time grid on [0, T].
    eta : ndarray, shape (nt + 1,)
        :math:`\eta_t` by the explicit solution.
    n_players : int or None
        N, None for the mean field.
    gain : ndarray, shape (nt + 1,)
        :math:`q + (1 - 1/N)\eta_t` (:math:`q + \eta_t` for the mean field):
        :math:`\alpha^i = \text{gain}\,(\bar X - X^i)`.
    """

    model: SystemicRiskModel
    t: np.ndarray
    eta: np.ndarray
    n_players: int | None
    gain: np.ndarray

    def control(self, i: int, x, xbar) -> np.ndarray:
        """The control :math:`\\alpha = \\text{gain}_i (\\bar x - x)` at time index i (x, xbar broadcast together)."""
        i = check_integer("i", i, low=0, high=self.t.size - 1)
        return self.gain[i] * (np.asarray(xbar, dtype=np.float64) - np.asarray(x, dtype=np.float64))

    def stationary_deviation_variance(self, n_banks: int | None = None) -> float:
        r"""Stationary :math:`\mathrm{Var}(X^i - \bar X)` when :math:`\eta` sits at its limit :math:`\eta^*`.

        :math:`X^i - \bar X` is an Ornstein-Uhlenbeck process with rate
        :math:`a + q + w \eta^*` and noise :math:`\sigma^2 (1 - 1/N)`, so the variance is
        :math:`\sigma^2 (1 - 1/N) / (2 (a + q + w \eta^*))`, with :math:`w = 1 - 1/N`
        for an N-player solution (1 for the mean field).

        Parameters
        ----------
        n_banks : int, optional
            N; defaults to ``n_players`` (required for a mean-field solution).

        Returns
        -------
        float
        """
        n = self.n_players if n_banks is None else check_integer("n_banks", n_banks, low=1)
        if n is None:
            raise ValueError("n_banks = None is not allowed for a mean-field solution: expected an integer >= 1")
        m = self.model
        rate = m.a + m.q + _weight(self.n_players) * m.eta_stationary(self.n_players)
        return m.sigma**2 * (1.0 - 1.0 / n) / (2.0 * rate) if rate > 0 else math.inf

    def summary(self) -> dict:
        m = self.model
        return {
            "n_players": "mean field" if self.n_players is None else self.n_players,
            **{k: getattr(m, k) for k in ("a", "q", "epsilon", "c", "sigma", "horizon")},
            "eta_0": float(self.eta[0]),
            "eta_T": float(self.eta[-1]),
            "eta_stationary": m.eta_stationary(self.n_players),
            "gain_0": float(self.gain[0]),
        }

    def plot(self, ax=None, *, label: str | None = None):
        """Plot :math:`\\eta_t` (solid) and the feedback gain (dashed) against t; returns the figure."""
        from meanfolio.plotting import new_figure

        if ax is None:
            _, (ax,) = new_figure(1)
        name = label or ("mean field" if self.n_players is None else f"N = {self.n_players}")
        (line,) = ax.plot(self.t, self.eta, label=f"eta, {name}")
        ax.plot(self.t, self.gain, "--", color=line.get_color(), label=f"gain, {name}")
        ax.set(xlabel="t", ylabel="eta_t, q + (1 - 1/N) eta_t", title="systemic risk: feedback")
        ax.legend(fontsize=8)
        return ax.figure

    def simulate(
        self,
        n_banks: int,
        x0,
        *,
        seed: SeedLike,
        default_level: float,
        n_paths: int = 1,
        nt: int | None = None,
        systemic_share: float = 1.0,
    ) -> SystemicRiskSimulation:
        r"""Euler-Maruyama of ``n_banks`` banks all playing this feedback.

        The banks play :math:`\alpha^i = \text{gain}_t (\bar X - X^i)`.

        A mean-field solution is played by any number of banks with their
        empirical mean; an N-player solution needs ``n_banks = N``. The scheme is
        stable for :math:`(a + \max \text{gain})\, T / nt < 2`. Same seed, same
        paths; the noise draws do not depend on the model, so two models share them
        (common random numbers).

        Parameters
        ----------
        n_banks : int
            Number of banks.
        x0 : float or array_like, shape (n_banks,)
            Starting log-reserves, all above ``default_level``.
        seed : int, numpy.random.Generator or None
            Seed of the Brownian increments.
        default_level : float
            Default level of the log-reserves.
        n_paths : int, default 1
            Independent paths.
        nt : int, optional
            Steps on [0, T] (default: this solution's grid); eta is re-evaluated on that grid.
        systemic_share : float, default 1
            In (0, 1]: the share of banks whose default makes a systemic event.

        Returns
        -------
        SystemicRiskSimulation

        Raises
        ------
        ValueError
            If an argument is out of range or ``n_banks`` differs from an N-player solution's N.
        """
        m = self.model
        n_banks = check_integer("n_banks", n_banks, low=2 if self.n_players is None else 1)
        if self.n_players is not None and n_banks != self.n_players:
            raise ValueError(
                f"n_banks = {n_banks!r} is not allowed: expected {self.n_players} for a {self.n_players}-player "
                "solution (a mean-field solution is played by any number of banks)"
            )
        x0 = check_array("x0", x0) if np.ndim(x0) == 0 else check_array("x0", x0, shape=(n_banks,))
        x0 = np.full(n_banks, x0) if x0.ndim == 0 else x0
        level = check_number("default_level", default_level)
        if np.any(x0 <= level):
            raise ValueError(
                f"default_level = {level!r} is not allowed: expected a level below every x0 (min x0 = {x0.min()!r})"
            )
        n_paths = check_integer("n_paths", n_paths, low=1)
        share = check_number("systemic_share", systemic_share, low=0, high=1, low_inclusive=False)
        if nt is None:
            t, gain = self.t, self.gain
        else:
            t = np.linspace(0.0, m.horizon, check_integer("nt", nt, low=1) + 1)
            gain = m.q + _weight(self.n_players) * m.eta(t, self.n_players)
        rng = as_generator(seed)
        n_steps, dt = t.size - 1, m.horizon / (t.size - 1)
        stored = min(n_paths, max(1, _MAX_STORED // ((n_steps + 1) * n_banks)))
        paths = np.empty((stored, n_steps + 1, n_banks))
        x = np.tile(x0, (n_paths, 1))
        default_time = np.full((n_paths, n_banks), np.nan)
        mean_hit = np.zeros(n_paths, dtype=bool)
        for k in range(n_steps + 1):
            paths[:, k] = x[:stored]
            xbar = x.mean(axis=1, keepdims=True)
            new = np.isnan(default_time) & (x <= level)
            default_time[new] = t[k]
            mean_hit |= xbar[:, 0] <= level
            if k < n_steps:
                x = x + (m.a + gain[k]) * (xbar - x) * dt + m.sigma * math.sqrt(dt) * rng.standard_normal(x.shape)
        defaults = np.sum(~np.isnan(default_time), axis=1)
        systemic = defaults >= math.ceil(share * n_banks - 1e-12)
        return SystemicRiskSimulation(
            t=t,
            paths=paths,
            terminal=x,
            default_time=default_time,
            defaults=defaults,
            systemic=systemic,
            systemic_fraction=float(systemic.mean()),
            mean_hit=mean_hit,
            default_level=level,
            systemic_share=share,
        )


def systemic_risk(
    a: float, q: float, epsilon: float, c: float, sigma: float, horizon: float, *, n_players=None, nt: int = 200
) -> SystemicRiskSolution:
    r"""Closed-loop Nash feedback of the N-bank systemic risk game of Carmona, Fouque & Sun (2015).

    Solves :math:`\dot\eta = 2 (a + q)\eta + (1 - 1/N^2)\eta^2 - (\varepsilon - q^2)`,
    :math:`\eta_T = c`, by the paper's explicit solution and returns the feedback
    :math:`\alpha^i = (q + (1 - 1/N)\eta_t)(\bar X - X^i)` (see :class:`SystemicRiskModel`).

    Parameters
    ----------
    a, q : float
        Lending rate and incentive to lend/borrow, >= 0 (1/time).
    epsilon : float
        Penalty :math:`\varepsilon \ge q^2` (cost per squared log-reserve).
    c : float
        Terminal penalty, >= 0.
    sigma : float
        Volatility of the log-reserves, >= 0.
    horizon : float
        T > 0, in the time unit of the rates.
    n_players : int, optional
        N >= 1; None (default) is the mean field.
    nt : int, default 200
        Time steps: :math:`\eta` is returned on nt + 1 points of [0, T].

    Returns
    -------
    SystemicRiskSolution

    Raises
    ------
    ValueError
        If a parameter is out of range (see :class:`SystemicRiskModel`).

    See Also
    --------
    systemic_risk_epsilon_nash

    References
    ----------
    .. [1] R. Carmona, J.-P. Fouque, L.-H. Sun, "Mean field games and systemic
       risk", Commun. Math. Sci. 13(4), 911-933 (2015).

    Examples
    --------
    >>> from meanfolio.games import systemic_risk
    >>> sol = systemic_risk(a=1.0, q=0.5, epsilon=1.0, c=0.5, sigma=0.2, horizon=1.0, nt=100)
    >>> round(float(sol.eta[0]), 4), round(float(sol.gain[0]), 4)
    (0.2399, 0.7399)
    >>> sim = sol.simulate(10, 0.0, seed=1, default_level=-0.7, n_paths=50)
    >>> sim.terminal.shape
    (50, 10)
    """
    model = SystemicRiskModel(a, q, epsilon, c, sigma, horizon)
    n_players = None if n_players is None else check_integer("n_players", n_players, low=1)
    t = np.linspace(0.0, model.horizon, check_integer("nt", nt, low=1) + 1)
    eta = model.eta(t, n_players)
    gain = model.q + _weight(n_players) * eta
    return SystemicRiskSolution(model=model, t=t, eta=eta, n_players=n_players, gain=gain)


_DERIVATION = {
    "empirical": "certainty equivalence: noise leaves the best response's gain alone, which differs from the "
    "mean field's by O(1/N) (self-influence); gap = quadratic in it times E[(Xbar - X)^2] = O(1) -> N^-2",
    "limit": "the others' mean fluctuates by O(N^-1/2) around the limit mean; observing it gains a quadratic "
    "quantity -> N^-1",
}


def systemic_risk_epsilon_nash(
    a: float,
    q: float,
    epsilon: float,
    c: float,
    sigma: float,
    horizon: float,
    n_players=(2, 3, 5, 10, 20, 50, 100, 200, 500, 1000),
    *,
    x0: float = 0.0,
    initial_variance: float = 0.0,
    mean: str = "empirical",
) -> EpsilonNash:
    r"""Gain of one bank's best response when the N - 1 others play the mean-field feedback, exactly.

    The others play :math:`\alpha^j = g_t (\bar X^N - X^j)` with
    :math:`g_t = q + \eta^\infty_t` and :math:`\bar X^N` the N-player empirical
    mean (``mean="empirical"``), or :math:`\alpha^j = g_t (x_0 - X^j)` with the
    mean-field limit mean (``mean="limit"``). The deviator's problem is
    linear-quadratic in :math:`(X^i, Z)`, Z the mean of the others, and is solved
    for all N in one batch; the gap is

    .. math::

        \varepsilon_N = J_N(\alpha^{MF}) - \inf_\alpha J_N(\alpha)
        = \tfrac12 \int_0^T \mathbb{E}\big[(\alpha^{MF}_t - \alpha^*_t)^2\big]\, dt .

    Parameters
    ----------
    a, q, epsilon, c, sigma, horizon : float
        The model (see :class:`SystemicRiskModel`).
    n_players : sequence of int, default (2, 3, 5, ..., 1000)
        Strictly increasing counts N >= 2.
    x0 : float, default 0
        Mean starting log-reserve of every bank.
    initial_variance : float, default 0
        Variance (>= 0) of the iid starts.
    mean : {"empirical", "limit"}, default "empirical"
        Which mean the others' feedback observes.

    Returns
    -------
    EpsilonNash
        Gaps in cost units per bank; derived rate -2 (``"empirical"``) or -1 (``"limit"``).

    Raises
    ------
    ValueError
        If an argument is out of range.

    Notes
    -----
    With the empirical mean everything depends on :math:`D = Z - X^i` only, a
    scalar LQ problem. By certainty equivalence the best response's gain does not
    depend on the noise and its Riccati equation differs from the mean-field one
    by :math:`O(1/N)`, so :math:`\alpha^* - \alpha^{MF} = O(1/N) D` and
    :math:`\varepsilon_N = O(N^{-2})\, \mathbb{E}[D^2]`: rate -2 with or without
    noise (zero gap for :math:`\sigma = 0` and equal starts). With the limit mean
    the mean-field feedback ignores :math:`Z - x_0 = O(N^{-1/2})`, which a best
    response uses: rate -1. The local slope reaches the asymptotic one within
    about 0.1 from N ~ 10, so the fit starts at N = 10.

    Examples
    --------
    >>> from meanfolio.games import systemic_risk_epsilon_nash
    >>> nash = systemic_risk_epsilon_nash(1.0, 0.5, 1.0, 0.5, 0.2, 1.0, [10, 100, 1000])
    >>> nash.derived_rate, round(nash.fitted_rate, 1)
    (-2.0, -2.0)
    """
    model = SystemicRiskModel(a, q, epsilon, c, sigma, horizon)
    ns = check_player_counts(n_players)
    x0 = check_number("x0", x0)
    v0 = check_number("initial_variance", initial_variance, low=0)
    mean = check_choice("mean", mean, ("empirical", "limit"))
    if model.sigma == 0.0 and v0 == 0.0:
        raise ValueError(
            "sigma = 0.0 and initial_variance = 0.0 are not allowed together: every bank stays at x0 and the gap "
            "is 0 for every N; expected sigma > 0 or initial_variance > 0"
        )
    K, nf = ns.size, ns.astype(np.float64)
    m = 1.0 - 1.0 / nf
    e = np.array([-1.0, 1.0])  # D = e . X = Z - X^i
    limit = mean == "limit"

    def g(t):
        return model.q + model.eta(t)

    def A(t):
        out = np.empty((K, 2, 2))
        out[:, 0, 0], out[:, 0, 1] = -model.a * m, model.a * m
        rate = model.a if limit else model.a + g(t)
        out[:, 1, 0], out[:, 1, 1] = rate / nf, -rate / nf - (g(t) if limit else 0.0)
        return out

    def c_of_t(t):
        drift = np.zeros((K, 2))
        if limit:
            drift[:, 1] = g(t) * x0
        return drift

    B = np.zeros((K, 2, 1))
    B[:, 0, 0] = 1.0
    D2 = (m**2)[:, None, None] * np.outer(e, e)  # X' D2 X = m^2 (Z - X^i)^2 = (Xbar - X^i)^2
    noise = _diag(model.sigma**2, model.sigma**2 / (nf - 1.0))
    S = -model.q * m[:, None, None] * e
    Q, G = model.epsilon * D2, model.c * D2
    problem = LinearQuadratic(model.horizon, A, B, np.ones((K, 1, 1)), Q, np.zeros((K, 2)), c_of_t, noise, S=S, G=G)

    def mean_field_feedback(t):  # a = -F X + h
        F = np.zeros((K, 1, 2))
        if limit:
            F[:, 0, 0] = g(t)
            return F, np.full((K, 1), g(t) * x0)
        F[:, 0, :] = -g(t) * m[:, None] * e
        return F, np.zeros((K, 1))

    start, cov0 = np.full((K, 2), x0), _diag(np.full(K, v0), v0 / (nf - 1.0))
    gap = feedback_cost(problem, mean_field_feedback, start, cov0) - optimal_cost(problem, start, cov0)
    return EpsilonNash.from_gaps(
        "systemic risk" + (" (limit mean)" if limit else ""),
        ns,
        gap,
        derived_rate=-1.0 if limit else -2.0,
        method="exact: LQ deviation problem in (X^i, mean of the others), meanfolio.games._lq",
        derivation=_DERIVATION[mean],
        fit_from=10 if np.sum(ns >= 10) >= 2 else int(ns.min()),
    )
