"""The backtest pipeline: the whole run (``make demo``'s configuration) and each stage, and the engine
against skfolio's walk-forward on the same estimator.

Rows:
- each pipeline stage (data, backtest of all 7 strategies, the 3 x 3 sweep of the mean-field
  strategy, statistics, final allocations, report) and the whole run, bundled S&P 500 1995-2022,
  monthly, 10 bp; per-strategy fitting seconds inside the backtest;
- engine vs skfolio: ``cross_val_predict(MeanRisk(min variance), WalkForward(21, 756),
  portfolio_params={"weight_drift": True})`` against our engine with the same estimator every 21
  rows (same weights, so the ratio is the walk-forward machinery's overhead).

Target (issue 15): the whole pipeline < 90 s on 2 cores after install.

    python benchmarks/backtest.py      # writes results/backtest.json
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _runner import Report  # noqa: E402
from meanfolio.backtest import BacktestConfig, run_backtest  # noqa: E402
from meanfolio.backtest.strategies import estimator_strategy, make_estimator  # noqa: E402
from meanfolio.data import load_sp500  # noqa: E402
from meanfolio.pipeline import PipelineConfig, run_pipeline  # noqa: E402


def pipeline_stages(report: Report) -> None:
    stamps: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = PipelineConfig.from_dict({"store": f"{tmp}/runs.duckdb",
                                        "sweep": {"crowding": [0.05, 0.2], "trading_cost": [1e-4, 2e-3]}})  # fmt: skip
        start = time.perf_counter()
        res = run_pipeline(cfg, progress=lambda s: stamps.append((s, time.perf_counter())), out=f"{tmp}/out")
        total = time.perf_counter() - start
    stamps.append(("end", start + total))
    groups: dict[str, float] = {}
    for (name, t0), (_, t1) in zip(stamps, stamps[1:], strict=False):
        key = "sweep (8 more mean-field backtests)" if name.startswith("sweep") else name.split(":")[0]
        groups[key] = groups.get(key, 0.0) + t1 - t0
    for name, seconds in groups.items():
        report.add(f"stage: {name}", seconds, None)
    for name, seconds in res.backtest.strategy_seconds.items():
        report.add(f"  fitting {name} ({len(res.backtest.rebalance_dates)} rebalances)", seconds, None)
    report.add("whole pipeline (1995-2022, monthly, 7 strategies, 9 configurations)", total, None, target_s=90.0,
               mean_field_sharpe=res.statistics["mean_field"]["sharpe"])  # fmt: skip


def engine_vs_skfolio(report: Report) -> None:
    from skfolio.model_selection import WalkForward, cross_val_predict

    table = load_sp500(start="1995-01-01")
    R, dates = table.returns("simple")
    est = make_estimator("min_variance", {}, max_weight=0.25)
    start = time.perf_counter()
    pred = cross_val_predict(est, R, cv=WalkForward(test_size=21, train_size=756),
                             portfolio_params={"weight_drift": True})  # fmt: skip
    t_skfolio = time.perf_counter() - start
    start = time.perf_counter()
    ours = run_backtest(R, dates, {"min_variance": estimator_strategy(est)},
                        BacktestConfig(rebalance=21, window=756, cost_bps=0.0))  # fmt: skip
    t_ours = time.perf_counter() - start
    sk_returns = np.concatenate([np.asarray(p.returns) for p in pred])
    ours_returns = np.asarray(ours.net["min_variance"])[1 : 1 + sk_returns.size]
    report.add("walk-forward min variance every 21 days (engine vs skfolio)", t_ours, t_skfolio,
               max_return_difference=float(np.abs(ours_returns - sk_returns).max()), folds=len(pred))  # fmt: skip


def main() -> None:
    report = Report("backtest")
    pipeline_stages(report)
    engine_vs_skfolio(report)
    report.print()
    print(f"wrote {report.write_json()}")


if __name__ == "__main__":
    main()
