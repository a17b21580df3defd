"""Streamlit AppTest: each page driven by its widgets, its numbers checked against the library."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from meanfolio.kinetic import preset, simulate
from meanfolio.lab import APP
from meanfolio.mfg import Congestion, MeanTracking, MFGConfig, RunningCost, solve_mfg
from meanfolio.optimize import differential_evolution
from meanfolio.optimize.benchmarks.classic import CLASSIC
from meanfolio.risk import compute_risk_metrics


@pytest.fixture
def app():
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    assert not at.exception
    return at


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_mfg_page_solves_what_the_library_solves(app):
    app.number_input(key="mfg_nx").set_value(80).run()
    app.number_input(key="mfg_q").set_value(0.5).run()
    app.button(key="mfg_run").click().run()
    assert not app.exception and not app.error
    shown = metrics(app)
    # the same game written out here, not through the page's own builder
    x = np.linspace(-3, 3, 80)
    config = MFGConfig(nx=80, nt=50, x_min=-3, x_max=3, viscosity=0.1, tolerance=1e-8, max_iterations=200)
    m0 = np.exp(-((x - 1.2) ** 2) / 0.3) + 0.6 * np.exp(-((x + 1.5) ** 2) / 0.2)
    f = RunningCost(0.5 * x**2) + Congestion(1.0) + MeanTracking(0.5)
    sol = solve_mfg(config, m0, f)
    assert shown["converged"] == "yes" and shown["iterations"] == str(sol.iterations)
    assert shown["residual"] == f"{sol.residual:.2e}" and shown["mass error"] == f"{sol.mass_error:.1e}"
    assert len(app.tabs) == 5


def test_mfg_page_bounds_estimate_and_methods_that_work(app):
    assert app.caption and any("estimate: 5,000 cells" in c.value for c in app.caption)
    app.number_input(key="mfg_nx").set_value(10**7).run()  # above the bound: refused, the grid is unchanged
    assert app.number_input(key="mfg_nx").value == 100
    assert any("estimate: 5,000 cells" in c.value for c in app.caption)
    app.number_input(key="mfg_nx").set_value(1500).run()
    app.radio(key="mfg_dim").set_value("2D").run()  # 1500 is above the 2D bound: brought to 200, no error
    assert not app.exception and app.number_input(key="mfg_nx").value == 200
    app.number_input(key="mfg_nt").set_value(2000).run()
    assert any("80,000,000 cells" in c.value for c in app.caption)
    app.button(key="mfg_run").click().run()  # refused before anything is allocated
    assert not app.exception and "80,000,000 cells" in app.error[0].value and "at most 2,000,000" in app.error[0].value
    # 2D and the linear Hamiltonian offer only Newton, and say why
    assert app.selectbox(key="mfg_method_newton").options == ["newton"]
    assert any("Newton only" in c.value for c in app.caption)
    app.radio(key="mfg_dim").set_value("1D").run()
    assert app.selectbox(key="mfg_method").options == ["newton", "fixed_point", "fictitious_play", "policy_iteration"]
    app.selectbox(key="mfg_h").set_value(app.selectbox(key="mfg_h").options[2]).run()
    assert app.selectbox(key="mfg_method_newton").options == ["newton"]
    assert any("only Newton" in c.value for c in app.caption)


def test_stop_forgets_the_previous_result(app):
    app.number_input(key="mfg_nx").set_value(40).run()
    app.button(key="mfg_run").click().run()
    assert "converged" in metrics(app)
    app.button(key="mfg_stop").click().run()
    assert "converged" not in metrics(app) and any("press Solve" in i.value for i in app.info)


def test_mfg_page_2d_snapshots(app):
    app.radio(key="mfg_dim").set_value("2D").run()
    app.number_input(key="mfg_nx").set_value(30).run()
    app.number_input(key="mfg_nt").set_value(15).run()
    app.button(key="mfg_run").click().run()
    assert not app.exception and not app.error
    assert metrics(app)["converged"] == "yes"
    app.slider(key="mfg_time").set_value(3).run()
    assert not app.exception


def test_kinetic_page_matches_simulate(app):
    app.sidebar.radio(key="page").set_value("Kinetic market").run()
    app.number_input(key="kin_agents").set_value(2000).run()
    app.number_input(key="kin_steps").set_value(400).run()
    app.button(key="kin_run").click().run()
    assert not app.exception and not app.error
    res = simulate(preset("long_term_varying"), n_agents=2000, steps=400, seed=1)
    shown = metrics(app)
    assert shown["steps done"] == "400" and shown["final price"] == f"{res.series['S'][-1]:.3f}"
    # a parameter changed in the page reaches the model; a bad one is a message
    app.number_input(key="kin_kappa_long_term_varying").set_value(1.0).run()
    app.button(key="kin_run").click().run()
    res = simulate(preset("long_term_varying", kappa=1.0), n_agents=2000, steps=400, seed=1)
    assert metrics(app)["final price"] == f"{res.series['S'][-1]:.3f}"
    app.number_input(key="kin_mu_long_term_varying").set_value(-1.0).run()
    app.button(key="kin_run").click().run()
    assert not app.exception and "mu" in app.error[0].value


def test_kinetic_page_bounds_and_estimate(app):
    # The case: 1e7 agents took 12.5 GB of server memory. The inputs are bounded, and the run's
    # memory and time are shown before it starts.
    from meanfolio.lab.kinetic_page import MAX_AGENTS

    app.sidebar.radio(key="page").set_value("Kinetic market").run()
    agents = app.number_input(key="kin_agents")
    assert agents.max == MAX_AGENTS <= 200_000 and agents.min >= 1
    assert app.number_input(key="kin_steps").max <= 200_000
    assert any("estimate: about" in c.value for c in app.caption)


def test_optimizer_page_matches_differential_evolution(app):
    app.sidebar.radio(key="page").set_value("Optimizer").run()
    app.selectbox(key="opt_problem").set_value("rastrigin").run()
    app.number_input(key="opt_dim").set_value(5).run()
    app.number_input(key="opt_iter").set_value(60).run()
    app.button(key="opt_run").click().run()
    assert not app.exception and not app.error
    f, (lo, hi), _ = CLASSIC["rastrigin"]
    res = differential_evolution(f, [(lo, hi)] * 5, strategy="lshade", popsize=15, maxiter=60, seed=1,
                                 polish=False, tol=0.0)  # fmt: skip
    shown = metrics(app)
    assert shown["best value"] == f"{res.fun:.6g}" and shown["evaluations"] == str(res.nfev)


def test_risk_page_matches_compute_risk_metrics(app, tmp_path):
    app.sidebar.radio(key="page").set_value("Risk and regimes").run()
    assert not app.exception and not app.error
    from meanfolio.data import load_sp500

    table = load_sp500()
    sub = table.select(start=str(table.dates[table.dates.size - 2520]))
    R, _ = sub.returns()
    m = compute_risk_metrics(np.full(20, 0.05), R)
    shown = metrics(app)
    assert shown["Sharpe"] == f"{m.sharpe:.2f}" and shown["max drawdown"] == f"{m.max_drawdown:.2%}"
    app.text_input(key="risk_start_sp500").set_value("2099-01-01").run()
    assert not app.exception and "keeps 0 rows" in app.error[0].value


def test_optimizer_page_bounds_and_estimate(app):
    app.sidebar.radio(key="page").set_value("Optimizer").run()
    app.number_input(key="opt_dim").set_value(1).run()
    assert app.number_input(key="opt_dim").value == 10  # dimension 1 is refused by the input's bounds
    assert any("at most 45,150 evaluations" in c.value for c in app.caption)  # 15 x 10 x 301


def test_regimes_need_enough_rows(app):
    app.sidebar.radio(key="page").set_value("Risk and regimes").run()
    app.text_input(key="risk_start_sp500").set_value("2022-10-01").run()
    app.number_input(key="risk_states").set_value(5).run()
    assert not app.exception and "regimes = 5 is not allowed" in app.error[0].value
