"""The walk-forward backtest engine: hand-computed numbers, holdings accounting, no look-ahead,
calendars, agreement with skfolio, validation and interruption."""

from __future__ import annotations

import numpy as np
import pytest

from meanfolio.backtest import BacktestConfig, Rebalance, run_backtest


def business_days(start: str, stop: str, holidays=()) -> np.ndarray:
    days = np.arange(np.datetime64(start), np.datetime64(stop) + 1)
    keep = np.is_busday(days) & ~np.isin(days, np.array(holidays, dtype="datetime64[D]"))
    return days[keep]


def constant(weights):
    weights = np.asarray(weights, dtype=float)
    return lambda window, current, rebalance: weights


def min_variance(window, current, rebalance):
    precision = np.linalg.inv(np.cov(window, rowvar=False) + 1e-8 * np.eye(window.shape[1]))
    w = precision.sum(axis=1)
    return w / w.sum()


def momentum(window, current, rebalance):
    score = np.prod(1.0 + window, axis=0)  # uses every row of the window
    w = np.zeros(window.shape[1])
    w[np.argsort(score)[-2:]] = 0.45  # top two, 10 % cash
    return w


def sticky(window, current, rebalance):
    """Half-way to equal weight: depends on the drifted weights, hence on the whole past."""
    return 0.5 * current + 0.5 / window.shape[1]


def inverse_volatility(window, current, rebalance):
    w = 1.0 / window.std(axis=0, ddof=1)
    return w / w.sum()


def equal_weight(window, current, rebalance):
    return np.full(window.shape[1], 1.0 / window.shape[1])


@pytest.fixture(scope="module")
def market():
    rng = np.random.default_rng(7)
    dates = business_days("2015-01-01", "2017-12-31")
    T, n = dates.size, 5
    R = rng.normal(0.0004, 0.01, (T, n)) * np.linspace(0.6, 1.8, n)
    return R, dates


# --------------------------------------------------------------------------- hand-computed case


def test_two_assets_by_hand():
    R = np.array([[0.00, 0.00], [0.01, -0.02], [0.10, -0.05], [-0.20, 0.10], [0.05, 0.02]])
    dates = business_days("2024-01-01", "2024-01-07")  # Mon 1 .. Fri 5
    targets = iter([np.array([0.5, 0.3]), np.array([0.4, 0.4])])  # 20 % cash each time
    seen = []

    def strategy(window, current, rebalance):
        seen.append((rebalance.index, rebalance.holding_days, current.copy()))
        return next(targets)

    config = BacktestConfig(rebalance=2, window=2, cost_bps=10.0, impact=0.01)  # rebalances at rows 1 and 3
    res = run_backtest(R, dates, {"hand": strategy}, config)

    np.testing.assert_array_equal(res.dates, dates[1:])
    np.testing.assert_array_equal(res.rebalance_index, [1, 3])
    assert [(i, h) for i, h, _ in seen] == [(1, 2), (3, 1)]
    # row 1: buy from cash. turnover 0.5 + 0.3; cost 10 bp * 0.8 + 0.01 * (0.25 + 0.09) = 0.0008 + 0.0034
    # row 2: gross 0.5 * 0.10 + 0.3 * (-0.05) = 0.035; drift (0.55, 0.285) / 1.035, cash 0.2 / 1.035
    # row 3: gross (0.55 * -0.20 + 0.285 * 0.10) / 1.035 = -0.0815 / 1.035 = -0.07874396135265702
    #        pre-trade (0.44, 0.3135) / 0.9535 = (0.46145778710015731, 0.32878867330886208)
    #        trade (-0.06145778710015731, 0.07121132669113792): turnover 0.13266911379129523,
    #        cost 0.001 * 0.13266911379129523 + 0.01 * (0.0037770596 + 0.0050710530) = 0.00022115024023490
    # row 4: gross 0.4 * 0.05 + 0.4 * 0.02 = 0.028; final weights (0.42, 0.408) / 1.028
    gross = [0.0, 0.035, -0.07874396135265702, 0.028]
    turnover = [0.8, 0.0, 0.13266911379129523, 0.0]
    cost = [0.0042, 0.0, 0.00022115024023490, 0.0]
    h = res.strategies[0]
    np.testing.assert_allclose(res.gross[h], gross, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.turnover[h], turnover, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.cost[h], cost, rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.net[h], np.subtract(gross, cost), rtol=0, atol=1e-15)
    np.testing.assert_allclose(res.drifted[h], [[0.0, 0.0], [0.46145778710015731, 0.32878867330886208]], atol=1e-15)
    np.testing.assert_allclose(seen[1][2], res.drifted[h][1], atol=0)  # the strategy saw the drifted weights
    np.testing.assert_array_equal(res.weights[h], [[0.5, 0.3], [0.4, 0.4]])
    np.testing.assert_allclose(res.final_weights[h], [0.42 / 1.028, 0.408 / 1.028], atol=1e-15)
    np.testing.assert_allclose(res.wealth(h), np.cumprod(1 + np.subtract(gross, cost)), rtol=1e-15)
    years = 3 / 252
    assert res.annual_turnover(h) == pytest.approx((0.8 + 0.13266911379129523) / years, rel=1e-14)
    assert res.annual_cost(h, include_initial=False) == pytest.approx(0.00022115024023490 / years, rel=1e-12)


