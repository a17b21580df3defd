"""From a polars frame to a :class:`PriceTable`: wide, long or OHLCV layouts, told apart without guessing.

- wide: a date column and one price column per asset;
- long: (date, asset, price) rows; the asset column is ``asset``, ``ticker`` or ``symbol``;
- OHLCV: the export of a quote service (Date, Open, High, Low, Close, Adj Close, Volume) is one asset,
  priced by Adj Close (else Close); ``column=`` chooses another price column. A long file with OHLCV
  columns (date, ticker, Open, ..., Adj Close, Volume) is priced the same way.

Whatever the reader decides for the user is said in ``PriceTable.notes``.
"""

from __future__ import annotations

import re

import numpy as np

from ._dates import parse_dates
from .prices import PriceDataError, PriceTable, _first

__all__ = ["frame_to_table"]

OHLCV = {"open", "high", "low", "close", "adjclose", "volume"}
ASSET_COLUMNS = ("asset", "ticker", "symbol")
INDEX_COLUMNS = ("__index_level_0__", "index")


def _key(name: str) -> str:
    return re.sub(r"[\s_.\-]", "", name).lower()


def _date_column(frame, date_column: str | None, source: str) -> str:
    if date_column is not None:
        if date_column not in frame.columns:
            raise PriceDataError(f"{source} has no column {date_column!r}: columns are {frame.columns}")
        return date_column
    for c in frame.columns:  # "date", "Date", "DATE", "datetime", "timestamp"
        if _key(c) in ("date", "datetime", "timestamp", "time"):
            return c
    for c in frame.columns:  # a pandas datetime index written to Parquet
        if c in INDEX_COLUMNS and frame[c].dtype.is_temporal():
            return c
    return frame.columns[0]


def _price_column(columns: list[str], column: str | None, source: str, what: str) -> tuple[str, str | None]:
    """The price column among OHLCV-like ``columns`` and the note saying which was taken, if chosen for the user."""
    if column is not None:
        if column not in columns:
            raise PriceDataError(f"{source}: column = {column!r} is not a column of {what}: expected one of {columns}")
        return column, None
    keys = {_key(c): c for c in columns}
    name = keys.get("adjclose") or keys.get("close")
    if name is None:
        raise PriceDataError(f"{source}: {what} has no Close or Adj Close column: pass column= (CLI --column) "
                             f"naming the price among {columns}")  # fmt: skip
    return name, name


def frame_to_table(
    frame,
    *,
    layout: str = "auto",
    date_column: str | None = None,
    asset_column: str | None = None,
    price_column: str | None = None,
    column: str | None = None,
    decimal: str = ".",
    date_format: str | None = None,
    source: str = "frame",
    asset_name: str | None = None,
) -> PriceTable:
    """A :class:`PriceTable` from a polars DataFrame or a pyarrow Table, by the rules of :func:`read_prices`.

    Parameters
    ----------
    frame : polars.DataFrame or pyarrow.Table
        Wide (a date column, one column per asset) or long (date, asset, price rows).
    layout : {"auto", "wide", "long"}, default "auto"
        ``"auto"`` is long when an ``asset``/``ticker``/``symbol`` column exists.
    date_column, asset_column : str, optional
        Column names (defaults: a column named date, any case, else the first
        column; the asset/ticker/symbol column).
    price_column, column : str, optional
        The price column of an OHLCV or long frame (``column`` is an alias).
    decimal : {".", ","}, default "."
        Decimal separator of text numbers.
    date_format : str, optional
        strptime format of text dates (inferred from the whole column otherwise).
    source : str, default "frame"
        Recorded in ``table.source`` and in error messages.
    asset_name : str, optional
        Name of the asset of a single-asset OHLCV frame.

    Returns
    -------
    PriceTable

    Raises
    ------
    PriceDataError
        For malformed data (the message names rows and columns).

    Examples
    --------
    >>> import polars as pl
    >>> from meanfolio.data import frame_to_table
    >>> frame = pl.DataFrame({"date": ["2024-01-02", "2024-01-03"], "AAA": [10.0, 10.5], "BBB": [20.0, 19.0]})
    >>> table = frame_to_table(frame)
    >>> table.tickers, table.prices.shape
    (('AAA', 'BBB'), (2, 2))
    """
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_arrow(frame)
    if layout not in ("auto", "wide", "long"):
        raise ValueError(f"layout = {layout!r} is not allowed: expected 'auto', 'wide' or 'long'")
    if decimal not in (".", ","):
        raise ValueError(f"decimal = {decimal!r} is not allowed: expected '.' or ','")
    column = column or price_column
    date_col = _date_column(frame, date_column, source)
    others = [c for c in frame.columns if c != date_col]
    if asset_column is None:
        asset_column = next((c for c in others if _key(c) in ASSET_COLUMNS), "asset")
    if layout == "auto":
        layout = "long" if asset_column in others else "wide"
    dates = parse_dates(frame[date_col], date_format=date_format, source=source)
    if layout == "long":
        return _from_long(frame, dates, date_col, asset_column, column, decimal, source)
    if not others:
        raise PriceDataError(f"{source} has columns {frame.columns}: expected a date column and asset columns")
    if {_key(c) for c in others} <= OHLCV and {"close", "adjclose"} & {_key(c) for c in others}:
        name, chosen = _price_column(others, column, source, "this OHLCV file")
        asset = asset_name or "asset"
        note = (f"{source}: an OHLCV export ({', '.join(others)}): read as one asset {asset!r} priced by "
                f"{name!r}" + (" (column= / --column to choose another)" if chosen else ""))  # fmt: skip
        prices = _numeric(frame[name], source, name, dates, decimal)[:, None]
        return PriceTable(dates, (asset,), prices, source, notes=(note,))
    if column is not None:
        raise PriceDataError(f"{source}: column = {column!r} applies to long or OHLCV files; this file is wide "
                             f"with assets {_first(others)}")  # fmt: skip
    prices = np.empty((frame.height, len(others)))
    for j, name in enumerate(others):
        prices[:, j] = _numeric(frame[name], source, name, dates, decimal)
    return PriceTable(dates, tuple(others), prices, source)


