"""``meanfolio kinetic run`` and ``figures``."""

import numpy as np
import polars as pl
from typer.testing import CliRunner

from meanfolio.cli import app

runner = CliRunner()


def test_kinetic_run_writes_parquet_and_npz(tmp_path):
    result = runner.invoke(
        app, ["kinetic", "run", "--preset", "long_term_varying", "--agents", "2000", "--steps", "400",
              "--seed", "3", "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "excess kurtosis" in result.output and "refused" in result.output
    frame = pl.read_parquet(tmp_path / "long_term_varying_series.parquet")
    assert frame.height == 401 and {"t", "S", "s_f", "ED", "refused"} <= set(frame.columns)
    samples = np.load(tmp_path / "long_term_varying_samples.npz")
    assert samples["x"].shape == (2000,) and samples["x"].min() >= 0


def test_kinetic_run_rejects_unknown_preset(tmp_path):
    result = runner.invoke(app, ["kinetic", "run", "--preset", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "preset = 'nope'" in result.output


def test_kinetic_figures(tmp_path):
    result = runner.invoke(app, ["kinetic", "figures", "--out", str(tmp_path), "--agents", "2000"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("fig*.png"))
    assert names == [f"fig{k:02d}_{n}.png" for k, n in zip(range(2, 11), (
        "functions", "price_constant", "price_varying", "qq", "broker_law", "marginals", "hft_steady",
        "convergence", "hft_tail"), strict=True)]  # fmt: skip
