"""``meanfolio kinetic ...``: run a preset, draw the paper's figures, the findings table, calibrate."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from meanfolio._validation import check_integer

from .params import PRESETS, parse_overrides, preset
from .simulate import KineticStabilityError, simulate
from .stylized import log_returns, stylized_facts

kinetic_app = typer.Typer(help="The kinetic portfolio model (Trimborn, Pareschi & Frank).", no_args_is_help=True)
console = Console()

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter, NAME=VALUE (repeatable), e.g. --set kappa=1.5."),
]


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


def check_writable(folder: Path, name: str = "--out") -> Path:
    """Check, before any work and without creating anything, that ``folder`` can be created and written."""
    probe = folder.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        why = "is a file" if probe.is_file() else "is not writable"
        raise ValueError(f"{name} = {str(folder)!r} is not allowed ({probe} {why}): expected a writable folder")
    return folder


def check_writable_file(path: Path, name: str = "--json") -> Path:
    """Check that ``path`` can be written (no folder is created here)."""
    if path.is_dir():
        raise ValueError(f"{name} = {str(path)!r} is not allowed: expected a file path, not a folder")
    check_writable(path.parent, name)
    return path


@kinetic_app.command("run")
def run(
    preset_name: Annotated[str, typer.Option("--preset", help=f"One of: {', '.join(PRESETS)}.")],
    agents: Annotated[int, typer.Option(help="Number of agents.")] = 10_000,
    steps: Annotated[int, typer.Option(help="Number of time steps.")] = 5_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    model: Annotated[str, typer.Option(help="kinetic | microscopic.")] = "kinetic",
    out: Annotated[Path, typer.Option(help="Folder for the Parquet series and NPZ samples.")] = Path("kinetic_out"),
    overrides: SetOption = None,
    max_memory: Annotated[str | None, typer.Option(
        "--max-memory", help="Refuse a run needing more memory, e.g. 32G ('0': no limit; default: 80% of free)."
    )] = None,
) -> None:
    """Simulate a preset; save the time series (Parquet) and final samples (NPZ)."""
    from .findings import observed

    try:
        params = preset(preset_name, **parse_overrides(overrides))
        n = 0 if params.freeze_wealth else agents
        if n < 1 and not params.freeze_wealth:
            raise ValueError(f"--agents = {agents} is not allowed: expected an integer >= 1")
        check_writable(out)
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"), TimeRemainingColumn(),
            console=console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task(preset_name, total=steps)
            result = simulate(
                params, n, steps, seed=seed, model=model, chunk=max(1, steps // 100),
                callback=lambda done, total: bar.update(task, completed=done), max_memory=max_memory,
            )  # fmt: skip
        daily = observed(result)
    except (ValueError, KineticStabilityError) as exc:
        raise _fail(exc) from exc
    paths = result.save(out, stem=preset_name)
    table = Table(title=f"kinetic model: {preset_name} ({result.model}, {n} agents, {result.completed_steps} steps)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    s = result.series
    k = result.completed_steps
    units = max(n, params.n_brokers) * k
    rows = [
        ("final time", f"{s['t'][k]:.3g}"),
        ("price S / fundamental s_f", f"{s['S'][k]:.4g} / {s['s_f'][k]:.4g}"),
        ("mean stock X / bond Y wealth", f"{s['X'][k]:.4g} / {s['Y'][k]:.4g}"),
        ("refused interactions (mean fraction)", f"{result.refused_fraction:.2e}"),
        ("wall time (JIT excluded)",
         f"{result.wall_time:.2f} s ({units / max(result.wall_time, 1e-9) / 1e6:.1f} M agent-steps/s)"),
    ]  # fmt: skip
    if daily.size > 5:
        facts = stylized_facts(log_returns(daily))
        rows += [
            (f"daily log returns (every {params.observation_interval:g}): n", f"{facts['n']}"),
            ("daily log returns: excess kurtosis", f"{facts['excess_kurtosis']:.2f}"),
            ("daily log returns: Jarque-Bera p", f"{facts['jarque_bera_p']:.2e}"),
            ("daily log returns: Hill index (|r|)", f"{facts['hill_index_both_tails']:.2f}"),
            ("acf(r) / acf(|r|) at lag 1", f"{facts['acf_returns'][0]:.3f} / {facts['acf_abs_returns'][0]:.3f}"),
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
    agents: Annotated[int, typer.Option(help="Agents per run.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    overrides: SetOption = None,
    quick: Annotated[bool, typer.Option(help="Shorter runs (noisier statistics).")] = False,
) -> None:
    """Reproduce the paper's figures 2-10 as PNG files (numbered as in the paper)."""
    from .figures import make_figures

    try:
        check_integer("agents", agents, low=100)
        changes = parse_overrides(overrides)
        check_writable(out)
        with console.status("drawing figures") as status:
            paths = make_figures(out, agents=agents, seed=seed, progress=lambda msg: status.update(msg),
                                 overrides=changes, quick=quick)  # fmt: skip
    except (ValueError, KineticStabilityError) as exc:
        raise _fail(exc) from exc
    for p in paths:
        console.print(f"wrote {p}")