# --------------------------------------------------------------------------- holdings accounting


def test_drift_equals_holdings_accounting(market):
    R, dates = market
    rng = np.random.default_rng(3)
    n = R.shape[1]

    def random_book(window, current, rebalance):
        w = rng.uniform(0.05, 0.35, n)
        w[rng.integers(n)] *= -0.5  # a short; the rest (about 20 % on average) is cash
        return w

    config = BacktestConfig(rebalance="monthly", window=60, cost_bps=25.0, impact=0.05)
    res = run_backtest(R, dates, {"book": random_book}, config)
    rows, W = res.rebalance_index, res.weights["book"]
    prices = np.cumprod(1.0 + R, axis=0)  # close prices, 1 before the first row
    first = rows[0]
    wealth = np.empty(R.shape[0] - first)
    value, shares, cash = 1.0, np.zeros(n), 1.0
    rate, impact = 25e-4, 0.05
    k = 0
    for t in range(first, R.shape[0]):
        before = value
        value = shares @ prices[t] + cash  # holdings at today's prices
        if k < rows.size and t == rows[k]:
            held = shares * prices[t] / value
            np.testing.assert_allclose(res.drifted["book"][k], held, rtol=0, atol=1e-12)
            trade = W[k] - held
            turnover = np.abs(trade).sum()
            assert res.turnover["book"][t - first] == pytest.approx(turnover, abs=1e-12)
            value -= (rate * turnover + impact * trade @ trade) * before  # the cost, a fraction of yesterday's wealth
            shares = W[k] * value / prices[t]  # buy the targets with the post-cost wealth
            cash = value * (1.0 - W[k].sum())
            k += 1
        wealth[t - first] = value
    np.testing.assert_allclose(res.wealth("book"), wealth, rtol=1e-11)
    np.testing.assert_allclose(res.final_weights["book"], shares * prices[-1] / value, atol=1e-12)


# --------------------------------------------------------------------------- no look-ahead


