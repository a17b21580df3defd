"""The four stages: regimes -> mean-field equilibrium -> portfolio search -> risk metrics.

Units: returns are daily simple returns; means, variances and the MFG's
running cost are annualised with ``periods`` (252). Every stage is a plain
function of arrays and its config, so each can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from meanfolio.mfg import MarketImpact, MFGConfig, RunningCost, solve_mfg
from meanfolio.optimize import Simplex, differential_evolution
from meanfolio.particles import GridControl, McKeanVlasov, simulate_particles
from meanfolio.regimes import GaussianHMM
from meanfolio.risk import compute_risk_metrics

from .config import EquilibriumConfig, PortfolioConfig, RegimeConfig

__all__ = [
    "Equilibrium",
    "Regimes",
    "fit_regimes",
    "mean_variance_weights",
    "regime_metrics",
    "search_portfolio",
    "solve_equilibrium",
]


@dataclass
class Regimes:
    """The HMM on market returns: ``states`` (T,), ``current`` state, annualised ``means``/``vols`` (K,),
    ``transmat`` (K, K), and the fitted model (states sorted by mean, 0 = lowest)."""

    model: GaussianHMM
    states: np.ndarray
    current: int
    means: np.ndarray
    vols: np.ndarray
    transmat: np.ndarray
    loglik: float


def fit_regimes(market: np.ndarray, cfg: RegimeConfig, periods: int) -> Regimes:
    """Fit a K-state Gaussian HMM to the market returns (T,); states relabelled by increasing mean."""
    model = GaussianHMM(cfg.n_states, n_init=cfg.n_init, max_iter=cfg.max_iter, seed=cfg.seed).fit(market)
    model.sort_states()  # state 0 = the worst (bear) regime
    states = model.predict(market)
    return Regimes(
        model=model,
        states=states,
        current=int(states[-1]),
        means=model.means_[:, 0] * periods,
        vols=np.sqrt(model.covars_.reshape(cfg.n_states, -1)[:, 0] * periods),
        transmat=model.transmat_.copy(),
        loglik=float(model.score(market)),
    )


@dataclass
class Equilibrium:
    """The allocation MFG's solution and what the portfolio stage takes from it.

    start, end : (n,) allocations of the assets' agents at t = 0 (their own
    Merton allocations mu_i / (gamma sigma_i^2), clipped to the box) and at T
    (moved along the equilibrium feedback); weights : (n,) the equilibrium
    weights end^+ / sum(end^+) (equal weights if no allocation stays positive);
    mean_allocation : the population's mean allocation at T; target : the
    regime's Merton allocation mu / (gamma sigma^2).
    """

    solution: object
    start: np.ndarray
    end: np.ndarray
    weights: np.ndarray
    mean_allocation: float
    target: float
    mass_error: float


def _kde(points: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``points`` on the grid x (Silverman's bandwidth, at least 2 cells)."""
    n = points.size
    h = max(1.06 * max(points.std(), 1e-3) * n ** (-0.2), 2 * (x[1] - x[0]))
    dens = np.exp(-0.5 * ((x[:, None] - points[None, :]) / h) ** 2).sum(axis=1)
    return dens / (dens.sum() * (x[1] - x[0]))


