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


def run_with_progress(cfg):
    """Run the pipeline with a rich progress bar and print the summary; returns the result."""
    from meanfolio.pipeline import run_pipeline

    stages = 4 + cfg.report.folds
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console) as bar:  # fmt: skip
        task = bar.add_task("pipeline", total=stages)
        seen = []

        def step(stage: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(stage)
            bar.update(task, description=stage)

        result = run_pipeline(cfg, progress=step)
        bar.update(task, completed=stages, description="done")
    table = Table(title=f"pipeline run {result.run_id}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for row in result.tables["summary"].iter_rows():
        table.add_row(*row)
    console.print(table)
    metrics = Table(title="Sharpe ratio: in-sample (whole history) / out-of-sample (walk-forward)")
    for col in ("portfolio", "in-sample", "out-of-sample"):
        metrics.add_column(col, justify="right")
    for row in result.tables["metrics"].filter(result.tables["metrics"]["metric"] == "sharpe").iter_rows(named=True):
        metrics.add_row(row["portfolio"], f"{row['in_sample']:.3f}", f"{row['out_of_sample']:.3f}")
    console.print(metrics)
    console.print(f"report: [bold]{result.report}[/bold]   store: {cfg.store} (run {result.run_id})")
    return result


@pipeline_app.command("run")
def pipeline_run(
    config: Annotated[Path, typer.Argument(help="YAML config (see examples/pipeline.yaml).")],
    store: Annotated[Path | None, typer.Option(help="Override the config's store file.")] = None,
    output_dir: Annotated[Path | None, typer.Option(help="Override the config's report folder.")] = None,
) -> None:
    """Regimes -> mean-field equilibrium -> differential-evolution weights -> risk report."""
    from dataclasses import replace

    from meanfolio.pipeline import load_config

    try:
        cfg = load_config(config)
        if store is not None:
            cfg = replace(cfg, store=str(store))
        if output_dir is not None:
            cfg = replace(cfg, report=replace(cfg.report, output_dir=str(output_dir)))
    except ValueError as exc:
        _fail(str(exc))
    try:
        run_with_progress(cfg)
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
    console.print(f"run {run_id} exported to {folder}")
