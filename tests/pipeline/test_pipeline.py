"""The backtest pipeline on a synthetic market: outputs, store, no look-ahead, crowding, CLI, failures."""

import json
import re
from html import escape

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from meanfolio.backtest import run_backtest
from meanfolio.cli import app
from meanfolio.data import PriceTable, ResultStore, write_prices
from meanfolio.pipeline import PipelineConfig, load_config, run_pipeline
from meanfolio.pipeline import run as run_module
from meanfolio.risk import sharpe_ratio


def synthetic_market(T=900, seed=0):
    """Asset STAR: daily mean 0.15 %, vol 1 % (Sharpe ~2.4/yr); four others: mean 0.03 %, vol 1.5 %."""
    rng = np.random.default_rng(seed)
    mu = np.array([0.0015, 0.0003, 0.0003, 0.0003, 0.0003])
    vol = np.array([0.010, 0.015, 0.015, 0.015, 0.015])
    r = mu + vol * rng.standard_normal((T, 5)) + rng.standard_normal((T, 1)) * 0.004
    prices = 50 * np.cumprod(1 + r, axis=0)
    dates = np.datetime64("2015-01-01") + np.arange(T)
    return PriceTable(dates, ("STAR", "B", "C", "D", "E"), prices, "synthetic")


def small_config(tmp_path, **sections):
    raw = {
        "store": str(tmp_path / "runs.duckdb"),
        "backtest": {"window": 250, "rebalance": "monthly", "cost_bps": 10},
        "constraints": {"max_weight": 1.0},
        "statistics": {"n_boot": 200},
        "regimes": {"n_init": 1, "max_iter": 50},
        "report": {"output_dir": str(tmp_path / "out")},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return PipelineConfig.from_dict(raw)


@pytest.fixture(scope="module")
def market():
    return synthetic_market()


@pytest.fixture(scope="module")
def finished(tmp_path_factory, market):
    tmp = tmp_path_factory.mktemp("pipeline")
    cfg = small_config(tmp, sweep={"crowding": [0.3]})
    stages = []
    return cfg, run_pipeline(cfg, prices=market, progress=stages.append, out=tmp / "out"), stages


def test_outputs_hold_the_run_numbers(finished):
    cfg, res, stages = finished
    assert stages[0] == "data" and stages[-1] == "report"
    out = res.output_dir
    summary = json.loads((out / "summary.json").read_text())
    keys = {"annual_return", "volatility", "sharpe", "sharpe_ci", "sortino", "max_drawdown", "cvar_95", "turnover"}
    assert set(summary["strategies"]) == set(cfg.strategies)
    for s in summary["strategies"].values():
        assert keys | {"cost"} <= set(s) and s["sharpe_ci"][0] < s["sharpe"] < s["sharpe_ci"][1]
    mf = summary["strategies"]["mean_field"]
    assert set(mf["sharpe_diff_pvalue"]) == set(cfg.strategies) - {"mean_field"}
    assert 0 <= mf["deflated_sharpe"] <= 1 and mf["n_trials"] == summary["n_trials"] == 2
    assert summary["rebalances"] == len(res.backtest.rebalance_dates) and summary["config"]["backtest"]["window"] == 250
    # the CSV files are the backtest: Sharpe and turnover recomputed from them equal the summary's
    returns = pl.read_csv(out / "returns.csv")
    assert returns.columns == ["date", "strategy", "gross", "net", "turnover", "cost"]
    net = returns.filter(pl.col("strategy") == "mean_field")["net"].to_numpy()
    assert sharpe_ratio(net) == pytest.approx(mf["sharpe"], rel=1e-12)
    weights = pl.read_csv(out / "weights.csv")
    assert weights.columns[:4] == ["date", "strategy", "asset", "weight"]
    last = weights.filter((pl.col("strategy") == "mean_field") & (pl.col("date") == weights["date"].max()))
    np.testing.assert_allclose(last["weight"].to_numpy(), res.backtest.weights["mean_field"][-1], atol=1e-10)
    # no solver dust in the file: every weight is 0 or at least 1e-10 in size, rounded to 10 decimals
    w = weights["weight"].to_numpy()
    assert np.all((w == 0) | (np.abs(w) >= 1e-10)) and np.array_equal(w, np.round(w, 10))
    # the HTML is self-contained and shows this run's statistics and verdict
    html = (out / "report.html").read_text()
    assert res.run_id in html and f"{mf['sharpe']:.4g}" in html and "http" not in html.replace("http-equiv", "")
    assert html.count("data:image/png;base64,") == len(res.figures) == 5
    assert escape(res.verdict) in html
    assert "<th>annual return</th>" in html and "<th>max drawdown</th>" in html  # labels, not snake_case keys
    assert "_" not in "".join(re.findall(r"<th>([^<]*)</th>", html))
    assert not re.search(r"<td>-?\d(\.\d+)?e-(1[1-9]|[2-9]\d)</td>", html)  # no dust like 9.865e-13
    with ResultStore(cfg.store) as store:
        rec = store.get_run(res.run_id)
        assert rec.status == "complete"
        back = store.metrics(res.run_id)
        assert back["returns"].height == returns.height and back["sweep"].height == 2


def test_statistics_are_consistent_with_the_series(finished):
    _, res, _ = finished
    bt = res.backtest
    for name, s in res.statistics.items():
        cost = np.asarray(bt.cost[name])
        assert s["cost"] == pytest.approx(cost.sum() / bt.years, rel=1e-12)
        np.testing.assert_allclose(np.asarray(bt.gross[name]) - cost, bt.net[name], atol=1e-15)
    # every optimiser that uses means holds more of the star asset than equal weight, on average
    for name in ("mean_field", "cooperative", "mean_variance"):
        assert bt.weights[name][:, 0].mean() > 0.3, name


def test_crowding_shrinks_the_crowded_asset(tmp_path, market):
    # every manager wants STAR; the crowding term makes the mean-field strategy hold less of it than Markowitz,
    # the more so the stronger the crowding (trading cost ~0: both jump to their targets, so lam = 0 is Markowitz)
    star = {}
    for lam in (0.0, 0.5, 2.0):
        game = {"crowding": lam, "trading_cost": 1e-9}
        cfg = small_config(tmp_path, strategies={"mean_field": game, "mean_variance": {}})
        R, dates = market.returns()
        res = run_backtest(R, dates, run_module._strategies(cfg, cfg.strategies), cfg.backtest)
        star[lam] = res.weights["mean_field"][:, 0].mean()
        markowitz = res.weights["mean_variance"][:, 0].mean()
        if lam == 0.0:  # our game at lam = 0 through QP is skfolio's Markowitz at every rebalance
            np.testing.assert_allclose(res.weights["mean_field"], res.weights["mean_variance"], atol=1e-3)
    assert markowitz > star[0.5] + 0.02 and star[0.5] > star[2.0] + 0.05


def test_no_look_ahead_for_every_strategy(tmp_path, market):
    cfg = small_config(tmp_path, constraints={"max_weight": 0.6, "cardinality": 3})
    R, dates = market.returns()
    split = 600
    perturbed = R.copy()
    noise = 0.01 * np.random.default_rng(1).standard_normal(R[split + 1 :].shape)
    perturbed[split + 1 :] = 3.0 * R[split + 1 :] + noise
    runs = [run_backtest(X, dates, run_module._strategies(cfg, cfg.strategies), cfg.backtest)
            for X in (R, perturbed)]  # fmt: skip
    before = runs[0].rebalance_index <= split
    assert before.sum() >= 10 and (~before).sum() >= 5
    for name in cfg.strategies:
        np.testing.assert_array_equal(runs[0].weights[name][before], runs[1].weights[name][before], err_msg=name)
        later = np.array_equal(runs[0].weights[name][~before], runs[1].weights[name][~before])
        assert not later or name == "equal_weight", name  # the perturbation is seen after the split
    # the cardinality limit holds
    assert np.all((runs[0].weights["mean_field"] > 0).sum(axis=1) <= 3)


def test_failure_mid_run_keeps_earlier_runs(tmp_path, market, monkeypatch):
    cfg = small_config(tmp_path, strategies=["mean_field", "equal_weight"], statistics={"n_boot": 100})
    good = run_pipeline(cfg, prices=market)

    def explode(*args, **kwargs):
        raise RuntimeError("the statistics crashed")

    monkeypatch.setattr(run_module, "strategy_statistics", explode)
    with pytest.raises(RuntimeError, match="statistics crashed"):
        run_pipeline(cfg, prices=market)
    with ResultStore(cfg.store) as store:
        runs = {r["run_id"]: r for r in store.list_runs().iter_rows(named=True)}
        assert runs[good.run_id]["status"] == "complete"
        failed = [r for r in runs.values() if r["status"] == "failed"]
        assert len(failed) == 1 and "statistics crashed" in failed[0]["message"]
        assert "returns" in store.metrics(failed[0]["run_id"])  # the finished backtest was kept


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"backtest": {"rebalance": "hourly"}}, r"backtest\.rebalance = 'hourly'"),
        ({"backtest": {"window": 5}}, r"backtest\.window = 5"),
        ({"backtest": {"cost_bps": -1}}, r"backtest\.cost_bps = -1"),
        ({"constraints": {"max_weight": 0}}, r"constraints\.max_weight = 0"),
        ({"constraints": {"cardinality": 0}}, r"constraints\.cardinality = 0"),
        ({"strategies": ["mean_field", "momentum"]}, "strategies = 'momentum'"),
        ({"strategies": {"mean_field": {"crowdin": 1}}}, r"unknown settings \['crowdin'\] for strategy 'mean_field'"),
        ({"game": {"crowding": -1}}, r"game\.crowding = -1"),
        ({"sweep": {"crowding": "0.1"}}, r"sweep\.crowding = '0.1'"),
        ({"regime": {}}, "unknown pipeline settings"),
        ({"store": None}, "store = None"),
        ({"store": "x.csv"}, "store = 'x.csv'"),
        ({"store": "None"}, "store = 'None'"),
        ({"data": {"decimal": ";"}}, r"data\.decimal = ';'"),
    ],
)
def test_bad_configs_name_the_key(raw, message):
    with pytest.raises(ValueError, match=message):
        PipelineConfig.from_dict(raw)


