"""The meanfolio lab: a Streamlit app to explore the models without writing code.

Start it with ``meanfolio lab [--port 8501]``; each page is a module with a
``render()`` function (``mfg_page``, ``kinetic_page``, ``optimizer_page``,
``risk_page``) over the library's public API.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["APP", "lab_command", "run_lab"]

APP = Path(__file__).with_name("app.py")


def lab_command(port: int = 8501, address: str = "localhost", headless: bool = True) -> list[str]:
    """The command line that serves the lab (``streamlit run app.py`` with our settings)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", address, "--server.headless", str(headless).lower(),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]  # fmt: skip


def run_lab(port: int = 8501, address: str = "localhost") -> int:
    """Serve the lab until interrupted; returns streamlit's exit code."""
    return subprocess.call(lab_command(port, address))
