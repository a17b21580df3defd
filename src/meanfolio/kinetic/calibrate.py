r"""Calibration of the kinetic model to an index return series (simulated method of moments).

Moments of daily log returns r (one observation every ``observation_interval``):

    m = (volatility, excess kurtosis, Hill index (both tails, k = sqrt n), ACF(r, 1), ACF(``|r|``, 1..20)).

The model is long-term investors (U_gamma, tanh trust) trading through ONE
broker, ds = kappa ED s dt + sigma_B s dW (spec section 5 with N_B = 1), at
a constant fundamental; the free parameters are kappa, c, the chartists'
memory, beta and sigma_B, plus, with ``extension=True``, the slowly varying
broker noise (``broker_vol_vol``, ``broker_vol_memory``; not in the paper).
The estimate minimises

.. math::

    Q(\theta) = (m_{data} - m_{sim}(\theta))^T W (m_{data} - m_{sim}(\theta)),
    \quad W = \mathrm{diag}(\Sigma)^{-1},

with Sigma the block-bootstrap covariance of the data moments and m_sim
the mean over H (``paths``) simulated paths as long as the data, with the
same random numbers for every candidate (common random numbers: fixed
seeds), by the project's L-SHADE. Reported: the moments at the optimum on
``replications`` fresh seeds with Monte Carlo standard errors (a fit on a
single path can exploit that path's rare events; the fresh seeds show
it), and the J-statistic J = g^T [(1 + 1/H) Sigma]^{-1} g (g = m_data -
m_sim on the fitting paths) with its chi-square (M - P) p-value; W is not
the optimal weighting, so the p-value is approximate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from meanfolio._rng import SeedLike, as_generator
from meanfolio._validation import check_integer

from .params import KineticParams
from .simulate import KineticStabilityError, check_stability, simulate
from .stylized import autocorrelation, excess_kurtosis, hill_tail_index

__all__ = ["BOUNDS", "Calibration", "bundled_index_returns", "calibrate", "moments", "simulated_returns"]

LAGS = 20
MOMENT_NAMES = ("volatility", "excess_kurtosis", "hill", "acf1") + tuple(f"acf_abs_{k}" for k in range(1, LAGS + 1))
BOUNDS: dict[str, tuple[float, float]] = {
    "kappa": (0.1, 3.0),
    "reversion": (0.02, 2.0),
    "chartist_memory": (0.05, 5.0),
    "beta": (-2.0, 2.0),
    "sigma_broker": (0.02, 0.5),
}
EXTENSION_BOUNDS = {"broker_vol_vol": (0.0, 1.5), "broker_vol_memory": (0.2, 40.0)}
BASE = KineticParams(
    value_function="prospect", sigma=0.05, n_brokers=1, s_f=1.0, S0=1.0, dt=0.01, observation_interval=0.02
)
AGENTS = 32


def moments(returns) -> np.ndarray:
    """The moment vector (``MOMENT_NAMES``) of a daily log-return series."""
    r = np.asarray(returns, dtype=np.float64)
    return np.concatenate([
        [r.std(ddof=1), excess_kurtosis(r), hill_tail_index(r, tail="both"), autocorrelation(r, 1)[0]],
        autocorrelation(np.abs(r), LAGS),
    ])  # fmt: skip


def bundled_index_returns() -> tuple[np.ndarray, np.ndarray]:
    """Daily log returns of an equal-weight (daily rebalanced) index of the bundled S&P 500 stocks, and their dates.

    Returns
    -------
    returns : ndarray, shape (n,)
        :math:`\\ln(1 + \\bar r_t)` with :math:`\\bar r_t` the mean simple return of the
        stocks with a price on both days.
    dates : ndarray of datetime64[D], shape (n,)

    Examples
    --------
    >>> from meanfolio.kinetic import bundled_index_returns
    >>> returns, dates = bundled_index_returns()
    >>> returns.shape, str(dates[0])
    ((8312,), '1990-01-03')
    """
    from meanfolio.data import load_sp500

    r, dates = load_sp500().returns("simple", missing="keep")
    index = np.log1p(np.nanmean(r, axis=1))
    keep = np.isfinite(index)
    return index[keep], dates[keep]


def returns_from_file(path: str | Path) -> np.ndarray:
    """Daily log returns of the equal-weight index of the price file's assets (any format read_prices reads)."""
    from meanfolio.data.readers import read_prices

    r, _ = read_prices(path).returns("simple", missing="keep")
    index = np.log1p(np.nanmean(r, axis=1))
    index = index[np.isfinite(index)]
    if index.size < 250:
        raise ValueError(f"--data {path} has {index.size} usable returns: expected at least 250 (one year)")
    return index


