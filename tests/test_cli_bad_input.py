"""Every command with a table of bad values: a non-zero exit, a message on one line naming the option (or
setting), the value and what is allowed, no traceback, and no file written (no partial output).

Each row runs in a fresh folder that holds only the inputs the row needs; after the command the folder
must hold exactly those inputs again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from meanfolio.cli import app

runner = CliRunner()
ZEROS = ",".join(["0"] * 20)


def _prices(folder: Path, rows: int = 200) -> None:
    dates = np.datetime64("2020-01-01") + np.arange(rows)
    rng = np.random.default_rng(0)
    prices = 100 * np.cumprod(1 + 0.01 * rng.standard_normal((rows, 2)), axis=0)
    lines = ["date,A,B"] + [f"{d},{a:.4f},{b:.4f}" for d, (a, b) in zip(dates, prices, strict=True)]
    (folder / "p.csv").write_text("\n".join(lines) + "\n")


def _ambiguous(folder: Path) -> None:
    (folder / "us.csv").write_text("date,A\n01/02/2020,1\n01/03/2020,2\n01/06/2020,3\n")


def _store(folder: Path) -> None:
    from meanfolio.data import ResultStore

    with ResultStore(folder / "runs.duckdb") as s, s.run("pipeline", {}, run_id="pipeline-1"):
        pass


def _files(folder: Path, setup) -> None:
    (folder / "file.txt").write_text("not a folder")
    (folder / "null_store.yaml").write_text("store: null\n")
    (folder / "empty.yaml").write_text("# every setting at its default\n")
    (folder / "sweep_null.yaml").write_text("function: sleep\ngrid: {x: [1.0]}\nstore: null\n")
    (folder / "sweep_csv.yaml").write_text("function: sleep\ngrid: {x: [1.0]}\nstore: out.csv\n")
    (folder / "sweep_grid.yaml").write_text("function: sleep\ngrid: {x: []}\nstore: s.duckdb\n")
    if setup is not None:
        setup(folder)


# (id, arguments, setup, strings the error line must contain)
CASES = [
    ("mfg m0 outside grid", ["mfg", "solve", "--m0", "gaussian:100,0.1"], None,
     ["m0 = 'gaussian:100,0.1'", "expected MU inside the grid"]),
    ("mfg nx", ["mfg", "solve", "--nx", "2"], None, ["nx = 2", "expected"]),
    ("mfg viscosity", ["mfg", "solve", "--viscosity", "-1"], None, ["viscosity = -1.0", "expected"]),
    ("mfg relaxation", ["mfg", "solve", "--relaxation", "2"], None, ["relaxation = 2.0", "expected"]),
    ("mfg method", ["mfg", "solve", "--method", "magic"], None, ["method = 'magic'", "expected"]),
    ("mfg hamiltonian", ["mfg", "solve", "--hamiltonian", "power:x"], None, ["hamiltonian = 'power:x'"]),
    ("mfg memory", ["mfg", "solve", "--nx", "100000", "--nt", "100000"], None,
     ["needs about", "expected at most", "--max-memory"]),
    ("kinetic memory", ["kinetic", "run", "--preset", "long_term_constant", "--agents", "2000000000"], None,
     ["needs about", "expected at most", "--max-memory"]),
    ("kinetic max-memory", ["kinetic", "run", "--preset", "long_term_constant", "--agents", "100000",
                            "--max-memory", "1M"], None, ["needs about", "expected at most 1 MB"]),
    ("mfg max-memory", ["mfg", "solve", "--nx", "400", "--nt", "400", "--max-memory", "1M"], None,
     ["needs about", "expected at most 1 MB"]),
    ("mfg plot suffix", ["mfg", "solve", "--plot", "r.txt"], None, ["--plot = 'r.txt'", ".png"]),
    ("mfg output suffix", ["mfg", "solve", "--output", "r.txt"], None, ["--output = 'r.txt'", ".npz"]),
    ("mfg config missing", ["mfg", "solve", "--config", "nope.toml"], None, ["nope.toml"]),
    ("risk periods", ["risk", "report", "bundled:sp500", "--periods", "0"], None, ["--periods = 0.0", "> 0"]),
    ("risk zero weights", ["risk", "report", "bundled:sp500", "--weights", ZEROS], None,
     ["--weights", "sum is not 0"]),
    ("risk weights count", ["risk", "report", "bundled:sp500", "--weights", "1,2"], None, ["--weights", "expected 20"]),
    ("risk weights text", ["risk", "report", "bundled:sp500", "--weights", "a,b"], None, ["--weights = 'a,b'"]),
    ("risk nan risk-free", ["risk", "report", "bundled:sp500", "--risk-free", "nan"], None,
     ["--risk-free = nan", "> -1 and <= 1"]),
    ("risk plot suffix", ["risk", "report", "bundled:sp500", "--plot", "r.txt"], None, ["--plot = 'r.txt'", ".png"]),
    ("risk unknown bundle", ["risk", "report", "bundled:nasdaq"], None, ["prices = 'bundled:nasdaq'", "bundled:sp500"]),
    ("risk missing file", ["risk", "report", "nope.csv"], None, ["'nope.csv' does not exist"]),
    ("risk ambiguous dates", ["risk", "report", "us.csv"], _ambiguous, ["ambiguous", "--date-format"]),
    ("risk decimal", ["risk", "report", "bundled:sp500", "--decimal", ";"], None, ["--decimal = ';'", "','"]),
    ("regimes states", ["regimes", "fit", "bundled:sp500", "--states", "100"], None, ["--states = 100", "<= 10"]),
    ("regimes states vs rows", ["regimes", "fit", "p.csv", "--states", "5"], _prices,
     ["--states = 5", "199 returns", "at least 340"]),
    ("regimes seed", ["regimes", "fit", "bundled:sp500", "--seed", "-1"], None, ["--seed = -1", ">= 0"]),
    ("pipeline missing config", ["pipeline", "run", "nope.yaml"], None, ["'nope.yaml' does not exist"]),
    ("pipeline store null", ["pipeline", "run", "null_store.yaml"], None, ["store = None", ".duckdb"]),
    ("pipeline store csv", ["pipeline", "run", "empty.yaml", "--store", "x.csv"], None, ["store = 'x.csv'", ".duckdb"]),
    ("pipeline out is a file", ["pipeline", "run", "empty.yaml", "--out", "file.txt"], None,
     ["--out = 'file.txt'", "expected a folder"]),
    ("pipeline wait", ["pipeline", "run", "empty.yaml", "--wait", "nan"], None, ["--wait = nan", ">= 0"]),
    ("runs store csv", ["runs", "list", "--store", "x.csv"], None, ["store = 'x.csv'", ".duckdb"]),
    ("runs missing store", ["runs", "list", "--store", "none.duckdb"], None, ["'none.duckdb' does not exist"]),
    ("runs unknown id", ["runs", "show", "nope", "--store", "runs.duckdb"], _store, ["run_id = 'nope'"]),
    ("runs wait", ["runs", "list", "--store", "runs.duckdb", "--wait", "-1"], _store, ["--wait = -1.0", ">= 0"]),
    ("runs export to a file", ["runs", "export", "pipeline-1", "--output", "file.txt", "--store", "runs.duckdb"],
     _store, ["--output = 'file.txt'", "expected a folder"]),
    ("sweep store null", ["sweep", "run", "sweep_null.yaml"], None, ["store = None", ".duckdb"]),
    ("sweep store csv", ["sweep", "run", "sweep_csv.yaml"], None, ["store = 'out.csv'", ".duckdb"]),
    ("sweep --store csv", ["sweep", "run", "sweep_grid.yaml", "--store", "x.csv"], None, ["store = 'x.csv'"]),
    ("sweep empty grid", ["sweep", "run", "sweep_grid.yaml"], None, ["grid = ", "non-empty lists"]),
    ("lab port", ["lab", "--port", "0"], None, ["--port = 0", ">= 1 and <= 65535"]),
    ("demo output is a file", ["demo", "--output-dir", "file.txt"], None, ["--output-dir = 'file.txt'", "folder"]),
    ("games risk aversion", ["games", "allocation", "--risk-aversion", "0"], None, ["risk_aversion", "0"]),
    ("games paths", ["games", "systemic-risk", "--paths", "0"], None, ["paths", "0"]),
    ("games kappa", ["games", "trade-crowding", "--kappa", "0"], None, ["kappa", "0"]),
    ("kinetic figures agents", ["kinetic", "figures", "--agents", "0", "--out", "figs"], None, ["agents", "0"]),
    ("kinetic run agents", ["kinetic", "run", "--preset", "long_term_varying", "--agents", "0", "--steps", "10",
                            "--out", "k"], None, ["agents", "0"]),  # fmt: skip
    ("kinetic run preset", ["kinetic", "run", "--preset", "nope", "--out", "k"], None, ["nope"]),
]  # fmt: skip

XFAIL: dict[str, str] = {}  # rows expected to fail, with the reason (none today)


@pytest.mark.parametrize(("args", "setup", "needles"), [pytest.param(a, s, n, id=i, marks=(
    [pytest.mark.xfail(reason=XFAIL[i], strict=False)] if i in XFAIL else [])) for i, a, s, n in CASES])  # fmt: skip
def test_bad_input_is_one_clear_line(tmp_path, monkeypatch, args, setup, needles):
    _files(tmp_path, setup)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, args, env={"COLUMNS": "400", "MEANFOLIO_MAX_MEMORY": "4G", **_keep_env()})
    out = res.output
    assert res.exit_code not in (0, None), out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in out, out
    lines = [line for line in out.splitlines() if all(n in line for n in needles)]
    assert len(lines) == 1, f"no single line holds {needles}:\n{out}"
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, f"files written: {sorted(set(after) - set(before))}"


def _keep_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "NUMBA_CACHE_DIR")}
