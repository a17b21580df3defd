"""`run_pipeline`: prices -> strategies (the crowding game and skfolio baselines) -> one walk-forward
backtest -> honest statistics -> report, CSV/JSON files and the DuckDB store.

Every strategy runs through :func:`meanfolio.backtest.run_backtest`: at each
rebalance it sees only the returns up to that close (rolling or expanding
window), its weights drift with returns until the next rebalance, and
turnover costs are charged on the rebalance day. ``mean_field`` estimates mu
(James-Stein) and Sigma (Ledoit-Wolf) on the window, solves the allocation
game and trades along its equilibrium path from the drifted weights; the
constraints (long-only, budget, caps, cardinality) are met by QP or L-SHADE.
A sweep over the game's crowding and trading cost, if configured, records how
many configurations were tried, and the deflated Sharpe ratio accounts for them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from meanfolio.backtest import BacktestResult, run_backtest
from meanfolio.backtest.strategies import estimator_strategy, make_estimator
from meanfolio.data import PriceTable, ResultStore, load_sp500, read_prices
from meanfolio.risk import sharpe_ratio

from .config import PipelineConfig
from .report import clean_weights, write_figures, write_html
from .stages import fit_regimes, regime_performance
from .statistics import strategy_statistics, verdict

__all__ = ["PipelineResult", "load_data", "run_pipeline"]


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` returns (also written to the store and the output folder).

    Attributes
    ----------
    run_id : str
        The run's id in the :class:`~meanfolio.data.ResultStore`.
    tickers : tuple of str
        The assets.
    backtest : meanfolio.backtest.BacktestResult
        The walk-forward backtest of every strategy.
    statistics : dict of str to dict
        Per strategy: Sharpe ratio with its confidence interval, deflated
        Sharpe ratio, bootstrap test against equal weight, ...
    verdict : str
        One paragraph on what the statistics allow to conclude.
    sweep : polars.DataFrame
        (crowding, trading_cost, sharpe) of every mean-field configuration tried.
    final : dict
        The final allocations and the crowd's density of the last window.
    summary : dict
        What ``summary.json`` holds.
    output_dir : Path, optional
        The output folder.
    report : Path, optional
        ``report.html``.
    figures : dict of str to Path
        The figures of the report.
    notes : tuple of str
        What the data reader decided for the user.
    """

    run_id: str
    tickers: tuple[str, ...]
    backtest: BacktestResult
    statistics: dict[str, dict]
    verdict: str
    sweep: pl.DataFrame
    final: dict
    summary: dict
    output_dir: Path | None = None
    report: Path | None = None
    figures: dict[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def load_data(cfg: PipelineConfig) -> PriceTable:
    """The prices of a pipeline config's ``data`` section: the bundled set or a file, then the selection.

    Parameters
    ----------
    cfg : PipelineConfig
        The config (its ``data`` section is read).

    Returns
    -------
    meanfolio.data.PriceTable
        The assets and dates selected (missing prices are handled later, by
        ``data.missing``).

    Raises
    ------
    ValueError
        If the source is an unknown bundled set; :class:`~meanfolio.data.PriceDataError`
        for malformed files, unknown tickers or an empty range.

    Examples
    --------
    >>> from meanfolio.pipeline import PipelineConfig, load_data
    >>> cfg = PipelineConfig.from_dict({"data": {"assets": ["KO", "PEP"], "start": "2022-01-01"}})
    >>> table = load_data(cfg)
    >>> table.tickers, table.prices.shape
    (('KO', 'PEP'), (249, 2))
    """
    d = cfg.data
    if d.source.startswith("bundled:"):
        if d.source != "bundled:sp500":
            raise ValueError(f"data.source = {d.source!r} is not allowed: expected 'bundled:sp500' or a file path")
        table = load_sp500()
    else:
        table = read_prices(d.source, layout=d.layout, date_format=d.date_format, column=d.column,
                            decimal=d.decimal)  # fmt: skip
    return table.select(d.assets, d.start, d.end)


def _strategies(cfg: PipelineConfig, names, overrides: dict | None = None) -> dict[str, Callable]:
    c = cfg.constraints
    out = {}
    for name in names:
        game = {**cfg.game_params(name), **(overrides or {})}
        est = make_estimator(name, game, max_weight=c.max_weight, cardinality=c.cardinality,
                             periods_per_year=cfg.backtest.periods_per_year)  # fmt: skip
        out[name] = estimator_strategy(est)
    return out


def _sweep(cfg: PipelineConfig, R, dates, tickers, progress) -> pl.DataFrame:
    """The mean-field backtest for every (crowding, trading_cost) of the sweep (the configured one included)."""
    game = cfg.game_params("mean_field")
    lams = sorted(set(cfg.sweep.crowding or []) | {game["crowding"]})
    kappas = sorted(set(cfg.sweep.trading_cost or []) | {game["trading_cost"]})
    rows = []
    for lam, kappa in itertools.product(lams, kappas):
        if lam == game["crowding"] and kappa == game["trading_cost"]:
            continue  # the main backtest's own configuration is added by the caller
        progress(f"sweep: crowding {lam:g}, trading cost {kappa:g}")
        strategy = _strategies(cfg, ["mean_field"], {"crowding": lam, "trading_cost": kappa})
        res = run_backtest(R, dates, strategy, cfg.backtest, assets=tickers)
        sharpe = float(sharpe_ratio(res.net["mean_field"], periods=cfg.backtest.periods_per_year))
        rows.append({"crowding": lam, "trading_cost": kappa, "sharpe": sharpe})
    return pl.DataFrame(rows, schema={"crowding": pl.Float64, "trading_cost": pl.Float64, "sharpe": pl.Float64})


def _final_allocations(cfg: PipelineConfig, R: np.ndarray, result: BacktestResult) -> dict:
    """Markowitz, mean-field and cooperative holdings of the game on the last window, the constrained
    weights held, and the crowd's density along the first principal portfolio (1D HJB-FP solver)."""
    from meanfolio.backtest.estimator import annual_moments
    from meanfolio.games import AllocationGame, solve_allocation_pde

    window = R[-cfg.backtest.window :] if cfg.backtest.window_type == "rolling" else R
    mu, cov = annual_moments(window, cfg.backtest.periods_per_year)
    g = cfg.game_params("mean_field")
    game = AllocationGame(mu, cov, risk_aversion=g["risk_aversion"], crowding=g["crowding"],
                          trading_cost=g["trading_cost"], dispersion=g["dispersion"], horizon=g["horizon"],
                          volatility=0.05)  # fmt: skip
    held = {name: w[-1] for name, w in result.weights.items()}
    # the crowd moving from equal weights to the equilibrium, along the principal portfolio that moves most
    start = np.full(mu.size, 1.0 / mu.size)
    _, Q = game.eigen
    component = int(np.argmax(np.abs(Q.T @ (game.equilibrium() - start))))
    pde = solve_allocation_pde(game, start, components=[component], nx=160, nt=80)
    markowitz = game.markowitz() if np.linalg.eigvalsh(cov).min() > 0 else np.full(mu.size, np.nan)
    return {"markowitz": markowitz, "mean_field": game.equilibrium(), "cooperative": game.cooperative(),
            "held": held, "pde": pde, "price_of_anarchy": game.price_of_anarchy()}  # fmt: skip


def _frames(result: BacktestResult, stats: dict) -> dict[str, pl.DataFrame]:
    rows = []
    for name, s in stats.items():
        row = {"strategy": name}
        for key, value in s.items():
            if key == "sharpe_ci":
                row["sharpe_ci_low"], row["sharpe_ci_high"] = value
            elif not isinstance(value, dict):
                row[key] = float(value)
        rows.append(row)
    frames = {"statistics": pl.DataFrame(rows)}
    if "mean_field" in stats and stats["mean_field"].get("sharpe_diff"):
        mf = stats["mean_field"]
        frames["sharpe_differences"] = pl.DataFrame(
            {"baseline": list(mf["sharpe_diff"]), "sharpe_diff": list(mf["sharpe_diff"].values()),
             "pvalue": [mf["sharpe_diff_pvalue"][k] for k in mf["sharpe_diff"]]}
        )  # fmt: skip
    return frames


def run_pipeline(
    cfg: PipelineConfig,
    *,
    prices: PriceTable | None = None,
    store: ResultStore | None = None,
    progress: Callable[[str], None] | None = None,
    out: str | Path | None = None,
) -> PipelineResult:
    """Run the backtest pipeline: prices, strategies, one walk-forward backtest, statistics, report and store.

    Every strategy runs through :func:`meanfolio.backtest.run_backtest` (no
    look-ahead, drifted weights, costs on the rebalance day). ``mean_field``
    estimates mu (James-Stein) and Sigma (Ledoit-Wolf) on the window, solves
    the allocation game and trades along its equilibrium path; the
    constraints are met by QP or L-SHADE. A sweep over crowding and trading
    cost, if configured, records how many configurations were tried, and the
    deflated Sharpe ratio accounts for them.

    Parameters
    ----------
    cfg : PipelineConfig
        The settings.
    prices : meanfolio.data.PriceTable, optional
        Overrides ``cfg.data``.
    store : meanfolio.data.ResultStore, optional
        An open store (default: open ``cfg.store`` for the run).
    progress : callable, optional
        ``progress(stage)`` is called as each stage starts.
    out : str or Path, optional
        The output folder (default ``<report.output_dir>/<run id>``).

    Returns
    -------
    PipelineResult

    Raises
    ------
    ValueError
        If the data has fewer than 2 assets or not more than ``backtest.window + 21`` returns.

    See Also
    --------
    load_config, meanfolio.backtest.run_backtest
    """
    step = progress or (lambda stage: None)
    periods = cfg.backtest.periods_per_year
    own_store = store is None
    store = ResultStore(cfg.store) if own_store else store
    try:
        with store.run("pipeline", cfg.to_dict()) as run:
            step("data")
            table = prices if prices is not None else load_data(cfg)
            R, dates = table.returns("simple", missing=cfg.data.missing)
            T, n = R.shape
            if n < 2 or T <= cfg.backtest.window + 21:
                raise ValueError(
                    f"the data has {T} returns of {n} assets: expected >= 2 assets and more than "
                    f"backtest.window + 21 = {cfg.backtest.window + 21} returns"
                )
            run.save_metrics("data", {"tickers": list(table.tickers)})
            step("backtest: " + ", ".join(cfg.strategies))
            result = run_backtest(R, dates, _strategies(cfg, cfg.strategies), cfg.backtest,
                                  assets=table.tickers)  # fmt: skip
            run.save_metrics("returns", result.returns_frame())
            run.save_metrics("weights", result.weights_frame())
            sweep = pl.DataFrame(schema={"crowding": pl.Float64, "trading_cost": pl.Float64, "sharpe": pl.Float64})
            if "mean_field" in cfg.strategies:
                sweep = _sweep(cfg, R, dates, table.tickers, step)
                g = cfg.game_params("mean_field")
                own = sharpe_ratio(result.net["mean_field"], periods=periods)
                sweep = pl.concat([sweep, pl.DataFrame({"crowding": [g["crowding"]],
                                   "trading_cost": [g["trading_cost"]], "sharpe": [float(own)]})])  # fmt: skip
                run.save_metrics("sweep", sweep)
            step("statistics")
            s = cfg.statistics
            stats = strategy_statistics(result, periods=periods, level=s.level, n_boot=s.n_boot, seed=s.seed,
                                        trial_sharpes=sweep["sharpe"].to_list() or None)  # fmt: skip
            text = verdict(stats, level=s.level)
            frames = _frames(result, stats)
            market = R[-result.dates.size :].mean(axis=1)
            regimes = fit_regimes(market, cfg.regimes, periods)
            frames["regime_performance"] = pl.DataFrame(
                regime_performance(result, regimes.states, regimes.means.size, periods)
            )
            for name, frame in frames.items():
                run.save_metrics(name, frame)
            step("final allocations and the crowd's density")
            final = _final_allocations(cfg, R, result)
            summary = {
                "data": f"{table.source or 'prices'}: {n} assets, {dates[0]} to {dates[-1]} ({T} returns)",
                "backtest": f"{result.dates[0]} to {result.dates[-1]}, {len(result.rebalance_dates)} rebalances",
                "rebalances": len(result.rebalance_dates),
                "strategies": stats,
                "verdict": text,
                "n_trials": int(max(1, sweep.height)),
                "config": cfg.to_dict(),
            }
            folder = Path(out) if out is not None else Path(cfg.report.output_dir) / run.run_id
            res = PipelineResult(run.run_id, table.tickers, result, stats, text, sweep, final, summary, folder,
                                 notes=table.notes)  # fmt: skip
            step("report")
            _write_outputs(res, frames, regimes)
            kept = [res.report, *res.figures.values(), folder / "summary.json"]
            for path in kept:  # a copy with the run: `runs export` includes the report
                run.save_file(path.name, path)
            run.save_metrics("outputs", {"file": [str(p) for p in kept]})
    finally:
        if own_store:
            store.close()
    return res


def _write_outputs(res: PipelineResult, frames: dict[str, pl.DataFrame], regimes) -> None:
    folder = res.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(res.summary, indent=2, default=str))
    weights = res.backtest.weights_frame().with_columns(pl.col("date").cast(pl.Utf8))
    for name in ("weight", "drifted"):  # dust such as 4.6e-17 written as 0
        if name in weights.columns:
            weights = weights.with_columns(pl.Series(name, clean_weights(weights[name].to_numpy())))
    weights.write_csv(folder / "weights.csv")
    res.backtest.returns_frame().with_columns(pl.col("date").cast(pl.Utf8)).write_csv(folder / "returns.csv")
    res.figures = write_figures(res, folder, regimes)
    res.report = write_html(res, frames, res.figures, folder / "report.html")
