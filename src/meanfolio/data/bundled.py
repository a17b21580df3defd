"""The data set shipped with the package (see ``DATA_SOURCES.md`` next to this file)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from .prices import PriceTable
from .readers import read_prices

__all__ = ["SP500_FILE", "load_sp500"]

SP500_FILE = "sp500_20_stocks_daily.csv.gz"


def _path() -> Path:
    return Path(str(resources.files("meanfolio.data").joinpath(SP500_FILE)))


@lru_cache(maxsize=1)
def _load() -> PriceTable:
    return read_prices(_path())


def load_sp500(assets=None, start=None, end=None) -> PriceTable:
    """Daily adjusted closes of 20 S&P 500 stocks, 1990-01-02 to 2022-12-28 (8313 rows), shipped with the package.

    Parameters
    ----------
    assets : sequence of str, optional
        Tickers to keep (default: all 20).
    start, end : str, optional
        ISO dates (inclusive) of a sub-range.

    Returns
    -------
    PriceTable
        Prices in US dollars (split- and dividend-adjusted).

    Raises
    ------
    PriceDataError
        If a ticker is unknown or the range keeps fewer than 2 rows.

    Notes
    -----
    Source: the data set shipped by skfolio (BSD-3); see
    ``meanfolio/data/DATA_SOURCES.md``.

    Examples
    --------
    >>> from meanfolio.data import load_sp500
    >>> table = load_sp500()
    >>> table.prices.shape, table.tickers[:3]
    ((8313, 20), ('AAPL', 'AMD', 'BAC'))
    >>> str(table.dates[0]), str(table.dates[-1])
    ('1990-01-02', '2022-12-28')
    """
    table = _load()
    if assets is None and start is None and end is None:
        return table
    return table.select(assets, start, end)