@pytest.mark.parametrize("window_type", ["rolling", "expanding"])
def test_no_look_ahead(market, window_type):
    R, dates = market
    seen = []

    def recorder(window, current, rebalance):
        assert not window.flags.writeable
        with pytest.raises(ValueError):
            window[0, 0] = 1.0
        seen.append((rebalance.index, window.shape[0], window[-1].copy()))
        current[:] = 99.0  # a copy: must not touch the engine's state
        return equal_weight(window, current, rebalance)

    strategies = {"minvar": min_variance, "momentum": momentum, "sticky": sticky, "recorder": recorder}
    config = BacktestConfig(rebalance="weekly", window=120, window_type=window_type, cost_bps=5.0)
    base = run_backtest(R, dates, strategies, config)
    for index, length, last in seen:
        np.testing.assert_array_equal(last, R[index])  # the window ends AT the decision row
        assert length == (120 if window_type == "rolling" else index + 1)
    np.testing.assert_allclose(base.drifted["recorder"][1:].sum(axis=1), 1.0)  # the 99s did not leak

    cut = int(base.rebalance_index[base.rebalance_index.size // 2])  # D = a rebalance row
    noise = np.random.default_rng(11).normal(0.0, 0.02, R.shape)
    changed = R.copy()
    changed[cut + 1 :] = 3.0 * R[cut + 1 :] + noise[cut + 1 :]
    other = run_backtest(changed, dates, strategies, config)
    keep = base.rebalance_index <= cut
    m = cut - base.rebalance_index[0] + 1
    for name in strategies:
        np.testing.assert_array_equal(other.weights[name][keep], base.weights[name][keep])
        np.testing.assert_array_equal(other.drifted[name][keep], base.drifted[name][keep])
        for series in ("gross", "net", "turnover", "cost"):
            np.testing.assert_array_equal(getattr(other, series)[name][:m], getattr(base, series)[name][:m])
        # the perturbation does change what follows: the test could fail
        assert not np.array_equal(other.gross[name][m:], base.gross[name][m:])
    assert not np.array_equal(other.weights["minvar"][~keep], base.weights["minvar"][~keep])


# --------------------------------------------------------------------------- calendars


NYSE_HOLIDAYS = [
    "2022-12-26", "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29", "2023-06-19",
    "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25", "2024-01-01", "2024-01-15", "2024-02-19",
    "2024-03-29", "2024-05-27",
]  # fmt: skip


def rebalance_dates_of(dates, rebalance, window=2, unit="D"):
    config = BacktestConfig(rebalance=rebalance, window=window, cost_bps=0.0)
    res = run_backtest(np.zeros((dates.size, 1)), dates.astype(f"datetime64[{unit}]"), {"ew": equal_weight}, config)
    return res.rebalance_dates.astype("datetime64[D]").astype(str).tolist(), res


def test_monthly_and_quarterly_are_last_trading_days():
    dates = business_days("2022-12-01", "2024-04-30", NYSE_HOLIDAYS)
    monthly, res = rebalance_dates_of(dates, "monthly", unit="ns")  # pandas-style timestamps
    assert monthly == [
        "2022-12-30", "2023-01-31", "2023-02-28", "2023-03-31", "2023-04-28", "2023-05-31", "2023-06-30",
        "2023-07-31", "2023-08-31", "2023-09-29", "2023-10-31", "2023-11-30", "2023-12-29", "2024-01-31",
        "2024-02-29", "2024-03-28",  # Good Friday 2024-03-29 is a holiday; 2024-04-30 is the last row: no trade
    ]  # fmt: skip
    quarterly, _ = rebalance_dates_of(dates, "quarterly")
    assert quarterly == ["2022-12-30", "2023-03-31", "2023-06-30", "2023-09-29", "2023-12-29", "2024-03-28"]
    # the first rebalance needs `window` rows: 2022-12 has 21 trading rows, so window 22 starts in January
    assert rebalance_dates_of(dates, "monthly", window=21)[0][0] == "2022-12-30"
    assert rebalance_dates_of(dates, "monthly", window=22)[0][0] == "2023-01-31"
    holding = [int(h) for h in np.diff(np.append(res.rebalance_index, dates.size - 1))]
    assert sum(holding) == dates.size - 1 - res.rebalance_index[0]


def test_weekly_uses_iso_weeks_across_the_year_end():
    dates = business_days("2020-12-21", "2021-01-15", ["2020-12-25", "2021-01-01"])
    weekly, _ = rebalance_dates_of(dates, "weekly")
    assert weekly == ["2020-12-24", "2020-12-31", "2021-01-08"]
    dates = business_days("2023-03-27", "2023-04-21", NYSE_HOLIDAYS)
    assert rebalance_dates_of(dates, "weekly")[0] == ["2023-03-31", "2023-04-06", "2023-04-14"]  # Good Friday


def test_every_n_rows_daily_and_holding_days():
    dates = business_days("2024-01-01", "2024-02-09")  # 30 rows
    calls = []

    def strategy(window, current, rebalance):
        calls.append(rebalance)
        return equal_weight(window, current, rebalance)

    config = BacktestConfig(rebalance=7, window=5, cost_bps=0.0)
    res = run_backtest(np.zeros((30, 2)), dates, {"s": strategy}, config)
    np.testing.assert_array_equal(res.rebalance_index, [4, 11, 18, 25])
    assert [c.holding_days for c in calls] == [7, 7, 7, 4]
    assert all(isinstance(c, Rebalance) and c.date == dates[c.index] and c.periods_per_year == 252 for c in calls)
    daily = run_backtest(np.zeros((30, 2)), dates, {"s": equal_weight}, BacktestConfig(rebalance="daily", window=5))
    np.testing.assert_array_equal(daily.rebalance_index, np.arange(4, 29))
    np.testing.assert_array_equal(daily.dates, dates[4:])


# --------------------------------------------------------------------------- skfolio


@pytest.mark.parametrize("expand", [False, True])
def test_agrees_with_skfolio_walk_forward(expand):
    pd = pytest.importorskip("pandas")
    from skfolio.model_selection import WalkForward, cross_val_predict
    from skfolio.optimization import EqualWeighted, InverseVolatility

    rng = np.random.default_rng(5)
    dates = business_days("2010-01-01", "2013-03-31")
    R = rng.normal(0.0005, 0.012, (dates.size, 6)) * np.linspace(0.5, 2.0, 6)
    X = pd.DataFrame(R, index=pd.DatetimeIndex(dates), columns=[f"a{i}" for i in range(6)])
    cv = WalkForward(test_size=21, train_size=252, expand_train=expand)
    config = BacktestConfig(
        rebalance=21, window=252, window_type="expanding" if expand else "rolling", cost_bps=0.0, impact=0.0
    )
    ours = run_backtest(R, dates, {"ew": equal_weight, "iv": inverse_volatility}, config, assets=X.columns)
    for name, estimator in (("ew", EqualWeighted), ("iv", InverseVolatility)):
        pred = cross_val_predict(estimator(portfolio_params={"weight_drift": True}), X, cv=cv)
        observed = np.asarray(pred.observations, dtype="datetime64[D]")
        # skfolio's first test day is our first rebalance row + 1; it drops the last incomplete fold
        assert observed[0] == ours.dates[1]
        at = np.searchsorted(ours.dates, observed)
        np.testing.assert_array_equal(ours.dates[at], observed)
        np.testing.assert_allclose(ours.net[name][at], pred.returns, rtol=0, atol=1e-12)
        skw = np.array([p.weights for p in pred.portfolios])
        np.testing.assert_allclose(ours.weights[name][: len(skw)], skw, rtol=0, atol=1e-14)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rebalance": "hourly"}, "rebalance"),
        ({"rebalance": 0}, "rebalance"),
        ({"rebalance": 2.5}, "rebalance"),
        ({"rebalance": True}, "rebalance"),
        ({"window": 1}, "window"),
        ({"window": 10.0}, "window"),
        ({"window_type": "sliding"}, "window_type"),
        ({"cost_bps": -1}, "cost_bps"),
        ({"cost_bps": float("nan")}, "cost_bps"),
        ({"impact": -0.1}, "impact"),
        ({"periods_per_year": 0}, "periods_per_year"),
    ],
)
def test_bad_config_is_refused(kwargs, field):
    with pytest.raises(ValueError, match=field) as info:
        BacktestConfig(**kwargs)
    assert repr(next(iter(kwargs.values())))[:3] in str(info.value)


