"""``meanfolio demo``: the pipeline on the bundled stocks, the allocation game, the MFG and kinetic showcases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from .common import console, fail, note
from .mfg import summary_table, write_outputs

__all__ = ["demo"]


def demo(
    output_dir: Annotated[Path, typer.Option(help="Folder for figures and arrays.")] = Path("demo_output"),
) -> None:
    """The portfolio pipeline on the bundled S&P 500 data, then the MFG and kinetic-model showcases."""
    from meanfolio.mfg import lq_reference, solve_mfg
    from meanfolio.mfg.examples import lq_example, seed_example
    from meanfolio.pipeline import PipelineConfig
    from meanfolio.pipeline.cli import run_with_progress

    if output_dir.exists() and not output_dir.is_dir():
        fail(f"--output-dir = {str(output_dir)!r} is a file: expected a folder")
    output_dir.mkdir(parents=True, exist_ok=True)
    # 0. The backtest: the crowding game and the skfolio baselines, 1995-2022, monthly, 10 bp (examples/pipeline.yaml).
    cfg = PipelineConfig.from_dict({"store": str(output_dir / "runs.duckdb"),
                                    "sweep": {"crowding": [0.05, 0.2], "trading_cost": [1e-4, 2e-3]}})  # fmt: skip
    pipeline = run_with_progress(cfg, out=output_dir / "pipeline")
    # 0b. The headline game: N portfolio managers under crowding on the same stocks.
    from meanfolio.games.cli import allocation

    allocation(out=output_dir / "games")
    # 1. The seed example, with a two-bump crowd confined by the cost x^2/2.
    x = np.linspace(-5, 5, 200)
    sol = solve_mfg(**seed_example(m0=np.exp(-((x - 1.5) ** 2) / 0.5) + 0.5 * np.exp(-((x + 2) ** 2))))
    console.print(summary_table("seed example: confinement x^2/2", sol))
    write_outputs(sol, output_dir / "seed_example.png", output_dir / "seed_example.npz")
    # 2. The LQ game with mean coupling, against its exact solution.
    lq = lq_reference()
    table = Table(
        title="LQ game vs closed form (mean and variance of m at T)",
        caption="the first solve includes the one-off numba compilation (cached on disk afterwards)",
    )
    for col in ("nx x nt", "Newton its", "mean err", "var err", "time s"):
        table.add_column(col, justify="right")
    ok = sol.converged
    for nx, nt in ((100, 50), (200, 100), (400, 200)):
        s = solve_mfg(**lq_example(nx, nt, lq))
        xs, dx = s.x, s.x[1] - s.x[0]
        mean = (xs * s.m[-1]).sum() * dx
        var = (xs**2 * s.m[-1]).sum() * dx - mean**2
        table.add_row(f"{nx} x {nt}", str(s.iterations), f"{abs(mean - lq.mean(1.0)):.2e}",
                      f"{abs(var - lq.variance(1.0)):.2e}", f"{s.wall_time:.3f}")  # fmt: skip
        ok &= s.converged
    console.print(table)
    s.plot(output_dir / "lq_game.png")
    # 3. The kinetic portfolio model: the paper's figures from the presets.
    from meanfolio.kinetic.figures import make_figures

    with console.status("kinetic model: drawing the paper's figures 2-10") as status:
        make_figures(output_dir / "kinetic", agents=2_000, seed=1, progress=lambda msg: status.update(msg))
    note(f"figures written to {output_dir}/ and {output_dir}/kinetic/")
    console.print(f"pipeline report: [bold]{pipeline.report}[/bold]")
    if not ok:
        raise typer.Exit(1)
