r"""One walk-forward backtest engine for every strategy.

Conventions (each one is tested in ``tests/backtest/test_engine.py``)
--------------------------------------------------------------------

Timing and information
    ``returns[t]`` is the simple return of each asset from close ``t - 1`` to close ``t``. A decision at
    close ``t`` sees ``returns[:t + 1]`` only: the strategy receives the estimation window ending AT row
    ``t`` inclusive (``returns[t - window + 1 : t + 1]`` rolling, ``returns[: t + 1]`` expanding), as a
    read-only view. The post-trade weights :math:`w^+_t` first earn ``returns[t + 1]``.

Cash
    Weights need not sum to 1: the rest, :math:`1 - \sum_i w_i`, is cash earning 0 (negative = borrowing
    at 0). The backtest starts in cash: the pre-trade weights at the first rebalance are zeros.

Calendar
    See :mod:`meanfolio.backtest.schedule`: ``"monthly"`` = last row of each calendar month present in
    ``dates`` (likewise ISO week, quarter), ``"daily"`` every row, ``N`` every N rows from row
    ``window - 1``; the first rebalance is the first such row with at least ``window`` rows up to it;
    the last row is never a rebalance.

Drift (between rebalances, every row)
    .. math::
        g_{t+1} = w_t \cdot r_{t+1}, \qquad
        w_{t+1} = \frac{w_t \circ (1 + r_{t+1})}{\sum_i w_{t,i} (1 + r_{t+1,i}) + (1 - \sum_i w_{t,i})}
                = \frac{w_t \circ (1 + r_{t+1})}{1 + g_{t+1}}

    where :math:`w_t` is the post-trade weight on a rebalance row and the drifted weight otherwise. The
    drifted weight on a rebalance row is the pre-trade weight :math:`w^-_t`. This equals holdings-based
    accounting (shares bought at the rebalance, valued at later prices, cash constant).

Turnover and costs (on a rebalance row t)
    :math:`\tau_t = \sum_i |w^+_{t,i} - w^-_{t,i}|` (two-way, fraction of wealth),
    :math:`c_t = \text{cost\_bps} \cdot 10^{-4} \tau_t + \text{impact} \sum_i (w^+_{t,i} - w^-_{t,i})^2`,
    charged on the rebalance day: :math:`\text{net}_t = g_t - c_t` (``net = gross`` on other rows). The
    wealth is :math:`V_t = V_{t-1} (1 + \text{net}_t)` and :math:`w^+_t` are fractions of the post-cost
    :math:`V_t` (the cost is paid out of cash; measuring trades against pre-cost wealth is the usual
    first-order approximation, as in skfolio).

Result series
    Aligned to ``dates[first rebalance row :]``: ``gross`` is 0 on the first row (the start is in cash),
    ``turnover`` and ``cost`` are 0 off rebalance rows. A wealth factor :math:`1 + g` or :math:`1 + net`
    that is not > 0 (a leveraged book wiped out) raises ValueError naming the strategy and the date.

Interruption
    ``callback(done, total)`` is called after each rebalance (all strategies traded and held to the next
    rebalance row); returning True stops the run. Ctrl-C (KeyboardInterrupt) likewise returns the
    rebalances finished so far (it propagates if none was). A partial result with ``done`` rebalances is
    the backtest of ``returns[: rows[done] + 1]``: it ends on the next rebalance row, before that trade,
    and has ``completed = False``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from time import perf_counter

import numpy as np
import polars as pl

from meanfolio._validation import check_array
from meanfolio.backtest._kernels import hold
from meanfolio.backtest.schedule import BacktestConfig, Rebalance, check_dates, rebalance_rows

__all__ = ["BacktestResult", "Strategy", "run_backtest"]

#: The type of a strategy of :func:`run_backtest`: ``strategy(window, current, rebalance) -> weights``.
Strategy = Callable[[np.ndarray, np.ndarray, Rebalance], np.ndarray]


@dataclass(frozen=True)
class BacktestResult:
    """Walk-forward backtest of several strategies on the same data and calendar, from :func:`run_backtest`.

    Attributes
    ----------
    dates : ndarray of datetime64, shape (m,)
        ``dates[first rebalance row:]``.
    gross, net, turnover, cost : dict of str to ndarray, shape (m,)
        Per strategy: gross and net (after costs) simple returns, two-way
        turnover and cost (fractions of wealth; 0 off rebalance rows).
    rebalance_dates : ndarray of datetime64, shape (k,)
        The decision dates.
    weights, drifted : dict of str to ndarray, shape (k, n)
        Post-trade and pre-trade (drifted) weights at each rebalance.
    assets : tuple of str
        Asset names (n,).
    config : BacktestConfig
        The settings.
    completed : bool
        False for a run stopped by the callback or Ctrl-C.
    rebalance_index : ndarray of int, shape (k,)
        The rows of the input returns matrix of the rebalances.
    final_weights : dict of str to ndarray, shape (n,)
        The drifted weights at the close of the last date.
    strategy_seconds : dict of str to float
        Time spent inside each strategy.
    elapsed : float
        Seconds of the whole run.
    """

    dates: np.ndarray
    gross: dict[str, np.ndarray]
    net: dict[str, np.ndarray]
    turnover: dict[str, np.ndarray]
    cost: dict[str, np.ndarray]
    rebalance_dates: np.ndarray
    weights: dict[str, np.ndarray]
    drifted: dict[str, np.ndarray]
    assets: tuple[str, ...]
    config: BacktestConfig
    completed: bool = True
    rebalance_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    final_weights: dict[str, np.ndarray] = field(default_factory=dict)
    strategy_seconds: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def strategies(self) -> tuple[str, ...]:
        return tuple(self.net)

    @property
    def years(self) -> float:
        """Time from the first decision to the last close: ``(len(dates) - 1) / periods_per_year``."""
        return max(len(self.dates) - 1, 1) / self.config.periods_per_year

    def _name(self, strategy: str) -> str:
        if strategy not in self.net:
            raise ValueError(
                f"strategy = {strategy!r} is not allowed: expected one of " + ", ".join(map(repr, self.net))
            )
        return strategy

    def wealth(self, strategy: str, net: bool = True) -> np.ndarray:
        """Cumulative wealth ``prod(1 + r)`` (m,), starting from 1 before the first date."""
        series = self.net if net else self.gross
        return np.cumprod(1.0 + series[self._name(strategy)])

    def drawdown(self, strategy: str, net: bool = True) -> np.ndarray:
        """Drawdown of the wealth from its running peak (m,), values <= 0."""
        wealth = np.concatenate(([1.0], self.wealth(strategy, net)))
        return (wealth / np.maximum.accumulate(wealth) - 1.0)[1:]

    def annual_turnover(self, strategy: str, *, include_initial: bool = True) -> float:
        """Sum of two-way turnover per year (``include_initial=False`` drops the first buy from cash)."""
        turnover = self.turnover[self._name(strategy)]
        return float(turnover[0 if include_initial else 1 :].sum() / self.years)

    def annual_cost(self, strategy: str, *, include_initial: bool = True) -> float:
        """Sum of costs (fraction of wealth) per year."""
        cost = self.cost[self._name(strategy)]
        return float(cost[0 if include_initial else 1 :].sum() / self.years)

    def returns_frame(self) -> pl.DataFrame:
        """Long frame (date, strategy, gross, net, turnover, cost), one row per date and strategy."""
        names = self.strategies
        m = len(self.dates)
        return pl.DataFrame(
            {
                "date": np.tile(self.dates, len(names)),
                "strategy": np.repeat(np.array(names, dtype=object), m).astype(str),
                **{col: np.concatenate([getattr(self, col)[s] for s in names]) for col in ("gross", "net")},
                **{col: np.concatenate([getattr(self, col)[s] for s in names]) for col in ("turnover", "cost")},
            }
        )

    def to_frame(self) -> pl.DataFrame:
        """Same as :meth:`returns_frame`."""
        return self.returns_frame()

    def weights_frame(self) -> pl.DataFrame:
        """Long frame (date, strategy, asset, weight, drifted): post-trade and pre-trade weights per rebalance."""
        names, k, n = self.strategies, len(self.rebalance_dates), len(self.assets)
        return pl.DataFrame(
            {
                "date": np.tile(np.repeat(self.rebalance_dates, n), len(names)),
                "strategy": np.repeat(np.array(names, dtype=str), k * n),
                "asset": np.tile(np.array(self.assets, dtype=str), k * len(names)),
                "weight": np.concatenate([self.weights[s].ravel() for s in names]),
                "drifted": np.concatenate([self.drifted[s].ravel() for s in names]),
            }
        )

    def summary(self) -> pl.DataFrame:
        """One row per strategy, on net returns.

        Columns: annual return (geometric), volatility, Sharpe (zero rate), max
        drawdown, annual turnover and cost.
        """
        ppy = self.config.periods_per_year
        rows = []
        for s in self.strategies:
            r = self.net[s][1:]  # the first row is the start from cash
            vol = float(r.std(ddof=1) * np.sqrt(ppy)) if r.size > 1 else float("nan")
            rows.append(
                {
                    "strategy": s,
                    "annual_return": float(self.wealth(s)[-1] ** (1.0 / self.years) - 1.0),
                    "annual_volatility": vol,
                    "sharpe": float(r.mean() * ppy / vol) if vol > 0 else float("nan"),
                    "max_drawdown": float(self.drawdown(s).min()),
                    "annual_turnover": self.annual_turnover(s),
                    "annual_cost": self.annual_cost(s),
                }
            )
        return pl.DataFrame(rows)

    def plot(self):
        """Figure: cumulative net wealth of every strategy (top) and its drawdown (bottom)."""
        from meanfolio.plotting import new_figure

        fig, (top, bottom) = new_figure(2, columns=1, width=9.0, height=3.4)
        for s in self.strategies:
            top.plot(self.dates, self.wealth(s), label=s, lw=1.2)
            bottom.plot(self.dates, self.drawdown(s), label=s, lw=1.0)
        top.set_ylabel("net wealth")
        top.set_title("Walk-forward backtest" + ("" if self.completed else " (stopped early)"))
        top.legend(loc="best", fontsize="small")
        bottom.set_ylabel("drawdown")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
        return fig


def _check_strategies(strategies) -> tuple[str, ...]:
    if not isinstance(strategies, Mapping) or len(strategies) == 0:
        raise ValueError(f"strategies = {strategies!r} is not allowed: expected a non-empty dict name -> callable")
    for name, fn in strategies.items():
        if not isinstance(name, str) or not callable(fn):
            raise ValueError(f"strategies[{name!r}] = {fn!r} is not allowed: expected a str name -> callable")
    return tuple(strategies)


def _check_assets(assets, n: int) -> tuple[str, ...]:
    if assets is None:
        return tuple(f"x{i}" for i in range(n))
    names = tuple(str(a) for a in assets)
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"assets = {assets!r} is not allowed: expected {n} distinct names, one per column")
    return names


def _where(info: Rebalance) -> str:
    return f"at rebalance {info.date} (row {info.index})"


def _check_weights(name: str, out, n: int, info: Rebalance) -> np.ndarray:
    """``out`` as a float64 copy of shape (n,) (finiteness is checked for all strategies at once)."""
    try:
        w = np.array(out, dtype=np.float64)  # a copy: the strategy may reuse its buffer
    except (TypeError, ValueError) as exc:
        raise ValueError(f"strategy {name!r} returned {out!r} {_where(info)}, not weights: {exc}") from exc
    if w.shape != (n,):
        raise ValueError(
            f"strategy {name!r} returned weights of shape {w.shape} {_where(info)} which is not allowed: "
            f"expected shape ({n},)"
        )
    return w


def run_backtest(
    returns,
    dates,
    strategies: dict[str, Strategy],
    config: BacktestConfig,
    *,
    assets=None,
    callback: Callable[[int, int], bool | None] | None = None,
) -> BacktestResult:
    r"""Walk-forward backtest of several strategies on the same returns, calendar and costs.

    At every rebalance row t each strategy is called as
    ``strategy(window, current, rebalance)`` and returns target weights; between
    rebalances the weights drift with the prices.

    Parameters
    ----------
    returns : array_like, shape (T, n)
        Simple returns: ``returns[t]`` is the return from close t - 1 to close t.
    dates : array_like of datetime64 or ISO str, shape (T,)
        Strictly increasing dates of the rows.
    strategies : dict of str to callable
        ``strategy(window, current, rebalance) -> weights`` with ``window`` the
        read-only estimation window (rows up to t inclusive, shape (w, n)),
        ``current`` the pre-trade (drifted) weights (n,), ``rebalance`` a
        :class:`Rebalance`; returns the target weights (n,) as fractions of
        wealth (the rest is cash earning 0).
    config : BacktestConfig
        Calendar, window and costs.
    assets : sequence of str, optional
        Asset names (n,).
    callback : callable, optional
        ``callback(done, total)`` after each rebalance; returning True stops the
        run (Ctrl-C likewise), giving a partial result with ``completed=False``.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        If the inputs are malformed, the window leaves no rebalance, a strategy
        returns weights of the wrong shape or non-finite ones, or a wealth factor
        :math:`1 + g` is not positive (the strategy and date are named).

    Notes
    -----
    A decision at close t sees ``returns[:t + 1]`` only; the post-trade weights
    :math:`w^+_t` first earn ``returns[t + 1]``. Between rebalances,

    .. math::

        g_{t+1} = w_t \cdot r_{t+1}, \qquad w_{t+1} = \frac{w_t \circ (1 + r_{t+1})}{1 + g_{t+1}},

    which equals holdings-based accounting. On a rebalance row the turnover is
    :math:`\tau_t = \sum_i \lvert w^+_{t,i} - w^-_{t,i}\rvert` and the cost

    .. math::

        c_t = \text{cost\_bps} \cdot 10^{-4}\, \tau_t + \text{impact} \sum_i (w^+_{t,i} - w^-_{t,i})^2,

    charged that day: :math:`\text{net}_t = g_t - c_t`. The backtest starts in cash.

    See Also
    --------
    BacktestConfig, rebalance_rows, estimator_strategy, make_estimator

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.backtest import BacktestConfig, run_backtest
    >>> from meanfolio.data import load_sp500
    >>> table = load_sp500(["AAPL", "KO", "XOM"], start="2018-01-01", end="2020-12-31")
    >>> returns, dates = table.returns()
    >>> def equal_weight(window, current, rebalance):
    ...     return np.full(window.shape[1], 1.0 / window.shape[1])
    >>> result = run_backtest(returns, dates, {"equal": equal_weight},
    ...                       BacktestConfig(rebalance="monthly", window=252), assets=table.tickers)
    >>> len(result.rebalance_dates), str(result.rebalance_dates[0])
    (23, '2019-01-31')
    >>> round(float(result.wealth("equal")[-1]), 3)
    1.41
    """
    started = perf_counter()
    if not isinstance(config, BacktestConfig):
        raise ValueError(f"config = {config!r} is not allowed: expected a BacktestConfig")
    R = check_array("returns", returns, ndim=2)
    T, n = R.shape
    if n < 1:
        raise ValueError(f"returns has shape {R.shape} which is not allowed: expected at least one asset column")
    dates = check_dates(dates, T)
    if config.window >= T:
        raise ValueError(f"window = {config.window} is not allowed: expected window < {T}, the number of return rows")
    names = _check_strategies(strategies)
    assets = _check_assets(assets, n)
    rows = rebalance_rows(dates, config.rebalance, config.window)
    if rows.size == 0:
        raise ValueError(
            f"rebalance = {config.rebalance!r} with window = {config.window} gives no rebalance date before the "
            f"last of {T} rows: expected a shorter window or more data"
        )
    if callback is not None and not callable(callback):
        raise ValueError(f"callback = {callback!r} is not allowed: expected a callable(done, total) or None")
    R.flags.writeable = False  # windows are views of this private copy
    S, K, first = len(names), rows.size, int(rows[0])
    gross, turnover, cost = np.zeros((S, T - first)), np.zeros((S, T - first)), np.zeros((S, T - first))
    W, D = np.zeros((S, K, n)), np.zeros((S, K, n))
    seconds = np.zeros(S)
    state = (0, np.zeros((S, n)))  # (rebalances done, drifted weights at the next row to trade); one store
    rate, impact, ppy = config.cost_bps * 1e-4, config.impact, config.periods_per_year
    try:
        for k in range(K):
            t = int(rows[k])
            stop = int(rows[k + 1]) if k + 1 < K else T - 1
            info = Rebalance(index=t, date=dates[t], holding_days=stop - t, periods_per_year=ppy)
            window = R[0 if config.window_type == "expanding" else t + 1 - config.window : t + 1]
            current = state[1]
            targets = np.empty((S, n))
            for s, name in enumerate(names):
                tic = perf_counter()
                try:
                    out = strategies[name](window, current[s].copy(), info)
                except Exception as exc:
                    exc.add_note(f"in strategy {name!r} at rebalance {info.date} (row {t})")
                    raise
                seconds[s] += perf_counter() - tic
                targets[s] = _check_weights(name, out, n, info)
            if not np.isfinite(targets).all():
                s = int(np.flatnonzero(~np.isfinite(targets).all(axis=1))[0])
                raise ValueError(
                    f"strategy {names[s]!r} returned non-finite weights {targets[s]} {_where(info)}: "
                    "expected finite numbers"
                )
            trade = targets - current
            j = t - first
            turnover[:, j] = np.abs(trade).sum(axis=1)
            cost[:, j] = rate * turnover[:, j] + impact * (trade * trade).sum(axis=1)
            W[:, k], D[:, k] = targets, current
            held = targets.copy()
            for s, name in enumerate(names):
                if not 1.0 + gross[s, j] - cost[s, j] > 0.0:
                    raise ValueError(
                        f"strategy {name!r}: the cost {float(cost[s, j])!r} wipes out the wealth on {info.date}"
                    )
            bad, row = hold(R, held, t, stop, gross, first)
            if bad >= 0:
                raise ValueError(
                    f"strategy {names[bad]!r}: the wealth of weights {targets[bad]} bought on {info.date} falls to "
                    f"<= 0 on {dates[row]} (row {row}); the drifted weights are undefined"
                )
            state = (k + 1, held)
            if callback is not None and callback(k + 1, K):
                break
    except KeyboardInterrupt:
        if state[0] == 0:
            raise
    return _result(state, rows, dates, names, assets, config, gross, turnover, cost, W, D, seconds, started)


def _result(state, rows, dates, names, assets, config, gross, turnover, cost, W, D, seconds, started):
    done, final = state
    K, first = rows.size, int(rows[0])
    end = dates.shape[0] - 1 if done == K else int(rows[done])
    m = end - first + 1
    if done < K:  # the trade at `end` did not (fully) happen
        turnover[:, m - 1] = 0.0
        cost[:, m - 1] = 0.0
    series = {"gross": {}, "net": {}, "turnover": {}, "cost": {}}
    for s, name in enumerate(names):
        series["gross"][name] = gross[s, :m].copy()
        series["net"][name] = gross[s, :m] - cost[s, :m]
        series["turnover"][name] = turnover[s, :m].copy()
        series["cost"][name] = cost[s, :m].copy()
    return BacktestResult(
        dates=dates[first : end + 1].copy(),
        **series,
        rebalance_dates=dates[rows[:done]].copy(),
        weights={name: W[s, :done].copy() for s, name in enumerate(names)},
        drifted={name: D[s, :done].copy() for s, name in enumerate(names)},
        assets=assets,
        config=config,
        completed=done == K,
        rebalance_index=rows[:done].copy(),
        final_weights={name: final[s].copy() for s, name in enumerate(names)},
        strategy_seconds={name: float(seconds[s]) for s, name in enumerate(names)},
        elapsed=perf_counter() - started,
    )
