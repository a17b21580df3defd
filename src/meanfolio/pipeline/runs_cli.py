"""``meanfolio runs list / show / export``: runs of the DuckDB result store, opened read-only.

Runs are addressed by their full id (``runs list`` prints it whole) or a
unique prefix; a store held by another process is a one-line error naming
it, or a wait with ``--wait SECONDS``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["STORE", "WAIT", "fail", "open_store", "runs_app"]

runs_app = typer.Typer(help="Runs saved in the DuckDB result store.", no_args_is_help=True)
console = Console()
STORE = Annotated[Path, typer.Option("--store", help="The DuckDB result store (.duckdb).")]
WAIT = Annotated[
    float,
    typer.Option("--wait", help="Seconds (>= 0) to wait for a store that another process holds (default: none)."),
]


def fail(message: str) -> NoReturn:
    """Print ``error: message`` on one line (no markup interpretation) and exit with code 2."""
    console.print(f"[red]error:[/red] {_escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def open_store(store: Path, wait: float = 0.0):
    """The store opened read-only, or a one-line error (missing, not a store, held by another process)."""
    from meanfolio.commands.common import check_option
    from meanfolio.data import ResultStore, StoreBusyError

    check_option("--wait", wait, low=0)
    try:
        return ResultStore(store, read_only=True, wait=wait)
    except (ValueError, StoreBusyError) as exc:
        fail(str(exc))


@runs_app.command("list")
def runs_list(store: STORE = Path("runs.duckdb"), wait: WAIT = 0.0) -> None:
    """Every run, newest first, with its full id (show and export accept any unique prefix of it)."""
    with open_store(store, wait) as s:
        frame = s.list_runs()
    table = Table(title=f"runs in {store}")
    for col in frame.columns:
        table.add_column(col, no_wrap=col == "run_id", overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v)[:19] if hasattr(v, "year") else str(v) for v in row))
    console.print(table, crop=False)


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    store: STORE = Path("runs.duckdb"),
    wait: WAIT = 0.0,
) -> None:
    """A run's status, config and metric tables."""
    with open_store(store, wait) as s:
        try:
            rec = s.get_run(run_id)
        except KeyError as exc:
            fail(str(exc.args[0]))
        console.print(f"[bold]{rec.run_id}[/bold]  {rec.kind}  status {rec.status}  created {rec.created}  "
                      f"finished {rec.finished}  {_escape(rec.message)}")  # fmt: skip
        console.print_json(json.dumps(rec.config))
        for name, frame in s.metrics(rec.run_id).items():
            table = Table(title=name)
            for col in frame.columns:
                table.add_column(col)
            for row in frame.iter_rows():
                table.add_row(*(f"{v:.6g}" if isinstance(v, float) else _escape(str(v)) for v in row))
            console.print(table)


@runs_app.command("export")
def runs_export(
    run_id: Annotated[str, typer.Argument(help="A run id or a unique prefix of one.")],
    output: Annotated[Path, typer.Option(help="Folder for config.json, metrics/*.csv, arrays/*.parquet, report/.")],
    store: STORE = Path("runs.duckdb"),
    wait: WAIT = 0.0,
) -> None:
    """Export a run to plain files, its HTML report and figures included."""
    if output.exists() and not output.is_dir():
        fail(f"--output = {str(output)!r} is a file: expected a folder")
    with open_store(store, wait) as s:
        try:
            full = s.resolve(run_id)
            folder = s.export(full, output)
            report = sorted(s.files(full))
        except KeyError as exc:
            fail(str(exc.args[0]))
        except ValueError as exc:  # a store whose paths leave its folders
            fail(str(exc))
    console.print(f"run {full} exported to {folder}" + (f" (report/: {', '.join(report)})" if report else ""))