def params_from(x: np.ndarray, names: tuple[str, ...], base: KineticParams = BASE) -> KineticParams:
    return base.replace(**{n: float(v) for n, v in zip(names, x, strict=True)})


def simulated_returns(params: KineticParams, days: int, seed: SeedLike) -> np.ndarray:
    """``days`` daily log returns of the calibration model (after a burn-in of 100 days)."""
    k = int(round(params.observation_interval / params.dt))
    burn = 100
    res = simulate(params, AGENTS, (days + burn) * k, seed=seed, chunk=100_000, threads=1)
    return np.diff(np.log(res.series["S"][burn * k :: k]))


class Objective:
    """Q(theta) for the optimiser (picklable, for process pools and Dask)."""

    def __init__(self, target: np.ndarray, weights: np.ndarray, names: tuple[str, ...], days: int, seeds):
        self.target, self.weights, self.names, self.days = target, weights, names, days
        self.seeds = [seeds] if isinstance(seeds, int) else list(seeds)

    def simulated(self, x: np.ndarray) -> np.ndarray:
        """Mean moments over the H = len(seeds) fixed-seed paths (common random numbers)."""
        p = params_from(x, self.names)
        check_stability(p, AGENTS)
        return np.mean([moments(simulated_returns(p, self.days, s)) for s in self.seeds], axis=0)

    def __call__(self, x: np.ndarray) -> float:
        try:
            m = self.simulated(x)
        except (KineticStabilityError, ValueError, FloatingPointError):
            return 1e12
        if not np.all(np.isfinite(m)):
            return 1e12
        d = m - self.target
        return float(np.sum(self.weights * d * d))


@dataclass
class Calibration:
    r"""A calibration of the kinetic model to an index return series (simulated method of moments).

    The moments of daily log returns are
    m = (volatility, excess kurtosis, Hill index, ACF(r, 1), ACF(\|r\|, 1..20)),
    and the estimate minimises

    .. math::

        Q(\theta) = (m_{data} - m_{sim}(\theta))^\top W (m_{data} - m_{sim}(\theta)),
        \qquad W = \mathrm{diag}(\Sigma)^{-1},

    with :math:`\Sigma` the block-bootstrap covariance of the data moments and
    :math:`m_{sim}` the mean over H simulated paths with common random numbers,
    by L-SHADE. The J-statistic
    :math:`J = g^\top [(1 + 1/H)\Sigma]^{-1} g` is compared with
    :math:`\chi^2_{M - P}` (approximate, W not being the optimal weighting).

    Attributes
    ----------
    params : dict of str to float
        The estimate of the free parameters (kappa, reversion, chartist memory,
        beta, sigma_broker, and the extension's two).
    targets : dict
        The data moments.
    simulated : dict
        Mean moments over fresh seeds at the estimate.
    simulated_fit : dict
        The moments on the fitting paths.
    mc_se : dict
        Monte Carlo standard errors of ``simulated``.
    path_sd : dict
        The spread of one path's moments.
    data_se : dict
        Bootstrap standard errors of the data moments.
    j_statistic, j_pvalue : float
        J and its chi-square p-value.
    j_df : int
        Degrees of freedom M - P.
    objective : float
        Q at the estimate.
    nfev : int
        Candidates evaluated.
    seconds : float
        Wall time.
    seed : int
        The search's seed.
    extension : bool
        Whether the slowly varying broker noise was fitted.
    data : str
        Name of the data.
    paths : int
        H, simulated paths per candidate.
    returns : ndarray
        The data's daily log returns.
    simulated_path : ndarray
        One simulated path of returns at the estimate.

    References
    ----------
    .. [1] D. McFadden, "A method of simulated moments for estimation of discrete
       response models without numerical integration", Econometrica 57 (1989).
    .. [2] D. Duffie, K. J. Singleton, "Simulated moments estimation of Markov
       models of asset prices", Econometrica 61 (1993).
    """

    params: dict[str, float]
    targets: dict[str, Any]
    simulated: dict[str, Any]
    simulated_fit: dict[str, Any]
    mc_se: dict[str, Any]
    path_sd: dict[str, Any]
    data_se: dict[str, Any]
    j_statistic: float
    j_pvalue: float
    j_df: int
    objective: float
    nfev: int
    seconds: float
    seed: int
    extension: bool
    data: str
    paths: int
    returns: np.ndarray = field(repr=False)
    simulated_path: np.ndarray = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        keys = ("params", "targets", "simulated", "simulated_fit", "mc_se", "path_sd", "data_se", "j_statistic",
                "j_pvalue", "j_df", "objective", "nfev", "seconds", "seed", "extension", "data", "paths")  # fmt: skip
        return {k: getattr(self, k) for k in keys}


