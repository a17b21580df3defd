"""Date columns read without guessing: the format is inferred from the whole column.

Rules (``infer_date_format``):

- year first (``2020-01-31``, ``2020/01/31``, ``20200131``): year-month-day;
- day and month first (``01/31/2020``, ``31.01.2020``, ``1-2-20``): a first
  field > 12 somewhere in the column means day/month/year, a second field
  > 12 means month/day/year; if neither happens the column is ambiguous and
  is refused with a message naming ``date_format=`` (CLI ``--date-format``);
  both happening means the column mixes formats and is refused too;
- anything else must be given explicitly with ``date_format=``.
"""

from __future__ import annotations

import re

import numpy as np

from .prices import PriceDataError, _first

__all__ = ["infer_date_format", "parse_dates"]

_YMD = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_XYY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_COMPACT = re.compile(r"\d{8}")
_TIME = re.compile(r"[ T]00:00(:00(\.0+)?)?(Z|[+-]00:?00)?$")
HINT = "pass date_format= (CLI --date-format), e.g. '%m/%d/%Y' or '%d/%m/%Y'"


def _strip_midnight(values: list[str]) -> list[str]:
    """'2020-01-02 00:00:00' -> '2020-01-02' (exports often add a midnight time); other times are kept."""
    return [_TIME.sub("", v) for v in values]


def infer_date_format(values: list[str], *, column: str = "date", source: str = "prices") -> str:
    """The strptime format of every value of ``values`` (non-empty strings), or a PriceDataError."""
    values = _strip_midnight([v.strip() for v in values])
    if all(_COMPACT.fullmatch(v) for v in values):
        return "%Y%m%d"
    matches = [_YMD.fullmatch(v) for v in values]
    if all(matches):
        seps = {m.group(2) for m in matches}  # type: ignore[union-attr]
        if len(seps) == 1:
            sep = seps.pop()
            return f"%Y{sep}%m{sep}%d"
    matches = [_XYY.fullmatch(v) for v in values]
    where = f"{source}, column {column!r}"
    if not all(matches):
        bad = [repr(v) for v, m in zip(values, matches, strict=True) if not m]
        raise PriceDataError(f"{where}: the dates {_first(bad)} are in no format read without a guess "
                             f"(ISO 2020-01-31, M/D/Y or D/M/Y): {HINT}")  # fmt: skip
    seps = {m.group(2) for m in matches}  # type: ignore[union-attr]
    years = {len(m.group(4)) for m in matches}  # type: ignore[union-attr]
    if len(seps) > 1 or len(years) > 1:
        raise PriceDataError(f"{where}: the dates mix separators {sorted(seps)} or year widths: {HINT}")
    sep, year = seps.pop(), "%Y" if years.pop() == 4 else "%y"
    first = np.array([int(m.group(1)) for m in matches])  # type: ignore[union-attr]
    second = np.array([int(m.group(3)) for m in matches])  # type: ignore[union-attr]
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        a, b = values[int(np.argmax(first > 12))], values[int(np.argmax(second > 12))]
        raise PriceDataError(f"{where}: {a!r} reads only as D/M/Y and {b!r} only as M/D/Y: the column mixes "
                             f"formats; {HINT}")  # fmt: skip
    if day_first:
        return f"%d{sep}%m{sep}{year}"
    if month_first or bool((first == second).all()):  # equal fields: both readings give the same dates
        return f"%m{sep}%d{sep}{year}"
    example = next(v for v, a, b in zip(values, first, second, strict=True) if a != b)
    raise PriceDataError(f"{where} is ambiguous: no day is > 12 in either of the first two fields (e.g. "
                         f"{example!r} is {_read(example, sep, True)} as M/D/Y and {_read(example, sep, False)} as "
                         f"D/M/Y); {HINT}")  # fmt: skip


def _read(value: str, sep: str, month_first: bool) -> str:
    a, b, y = value.split(sep)
    month, day = (a, b) if month_first else (b, a)
    return f"month {int(month)} day {int(day)}"


def parse_dates(column, *, date_format: str | None = None, source: str = "prices") -> np.ndarray:
    """A polars Series (strings, dates or datetimes) as datetime64[D]; strings parsed with ``date_format``
    or the format inferred from the whole column; the first value that does not match is reported."""
    import polars as pl

    name = column.name
    if column.null_count():
        rows = np.nonzero(column.is_null().to_numpy())[0]
        raise PriceDataError(f"{source}: missing dates at rows {_first([str(r) for r in rows])} of column {name!r}")
    if column.dtype.is_integer():  # 20200131 is a date; 18262 (days since 1970?) is refused, not guessed
        column = column.cast(pl.String)
    if column.dtype in (pl.String, pl.Categorical):
        raw = column.cast(pl.String).str.strip_chars()
        fmt = date_format
        if fmt is None:
            raw = pl.Series(name, _strip_midnight(raw.to_list()))
            fmt = infer_date_format(raw.to_list(), column=name, source=source)
        parsed = raw.str.strptime(pl.Date, fmt, strict=False)
        bad = parsed.is_null().arg_true()
        if bad.len():
            row = int(bad[0])
            raise PriceDataError(f"{source}: row {row + 1}, column {name!r}: {raw[row]!r} does not match "
                                 f"date_format = {fmt!r}")  # fmt: skip
        column = parsed
    elif date_format is not None:
        raise PriceDataError(f"{source}: column {name!r} already holds {column.dtype} values: date_format = "
                             f"{date_format!r} applies to text dates only")  # fmt: skip
    try:
        return column.cast(pl.Date).to_numpy().astype("datetime64[D]")
    except Exception as exc:
        raise PriceDataError(f"{source}: the date column {name!r} could not be read as dates ({exc})") from exc
