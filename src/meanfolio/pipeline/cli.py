"""``meanfolio pipeline run`` and ``meanfolio runs list / show / export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["pipeline_app", "run_with_progress", "runs_app"]

pipeline_app = typer.Typer(help="The end-to-end mean-field portfolio pipeline.", no_args_is_help=True)
runs_app = typer.Typer(help="Runs saved in the DuckDB result store.", no_args_is_help=True)
console = Console()
STORE = Annotated[Path, typer.Option("--store", help="The DuckDB result store.")]


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def run_with_progress(cfg, out=None):
    """Run the pipeline with a rich progress display and print the statistics; returns the result."""
    from meanfolio.pipeline import run_pipeline

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("pipeline", total=None)
        result = run_pipeline(cfg, progress=lambda stage: bar.update(task, description=stage), out=out)
    table = Table(title=f"backtest {result.summary['backtest']} (net of costs)")
    for col in (
        "strategy",
        "annual return",
        "volatility",
        "Sharpe",
        "Sharpe CI",
        "max drawdown",
        "turnover/yr",
        "cost/yr",
        "p (mean field vs)",
    ):
        table.add_column(col, justify="right")
    pvalues = result.statistics.get("mean_field", {}).get("sharpe_diff_pvalue", {})
    for name, s in result.statistics.items():
        table.add_row(name, f"{s['annual_return']:.2%}", f"{s['volatility']:.2%}", f"{s['sharpe']:.3f}",
                      f"[{s['sharpe_ci'][0]:.2f}, {s['sharpe_ci'][1]:.2f}]", f"{s['max_drawdown']:.1%}",
                      f"{s['turnover']:.2f}", f"{s['cost']:.2%}",
                      "" if name not in pvalues else f"{pvalues[name]:.3f}")  # fmt: skip
    console.print(table)
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
    store: Annotated[Path | None, typer.Option(help="Override the config's store file.")] = None,
) -> None:
    """Walk-forward backtest: the crowding game and skfolio baselines, costs, statistics, report."""
    from dataclasses import replace

    from meanfolio.pipeline import load_config

    try:
        cfg = load_config(config)
        if store is not None:
            cfg = replace(cfg, store=str(store))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    try:
        run_with_progress(cfg, out=out)
    except ValueError as exc:
        _fail(str(exc))


def _open(store: Path):
    from meanfolio.data import ResultStore

    if not store.is_file():
        _fail(f"store {str(store)!r} does not exist: run a pipeline first or pass --store")
    return ResultStore(store)


@runs_app.command("list")
def runs_list(store: STORE = Path("runs.duckdb")) -> None:
    """Every run, newest first."""
    with _open(store) as s:
        frame = s.list_runs()
    table = Table(title=f"runs in {store}")
    for col in frame.columns:
        table.add_column(col)
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v)[:19] if hasattr(v, "year") else str(v) for v in row))
    console.print(table)


@runs_app.command("show")
def runs_show(run_id: str, store: STORE = Path("runs.duckdb")) -> None:
    """A run's status, config and metric tables."""
    import json

    with _open(store) as s:
        try:
            rec = s.get_run(run_id)
        except KeyError as exc:
            _fail(str(exc.args[0]))
        console.print(f"[bold]{rec.run_id}[/bold]  {rec.kind}  status {rec.status}  created {rec.created}  "
                      f"finished {rec.finished}  {rec.message}")  # fmt: skip
        console.print_json(json.dumps(rec.config))
        for name, frame in s.metrics(run_id).items():
            table = Table(title=name)
            for col in frame.columns:
                table.add_column(col)
            for row in frame.iter_rows():
                table.add_row(*(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
            console.print(table)


@runs_app.command("export")
def runs_export(
    run_id: str,
    output: Annotated[Path, typer.Option(help="Folder to write config.json, metrics/*.csv, arrays/*.parquet.")],
    store: STORE = Path("runs.duckdb"),
) -> None:
    """Export a run to plain files."""
    with _open(store) as s:
        try:
            folder = s.export(run_id, output)
        except KeyError as exc:
            _fail(str(exc.args[0]))
        except ValueError as exc:  # a store whose paths leave its folders
            _fail(str(exc))
    console.print(f"run {run_id} exported to {folder}")
