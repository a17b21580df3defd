"""``meanfolio risk report`` and ``meanfolio regimes fit`` on a small price file."""

import numpy as np
import polars as pl
from typer.testing import CliRunner

from meanfolio.cli import app

runner = CliRunner()


def _prices(tmp_path):
    rng = np.random.default_rng(0)
    r = rng.normal(0.0003, 0.01, size=(600, 2))
    r[300:] *= 3
    p = 100 * np.cumprod(1 + r, axis=0)
    path = tmp_path / "prices.csv"
    pl.DataFrame({"Date": pl.date_range(pl.date(2020, 1, 1), pl.date(2021, 8, 22), eager=True)[:600],
                  "A": p[:, 0], "B": p[:, 1]}).write_csv(path)  # fmt: skip
    return path


def test_risk_report(tmp_path):
    path = _prices(tmp_path)
    res = runner.invoke(app, ["risk", "report", str(path), "--weights", "0.7,0.3", "--plot", str(tmp_path / "r.png")])
    assert res.exit_code == 0, res.output
    assert "Sharpe ratio" in res.output and "max drawdown" in res.output
    assert (tmp_path / "r.png").stat().st_size > 10_000
    bad = runner.invoke(app, ["risk", "report", str(path), "--weights", "1.0"])
    assert bad.exit_code == 2 and "--weights = '1.0' has 1 values" in bad.output


def test_regimes_fit(tmp_path):
    path = _prices(tmp_path)
    res = runner.invoke(app, ["regimes", "fit", str(path), "--states", "2", "--plot", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert "regime" in res.output and (tmp_path / "g.png").exists()
