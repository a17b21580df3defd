"""The allocation game through the HJB-Fokker-Planck solver, one principal portfolio at a time.

Along the principal portfolio k (y = q_k'x, Sigma q_k = s_k q_k) a manager
minimises int [L(alpha) + (gamma s_k/2) y^2 - mu_k y + lam y ybar + (eta/2)(y - ybar)^2] dt
with dy = alpha dt + sigma dW. Dividing the cost by kappa puts it in the form
of :func:`meanfolio.mfg.solve_mfg` (v = u/kappa):

    -v_t - (sigma^2/2) v_yy + H(v_y) = [(gamma s_k/2) y^2 - mu_k y]/kappa + (lam/kappa) y ybar
                                        + (eta/(2 kappa)) (y - ybar)^2,

``RunningCost + MeanInteraction(lam/kappa) + MeanTracking(eta/kappa)``, with
H(p) = p^2/2 for the quadratic cost (kappa/2) alpha^2: the Riccati route's
game exactly, so the two must agree up to the scheme's first-order error.
The PDE also gives the crowd's density m(t, y), not only its mean.

Beyond quadratic costs the PDE route is the model: ``Linear(speed)`` is a
participation cap ``|alpha| <= speed`` (no other trading cost; kappa only scales
the cost), ``PowerLaw(3)`` a square-root-law impact with cost
``(2 kappa/3)|alpha|^(3/2)`` (``H = |p|^3/3`` after the same scaling). The split into
principal portfolios is then an approximation: a non-quadratic cost of the
trading rate vector does not separate along the eigenvectors of Sigma (it
does for costs that are sums over principal portfolios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_integer, check_number
from meanfolio.mfg import (
    Hamiltonian,
    MeanInteraction,
    MeanTracking,
    MFGConfig,
    MFGSolution,
    Quadratic,
    RunningCost,
    solve_mfg,
)

__all__ = ["AllocationPDE", "solve_allocation_pde"]


@dataclass
class AllocationPDE:
    r"""The PDE route of the allocation game: one 1D mean-field game per principal portfolio.

    Returned by :func:`solve_allocation_pde`.

    Attributes
    ----------
    components : ndarray, shape (k,)
        Principal portfolios solved, 0 = the largest variance.
    solutions : list of MFGSolution
        Per component: u (= value / kappa), m, alpha on its own grid.
    mean : ndarray, shape (nt, k)
        Mean holding of each principal portfolio, :math:`\int y\, m(t, y)\, dy`.
    exact_mean : ndarray, shape (nt, k)
        The Riccati route's mean on the same times (quadratic cost only; else nan).
    variance, exact_variance : ndarray, shape (nt, k)
        The crowd's variance from the PDE and from the closed form.
    converged : bool
        Whether every component's solve converged.
    """

    components: np.ndarray
    solutions: list[MFGSolution]
    mean: np.ndarray
    exact_mean: np.ndarray
    variance: np.ndarray
    exact_variance: np.ndarray
    converged: bool

    @property
    def mean_error(self) -> float:
        """The largest error of the PDE mean, ``max(abs(mean - exact_mean))`` over t and components."""
        return float(np.max(np.abs(self.mean - self.exact_mean)))

    def plot(self, path=None, component: int = 0):
        """Crowd density m(t, y) of one principal portfolio with its PDE and exact mean paths."""
        from meanfolio.plotting import heatmap, new_figure, save_figure

        sol = self.solutions[component]
        k = int(self.components[component])
        fig, (ax,) = new_figure(1, width=5.5)
        heatmap(ax, sol.m, sol.x, sol.t, f"crowd density m(t, y), principal portfolio {k + 1}", cmap="magma")
        ax.plot(self.mean[:, component], sol.t, "w-", lw=1.5, label="mean (PDE)")
        if np.all(np.isfinite(self.exact_mean[:, component])):
            ax.plot(self.exact_mean[:, component], sol.t, "c--", lw=1.5, label="mean (Riccati)")
        ax.set_xlabel("holding y of the principal portfolio")
        ax.legend(loc="upper right", fontsize="small")
        if path is not None:
            save_figure(fig, path)
        return fig


def _box(center_path: np.ndarray, spread: np.ndarray, width: float) -> tuple[float, float]:
    lo = float(center_path.min() - width * spread.max())
    hi = float(center_path.max() + width * spread.max())
    return lo, hi


def _closed_form_start(exact, k: int, y: np.ndarray, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton's start: the Riccati route's value (p y^2/2 - b y)/kappa and Gaussian crowd on the grid.

    For the quadratic cost this is the discrete solution up to the scheme's
    error, so Newton needs a few steps; for other costs it is still a
    sensible guess (same mean path and dispersion)."""
    p, b = exact.gain_eigenvalues[:, k, None], exact.offset_principal[:, k, None]
    mean, var = exact.mean_principal[:, k, None], exact.crowd_variance[:, k, None]
    u = (0.5 * p * y**2 - b * y) / kappa
    m = np.exp(-0.5 * (y - mean) ** 2 / np.maximum(var, (y[1] - y[0]) ** 2))
    return u, m / ((y[1] - y[0]) * m.sum(axis=1, keepdims=True))


