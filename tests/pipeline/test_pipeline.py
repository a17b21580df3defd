"""The pipeline on a synthetic market whose answer is known, its store, report, CLI and failures."""

import numpy as np
import pytest
from typer.testing import CliRunner

from meanfolio.cli import app
from meanfolio.data import PriceTable, ResultStore, write_prices
from meanfolio.pipeline import PipelineConfig, load_config, run_pipeline
from meanfolio.pipeline import run as run_module
from meanfolio.pipeline.config import PortfolioConfig
from meanfolio.pipeline.stages import mean_variance_weights, search_portfolio


def synthetic_market(T=1200, seed=0):
    """Asset STAR: daily mean 0.15 %, vol 1 % (Sharpe ~2.4/yr); four others: mean 0.01 %, vol 1.5 %."""
    rng = np.random.default_rng(seed)
    mu = np.array([0.0015, 0.0001, 0.0001, 0.0001, 0.0001])
    vol = np.array([0.010, 0.015, 0.015, 0.015, 0.015])
    common = rng.standard_normal((T, 1)) * 0.004
    r = mu + vol * rng.standard_normal((T, 5)) + common
    prices = 50 * np.cumprod(1 + r, axis=0)
    dates = np.datetime64("2015-01-01") + np.arange(T)
    return PriceTable(dates, ("STAR", "B", "C", "D", "E"), prices, "synthetic")


def small_config(tmp_path, **overrides):
    raw = {
        "store": str(tmp_path / "runs.duckdb"),
        "regimes": {"n_init": 2, "max_iter": 100},
        "equilibrium": {"nx": 81, "nt": 41},
        "portfolio": {"max_evaluations": 4000},
        "report": {"output_dir": str(tmp_path / "out"), "folds": 2, "test_fraction": 0.3},
    }
    for key, value in overrides.items():
        raw.setdefault(key, {}).update(value) if isinstance(value, dict) else raw.__setitem__(key, value)
    return PipelineConfig.from_dict(raw)


@pytest.fixture(scope="module")
def market():
    return synthetic_market()


def test_pipeline_picks_the_high_sharpe_asset_and_writes_everything(tmp_path, market):
    cfg = small_config(tmp_path)
    stages = []
    res = run_pipeline(cfg, prices=market, progress=stages.append)
    assert stages[0] == "data" and stages[-1] == "figures and HTML" and len(stages) == 6
    w = res.weights["mean_field_de"]
    assert w.argmax() == 0 and w[0] > 0.6, w
    assert w.sum() == pytest.approx(1.0) and w.min() >= 0
    assert res.weights["mean_variance"][0] > 0.6
    assert res.equilibrium.mass_error < 1e-12
    assert res.equilibrium.solution.m.min() >= 0
    # the report holds this run's numbers
    html = res.report.read_text()
    metrics = res.tables["metrics"]
    chosen = metrics.filter((metrics["portfolio"] == "mean_field_de") & (metrics["metric"] == "sharpe"))
    sharpe = chosen["out_of_sample"][0]
    assert f"{sharpe:.4g}" in html and res.run_id in html and html.count("data:image/png;base64,") == 4
    for name in ("regimes", "equilibrium", "weights", "out_of_sample"):
        assert res.figures[name].stat().st_size > 5000
    # the store gives back what was written
    with ResultStore(cfg.store) as store:
        rec = store.get_run(res.run_id)
        assert rec.status == "complete" and rec.config["portfolio"]["max_evaluations"] == 4000
        back = store.metrics(res.run_id)
        for name in ("summary", "weights", "metrics", "regimes", "folds", "regime_metrics"):
            assert back[name].equals(res.tables[name]), name
        arrays = store.arrays(res.run_id)
        np.testing.assert_array_equal(arrays["m"], res.equilibrium.solution.m)
        np.testing.assert_array_equal(arrays["weights"][0], w)
    # walk-forward: out-of-sample returns are the held weights on the test dates only
    R, _ = market.returns()
    first = int(round(R.shape[0] * 0.7))
    assert res.oos_returns["equal_weight"].size == R.shape[0] - first
    np.testing.assert_allclose(res.oos_returns["equal_weight"], R[first:].mean(axis=1))


