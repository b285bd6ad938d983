import io

import pandas as pd
import pytest

from tests.conftest import yahoo_history_frame
from tickercast.data.prices import PRICE_COLUMNS, clip_sessions, normalize_prices, prices_sha256
from tickercast.errors import NoPricesError, PriceDataError

YAHOO_CSV = """Date,Open,High,Low,Close,Adj Close,Volume
2022-12-28,129.67,131.03,125.87,126.04,125.11,85438400
2022-12-29,127.99,130.48,127.73,129.61,128.65,75703700
2022-12-30,128.41,129.95,127.43,129.93,128.97,77034200
"""


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str)


def test_yahoo_layout_becomes_the_canonical_frame():
    prices = normalize_prices(_csv(YAHOO_CSV), "AAPL", "AAPL.csv", line_offset=2)
    assert list(prices.columns) == PRICE_COLUMNS
    assert prices["session"].dt.strftime("%Y-%m-%d").tolist() == [
        "2022-12-28",
        "2022-12-29",
        "2022-12-30",
    ]
    assert prices["adjusted_close"].tolist() == [125.11, 128.65, 128.97]
    assert prices["volume"].tolist() == [85438400, 75703700, 77034200]
    assert prices["split_ratio"].tolist() == [1.0, 1.0, 1.0]


def test_headers_are_case_insensitive_and_date_close_is_enough():
    prices = normalize_prices(
        _csv("DATE,close\n2022-12-29,129.61\n2022-12-30,129.93\n"), "X", "x.csv"
    )
    assert prices["adjusted_close"].tolist() == [129.61, 129.93]  # no adjusted column: close
    assert prices["open"].isna().all()


def test_alpha_vantage_layout_keeps_splits_and_adjusted_close():
    text = (
        "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient\n"
        "2020-09-01,132.76,134.80,130.53,134.18,132.05,151948100,0.0,1.0\n"
        "2020-08-31,127.58,131.00,126.00,129.04,126.99,223505733,0.0,4.0\n"
        "2020-08-28,504.05,505.77,498.31,499.23,122.83,46907479,0.0,1.0\n"
    )
    prices = normalize_prices(_csv(text), "AAPL", "av.csv")
    assert prices["session"].dt.day.tolist() == [1, 31, 28]  # source order: quality sorts
    assert prices["split_ratio"].tolist() == [1.0, 4.0, 1.0]
    assert prices["close"].tolist() == [134.18, 129.04, 499.23]


@pytest.mark.parametrize("tz", ["America/New_York", "UTC", None])
def test_index_timezones_keep_the_session_day(sample_aapl, tz):
    frame = yahoo_history_frame(sample_aapl.tail(5))
    frame.index = frame.index.tz_localize(None) if tz is None else frame.index.tz_convert(tz)
    if tz == "UTC":
        # midnight New York is 04:00/05:00 UTC the same day
        assert (frame.index.hour > 0).all()
    prices = normalize_prices(frame, "AAPL", "yfinance")
    assert prices["session"].tolist() == sample_aapl.tail(5)["session"].tolist()
    assert prices["split_ratio"].tolist() == [1.0] * 5


def test_yf_download_multiindex_columns(sample_aapl):
    single = yahoo_history_frame(sample_aapl.tail(3)).drop(columns=["Dividends", "Stock Splits"])
    download = pd.concat({"AAPL": single, "MSFT": single * 2}, axis=1).swaplevel(axis=1)
    download.columns.names = ["Price", "Ticker"]
    prices = normalize_prices(download, "MSFT", "yfinance")
    assert prices["close"].tolist() == (sample_aapl.tail(3)["close"] * 2).tolist()
    with pytest.raises(NoPricesError, match="IBM"):
        normalize_prices(download, "IBM", "yfinance")


def test_garbage_names_the_file_line():
    text = YAHOO_CSV + '{"chart":{"error":{"code":"Not Found"}}},,,,,,\n'
    with pytest.raises(PriceDataError, match=r"AAPL.csv: unparseable dates at lines 5"):
        normalize_prices(_csv(text), "AAPL", "AAPL.csv", line_offset=2)
    text = YAHOO_CSV.replace("129.61", "12x.61")
    with pytest.raises(PriceDataError, match=r"non-numeric close at lines 3 \(e.g. '12x.61'\)"):
        normalize_prices(_csv(text), "AAPL", "AAPL.csv", line_offset=2)


def test_no_close_column_or_no_rows():
    with pytest.raises(PriceDataError, match="no close column"):
        normalize_prices(_csv("Date,Open\n2022-12-30,1\n"), "AAPL", "AAPL.csv")
    with pytest.raises(NoPricesError, match="AAPL: no prices from source 'AAPL.csv'"):
        normalize_prices(_csv("Date,Close\n"), "AAPL", "AAPL.csv")


def test_clip_and_hash(sample_aapl):
    window = clip_sessions(
        sample_aapl, pd.Timestamp("2012-01-03").date(), pd.Timestamp("2012-01-06").date()
    )
    assert window["session"].dt.day.tolist() == [3, 4, 5, 6]
    assert prices_sha256(window) == prices_sha256(window.copy())
    bumped = window.copy()
    bumped.loc[2, "adjusted_close"] += 0.01
    assert prices_sha256(bumped) != prices_sha256(window)