def solve_allocation_pde(
    game,
    x0,
    *,
    components=None,
    nx: int = 200,
    nt: int = 100,
    spread: float = 0.05,
    hamiltonian: Hamiltonian | None = None,
    tolerance: float = 1e-9,
    width: float = 6.0,
) -> AllocationPDE:
    r"""Solve the allocation game's principal-portfolio games with :func:`~meanfolio.mfg.solve_mfg`.

    Along a principal portfolio :math:`y` (variance :math:`s`) the game is the
    one-dimensional MFG

    .. math::

        -\partial_t u + H(\partial_y u) = \frac{\sigma^2}{2}\partial_{yy} u
        - \frac{1}{\kappa}\Big(\mu_y y - \tfrac{\gamma s}{2} y^2 - \tfrac{\eta}{2}(y - \bar y)^2
        - \lambda \bar y y\Big),

    with :math:`u` the value divided by :math:`\kappa` and :math:`H(p) = p^2/2` for
    the Almgren-Chriss cost; the result is compared with the closed form of
    :meth:`AllocationGame.solve`.

    Parameters
    ----------
    game : AllocationGame
        The game.
    x0 : array_like, shape (d,)
        The crowd's mean initial holdings; each manager starts at x0 plus
        :math:`N(0, s^2)` (s = ``spread``) along every principal portfolio (m0 Gaussian).
    components : sequence of int, optional
        Principal portfolios to solve, 0 = largest variance (default: all).
    nx, nt : int, default 200, 100
        Grid points in y and in time (nt - 1 implicit steps), as in ``MFGConfig``.
    spread : float, default 0.05
        > 0, the standard deviation of the initial holdings.
    hamiltonian : Hamiltonian, default Quadratic()
        The trading cost after dividing by kappa.
    tolerance : float, default 1e-9
        The solver's tolerance.
    width : float, default 6
        >= 2: the box is the exact mean path +- ``width`` times the largest exact
        standard deviation.

    Returns
    -------
    AllocationPDE

    Raises
    ------
    ValueError
        If ``spread``, ``width``, ``nx``, ``nt`` or ``components`` is out of range.

    See Also
    --------
    AllocationGame.solve : The closed form.
    """
    spread = check_number("spread", spread, low=0, low_inclusive=False)
    width = check_number("width", width, low=2)
    nx = check_integer("nx", nx, low=3)
    nt = check_integer("nt", nt, low=2)
    d = game.n_assets
    chosen = np.arange(d) if components is None else np.asarray(components)
    if chosen.ndim != 1 or chosen.size == 0 or np.any((chosen < 0) | (chosen >= d)):
        raise ValueError(f"components = {components!r} is not allowed: expected indices in [0, {d - 1}]")
    hamiltonian = Quadratic() if hamiltonian is None else hamiltonian
    exact = game.solve(x0, nt - 1, initial_variance=spread**2)
    s, Q = game.eigen
    kappa = game.trading_cost
    sols, means, variances = [], [], []
    for c in chosen:
        k = int(c)
        mu_k = float(Q[:, k] @ game.mu)
        curvature = game.risk_aversion * s[k]
        lo, hi = _box(exact.mean_principal[:, k], np.sqrt(exact.crowd_variance[:, k]), width)
        config = MFGConfig(
            nx=nx,
            nt=nt,
            x_min=lo,
            x_max=hi,
            time_horizon=game.horizon,
            viscosity=0.5 * game.volatility**2,
            tolerance=tolerance,
        )
        y = np.linspace(lo, hi, nx)
        m0 = np.exp(-0.5 * ((y - exact.mean_principal[0, k]) / spread) ** 2)
        f = RunningCost(lambda t, y, c2=curvature, m1=mu_k: (0.5 * c2 * y**2 - m1 * y) / kappa + 0.0 * t)
        if game.crowding:
            f = f + MeanInteraction(game.crowding / kappa)
        if game.dispersion:
            f = f + MeanTracking(game.dispersion / kappa)
        sol = solve_mfg(config, m0, f, hamiltonian=hamiltonian, initial=_closed_form_start(exact, k, y, kappa))
        dy = sol.x[1] - sol.x[0]
        mean = dy * (sol.m * sol.x).sum(axis=1)
        sols.append(sol)
        means.append(mean)
        variances.append(dy * (sol.m * sol.x**2).sum(axis=1) - mean**2)
    exact_cols = chosen
    quadratic = isinstance(hamiltonian, Quadratic)
    nan = np.full((nt, chosen.size), np.nan)
    return AllocationPDE(
        components=chosen,
        solutions=sols,
        mean=np.stack(means, axis=1),
        exact_mean=exact.mean_principal[:, exact_cols] if quadratic else nan,
        variance=np.stack(variances, axis=1),
        exact_variance=exact.crowd_variance[:, exact_cols] if quadratic else nan,
        converged=all(sol.converged for sol in sols),
    )
