"""``meanfolio kinetic ...``: run a preset, or draw the paper's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .params import PRESETS, preset
from .simulate import KineticStabilityError, simulate
from .stylized import log_returns, stylized_facts

kinetic_app = typer.Typer(help="The kinetic portfolio model (Trimborn, Pareschi & Frank).", no_args_is_help=True)
console = Console()


@kinetic_app.command("run")
def run(
    preset_name: Annotated[str, typer.Option("--preset", help=f"One of: {', '.join(PRESETS)}.")],
    agents: Annotated[int, typer.Option(help="Number of agents.")] = 10_000,
    steps: Annotated[int, typer.Option(help="Number of time steps.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    model: Annotated[str, typer.Option(help="kinetic | microscopic.")] = "kinetic",
    out: Annotated[Path, typer.Option(help="Folder for the Parquet series and NPZ samples.")] = Path("kinetic_out"),
) -> None:
    """Simulate a preset; save the time series (Parquet) and final samples (NPZ)."""
    try:
        params = preset(preset_name)
        n = 0 if params.freeze_wealth else agents
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"), TimeRemainingColumn(),
            console=console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(preset_name, total=steps)
            result = simulate(
                params, n, steps, seed=seed, model=model, chunk=max(1, steps // 100),
                callback=lambda done, total: bar.update(task, completed=done),
            )  # fmt: skip
    except (ValueError, KineticStabilityError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    paths = result.save(out, stem=preset_name)
    table = Table(title=f"kinetic model: {preset_name} ({result.model}, {n} agents, {result.completed_steps} steps)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    s = result.series
    k = result.completed_steps
    rows = [
        ("final time", f"{s['t'][k]:.3g}"),
        ("price S / fundamental s_f", f"{s['S'][k]:.4g} / {s['s_f'][k]:.4g}"),
        ("mean stock X / bond Y wealth", f"{s['X'][k]:.4g} / {s['Y'][k]:.4g}"),
        ("refused interactions (mean fraction)", f"{result.refused_fraction:.2e}"),
        (
            "wall time",
            f"{result.wall_time:.2f} s ({n * k / max(result.wall_time, 1e-9) / 1e6:.1f} M agent-steps/s)",
        ),
    ]
    facts = stylized_facts(log_returns(s["S"][: k + 1]))
    rows += [
        ("price log returns: excess kurtosis", f"{facts['excess_kurtosis']:.2f}"),
        ("price log returns: Jarque-Bera p", f"{facts['jarque_bera_p']:.2e}"),
        ("price log returns: Hill index (|r|)", f"{facts['hill_index_both_tails']:.2f}"),
        ("acf(|r|) at lag 1", f"{facts['acf_abs_returns'][0]:.3f}"),
    ]
    if params.n_brokers:
        b = result.broker_prices
        rows.append(("broker prices: mean / std", f"{b.mean():.4g} / {b.std():.3g}"))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(result.message)
    console.print(f"series written to {paths['series']}, samples to {paths['samples']}")


@kinetic_app.command("figures")
def figures(
    out: Annotated[Path, typer.Option(help="Folder for the PNG figures.")] = Path("kinetic_figures"),
    agents: Annotated[int, typer.Option(help="Agents per run.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Reproduce the paper's figures 2-10 as PNG files."""
    from .figures import make_figures

    with console.status("drawing figures") as status:
        paths = make_figures(out, agents=agents, seed=seed, progress=lambda msg: status.update(msg))
    for p in paths:
        console.print(f"wrote {p}")
