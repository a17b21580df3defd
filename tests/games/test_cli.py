"""``meanfolio games ...``: the printed numbers are the library's, figures are written, bad input exits 2."""

import numpy as np
import pytest
from typer.testing import CliRunner

from meanfolio.cli import app
from meanfolio.data import load_sp500
from meanfolio.games import AllocationGame

runner = CliRunner()


def test_allocation_prints_the_library_numbers_and_writes_figures(tmp_path):
    args = ["games", "allocation", "--start", "2018-01-01", "--assets", "AAPL,JPM,XOM,KO", "--crowding", "0.2"]
    result = runner.invoke(app, [*args, "--players", "5", "--out", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    returns, _ = load_sp500(["AAPL", "JPM", "XOM", "KO"], "2018-01-01").returns("simple")
    game = AllocationGame.from_returns(
        returns, risk_aversion=3.0, crowding=0.2, trading_cost=0.05, dispersion=0.05, horizon=1.0, volatility=0.1
    )
    row = next(line for line in result.output.splitlines() if line.strip("│ ").startswith("JPM"))
    printed = [float(v) for v in row.replace("│", " ").split()[1:]]
    expected = [game.markowitz()[1], game.equilibrium()[1], game.equilibrium(5)[1], game.cooperative()[1]]
    np.testing.assert_allclose(printed, expected, atol=6e-4)
    assert f"{game.price_of_anarchy():.4f}" in result.output
    for name in ("mean_holdings", "weights", "crowd_density", "epsilon_nash"):
        assert (tmp_path / f"allocation_{name}.png").stat().st_size > 10_000


def test_allocation_bad_input_is_one_line(tmp_path):
    result = runner.invoke(app, ["games", "allocation", "--trading-cost", "-1"])
    assert result.exit_code == 2 and "trading_cost = -1.0" in result.output and "Traceback" not in result.output
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["games", "allocation", "--out", str(blocker / "sub")])
    assert result.exit_code == 2 and "--out" in result.output


def _value(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if label in line)
    return line.split("│")[-2].strip()


def test_systemic_risk_prints_eta_and_defaults(tmp_path):
    from meanfolio.games import systemic_risk

    args = ["games", "systemic-risk", "--a", "2", "--banks", "5", "--paths", "300", "--out", str(tmp_path)]
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert float(_value(result.output, "eta(0), mean field")) == pytest.approx(
        systemic_risk(2.0, 0.5, 1.0, 0.3, 1.0, 1.0).eta[0], abs=1e-5
    )
    assert float(_value(result.output, "eta(0), N = 5")) == pytest.approx(
        systemic_risk(2.0, 0.5, 1.0, 0.3, 1.0, 1.0, n_players=5).eta[0], abs=1e-5
    )
    assert "fitted slope" in result.output
    assert (tmp_path / "systemic_risk_paths.png").stat().st_size > 10_000
    bad = runner.invoke(app, ["games", "systemic-risk", "--q", "2", "--epsilon", "1"])
    assert bad.exit_code == 2 and "q" in bad.output and "Traceback" not in bad.output


def test_trade_crowding_prints_the_inventory_path(tmp_path):
    from meanfolio.games import trade_crowding

    result = runner.invoke(
        app, ["games", "trade-crowding", "--impact", "0.8", "--out", str(tmp_path)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    _, at_t = _value(result.output, "impact 0.8: mean inventory").split(", ")
    assert float(at_t) == pytest.approx(trade_crowding(1.0, 0.5, 2.0, 0.8, 1.0, 1.0).mean_inventory[-1], abs=1e-5)
    assert (tmp_path / "trade_crowding_epsilon_nash.png").stat().st_size > 10_000
    bad = runner.invoke(app, ["games", "trade-crowding", "--kappa", "0"])
    assert bad.exit_code == 2 and "kappa = 0.0" in bad.output
