"""``meanfolio mfg solve``: a 1D mean-field game from flags and/or a TOML file."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from meanfolio.mfg import MFGConfig, MFGSolution
from meanfolio.mfg.scenario import MFGScenario

from .common import check_figure_path, console, fail, note

__all__ = ["mfg_app", "summary_table", "write_outputs"]

mfg_app = typer.Typer(help="Mean-field games.", no_args_is_help=True)


def summary_table(title: str, sol: MFGSolution) -> Table:
    """The solve's grid, method, convergence, residual, mass error and time."""
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    s = sol.summary()
    c = sol.config
    rows = [
        ("grid (nt x nx)", f"{c.nt} x {c.nx} on \\[{c.x_min:g}, {c.x_max:g}], T = {c.time_horizon:g}"),
        ("method", s["method"]),
        ("converged", "yes" if s["converged"] else "[red]no[/red]"),
        ("iterations", str(s["iterations"])),
        ("GMRES iterations", str(s["gmres_iterations"])),
        ("final residual", f"{s['residual']:.3e}"),
        ("mass error", f"{s['mass_error']:.1e}"),
        ("min m", f"{s['min_m']:.2e}"),
        ("wall time", f"{s['wall_time_s']:.3f} s"),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def _progress_callback(quiet: bool):
    def report(iteration: int, residual: float) -> None:
        if not quiet:
            console.print(f"  iteration {iteration:4d}   residual {residual:.3e}", highlight=False)

    return report


def write_outputs(sol: MFGSolution, plot: Path | None, output: Path | None) -> None:
    """The heatmaps (PNG) and the arrays (NPZ), if asked."""
    if plot is not None:
        sol.plot(plot)
        note(f"figure written to {plot}")
    if output is not None:
        sol.save(output)
        note(f"arrays written to {output}")


@mfg_app.command("solve")
def mfg_solve(
    config_file: Annotated[
        Path | None, typer.Option("--config", help="TOML file with \\[config] and \\[model] tables.")
    ] = None,
    nx: Annotated[int | None, typer.Option(help="Space points.")] = None,
    nt: Annotated[int | None, typer.Option(help="Time points.")] = None,
    x_min: Annotated[float | None, typer.Option(help="Left end of the box.")] = None,
    x_max: Annotated[float | None, typer.Option(help="Right end of the box.")] = None,
    time_horizon: Annotated[float | None, typer.Option("--horizon", help="T.")] = None,
    viscosity: Annotated[float | None, typer.Option(help="nu >= 0.")] = None,
    tolerance: Annotated[float | None, typer.Option(help="Residual tolerance.")] = None,
    max_iterations: Annotated[int | None, typer.Option(help="Outer iteration cap.")] = None,
    relaxation: Annotated[float | None, typer.Option(help="Damping in (0, 1] (fixed point).")] = None,
    boundary: Annotated[str | None, typer.Option(help="neumann | periodic.")] = None,
    method: Annotated[
        str | None, typer.Option(help="newton | fixed_point | fictitious_play | policy_iteration.")
    ] = None,
    hamiltonian: Annotated[str | None, typer.Option(help="quadratic | linear\\[:SPEED] | power:EXP.")] = None,
    m0: Annotated[str | None, typer.Option(help="gaussian:MU,SIGMA (MU inside the grid) | uniform.")] = None,
    potential: Annotated[float | None, typer.Option(help="Running cost (c/2) x^2.")] = None,
    congestion: Annotated[float | None, typer.Option(help="Congestion scale s in s m^k.")] = None,
    congestion_power: Annotated[float | None, typer.Option(help="k in s m^k.")] = None,
    log_density: Annotated[float | None, typer.Option(help="Crowd aversion s log m.")] = None,
    mean_tracking: Annotated[float | None, typer.Option(help="(q/2)(x - mean m)^2.")] = None,
    market_impact: Annotated[float | None, typer.Option(help="-lam x mean(alpha).")] = None,
    terminal_quadratic: Annotated[float | None, typer.Option(help="g(x) = (c/2) x^2.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write heatmaps of u, m, alpha* here (.png, .pdf, .svg).")] = None,
    output: Annotated[Path | None, typer.Option(help="Save the arrays here (.npz).")] = None,
    max_memory: Annotated[
        str | None, typer.Option(help="Refuse grids needing more memory (e.g. 8G; 0: no limit; default 80 % of free).")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No per-iteration lines.")] = False,
) -> None:
    """Solve a 1D mean-field game; exits with code 1 if it does not converge."""
    values = {k: v for k, v in locals().items() if v is not None}
    check_figure_path("--plot", plot)
    if output is not None and output.suffix.lower() != ".npz":
        fail(f"--output = {str(output)!r} is not allowed: expected a file name ending in .npz")
    try:
        base = MFGScenario.from_toml(config_file) if config_file else MFGScenario()
        data = base.to_dict()
        for name in (f.name for f in fields(MFGConfig)):
            if name in values:
                data["config"][name] = values[name]
        model = {k: values.get(k, data[k]) for k in MFGScenario.model_fields()}
        scenario = MFGScenario.from_dict({"config": data["config"], "model": model})
        sol = scenario.solve(callback=_progress_callback(quiet), max_memory=max_memory)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    console.print(summary_table("mean-field game", sol))
    note(sol.message)
    write_outputs(sol, plot, output)
    if not sol.converged:
        raise typer.Exit(1)