def test_bad_inputs_are_refused():
    dates = business_days("2024-01-01", "2024-01-31")
    R = np.random.default_rng(0).normal(0, 0.01, (dates.size, 3))
    config = BacktestConfig(rebalance="weekly", window=5)
    ok = {"ew": equal_weight}
    cases = [
        ((R, dates[::-1], ok), "strictly increasing"),
        ((R, np.r_[dates[:1], dates[:-1]], ok), "strictly increasing"),
        ((R, dates[:-1], ok), "dates has shape"),
        ((R, np.arange(dates.size), ok), "dates has dtype"),
        ((np.where(np.eye(dates.size, 3) > 0, np.nan, R), dates, ok), "returns contains"),
        ((R[:, 0], dates, ok), "returns has shape"),
        ((R, dates, {}), "strategies"),
        ((R, dates, {"bad": 3}), "strategies"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            run_backtest(*args, config)
    with pytest.raises(ValueError, match="window = 30"):
        run_backtest(R[:10], dates[:10], ok, BacktestConfig(window=30))
    with pytest.raises(ValueError, match="assets"):
        run_backtest(R, dates, ok, config, assets=["a", "a", "b"])
    with pytest.raises(ValueError, match="config"):
        run_backtest(R, dates, ok, {"window": 5})

    def nan_strategy(window, current, rebalance):
        return np.array([0.5, np.nan, 0.5])

    for bad, message in (
        (nan_strategy, "strategy 'nan_one' returned non-finite"),
        (constant([0.5, 0.5]), r"strategy 'nan_one' returned weights of shape \(2,\).*expected shape \(3,\)"),
        (lambda w, c, r: None, "strategy 'nan_one' returned weights of shape"),
        (lambda w, c, r: "abc", "strategy 'nan_one' returned 'abc'"),
    ):
        with pytest.raises(ValueError, match=message):
            run_backtest(R, dates, {"ew": equal_weight, "nan_one": bad}, config)

    def broken(window, current, rebalance):
        raise RuntimeError("solver failed")

    with pytest.raises(RuntimeError, match="solver failed") as info:
        run_backtest(R, dates, {"broken": broken}, config)
    assert "in strategy 'broken'" in "".join(info.value.__notes__)


def test_wiped_out_leverage_is_refused():
    dates = business_days("2024-01-01", "2024-01-31")
    R = np.full((dates.size, 2), 0.001)
    R[10] = -0.6
    with pytest.raises(ValueError, match="strategy 'levered'.*falls to <= 0"):
        run_backtest(R, dates, {"ok": equal_weight, "levered": constant([1.0, 1.0])}, BacktestConfig(1, window=3))
    with pytest.raises(ValueError, match="strategy 'levered': the cost 20.002 wipes out"):
        run_backtest(R, dates, {"levered": constant([1.0, 1.0])}, BacktestConfig(1, window=3, impact=10.0))


# --------------------------------------------------------------------------- interruption and helpers


def assert_same(a, b):
    assert a.strategies == b.strategies
    for series in ("dates", "rebalance_dates", "rebalance_index"):
        np.testing.assert_array_equal(getattr(a, series), getattr(b, series))
    for series in ("gross", "net", "turnover", "cost", "weights", "drifted", "final_weights"):
        for name in a.strategies:
            np.testing.assert_array_equal(getattr(a, series)[name], getattr(b, series)[name])


def test_callback_stop_is_the_backtest_of_the_data_so_far(market):
    R, dates = market
    strategies = {"minvar": min_variance, "sticky": sticky}
    config = BacktestConfig(rebalance="monthly", window=60, cost_bps=10.0)
    full = run_backtest(R, dates, strategies, config)
    calls = []

    def stop_after_three(done, total):
        calls.append((done, total))
        return done == 3

    part = run_backtest(R, dates, strategies, config, callback=stop_after_three)
    assert full.completed and not part.completed
    assert calls == [(1, full.rebalance_index.size), (2, full.rebalance_index.size), (3, full.rebalance_index.size)]
    assert part.rebalance_index.size == 3
    end = int(full.rebalance_index[3])
    assert part.dates[-1] == dates[end] and part.turnover["minvar"][-1] == 0.0
    assert_same(part, run_backtest(R[: end + 1], dates[: end + 1], strategies, config))

    state = {"calls": 0}

    def interrupted(window, current, rebalance):
        state["calls"] += 1
        if state["calls"] == 5:  # the fifth rebalance, after "minvar" already traded
            raise KeyboardInterrupt
        return sticky(window, current, rebalance)

    part = run_backtest(R, dates, {"minvar": min_variance, "sticky": interrupted}, config)
    assert not part.completed and part.rebalance_index.size == 4
    end = int(full.rebalance_index[4])
    assert_same(part, run_backtest(R[: end + 1], dates[: end + 1], strategies, config))
    state["calls"] = 4
    with pytest.raises(KeyboardInterrupt):  # nothing finished: the interrupt propagates
        run_backtest(R, dates, {"minvar": min_variance, "sticky": interrupted}, config)


def test_frames_summary_and_plot(market):
    R, dates = market
    res = run_backtest(R, dates, {"ew": equal_weight, "iv": inverse_volatility}, BacktestConfig("monthly", window=60))
    k, m, n = res.rebalance_index.size, res.dates.size, R.shape[1]
    weights = res.weights_frame()
    assert weights.columns[:4] == ["date", "strategy", "asset", "weight"] and weights.height == 2 * k * n
    iv = weights.filter(weights["strategy"] == "iv")["weight"].to_numpy().reshape(k, n)
    np.testing.assert_array_equal(iv, res.weights["iv"])
    frame = res.returns_frame()
    assert frame.columns == ["date", "strategy", "gross", "net", "turnover", "cost"] and frame.height == 2 * m
    np.testing.assert_array_equal(frame.filter(frame["strategy"] == "ew")["net"].to_numpy(), res.net["ew"])
    summary = res.summary()
    assert summary["annual_turnover"].to_list() == [res.annual_turnover("ew"), res.annual_turnover("iv")]
    assert res.drawdown("iv").max() <= 0.0 and res.drawdown("iv").min() < 0.0
    with pytest.raises(ValueError, match="strategy = 'hrp'"):
        res.wealth("hrp")
    fig = res.plot()
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
