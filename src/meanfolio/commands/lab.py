"""``meanfolio lab``: the Streamlit lab on localhost."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import check_option, note

__all__ = ["lab"]


def lab(
    port: Annotated[int, typer.Option(help="Port on localhost (1-65535).")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind (localhost by default).")] = "localhost",
) -> None:
    """Start the meanfolio lab (Streamlit) in the browser at http://ADDRESS:PORT.

    The Streamlit server replaces this process (exec): a SIGTERM or Ctrl-C reaches it directly and nothing is
    left running."""
    from meanfolio.lab import run_lab

    check_option("--port", port, low=1, high=65535, integer=True)
    note(f"meanfolio lab on http://{address}:{port}  (Ctrl-C to stop)")
    raise typer.Exit(run_lab(port, address))
