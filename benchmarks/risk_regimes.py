"""Benchmark of the HMM against hmmlearn and of the risk metrics against empyrical.

HMM: the same data (two-regime returns), the same starting parameters, the
same number of EM iterations (no early stop): time per EM iteration and the
final log-likelihood side by side, at 1e4 and 1e5 observations. Metrics:
Sharpe, Sortino, volatility, max drawdown, CAGR, historical VaR and CVaR of
20 assets x 8000 days (the bundled S&P 500 prices, NaN-free rows): time and
the largest relative difference.

    python benchmarks/risk_regimes.py      # prints a table, writes results/risk_regimes.json
    python benchmarks/risk_regimes.py --coverage   # bootstrap coverage at T = 20, 50, 250
                                                   # -> results/risk_bootstrap_coverage.json
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import empyrical as ep
import numpy as np
from hmmlearn import hmm as hl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report, best_time  # noqa: E402
from meanfolio.data import read_prices  # noqa: E402
from meanfolio.regimes import GaussianHMM  # noqa: E402
from meanfolio.risk import metrics as m  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500_20_stocks_daily.csv.gz"
ITERS = 20


def hmm_case(report: Report, T: int) -> None:
    truth = GaussianHMM(2)
    truth.startprob_ = np.array([0.5, 0.5])
    truth.transmat_ = np.array([[0.98, 0.02], [0.04, 0.96]])
    truth.means_ = np.array([[0.0005], [-0.001]])
    truth.covars_ = np.array([[1e-4], [6e-4]])
    X, _ = truth.sample(T, seed=1)
    start = dict(startprob_=np.array([0.6, 0.4]), transmat_=np.array([[0.9, 0.1], [0.1, 0.9]]),
                 means_=np.array([[0.001], [-0.002]]), covars_=np.array([[2e-4], [3e-4]]))  # fmt: skip

    def ours():
        model = GaussianHMM(2, n_init=1, max_iter=ITERS, tol=0.0, warm_start=True)
        for k, v in start.items():
            setattr(model, k, v.copy())
        return model.fit(X)

    def theirs():
        model = hl.GaussianHMM(2, covariance_type="diag", n_iter=ITERS, tol=-np.inf, init_params="",
                               min_covar=1e-12)  # fmt: skip
        model.startprob_, model.transmat_, model.means_ = start["startprob_"], start["transmat_"], start["means_"]
        model.covars_ = start["covars_"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit(X)

    t_ours, mo = best_time(ours, repeat=3)
    t_theirs, mt = best_time(theirs, repeat=3)
    report.add(
        f"HMM EM, T = {T:.0e} (s per iteration)", t_ours / ITERS, t_theirs / ITERS,
        loglik_ours=mo.score(X), loglik_hmmlearn=float(mt.score(X)), iterations=ITERS,
    )  # fmt: skip


def metrics_case(report: Report) -> None:
    table = read_prices(DATA)
    R = table.simple_returns()
    R = R[~np.isnan(R).any(axis=1)][:8000]
    pairs = [
        (m.sharpe_ratio, ep.sharpe_ratio), (m.sortino_ratio, ep.sortino_ratio),
        (m.annual_volatility, ep.annual_volatility), (m.max_drawdown, ep.max_drawdown),
        (m.annual_return, ep.annual_return), (m.var, ep.value_at_risk),
        (m.cvar, ep.conditional_value_at_risk),
    ]  # fmt: skip
    t_ours, ours = best_time(lambda: [f(R) for f, _ in pairs], repeat=5)
    t_theirs, theirs = best_time(lambda: [np.array([g(R[:, j]) for j in range(R.shape[1])]) for _, g in pairs],
                                 repeat=5)  # fmt: skip
    diff = max(float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) for a, b in zip(ours, theirs, strict=True))
    report.add(f"7 metrics x {R.shape[1]} assets x {R.shape[0]} days", t_ours, t_theirs, max_rel_diff=diff)


def main() -> None:
    report = Report("risk_regimes")
    for T in (10_000, 100_000):
        hmm_case(report, T)
    metrics_case(report)
    report.print()
    print("written", report.write_json())


def _ar1_paths(rng, reps: int, T: int, phi: float) -> np.ndarray:
    e = rng.normal(size=(reps, T + 50))
    x = np.zeros_like(e)
    for t in range(1, T + 50):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x[:, 50:]


def coverage_study(reps: int = 400, n_boot: int = 499, n_inner: int = 30) -> Path:
    """Coverage of 0.95 bootstrap intervals of the mean (true value 0) at T = 20, 50, 250.

    Data: iid N(0, 1) and AR(1) with phi = 0.5. Intervals: the former default (stationary
    bootstrap, block T^(1/3), percentile), the new ones (Politis-White block, double-bootstrap
    calibrated percentile or studentized; the default "auto" takes the first for T < 50, the
    second from 50 on), and the iid bootstrap for reference.
    Binomial standard error of a coverage c: sqrt(c (1-c) / reps).
    """
    from meanfolio.risk import bootstrap_ci

    rng = np.random.default_rng(2026)
    rows = []

    def mean(a):
        return a.mean(axis=0)

    settings = {
        "old: stationary, block T^(1/3), percentile": {"interval": "percentile", "block": "cube"},
        "stationary, Politis-White block, calibrated": {"interval": "calibrated", "block": None},
        "stationary, Politis-White block, studentized": {"interval": "studentized", "block": None},
        "iid bootstrap, calibrated": {"interval": "calibrated", "method": "iid"},
    }
    for kind, phi in (("iid", 0.0), ("AR(1) phi=0.5", 0.5)):
        for T in (20, 50, 250):
            X = _ar1_paths(rng, reps, T, phi)
            for name, s in settings.items():
                hits, width = 0, 0.0
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for i, x in enumerate(X):
                        block = T ** (1 / 3) if s.get("block") == "cube" else None
                        r = bootstrap_ci(mean, x, n_boot=n_boot, n_inner=n_inner, interval=s["interval"],
                                         method=s.get("method", "stationary"), block_size=block, vectorized=True,
                                         seed=i)  # fmt: skip
                        hits += r.low <= 0.0 <= r.high
                        width += r.high - r.low
                c = hits / reps
                se = float(np.sqrt(c * (1 - c) / reps))
                rows.append({"data": kind, "T": T, "interval": name, "coverage": c, "binomial_se": se,
                             "mean_width": width / reps})  # fmt: skip
                print(rows[-1], flush=True)
    path = Path(__file__).resolve().parent / "results" / "risk_bootstrap_coverage.json"
    path.write_text(__import__("json").dumps({"reps": reps, "n_boot": n_boot, "n_inner": n_inner, "level": 0.95,
                                              "rows": rows}, indent=2))  # fmt: skip
    return path


if __name__ == "__main__":
    if "--coverage" in sys.argv:
        print("written", coverage_study())
    else:
        main()
