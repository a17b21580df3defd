"""Data: validated price tables (Polars/Arrow readers), the bundled S&P 500 set, the DuckDB result store."""

from .bundled import load_sp500
from .prices import PriceDataError, PriceTable, as_matrix
from .readers import frame_to_table, read_prices, write_prices
from .store import ResultStore, RunRecord, StoreBusyError

__all__ = [
    "PriceDataError",
    "PriceTable",
    "ResultStore",
    "RunRecord",
    "StoreBusyError",
    "as_matrix",
    "frame_to_table",
    "load_sp500",
    "read_prices",
    "write_prices",
]
