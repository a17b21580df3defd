"""The paper's six findings, each as a statistic measured on several seeds.

:func:`findings` runs the presets and returns one row per (sub-)finding:
``finding``, ``figure`` (numbered as in the paper), ``statistic``,
``claim`` (what the paper's statement implies for the statistic),
``measured`` (text), ``holds`` (bool), ``reason`` (why it fails, when it
does) and ``values`` (the numbers, per seed). Thresholds are fixed here,
before looking at a seed, and each row has an ablation or a closed-form
reference so that it can fail. Where the spec's model cannot reproduce a
finding, the row says so (``holds`` False) with the reason.

Return statistics use observations every ``observation_interval`` of model
time ("daily"), independent of dt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from meanfolio._validation import check_integer

from .analytic import bond_marginal, broker_price_law, inverse_gamma_steady_state
from .moments import solve_moments
from .params import preset
from .simulate import KineticResult, simulate
from .stylized import autocorrelation, excess_kurtosis, hill_tail_index, log_returns

__all__ = ["Finding", "alternating_extrema", "findings", "observed", "oscillation_lobe"]

Progress = Callable[[str], None]


@dataclass
class Finding:
    """One row of the findings table: a claim of the paper, the statistic that tests it and what was measured.

    Attributes
    ----------
    finding : str
        The finding's number.
    figure : str
        The paper's figure it reproduces.
    title : str
        Short title.
    statistic : str
        What is measured.
    claim : str
        What the paper says.
    measured : str
        What the run gave.
    holds : bool
        Whether the claim holds on this run.
    reason : str
        Why it does not hold, if so.
    values : dict
        The numbers behind ``measured``.
    """

    finding: str
    figure: str
    title: str
    statistic: str
    claim: str
    measured: str
    holds: bool
    reason: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.holds = bool(self.holds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def observed(result: KineticResult, name: str = "S", *, start: float = 0.0) -> np.ndarray:
    """A series of a kinetic run sampled every ``observation_interval`` of model time (one "trading day").

    Parameters
    ----------
    result : KineticResult
        The run.
    name : str, default "S"
        A key of ``result.series``.
    start : float, default 0
        Model time of the first observation.

    Returns
    -------
    ndarray
        ``result.series[name]`` every ``observation_interval / dt`` steps, up to the last completed step.

    Raises
    ------
    ValueError
        If the interval is not a whole number of steps dt.
    """
    p = result.params
    ratio = p.observation_interval / p.dt
    k = int(round(ratio))
    if k < 1 or abs(ratio - k) > 1e-6 * k:
        raise ValueError(
            f"observation_interval = {p.observation_interval!r} is not allowed with dt = {p.dt!r}: "
            "expected a whole multiple of dt"
        )
    first = int(round(start / p.dt))
    return result.series[name][first : result.completed_steps + 1 : k]


def oscillation_lobe(deviation: np.ndarray, step: float, horizon: float) -> tuple[float, float]:
    """(min, lag of the min) of the autocorrelation of ``deviation`` over lags up to ``horizon``.

    A damped cycle of period T gives a negative lobe near T/2; a relaxation
    without a cycle (an AR(1)-like or overdamped series) has a positive
    autocorrelation at every lag (up to sampling error).
    """
    ac = autocorrelation(deviation, max(1, int(round(horizon / step))))
    i = int(np.argmin(ac))
    return float(ac[i]), float((i + 1) * step)


def alternating_extrema(path: np.ndarray, level: float, *, tol: float = 1e-5) -> int:
    """Number of local extrema of ``path`` on alternating sides of ``level`` (beyond ``tol``)."""
    d = np.diff(path)
    idx = np.nonzero(d[:-1] * d[1:] < 0)[0] + 1
    sides = [np.sign(path[i] - level) for i in idx if abs(path[i] - level) > tol]
    return int(sum(1 for a, b in zip(sides, sides[1:], strict=False) if a != b) + (1 if sides else 0))


def _fmt(values: Sequence[float], digits: int = 2) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _finding1(seeds, agents: int, t_end: float, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("long_term_constant", **ov)
    ablation = p.replace(weight="fundamentalist")
    steps = int(round(t_end / p.dt))
    lobes, lags, abl = [], [], []
    for k, seed in enumerate(seeds):
        say(f"finding 1: constant fundamental, seed {seed}")
        for params, out in ((p, lobes), (ablation, abl)):
            res = simulate(params, agents, steps, seed=seed, model="microscopic")
            dev = np.log(observed(res, start=50.0)[:: max(1, int(round(0.25 / p.observation_interval)))] / p.s_f)
            lobe, lag = oscillation_lobe(dev, 0.25, 15.0)
            out.append(lobe)
            if params is p:
                lags.append(lag)
                if k == 0:
                    keep["constant"] = res
    # the mechanism without any noise: the moment model's approach to s_f
    clean = p.replace(sigma=0.0)
    n_model = alternating_extrema(solve_moments(clean, steps // 4).S, p.s_f)
    n_abl = alternating_extrema(solve_moments(clean.replace(weight="fundamentalist"), steps // 4).S, p.s_f)
    holds = max(lobes) < -0.12 and min(abl) > -0.1 and n_model >= 3 and n_abl <= 1
    return [Finding(
        "1", "Fig 3", "constant fundamental: the price oscillates around s_f",
        "min ACF of ln(S/s_f) over lags <= 15 (noisy run); overshoots of s_f without noise",
        "a negative ACF lobe (damped cycle) that vanishes without chartists (W = 1)",
        f"min ACF {_fmt(lobes)} at lag {_fmt(lags, 1)} (half period); without chartists {_fmt(abl)}; "
        f"noise-free: {n_model} alternating overshoots, {n_abl} without chartists",
        holds, "" if holds else "the cycle is not distinguishable from the ablation on every seed",
        {"acf_min": lobes, "acf_min_lag": lags, "acf_min_ablation": abl, "overshoots_noise_free": n_model,
         "overshoots_noise_free_ablation": n_abl},
    )]  # fmt: skip


def moving_away(price: np.ndarray, fundamental: np.ndarray, threshold: float = 0.02) -> float:
    """Fraction of observation intervals in which the price moves further away from the fundamental.

    Counted when ``|ln(S_k / s_f,k)| > threshold`` and S_{k+1} - S_k has the sign
    of S_k - s_f,k: an overshoot carried by momentum. Fundamentalists alone
    (W = 1) always move toward s_f, so this is 0 up to the fundamental's moves
    within an interval.
    """
    gap = np.log(price[:-1] / fundamental[:-1])
    away = (np.abs(gap) > threshold) & (np.sign(np.diff(price)) == np.sign(gap))
    return float(np.mean(away))


def _finding2(seeds, agents: int, t_end: float, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("long_term_varying", **ov)
    ablation = p.replace(weight="fundamentalist")
    steps = int(round(t_end / p.dt))
    rows: dict[str, list[float]] = {k: [] for k in ("corr", "over", "over_abl", "kS", "kF", "hS", "hF", "n")}
    for k, seed in enumerate(seeds):
        say(f"finding 2: varying fundamental, seed {seed}")
        res = simulate(p, agents, steps, seed=seed)
        abl = simulate(ablation, agents, steps, seed=seed)
        S, F = observed(res, start=10.0), observed(res, "s_f", start=10.0)
        rS, rF = log_returns(S), log_returns(F)
        rows["corr"].append(float(np.corrcoef(np.log(S), np.log(F))[0, 1]))
        rows["over"].append(moving_away(S, F))
        rows["over_abl"].append(moving_away(observed(abl, start=10.0), observed(abl, "s_f", start=10.0)))
        rows["kS"].append(excess_kurtosis(rS))
        rows["kF"].append(excess_kurtosis(rF))
        rows["hS"].append(hill_tail_index(rS, tail="both"))
        rows["hF"].append(hill_tail_index(rF, tail="both"))
        rows["n"].append(rS.size)
        if k == 0:
            keep["varying"] = res
    se = float(np.sqrt(24.0 / min(rows["n"])))
    follows = min(rows["corr"]) > 0.5 and min(rows["over"]) > 0.05 and max(rows["over_abl"]) < 0.01
    fat = min(rows["kS"]) > 3 * se and max(abs(k) for k in rows["kF"]) < 3 * se
    fat = fat and all(a < b for a, b in zip(rows["hS"], rows["hF"], strict=True))
    return [
        Finding(
            "2a", "Fig 3", "varying fundamental: the price follows s_f with overshoots",
            "corr(ln S, ln s_f); overshoots: fraction of days the price moves further away from s_f while "
            "more than 2% off",
            "corr > 0.5; overshoots > 5% of days, < 1% without chartists (W = 1)",
            f"corr {_fmt(rows['corr'])}; overshoots {_fmt(rows['over'], 3)} (without chartists "
            f"{_fmt(rows['over_abl'], 3)})",
            follows, "" if follows else "the price does not track s_f on every seed",
            {k: rows[k] for k in ("corr", "over", "over_abl")},
        ),
        Finding(
            "2b", "Fig 4", "varying fundamental: fat-tailed price returns, Gaussian fundamental returns",
            "excess kurtosis and Hill index (k = sqrt n, both tails) of daily log returns, S vs s_f",
            f"kurtosis(S) > 3 se = {3 * se:.2f}, |kurtosis(s_f)| < 3 se, Hill(S) < Hill(s_f)",
            f"kurtosis S {_fmt(rows['kS'])} vs s_f {_fmt(rows['kF'])}; Hill S {_fmt(rows['hS'])} vs s_f "
            f"{_fmt(rows['hF'])}",
            fat, "" if fat else "the price's returns are not fatter-tailed than the fundamental's on every seed",
            {"kurtosis_price": rows["kS"], "kurtosis_fundamental": rows["kF"], "hill_price": rows["hS"],
             "hill_fundamental": rows["hF"]},
        ),
    ]  # fmt: skip


def _normality(x: np.ndarray) -> tuple[float, float, float, float]:
    """(Shapiro p on the first 2000, skewness, KS distance to a normal fit, to a log-normal fit)."""
    return (float(stats.shapiro(x[:2000]).pvalue), float(stats.skew(x)),
            float(stats.kstest(x, stats.norm(*stats.norm.fit(x)).cdf).statistic),
            float(stats.kstest(x, stats.lognorm(*stats.lognorm.fit(x, floc=0)).cdf).statistic))  # fmt: skip


def _finding3(seeds, agents: int, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("long_term_brokers", **ov)
    ablation = p.replace(x0_logstd=0.1, y0_logstd=0.1)  # a spread that is not the noise's
    pvals, norm, abl = [], [], []
    for k, seed in enumerate(seeds):
        say(f"finding 3: broker price law and stock wealth, seed {seed}")
        res = simulate(p, agents, 500, seed=seed)
        law = broker_price_law(p, res.series["ED"][:-1])
        pvals.append(float(stats.kstest(res.broker_prices, law.cdf).pvalue))
        norm.append(_normality(res.x))
        abl.append(_normality(simulate(ablation, agents, 500, seed=seed).x))
        if k == 0:
            keep["brokers"] = (p, res, law)
    lognormal = min(pvals) > 1e-3
    normal = min(v[0] for v in norm) > 1e-3 and max(abs(v[1]) for v in norm) < 0.3
    return [
        Finding(
            "3a", "Fig 5", "long-term investors: the price law across brokers is log-normal",
            "KS p-value of the broker prices against the closed-form log-normal of section 5 (not fitted)",
            "not rejected (p > 1e-3)", f"p = {_fmt(pvals, 3)}", lognormal,
            "" if lognormal else "the closed-form law is rejected", {"ks_pvalue": pvals},
        ),
        Finding(
            "3b", "Fig 6", "long-term investors: the stock-wealth marginal is normal",
            "Shapiro-Wilk p and skewness of the stock wealth at t = 5 (agents start almost equal: log-std 0.01); "
            "KS distance to a normal vs a log-normal fit",
            "normality not rejected (Shapiro p > 1e-3) and |skewness| < 0.3",
            f"Shapiro p {_fmt([v[0] for v in norm], 3)}; skewness {_fmt([v[1] for v in norm])}; KS normal "
            f"{_fmt([v[2] for v in norm], 3)} vs log-normal {_fmt([v[3] for v in norm], 3)}. Starting from a "
            f"log-normal spread (log-std 0.1) instead: Shapiro p {', '.join(f'{v[0]:.1e}' for v in abl)}, "
            f"skewness {_fmt([v[1] for v in abl])}",
            normal, "" if normal else "the stock wealth is not normal on every seed",
            {"shapiro_pvalue": [v[0] for v in norm], "skewness": [v[1] for v in norm],
             "ks_normal": [v[2] for v in norm], "ks_lognormal": [v[3] for v in norm],
             "shapiro_pvalue_lognormal_start": [v[0] for v in abl], "skewness_lognormal_start": [v[1] for v in abl]},
        ),
    ]  # fmt: skip


def _finding4(seeds, agents: int, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("marginal_positive", **ov)
    pvals, wrong = [], []
    for k, seed in enumerate(seeds):
        say(f"finding 4: closed bond marginal, seed {seed}")
        res = simulate(p, agents, 500, seed=seed)
        g = res.series["g"][:-1]
        if np.any(g <= 0):
            return [
                Finding(
                    "4",
                    "Fig 7",
                    "g > 0: log-normal bond marginal",
                    "KS p-value",
                    "not rejected",
                    "g changed sign during the run",
                    False,
                    "the preset does not keep g > 0",
                )
            ]
        law = bond_marginal(p, g)
        pvals.append(float(stats.kstest(res.y, law.cdf).pvalue))
        wrong.append(float(stats.kstest(res.y, bond_marginal(p, g, noise=False).cdf).pvalue))
        if k == 0:
            keep["marginal"] = (p, res, law)
    holds = min(pvals) > 1e-3 and max(wrong) < 1e-6
    return [Finding(
        "4", "Fig 7", "g > 0: the bond-wealth marginal is the log-normal of sections 3-4",
        "KS p-value of the bond wealth against the closed-form law; same for the law without the noise terms",
        "closed form not rejected (p > 1e-3); the law without noise terms rejected (p < 1e-6)",
        f"p = {_fmt(pvals, 3)}; without the noise terms p = {', '.join(f'{w:.1e}' for w in wrong)}",
        holds, "" if holds else "the closed form is rejected", {"ks_pvalue": pvals, "ks_pvalue_wrong_law": wrong},
    )]  # fmt: skip


def _finding5(seeds, agents: int, t_end: float, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("high_frequency", **ov)
    steps = int(round(t_end / p.dt))
    hill, nu_fit, kurt, means, sx, kx, sy, ky, ys = ([] for _ in range(9))
    for k, seed in enumerate(seeds):
        say(f"finding 5: high-frequency traders, seed {seed}")
        res = simulate(p, agents, steps, seed=seed, snapshot_every=steps // 2)
        b = res.broker_prices
        hill.append(hill_tail_index(b, k=100))
        nu_fit.append(float(stats.invgamma.fit(b, floc=0)[0]))
        kurt.append(excess_kurtosis(b))
        means.append([float(s.mean()) for _, s in res.extra["snapshots"][1:]])
        sx.append(float(stats.skew(res.x)))
        kx.append(float(stats.kurtosis(res.x)))
        sy.append(float(stats.skew(res.y)))
        ky.append(float(stats.kurtosis(res.y)))
        ys.append([float(res.series["Y"][0]), float(res.series["Y"][res.completed_steps])])
        if k == 0:
            keep["hft"] = res
    # Hill's standard error is about alpha / sqrt(k): "heavier" must beat twice that
    heavier = all(h < n - 2 * h / 10.0 for h, n in zip(hill, nu_fit, strict=True)) and min(kurt) > 0
    gaussian = max(np.abs(sx + sy)) < 0.5 and max(np.abs(kx + ky)) < 1.0
    return [
        Finding(
            "5a", "Fig 8", "high-frequency traders: fat-tailed price law, heavier than the inverse-gamma fit",
            "Hill index (k = 100) of the broker prices vs the fitted inverse-gamma nu; excess kurtosis",
            "Hill < nu_fit - 2 se(Hill) and kurtosis > 0",
            f"Hill {_fmt(hill)} vs nu_fit {_fmt(nu_fit)}; kurtosis {_fmt(kurt)}; mean price at t/2, t: "
            + "; ".join(_fmt(m, 3) for m in means),
            heavier, "" if heavier else (
                "with the wealth evolving (not frozen as in section 5) the broker price law's tail is no "
                "heavier than its inverse-gamma fit: the bond account drains (see 5b) until the buying support "
                "is weak, and the law settles (after t ~ 80) below s_f with a thin tail"),
            {"hill": hill, "nu_fit": nu_fit, "kurtosis": kurt, "mean_price_half_end": means},
        ),
        Finding(
            "5b", "Fig 9", "high-frequency traders: Gaussian wealth in both accounts",
            "skewness and excess kurtosis of stock and bond wealth",
            "|skewness| < 0.5 and |excess kurtosis| < 1 in both accounts",
            f"stock skew {_fmt(sx)}, kurt {_fmt(kx)}; bond skew {_fmt(sy)}, kurt {_fmt(ky)}; mean bond wealth "
            + "; ".join(f"{a:.2f} -> {b:.2f}" for a, b in ys),
            gaussian, "" if gaussian else (
                "in the spec's model most brokers quote below the mean price (the broker law is right-skewed), "
                "so more agents buy than sell: the mean bond wealth drains from 1 to about 0.15-0.2, where it "
                "settles after t ~ 80; the bond marginal piles up near 0 (right-skewed) and the stock marginal "
                "is left-skewed"),
            {"stock_skew": sx, "stock_kurtosis": kx, "bond_skew": sy, "bond_kurtosis": ky, "mean_bond": ys},
        ),
    ]  # fmt: skip


def _finding6(seeds, say: Progress, keep: dict, ov: dict) -> list[Finding]:
    p = preset("high_frequency_steady_state", **ov)
    ig = inverse_gamma_steady_state(p)
    ks_ig, ks_ln, hill = [], [], []
    for k, seed in enumerate(seeds):
        say(f"finding 6: high-frequency steady state, seed {seed}")
        res = simulate(p, 0, 4000, seed=seed, snapshot_every=250)
        s = res.broker_prices
        ks_ig.append(float(stats.kstest(s, ig.cdf).statistic))
        v = np.log(1 + s.var() / s.mean() ** 2)
        ln = stats.lognorm(s=np.sqrt(v), scale=s.mean() / np.sqrt(1 + s.var() / s.mean() ** 2))
        ks_ln.append(float(stats.kstest(s, ln.cdf).statistic))
        hill.append(hill_tail_index(s, k=400))
        if k == 0:
            keep["steady"] = (p, res, ig)
    bound = 1.63 / np.sqrt(p.n_brokers) + 0.005  # KS 1% critical value plus the time-discretisation bias
    holds = max(ks_ig) < bound and all(a < b for a, b in zip(ks_ig, ks_ln, strict=True))
    return [Finding(
        "6", "Fig 10", "high-frequency traders: the stationary price law is the inverse gamma",
        "KS distance of the broker prices at t = 8 to the closed-form inverse gamma, and to a moment-matched "
        "log-normal; Hill index (k = 400) vs nu",
        f"KS(inverse gamma) < {bound:.3f} and below KS(log-normal)",
        f"KS {_fmt(ks_ig, 4)} vs log-normal {_fmt(ks_ln, 4)}; Hill {_fmt(hill)} vs nu = {ig.nu:g}",
        holds, "" if holds else "the Monte Carlo law is not the inverse gamma",
        {"ks_inverse_gamma": ks_ig, "ks_lognormal": ks_ln, "hill": hill, "nu": ig.nu, "theta": ig.theta},
    )]  # fmt: skip


def findings(
    seeds: Sequence[int] = (1, 2, 3),
    *,
    agents: int = 2000,
    progress: Progress | None = None,
    keep: dict | None = None,
    quick: bool = False,
    overrides: dict[str, Any] | None = None,
) -> list[Finding]:
    """Measure the six findings on ``seeds``; returns the table rows.

    ``overrides`` (field -> value) are applied to every preset (``--set``).

    ``keep`` (a dict) receives the first seed's runs for the figures.
    ``quick`` halves the runs of findings 1-2, ends finding 5 at t = 20 instead of 100 and uses
    fewer agents / brokers in findings 4 and 6 (for tests; the statistics get noisier, and
    finding 5's are measured before the bond account has settled).
    """
    seeds = [check_integer("seed", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty which is not allowed: expected at least one seed")
    agents = check_integer("agents", agents, low=100)
    say = progress or (lambda msg: None)
    keep = {} if keep is None else keep
    scale = 0.5 if quick else 1.0
    rows: list[Finding] = []
    ov = dict(overrides or {})
    rows += _finding1(seeds, agents, 800.0 * scale, say, keep, ov)
    rows += _finding2(seeds, agents, 400.0 * scale, say, keep, ov)
    rows += _finding3(seeds, agents, say, keep, ov)
    rows += _finding4(seeds, max(agents, 5000 if quick else 20000), say, keep, ov)
    rows += _finding5(seeds, agents, 20.0 if quick else 100.0, say, keep, ov)
    rows += _finding6(seeds, say, keep, {"n_brokers": 5000, **ov} if quick else ov)
    return rows
