"""``meanfolio sweep run sweep.yaml``: a sweep on Dask with a progress bar, resume and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meanfolio.data.store import check_store_path

__all__ = ["load_sweep_config", "sweep_app"]

sweep_app = typer.Typer(help="Parameter sweeps and ensembles on Dask.", no_args_is_help=True)
console = Console()
KEYS = {"function", "grid", "seeds", "chunk_size", "store", "scheduler", "threads_per_task", "plot"}


def load_sweep_config(path: Path) -> dict[str, Any]:
    """Read and check a sweep YAML file (see ``examples/sweep_mfg.yaml``)."""
    import yaml

    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist: expected a YAML file")
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name} holds a {type(raw).__name__}: expected a mapping")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise ValueError(f"unknown sweep settings {unknown}: expected some of {sorted(KEYS)}")
    for key in ("function", "grid"):
        if key not in raw:
            raise ValueError(f"{path.name} has no {key!r}: expected function and grid")
    if "store" in raw:
        check_store_path(raw["store"])  # store: null or x.csv is refused, never a file named "None"
    return raw


@sweep_app.command("run")
def sweep_run(
    config: Annotated[Path, typer.Argument(help="Sweep YAML (see examples/sweep_mfg.yaml).")],
    scheduler: Annotated[str | None, typer.Option(help="Address of a Dask scheduler, e.g. tcp://host:8786.")] = None,
    store: Annotated[Path | None, typer.Option(help="Override the config's DuckDB store.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the phase plot of the config's 'plot' entry here.")] = None,
    dashboard_address: Annotated[
        str, typer.Option(help="Where the local cluster's Dask dashboard listens (HOST:PORT; localhost by default).")
    ] = "127.0.0.1:0",
) -> None:
    """Run (or resume) a sweep: finished points are skipped, results stream into the store.

    A first Ctrl-C stops cleanly (finished points are kept; run again to resume), a second one kills."""
    from meanfolio.data import StoreBusyError
    from meanfolio.scale import load_sweep, phase_plot, sweep

    try:
        cfg = load_sweep_config(config)
        store_path = check_store_path(store or cfg.get("store", "sweeps.duckdb"))
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:  # fmt: skip
        task = bar.add_task("sweep", total=None)
        shown = []

        def progress(finished: int, total: int, dashboard: str) -> None:
            if not shown:
                shown.append(True)
                bar.console.print(f"Dask dashboard: {dashboard}")
            bar.update(task, completed=finished, total=total)

        try:
            res = sweep(cfg["function"], cfg["grid"], cfg.get("seeds", 1), client=scheduler or cfg.get("scheduler"),
                        store=store_path, chunk_size=cfg.get("chunk_size"),
                        threads_per_task=cfg.get("threads_per_task", 1), progress=progress,
                        dashboard_address=dashboard_address, announce=bar.console.print)  # fmt: skip
        except (ValueError, StoreBusyError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from exc
    table = Table(title=f"sweep {res.function}: {res.total} points, {res.tasks} tasks on {res.workers} workers")
    for col in ("done now", "failed", "skipped (done before)", "wall s", "task s"):
        table.add_column(col, justify="right")
    table.add_row(str(res.done), str(len(res.failed)), str(res.skipped), f"{res.wall_time:.1f}",
                  f"{res.task_seconds:.1f}")  # fmt: skip
    console.print(table)
    for f in res.failed[:10]:
        console.print(f"[red]failed[/red] {f['params']} seed {f['seed']}: {f['error']}")
    if res.interrupted:
        console.print("interrupted: run the same command again to compute the missing points")
    spec = cfg.get("plot")
    if plot is not None and spec:
        frame = load_sweep(store_path, res.function)
        phase_plot(frame, spec["x"], spec["metric"], y=spec.get("y"), path=plot)
        console.print(f"phase plot written to {plot}")
    console.print(f"store: {store_path}")
    if res.interrupted:
        raise typer.Exit(130)
    if res.failed:
        raise typer.Exit(1)
