"""What every command shares: one-line errors (no traceback, no markup eaten), option checks that name the
option, the value and the allowed range, output paths checked before any work, and price sources
(``bundled:sp500`` or a file)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["FIGURE_SUFFIXES", "check_figure_path", "check_option", "console", "fail", "load_prices", "note"]

console = Console()
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on one line (brackets shown as written) and exit with ``code``."""
    console.print(f"[red]error:[/red] {escape(' '.join(str(message).split()))}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


def note(message: str) -> None:
    """Print a message as written (no markup)."""
    console.print(message, markup=False, highlight=False, soft_wrap=True)


def check_option(option: str, value, *, low=None, high=None, low_open: bool = False, integer: bool = False):
    """``value`` if it is a finite number within the bounds, else a one-line error naming ``option``, the value
    and the allowed range (e.g. ``--periods = 0.0 is not allowed: expected a number > 0``)."""
    kind = "an integer" if integer else "a number"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    allowed = f"{kind} {' and '.join(parts)}".strip() if parts else f"a finite {kind.split()[-1]}"
    ok = value is not None and math.isfinite(float(value))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        fail(f"{option} = {value!r} is not allowed: expected {allowed}")
    return value


def check_figure_path(option: str, path: Path | None) -> Path | None:
    """A figure path with a known image suffix whose folder can be created; checked before any work."""
    if path is None:
        return None
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        fail(f"{option} = {str(path)!r} is not allowed: expected a file name ending in {', '.join(FIGURE_SUFFIXES)}")
    if path.is_dir():
        fail(f"{option} = {str(path)!r} is a folder: expected a file name ending in {', '.join(FIGURE_SUFFIXES)}")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        fail(f"{option} = {str(path)!r} is not allowed: {str(parent)!r} is a file, not a folder")
    return path


def load_prices(source: str, *, date_format: str | None = None, column: str | None = None, decimal: str = "."):
    """A PriceTable from ``bundled:sp500`` (the stocks shipped with meanfolio) or a CSV/Parquet/Arrow path;
    prints what the reader decided (e.g. the price column of an OHLCV export)."""
    from meanfolio.data import load_sp500, read_prices

    if source.startswith("bundled:"):
        if source != "bundled:sp500":
            raise ValueError(f"prices = {source!r} is not allowed: expected 'bundled:sp500' or a file path")
        if date_format is not None or column is not None or decimal != ".":
            raise ValueError("--date-format, --column and --decimal apply to files, not to bundled:sp500")
        return load_sp500()
    table = read_prices(Path(source), date_format=date_format, column=column, decimal=decimal)
    for message in table.notes:
        note(f"note: {message}")
    return table
