"""N managers of the allocation game against its mean-field limit.

The deviation problem. N - 1 managers play the mean-field feedback
alpha = (b(t) - P(t) x)/kappa; one manager looks for its best response. Along
a principal portfolio (y = Q'x, all terms split) its state is X = (y, z) with
z the mean holding of the others, and the empirical mean it faces is
ybar = y/N + (1 - 1/N) z. Its running cost is

    kappa/2 a^2 + (gamma s/2 + lam/N) y^2 + (eta/2)(1 - 1/N)^2 (y - z)^2 - mu_y y + lam (1 - 1/N) y z,

with dy = a dt + sigma dW and dz = (b - p z)/kappa dt + sigma/sqrt(N - 1) dB:
a linear-quadratic control problem solved exactly by :mod:`._lq`.

Rates. Without noise and with equal starts, z follows the mean-field path
exactly; the best response differs from the mean-field feedback only through
the manager's own weight 1/N in ybar (the terms lam/N and eta(1 - 1/N)^2), so
it moves by O(1/N) and, the cost being stationary at the mean-field
feedback to first order, the gain is O(1/N^2). With noise (or dispersed
starts) z fluctuates around the mean-field path with variance O(1/N); the best
response reacts to z - zbar linearly and gains a quadratic amount of it:
O(1/N), which dominates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_array, check_integer, check_number

from ._lq import LinearQuadratic, feedback_cost, optimal_cost, optimal_feedback
from .nash import EpsilonNash, check_player_counts

__all__ = ["AllocationSimulation", "allocation_epsilon_nash", "deviation_problem", "simulate_managers"]

DEFAULT_PLAYERS = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


def deviation_problem(solution, n_players: int) -> tuple[LinearQuadratic, Callable]:
    """The deviator's LQ problem (batched over principal portfolios) and the mean-field feedback in it."""
    game = solution.game
    s, _ = game.eigen
    d, N = s.size, n_players
    kappa, lam, eta, sigma = game.trading_cost, game.crowding, game.dispersion, game.volatility
    w = 1.0 - 1.0 / N
    Q = np.zeros((d, 2, 2))
    Q[:, 0, 0] = game.risk_aversion * s + 2.0 * lam / N + eta * w**2
    Q[:, 0, 1] = Q[:, 1, 0] = lam * w - eta * w**2
    Q[:, 1, 1] = eta * w**2
    q = np.zeros((d, 2))
    q[:, 0] = -(game.eigen[1].T @ game.mu)
    B = np.zeros((d, 2, 1))
    B[:, 0, 0] = 1.0
    noise = np.zeros((d, 2, 2))
    noise[:, 0, 0] = sigma**2
    noise[:, 1, 1] = sigma**2 / (N - 1)
    y0 = solution.mean_principal[0]

    last: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def coefficients(t: float) -> tuple[np.ndarray, np.ndarray]:
        # A(t) and c(t) are asked at the same t by each right-hand side: evaluate the closed form once
        if t not in last:
            p, _, b = game.principal_path(y0, np.array([t]))
            last.clear()
            last[t] = (p[0], b[0])
        return last[t]

    def A(t):
        out = np.zeros((d, 2, 2))
        out[:, 1, 1] = -coefficients(t)[0] / kappa
        return out

    def c(t):
        out = np.zeros((d, 2))
        out[:, 1] = coefficients(t)[1] / kappa
        return out

    problem = LinearQuadratic(horizon=game.horizon, A=A, B=B, R=np.full((d, 1, 1), kappa), Q=Q, q=q, c=c, noise=noise)

    def mean_field_feedback(t):
        p, b = coefficients(t)
        F = np.zeros((d, 1, 2))
        F[:, 0, 0] = p / kappa
        return F, (b / kappa)[:, None]

    return problem, mean_field_feedback