def test_example_config_is_the_documented_default():
    cfg = load_config("examples/pipeline.yaml")
    assert cfg.backtest.rebalance == "monthly" and cfg.backtest.cost_bps == 10 and len(cfg.strategies) == 7
    assert cfg.data.start == "1995-01-01"
    # every value shown is the default, unless its line says "not the default"
    import yaml

    text = open("examples/pipeline.yaml").read()
    raw = yaml.safe_load(text)
    default = PipelineConfig().to_dict()
    for section, values in raw.items():
        if section == "strategies":
            assert list(values) == list(default[section]), section
            continue
        if not isinstance(values, dict):
            assert values == default[section], section
            continue
        for key, value in values.items():
            lines = text.splitlines()
            start = next(i for i, x in enumerate(lines) if x.startswith(f"{section}:"))
            line = next(x for x in lines[start:] if x.strip().startswith(f"{key}:"))
            if "not the default" in line:
                assert value != default[section][key], (section, key)
            else:
                shown = f"{section}.{key} = {value!r} shown, default {default[section][key]!r}"
                assert value == default[section][key], shown


def test_cli_run_writes_the_files_and_refuses_bad_configs(tmp_path, market):
    csv = write_prices(market, tmp_path / "market.csv")
    config = tmp_path / "p.yaml"
    config.write_text(
        f"data: {{source: {csv}, start: null}}\nbacktest: {{window: 250}}\nstatistics: {{n_boot: 100}}\n"
        f"strategies: [mean_field, equal_weight, hrp]\nstore: {tmp_path / 'runs.duckdb'}\n"
    )
    runner = CliRunner()
    res = runner.invoke(app, ["pipeline", "run", str(config), "--out", str(tmp_path / "o")], terminal_width=200)
    assert res.exit_code == 0, res.output
    for name in ("report.html", "summary.json", "weights.csv", "returns.csv"):
        assert (tmp_path / "o" / name).is_file()
    assert "deflated Sharpe" in res.output and "hrp" in res.output
    config.write_text("backtest: {rebalance: hourly}\n")
    bad = runner.invoke(app, ["pipeline", "run", str(config)])
    assert bad.exit_code == 2 and "backtest.rebalance" in bad.output and "Traceback" not in bad.output


