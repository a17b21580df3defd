"""Real-world price files: quote-service OHLCV exports, M/D/Y and D/M/Y dates, decimal commas, long files,
Parquet written by pandas with a datetime index, duplicate headers, NA strings. The reader never guesses."""

from pathlib import Path

import numpy as np
import pytest

from meanfolio.data import PriceDataError, read_prices

# what a quote service exports (US dates, not zero-padded, the Adj Close column)
OHLCV_US = """Date,Open,High,Low,Close,Adj Close,Volume
1/10/2020,310.60,312.67,308.25,310.33,303.19,35161200
1/13/2020,311.64,317.07,311.15,316.96,309.67,30383000
1/14/2020,316.70,317.57,312.17,312.68,305.49,40488600
2/3/2020,304.30,313.49,302.22,308.66,301.56,43496400
"""


def _write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ohlcv_export_is_one_asset_priced_by_adj_close_with_us_dates(tmp_path):
    t = read_prices(_write(tmp_path, OHLCV_US, "AAPL.csv"))
    assert t.tickers == ("AAPL",)
    np.testing.assert_allclose(t.prices[:, 0], [303.19, 309.67, 305.49, 301.56])
    assert [str(d) for d in t.dates] == ["2020-01-10", "2020-01-13", "2020-01-14", "2020-02-03"]
    assert len(t.notes) == 1 and "'Adj Close'" in t.notes[0] and "OHLCV" in t.notes[0]
    close = read_prices(_write(tmp_path, OHLCV_US, "AAPL.csv"), column="Close")
    np.testing.assert_allclose(close.prices[:, 0], [310.33, 316.96, 312.68, 308.66])
    no_adj = OHLCV_US.replace(",Adj Close", "").replace(",303.19", "").replace(",309.67", "")
    no_adj = no_adj.replace(",305.49", "").replace(",301.56", "")
    t = read_prices(_write(tmp_path, no_adj, "SPY.csv.gz".replace(".gz", "")))
    assert t.tickers == ("SPY",) and "'Close'" in t.notes[0]
    with pytest.raises(PriceDataError, match="column = 'Last'"):
        read_prices(_write(tmp_path, OHLCV_US, "AAPL.csv"), column="Last")


def test_month_first_is_decided_by_a_day_above_12_anywhere_in_the_column(tmp_path):
    # the first rows alone would read as D/M; the last row shows the column is M/D/Y
    text = "date,A\n01/02/2020,1\n01/03/2020,2\n02/01/2020,3\n02/13/2020,4\n"
    t = read_prices(_write(tmp_path, text))
    assert [str(d) for d in t.dates] == ["2020-01-02", "2020-01-03", "2020-02-01", "2020-02-13"]
    # a day > 12 in the first field makes the whole column D/M/Y: these rows then go backwards in time
    with pytest.raises(PriceDataError, match="not increasing"):
        read_prices(_write(tmp_path, "date,A\n01/02/2020,1\n01/03/2020,2\n02/01/2020,3\n13/02/2020,4\n"))
    text = "date,A\n02/01/2020,1\n01/02/2020,2\n01/03/2020,3\n13/03/2020,4\n"
    t = read_prices(_write(tmp_path, text))
    assert [str(d) for d in t.dates] == ["2020-01-02", "2020-02-01", "2020-03-01", "2020-03-13"]


def test_an_ambiguous_column_is_refused_naming_date_format(tmp_path):
    path = _write(tmp_path, "date,A\n01/02/2020,1\n01/03/2020,2\n01/04/2020,3\n")
    with pytest.raises(PriceDataError, match=r"ambiguous.*'01/02/2020'.*date_format=.*--date-format"):
        read_prices(path)
    us = read_prices(path, date_format="%m/%d/%Y")
    assert [str(d) for d in us.dates] == ["2020-01-02", "2020-01-03", "2020-01-04"]
    eu = read_prices(path, date_format="%d/%m/%Y")
    assert [str(d) for d in eu.dates] == ["2020-02-01", "2020-03-01", "2020-04-01"]
    with pytest.raises(PriceDataError, match=r"row 2, column 'date': '01/03/2020' does not match"):
        read_prices(_write(tmp_path, "date,A\n2020-01-02,1\n01/03/2020,2\n"), date_format="%Y-%m-%d")


def test_a_column_mixing_formats_is_refused(tmp_path):
    with pytest.raises(PriceDataError, match=r"'13/01/2020' reads only as D/M/Y and '01/14/2020' only as M/D/Y"):
        read_prices(_write(tmp_path, "date,A\n13/01/2020,1\n01/14/2020,2\n"))
    with pytest.raises(PriceDataError, match=r"'Jan 3' .*date_format="):
        read_prices(_write(tmp_path, "date,A\n2020-01-02,1\nJan 3,2\n"))


EUROPEAN = "Datum;SAP;Siemens\n30.12.2019;122,98;116,38\n02.01.2020;123,66;117,68\n03.01.2020;1.122,90;116,40\n"


