"""``meanfolio games ...``: the finance mean-field games, their key numbers and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

games_app = typer.Typer(help="Finance mean-field games solved exactly.", no_args_is_help=True)
console = Console()

OutOption = Annotated[Path | None, typer.Option("--out", help="Folder for the figures (PNG).")]


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2) from exc


def _check_out(out: Path | None) -> Path | None:
    """Create --out before any work, so an unwritable folder fails first, not after the run."""
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"--out = {str(out)!r} is not writable: {exc}") from exc
    return out


def _print_nash(nash) -> None:
    table = Table(title=f"epsilon-Nash of the mean-field strategy ({nash.game})")
    table.add_column("N", justify="right")
    table.add_column("gain of a best response", justify="right")
    for n, gap in zip(nash.n_players, nash.gap, strict=True):
        table.add_row(str(n), f"{gap:.3e}")
    console.print(table)
    console.print(
        f"fitted slope {nash.fitted_rate:.3f} (N >= {nash.fit_from}), derived {nash.derived_rate:g}: {nash.derivation}"
    )


def _save(fig, out: Path, name: str, written: list[Path]) -> None:
    from meanfolio.plotting import save_figure

    written.append(save_figure(fig, out / name))


@games_app.command("allocation")
def allocation(
    start: Annotated[str, typer.Option(help="First date of the estimation window (ISO).")] = "2015-01-01",
    end: Annotated[str | None, typer.Option(help="Last date (ISO); default: the end of the data.")] = None,
    assets: Annotated[str | None, typer.Option(help="Comma-separated tickers (default: all 20).")] = None,
    risk_aversion: Annotated[float, typer.Option(help="gamma > 0.")] = 3.0,
    crowding: Annotated[float, typer.Option(help="lam >= 0: return lost per unit of crowd holding.")] = 0.1,
    trading_cost: Annotated[float, typer.Option(help="kappa > 0: cost (kappa/2)|alpha|^2.")] = 0.05,
    dispersion: Annotated[float, typer.Option(help="eta >= 0: penalty for standing apart.")] = 0.05,
    horizon: Annotated[float, typer.Option(help="T > 0 in years.")] = 1.0,
    volatility: Annotated[float, typer.Option(help="sigma >= 0: order-flow noise on holdings.")] = 0.1,
    players: Annotated[int, typer.Option(help="N for the N-player equilibrium column.")] = 10,
    out: OutOption = None,
) -> None:
    """Markowitz, mean-field, N-player and cooperative holdings on the bundled S&P 500 stocks."""
    from meanfolio.data import load_sp500
    from meanfolio.games import AllocationGame, solve_allocation_pde

    try:
        out = _check_out(out)
        tickers = None if assets is None else [a.strip() for a in assets.split(",") if a.strip()]
        table = load_sp500(tickers, start, end)
        returns, _ = table.returns("simple")
        game = AllocationGame.from_returns(
            returns, assets=table.tickers, risk_aversion=risk_aversion, crowding=crowding, trading_cost=trading_cost,
            dispersion=dispersion, horizon=horizon, volatility=volatility,
        )  # fmt: skip
        columns = {
            "Markowitz": game.markowitz(),
            "mean field": game.equilibrium(),
            f"N = {players}": game.equilibrium(players),
            "cooperative": game.cooperative(),
        }
        x0 = np.zeros(game.n_assets)
        solution = game.solve(x0, 200)
        nash = game.epsilon_nash(x0)
    except ValueError as exc:
        _fail(exc)
    weights = Table(title=f"holdings (fraction of wealth), {len(returns)} daily returns from {table.dates[0]}")
    weights.add_column("asset")
    for name in columns:
        weights.add_column(name, justify="right")
    for i, name in enumerate(game.names):
        weights.add_row(name, *(f"{w[i]:+.3f}" for w in columns.values()))
    weights.add_row("[bold]total", *(f"[bold]{w.sum():+.3f}" for w in columns.values()))
    console.print(weights)
    key = Table(title="allocation game")
    key.add_column("quantity")
    key.add_column("value", justify="right")
    for row in (
        ("welfare, mean field / cooperative", f"{game.welfare(columns['mean field']):.4f} / "
         f"{game.welfare(columns['cooperative']):.4f}"),
        ("price of anarchy (cooperative / mean-field welfare)", f"{game.price_of_anarchy():.4f}"),
        ("shrinkage of the largest principal portfolio vs Markowitz",
         f"{_shrinkage(game, columns['mean field'], columns['Markowitz']):.3f}"),
        ("distance to the static equilibrium at T, from zero holdings",
         f"{np.linalg.norm(solution.mean[-1] - columns['mean field']) / np.linalg.norm(columns['mean field']):.2%}"),
    ):  # fmt: skip
        key.add_row(*row)
    console.print(key)
    _print_nash(nash)
    if out is not None:
        written: list[Path] = []
        _save(solution.plot(), out, "allocation_mean_holdings.png", written)
        _save(_weights_figure(game, columns), out, "allocation_weights.png", written)
        pde = solve_allocation_pde(game, x0 + 0.5 * columns["mean field"], components=[0], nx=200, nt=100)
        _save(pde.plot(), out, "allocation_crowd_density.png", written)
        _save(nash.plot(), out, "allocation_epsilon_nash.png", written)
        for path in written:
            console.print(f"wrote {path}")


def _shrinkage(game, mean_field: np.ndarray, markowitz: np.ndarray) -> float:
    q = game.eigen[1][:, 0]
    return float((q @ mean_field) / (q @ markowitz))


def _weights_figure(game, columns: dict[str, np.ndarray]):
    from meanfolio.plotting import new_figure

    fig, (ax,) = new_figure(1, width=max(6.0, 0.45 * game.n_assets * len(columns) / 2))
    n = game.n_assets
    width = 0.8 / len(columns)
    for j, (name, w) in enumerate(columns.items()):
        ax.bar(np.arange(n) + (j - (len(columns) - 1) / 2) * width, w, width, label=name)
    ax.set_xticks(np.arange(n), game.names, rotation=60, fontsize="small")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("holding (fraction of wealth)")
    ax.set_title("crowding shrinks Markowitz: static holdings")
    ax.legend()
    return fig


def _key_table(title: str, rows) -> Table:
    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


@games_app.command("systemic-risk")
def systemic_risk_command(
    a: Annotated[float, typer.Option("--a", help="Lending rate a >= 0.")] = 1.0,
    q: Annotated[float, typer.Option("--q", help="Incentive q >= 0 to lend and borrow.")] = 0.5,
    epsilon: Annotated[float, typer.Option(help="Penalty eps >= q^2 on (Xbar - X)^2.")] = 1.0,
    c: Annotated[float, typer.Option("--c", help="Terminal penalty c >= 0.")] = 0.3,
    sigma: Annotated[float, typer.Option(help="Volatility of reserves >= 0.")] = 1.0,
    horizon: Annotated[float, typer.Option(help="T > 0.")] = 1.0,
    banks: Annotated[int, typer.Option(help="Number of banks in the simulation.")] = 10,
    paths: Annotated[int, typer.Option(help="Simulated paths (>= 1).")] = 2000,
    default_level: Annotated[float, typer.Option(help="Default when log-reserves reach it (< 0).")] = -0.7,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    out: OutOption = None,
) -> None:
    """Carmona-Fouque-Sun: eta_t, defaults with and without lending, epsilon-Nash against N."""
    from meanfolio.games import systemic_risk, systemic_risk_epsilon_nash

    try:
        out = _check_out(out)
        params = dict(q=q, epsilon=epsilon, c=c, sigma=sigma, horizon=horizon)
        solutions = {N: systemic_risk(a, **params, n_players=N) for N in (2, banks, None)}
        lending = solutions[None].simulate(banks, 0.0, seed=seed, default_level=default_level, n_paths=paths)
        alone = systemic_risk(0.0, **{**params, "q": 0.0, "epsilon": 0.0, "c": 0.0})
        no_lending = alone.simulate(banks, 0.0, seed=seed, default_level=default_level, n_paths=paths)
        nash = systemic_risk_epsilon_nash(a, **params)
    except ValueError as exc:
        _fail(exc)
    rows = [(f"eta(0), N = {N}" if N else "eta(0), mean field", f"{sol.eta[0]:.5f}") for N, sol in solutions.items()]
    rows.append(("eta*, stationary (mean field)", f"{solutions[None].model.eta_stationary():.5f}"))
    for name, sim in (("no lending (a = q = eps = c = 0)", no_lending), (f"lending a = {a:g}", lending)):
        s = sim.summary()
        rows.append((f"{name}: mean defaults per path", f"{s['mean_defaults']:.3f} of {banks}"))
        rows.append((f"{name}: P(all {banks} default)", f"{s['systemic_fraction']:.4f}"))
    console.print(_key_table(f"systemic risk ({paths} paths, default level {default_level:g})", rows))
    _print_nash(nash)
    if out is not None:
        from meanfolio.plotting import new_figure

        written: list[Path] = []
        fig, (ax,) = new_figure(1)
        for sol in solutions.values():
            sol.plot(ax)
        _save(fig, out, "systemic_risk_eta.png", written)
        fig, axes = new_figure(2)
        no_lending.plot(axes[0], title="no lending")
        lending.plot(axes[1], title=f"lending a = {a:g}")
        _save(fig, out, "systemic_risk_paths.png", written)
        _save(nash.plot(), out, "systemic_risk_epsilon_nash.png", written)
        for path in written:
            console.print(f"wrote {path}")


@games_app.command("trade-crowding")
def trade_crowding_command(
    kappa: Annotated[float, typer.Option(help="Trading cost kappa > 0 (cost kappa nu^2).")] = 1.0,
    phi: Annotated[float, typer.Option(help="Running inventory penalty phi >= 0.")] = 0.5,
    terminal_penalty: Annotated[float, typer.Option(help="Terminal penalty A >= 0.")] = 2.0,
    impact: Annotated[float, typer.Option(help="Permanent impact alpha of the mean speed.")] = 1.5,
    horizon: Annotated[float, typer.Option(help="T > 0.")] = 1.0,
    q0: Annotated[float, typer.Option(help="Mean initial inventory.")] = 1.0,
    initial_variance: Annotated[float, typer.Option(help="Variance of initial inventories >= 0.")] = 0.0,
    out: OutOption = None,
) -> None:
    """Cardaliaguet-Lehalle: mean inventory and speed with and without impact, epsilon-Nash against N."""
    from meanfolio.games import trade_crowding, trade_crowding_epsilon_nash

    try:
        out = _check_out(out)
        params = (kappa, phi, terminal_penalty)
        crowd = trade_crowding(*params, impact, horizon, q0)
        alone = trade_crowding(*params, 0.0, horizon, q0)
        nash = trade_crowding_epsilon_nash(*params, impact, horizon, q0, initial_variance=initial_variance)
    except ValueError as exc:
        _fail(exc)
    rows = []
    for name, sol in ((f"impact {impact:g}", crowd), ("impact 0 (Cartea-Jaimungal)", alone)):
        rows.append((f"{name}: mean inventory at T/2, T", f"{np.interp(horizon / 2, sol.t, sol.mean_inventory):.5f}, "
                     f"{sol.mean_inventory[-1]:.5f}"))  # fmt: skip
        rows.append((f"{name}: mean speed at 0, T", f"{sol.mean_speed[0]:.5f}, {sol.mean_speed[-1]:.5f}"))
    console.print(_key_table("trade crowding", rows))
    _print_nash(nash)
    if out is not None:
        written: list[Path] = []
        _save(crowd.plot(), out, "trade_crowding_paths.png", written)
        _save(nash.plot(), out, "trade_crowding_epsilon_nash.png", written)
        for path in written:
            console.print(f"wrote {path}")
