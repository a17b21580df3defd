"""Backtest configuration and the rebalance calendar.

Calendar rules (``BacktestConfig.rebalance``):

- ``"daily"``: every row.
- ``"weekly"`` / ``"monthly"`` / ``"quarterly"``: the last row of each ISO week
  (Monday to Sunday) / calendar month / calendar quarter present in ``dates``,
  i.e. the last *trading* day of the period, holidays included.
- an integer ``N``: every ``N`` rows, counted from the first decision row
  ``window - 1`` (rows ``window - 1``, ``window - 1 + N``, ...); this is
  skfolio's ``WalkForward(test_size=N, train_size=window)`` schedule.

The first rebalance is the first calendar row with at least ``window`` return
rows up to and including it (row ``window - 1`` or later). The last row is
never a rebalance: a decision at the final close would hold nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meanfolio._validation import check_choice, check_integer, check_number

__all__ = ["CALENDARS", "WINDOW_TYPES", "BacktestConfig", "Rebalance", "check_dates", "rebalance_rows"]

CALENDARS = ("daily", "weekly", "monthly", "quarterly")
WINDOW_TYPES = ("rolling", "expanding")


@dataclass(frozen=True)
class BacktestConfig:
    r"""Walk-forward backtest settings (validated on construction).

    Parameters
    ----------
    rebalance : {"daily", "weekly", "monthly", "quarterly"} or int, default "monthly"
        Decision rows: the last row of each ISO week / calendar month / quarter
        present in the dates (``"daily"``: every row), or every N >= 1 return
        rows from row ``window - 1`` (skfolio's ``WalkForward(test_size=N,
        train_size=window)``). See :func:`rebalance_rows`.
    window : int, default 756
        Estimation window in return rows (>= 2).
    window_type : {"rolling", "expanding"}, default "rolling"
        ``"rolling"``: the last ``window`` rows up to the decision row;
        ``"expanding"``: every row from the first one up to the decision row
        (at least ``window``).
    cost_bps : float, default 10
        Proportional cost per unit of two-way turnover, in basis points (>= 0).
    impact : float, default 0
        Quadratic impact coefficient: the cost gets
        :math:`\text{impact} \sum_i (\Delta w_i)^2` (>= 0).
    periods_per_year : float, default 252
        Return rows per year (> 0), used for annualisation.

    Raises
    ------
    ValueError
        If a setting is out of range.

    Examples
    --------
    >>> from meanfolio.backtest import BacktestConfig
    >>> BacktestConfig(rebalance="quarterly", window=252, cost_bps=5)
    BacktestConfig(rebalance='quarterly', window=252, window_type='rolling', cost_bps=5.0,
                   impact=0.0, periods_per_year=252.0)
    """

    rebalance: str | int = "monthly"
    window: int = 756
    window_type: str = "rolling"
    cost_bps: float = 10.0
    impact: float = 0.0
    periods_per_year: float = 252.0

    def __post_init__(self) -> None:
        if isinstance(self.rebalance, str):
            check_choice("rebalance", self.rebalance, CALENDARS)
        elif isinstance(self.rebalance, bool) or not isinstance(self.rebalance, (int, np.integer)):
            raise ValueError(
                f"rebalance = {self.rebalance!r} is not allowed: expected one of "
                + ", ".join(repr(c) for c in CALENDARS)
                + " or an integer >= 1 (every N rows)"
            )
        else:
            object.__setattr__(self, "rebalance", check_integer("rebalance", self.rebalance, low=1))
        object.__setattr__(self, "window", check_integer("window", self.window, low=2))
        check_choice("window_type", self.window_type, WINDOW_TYPES)
        object.__setattr__(self, "cost_bps", check_number("cost_bps", self.cost_bps, low=0))
        object.__setattr__(self, "impact", check_number("impact", self.impact, low=0))
        object.__setattr__(
            self,
            "periods_per_year",
            check_number("periods_per_year", self.periods_per_year, low=0, low_inclusive=False),
        )


@dataclass(frozen=True)
class Rebalance:
    """What a strategy knows about the decision it is asked for (the third argument of a strategy).

    Parameters
    ----------
    index : int
        The row of the returns matrix whose close is the decision time (the
        window ends at this row, inclusive).
    date : numpy.datetime64
        Its date.
    holding_days : int
        Number of return rows the new weights are held before the next
        rebalance (or to the end of the data).
    periods_per_year : float
        Return rows per year.
    """

    index: int
    date: np.datetime64
    holding_days: int
    periods_per_year: float


def check_dates(dates, length: int) -> np.ndarray:
    """Return ``dates`` as a datetime64 array of ``length`` strictly increasing values, or raise."""
    arr = np.asarray(dates)
    if arr.dtype.kind != "M":
        if arr.dtype.kind not in "OUS":
            raise ValueError(f"dates has dtype {arr.dtype} which is not allowed: expected datetime64 values")
        try:
            arr = arr.astype("datetime64")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"dates could not be read as datetime64 values: {exc}") from exc
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(
            f"dates has shape {arr.shape} which is not allowed: expected shape ({length},), one date per return row"
        )
    if np.any(np.isnat(arr)):
        i = int(np.flatnonzero(np.isnat(arr))[0])
        raise ValueError(f"dates contains NaT at row {i} which is not allowed: expected valid dates")
    steps = np.diff(arr)
    if np.any(steps <= np.timedelta64(0)):
        i = int(np.flatnonzero(steps <= np.timedelta64(0))[0])
        raise ValueError(
            f"dates are not strictly increasing (row {i}: {arr[i]}, row {i + 1}: {arr[i + 1]}) "
            "which is not allowed: expected strictly increasing dates"
        )
    return arr


def _period_keys(dates: np.ndarray, calendar: str) -> np.ndarray:
    """An integer per row identifying its week / month / quarter."""
    if calendar == "weekly":
        days = dates.astype("datetime64[D]").astype(np.int64)
        return (days + 3) // 7  # 1970-01-01 is a Thursday: weeks start on Mondays (ISO weeks)
    months = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return months if calendar == "monthly" else months // 3


def rebalance_rows(dates: np.ndarray, rebalance: str | int, window: int) -> np.ndarray:
    """Rows whose close is a rebalance decision.

    The first rebalance is the first calendar row with at least ``window``
    return rows up to and including it; the last row is never a rebalance.

    Parameters
    ----------
    dates : ndarray of datetime64, shape (T,)
        Strictly increasing dates.
    rebalance : {"daily", "weekly", "monthly", "quarterly"} or int
        The calendar (see :class:`BacktestConfig`).
    window : int
        Estimation window in rows.

    Returns
    -------
    ndarray of int64, shape (k,)
        Increasing row indices.

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.backtest import rebalance_rows
    >>> dates = np.arange("2024-01-01", "2024-04-30", dtype="datetime64[D]")
    >>> rebalance_rows(dates, "monthly", 20)
    array([30, 59, 90])
    >>> rebalance_rows(dates, 30, 20)
    array([ 19,  49,  79, 109])
    """
    T = dates.shape[0]
    first = window - 1
    if isinstance(rebalance, str) and rebalance != "daily":
        keys = _period_keys(dates, rebalance)
        rows = np.flatnonzero(keys[1:] != keys[:-1])  # last row of each period but the final one
    else:
        step = 1 if rebalance == "daily" else int(rebalance)
        rows = np.arange(first, T, step)
    rows = rows[(rows >= first) & (rows < T - 1)]
    return rows.astype(np.int64)
