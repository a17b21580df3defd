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
    log D and D'/D, so a large |rho| T (c+ tiny, e^{-2 theta T} underflowing) loses nothing.
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
    """The mean-field equilibrium of :func:`trade_crowding` on the grid t.

    Attributes
    ----------
    t : ndarray (nt+1,)
        Times in [0, horizon].
    mean_inventory : ndarray (nt+1,)
        E[q](t), in shares.
    mean_speed : ndarray (nt+1,)
        nubar(t) = dE[q]/dt, shares per unit time (< 0 while liquidating).
    h1, h2 : ndarray (nt+1,)
        Coefficients of the value V = h0 + h1 q - h2 q^2 (h1 in currency per
        share, h2 in currency per share^2).
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
        """The equilibrium speed nu*(t_i, q) = (h1 - 2 h2 q)/(2 kappa), vectorised in q."""
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
    """The exact mean-field equilibrium of the trade-crowding game (Cardaliaguet & Lehalle 2018).

    Parameters
    ----------
    kappa : float
        Temporary impact (trading cost kappa nu^2 per unit time), > 0.
    phi : float
        Running inventory penalty phi q^2, >= 0.
    terminal_penalty : float
        A in the terminal penalty A q_T^2, >= 0.
    impact : float
        Permanent impact alpha of the mean speed on the price (dS = alpha nubar dt + sigma dW);
        any sign (0 is Cartea & Jaimungal's optimal liquidation).
    horizon : float
        T > 0.
    q0 : float
        Mean initial inventory (> 0 liquidation, < 0 purchase).
    nt : int
        Number of time steps (>= 1): the grid has nt + 1 points.

    Returns
    -------
    TradeCrowdingSolution
        E[q], nubar, h1, h2 on t = linspace(0, T, nt + 1), by the closed forms
        of the module docstring: kappa E'' + (alpha/2) E' - phi E = 0,
        E(0) = q0, kappa E'(T) + A E(T) = 0; h1 = 2 kappa E' + 2 h2 E.
        sigma does not enter (the value is linear in the price).
    """
    params = _check_parameters(kappa, phi, terminal_penalty, impact, horizon, q0)
    nt = check_integer("nt", nt, low=1)
    t = np.linspace(0.0, params[4], nt + 1)
    mean, speed, h1, h2 = _exact(params, t)
    return TradeCrowdingSolution(t, mean, speed, h1, h2, *params)


def crowding_deviation_problem(kappa, phi, terminal_penalty, impact, horizon, q0, n_players):
    """The deviation problem of one trader against N - 1 mean-field traders, batched over N.

    State X = (q, z): the deviator's inventory and the mean inventory of the
    others, who play nu_j = a(t) - b(t) q_j with a = h1/(2 kappa), b = h2/kappa,
    so dz = (a - b z) dt. The price moves with the N-player mean speed
    nubar_N = nu/N + (1 - 1/N)(a - b z), and the deviator minimises

        int_0^T (kappa nu^2 + phi q^2 - (alpha/N) q nu - alpha (1 - 1/N) q (a - b z)) dt + A q_T^2.

    Returns ``(problem, mean_field_feedback)``: a :class:`._lq.LinearQuadratic`
    with K = len(n_players) and ``t -> (F, h)``, the feedback nu = b q + a
    written as -F X + h, for :func:`._lq.feedback_cost`.
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
    """The epsilon-Nash gap of the mean-field feedback nu*(t, q) in the N-trader game (exact).

    One trader best-responds while the N - 1 others play nu*(t, q_j) and the
    price moves with the N-player mean speed, which includes the deviator's
    own speed / N (:func:`crowding_deviation_problem`). The gap
    eps_N = J_N(nu*) - J_N(best response) (cost units: currency) is computed
    by the Riccati and Lyapunov ODEs of :mod:`._lq`. Every trader starts at
    q0, the others' initial inventories i.i.d. with variance
    ``initial_variance`` (so their mean z(0) has variance initial_variance/(N - 1)).

    Rates. The others' mean obeys z' = a - b z; the deviator's cost differs
    from the mean-field cost (for which nu* is optimal) by

        delta_N = -(alpha/N) q nu + (alpha/N) q nubar - alpha (1 - 1/N) b q (z - E),

    with -(alpha/N) q nu = -(alpha/(2N)) d(q^2)/dt (a terminal correction).
    * initial_variance = 0: z = E exactly, delta_N = O(1/N) is deterministic;
      the best response moves by O(1/N) and, nu* being a critical point of the
      unperturbed cost, the gain is quadratic in the perturbation: O(1/N^2)
      (derived rate -2, fitted from N >= 2).
    * initial_variance = v > 0: z - E = xi exp(-int b) with Var xi = v/(N - 1),
      a random perturbation of size N^(-1/2) that the best response observes;
      the gain is quadratic, E[xi^2] = O(1/N) (the cross term with the O(1/N)
      deterministic part has mean zero): derived rate -1 (fitted from N >= 20).

    The deviation problem is convex iff A - alpha/(2N) + sqrt(kappa phi) coth(gamma T) > 0
    (kappa/T when phi = 0) for the smallest N; otherwise ValueError.
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
