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
    """Walk-forward backtest settings (validated on construction).

    Attributes
    ----------
    rebalance : "daily" | "weekly" | "monthly" | "quarterly" | int
        Calendar of decision rows, or every ``N >= 1`` return rows (see the module docstring).
    window : int
        Estimation window in return rows (>= 2).
    window_type : "rolling" | "expanding"
        ``"rolling"``: the last ``window`` rows up to the decision row; ``"expanding"``: every row from
        the first one up to the decision row (at least ``window``).
    cost_bps : float
        Proportional cost per unit of two-way turnover, in basis points (>= 0).
    impact : float
        Quadratic impact coefficient: ``cost += impact * sum_i (dw_i)**2`` (>= 0).
    periods_per_year : float
        Return rows per year (> 0), used for annualisation.
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
    """What a strategy knows about the decision it is asked for.

    ``index`` is the row of the returns matrix whose close is the decision time (the window ends at this
    row, inclusive); ``holding_days`` is the number of return rows the new weights are held before the
    next rebalance (or to the end of the data).
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
    """Rows (int64, increasing) whose close is a rebalance decision; see the module docstring."""
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
