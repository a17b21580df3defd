"""Price tables: validated dates x assets matrices and their returns.

A :class:`PriceTable` holds dates (T,), tickers and a float64 price matrix
(T, n). Construction validates it: dates strictly increasing (no duplicates),
prices > 0 where present. Missing prices (NaN) are kept and listed in
``table.missing`` with their row, date and column; they are never dropped
silently: :meth:`returns` raises on them unless told what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PriceDataError", "PriceTable", "as_matrix"]


class PriceDataError(ValueError):
    """A price table is malformed; the message names the rows and columns.

    A :class:`ValueError`, raised by :func:`read_prices`, :func:`frame_to_table`
    and :class:`PriceTable`.
    """


def _first(items, limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class PriceTable:
    """A table of prices: dates by assets, validated on construction.

    Parameters
    ----------
    dates : ndarray of datetime64[D], shape (T,)
        Strictly increasing dates.
    tickers : tuple of str, shape (n,)
        Asset names.
    prices : ndarray, shape (T, n)
        Prices in currency per share, float64 > 0, or NaN where missing.
    source : str, default ""
        Where the table came from.
    missing : list of (int, str, str)
        Filled on construction: (row, date, ticker) of the NaN prices.
    notes : tuple of str
        What a reader decided for the user (e.g. which column of an OHLCV
        export is the price), for the command line and the lab to show.

    Raises
    ------
    PriceDataError
        If the dates are not strictly increasing, shapes disagree, or a price is
        non-positive or infinite.

    See Also
    --------
    read_prices, load_sp500, frame_to_table

    Examples
    --------
    >>> import numpy as np
    >>> from meanfolio.data import PriceTable
    >>> table = PriceTable(np.array(["2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[D]"),
    ...                    ("AAA", "BBB"), np.array([[10.0, 20.0], [10.5, 19.0], [10.2, 19.5]]))
    >>> returns, dates = table.returns()
    >>> returns.round(4)
    array([[ 0.05  , -0.05  ],
           [-0.0286,  0.0263]])
    >>> dates
    array(['2024-01-03', '2024-01-04'], dtype='datetime64[D]')
    """

    dates: np.ndarray
    tickers: tuple[str, ...]
    prices: np.ndarray
    source: str = ""
    missing: list[tuple[int, str, str]] = field(default_factory=list, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self):
        dates = np.asarray(self.dates).astype("datetime64[D]")
        prices = np.asarray(self.prices, dtype=np.float64)
        tickers = tuple(str(t) for t in self.tickers)
        where = f" in {self.source}" if self.source else ""
        if prices.ndim != 2 or prices.shape != (dates.size, len(tickers)):
            raise PriceDataError(
                f"prices have shape {prices.shape}{where}, which is not allowed: expected (dates, tickers) = "
                f"({dates.size}, {len(tickers)})"
            )
        if dates.size < 2:
            raise PriceDataError(f"the table{where} has {dates.size} rows: expected at least 2 dates")
        if len(set(tickers)) != len(tickers):
            dup = sorted({t for t in tickers if tickers.count(t) > 1})
            raise PriceDataError(f"duplicate asset columns{where}: {_first(dup)}")
        step = np.diff(dates).astype(np.int64)
        if np.any(step == 0):
            rows = [f"{r} ({dates[r]})" for r in np.nonzero(step == 0)[0] + 1]
            raise PriceDataError(f"duplicate dates{where} at rows {_first(rows)}: expected one row per date")
        if np.any(step < 0):
            rows = [f"{r} ({dates[r]} after {dates[r - 1]})" for r in np.nonzero(step < 0)[0] + 1]
            raise PriceDataError(f"dates are not increasing{where} at rows {_first(rows)}: expected increasing dates")
        bad = np.argwhere(~np.isnan(prices) & ~(prices > 0))
        if bad.size:
            cells = [f"row {r} ({dates[r]}), column {tickers[c]}: {float(prices[r, c])!r}" for r, c in bad]
            raise PriceDataError(f"non-positive or infinite prices{where}: {_first(cells)}; expected prices > 0")
        missing = [(int(r), str(dates[r]), tickers[c]) for r, c in np.argwhere(np.isnan(prices))]
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "tickers", tickers)
        object.__setattr__(self, "missing", missing)

    # -- selection -----------------------------------------------------------
    def select(self, assets=None, start=None, end=None) -> PriceTable:
        """The sub-table of ``assets`` (names; default all) between ``start`` and ``end`` (inclusive)."""
        cols = list(range(len(self.tickers)))
        if assets is not None:
            unknown = [a for a in assets if a not in self.tickers]
            if unknown:
                raise PriceDataError(f"assets {unknown} are not in the table: expected some of {list(self.tickers)}")
            cols = [self.tickers.index(a) for a in assets]
        rows = np.ones(self.dates.size, dtype=bool)
        if start is not None:
            rows &= self.dates >= np.datetime64(str(start), "D")
        if end is not None:
            rows &= self.dates <= np.datetime64(str(end), "D")
        if rows.sum() < 2:
            raise PriceDataError(f"the range start = {start}, end = {end} keeps {rows.sum()} rows: expected >= 2")
        return PriceTable(self.dates[rows], tuple(self.tickers[c] for c in cols), self.prices[np.ix_(rows, cols)],
                          self.source, notes=self.notes)  # fmt: skip

    # -- returns -------------------------------------------------------------
    def returns(self, kind: str = "simple", *, missing: str = "raise") -> tuple[np.ndarray, np.ndarray]:
        r"""Returns of every asset and their dates (the later date of each pair).

        Parameters
        ----------
        kind : {"simple", "log"}, default "simple"
            :math:`p_t / p_{t-1} - 1` or :math:`\log p_t - \log p_{t-1}`.
        missing : {"raise", "drop_rows", "keep"}, default "raise"
            ``"raise"``: a :class:`PriceDataError` naming the missing cells;
            ``"drop_rows"``: drop every date with a missing price in any asset, then
            difference; ``"keep"``: NaN returns where a price is missing.

        Returns
        -------
        returns : ndarray, shape (T - 1, n)
        dates : ndarray of datetime64[D], shape (T - 1,)

        Raises
        ------
        ValueError
            If ``kind`` or ``missing`` is not allowed (a :class:`PriceDataError` for missing prices).
        """
        if kind not in ("simple", "log"):
            raise ValueError(f"kind = {kind!r} is not allowed: expected 'simple' or 'log'")
        if missing not in ("raise", "drop_rows", "keep"):
            raise ValueError(f"missing = {missing!r} is not allowed: expected 'raise', 'drop_rows' or 'keep'")
        prices, dates = self.prices, self.dates
        if self.missing and missing == "raise":
            cells = [f"row {r} ({d}), column {t}" for r, d, t in self.missing]
            raise PriceDataError(
                f"{len(self.missing)} missing prices: {_first(cells)}; pass missing='drop_rows' or 'keep'"
            )
        if missing == "drop_rows":
            keep = ~np.isnan(prices).any(axis=1)
            prices, dates = prices[keep], dates[keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.diff(np.log(prices), axis=0) if kind == "log" else prices[1:] / prices[:-1] - 1.0
        return r, dates[1:]

    def simple_returns(self) -> np.ndarray:
        """Simple returns, shape (T - 1, n), NaN where a price is missing."""
        return self.returns("simple", missing="keep")[0]

    def log_returns(self) -> np.ndarray:
        return self.returns("log", missing="keep")[0]

    # -- interchange ---------------------------------------------------------
    def to_polars(self):
        """Wide polars DataFrame: a ``date`` column and one Float64 column per ticker."""
        import polars as pl

        return pl.DataFrame({"date": self.dates, **{t: self.prices[:, i] for i, t in enumerate(self.tickers)}})

    def to_long(self):
        """Long polars DataFrame (date, asset, price), missing prices as nulls."""
        import polars as pl

        n, k = self.prices.shape
        return pl.DataFrame(
            {
                "date": np.repeat(self.dates, k),
                "asset": np.tile(np.array(self.tickers), n),
                "price": self.prices.ravel(),
            }
        ).with_columns(pl.col("price").fill_nan(None))


def as_matrix(frame, columns=None) -> np.ndarray:
    """Float64 matrix of numeric columns of a polars DataFrame or a pyarrow Table.

    Zero-copy where the memory allows: a single column without nulls is a
    view of the Arrow buffer; a polars frame whose columns share one
    Fortran-ordered buffer (e.g. built from a numpy matrix) is returned as a
    view too. Otherwise the columns are copied once into a Fortran-ordered
    matrix (column j contiguous, as the column-wise kernels read it).

    Parameters
    ----------
    frame : polars.DataFrame or pyarrow.Table
        The data.
    columns : sequence of str, optional
        Columns to take (default: all).

    Returns
    -------
    ndarray, shape (T, n)

    Examples
    --------
    >>> import polars as pl
    >>> from meanfolio.data import as_matrix
    >>> as_matrix(pl.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
    array([[1., 3.],
           [2., 4.]])
    """
    import polars as pl
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        names = columns or frame.column_names
        cols = [frame.column(c) for c in names]
        if len(cols) == 1 and cols[0].num_chunks == 1 and cols[0].null_count == 0 and cols[0].type == pa.float64():
            return cols[0].chunk(0).to_numpy(zero_copy_only=True)[:, None]
        out = np.empty((frame.num_rows, len(cols)), order="F")
        for j, c in enumerate(cols):
            out[:, j] = c.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return out
    if not isinstance(frame, pl.DataFrame):
        raise ValueError(f"frame = {type(frame).__name__} is not allowed: expected a polars DataFrame or pyarrow Table")
    sub = frame.select(columns) if columns is not None else frame
    try:
        return sub.cast(pl.Float64).to_numpy(order="fortran", allow_copy=False)
    except RuntimeError:
        return sub.cast(pl.Float64).to_numpy(order="fortran")
