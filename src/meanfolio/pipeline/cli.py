"""``meanfolio pipeline run``: the walk-forward backtest from a YAML config, with a progress display."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .runs_cli import WAIT, fail, runs_app

__all__ = ["pipeline_app", "run_with_progress", "runs_app"]

pipeline_app = typer.Typer(help="The end-to-end mean-field portfolio pipeline.", no_args_is_help=True)
console = Console()
COLUMNS = ("strategy", "annual return", "volatility", "Sharpe", "Sharpe CI", "max drawdown", "turnover/yr",
           "cost/yr", "p (mean field vs)")  # fmt: skip


def run_with_progress(cfg, out=None, wait: float = 0.0):
    """Run the pipeline with a rich progress display and print the statistics; returns the result."""
    from meanfolio.data import ResultStore
    from meanfolio.pipeline import run_pipeline

    store = ResultStore(cfg.store, wait=wait)  # a busy store is refused before any work
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                      transient=True) as bar:  # fmt: skip
            task = bar.add_task("pipeline", total=None)
            result = run_pipeline(cfg, store=store, progress=lambda stage: bar.update(task, description=stage),
                                  out=out)  # fmt: skip
    finally:
        store.close()
    table = Table(title=f"backtest {result.summary['backtest']} (net of costs)")
    for col in COLUMNS:
        table.add_column(col, justify="right")
    pvalues = result.statistics.get("mean_field", {}).get("sharpe_diff_pvalue", {})
    for name, s in result.statistics.items():
        table.add_row(name, f"{s['annual_return']:.2%}", f"{s['volatility']:.2%}", f"{s['sharpe']:.3f}",
                      f"[{s['sharpe_ci'][0]:.2f}, {s['sharpe_ci'][1]:.2f}]", f"{s['max_drawdown']:.1%}",
                      f"{s['turnover']:.2f}", f"{s['cost']:.2%}",
                      "" if name not in pvalues else f"{pvalues[name]:.3f}")  # fmt: skip
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    if "mean_field" in result.statistics:
        mf = result.statistics["mean_field"]
        console.print(
            f"deflated Sharpe ratio of mean_field: {mf['deflated_sharpe']:.3f} ({mf['n_trials']} configurations)"
        )
    console.print(result.verdict)
    console.print(f"report: [bold]{result.report}[/bold]   store: {cfg.store} (run {result.run_id})")
    return result


@pipeline_app.command("run")
def pipeline_run(
    config: Annotated[Path, typer.Argument(help="YAML config (see examples/pipeline.yaml).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for report.html, summary.json, weights.csv, returns.csv and the figures."),
    ] = None,  # fmt: skip
    store: Annotated[Path | None, typer.Option(help="Override the config's store file (.duckdb).")] = None,
    wait: WAIT = 0.0,
) -> None:
    """Walk-forward backtest: the crowding game and skfolio baselines, costs, statistics, report."""
    from dataclasses import replace

    from meanfolio.commands.common import check_option
    from meanfolio.data import StoreBusyError
    from meanfolio.pipeline import load_config

    check_option("--wait", wait, low=0)
    try:
        cfg = load_config(config)
        if store is not None:
            cfg = replace(cfg, store=str(store))
        if out is not None and out.exists() and not out.is_dir():
            raise ValueError(f"--out = {str(out)!r} is a file: expected a folder")
    except (ValueError, OSError) as exc:
        fail(str(exc))
    try:
        run_with_progress(cfg, out=out, wait=wait)
    except (ValueError, StoreBusyError) as exc:
        fail(str(exc))
