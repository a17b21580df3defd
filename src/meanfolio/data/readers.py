"""Readers: CSV (plain or gzipped), Parquet and Arrow IPC price tables, wide or long, via Polars.

- wide: a date column and one price column per asset;
- long: columns (date, asset, price), one row per date and asset.

Every reader ends in :class:`PriceTable`, which validates the dates and
prices; the readers add what only they can see (unknown formats, missing
columns, non-numeric cells, duplicate (date, asset) pairs), always naming the
file, the rows and the columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .prices import PriceDataError, PriceTable, _first

__all__ = ["FORMATS", "frame_to_table", "read_prices", "write_prices"]

FORMATS = {".csv": "csv", ".gz": "csv", ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow",
           ".ipc": "arrow", ".feather": "arrow"}  # fmt: skip


def _format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("csv", "parquet", "arrow"):
            raise ValueError(f"format = {fmt!r} is not allowed: expected 'csv', 'parquet' or 'arrow'")
        return fmt
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{path.name} has the unknown extension {suffix!r}: expected one of {sorted(FORMATS)} or format=..."
        )
    return FORMATS[suffix]


def read_prices(
    path: str | Path,
    *,
    format: str | None = None,
    layout: str = "auto",
    date_column: str | None = None,
    asset_column: str = "asset",
    price_column: str = "price",
    date_format: str | None = None,
) -> PriceTable:
    """Read a price table from CSV / CSV.GZ, Parquet or Arrow IPC (Feather v2).

    ``date_format`` (a strptime format such as ``"%m/%d/%Y"``) parses the date
    column of a CSV exactly; a value that does not match is an error naming
    the row, never a guess.

    ``layout``: "wide", "long" or "auto" (long when the asset and price
    columns exist). ``date_column`` defaults to "date"/"Date" if present,
    else the first column. Raises :class:`PriceDataError` (a ValueError)
    naming rows and columns for malformed data; missing prices are kept as
    NaN and listed in ``table.missing``.
    """
    import polars as pl

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"prices file {str(path)!r} does not exist: expected a CSV, Parquet or Arrow file")
    fmt = _format(path, format)
    try:
        if fmt == "csv":
            frame = pl.read_csv(path, try_parse_dates=date_format is None, infer_schema_length=10_000)
        elif fmt == "parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_ipc(path)
    except Exception as exc:  # polars' own error types
        raise PriceDataError(f"{path.name} could not be read as {fmt}: {exc}") from exc
    if date_format is not None:
        frame = _parse_dates(frame, date_column, date_format, path.name)
    return frame_to_table(frame, layout=layout, date_column=date_column, asset_column=asset_column,
                          price_column=price_column, source=path.name)  # fmt: skip


def _parse_dates(frame, date_column: str | None, date_format: str, source: str):
    """The date column parsed with ``date_format``; the first value that does not match is reported."""
    import polars as pl

    column = date_column or next((c for c in ("date", "Date", "DATE") if c in frame.columns), frame.columns[0])
    if column not in frame.columns:
        raise PriceDataError(f"{source} has no column {column!r}: columns are {frame.columns}")
    raw = frame[column].cast(pl.Utf8)
    parsed = raw.str.strptime(pl.Date, date_format, strict=False)
    bad = (parsed.is_null() & raw.is_not_null()).arg_true()
    if bad.len():
        row = int(bad[0])
        raise PriceDataError(
            f"{source}: row {row + 1}, column {column!r}: {raw[row]!r} does not match date_format = {date_format!r}"
        )
    return frame.with_columns(parsed.alias(column))


def frame_to_table(frame, *, layout="auto", date_column=None, asset_column="asset", price_column="price",
                   source="frame") -> PriceTable:  # fmt: skip
    """A :class:`PriceTable` from an in-memory polars DataFrame or pyarrow Table (same rules as files)."""
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_arrow(frame)
    if layout not in ("auto", "wide", "long"):
        raise ValueError(f"layout = {layout!r} is not allowed: expected 'auto', 'wide' or 'long'")
    if date_column is None:
        date_column = next((c for c in ("date", "Date", "DATE") if c in frame.columns), frame.columns[0])
    if date_column not in frame.columns:
        raise PriceDataError(f"{source} has no column {date_column!r}: columns are {frame.columns}")
    if layout == "auto":
        layout = "long" if {asset_column, price_column} <= set(frame.columns) else "wide"
    dates = _dates(frame[date_column], source)
    if layout == "long":
        return _from_long(frame, dates, date_column, asset_column, price_column, source)
    assets = [c for c in frame.columns if c != date_column]
    if not assets:
        raise PriceDataError(f"{source} has columns {frame.columns}: expected a date column and asset columns")
    prices = np.empty((frame.height, len(assets)))
    for j, name in enumerate(assets):
        prices[:, j] = _numeric(frame[name], source, name, dates)
    return PriceTable(dates, tuple(assets), prices, source)


def _dates(column, source: str) -> np.ndarray:
    import polars as pl

    if column.null_count():
        rows = np.nonzero(column.is_null().to_numpy())[0]
        raise PriceDataError(f"{source}: missing dates at rows {_first([str(r) for r in rows])}")
    try:
        if column.dtype == pl.String:
            column = column.str.to_date(strict=True)
        return column.cast(pl.Date).to_numpy().astype("datetime64[D]")
    except Exception as exc:
        raise PriceDataError(f"{source}: the date column {column.name!r} could not be read as dates ({exc})") from exc


def _numeric(column, source: str, name: str, dates: np.ndarray) -> np.ndarray:
    import polars as pl

    if column.dtype == pl.String:  # find the cells that are not numbers (empty strings are missing)
        parsed = column.str.strip_chars().replace("", None).cast(pl.Float64, strict=False)
        bad = np.nonzero((parsed.is_null() & column.is_not_null() & (column.str.strip_chars() != "")).to_numpy())[0]
        if bad.size:
            cells = [f"row {r} ({dates[r]}): {column[int(r)]!r}" for r in bad]
            raise PriceDataError(f"{source}, column {name}: non-numeric prices at {_first(cells)}")
        column = parsed
    try:
        return column.cast(pl.Float64).fill_null(float("nan")).to_numpy()
    except Exception as exc:
        raise PriceDataError(f"{source}, column {name}: prices must be numbers ({exc})") from exc


def _from_long(frame, dates, date_column, asset_column, price_column, source) -> PriceTable:
    import polars as pl

    for c in (asset_column, price_column):
        if c not in frame.columns:
            raise PriceDataError(f"{source} has no column {c!r} for the long layout: columns are {frame.columns}")
    frame = frame.with_columns(pl.Series(date_column, dates), pl.col(asset_column).cast(pl.String))
    dup = frame.group_by([date_column, asset_column]).len().filter(pl.col("len") > 1)
    if dup.height:
        pairs = [f"({d}, {a})" for d, a in dup.select(date_column, asset_column).sort(date_column).iter_rows()]
        raise PriceDataError(f"{source}: duplicate (date, asset) pairs {_first(pairs)}: expected one price each")
    values = _numeric(frame[price_column], source, price_column, dates)
    frame = frame.with_columns(pl.Series(price_column, values))
    wide = frame.pivot(on=asset_column, index=date_column, values=price_column, aggregate_function=None)
    wide = wide.sort(date_column)
    assets = [c for c in wide.columns if c != date_column]
    prices = wide.select(assets).cast(pl.Float64).fill_null(float("nan")).to_numpy()
    udates = wide[date_column].to_numpy().astype("datetime64[D]")
    return PriceTable(udates, tuple(assets), prices, source)


def write_prices(table: PriceTable, path: str | Path, *, format: str | None = None, layout: str = "wide") -> Path:
    """Write a table as CSV (gzipped if the name ends in .gz), Parquet or Arrow IPC, wide or long."""
    path = Path(path)
    fmt = _format(path, format)
    frame = table.to_polars() if layout == "wide" else table.to_long()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "arrow":
        frame.write_ipc(path)
    elif path.suffix.lower() == ".gz":
        import gzip

        with gzip.open(path, "wb") as fh:
            frame.write_csv(fh)
    else:
        frame.write_csv(path)
    return path