def _named(m: np.ndarray) -> dict[str, Any]:
    return {"volatility": float(m[0]), "excess_kurtosis": float(m[1]), "hill": float(m[2]), "acf1": float(m[3]),
            "acf_abs": [float(v) for v in m[4:]]}  # fmt: skip


def calibrate(
    returns,
    *,
    max_evals: int = 240,
    seed: int = 0,
    extension: bool = False,
    replications: int = 8,
    paths: int = 4,
    client=None,
    data_name: str = "",
    progress=None,
) -> Calibration:
    """Fit the free parameters (``BOUNDS``, + ``EXTENSION_BOUNDS`` with ``extension``) to ``returns``.

    ``client``: a dask.distributed Client; the candidates of each generation
    are then simulated on the cluster. ``max_evals`` caps the candidates of
    the search (L-SHADE's budget; each costs ``paths`` simulations of the
    data's length). ``simulated`` holds the mean moments over
    ``replications`` fresh seeds at the estimate, ``mc_se`` their standard
    errors, ``path_sd`` the spread of one path's moment, ``simulated_fit``
    the moments on the fitting paths.
    """
    from meanfolio.optimize import differential_evolution

    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or r.size < 250 or not np.all(np.isfinite(r)):
        raise ValueError(f"returns has shape {r.shape} which is not allowed: expected >= 250 finite daily returns")
    max_evals = check_integer("max_evals", max_evals, low=20)
    seed = check_integer("seed", seed, low=0)
    replications = check_integer("replications", replications, low=2)
    paths = check_integer("paths", paths, low=1)
    start = time.perf_counter()
    target = moments(r)
    rng = as_generator(seed)
    from meanfolio.risk.bootstrap import bootstrap_indices

    idx = bootstrap_indices(r.size, 200, "stationary", 50.0, rng)
    boot = np.array([moments(r[i]) for i in idx])
    cov = np.cov(boot, rowvar=False)
    data_se = np.sqrt(np.diag(cov))
    bounds = dict(BOUNDS, **(EXTENSION_BOUNDS if extension else {}))
    names = tuple(bounds)
    fit_seeds = [seed + 10_000 * h for h in range(paths)]
    objective = Objective(target, 1.0 / np.maximum(np.diag(cov), 1e-12), names, r.size, fit_seeds)
    workers: Any = 1
    if client is not None:

        def workers(f, xs):  # noqa: E306 - a map-like callable for the optimiser
            return client.gather(client.map(f, list(xs)))

    callback = None
    if progress is not None:

        def callback(xk, convergence=None):  # noqa: E306
            progress(f"L-SHADE: best Q = {objective(xk):.4g}")

    # L-SHADE starts from 18 D candidates; a smaller budget gets a smaller (Latin hypercube) population
    lo, hi = (np.array(v) for v in zip(*bounds.values(), strict=True))
    size = int(np.clip(max_evals // 8, 8, 18 * len(names)))
    init = lo + (hi - lo) * stats.qmc.LatinHypercube(d=len(names), seed=seed).random(size)
    res = differential_evolution(objective, list(bounds.values()), strategy="lshade", maxfev=max_evals,
                                 seed=seed, polish=False, workers=workers, callback=callback,
                                 init=init, updating="deferred")  # fmt: skip
    best = params_from(res.x, names)
    # fresh seeds: the model's moments at the estimate, free of the fitting paths' particular events
    sims = np.array([moments(simulated_returns(best, r.size, seed + 1 + k)) for k in range(replications)])
    m_fit = objective.simulated(res.x)
    g = target - m_fit
    S = (1.0 + 1.0 / paths) * cov
    J = float(g @ np.linalg.pinv(S, rcond=1e-10) @ g)
    df = len(MOMENT_NAMES) - len(names)
    return Calibration(
        params={n: float(getattr(best, n)) for n in names}, targets=_named(target),
        simulated=_named(sims.mean(axis=0)), simulated_fit=_named(m_fit),
        mc_se=_named(sims.std(axis=0, ddof=1) / np.sqrt(replications)),
        path_sd=_named(sims.std(axis=0, ddof=1)), data_se=_named(data_se), j_statistic=J,
        j_pvalue=float(stats.chi2.sf(J, df)), j_df=df, objective=float(res.fun), nfev=int(res.nfev),
        seconds=time.perf_counter() - start, seed=seed, extension=extension, data=data_name, paths=paths, returns=r,
        simulated_path=simulated_returns(best, r.size, seed + 1),
    )  # fmt: skip


def calibration_figures(cal: Calibration, out_dir: str | Path) -> list[Path]:
    """QQ plots (real vs simulated), ACF of ``|r|`` (with the data's bootstrap band), price paths."""
    from meanfolio.plotting import new_figure, save_figure

    from .stylized import qq_normal

    out = Path(out_dir)
    paths = []
    fig, (ax,) = new_figure(1, width=5.5)
    for r, label in ((cal.returns, "index"), (cal.simulated_path, "model")):
        q, z = qq_normal(r)
        ax.plot(q, z, ".", ms=2, label=label)
    ax.plot(q, q, "k--", lw=1)
    ax.set_xlabel("normal quantiles")
    ax.set_ylabel("standardised daily log returns")
    ax.set_title("calibration: QQ plots")
    ax.legend()
    paths.append(save_figure(fig, out / "kinetic_calibration_qq.png"))
    fig, (ax,) = new_figure(1, width=5.5)
    lags = np.arange(1, LAGS + 1)
    t, s, se = (np.array(d["acf_abs"]) for d in (cal.targets, cal.simulated, cal.data_se))
    ax.fill_between(lags, t - 2 * se, t + 2 * se, alpha=0.3, label="index +- 2 se (bootstrap)")
    ax.plot(lags, t, "o-", label="index")
    ax.plot(lags, s, "s-", label="model")
    ax.set_xlabel("lag (days)")
    ax.set_ylabel("ACF of |r|")
    ax.set_title("calibration: volatility clustering")
    ax.legend()
    paths.append(save_figure(fig, out / "kinetic_calibration_acf_abs.png"))
    fig, (ax,) = new_figure(1, width=7.0)
    ax.semilogy(np.exp(np.cumsum(cal.returns)), lw=0.8, label="index")
    ax.semilogy(np.exp(np.cumsum(cal.simulated_path)), lw=0.8, label="model")
    ax.set_xlabel("day")
    ax.set_title("calibration: price paths (start 1)")
    ax.legend()
    paths.append(save_figure(fig, out / "kinetic_calibration_paths.png"))
    return paths
