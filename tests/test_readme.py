"""Every `meanfolio ...` command of README.md, whatever the README says today.

- always: each command parses (the subcommand and every option exist) and every input file it names exists
  in a fresh clone (tracked by git), so a copied command never points to a file the reader does not have;
- always: the fast commands run, in a scratch folder that sees the clone's examples/, and succeed;
- with MEANFOLIO_README_ALL=1 (CI): every command runs, the long ones too (demo, pipeline, sweep, kinetic);
  `meanfolio lab` is started, answers on its port, and ends on SIGTERM.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import typer

from meanfolio.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FAST = {("--version",), ("mfg", "solve"), ("risk", "report"), ("regimes", "fit"), ("games", "systemic-risk"),
        ("games", "trade-crowding")}  # fmt: skip
RUN_ALL = os.environ.get("MEANFOLIO_README_ALL") == "1"
INPUT_SUFFIXES = (".csv", ".gz", ".parquet", ".pq", ".arrow", ".feather", ".yaml", ".yml", ".toml", ".duckdb")


def readme_commands() -> list[str]:
    """The `meanfolio` command lines of the README's fenced code blocks (comments and prompts removed)."""
    if not README.is_file():
        return []
    commands, fenced = [], False
    for line in README.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        text = re.sub(r"^\s*\$\s*", "", line) if fenced else ""
        if text.startswith("meanfolio ") or text == "meanfolio":
            commands.append(shlex.split(text, comments=True))
    return [shlex.join(c) for c in commands]


def _path(args: list[str]) -> tuple[str, ...]:
    """The subcommand path: ('risk', 'report'), ('lab',) or ('--version',)."""
    if args[0].startswith("-"):
        return (args[0],)
    return (args[0], args[1]) if len(args) > 1 and not args[1].startswith("-") and args[0] in _groups() else (args[0],)


def _groups() -> set[str]:
    return {group.name for group in app.registered_groups if group.name}


def _tracked() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout
    return set(out.splitlines())


COMMANDS = readme_commands()


def test_the_readme_has_commands():
    assert COMMANDS, "README.md shows no `meanfolio ...` command in a code block"


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_parses_and_names_files_a_clone_has(line):
    args = shlex.split(line)[1:]
    root = typer.main.get_command(app)
    if args and args[0] == "--version":
        return
    _parse(root, args)
    tracked = _tracked()
    for value in args:
        if value.startswith("bundled:") or not value.lower().endswith(INPUT_SUFFIXES) or value == "runs.duckdb":
            continue
        if value.endswith(".duckdb"):
            continue
        rel = os.path.normpath(value)
        assert rel in tracked or (ROOT / rel).is_dir(), (
            f"README command `{line}` reads {value!r}, which a fresh clone does not have: use bundled:sp500 or a "
            "file in the repository"
        )


def _rest(ctx) -> list[str]:
    return [*(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []), *ctx.args]


def _parse(root, args: list[str]) -> None:
    """Parse ``args`` down the command tree as the command line would (an unknown command or option raises
    a usage error), without running anything. (Typer vendors click: groups are recognised by their
    ``resolve_command``.)"""
    ctx = root.make_context("meanfolio", list(args), resilient_parsing=False)
    rest, cmd = _rest(ctx), root
    while hasattr(cmd, "resolve_command") and rest:
        name, sub, rest = cmd.resolve_command(ctx, rest)
        assert sub is not None, f"unknown command {name!r}"
        ctx = sub.make_context(name or "", list(rest), parent=ctx, resilient_parsing=False)
        rest = _rest(ctx) if hasattr(sub, "resolve_command") else []
        cmd = sub


def test_the_parser_refuses_an_unknown_option():
    with pytest.raises(Exception, match="No such option: --no-such-option"):
        _parse(typer.main.get_command(app), ["mfg", "solve", "--no-such-option", "1"])
    with pytest.raises(Exception, match="No such command 'nope'"):
        _parse(typer.main.get_command(app), ["risk", "nope"])


def _scratch(tmp_path: Path) -> Path:
    for name in ("examples",):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_command_runs(line, tmp_path):
    args = shlex.split(line)[1:]
    path = _path(args)
    if not RUN_ALL and path not in FAST:
        pytest.skip("a long command: set MEANFOLIO_README_ALL=1 to run it")
    cwd = _scratch(tmp_path)
    if path == ("runs", "list"):  # the README runs it after a pipeline run; here: on a store made for it
        from meanfolio.data import ResultStore

        with ResultStore(cwd / "runs.duckdb") as s, s.run("pipeline", {}):
            pass
    command = [sys.executable, "-m", "meanfolio.cli", *args]
    if path == ("lab",):
        _run_lab(command, cwd)
        return
    res = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    assert res.returncode == 0, f"`{line}` failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    assert "Traceback" not in res.stderr


def _run_lab(command: list[str], cwd: Path) -> None:
    port = command[command.index("--port") + 1] if "--port" in command else "8501"
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.time() < deadline, "meanfolio lab did not start"
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
