"""Data: price tables (Polars readers)."""

from .prices import PriceTable, read_prices

__all__ = ["PriceTable", "read_prices"]