def allocation_epsilon_nash(game, x0, n_players=DEFAULT_PLAYERS, *, initial_variance: float = 0.0) -> EpsilonNash:
    r"""The epsilon-Nash gap of the mean-field feedback in the N-manager allocation game (exact).

    N - 1 managers play the mean-field feedback
    :math:`\alpha = (b(t) - P(t) x)/\kappa`; one manager best-responds. Along each
    principal portfolio its problem is linear-quadratic in (own holding, mean of
    the others) and is solved exactly by Riccati and Lyapunov ODEs. The gap

    .. math::

        \varepsilon_N = J_N(\alpha^{MF}) - \inf_\alpha J_N(\alpha)

    decays like :math:`N^{-2}` without noise and with equal starts (the manager's
    own weight 1/N in the mean), and like :math:`N^{-1}` with noise or dispersed
    starts (the others' mean fluctuates by :math:`O(N^{-1/2})`).

    Parameters
    ----------
    game : AllocationGame
        The game.
    x0 : array_like, shape (d,)
        Every manager's mean starting holding.
    n_players : sequence of int, default (2, 3, 5, ..., 1000)
        Strictly increasing player counts N >= 2.
    initial_variance : float, default 0
        Variance (>= 0) of each manager's start per principal portfolio.

    Returns
    -------
    EpsilonNash
        The gaps, summed over principal portfolios, in the game's utility units
        per manager, with the derived and fitted rates in N.

    Raises
    ------
    ValueError
        If ``n_players`` is not strictly increasing integers >= 2, or ``x0`` has
        the wrong shape.

    See Also
    --------
    simulate_managers : Monte Carlo of the same N managers.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.games import AllocationGame, allocation_epsilon_nash
    >>> game = AllocationGame([0.05, 0.03], [[0.04, 0.01], [0.01, 0.09]],
    ...                       risk_aversion=2.0, crowding=0.1, trading_cost=0.5)
    >>> nash = allocation_epsilon_nash(game, np.zeros(2), [10, 100, 1000], initial_variance=0.01)
    >>> nash.derived_rate, round(nash.fitted_rate, 2)
    (-1.0, -1.01)
    """
    counts = check_player_counts(n_players)
    v0 = check_number("initial_variance", initial_variance, low=0)
    x0 = check_array("x0", x0, shape=(game.n_assets,))
    solution = game.solve(x0, 8)
    y0 = game.eigen[1].T @ x0
    gaps = []
    for N in counts:
        problem, mf = deviation_problem(solution, int(N))
        start = np.stack([y0, y0], axis=1)
        cov0 = np.zeros((y0.size, 2, 2))
        cov0[:, 0, 0], cov0[:, 1, 1] = v0, v0 / (N - 1)
        gap = feedback_cost(problem, mf, start, cov0) - optimal_cost(problem, start, cov0)
        gaps.append(float(np.sum(gap)))
    noisy = game.volatility > 0 or v0 > 0
    return EpsilonNash.from_gaps(
        "allocation",
        counts,
        np.maximum(gaps, 0.0),
        derived_rate=-1.0 if noisy else -2.0,
        fit_from=100,  # the last decade of N, where the leading term dominates
        method="exact (Riccati and Lyapunov ODEs of the deviation problem)",
        derivation=(
            "fluctuation of the others' mean (variance O(1/N)), gain quadratic in it: O(1/N)"
            if noisy
            else "self-influence 1/N moves the best response by O(1/N); the gain is quadratic: O(1/N^2)"
        ),
    )


@dataclass
class AllocationSimulation:
    r"""Monte Carlo of N managers of the allocation game (Euler-Maruyama), from :func:`simulate_managers`.

    Attributes
    ----------
    t : ndarray, shape (nt+1,)
        Time grid.
    holdings : ndarray, shape (nt+1, N, d)
        The first path's holdings of every manager.
    mean_holdings : ndarray, shape (n_paths, nt+1, d)
        The empirical mean holdings per path.
    costs : ndarray, shape (n_paths, N)
        Each manager's realised cost (minus the utility, left-point rule),
        :math:`\int_0^T [\tfrac{\kappa}{2}\lVert\alpha\rVert^2 + \tfrac{\gamma}{2} x^\top\Sigma x
        + \tfrac{\eta}{2}\lVert x - \bar x\rVert^2 - x\cdot(\mu - \lambda\bar x)]\, dt`.
    deviator : bool
        Whether manager 0 played its best response.
    """

    t: np.ndarray
    holdings: np.ndarray
    mean_holdings: np.ndarray
    costs: np.ndarray
    deviator: bool

    def plot(self, path=None, *, asset: int = 0, managers: int = 20):
        from meanfolio.plotting import new_figure, save_figure

        fig, (ax,) = new_figure(1)
        ax.plot(self.t, self.holdings[:, :managers, asset], lw=0.7, alpha=0.6)
        ax.plot(self.t, self.mean_holdings[0, :, asset], "k", lw=2, label="empirical mean")
        ax.set_xlabel("t")
        ax.set_ylabel(f"holding of asset {asset}")
        ax.legend()
        if path is not None:
            save_figure(fig, path)
        return fig


