"""``meanfolio risk report`` and ``meanfolio regimes fit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from meanfolio.data import read_prices

from .report import compute_risk_metrics, portfolio_returns

risk_app = typer.Typer(help="Risk metrics of a portfolio of real prices.", no_args_is_help=True)
regimes_app = typer.Typer(help="Regime detection with a Gaussian HMM.", no_args_is_help=True)
console = Console()


def _weights(text: str | None, n: int) -> np.ndarray:
    if text is None:
        return np.full(n, 1.0 / n)
    w = np.array([float(v) for v in text.split(",")])
    if w.size != n:
        raise ValueError(f"--weights has {w.size} values which is not allowed: expected {n} (one per asset)")
    return w


def _load(prices: Path, weights: str | None):
    table = read_prices(prices)
    w = _weights(weights, len(table.tickers))
    r, keep = portfolio_returns(w, table.simple_returns())
    return table, w, r, table.dates[1:][keep], int((~keep).sum())


@risk_app.command("report")
def report(
    prices: Annotated[Path, typer.Argument(help="CSV, CSV.GZ or Parquet: a date column, one column per asset.")],
    weights: Annotated[str | None, typer.Option(help="Comma-separated weights (default: equal).")] = None,
    risk_free: Annotated[float, typer.Option(help="Risk-free return per period.")] = 0.0,
    periods: Annotated[float, typer.Option(help="Periods per year.")] = 252,
    plot: Annotated[Path | None, typer.Option(help="PNG with equity curve, drawdown, histogram.")] = None,
) -> None:
    """Print the risk metrics of a fixed-weight portfolio (VaR/CVaR/drawdown: negative = loss)."""
    try:
        table, w, r, dates, dropped = _load(prices, weights)
        metrics = compute_risk_metrics(None, r, risk_free=risk_free, periods=periods)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    out = Table(title=f"risk report: {prices.name}, {len(table.tickers)} assets, {r.size} periods")
    out.add_column("metric")
    out.add_column("value", justify="right")
    for k, v in metrics.as_dict().items():
        out.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    console.print(out)
    if dropped:
        console.print(f"{dropped} periods with a missing price were dropped")
    if plot is not None:
        from meanfolio.plotting import new_figure, save_figure
        from meanfolio.risk.metrics import drawdown_series

        fig, (a, b, c) = new_figure(3)
        a.plot(dates, np.cumprod(1 + r))
        a.set_title("equity curve")
        b.fill_between(dates, drawdown_series(r), 0, color="tab:red")
        b.set_title(f"drawdown (max {metrics.max_drawdown:.1%})")
        c.hist(r, bins=100, density=True)
        c.axvline(metrics.var_95, color="k", ls="--", label=f"VaR 95% {metrics.var_95:.2%}")
        c.legend()
        c.set_title("returns")
        save_figure(fig, plot)
        console.print(f"figure written to {plot}")


@regimes_app.command("fit")
def fit(
    prices: Annotated[Path, typer.Argument(help="CSV, CSV.GZ or Parquet price table.")],
    states: Annotated[int, typer.Option(help="Number of regimes.")] = 2,
    weights: Annotated[str | None, typer.Option(help="Comma-separated weights (default: equal).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the restarts.")] = 0,
    plot: Annotated[Path | None, typer.Option(help="PNG of the portfolio value coloured by regime.")] = None,
) -> None:
    """Fit a Gaussian HMM to the portfolio's daily log returns and print each regime."""
    from meanfolio.regimes import GaussianHMM

    try:
        table, w, r, dates, _ = _load(prices, weights)
        x = np.log1p(r)
        model = GaussianHMM(states, seed=seed).fit(x)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    path = model.predict(x)
    out = Table(title=f"{states}-state Gaussian HMM, log-likelihood {model.loglik_history_[-1]:.2f}")
    for col in ("regime", "mean (annual)", "volatility (annual)", "stay prob.", "share of days"):
        out.add_column(col, justify="right")
    for k in range(states):
        out.add_row(
            str(k), f"{252 * model.means_[k, 0]:.2%}", f"{np.sqrt(252 * model.covars_[k, 0]):.2%}",
            f"{model.transmat_[k, k]:.4f}", f"{np.mean(path == k):.1%}",
        )  # fmt: skip
    console.print(out)
    if plot is not None:
        from meanfolio.plotting import new_figure, save_figure

        fig, (ax,) = new_figure(1, width=9.0)
        value = np.cumprod(1 + r)
        for k in range(states):
            ax.scatter(dates[path == k], value[path == k], s=2, label=f"regime {k}")
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("portfolio value by regime")
        save_figure(fig, plot)
        console.print(f"figure written to {plot}")