def test_long_file_with_a_chosen_price_column_and_date_format(tmp_path, market):
    # a quote-service style long file: M/D/Y dates, several price columns; column= picks one, nothing is guessed
    R, dates = market.returns()
    rows = ["Date,asset,Close,Adj Close"]
    for t, day in enumerate(market.dates):
        us = np.datetime_as_string(day).split("-")
        for j, ticker in enumerate(market.tickers):
            rows.append(f"{us[1]}/{us[2]}/{us[0]},{ticker},{2 * market.prices[t, j]},{market.prices[t, j]}")
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(rows))
    cfg = PipelineConfig.from_dict({"data": {"source": str(path), "date_format": "%m/%d/%Y", "column": "Adj Close",
                                             "start": None, "assets": ["STAR", "B"]}})  # fmt: skip
    table = run_module.load_data(cfg)
    np.testing.assert_allclose(table.returns()[0], R[:, :2], rtol=1e-9)
    assert table.dates[0] == market.dates[0]
    # without date_format the whole column decides (days > 12 exist): the same table, never D/M/Y
    inferred = run_module.load_data(
        PipelineConfig.from_dict(
            {"data": {"source": str(path), "column": "Adj Close", "start": None, "assets": ["STAR", "B"]}}
        )
    )
    np.testing.assert_array_equal(inferred.dates, table.dates)
    # the first 12 days alone are ambiguous: refused, naming date_format, not guessed
    path.write_text("\n".join(rows[: 1 + 12 * len(market.tickers)]))
    with pytest.raises(ValueError, match="ambiguous.*date_format="):
        run_module.load_data(PipelineConfig.from_dict({"data": {"source": str(path), "column": "Adj Close"}}))


