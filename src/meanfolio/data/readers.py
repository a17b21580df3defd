"""Readers: CSV (plain or gzipped), Parquet and Arrow IPC price tables, via Polars, that never guess.

Every reader ends in :class:`PriceTable`, which validates the dates and
prices; the readers add what only they can see, always naming the file, the
rows and the columns:

- the date format is inferred from the whole column (a day > 12 decides
  between M/D/Y and D/M/Y); an ambiguous column is refused, naming
  ``date_format=``;
- an OHLCV export (Date, Open, High, Low, Close, Adj Close, Volume) is one
  asset priced by Adj Close (else Close), said in ``table.notes``;
  ``column=`` chooses another column;
- duplicate column names are refused (Polars would rename them silently);
- ``NA``, ``N/A``, ``null``, ``#N/A``, ``NaN`` and empty cells are missing
  prices, listed in ``table.missing``; any other text is an error;
- ``decimal=","`` reads ``1.234,56``; the separator (``,``, ``;`` or tab) is
  taken from the header line.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from ._layout import frame_to_table
from .prices import PriceDataError, PriceTable, _first

__all__ = ["FORMATS", "NULL_VALUES", "frame_to_table", "read_prices", "write_prices"]

FORMATS = {".csv": "csv", ".gz": "csv", ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow",
           ".ipc": "arrow", ".feather": "arrow"}  # fmt: skip
NULL_VALUES = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "#N/A", "-"]


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


def _header(path: Path) -> tuple[list[str], str]:
    """The CSV's column names and separator (the most frequent of ',', ';' and tab in the header line)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceDataError(f"{path.name} could not be read as a UTF-8 CSV: {exc}") from exc
    sep = max((",", ";", "\t"), key=line.count)
    names = next(csv.reader([line], delimiter=sep), [])
    return [n.strip() for n in names], sep


def _asset_name(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".parquet", ".pq", ".arrow", ".ipc", ".feather"):
        name = name.removesuffix(suffix)
    return name or "asset"


def read_prices(
    path: str | Path,
    *,
    format: str | None = None,
    layout: str = "auto",
    date_column: str | None = None,
    asset_column: str | None = None,
    price_column: str | None = None,
    column: str | None = None,
    date_format: str | None = None,
    decimal: str = ".",
) -> PriceTable:
    """Read a price table from CSV / CSV.GZ, Parquet or Arrow IPC (Feather v2).

    Missing prices are kept as NaN and listed in ``table.missing``; what was
    decided for the user is in ``table.notes``.

    Parameters
    ----------
    path : str or Path
        The file.
    format : {"csv", "parquet", "arrow"}, optional
        Default: from the file name's suffix.
    layout : {"auto", "wide", "long"}, default "auto"
        ``"wide"``: a date column and one column per asset; ``"long"``: (date,
        asset, price) rows; ``"auto"``: long when an ``asset``/``ticker``/``symbol``
        column exists.
    date_column : str, optional
        Default: a column named date (any case), else a Parquet datetime index,
        else the first column.
    asset_column : str, optional
        The asset column of a long file.
    price_column, column : str, optional
        The price column of an OHLCV or long file (``column`` is an alias).
    date_format : str, optional
        strptime format (e.g. ``"%m/%d/%Y"``) to parse text dates exactly;
        without it the format is inferred from the whole column and an ambiguous
        column is refused.
    decimal : {".", ","}, default "."
        Decimal separator.

    Returns
    -------
    PriceTable

    Raises
    ------
    PriceDataError
        A :class:`ValueError` naming rows and columns for malformed data.

    See Also
    --------
    write_prices, load_sp500, frame_to_table

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> from meanfolio.data import load_sp500, read_prices, write_prices
    >>> folder = tempfile.mkdtemp()
    >>> path = write_prices(load_sp500(["KO", "PEP"], end="1990-03-30"), os.path.join(folder, "prices.csv"))
    >>> table = read_prices(path)
    >>> table.tickers, table.prices.shape
    (('KO', 'PEP'), (63, 2))
    >>> shutil.rmtree(folder)
    """
    import polars as pl

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"prices file {str(path)!r} does not exist: expected a CSV, Parquet or Arrow file")
    fmt = _format(path, format)
    try:
        if fmt == "csv":
            names, sep = _header(path)
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise PriceDataError(f"{path.name} has duplicate column names {_first([repr(d) for d in dup])}: "
                                     "expected each column once")  # fmt: skip
            frame = pl.read_csv(path, separator=sep, infer_schema=False, null_values=NULL_VALUES,
                                truncate_ragged_lines=False)  # fmt: skip
        elif fmt == "parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_ipc(path)
    except PriceDataError:
        raise
    except Exception as exc:  # polars' own error types
        raise PriceDataError(f"{path.name} could not be read as {fmt}: {str(exc).splitlines()[0]}") from exc
    return frame_to_table(frame, layout=layout, date_column=date_column, asset_column=asset_column,
                          price_column=price_column, column=column, decimal=decimal, date_format=date_format,
                          source=path.name, asset_name=_asset_name(path))  # fmt: skip


def write_prices(table: PriceTable, path: str | Path, *, format: str | None = None, layout: str = "wide") -> Path:
    """Write a price table as CSV (gzipped if the name ends in .gz), Parquet or Arrow IPC, wide or long.

    Parameters
    ----------
    table : PriceTable
        The table.
    path : str or Path
        The file (its folder is created).
    format : {"csv", "parquet", "arrow"}, optional
        Default: from the suffix.
    layout : {"wide", "long"}, default "wide"
        One column per asset, or (date, asset, price) rows.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    fmt = _format(path, format)
    frame = table.to_polars() if layout == "wide" else table.to_long()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "arrow":
        frame.write_ipc(path)
    elif path.suffix.lower() == ".gz":
        with gzip.open(path, "wb") as fh:
            frame.write_csv(fh)
    else:
        frame.write_csv(path)
    return path
