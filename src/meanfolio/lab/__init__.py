"""The meanfolio lab: a Streamlit app to explore the models without writing code.

Start it with ``meanfolio lab [--port 8501]``; each page is a module with a
``render()`` function (``mfg_page``, ``kinetic_page``, ``optimizer_page``,
``risk_page``) over the library's public API.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["APP", "lab_command", "run_lab"]

#: Path of the Streamlit script of the lab (``meanfolio/lab/app.py``), what ``streamlit run`` serves.
APP = Path(__file__).with_name("app.py")


def lab_command(port: int = 8501, address: str = "localhost", headless: bool = True) -> list[str]:
    """The command line that serves the lab: ``streamlit run app.py`` with the lab's settings.

    Parameters
    ----------
    port : int, default 8501
        TCP port of the server.
    address : str, default "localhost"
        Address the server listens on (``"0.0.0.0"`` to serve other machines).
    headless : bool, default True
        Do not open a browser.

    Returns
    -------
    list of str
        The argument vector (the current Python interpreter first).

    See Also
    --------
    run_lab

    Examples
    --------
    >>> from meanfolio.lab import lab_command
    >>> command = lab_command(port=8600)
    >>> command[1:4], command[command.index("--server.port") + 1]
    (['-m', 'streamlit', 'run'], '8600')
    """
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
            "--server.address", address, "--server.headless", str(headless).lower(),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]  # fmt: skip


def run_lab(port: int = 8501, address: str = "localhost") -> int:
    """Serve the lab: the Streamlit server *replaces* this process (``os.execv``).

    A SIGTERM from a service manager or ``docker stop``, or a Ctrl-C, thus
    reaches the server itself and no child is left running.

    Parameters
    ----------
    port : int, default 8501
        TCP port of the server.
    address : str, default "localhost"
        Address the server listens on.

    Returns
    -------
    int
        Does not return; the int return type is that of the exit code, for
        callers that mock the exec.

    See Also
    --------
    lab_command
    """
    command = lab_command(port, address)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return
