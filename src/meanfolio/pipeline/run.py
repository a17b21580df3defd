"""`run_pipeline`: market data -> regimes -> mean-field equilibrium -> DE weights -> risk report.

Walk-forward: the last ``test_fraction`` of the dates is split into
``folds`` consecutive test windows; for each, the stages are fitted on all
the dates before it (expanding window) and the weights held over it, so the
out-of-sample returns never see their own data. A final fit on the whole
history gives the current regime and the weights to hold now. Everything is
written to the DuckDB store (config, tables, arrays) and to ``output_dir``
(PNG figures and a self-contained ``report.html``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from meanfolio.data import PriceTable, ResultStore, load_sp500, read_prices
from meanfolio.risk import compute_risk_metrics

from .config import PipelineConfig
from .report import write_figures, write_html
from .stages import (
    Equilibrium,
    Regimes,
    fit_regimes,
    mean_variance_weights,
    regime_metrics,
    search_portfolio,
    solve_equilibrium,
)

__all__ = ["PipelineResult", "load_data", "run_pipeline"]

STRATEGIES = ("mean_field_de", "equal_weight", "mean_variance", "equilibrium")
METRICS = ("annual_return", "volatility", "sharpe", "sortino", "max_drawdown", "cvar_95", "calmar")


@dataclass
class PipelineResult:
    run_id: str
    tickers: tuple[str, ...]
    dates: np.ndarray
    market_returns: np.ndarray
    regimes: Regimes
    equilibrium: Equilibrium
    weights: dict[str, np.ndarray]
    oos_dates: np.ndarray
    oos_returns: dict[str, np.ndarray]
    summary: dict
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    report: Path | None = None
    figures: dict[str, Path] = field(default_factory=dict)


def load_data(cfg: PipelineConfig) -> PriceTable:
    d = cfg.data
    if d.source.startswith("bundled:"):
        if d.source != "bundled:sp500":
            raise ValueError(f"source = {d.source!r} is not allowed: expected 'bundled:sp500' or a file path")
        table = load_sp500()
    else:
        table = read_prices(d.source, layout=d.layout)
    return table.select(d.assets, d.start, d.end)


def _fit(returns: np.ndarray, cfg: PipelineConfig, periods: int):
    """The three stages on one training window: (regimes, equilibrium, weights by strategy, DE result)."""
    market = returns.mean(axis=1)
    regimes = fit_regimes(market, cfg.regimes, periods)
    k = regimes.current
    eq = solve_equilibrium(returns, float(regimes.means[k]), float(regimes.vols[k]), cfg.equilibrium, periods)
    w_de, res = search_portfolio(returns, eq.weights, cfg.portfolio, periods)
    n = returns.shape[1]
    weights = {
        "mean_field_de": w_de,
        "equal_weight": np.full(n, 1.0 / n),
        "mean_variance": mean_variance_weights(returns, cfg.portfolio.risk_aversion, periods),
        "equilibrium": eq.weights,
    }
    return regimes, eq, weights, res


def run_pipeline(
    cfg: PipelineConfig,
    *,
    prices: PriceTable | None = None,
    store: ResultStore | None = None,
    progress: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Run every stage; ``prices`` overrides ``cfg.data`` (used by tests), ``progress(stage)`` is
    called as each stage starts. Returns the :class:`PipelineResult` (report written)."""
    step = progress or (lambda stage: None)
    periods = cfg.report.periods_per_year
    own_store = store is None
    store = ResultStore(cfg.store) if own_store else store
    try:
        with store.run("pipeline", cfg.to_dict()) as run:
            step("data")
            table = prices if prices is not None else load_data(cfg)
            R, dates = table.returns("simple", missing=cfg.data.missing)
            T, n = R.shape
            if T < 200 or n < 2:
                raise ValueError(f"the data has {T} returns of {n} assets: expected at least 200 dates and 2 assets")
            dropped = len({r for r, _, _ in table.missing})
            run.save_metrics("data", {"tickers": list(table.tickers)})
            # walk-forward folds over the test period
            first_test = int(round(T * (1.0 - cfg.report.test_fraction)))
            bounds = np.linspace(first_test, T, cfg.report.folds + 1).round().astype(int)
            oos = {s: [] for s in STRATEGIES}
            fold_rows = []
            for f in range(cfg.report.folds):
                a, b = bounds[f], bounds[f + 1]
                step(f"fold {f + 1}/{cfg.report.folds}: regimes, equilibrium, portfolio")
                _, eq_f, w_f, _ = _fit(R[:a], cfg, periods)
                for s in STRATEGIES:
                    oos[s].append(R[a:b] @ w_f[s])
                sharpe = compute_risk_metrics(w_f["mean_field_de"], R[a:b], periods=periods).sharpe
                fold_rows.append({"fold": f + 1, "train_end": str(dates[a - 1]), "test_start": str(dates[a]),
                                  "test_end": str(dates[b - 1]), "days": int(b - a), "oos_sharpe_mean_field_de": sharpe,
                                  "equilibrium_mass_error": eq_f.mass_error})  # fmt: skip
                run.save_metrics("folds", fold_rows)
            step("final fit on the whole history")
            regimes, eq, weights, de = _fit(R, cfg, periods)
            oos_returns = {s: np.concatenate(v) for s, v in oos.items()}
            oos_dates = dates[first_test:]
            step("risk report")
            rows = []
            oos_metrics = {s: compute_risk_metrics(None, oos_returns[s], periods=periods) for s in STRATEGIES}
            for s in STRATEGIES:
                ins, out = compute_risk_metrics(weights[s], R, periods=periods), oos_metrics[s]
                for metric in METRICS:
                    rows.append({"portfolio": s, "metric": metric, "in_sample": float(getattr(ins, metric)),
                                 "out_of_sample": float(getattr(out, metric))})  # fmt: skip
            k = regimes.current
            summary = {
                "data": f"{table.source or 'prices'}: {n} assets, {dates[0]} to {dates[-1]} ({T} returns)",
                "dates_dropped_for_missing_prices": dropped,
                "current_regime": k,
                "current_regime_annual_mean": float(regimes.means[k]),
                "current_regime_annual_vol": float(regimes.vols[k]),
                "equilibrium_mean_allocation": eq.mean_allocation,
                "regime_merton_allocation": eq.target,
                "equilibrium_mass_error": eq.mass_error,
                "de_evaluations": int(de.nfev),
                "oos_sharpe_mean_field_de": float(oos_metrics["mean_field_de"].sharpe),
                "oos_sharpe_equal_weight": float(oos_metrics["equal_weight"].sharpe),
            }
            tables = {
                "summary": pl.DataFrame(
                    {
                        "quantity": list(summary),
                        "value": [str(v) if isinstance(v, str) else f"{v:.6g}" for v in summary.values()],
                    }
                ),  # fmt: skip
                "regimes": pl.DataFrame(
                    {
                        "regime": np.arange(regimes.means.size),
                        "annual_mean": regimes.means,
                        "annual_vol": regimes.vols,
                        "persistence": np.diag(regimes.transmat),
                        "share_of_days": np.bincount(regimes.states, minlength=regimes.means.size)
                        / regimes.states.size,
                    }
                ),  # fmt: skip
                "weights": pl.DataFrame({"asset": list(table.tickers), **{s: weights[s] for s in STRATEGIES}}),
                "metrics": pl.DataFrame(rows),
                "regime_metrics": pl.DataFrame(
                    regime_metrics(weights["mean_field_de"], R, regimes.states, regimes.means.size, periods)
                ),  # fmt: skip
                "folds": pl.DataFrame(fold_rows),
            }
            for name, frame in tables.items():
                run.save_metrics(name, frame)
            for name, arr in {"weights": np.stack([weights[s] for s in STRATEGIES]), "m": eq.solution.m,
                              "alpha": eq.solution.alpha, "states": regimes.states,
                              "oos_returns": np.stack([oos_returns[s] for s in STRATEGIES])}.items():  # fmt: skip
                run.save_array(name, arr)
            result = PipelineResult(run.run_id, table.tickers, dates, R.mean(axis=1), regimes, eq, weights,
                                    oos_dates, oos_returns, summary, tables)  # fmt: skip
            step("figures and HTML")
            out = Path(cfg.report.output_dir) / run.run_id
            result.figures = write_figures(result, out)
            result.report = write_html(result, tables, result.figures, out / "report.html")
            run.save_metrics("outputs", {"file": [str(result.report), *map(str, result.figures.values())]})
    finally:
        if own_store:
            store.close()
    return result
