"""Trade crowding: the mean-field game of controls of Cardaliaguet & Lehalle (2018), solved exactly.

The model. A continuum of traders each hold an inventory q and trade it at
speed nu (dq = nu dt; nu < 0 sells). The price moves with the mean speed
nubar(t) of all traders (permanent impact alpha = ``impact``):

    dS = alpha nubar dt + sigma dW,      dX = -nu (S + kappa nu) dt   (cash),

and each trader maximises E[X_T + q_T S_T - A q_T^2 - phi int_0^T q^2 dt].
Since X_T + q_T S_T = X_0 + q_0 S_0 + int (alpha nubar q - kappa nu^2) dt +
martingale, this is the minimisation of the cost

    J(nu) = E[ int_0^T (kappa nu^2 + phi q^2 - alpha nubar q) dt + A q_T^2 ].

The value (as a gain) is V = x + q s + h0 + h1 q - h2 q^2; the HJB equation
0 = d_t v + alpha nubar q - phi q^2 + sup_nu (nu d_q v - kappa nu^2) gives
nu* = d_q v / (2 kappa) and, per power of q,

    h2' = h2^2/kappa - phi,                  h2(T) = A,
    h1' = h1 h2/kappa - alpha nubar,         h1(T) = 0,
    nu*(t, q) = (h1 - 2 h2 q) / (2 kappa),
    E' = nubar = (h1 - 2 h2 E) / (2 kappa),  E(0) = q0     (E = mean inventory).

Exact solution. With gamma = sqrt(phi/kappa) and tau = T - t,

    h2 = (A + phi s) / (1 + A s / kappa),    s = tanh(gamma tau) / gamma  (= tau if phi = 0).

Differentiating 2 kappa E' = h1 - 2 h2 E and eliminating h1 and h2' gives the
constant-coefficient equation of the paper, kappa E'' + (alpha/2) E' - phi E = 0,
with E(0) = q0 and kappa E'(T) + A E(T) = 0 (from h1(T) = 0). With
rho = alpha/(4 kappa) and theta = sqrt(rho^2 + phi/kappa):

    E(t) = q0 exp(-rho t) D(T - t) / D(T),   D(tau) = kappa cosh(theta tau) + (A - kappa rho) sinh(theta tau)/theta,

and D > 0 for every alpha when A >= 0, so the game has exactly one
equilibrium. Then nubar = E' and h1 = 2 kappa E' + 2 h2 E. With alpha = 0 it is
Cartea & Jaimungal's liquidation with a running penalty.

Reference: P. Cardaliaguet, C.-A. Lehalle, Mean field game of controls and an
application to trade crowding, Math. Financ. Econ. 12 (2018) 335-363.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_integer, check_number

from ._lq import LinearQuadratic, feedback_cost, optimal_cost
from .nash import EpsilonNash, check_player_counts

__all__ = ["TradeCrowdingSolution", "crowding_deviation_problem", "trade_crowding", "trade_crowding_epsilon_nash"]

DEFAULT_PLAYERS = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
_NAMES = ("kappa", "phi", "terminal_penalty", "impact", "horizon", "q0")


def _check_parameters(kappa, phi, terminal_penalty, impact, horizon, q0) -> tuple[float, ...]:
    return (
        check_number("kappa", kappa, low=0, low_inclusive=False),
        check_number("phi", phi, low=0),
        check_number("terminal_penalty", terminal_penalty, low=0),
        check_number("impact", impact),
        check_number("horizon", horizon, low=0, low_inclusive=False),
        check_number("q0", q0),
    )


def _exact(params: tuple[float, ...], t) -> tuple[np.ndarray, ...]:
    """(E, E', h1, h2) at the times t (closed forms of the module docstring).

    With theta > 0, D(tau) = (c+ e^{theta tau} + c- e^{-theta tau}) / (2 theta) where
    c+ = kappa (theta - rho) + A >= A >= 0 (theta - rho computed without cancellation) and
    c- = kappa (theta + rho) - A, c+ + c- = 2 kappa theta > 0. E and E' are evaluated from
    log D and D'/D, so a large ``|rho| T`` (c+ tiny, e^{-2 theta T} underflowing) loses nothing.
    """
    kappa, phi, A, alpha, T, q0 = params
    t = np.asarray(t, dtype=np.float64)
    tau = T - t
    gamma = np.sqrt(phi / kappa)
    s = np.tanh(gamma * tau) / gamma if gamma > 0 else tau
    h2 = (A + phi * s) / (1.0 + A * s / kappa)
    rho = alpha / (4.0 * kappa)
    theta = np.sqrt(rho**2 + phi / kappa)
    if theta == 0.0:  # phi = 0 and alpha = 0: D(tau) = kappa + A tau
        mean = q0 * (kappa + A * tau) / (kappa + A * T)
        speed = np.full_like(tau, -q0 * A / (kappa + A * T))
    else:
        # theta - rho = (phi/kappa) / (theta + rho) when rho > 0 (no cancellation)
        gap = (phi / kappa) / (theta + rho) if rho > 0 else theta - rho
        c_plus, c_minus = kappa * gap + A, kappa * (theta + rho) - A

        def log_d(x):  # log(e^{-theta x} D(x) 2 theta) = log(c+ + c- e^{-2 theta x})
            if c_minus > 0 and c_plus > 0:
                return np.logaddexp(np.log(c_plus), np.log(c_minus) - 2.0 * theta * x)
            if c_minus > 0:  # c+ = 0
                return np.log(c_minus) - 2.0 * theta * x
            return np.log(c_plus + c_minus * np.exp(-2.0 * theta * x))  # c- <= 0 < c+: >= log(2 kappa theta)

        decay = np.exp(-2.0 * theta * tau)
        d_ratio = theta * (c_plus - c_minus * decay) / (c_plus + c_minus * decay)  # D'(tau)/D(tau)
        # E = q0 e^{-rho t} D(tau)/D(T) = q0 exp(-(rho + theta) t + log_d(tau) - log_d(T))
        mean = q0 * np.exp(-(rho + theta) * t + log_d(tau) - log_d(np.asarray(T, dtype=float)))
        speed = mean * (-rho - d_ratio)  # dE/dt = E (-rho - D'(tau)/D(tau))
    h1 = 2.0 * kappa * speed + 2.0 * h2 * mean
    return mean, speed, h1, h2


@dataclass
class TradeCrowdingSolution:
    r"""The mean-field equilibrium of :func:`trade_crowding` on the grid t.

    The value (a gain) is :math:`V = x + q s + h_0 + h_1 q - h_2 q^2` and the
    equilibrium speed :math:`\nu^*(t, q) = (h_1 - 2 h_2 q)/(2\kappa)`.

    Attributes
    ----------
    t : ndarray, shape (nt+1,)
        Times in [0, horizon].
    mean_inventory : ndarray, shape (nt+1,)
        :math:`E(t) = \mathbb{E}[q_t]`, in shares.
    mean_speed : ndarray, shape (nt+1,)
        :math:`\bar\nu(t) = E'(t)`, shares per unit time (< 0 while liquidating).
    h1, h2 : ndarray, shape (nt+1,)
        Coefficients of the value (h1 in currency per share, h2 in currency per share squared).
    kappa, phi, terminal_penalty, impact, horizon, q0 : float
        The parameters.
    """

    t: np.ndarray
    mean_inventory: np.ndarray
    mean_speed: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    kappa: float
    phi: float
    terminal_penalty: float
    impact: float
    horizon: float
    q0: float

    @property
    def parameters(self) -> dict:
        return {name: getattr(self, name) for name in _NAMES}

    def control(self, i: int, q) -> np.ndarray:
        """The equilibrium speed :math:`\\nu^*(t_i, q) = (h_1 - 2 h_2 q)/(2\\kappa)`, vectorised in q."""
        i = check_integer("i", i, low=-self.t.size, high=self.t.size - 1)
        return (self.h1[i] - 2.0 * self.h2[i] * np.asarray(q, dtype=np.float64)) / (2.0 * self.kappa)

    def summary(self) -> dict:
        return {
            **self.parameters,
            "final_mean_inventory": float(self.mean_inventory[-1]),
            "initial_mean_speed": float(self.mean_speed[0]),
            "final_mean_speed": float(self.mean_speed[-1]),
            "h1_at_0": float(self.h1[0]),
            "h2_at_0": float(self.h2[0]),
        }

    def plot(self, path=None):
        """Mean inventory, mean speed and (h1, h2), against the same game with impact = 0."""
        from meanfolio.plotting import new_figure, save_figure

        free = trade_crowding(**{**self.parameters, "impact": 0.0}, nt=self.t.size - 1)
        fig, axes = new_figure(3)
        label = f"impact {self.impact:g}"
        for ax, name, ylabel in (
            (axes[0], "mean_inventory", "mean inventory E[q](t)"),
            (axes[1], "mean_speed", "mean speed nubar(t)"),
        ):
            ax.plot(self.t, getattr(self, name), label=label)
            ax.plot(free.t, getattr(free, name), "--", label="impact 0 (Cartea-Jaimungal)")
            ax.set_xlabel("t")
            ax.set_ylabel(ylabel)
            ax.axhline(0.0, color="grey", lw=0.5)
            ax.legend()
        axes[0].set_title("trade crowding: inventory")
        axes[1].set_title("trade crowding: speed")
        for solution, style, name in ((self, "-", label), (free, "--", "impact 0")):
            axes[2].plot(solution.t, solution.h1, style, color="C0", label=f"h1, {name}")
            axes[2].plot(solution.t, solution.h2, style, color="C1", label=f"h2, {name}")
        axes[2].set_xlabel("t")
        axes[2].set_title("value V = h0 + h1 q - h2 q^2")
        axes[2].legend()
        if path is not None:
            save_figure(fig, path)
        return fig


def trade_crowding(kappa, phi, terminal_penalty, impact, horizon, q0, *, nt: int = 200) -> TradeCrowdingSolution:
    r"""The exact mean-field equilibrium of the trade-crowding game (Cardaliaguet & Lehalle 2018).

    A continuum of traders hold inventories q traded at speed :math:`\nu`; the
    price moves with the mean speed, :math:`dS = \alpha \bar\nu\, dt + \sigma\, dW`,
    and each trader minimises

    .. math::

        J(\nu) = \mathbb{E}\Big[\int_0^T (\kappa \nu^2 + \phi q^2 - \alpha \bar\nu q)\, dt + A q_T^2\Big].

    The mean inventory solves :math:`\kappa E'' + (\alpha/2) E' - \phi E = 0`,
    :math:`E(0) = q_0`, :math:`\kappa E'(T) + A E(T) = 0`; in closed form, with
    :math:`\rho = \alpha/(4\kappa)` and :math:`\theta = \sqrt{\rho^2 + \phi/\kappa}`,

    .. math::

        E(t) = q_0 e^{-\rho t} \frac{D(T - t)}{D(T)}, \qquad
        D(\tau) = \kappa \cosh(\theta\tau) + (A - \kappa\rho) \frac{\sinh(\theta\tau)}{\theta},

    and :math:`h_2 = (A + \phi s)/(1 + A s/\kappa)`, :math:`s = \tanh(\gamma\tau)/\gamma`,
    :math:`\gamma = \sqrt{\phi/\kappa}`, :math:`h_1 = 2\kappa E' + 2 h_2 E`.
    :math:`\sigma` does not enter (the value is linear in the price).

    Parameters
    ----------
    kappa : float
        Temporary impact :math:`\kappa > 0` (trading cost :math:`\kappa\nu^2` per unit time).
    phi : float
        Running inventory penalty :math:`\phi \ge 0`.
    terminal_penalty : float
        A >= 0 in the terminal penalty :math:`A q_T^2`.
    impact : float
        Permanent impact :math:`\alpha` of the mean speed on the price, any sign
        (0 is Cartea & Jaimungal's optimal liquidation).
    horizon : float
        T > 0.
    q0 : float
        Mean initial inventory (> 0 liquidation, < 0 purchase).
    nt : int, default 200
        Number of time steps (>= 1): the grid has nt + 1 points.

    Returns
    -------
    TradeCrowdingSolution

    Raises
    ------
    ValueError
        If a parameter is out of range.

    See Also
    --------
    trade_crowding_epsilon_nash

    References
    ----------
    .. [1] P. Cardaliaguet, C.-A. Lehalle, "Mean field game of controls and an
       application to trade crowding", Math. Financ. Econ. 12 (2018) 335-363.
    .. [2] A. Cartea, S. Jaimungal, J. Penalva, "Algorithmic and High-Frequency
       Trading", Cambridge University Press (2015).

    Examples
    --------
    >>> from meanfolio.games import trade_crowding
    >>> sol = trade_crowding(kappa=0.1, phi=0.01, terminal_penalty=1.0, impact=0.05,
    ...                      horizon=1.0, q0=1.0, nt=100)
    >>> round(float(sol.mean_inventory[-1]), 4), round(float(sol.mean_speed[0]), 4)
    (0.0793, -1.0751)
    """
    params = _check_parameters(kappa, phi, terminal_penalty, impact, horizon, q0)
    nt = check_integer("nt", nt, low=1)
    t = np.linspace(0.0, params[4], nt + 1)
    mean, speed, h1, h2 = _exact(params, t)
    return TradeCrowdingSolution(t, mean, speed, h1, h2, *params)


def crowding_deviation_problem(kappa, phi, terminal_penalty, impact, horizon, q0, n_players):
    r"""The deviation problem of one trader against N - 1 mean-field traders, batched over N.

    State :math:`X = (q, z)`: the deviator's inventory and the mean inventory of
    the others, who play :math:`\nu_j = a(t) - b(t) q_j` with
    :math:`a = h_1/(2\kappa)`, :math:`b = h_2/\kappa`, so :math:`dz = (a - b z)\, dt`.
    The price moves with the N-player mean speed
    :math:`\bar\nu_N = \nu/N + (1 - 1/N)(a - b z)` and the deviator minimises

    .. math::

        \int_0^T \big(\kappa \nu^2 + \phi q^2 - \tfrac{\alpha}{N} q \nu
        - \alpha (1 - \tfrac1N) q (a - b z)\big)\, dt + A q_T^2 .

    Parameters
    ----------
    kappa, phi, terminal_penalty, impact, horizon, q0 : float
        The game (see :func:`trade_crowding`).
    n_players : sequence of int
        The counts N.

    Returns
    -------
    problem : LinearQuadratic
        The batched linear-quadratic problem (K = len(n_players)).
    mean_field_feedback : callable
        ``t -> (F, h)``, the feedback :math:`\nu = a - b q` written as :math:`-F X + h`.
    """
    params = _check_parameters(kappa, phi, terminal_penalty, impact, horizon, q0)
    kappa, phi, A, alpha, T, _ = params
    N = np.asarray(n_players, dtype=np.float64).ravel()
    K, w = N.size, 1.0 - 1.0 / N

    def ab(t):
        _, _, h1, h2 = _exact(params, t)
        return h1 / (2.0 * kappa), h2 / kappa

    def A_(t):
        out = np.zeros((K, 2, 2))
        out[:, 1, 1] = -ab(t)[1]
        return out

    def c(t):
        out = np.zeros((K, 2))
        out[:, 1] = ab(t)[0]
        return out

    def Q(t):
        out = np.zeros((K, 2, 2))
        out[:, 0, 0] = 2.0 * phi
        out[:, 0, 1] = out[:, 1, 0] = alpha * w * ab(t)[1]
        return out

    def q(t):
        out = np.zeros((K, 2))
        out[:, 0] = -alpha * w * ab(t)[0]
        return out

    B = np.zeros((K, 2, 1))
    B[:, 0, 0] = 1.0
    S = np.zeros((K, 1, 2))
    S[:, 0, 0] = -alpha / N
    G = np.zeros((K, 2, 2))
    G[:, 0, 0] = 2.0 * A
    R = np.full((K, 1, 1), 2.0 * kappa)
    problem = LinearQuadratic(horizon=T, A=A_, B=B, R=R, Q=Q, q=q, c=c, noise=np.zeros((K, 2, 2)), S=S, G=G)

    def mean_field_feedback(t):
        a, b = ab(t)
        F = np.zeros((K, 1, 2))
        F[:, 0, 0] = b
        return F, np.full((K, 1), a)

    return problem, mean_field_feedback


def trade_crowding_epsilon_nash(
    kappa, phi, terminal_penalty, impact, horizon, q0, n_players=DEFAULT_PLAYERS, *, initial_variance: float = 0.0
) -> EpsilonNash:
    r"""The epsilon-Nash gap of the mean-field feedback :math:`\nu^*(t, q)` in the N-trader game (exact).

    One trader best-responds while the N - 1 others play :math:`\nu^*(t, q_j)` and
    the price moves with the N-player mean speed, which includes the deviator's
    own speed / N (:func:`crowding_deviation_problem`). The gap
    :math:`\varepsilon_N = J_N(\nu^*) - J_N(\text{best response})` (currency) is
    computed by Riccati and Lyapunov ODEs.

    Parameters
    ----------
    kappa, phi, terminal_penalty, impact, horizon, q0 : float
        The game (see :func:`trade_crowding`).
    n_players : sequence of int, default (2, 3, 5, ..., 1000)
        Strictly increasing counts N >= 2.
    initial_variance : float, default 0
        Variance of the others' iid initial inventories (their mean z(0) has
        variance initial_variance/(N - 1)).

    Returns
    -------
    EpsilonNash

    Raises
    ------
    ValueError
        If the deviation problem is not convex for the smallest N, i.e. unless
        :math:`A - \alpha/(2N) + \sqrt{\kappa\phi}\coth(\gamma T) > 0`
        (:math:`\kappa/T` when :math:`\phi = 0`), or an argument is out of range.

    Notes
    -----
    With ``initial_variance = 0`` the others' mean is exactly E, the deviator's
    cost differs from the mean-field cost by a deterministic :math:`O(1/N)` term,
    and since :math:`\nu^*` is a critical point the gain is :math:`O(N^{-2})`
    (derived rate -2, fitted from N >= 2). With ``initial_variance = v > 0`` the
    others' mean deviates by :math:`\xi e^{-\int b}` with :math:`\mathrm{Var}\,\xi = v/(N-1)`,
    which the best response observes: the gain is :math:`O(1/N)` (rate -1, fitted from N >= 20).

    Examples
    --------
    >>> from meanfolio.games import trade_crowding_epsilon_nash
    >>> nash = trade_crowding_epsilon_nash(0.1, 0.01, 1.0, 0.05, 1.0, 1.0, [10, 100, 1000])
    >>> nash.derived_rate, round(nash.fitted_rate, 2)
    (-2.0, -2.0)
    """
    params = _check_parameters(kappa, phi, terminal_penalty, impact, horizon, q0)
    counts = check_player_counts(n_players)
    v0 = check_number("initial_variance", initial_variance, low=0)
    kappa, phi, A, alpha, T, q0 = params
    gamma = np.sqrt(phi / kappa)
    stiffness = kappa * gamma / np.tanh(gamma * T) if gamma > 0 else kappa / T
    if A - alpha / (2.0 * counts[0]) + stiffness <= 0:
        raise ValueError(
            f"impact = {alpha!r} is not allowed with n_players starting at {int(counts[0])}: expected "
            f"impact < 2 N (terminal_penalty + {stiffness:.6g}) = {2 * counts[0] * (A + stiffness):.6g}, "
            "else a single trader's own impact makes its cost unbounded below"
        )
    problem, mean_field = crowding_deviation_problem(*params, counts)
    x0 = np.tile([q0, q0], (counts.size, 1))
    cov0 = np.zeros((counts.size, 2, 2))
    cov0[:, 1, 1] = v0 / (counts - 1)
    gap = feedback_cost(problem, mean_field, x0, cov0) - optimal_cost(problem, x0, cov0)
    noisy = v0 > 0
    return EpsilonNash.from_gaps(
        "trade crowding",
        counts,
        np.maximum(gap, 0.0),
        derived_rate=-1.0 if noisy else -2.0,
        fit_from=20 if noisy else 2,
        method="exact (Riccati and Lyapunov ODEs of the deviation problem)",
        derivation=(
            "dispersed starts: the others' mean deviates by O(N^-1/2), gain quadratic in it: O(1/N)"
            if noisy
            else "own speed weighs 1/N in the price: best response moves by O(1/N), gain O(1/N^2)"
        ),
    )
