"""Reading price tables: a date column and one column per asset (CSV, CSV.GZ or Parquet)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PriceTable", "read_prices"]


@dataclass(frozen=True)
class PriceTable:
    """dates (T,) as numpy datetime64[D], tickers, prices (T, n) float64 (NaN where missing)."""

    dates: np.ndarray
    tickers: tuple[str, ...]
    prices: np.ndarray

    def simple_returns(self) -> np.ndarray:
        """(T - 1, n) simple returns p_t / p_{t-1} - 1 (NaN where a price is missing)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.prices[1:] / self.prices[:-1] - 1.0

    def log_returns(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diff(np.log(self.prices), axis=0)


def read_prices(path: str | Path, *, date_column: str | None = None) -> PriceTable:
    """Read a price table; the date column is ``date_column`` or the first column.

    Raises ValueError for a missing file, no asset column, non-numeric or
    non-positive prices (NaN is allowed: missing data).
    """
    import polars as pl

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"prices file {str(path)!r} does not exist: expected a CSV, CSV.GZ or Parquet file")
    name = path.name.lower()
    frame = pl.read_parquet(path) if name.endswith(".parquet") else pl.read_csv(path, try_parse_dates=True)
    date_column = date_column or frame.columns[0]
    if date_column not in frame.columns or frame.width < 2:
        raise ValueError(f"{path.name} has columns {frame.columns}: expected a date column and asset columns")
    assets = [c for c in frame.columns if c != date_column]
    try:
        prices = frame.select(pl.col(assets).cast(pl.Float64)).to_numpy()
    except Exception as exc:  # polars raises its own error types for bad casts
        raise ValueError(f"{path.name}: asset columns must be numeric prices ({exc})") from exc
    if np.any(prices[~np.isnan(prices)] <= 0):
        raise ValueError(f"{path.name} has non-positive prices which is not allowed: expected prices > 0")
    dates = frame[date_column].cast(pl.Date).to_numpy().astype("datetime64[D]")
    return PriceTable(dates, tuple(assets), np.ascontiguousarray(prices, dtype=np.float64))
