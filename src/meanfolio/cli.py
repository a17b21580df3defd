"""The ``meanfolio`` command (typer + rich): the root app; each subcommand lives in its own module
(``meanfolio.commands.*`` and each capability's ``cli`` module)."""

from __future__ import annotations

from typing import Annotated

import typer

from meanfolio import __version__
from meanfolio.commands.common import console
from meanfolio.commands.demo import demo
from meanfolio.commands.lab import lab
from meanfolio.commands.mfg import mfg_app
from meanfolio.games.cli import games_app
from meanfolio.kinetic.cli import kinetic_app
from meanfolio.pipeline.cli import pipeline_app, runs_app
from meanfolio.risk.cli import regimes_app, risk_app
from meanfolio.scale.cli import sweep_app

__all__ = ["app"]

app = typer.Typer(help="meanfolio: mean-field models of portfolios and markets.", no_args_is_help=True)
app.add_typer(mfg_app, name="mfg")
app.add_typer(kinetic_app, name="kinetic")
app.add_typer(games_app, name="games")
app.add_typer(risk_app, name="risk")
app.add_typer(regimes_app, name="regimes")
app.add_typer(pipeline_app, name="pipeline")
app.add_typer(runs_app, name="runs")
app.add_typer(sweep_app, name="sweep")
app.command()(lab)
app.command()(demo)


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


if __name__ == "__main__":  # pragma: no cover
    app()