def test_european_dates_and_decimal_commas(tmp_path):
    path = _write(tmp_path, EUROPEAN)
    with pytest.raises(PriceDataError, match=r"decimal comma: pass decimal=','"):
        read_prices(path)
    t = read_prices(path, decimal=",")
    assert t.tickers == ("SAP", "Siemens")
    assert [str(d) for d in t.dates] == ["2019-12-30", "2020-01-02", "2020-01-03"]
    np.testing.assert_allclose(t.prices[:, 0], [122.98, 123.66, 1122.90])


def test_long_files_plain_and_ohlcv(tmp_path):
    text = "date,ticker,price\n2020-01-02,A,1\n2020-01-02,B,2\n2020-01-03,A,1.5\n2020-01-03,B,2.5\n"
    t = read_prices(_write(tmp_path, text))
    assert t.tickers == ("A", "B") and t.notes == ()
    np.testing.assert_allclose(t.prices, [[1, 2], [1.5, 2.5]])
    text = ("Date,Symbol,Open,High,Low,Close,Adj Close,Volume\n"
            "1/2/2020,A,1,1,1,1.1,1.0,5\n1/2/2020,B,2,2,2,2.2,2.0,5\n1/30/2020,A,1,1,1,1.6,1.5,5\n"
            "1/30/2020,B,2,2,2,2.7,2.5,5\n")  # fmt: skip
    t = read_prices(_write(tmp_path, text))
    assert t.tickers == ("A", "B") and "'Adj Close'" in t.notes[0]
    assert [str(d) for d in t.dates] == ["2020-01-02", "2020-01-30"]
    np.testing.assert_allclose(t.prices, [[1.0, 2.0], [1.5, 2.5]])
    np.testing.assert_allclose(read_prices(tmp_path / "prices.csv", column="Close").prices, [[1.1, 2.2], [1.6, 2.7]])


def test_parquet_written_by_pandas_with_a_datetime_index(tmp_path):
    pd = pytest.importorskip("pandas")
    index = pd.date_range("2021-03-01", periods=4, freq="B", name="Date")
    frame = pd.DataFrame({"A": [1.0, 1.1, 1.2, 1.3], "B": [2.0, 2.1, np.nan, 2.3]}, index=index)
    frame.to_parquet(tmp_path / "named.parquet")
    t = read_prices(tmp_path / "named.parquet")
    assert t.tickers == ("A", "B") and str(t.dates[0]) == "2021-03-01"
    assert t.missing == [(2, "2021-03-03", "B")]
    frame.index.name = None  # stored as __index_level_0__
    frame.to_parquet(tmp_path / "unnamed.parquet")
    t = read_prices(tmp_path / "unnamed.parquet")
    assert t.tickers == ("A", "B") and [str(d) for d in t.dates][-1] == "2021-03-04"


def test_duplicate_headers_are_refused_by_name(tmp_path):
    with pytest.raises(PriceDataError, match=r"duplicate column names 'A'"):
        read_prices(_write(tmp_path, "date,A,B,A\n2020-01-02,1,2,3\n2020-01-03,1,2,3\n"))


def test_na_strings_are_missing_values_and_listed(tmp_path):
    text = "date,A,B,C\n2020-01-02,1,2,3\n2020-01-03,NA,N/A,null\n2020-01-06,#N/A,,3\n2020-01-07,1,2,3\n"
    t = read_prices(_write(tmp_path, text))
    assert t.missing == [(1, "2020-01-03", "A"), (1, "2020-01-03", "B"), (1, "2020-01-03", "C"),
                         (2, "2020-01-06", "A"), (2, "2020-01-06", "B")]  # fmt: skip
    with pytest.raises(PriceDataError, match=r"non-numeric prices at row 1 \(2020-01-03\): 'n.a.'"):
        read_prices(_write(tmp_path, "date,A\n2020-01-02,1\n2020-01-03,n.a.\n"))


def test_integer_dates_are_read_as_yyyymmdd_or_refused(tmp_path):
    import polars as pl

    pl.DataFrame({"date": [20200131, 20200203], "A": [1.0, 2.0]}).write_parquet(tmp_path / "ymd.parquet")
    assert [str(d) for d in read_prices(tmp_path / "ymd.parquet").dates] == ["2020-01-31", "2020-02-03"]
    pl.DataFrame({"date": [18262, 18263], "A": [1.0, 2.0]}).write_parquet(tmp_path / "days.parquet")
    with pytest.raises(PriceDataError, match=r"'18262'.*date_format="):
        read_prices(tmp_path / "days.parquet")


def test_decimal_comma_refuses_dot_decimals_instead_of_reading_15(tmp_path):
    with pytest.raises(PriceDataError, match=r"with decimal=',' .*'1.5'"):
        read_prices(_write(tmp_path, "date;A\n2020-01-02;1.5\n2020-01-03;1.6\n"), decimal=",")
