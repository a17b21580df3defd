"""Readers: round trips in every format and layout, and every malformed input named in the issue."""

import gzip

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from meanfolio.data import PriceDataError, PriceTable, as_matrix, frame_to_table, load_sp500, read_prices, write_prices


def table(n=6, k=3, missing=False):
    dates = np.datetime64("2024-01-01") + np.arange(n)
    prices = 100 + np.arange(n * k, dtype=float).reshape(n, k)
    if missing:
        prices[2, 1] = np.nan
    return PriceTable(dates, ("AAA", "BBB", "CCC")[:k], prices)


@pytest.mark.parametrize("name", ["p.csv", "p.csv.gz", "p.parquet", "p.arrow"])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_round_trip(tmp_path, name, layout):
    t = table(missing=True)
    back = read_prices(write_prices(t, tmp_path / name, layout=layout))
    assert back.tickers == t.tickers
    np.testing.assert_array_equal(back.dates, t.dates)
    np.testing.assert_array_equal(back.prices, t.prices)  # NaN where it was missing
    assert back.missing == [(2, "2024-01-03", "BBB")]


def test_bundled_sp500():
    t = load_sp500()
    assert t.prices.shape == (8313, 20) and t.tickers[0] == "AAPL"
    assert str(t.dates[0]) == "1990-01-02" and str(t.dates[-1]) == "2022-12-28"
    assert t.missing == [] and np.all(t.prices > 0)
    sub = load_sp500(["MSFT", "KO"], "2020-01-01", "2020-12-31")
    assert sub.tickers == ("MSFT", "KO") and str(sub.dates[0]) == "2020-01-02"
    # the selection picks the same numbers
    j = t.tickers.index("KO")
    rows = (t.dates >= np.datetime64("2020-01-01")) & (t.dates <= np.datetime64("2020-12-31"))
    np.testing.assert_array_equal(sub.prices[:, 1], t.prices[rows, j])


def test_returns_simple_log_and_missing():
    t = table(missing=True)
    with pytest.raises(PriceDataError, match=r"missing prices: row 2 \(2024-01-03\), column BBB"):
        t.returns()
    r, d = t.returns("simple", missing="drop_rows")
    assert r.shape == (4, 3) and str(d[0]) == "2024-01-02"
    kept = np.delete(t.prices, 2, axis=0)
    np.testing.assert_allclose(r, kept[1:] / kept[:-1] - 1)
    lr, _ = t.returns("log", missing="keep")
    assert np.isnan(lr[1, 1]) and np.isnan(lr[2, 1]) and lr[0, 1] == pytest.approx(np.log(104 / 101))


def _csv(tmp_path, text, name="bad.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_malformed_inputs_name_rows_and_columns(tmp_path):
    cases = {
        "date,A,B\n2024-01-02,1,2\n2024-01-01,1,2\n2024-01-03,1,2\n": r"not increasing .*rows 1 \(2024-01-01",
        "date,A,B\n2024-01-01,1,2\n2024-01-01,1,2\n2024-01-03,1,2\n": r"duplicate dates .*rows 1 \(2024-01-01\)",
        "date,A,B\n2024-01-01,1,2\n2024-01-02,-1,2\n2024-01-03,1,2\n": r"row 1 \(2024-01-02\), column A: -1.0",
        "date,A,B\n2024-01-01,1,2\n2024-01-02,0,2\n2024-01-03,1,2\n": r"column A: 0.0",
        "date,A,B\n2024-01-01,1,2\n2024-01-02,x,2\n": r"non-numeric prices at row 1 \(2024-01-02\): 'x'",
        "date,A,A2\n2024-01-01,1,2\n,1,2\n": r"missing dates at rows 1",
        "date\n2024-01-01\n2024-01-02\n": r"expected a date column and asset columns",
        "date,A\n2024-01-01,1\n": r"at least 2 dates",
    }
    for text, pattern in cases.items():
        with pytest.raises(PriceDataError, match=pattern):
            read_prices(_csv(tmp_path, text))
    long = "date,asset,price\n2024-01-01,A,1\n2024-01-01,A,2\n2024-01-02,A,3\n"
    with pytest.raises(PriceDataError, match=r"duplicate \(date, asset\) pairs \(2024-01-01, A\)"):
        read_prices(_csv(tmp_path, long))
    with pytest.raises(ValueError, match="does not exist"):
        read_prices(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="unknown extension"):
        read_prices(_csv(tmp_path, "x", "p.txt"))
    with pytest.raises(ValueError, match="layout"):
        frame_to_table(pl.DataFrame({"date": ["2024-01-01"]}), layout="tall")


def test_missing_cells_are_reported_not_dropped(tmp_path):
    t = read_prices(_csv(tmp_path, "date,A,B\n2024-01-01,1,2\n2024-01-02,,2\n2024-01-03,1,\n"))
    assert t.missing == [(1, "2024-01-02", "A"), (2, "2024-01-03", "B")]
    assert np.isnan(t.prices[1, 0]) and t.prices.shape == (3, 2)


def test_gzip_csv_is_read(tmp_path):
    p = tmp_path / "p.csv.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("Date,X,Y\n2024-01-01,1,2\n2024-01-02,1.5,2.5\n")
    t = read_prices(p)
    assert t.tickers == ("X", "Y") and t.prices[1, 0] == 1.5


def test_zero_copy_matrices():
    # a single Arrow float64 column without nulls is viewed, not copied
    col = pa.array(np.arange(5.0))
    tbl = pa.table({"a": col})
    m = as_matrix(tbl)
    assert np.shares_memory(m, np.frombuffer(col.buffers()[1], dtype=np.float64))
    # a polars frame built from a Fortran-ordered matrix is returned as a view
    base = np.asfortranarray(np.random.default_rng(0).random((100, 4)))
    frame = pl.DataFrame(base, schema=list("abcd"))
    m = as_matrix(frame)
    assert m.shape == (100, 4) and m.flags.f_contiguous
    np.testing.assert_array_equal(m, base)
    # otherwise one copy, Fortran order, same values
    mixed = pl.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, None]})
    out = as_matrix(mixed)
    assert out.flags.f_contiguous and np.isnan(out[2, 1]) and out[1, 0] == 2.0
    out2 = as_matrix(pa.table({"a": [1, 2], "b": [3.0, 4.0]}))
    np.testing.assert_array_equal(out2, [[1, 3], [2, 4]])
