"""Streamlit AppTest of the Games page: each game driven by its widgets, its numbers checked against the library."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from meanfolio.data import load_sp500
from meanfolio.games import AllocationGame, systemic_risk, trade_crowding
from meanfolio.lab import APP


@pytest.fixture
def games():
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.sidebar.radio(key="page").set_value("Games").run()
    assert not at.exception and not at.error
    return at


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_allocation_game_matches_the_library(games):
    games.multiselect(key="games_assets").set_value(["AAPL", "KO", "XOM", "JPM"]).run()
    games.selectbox(key="games_start").set_value("2018-01-01").run()
    games.slider(key="games_lam").set_value(0.3).run()
    games.slider(key="games_players").set_value(5).run()
    games.button(key="games_alloc_run").click().run()
    assert not games.exception and not games.error
    # the same game written out here, not through the page's helpers
    table = load_sp500(["AAPL", "KO", "XOM", "JPM"], "2018-01-01")
    returns, _ = table.returns("simple")
    game = AllocationGame.from_returns(returns, assets=table.tickers, risk_aversion=3.0, crowding=0.3,
                                       trading_cost=0.05, dispersion=0.05, horizon=1.0, volatility=0.1)  # fmt: skip
    shown = metrics(games)
    assert shown["price of anarchy"] == f"{game.price_of_anarchy():.4f}"
    frame = games.dataframe[0].value
    assert list(frame["asset"]) == ["AAPL", "KO", "XOM", "JPM"]
    assert frame["mean field"].to_numpy() == pytest.approx(game.equilibrium(), rel=1e-12)
    assert frame["N = 5"].to_numpy() == pytest.approx(game.equilibrium(5), rel=1e-12)
    assert shown["derived rate"] == "-1"  # order-flow noise: gap O(1/N)


def test_systemic_risk_matches_the_library(games):
    games.radio(key="games_game").set_value("Systemic risk").run()
    games.slider(key="games_sys_a").set_value(2.0).run()
    games.slider(key="games_sys_paths").set_value(500).run()
    games.button(key="games_sys_run").click().run()
    assert not games.exception and not games.error
    shown = metrics(games)
    for n, label in ((2, "eta(0), N = 2"), (10, "eta(0), N = 10"), (None, "eta(0), mean field")):
        sol = systemic_risk(2.0, 0.5, 1.0, 0.3, 1.0, 1.0, n_players=n, nt=200)
        assert shown[label] == f"{sol.eta[0]:.5f}"
    sim = systemic_risk(2.0, 0.5, 1.0, 0.3, 1.0, 1.0).simulate(10, x0=0.0, seed=1, default_level=-0.7, n_paths=500)
    assert shown["a = 2: mean defaults"] == f"{sim.defaults.mean():.3f}"
    assert "a = 0: mean defaults" in shown


def test_systemic_risk_q_squared_above_epsilon_is_a_message(games):
    games.radio(key="games_game").set_value("Systemic risk").run()
    games.slider(key="games_sys_q").set_value(1.5).run()
    games.slider(key="games_sys_eps").set_value(1.0).run()
    games.button(key="games_sys_run").click().run()
    assert not games.exception
    assert "expected q^2 <= epsilon" in games.error[0].value


def test_trade_crowding_matches_the_library(games):
    games.radio(key="games_game").set_value("Trade crowding").run()
    games.slider(key="games_tc_impact").set_value(-1.0).run()
    games.slider(key="games_tc_q0").set_value(2.0).run()
    games.button(key="games_tc_run").click().run()
    assert not games.exception and not games.error
    crowd = trade_crowding(1.0, 0.5, 2.0, -1.0, 1.0, 2.0, nt=200)
    free = trade_crowding(1.0, 0.5, 2.0, 0.0, 1.0, 2.0, nt=200)
    shown = metrics(games)
    assert shown["mean inventory at T"] == f"{crowd.mean_inventory[-1]:.5f}"
    assert shown["mean inventory at T, impact 0"] == f"{free.mean_inventory[-1]:.5f}"
    assert shown["mean speed at 0"] == f"{crowd.mean_speed[0]:.5f}"
    assert np.isfinite(float(shown["fitted rate"]))