@kinetic_app.command("findings")
def findings_cmd(
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds.")] = "1,2,3",
    agents: Annotated[int, typer.Option(help="Agents per run.")] = 2000,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the table as JSON here.")] = None,
    overrides: SetOption = None,
    quick: Annotated[bool, typer.Option(help="Shorter runs (noisier statistics).")] = False,
) -> None:
    """The paper's six findings: statistic, paper's claim, measured value (per seed) and whether it holds."""
    from .findings import findings

    try:
        check_integer("agents", agents, low=100)
        changes = parse_overrides(overrides)
        try:
            seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"--seeds = {seeds!r} is not allowed: expected comma-separated integers") from None
        if json_path is not None:
            check_writable_file(json_path)
        with console.status("measuring the findings") as status:
            rows = findings(seed_list, agents=agents, progress=lambda msg: status.update(msg), quick=quick,
                            overrides=changes)  # fmt: skip
    except (ValueError, KineticStabilityError) as exc:
        raise _fail(exc) from exc
    table = Table(title=f"kinetic model: the paper's findings (seeds {seeds})", show_lines=True)
    for col in ("finding", "figure", "statistic", "paper's claim", "measured", "holds"):
        table.add_column(col, overflow="fold")
    for r in rows:
        holds = "[green]yes[/green]" if r.holds else f"[red]no[/red]: {r.reason}"
        table.add_row(f"{r.finding}. {r.title}", r.figure, r.statistic, r.claim, r.measured, holds)
    console.print(table)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"findings": [r.to_dict() for r in rows]}, indent=2, default=float))
        console.print(f"table written to {json_path}")


@kinetic_app.command("calibrate")
def calibrate_cmd(
    data: Annotated[
        str,
        typer.Option(
            help="'bundled' (equal-weight index of the bundled S&P 500 stocks) or a "
            "price file (CSV, Parquet, Arrow; several columns: equal weight)."
        ),
    ] = "bundled",  # fmt: skip
    max_evals: Annotated[int, typer.Option(help="Candidates the optimiser may try (L-SHADE budget).")] = 240,
    paths: Annotated[int, typer.Option(help="Simulated paths (of the data's length) per candidate.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed: the common random numbers and the optimiser.")] = 0,
    extension: Annotated[
        bool, typer.Option(help="Also fit the slowly varying broker noise (not in the paper).")
    ] = False,  # fmt: skip
    out: Annotated[Path | None, typer.Option(help="Folder for calibration.json and the figures.")] = None,
    days: Annotated[int | None, typer.Option(help="Fit the last DAYS returns only (default: all).")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address: simulate on the cluster.")
    ] = None,  # fmt: skip
) -> None:
    """Fit the model to daily index returns by the simulated method of moments (L-SHADE, common random numbers)."""
    from .calibrate import bundled_index_returns, calibrate, calibration_figures, returns_from_file

    client = None
    try:
        if out is not None:
            check_writable(out)
        if data == "bundled":
            r, name = bundled_index_returns()[0], "bundled: equal-weight index of the 20 bundled S&P 500 stocks"
        else:
            if not Path(data).is_file():
                raise ValueError(f"--data = {data!r} is not allowed: expected 'bundled' or an existing price file")
            r, name = returns_from_file(data), data
        if days is not None:
            if not 250 <= days <= r.size:
                raise ValueError(f"--days = {days} is not allowed: expected 250 <= days <= {r.size}")
            r, name = r[-days:], f"{name}, last {days} days"
        if scheduler is not None:
            from dask.distributed import Client

            client = Client(scheduler)
        with console.status("calibrating") as status:
            cal = calibrate(r, max_evals=max_evals, seed=seed, extension=extension, client=client, data_name=name,
                            paths=paths,
                            progress=lambda msg: status.update(msg))  # fmt: skip
    except (ValueError, KineticStabilityError, OSError) as exc:
        raise _fail(exc) from exc
    finally:
        if client is not None:
            client.close()
    table = Table(title=f"kinetic model calibrated to {name} ({r.size} daily returns)")
    for col in ("moment", "target (data se)", "simulated, fresh seeds (MC se)", "on the fitting paths"):
        table.add_column(col, justify="right")
    for key in ("volatility", "excess_kurtosis", "hill", "acf1"):
        table.add_row(key, f"{cal.targets[key]:.4g} ({cal.data_se[key]:.2g})",
                      f"{cal.simulated[key]:.4g} ({cal.mc_se[key]:.2g})", f"{cal.simulated_fit[key]:.4g}")  # fmt: skip
    for lag in (1, 2, 5, 10, 20):
        i = lag - 1
        table.add_row(f"acf_abs lag {lag}", f"{cal.targets['acf_abs'][i]:.3f} ({cal.data_se['acf_abs'][i]:.2g})",
                      f"{cal.simulated['acf_abs'][i]:.3f} ({cal.mc_se['acf_abs'][i]:.2g})",
                      f"{cal.simulated_fit['acf_abs'][i]:.3f}")  # fmt: skip
    console.print(table)
    console.print("fitted parameters: " + ", ".join(f"{k} = {v:.4g}" for k, v in cal.params.items()))
    console.print(f"J = {cal.j_statistic:.2f} on {cal.j_df} degrees of freedom (p = {cal.j_pvalue:.2e}); "
                  f"{cal.nfev} simulations in {cal.seconds:.0f} s")  # fmt: skip
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "calibration.json").write_text(json.dumps(cal.to_json(), indent=2, default=float))
        for p in calibration_figures(cal, out):
            console.print(f"wrote {p}")
        console.print(f"wrote {out / 'calibration.json'}")