def solve_equilibrium(returns: np.ndarray, regime_mean: float, regime_vol: float, cfg: EquilibriumConfig,
                      periods: int) -> Equilibrium:  # fmt: skip
    """The mean-field equilibrium of allocations to the risky aggregate.

    State x: an agent's allocation; control alpha = dx/dt with the
    Almgren-Chriss cost kappa alpha^2 / 2; running reward of holding x in the
    current regime mu x - (gamma / 2) sigma^2 x^2 (mean-variance); permanent
    impact -lam x mean(alpha) (the others' trading moves the price against
    the holder). Dividing by kappa gives the quadratic Hamiltonian p^2/2 with

        f(x, m) = -(mu x - gamma sigma^2 x^2 / 2) / kappa - (lam / kappa) x mean(alpha),

    terminal cost g = 0, m0 the kernel density of the assets' own Merton
    allocations. ``returns`` (T, n) are the training returns.
    """
    mu_i = returns.mean(axis=0) * periods
    var_i = np.maximum(returns.var(axis=0) * periods, 1e-8)
    start = np.clip(mu_i / (cfg.risk_aversion * var_i), cfg.x_min, cfg.x_max)
    config = MFGConfig(nx=cfg.nx, nt=cfg.nt, x_min=cfg.x_min, x_max=cfg.x_max, time_horizon=cfg.horizon,
                       viscosity=cfg.viscosity, tolerance=1e-8, max_iterations=50)  # fmt: skip
    x = np.linspace(cfg.x_min, cfg.x_max, cfg.nx)
    kappa, gamma, s2 = cfg.trading_cost, cfg.risk_aversion, regime_vol**2
    reward = RunningCost(-(regime_mean * x - 0.5 * gamma * s2 * x**2) / kappa)
    coupling = reward + MarketImpact(cfg.impact / kappa) if cfg.impact != 0 else reward
    sol = solve_mfg(config, _kde(start, x), coupling)
    if not sol.converged:
        raise RuntimeError(f"the equilibrium MFG did not converge: {sol.message}")
    # each asset's agent follows the equilibrium feedback (noise-free characteristic)
    path = simulate_particles(McKeanVlasov(sigma=0.0, box=(cfg.x_min, cfg.x_max)), start, cfg.horizon,
                              (cfg.nt - 1) * 4, seed=0, control=GridControl.from_solution(sol))  # fmt: skip
    end = path.x
    positive = np.maximum(end, 0.0)
    weights = positive / positive.sum() if positive.sum() > 0 else np.full(end.size, 1.0 / end.size)
    dx = x[1] - x[0]
    return Equilibrium(sol, start, end, weights, float(dx * np.sum(x * sol.m[-1])),
                       float(regime_mean / (gamma * s2)), sol.mass_error)  # fmt: skip


def _moments(returns: np.ndarray, periods: int) -> tuple[np.ndarray, np.ndarray]:
    return returns.mean(axis=0) * periods, np.cov(returns, rowvar=False) * periods


def _objective(mu, cov, cfg: PortfolioConfig, w_eq):
    def f(w):
        ret, var = mu @ w, w @ cov @ w
        value = -(ret - cfg.risk_aversion * var) if cfg.objective == "mean_variance" else -ret / np.sqrt(var + 1e-18)
        return value + cfg.deviation_penalty * np.sum((w - w_eq) ** 2)

    return f


def search_portfolio(returns: np.ndarray, w_eq: np.ndarray, cfg: PortfolioConfig, periods: int):
    """L-SHADE over the long-only simplex; returns (weights, OptimizeResult)."""
    mu, cov = _moments(returns, periods)
    n = mu.size
    res = differential_evolution(_objective(mu, cov, cfg, w_eq), [(0.0, 1.0)] * n, strategy="lshade",
                                 constraints=Simplex(n), seed=cfg.seed, maxfev=cfg.max_evaluations,
                                 maxiter=100_000, tol=0.0, polish=False)  # fmt: skip
    w = np.maximum(res.x, 0.0)
    return w / w.sum(), res


def mean_variance_weights(returns: np.ndarray, risk_aversion: float, periods: int) -> np.ndarray:
    """The classic mean-variance portfolio on the simplex by scipy's SLSQP (the baseline)."""
    mu, cov = _moments(returns, periods)
    n = mu.size
    res = minimize(lambda w: -(mu @ w - risk_aversion * w @ cov @ w), np.full(n, 1.0 / n),
                   jac=lambda w: -(mu - 2 * risk_aversion * cov @ w), method="SLSQP", bounds=[(0, 1)] * n,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(n)}],
                   options={"ftol": 1e-12, "maxiter": 500})  # fmt: skip
    w = np.maximum(res.x, 0.0)
    return w / w.sum()


def regime_metrics(weights: np.ndarray, returns: np.ndarray, states: np.ndarray, n_states: int, periods: int):
    """Metrics of the portfolio on the days of each regime: list of row dicts."""
    rows = []
    for k in range(n_states):
        sel = states == k
        if sel.sum() < 2:
            rows.append({"regime": k, "days": int(sel.sum())})
            continue
        m = compute_risk_metrics(weights, returns[sel], periods=periods)
        rows.append({"regime": k, "days": int(sel.sum()), "annual_return": m.annual_return,
                     "volatility": m.volatility, "sharpe": m.sharpe, "max_drawdown": m.max_drawdown,
                     "cvar_95": m.cvar_95})  # fmt: skip
    return rows