def test_de_matches_scipy_mean_variance_without_penalty(market):
    # Without the equilibrium penalty, L-SHADE on the simplex finds scipy's SLSQP optimum.
    R, _ = market.returns()
    pc = PortfolioConfig(risk_aversion=3.0, deviation_penalty=0.0, max_evaluations=8000)
    w_de, _ = search_portfolio(R, np.full(5, 0.2), pc, 252)
    w_mv = mean_variance_weights(R, 3.0, 252)
    np.testing.assert_allclose(w_de, w_mv, atol=2e-3)


def test_failure_mid_run_keeps_earlier_runs(tmp_path, market, monkeypatch):
    cfg = small_config(tmp_path)
    good = run_pipeline(cfg, prices=market)

    def explode(*args, **kwargs):
        raise RuntimeError("the optimiser crashed")

    monkeypatch.setattr(run_module, "search_portfolio", explode)
    with pytest.raises(RuntimeError, match="optimiser crashed"):
        run_pipeline(cfg, prices=market)
    with ResultStore(cfg.store) as store:
        runs = {r["run_id"]: r for r in store.list_runs().iter_rows(named=True)}
        assert runs[good.run_id]["status"] == "complete"
        failed = [r for r in runs.values() if r["status"] == "failed"]
        assert len(failed) == 1 and "optimiser crashed" in failed[0]["message"]
        assert store.metrics(good.run_id)["weights"].equals(good.tables["weights"])


def test_config_validation(tmp_path):
    with pytest.raises(ValueError, match=r"unknown settings \['n_state'\] in section 'regimes'"):
        PipelineConfig.from_dict({"regimes": {"n_state": 3}})
    with pytest.raises(ValueError, match="unknown pipeline settings"):
        PipelineConfig.from_dict({"regime": {}})
    with pytest.raises(ValueError, match="objective"):
        PipelineConfig.from_dict({"portfolio": {"objective": "max_return"}})
    with pytest.raises(ValueError, match="x_min"):
        PipelineConfig.from_dict({"equilibrium": {"x_min": 2.0, "x_max": 1.0}})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config(bad)
    assert load_config("examples/pipeline.yaml").report.folds == 2


def test_cli_run_list_show_export(tmp_path, market):
    csv = write_prices(market, tmp_path / "market.csv")
    config = tmp_path / "p.yaml"
    config.write_text(
        f"data: {{source: {csv}}}\nregimes: {{n_init: 2}}\nequilibrium: {{nx: 81, nt: 41}}\n"
        f"portfolio: {{max_evaluations: 3000}}\nreport: {{folds: 1, output_dir: {tmp_path / 'out'}}}\n"
        f"store: {tmp_path / 'runs.duckdb'}\n"
    )
    runner = CliRunner()
    res = runner.invoke(app, ["pipeline", "run", str(config)])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output and "report.html" in res.output
    store = str(tmp_path / "runs.duckdb")
    listed = runner.invoke(app, ["runs", "list", "--store", store])
    assert listed.exit_code == 0 and "complete" in listed.output
    with ResultStore(store) as s:
        run_id = s.list_runs()["run_id"][0]
    shown = runner.invoke(app, ["runs", "show", run_id, "--store", store])
    assert shown.exit_code == 0 and "mean_field_de" in shown.output
    exported = runner.invoke(app, ["runs", "export", run_id, "--store", store, "--output", str(tmp_path / "e")])
    assert exported.exit_code == 0 and (tmp_path / "e" / "metrics" / "weights.csv").is_file()
    missing = runner.invoke(app, ["runs", "show", "nope", "--store", store])
    assert missing.exit_code == 2 and "nope" in missing.output
    config.write_text("portfolio: {objective: max_return}\n")
    bad = runner.invoke(app, ["pipeline", "run", str(config)])
    assert bad.exit_code == 2 and "objective" in bad.output
