"""The d-asset allocation game of N portfolio managers under crowding.

Each manager holds x in R^d (fractions of wealth per asset), trades at the
rate alpha = dx/dt (plus optional order-flow noise sigma dW, independent
across managers), and maximises

    E int_0^T [ x.(mu - lam xbar_t) - (gamma/2) x'Sigma x - (eta/2)||x - xbar_t||^2 - (kappa/2)||alpha||^2 ] dt,

where xbar_t is the crowd's mean holding: when everyone buys the same asset
its future return falls by ``lam`` per unit of crowd holding (crowding),
``eta`` penalises standing apart from the crowd (the seed's endogenous
volatility term) and ``kappa`` is an Almgren-Chriss trading cost.

Static equilibria (long horizon, alpha = 0). Given xbar, a manager's first-
order condition is mu - lam xbar - gamma Sigma x - eta (x - xbar) = 0, so at
the symmetric point x = xbar (eta drops out)

    mean field:  x_MF = (gamma Sigma + lam I)^-1 mu.

With N managers xbar contains the manager's own holding, whose marginal
effect on its return adds lam x/N:  x_N = (gamma Sigma + lam (1 + 1/N) I)^-1 mu.
A planner who maximises the common utility W(x) = x.mu - lam ||x||^2 - (gamma/2)
x'Sigma x internalises the crowding fully:  x_C = (gamma Sigma + 2 lam I)^-1 mu.
Crowding acts like ridge shrinkage of the Markowitz weights (gamma Sigma)^-1 mu.

Dynamic equilibrium. With V = 1/2 x'P x - b'x + c the manager's value (a
cost), the HJB and Fokker-Planck equations reduce to

    P' = P^2/kappa - gamma Sigma - eta I,              P(T) = 0
    b' = P b/kappa - mu + (lam - eta) xbar,            b(T) = 0
    xbar' = (b - P xbar)/kappa,                        xbar(0) = x0
    alpha*(t, x) = (b(t) - P(t) x)/kappa.

Everything commutes with Sigma = Q diag(s) Q', so the game splits into d
one-dimensional games along the principal portfolios y = Q'x and is solved
in closed form there (tau = T - t, omega = sqrt((gamma s + eta)/kappa),
omega' = sqrt((gamma s + lam)/kappa)):

    p(t) = kappa omega tanh(omega tau),   r(t) = kappa omega' tanh(omega' tau),
    ybar(t) = y* + (y0 - y*) cosh(omega' tau)/cosh(omega' T),   y* = mu_y/(gamma s + lam),
    b(t) = (p - r) ybar + mu_y r/(gamma s + lam),

(r = p - pi with b = pi ybar + beta the decoupling of the forward-backward
system: r solves the Riccati equation of the mean, r' = r^2/kappa - (gamma s
+ lam)). With noise, the crowd is Gaussian around ybar with variance
v(t) = v0 phi^2 + sigma^2 sinh(omega t) phi / omega, phi = cosh(omega tau)/cosh(omega T).

References: J.-M. Lasry, P.-L. Lions, Mean field games, Jpn. J. Math. 2
(2007); P. Cardaliaguet, C.-A. Lehalle, Mean field game of controls and an
application to trade crowding (2018); R. Almgren, N. Chriss, Optimal
execution of portfolio transactions (2001).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from functools import cached_property

import numpy as np

from meanfolio._validation import check_array, check_integer, check_number

__all__ = ["AllocationGame", "AllocationSolution"]


def _ratio(omega: np.ndarray, t: np.ndarray, horizon: float) -> np.ndarray:
    """exp(omega t) cosh(omega (T - t)) / cosh(omega T), without overflow; (nt+1, d)."""
    w, t = omega[None, :], t[:, None]
    return (1.0 + np.exp(-2.0 * w * (horizon - t))) / (1.0 + np.exp(-2.0 * w * horizon))


def _decay(omega: np.ndarray, t: np.ndarray, horizon: float) -> np.ndarray:
    """phi = cosh(omega (T - t)) / cosh(omega T); (nt+1, d)."""
    return np.exp(-omega[None, :] * t[:, None]) * _ratio(omega, t, horizon)


def _accumulated(omega: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(1 - exp(-2 omega t)) / (2 omega), equal to t at omega = 0; (nt+1, d)."""
    w, t = omega[None, :], t[:, None]
    safe = np.where(w > 0, w, 1.0)
    return np.where(w > 0, -np.expm1(-2.0 * w * t) / (2.0 * safe), t + 0.0 * w)


