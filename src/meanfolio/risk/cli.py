"""``meanfolio risk report`` and ``meanfolio regimes fit`` on ``bundled:sp500`` or a price file.

Every option is checked before any work: a bad value is a one-line error naming the option, the value and
what is allowed (exit code 2), never a traceback or a half-written figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from meanfolio.commands.common import check_figure_path, check_option, console, fail, load_prices, note

from .report import compute_risk_metrics, portfolio_returns

risk_app = typer.Typer(help="Risk metrics of a portfolio of real prices.", no_args_is_help=True)
regimes_app = typer.Typer(help="Regime detection with a Gaussian HMM.", no_args_is_help=True)

PRICES = Annotated[str, typer.Argument(help="bundled:sp500 (the 20 stocks shipped with meanfolio) or a CSV, "
                                            "CSV.GZ, Parquet or Arrow file: a date column and one column per "
                                            "asset.")]  # fmt: skip
WEIGHTS = Annotated[str | None, typer.Option(help="Comma-separated weights, one per asset (default: equal).")]
DATE_FORMAT = Annotated[
    str | None, typer.Option(help="strptime format of the dates, e.g. %m/%d/%Y (default: inferred, never guessed).")
]
COLUMN = Annotated[str | None, typer.Option(help="Price column of an OHLCV or long file (default: Adj Close).")]
DECIMAL = Annotated[str, typer.Option(help="Decimal mark of the prices: '.' or ','.")]
MAX_STATES = 10

LABELS = {
    "annual_return": "annual return", "volatility": "volatility (annual)", "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio", "downside_deviation": "downside deviation", "max_drawdown": "max drawdown",
    "max_drawdown_duration": "max drawdown duration (periods)", "calmar": "Calmar ratio", "var_95": "VaR 95 %",
    "cvar_95": "CVaR 95 %", "var_95_gaussian": "VaR 95 % (Gaussian)", "cvar_95_gaussian": "CVaR 95 % (Gaussian)",
    "var_95_cornish_fisher": "VaR 95 % (Cornish-Fisher)", "cvar_95_cornish_fisher": "CVaR 95 % (Cornish-Fisher)",
    "skew": "skewness", "kurtosis": "excess kurtosis", "omega": "Omega ratio", "tail_ratio": "tail ratio",
    "hurst": "Hurst exponent (R/S)", "hurst_dfa": "Hurst exponent (DFA)", "half_life": "half-life (periods)",
    "n_obs": "observations", "dropped_nan": "dropped (missing)",
}  # fmt: skip


def _weights(text: str | None, n: int) -> np.ndarray:
    if text is None:
        return np.full(n, 1.0 / n)
    try:
        w = np.array([float(v) for v in text.split(",")])
    except ValueError:
        fail(f"--weights = {text!r} is not allowed: expected {n} comma-separated numbers (one per asset)")
    if w.size != n:
        fail(f"--weights = {text!r} has {w.size} values which is not allowed: expected {n} (one per asset)")
    if not np.all(np.isfinite(w)) or abs(w.sum()) < 1e-12:
        fail(f"--weights = {text!r} is not allowed: expected finite numbers whose sum is not 0")
    return w


def _load(prices: str, weights: str | None, date_format, column, decimal):
    if decimal not in (".", ","):
        fail(f"--decimal = {decimal!r} is not allowed: expected '.' or ','")
    try:
        table = load_prices(prices, date_format=date_format, column=column, decimal=decimal)
    except ValueError as exc:
        fail(str(exc))
    w = _weights(weights, len(table.tickers))
    try:
        r, keep = portfolio_returns(w, table.simple_returns())
    except ValueError as exc:
        fail(str(exc))
    return table, w, r, table.dates[1:][keep], int((~keep).sum())


@risk_app.command("report")
def report(
    prices: PRICES,
    weights: WEIGHTS = None,
    risk_free: Annotated[float, typer.Option(help="Risk-free return per period, in (-1, 1).")] = 0.0,
    periods: Annotated[float, typer.Option(help="Periods per year, in (0, 100000].")] = 252,
    plot: Annotated[Path | None, typer.Option(help="Figure (.png, .pdf, .svg): equity, drawdown, histogram.")] = None,
    date_format: DATE_FORMAT = None,
    column: COLUMN = None,
    decimal: DECIMAL = ".",
) -> None:
    """Print the risk metrics of a fixed-weight portfolio (VaR/CVaR/drawdown: negative = loss)."""
    check_option("--risk-free", risk_free, low=-1, high=1, low_open=True)
    check_option("--periods", periods, low=0, high=100_000, low_open=True)
    check_figure_path("--plot", plot)
    table, w, r, dates, dropped = _load(prices, weights, date_format, column, decimal)
    try:
        metrics = compute_risk_metrics(None, r, risk_free=risk_free, periods=periods)
    except ValueError as exc:
        fail(str(exc))
    name = Path(prices).name if not prices.startswith("bundled:") else prices
    out = Table(title=f"risk report: {name}, {len(table.tickers)} assets, {r.size} periods")
    out.add_column("metric")
    out.add_column("value", justify="right")
    for k, v in metrics.as_dict().items():
        out.add_row(LABELS.get(k, k.replace("_", " ")), f"{v:.6g}" if isinstance(v, float) else str(v))
    console.print(out)
    if dropped:
        note(f"{dropped} periods with a missing price were dropped")
    if plot is not None:
        _plot(plot, dates, r, metrics)
        note(f"figure written to {plot}")


def _plot(plot: Path, dates, r: np.ndarray, metrics) -> None:
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


def hmm_parameters(states: int) -> int:
    """Free parameters of a 1D Gaussian HMM: transitions, initial distribution, means and variances."""
    return states * (states - 1) + (states - 1) + 2 * states


@regimes_app.command("fit")
def fit(
    prices: PRICES,
    states: Annotated[int, typer.Option(help=f"Number of regimes, 1 to {MAX_STATES}.")] = 2,
    weights: WEIGHTS = None,
    seed: Annotated[int, typer.Option(help="Random seed of the restarts (>= 0).")] = 0,
    plot: Annotated[Path | None, typer.Option(help="Figure (.png, .pdf, .svg) of the value by regime.")] = None,
    date_format: DATE_FORMAT = None,
    column: COLUMN = None,
    decimal: DECIMAL = ".",
) -> None:
    """Fit a Gaussian HMM to the portfolio's daily log returns and print each regime."""
    from meanfolio.regimes import GaussianHMM

    check_option("--states", states, low=1, high=MAX_STATES, integer=True)
    check_option("--seed", seed, low=0, integer=True)
    check_figure_path("--plot", plot)
    table, w, r, dates, _ = _load(prices, weights, date_format, column, decimal)
    need = 10 * hmm_parameters(states)
    if r.size < need:
        fail(f"--states = {states} is not allowed for {r.size} returns: a {states}-state HMM has "
             f"{hmm_parameters(states)} parameters, expected at least {need} returns (10 per parameter)")  # fmt: skip
    try:
        x = np.log1p(r)
        model = GaussianHMM(states, seed=seed).fit(x)
    except ValueError as exc:
        fail(str(exc))
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
        note(f"figure written to {plot}")