def test_runs_export_includes_the_report_and_figures(finished, tmp_path):
    cfg, res, _ = finished
    runner = CliRunner()
    prefix = res.run_id[: len(res.run_id) - 3]
    out = tmp_path / "export"
    done = runner.invoke(app, ["runs", "export", prefix, "--output", str(out), "--store", cfg.store],
                         terminal_width=300)  # fmt: skip
    assert done.exit_code == 0, done.output
    report = out / "report" / "report.html"
    assert report.read_bytes() == (res.output_dir / "report.html").read_bytes()
    for path in res.figures.values():
        assert (out / "report" / path.name).read_bytes() == path.read_bytes()
    assert (out / "report" / "summary.json").is_file() and (out / "metrics" / "statistics.csv").is_file()


def test_the_game_figure_keeps_the_grid_range(finished, tmp_path, monkeypatch):
    from meanfolio.pipeline import report

    _, res, _ = finished
    figures = {}

    def keep(fig, path):
        figures[path.name] = fig
        return path

    monkeypatch.setattr(report, "save_figure", keep)
    report.write_figures(res, tmp_path, None)
    ax = figures["game.png"].axes[1]
    sol = res.final["pde"].solutions[0]
    assert ax.get_xlim() == pytest.approx((sol.x[0], sol.x[-1]))
    bars = [p.get_height() for p in figures["game.png"].axes[0].patches]
    assert all(h == 0 or abs(h) >= 1e-10 for h in bars)