def simulate_managers(
    solution,
    n_players: int,
    *,
    seed: SeedLike = None,
    n_paths: int = 1,
    initial_spread: float = 0.0,
    deviator: bool = False,
) -> AllocationSimulation:
    r"""Simulate N managers trading with the mean-field feedback (Euler-Maruyama).

    Each manager starts at ``solution.mean[0]`` plus
    :math:`N(0, s^2)` (s = ``initial_spread``) per principal portfolio and trades at
    :math:`\alpha = (b(t) - P(t) x)/\kappa` on the solution's time grid, with the
    order-flow noise :math:`\sigma\, dW` of the game; manager 0 plays its exact
    best response if ``deviator``.

    Parameters
    ----------
    solution : AllocationSolution
        The mean-field equilibrium (its grid sets the time steps).
    n_players : int
        N >= 1 (>= 2 with ``deviator``).
    seed : int, numpy.random.Generator or None
        Seed of the noise and of the starts.
    n_paths : int, default 1
        Independent Monte Carlo paths.
    initial_spread : float, default 0
        Standard deviation of the starts around the mean.
    deviator : bool, default False
        Whether manager 0 plays its best response against the others.

    Returns
    -------
    AllocationSimulation

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.games import AllocationGame, simulate_managers
    >>> game = AllocationGame([0.05, 0.03], [[0.04, 0.01], [0.01, 0.09]], risk_aversion=2.0,
    ...                       crowding=0.1, trading_cost=0.5, volatility=0.05)
    >>> sim = simulate_managers(game.solve(np.zeros(2), nt=50), 20, seed=0, n_paths=3)
    >>> sim.holdings.shape, sim.mean_holdings.shape, sim.costs.shape
    ((51, 20, 2), (3, 51, 2), (3, 20))
    """
    game = solution.game
    N = check_integer("n_players", n_players, low=1 if not deviator else 2)
    n_paths = check_integer("n_paths", n_paths, low=1)
    spread = check_number("initial_spread", initial_spread, low=0)
    rng = as_generator(seed)
    s, Qv = game.eigen
    d, t = s.size, solution.t
    dt = np.diff(t)
    kappa, sigma = game.trading_cost, game.volatility
    best = optimal_feedback(deviation_problem(solution, N)[0]) if deviator else None
    y = solution.mean_principal[0] + spread * rng.standard_normal((n_paths, N, d))
    costs = np.zeros((n_paths, N))
    means = np.empty((n_paths, t.size, d))
    first = np.empty((t.size, N, d))
    for n in range(t.size):
        ybar = y.mean(axis=1, keepdims=True)
        means[:, n] = ybar[:, 0] @ Qv.T
        first[n] = y[0] @ Qv.T
        if n == t.size - 1:
            break
        a = (solution.offset_principal[n] - solution.gain_eigenvalues[n] * y) / kappa
        if best is not None:
            F, h = best(t[n])
            z = (ybar[:, 0] * N - y[:, 0]) / (N - 1)
            a[:, 0] = -F[:, 0, 0] * y[:, 0] - F[:, 0, 1] * z + h[:, 0]
        rate = (
            0.5 * kappa * a**2
            + 0.5 * game.risk_aversion * s * y**2
            + 0.5 * game.dispersion * (y - ybar) ** 2
            - y * ((Qv.T @ game.mu) - game.crowding * ybar)
        )
        costs += rate.sum(axis=2) * dt[n]
        y = y + a * dt[n] + sigma * np.sqrt(dt[n]) * rng.standard_normal(y.shape)
    return AllocationSimulation(t=t, holdings=first, mean_holdings=means, costs=costs, deviator=deviator)
