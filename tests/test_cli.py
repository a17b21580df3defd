"""The command line: version, solve with flags and TOML, outputs, exit codes."""

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from meanfolio import __version__
from meanfolio.cli import app
from meanfolio.mfg import lq_reference

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_solve_toml_writes_plot_and_arrays(tmp_path):
    png, npz = tmp_path / "run.png", tmp_path / "run.npz"
    result = runner.invoke(
        app,
        [
            "mfg",
            "solve",
            "--config",
            str(ROOT / "examples/lq_game.toml"),
            "--nx",
            "120",
            "--nt",
            "60",
            "--plot",
            str(png),
            "--output",
            str(npz),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "converged" in result.output
    assert png.stat().st_size > 10_000
    data = np.load(npz)
    assert data["u"].shape == (60, 120) and data["m"].shape == (60, 120)
    # the TOML describes the LQ game: its mean at T is the closed form's, to first order
    x, m = data["x"], data["m"][-1]
    dx = x[1] - x[0]
    assert abs((x * m).sum() * dx - lq_reference().mean(1.0)) < 0.03


def test_solve_bad_option_exits_2():
    result = runner.invoke(app, ["mfg", "solve", "--viscosity", "-1"])
    assert result.exit_code == 2
    assert "viscosity = -1.0" in result.output


def test_not_converged_exits_1():
    result = runner.invoke(
        app,
        [
            "mfg",
            "solve",
            "--method",
            "fixed_point",
            "--max-iterations",
            "2",
            "--congestion",
            "5",
            "--nx",
            "40",
            "--nt",
            "20",
            "--tolerance",
            "1e-12",
        ],
    )
    assert result.exit_code == 1
    assert "not converged" in result.output


def test_demo_writes_figures(tmp_path):
    result = runner.invoke(app, ["demo", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "seed_example.png").exists() and (tmp_path / "lq_game.png").exists()
    assert "LQ game vs closed form" in result.output
    assert len(list((tmp_path / "kinetic").glob("fig*.png"))) == 9
    # the allocation game on the same stocks: its holdings table and figures
    assert "price of anarchy" in result.output
    assert len(list((tmp_path / "games").glob("allocation_*.png"))) == 4
    # the pipeline ran first: its report and its run in the store
    assert (tmp_path / "pipeline" / "report.html").is_file() and "pipeline report:" in result.output
    assert (tmp_path / "pipeline" / "summary.json").is_file() and "deflated Sharpe" in result.output
    from meanfolio.data import ResultStore

    with ResultStore(tmp_path / "runs.duckdb") as store:
        assert store.list_runs()["status"].to_list() == ["complete"]


def test_help_shows_brackets_as_written():
    result = runner.invoke(app, ["mfg", "solve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[config] and [model]" in result.output and "linear[:SPEED]" in result.output


def test_risk_report_on_the_bundled_data_with_readable_labels():
    result = runner.invoke(app, ["risk", "report", "bundled:sp500"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "bundled:sp500, 20 assets" in result.output
    assert "excess kurtosis" in result.output and "max drawdown" in result.output and "_" not in result.output


def test_risk_report_on_an_ohlcv_export_says_which_column_is_the_price(tmp_path):
    rows = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    rng = np.random.default_rng(1)
    day = np.datetime64("2021-01-04")
    price = 100.0
    for _ in range(300):
        price *= 1 + 0.01 * rng.standard_normal()
        y, m, d = str(day).split("-")
        rows.append(f"{int(m)}/{int(d)}/{y},{price},{price},{price},{price * 1.01},{price},1000")
        day += 1
    (tmp_path / "SPY.csv").write_text("\n".join(rows) + "\n")
    result = runner.invoke(app, ["risk", "report", str(tmp_path / "SPY.csv")], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "an OHLCV export" in result.output and "one asset 'SPY' priced by 'Adj Close'" in result.output
    assert "SPY.csv, 1 assets, 299 periods" in result.output
    close = runner.invoke(app, ["risk", "report", str(tmp_path / "SPY.csv"), "--column", "Close"],
                          env={"COLUMNS": "300"})  # fmt: skip
    assert close.exit_code == 0 and "priced by 'Close'" in close.output
