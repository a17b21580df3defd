"""Benchmark convention: ours and a baseline in the same process, a table, JSON.

Each script builds a :class:`Report`, adds one row per case with the two
timings (seconds, best of a few runs after a warm-up) and any extra columns,
prints it and writes ``benchmarks/results/<name>.json``. Quote the ratio
(baseline / ours), not absolute times: machines are noisy.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def best_time(fn: Callable[[], Any], repeat: int = 3, warmup: bool = True) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls (after one untimed call if ``warmup``) and the last result."""
    if warmup:
        fn()
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


@dataclass
class Report:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, case: str, ours_s: float, baseline_s: float | None, **extra: Any) -> None:
        ratio = None if baseline_s is None or ours_s <= 0 else baseline_s / ours_s
        self.rows.append({"case": case, "ours_s": ours_s, "baseline_s": baseline_s, "ratio": ratio, **extra})

    def print(self) -> None:
        table = Table(title=f"benchmark: {self.name} (ratio = baseline time / ours)")
        columns = list(dict.fromkeys(k for row in self.rows for k in row))
        for col in columns:
            table.add_column(col, justify="left" if col == "case" else "right")
        for row in self.rows:
            table.add_row(*(_fmt(row.get(col)) for col in columns))
        Console(width=200).print(table)

    def write_json(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "processor": platform.processor(),
        }
        path.write_text(json.dumps({"name": self.name, "meta": meta, "rows": self.rows}, indent=2, default=str))
        return path


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)