def _check_covariance(cov, d: int) -> np.ndarray:
    cov = check_array("cov", cov, shape=(d, d))
    asym = float(np.max(np.abs(cov - cov.T))) if d else 0.0
    if asym > 1e-10 * max(1.0, float(np.max(np.abs(cov)))):
        raise ValueError(f"cov is not symmetric (max |cov - cov.T| = {asym:.3g}): expected a symmetric matrix")
    return 0.5 * (cov + cov.T)


@dataclass(frozen=True, eq=False)
class AllocationGame:
    r"""The d-asset allocation game of N portfolio managers under crowding.

    Each manager holds :math:`x \in \mathbb{R}^d` (fractions of wealth per
    asset), trades at the rate :math:`\alpha = \dot x` (plus optional order-flow
    noise :math:`\sigma\, dW`) and maximises

    .. math::

        \mathbb{E} \int_0^T \Big[ x \cdot (\mu - \lambda \bar x_t)
        - \tfrac{\gamma}{2} x^\top \Sigma x - \tfrac{\eta}{2} \lVert x - \bar x_t \rVert^2
        - \tfrac{\kappa}{2} \lVert \alpha \rVert^2 \Big] dt,

    where :math:`\bar x_t` is the crowd's mean holding. The static equilibria
    are ridge-shrunk Markowitz weights,

    .. math::

        x_{MF} = (\gamma \Sigma + \lambda I)^{-1} \mu, \quad
        x_N = (\gamma \Sigma + \lambda (1 + 1/N) I)^{-1} \mu, \quad
        x_C = (\gamma \Sigma + 2 \lambda I)^{-1} \mu,

    (mean field, N players, cooperative planner) and the dynamic equilibrium is
    solved in closed form along the principal portfolios
    :math:`y = Q^\top x` of :math:`\Sigma = Q\, \mathrm{diag}(s)\, Q^\top` (Riccati
    solutions :math:`p(t) = \kappa \omega \tanh(\omega (T - t))`,
    :math:`\omega = \sqrt{(\gamma s + \eta)/\kappa}`).

    Parameters
    ----------
    mu : array_like, shape (d,)
        Expected excess returns :math:`\mu` per unit time (e.g. annualised).
    cov : array_like, shape (d, d)
        Covariance :math:`\Sigma` of returns per unit time; symmetric positive
        semi-definite.
    risk_aversion : float
        :math:`\gamma > 0`.
    crowding : float
        :math:`\lambda \ge 0`: the fall of an asset's return per unit of the
        crowd's mean holding.
    trading_cost : float
        :math:`\kappa > 0`: the cost :math:`(\kappa/2) \lVert\alpha\rVert^2` of
        trading at rate :math:`\alpha` (Almgren-Chriss temporary impact).
    dispersion : float, default 0
        :math:`\eta \ge 0`: the penalty :math:`(\eta/2) \lVert x - \bar x\rVert^2`
        for standing apart from the crowd.
    horizon : float, default 1
        :math:`T > 0`, in the time unit of ``mu`` and ``cov``.
    volatility : float, default 0
        :math:`\sigma \ge 0`: order-flow noise on each manager's holdings,
        :math:`dx = \alpha\, dt + \sigma\, dW`.
    assets : sequence of str, optional
        Names of the d assets, for tables and figures.

    Raises
    ------
    ValueError
        If a parameter is out of range, ``cov`` is not symmetric positive
        semi-definite, ``assets`` has the wrong length, or ``cov`` is singular
        while ``crowding = 0``.

    See Also
    --------
    solve_allocation_pde : The same game by the finite-difference MFG solver.
    allocation_epsilon_nash : The epsilon-Nash gap of N managers.
    simulate_managers : Monte Carlo of N managers.

    References
    ----------
    .. [1] J.-M. Lasry, P.-L. Lions, "Mean field games", Jpn. J. Math. 2 (2007).
    .. [2] P. Cardaliaguet, C.-A. Lehalle, "Mean field game of controls and an
       application to trade crowding", Math. Financ. Econ. 12 (2018).
    .. [3] R. Almgren, N. Chriss, "Optimal execution of portfolio transactions",
       J. Risk 3 (2001).

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.games import AllocationGame
    >>> game = AllocationGame([0.05, 0.03], [[0.04, 0.01], [0.01, 0.09]],
    ...                       risk_aversion=2.0, crowding=0.1, trading_cost=0.5)
    >>> game.markowitz().round(4)
    array([0.6, 0.1])
    >>> game.equilibrium().round(4)          # crowding shrinks the weights
    array([0.268, 0.088])
    >>> game.cooperative().round(4)
    array([0.1736, 0.0698])
    >>> sol = game.solve(np.zeros(2), nt=50)  # the dynamic equilibrium from x0 = 0
    >>> sol.mean.shape
    (51, 2)
    """

    mu: np.ndarray
    cov: np.ndarray
    _: KW_ONLY
    risk_aversion: float
    crowding: float
    trading_cost: float
    dispersion: float = 0.0
    horizon: float = 1.0
    volatility: float = 0.0
    assets: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        mu = check_array("mu", self.mu, ndim=1)
        if mu.size == 0:
            raise ValueError("mu has shape (0,) which is not allowed: expected at least one asset")
        set_(self, "mu", mu)
        set_(self, "cov", _check_covariance(self.cov, mu.size))
        set_(self, "risk_aversion", check_number("risk_aversion", self.risk_aversion, low=0, low_inclusive=False))
        set_(self, "crowding", check_number("crowding", self.crowding, low=0))
        set_(self, "trading_cost", check_number("trading_cost", self.trading_cost, low=0, low_inclusive=False))
        set_(self, "dispersion", check_number("dispersion", self.dispersion, low=0))
        set_(self, "horizon", check_number("horizon", self.horizon, low=0, low_inclusive=False))
        set_(self, "volatility", check_number("volatility", self.volatility, low=0))
        if self.assets is not None:
            assets = tuple(str(a) for a in self.assets)
            if len(assets) != mu.size:
                raise ValueError(
                    f"assets has {len(assets)} names which is not allowed: expected {mu.size} (one per asset)"
                )
            set_(self, "assets", assets)
        raw = np.linalg.eigvalsh(self.cov)
        if raw.min() < -1e-10 * max(1.0, float(np.abs(raw).max())):
            raise ValueError(
                f"cov has a negative eigenvalue {raw.min():.3g} which is not allowed: "
                "expected a positive semi-definite matrix"
            )
        s, _ = self.eigen
        if np.min(self.risk_aversion * np.maximum(s, 0.0) + self.crowding) <= 0.0:
            raise ValueError(
                "cov is singular and crowding = 0, which is not allowed: the equilibrium needs "
                "risk_aversion * cov + crowding * I positive definite (give crowding > 0 or a regular cov)"
            )

    @classmethod
    def from_returns(cls, returns, *, periods_per_year: float = 252.0, assets=None, **params) -> AllocationGame:
        """A game whose ``mu`` and ``cov`` are estimated from periodic returns, annualised.

        ``mu`` is the sample mean times ``periods_per_year``; ``cov`` the
        Ledoit-Wolf shrinkage estimate (scikit-learn's
        :class:`~sklearn.covariance.LedoitWolf`) times ``periods_per_year``.

        Parameters
        ----------
        returns : array_like, shape (n_periods, d)
            Simple periodic returns, at least 2 rows.
        periods_per_year : float, default 252
            Periods per year (252 for daily returns).
        assets : sequence of str, optional
            Asset names.
        **params
            The other constructor arguments (``risk_aversion``, ``crowding``, ...).

        Returns
        -------
        AllocationGame
        """
        from sklearn.covariance import LedoitWolf

        returns = check_array("returns", returns, ndim=2)
        if returns.shape[0] < 2:
            raise ValueError(f"returns has shape {returns.shape} which is not allowed: expected at least 2 rows")
        periods = check_number("periods_per_year", periods_per_year, low=0, low_inclusive=False)
        cov = LedoitWolf().fit(returns).covariance_ * periods
        return cls(returns.mean(axis=0) * periods, cov, assets=assets, **params)

    # -- the principal portfolios ------------------------------------------
    @cached_property
    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """``(s, Q)``: :math:`\\Sigma = Q\\, \\mathrm{diag}(s)\\, Q^\\top`.

        s of shape (d,) in descending order, Q (d, d) with the principal portfolios as columns.
        """
        s, Q = np.linalg.eigh(self.cov)
        return np.maximum(s[::-1], 0.0), np.ascontiguousarray(Q[:, ::-1])

    @property
    def n_assets(self) -> int:
        return int(self.mu.size)

    @property
    def names(self) -> tuple[str, ...]:
        return self.assets if self.assets is not None else tuple(f"asset {i}" for i in range(self.n_assets))

    def _rates(self) -> tuple[np.ndarray, np.ndarray]:
        """(omega (d,), omega' (d,)): the individual and the mean's rates per principal portfolio."""
        s, _ = self.eigen
        g, k = self.risk_aversion * s, self.trading_cost
        return np.sqrt((g + self.dispersion) / k), np.sqrt((g + self.crowding) / k)

    # -- static equilibria -----------------------------------------------------
    def _solve_shifted(self, shift: float) -> np.ndarray:
        s, Q = self.eigen
        return Q @ ((Q.T @ self.mu) / (self.risk_aversion * s + shift))

    def equilibrium(self, n_players: int | None = None) -> np.ndarray:
        """Static equilibrium holdings :math:`(\\gamma \\Sigma + \\lambda (1 + 1/N) I)^{-1} \\mu`.

        Parameters
        ----------
        n_players : int, optional
            N >= 1; None (default) is the mean field, :math:`(\\gamma\\Sigma + \\lambda I)^{-1}\\mu`.

        Returns
        -------
        ndarray, shape (d,)
            Holdings as fractions of wealth per asset.
        """
        if n_players is None:
            return self._solve_shifted(self.crowding)
        n = check_integer("n_players", n_players, low=1)
        return self._solve_shifted(self.crowding * (1.0 + 1.0 / n))

    def cooperative(self) -> np.ndarray:
        """The planner's holdings :math:`(\\gamma \\Sigma + 2 \\lambda I)^{-1} \\mu`, shape (d,)."""
        return self._solve_shifted(2.0 * self.crowding)

    def markowitz(self) -> np.ndarray:
        """Holdings without crowding, :math:`(\\gamma \\Sigma)^{-1} \\mu`, shape (d,).

        Raises ValueError for a singular ``cov``.
        """
        s, _ = self.eigen
        if s.min() <= 1e-14 * max(1.0, s.max()):
            raise ValueError("cov is singular, which is not allowed for markowitz(): expected a positive definite cov")
        return self._solve_shifted(0.0)

    def welfare(self, x) -> float:
        """Utility rate of each manager when all hold x.

        :math:`W(x) = x \\cdot \\mu - \\lambda \\lVert x\\rVert^2 - \\tfrac{\\gamma}{2} x^\\top \\Sigma x`.
        """
        x = check_array("x", x, shape=(self.n_assets,))
        return float(x @ self.mu - self.crowding * x @ x - 0.5 * self.risk_aversion * x @ self.cov @ x)

    def price_of_anarchy(self) -> float:
        """``welfare(cooperative()) / welfare(equilibrium())``: at least 1, equal to 1 without crowding."""
        return self.welfare(self.cooperative()) / self.welfare(self.equilibrium())

    # -- the dynamic game -----------------------------------------------------
    def principal_path(self, y0: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Closed form along the principal portfolios at the times ``t``.

        Parameters
        ----------
        y0 : ndarray, shape (d,)
            The crowd's initial mean in principal coordinates, ``Q.T @ x0``.
        t : ndarray, shape (k,)
            Times in [0, T].

        Returns
        -------
        p, ybar, b : ndarray, each shape (k, d)
            The Riccati gain, the crowd's mean and the offset of the feedback per
            principal portfolio.
        """
        s, Q = self.eigen
        T, kappa = self.horizon, self.trading_cost
        tau = (T - t)[:, None]
        omega, omega_mean = self._rates()
        target = (Q.T @ self.mu) / (self.risk_aversion * s + self.crowding)
        p = kappa * omega * np.tanh(omega * tau)
        r = kappa * omega_mean * np.tanh(omega_mean * tau)
        mean_y = target + (y0 - target) * _decay(omega_mean, t, T)
        return p, mean_y, (p - r) * mean_y + r * target

    def solve(self, x0, nt: int = 200, *, initial_variance: float = 0.0) -> AllocationSolution:
        """The dynamic mean-field equilibrium from the mean holdings ``x0`` (closed form).

        Parameters
        ----------
        x0 : array_like, shape (d,)
            The crowd's mean initial holdings.
        nt : int, default 200
            Number of time steps on [0, T] (the grid has nt + 1 points).
        initial_variance : float, default 0
            Variance of each manager's initial holding around ``x0`` per principal
            portfolio (it only shapes ``crowd_variance``).

        Returns
        -------
        AllocationSolution
        """
        x0 = check_array("x0", x0, shape=(self.n_assets,))
        nt = check_integer("nt", nt, low=1)
        v0 = check_number("initial_variance", initial_variance, low=0)
        _, Q = self.eigen
        T = self.horizon
        t = np.linspace(0.0, T, nt + 1)
        p, mean_y, offset_y = self.principal_path(Q.T @ x0, t)
        omega, _ = self._rates()
        phi = _decay(omega, t, T)
        # sinh(omega t) phi / omega = (1 - exp(-2 omega t)) / (2 omega) * exp(omega t) phi
        variance = v0 * phi**2 + self.volatility**2 * _accumulated(omega, t) * _ratio(omega, t, T)
        return AllocationSolution(
            game=self,
            t=t,
            mean=mean_y @ Q.T,
            offset=offset_y @ Q.T,
            gain_eigenvalues=p,
            mean_principal=mean_y,
            offset_principal=offset_y,
            crowd_variance=variance,
        )

    def epsilon_nash(self, x0, n_players=None, *, initial_variance: float = 0.0):
        """The epsilon-Nash gap of the mean-field feedback for N managers; see :func:`allocation_epsilon_nash`."""
        from .allocation_players import DEFAULT_PLAYERS, allocation_epsilon_nash

        counts = DEFAULT_PLAYERS if n_players is None else n_players
        return allocation_epsilon_nash(self, x0, counts, initial_variance=initial_variance)

    def simulate(self, n_players: int, x0, *, seed=None, nt: int = 200, n_paths: int = 1, **options):
        """N managers trading with the mean-field feedback from ``x0``; see :func:`simulate_managers`."""
        from .allocation_players import simulate_managers

        return simulate_managers(self.solve(x0, nt), n_players, seed=seed, n_paths=n_paths, **options)


@dataclass
class AllocationSolution:
    r"""The dynamic mean-field equilibrium of an :class:`AllocationGame`.

    The optimal feedback is :math:`\alpha^*(t, x) = (b(t) - P(t) x)/\kappa` and the
    crowd is Gaussian, :math:`N(\bar x_t, Q\, \mathrm{diag}(v_t)\, Q^\top)`.

    Attributes
    ----------
    game : AllocationGame
        The game solved.
    t : ndarray, shape (nt+1,)
        Time grid on [0, T].
    mean : ndarray, shape (nt+1, d)
        The crowd's mean holdings :math:`\bar x(t)`.
    offset : ndarray, shape (nt+1, d)
        :math:`b(t)` of the feedback.
    gain_eigenvalues : ndarray, shape (nt+1, d)
        :math:`P(t_n) = Q\, \mathrm{diag}(g_n)\, Q^\top` with :math:`g_n` = ``gain_eigenvalues[n]``
        and Q = ``game.eigen[1]``.
    mean_principal, offset_principal : ndarray, shape (nt+1, d)
        :math:`\bar x` and b in principal-portfolio coordinates :math:`y = Q^\top x`.
    crowd_variance : ndarray, shape (nt+1, d)
        Variance :math:`v_t` of the managers' holdings of each principal portfolio.
    """

    game: AllocationGame
    t: np.ndarray
    mean: np.ndarray
    offset: np.ndarray
    gain_eigenvalues: np.ndarray
    mean_principal: np.ndarray
    offset_principal: np.ndarray
    crowd_variance: np.ndarray
    _gain: np.ndarray | None = field(default=None, repr=False)

    @property
    def gain(self) -> np.ndarray:
        """P(t), shape (nt+1, d, d); built on first access ((nt+1) d^2 floats)."""
        if self._gain is None:
            _, Q = self.game.eigen
            self._gain = np.einsum("ik,nk,jk->nij", Q, self.gain_eigenvalues, Q, optimize=True)
        return self._gain

    def gain_at(self, n: int) -> np.ndarray:
        """P(t_n), shape (d, d)."""
        _, Q = self.game.eigen
        return (Q * self.gain_eigenvalues[n]) @ Q.T

    def control(self, n: int, x) -> np.ndarray:
        """The optimal trading rate :math:`\\alpha^*(t_n, x) = (b(t_n) - P(t_n) x)/\\kappa`.

        x has shape (..., d).
        """
        n = check_integer("n", n, low=0, high=self.t.size - 1)
        x = np.asarray(x, dtype=np.float64)
        _, Q = self.game.eigen
        Px = ((x @ Q) * self.gain_eigenvalues[n]) @ Q.T
        return (self.offset[n] - Px) / self.game.trading_cost

    @property
    def trading_rate(self) -> np.ndarray:
        """The crowd's mean trading rate dxbar/dt, shape (nt+1, d)."""
        p = self.gain_eigenvalues
        _, Q = self.game.eigen
        return ((self.offset_principal - p * self.mean_principal) / self.game.trading_cost) @ Q.T

    def plot(self, path=None, *, assets: int = 8):
        """Mean holdings paths of the first ``assets`` assets and the crowd's spread per principal portfolio."""
        from meanfolio.plotting import new_figure, save_figure

        fig, (ax0, ax1) = new_figure(2)
        names = self.game.names
        for i in range(min(assets, self.mean.shape[1])):
            ax0.plot(self.t, self.mean[:, i], label=names[i])
        ax0.set_xlabel("t")
        ax0.set_ylabel("mean holding xbar(t)")
        ax0.set_title("crowd's mean holdings")
        ax0.legend(fontsize="small", ncol=2)
        for k in range(min(assets, self.crowd_variance.shape[1])):
            ax1.plot(self.t, np.sqrt(self.crowd_variance[:, k]), label=f"PC {k + 1}")
        ax1.set_xlabel("t")
        ax1.set_ylabel("std of holdings")
        ax1.set_title("crowd's dispersion (principal portfolios)")
        ax1.legend(fontsize="small", ncol=2)
        if path is not None:
            save_figure(fig, path)
        return fig
