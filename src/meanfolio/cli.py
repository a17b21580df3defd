"""The ``meanfolio`` command (typer + rich)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from meanfolio import __version__
from meanfolio.games.cli import games_app
from meanfolio.kinetic.cli import kinetic_app
from meanfolio.mfg import MFGConfig, MFGSolution, solve_mfg
from meanfolio.mfg.scenario import MFGScenario
from meanfolio.pipeline.cli import pipeline_app, run_with_progress, runs_app
from meanfolio.risk.cli import regimes_app, risk_app
from meanfolio.scale.cli import sweep_app

app = typer.Typer(help="meanfolio: mean-field models of portfolios and markets.", no_args_is_help=True)
mfg_app = typer.Typer(help="Mean-field games.", no_args_is_help=True)
app.add_typer(mfg_app, name="mfg")
app.add_typer(kinetic_app, name="kinetic")
app.add_typer(games_app, name="games")
app.add_typer(risk_app, name="risk")
app.add_typer(regimes_app, name="regimes")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(runs_app, name="runs")
app.add_typer(sweep_app, name="sweep")
console = Console()


def _version(value: bool) -> None:
    if value:
        console.print(f"meanfolio {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """meanfolio: mean-field models of portfolios and markets."""


def _summary_table(title: str, sol: MFGSolution) -> Table:
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    s = sol.summary()
    c = sol.config
    rows = [
        ("grid (nt x nx)", f"{c.nt} x {c.nx} on [{c.x_min:g}, {c.x_max:g}], T = {c.time_horizon:g}"),
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


def _write_outputs(sol: MFGSolution, plot: Path | None, output: Path | None) -> None:
    if plot is not None:
        sol.plot(plot)
        console.print(f"figure written to {plot}")
    if output is not None:
        sol.save(output)
        console.print(f"arrays written to {output}")


@mfg_app.command("solve")
def mfg_solve(
    config_file: Annotated[Path | None, typer.Option("--config", help="TOML file with [config] and [model].")] = None,
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
    hamiltonian: Annotated[str | None, typer.Option(help="quadratic | linear[:SPEED] | power:EXP.")] = None,
    m0: Annotated[str | None, typer.Option(help="gaussian:MU,SIGMA | uniform.")] = None,
    potential: Annotated[float | None, typer.Option(help="Running cost (c/2) x^2.")] = None,
    congestion: Annotated[float | None, typer.Option(help="Congestion scale s in s m^k.")] = None,
    congestion_power: Annotated[float | None, typer.Option(help="k in s m^k.")] = None,
    log_density: Annotated[float | None, typer.Option(help="Crowd aversion s log m.")] = None,
    mean_tracking: Annotated[float | None, typer.Option(help="(q/2)(x - mean m)^2.")] = None,
    market_impact: Annotated[float | None, typer.Option(help="-lam x mean(alpha).")] = None,
    terminal_quadratic: Annotated[float | None, typer.Option(help="g(x) = (c/2) x^2.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write heatmaps of u, m, alpha* here (PNG).")] = None,
    output: Annotated[Path | None, typer.Option(help="Save the arrays here (.npz).")] = None,
    quiet: Annotated[bool, typer.Option(help="No per-iteration lines.")] = False,
) -> None:
    """Solve a 1D mean-field game; exits with code 1 if it does not converge."""
    values = {k: v for k, v in locals().items() if v is not None}
    try:
        base = MFGScenario.from_toml(config_file) if config_file else MFGScenario()
        data = base.to_dict()
        for name in (f.name for f in fields(MFGConfig)):
            if name in values:
                data["config"][name] = values[name]
        for name in MFGScenario.model_fields():
            if name in values:
                data["model"] = data.get("model", {})
                data[name] = values[name]
        model = {k: data[k] for k in MFGScenario.model_fields()}
        scenario = MFGScenario.from_dict({"config": data["config"], "model": model})
    except (ValueError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    sol = scenario.solve(callback=_progress_callback(quiet))
    console.print(_summary_table("mean-field game", sol))
    console.print(sol.message)
    _write_outputs(sol, plot, output)
    if not sol.converged:
        raise typer.Exit(1)


@app.command()
def lab(
    port: Annotated[int, typer.Option(help="Port on localhost.", min=1, max=65535)] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind (localhost by default).")] = "localhost",
) -> None:
    """Start the meanfolio lab (Streamlit) in the browser at http://ADDRESS:PORT."""
    from meanfolio.lab import run_lab

    console.print(f"meanfolio lab on http://{address}:{port}  (Ctrl-C to stop)")
    raise typer.Exit(run_lab(port, address))


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option(help="Folder for figures and arrays.")] = Path("demo_output"),
) -> None:
    """The portfolio pipeline on the bundled S&P 500 data, then the MFG and kinetic-model showcases."""
    from meanfolio.mfg import lq_reference
    from meanfolio.mfg.examples import lq_example, seed_example
    from meanfolio.pipeline import PipelineConfig

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
    console.print(_summary_table("seed example: confinement x^2/2", sol))
    _write_outputs(sol, output_dir / "seed_example.png", output_dir / "seed_example.npz")
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
        table.add_row(
            f"{nx} x {nt}",
            str(s.iterations),
            f"{abs(mean - lq.mean(1.0)):.2e}",
            f"{abs(var - lq.variance(1.0)):.2e}",
            f"{s.wall_time:.3f}",
        )
        ok &= s.converged
    console.print(table)
    s.plot(output_dir / "lq_game.png")
    # 3. The kinetic portfolio model: the paper's figures from the presets.
    from meanfolio.kinetic.figures import make_figures

    with console.status("kinetic model: drawing the paper's figures 2-10") as status:
        make_figures(output_dir / "kinetic", agents=20_000, seed=1, progress=lambda msg: status.update(msg))
    console.print(f"figures written to {output_dir}/ and {output_dir}/kinetic/")
    console.print(f"pipeline report: [bold]{pipeline.report}[/bold]")
    if not ok:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