_COMMA = re.compile(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+")
_EUROPEAN = re.compile(r"^(-?\d{1,3}(\.\d{3})*(,\d+)?|-?\d+(,\d+)?)$")


def _numeric(column, source: str, name: str, dates: np.ndarray, decimal: str = ".") -> np.ndarray:
    """Prices as float64, NaN where missing (nulls); a cell that is not a number is an error naming it."""
    import polars as pl

    if column.dtype in (pl.String, pl.Categorical):
        text = column.cast(pl.String).str.strip_chars()
        if decimal == ",":  # 1.234,56 -> 1234.56; a '.' must group thousands, else 1.5 would silently read 15
            odd = np.nonzero((text.is_not_null() & ~text.str.contains(_EUROPEAN.pattern)).to_numpy())[0]
            if odd.size:
                cells = [f"row {r} ({dates[r]}): {column[int(r)]!r}" for r in odd]
                raise PriceDataError(f"{source}, column {name}: with decimal=',' these prices are not numbers like "
                                     f"1.234,56: {_first(cells)}")  # fmt: skip
            text = text.str.replace_all(".", "", literal=True).str.replace_all(",", ".", literal=True)
        parsed = text.replace("", None).cast(pl.Float64, strict=False)
        bad = np.nonzero((parsed.is_null() & text.is_not_null() & (text != "")).to_numpy())[0]
        if bad.size:
            cells = [f"row {r} ({dates[r]}): {column[int(r)]!r}" for r in bad]
            hint = ""
            if decimal == "." and _COMMA.fullmatch(str(column[int(bad[0])]).strip()):
                hint = "; the numbers have a decimal comma: pass decimal=',' (CLI --decimal ,)"
            raise PriceDataError(f"{source}, column {name}: non-numeric prices at {_first(cells)}{hint}")
        column = parsed
    try:
        return column.cast(pl.Float64).fill_null(float("nan")).to_numpy()
    except Exception as exc:
        raise PriceDataError(f"{source}, column {name}: prices must be numbers ({exc})") from exc


def _from_long(frame, dates, date_column, asset_column, column, decimal, source) -> PriceTable:
    import polars as pl

    if asset_column not in frame.columns:
        raise PriceDataError(f"{source} has no column {asset_column!r} for the long layout: columns are "
                             f"{frame.columns}")  # fmt: skip
    values_cols = [c for c in frame.columns if c not in (date_column, asset_column)]
    notes: tuple[str, ...] = ()
    if column is None and "price" in values_cols:
        column = "price"
    price, chosen = _price_column(values_cols, column, source, "this long file")
    if chosen and len(values_cols) > 1:
        notes = (f"{source}: a long file with columns {values_cols}: priced by {price!r} "
                 "(column= / --column to choose another)",)  # fmt: skip
    frame = frame.with_columns(pl.Series(date_column, dates), pl.col(asset_column).cast(pl.String))
    dup = frame.group_by([date_column, asset_column]).len().filter(pl.col("len") > 1)
    if dup.height:
        pairs = [f"({d}, {a})" for d, a in dup.select(date_column, asset_column).sort(date_column).iter_rows()]
        raise PriceDataError(f"{source}: duplicate (date, asset) pairs {_first(pairs)}: expected one price each")
    values = _numeric(frame[price], source, price, dates, decimal)
    frame = frame.select(date_column, asset_column, pl.Series(price, values))
    wide = frame.pivot(on=asset_column, index=date_column, values=price, aggregate_function=None)
    wide = wide.sort(date_column)
    assets = [c for c in wide.columns if c != date_column]
    prices = wide.select(assets).cast(pl.Float64).fill_null(float("nan")).to_numpy()
    udates = wide[date_column].to_numpy().astype("datetime64[D]")
    return PriceTable(udates, tuple(assets), prices, source, notes=notes)
