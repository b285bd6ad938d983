from datetime import UTC, date, datetime

import pandas as pd
import pytest
from curl_cffi.requests.exceptions import ConnectionError, Timeout
from yfinance.exceptions import YFDataException, YFRateLimitError, YFTzMissingError

from tests.conftest import FakeYahoo, yahoo_empty_frame, yahoo_history_frame
from tickercast.data.sources import FolderSource, SampleSource, YFinanceSource, open_source
from tickercast.errors import InputError, NoPricesError, PriceDataError, SourceUnavailableError

AFTER_CLOSE = datetime(2013, 3, 1, 22, 0, tzinfo=UTC)  # 17:00 New York on 2013-03-01


def test_sample_source_serves_real_prices():
    prices = SampleSource().fetch("MSFT", date(2012, 12, 24), date(2012, 12, 31))
    assert prices["session"].dt.strftime("%m-%d").tolist() == [
        "12-24",
        "12-26",
        "12-27",
        "12-28",
        "12-31",
    ]
    assert (prices["adjusted_close"] > 0).all()
    with pytest.raises(NoPricesError, match="ZZZZ: no prices from source 'sample'"):
        SampleSource().fetch("ZZZZ", None, None)


def test_yfinance_source_asks_for_raw_prices_with_actions(sample_aapl):
    yahoo = FakeYahoo({"AAPL": [yahoo_history_frame(sample_aapl)]})
    source = YFinanceSource("XNYS", ticker_factory=yahoo, clock=lambda: AFTER_CLOSE)
    prices = source.fetch("AAPL", None, date(2013, 3, 1))
    assert prices["session"].iloc[-1] == pd.Timestamp("2013-03-01")
    assert prices["adjusted_close"].tolist() == sample_aapl["adjusted_close"].tolist()
    ((_, kwargs),) = yahoo.calls
    assert kwargs["auto_adjust"] is False and kwargs["actions"] is True
    assert kwargs["end"] == "2013-03-02"  # yfinance's end is exclusive


def test_yfinance_drops_the_live_bar_of_today(sample_aapl):
    frame = yahoo_history_frame(sample_aapl)
    during_session = datetime(2013, 3, 1, 17, 0, tzinfo=UTC)  # 12:00 New York
    source = YFinanceSource("XNYS", FakeYahoo({"AAPL": [frame]}), clock=lambda: during_session)
    assert source.fetch("AAPL", None, None)["session"].iloc[-1] == pd.Timestamp("2013-02-28")
    source = YFinanceSource("XNYS", FakeYahoo({"AAPL": [frame]}), clock=lambda: AFTER_CLOSE)
    assert source.fetch("AAPL", None, None)["session"].iloc[-1] == pd.Timestamp("2013-03-01")


def test_yfinance_empty_frame_is_an_error_naming_ticker_and_source():
    source = YFinanceSource("XNYS", FakeYahoo({"DELISTED": [yahoo_empty_frame()]}))
    with pytest.raises(NoPricesError, match="DELISTED: no prices from source 'yfinance'"):
        source.fetch("DELISTED", None, None)


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (YFRateLimitError(), r"AAPL: Yahoo is rate limiting \(HTTP 429\)"),
        (Timeout("Operation timed out after 30001 ms"), "AAPL: Yahoo did not answer: Timeout"),
        (ConnectionError("Failed to connect to query2"), "AAPL: Yahoo did not answer"),
        (YFDataException("*** YAHOO! FINANCE IS CURRENTLY DOWN! ***"), "CURRENTLY DOWN"),
    ],
)
def test_yfinance_transient_failures_are_source_unavailable(raised, message):
    source = YFinanceSource("XNYS", FakeYahoo({"AAPL": [raised]}))
    with pytest.raises(SourceUnavailableError, match=message):
        source.fetch("AAPL", None, None)


def test_yfinance_unknown_ticker_is_bad_input():
    source = YFinanceSource("XNYS", FakeYahoo({"ZZZZ": [YFTzMissingError("ZZZZ")]}))
    with pytest.raises(NoPricesError, match=r"ZZZZ: no prices .*possibly delisted; no timezone"):
        source.fetch("ZZZZ", None, None)


def test_yfinance_shows_exceptions_so_that_network_errors_are_not_empty_frames():
    import yfinance

    YFinanceSource("XNYS")
    assert yfinance.config.debug.hide_exceptions is False


def test_every_yahoo_request_waits_for_the_pace(sample_aapl):
    order = []
    yahoo = FakeYahoo({"AAPL": [yahoo_history_frame(sample_aapl)]})
    paced = YFinanceSource("XNYS", yahoo, before_request=lambda: order.append(len(yahoo.calls)))
    paced.fetch("AAPL", None, None)
    paced.fetch("AAPL", date(2013, 2, 1), None)
    assert order == [0, 1]  # each wait came before its request


def test_folder_source_reads_csv_and_parquet(tmp_path, sample_aapl):
    sample_aapl.tail(200).rename(columns={"session": "Date"}).to_csv(
        tmp_path / "AAPL.csv", index=False
    )
    yahoo_history_frame(sample_aapl.tail(100)).to_parquet(tmp_path / "MSFT.parquet")
    source = FolderSource(tmp_path)
    assert len(source.fetch("AAPL", None, None)) == 200
    assert len(source.fetch("MSFT", date(2013, 2, 1), None)) == 20  # 19 in February + 1 March
    with pytest.raises(NoPricesError, match=r"IBM: .* no IBM.csv or IBM.parquet"):
        source.fetch("IBM", None, None)


def test_folder_source_errors_name_the_file(tmp_path):
    (tmp_path / "EMPTY.csv").write_text("")
    (tmp_path / "HEAD.csv").write_text("Date,Open,High,Low,Close,Adj Close,Volume\n")
    (tmp_path / "BODY.csv").write_text(
        "Date,Close\n2022-12-29,129.61\n"
        '{"chart":{"result":null,"error":{"code":"Too Many Requests"}}}\n2022-12-30,129.93\n'
    )
    source = FolderSource(tmp_path)
    with pytest.raises(NoPricesError, match=r"EMPTY.csv.*empty file"):
        source.fetch("EMPTY", None, None)
    with pytest.raises(NoPricesError, match=r"HEAD.csv"):
        source.fetch("HEAD", None, None)
    with pytest.raises(PriceDataError, match=r"BODY.csv: unparseable dates at lines 3"):
        source.fetch("BODY", None, None)


def test_shared_yahoo_files(shared_data):
    prices = FolderSource(shared_data / "yahoo").fetch("AAPL", date(2010, 1, 1), date(2022, 12, 30))
    assert prices["session"].iloc[0] == pd.Timestamp("2010-01-04")
    assert prices["session"].iloc[-1] == pd.Timestamp("2022-12-30")
    assert len(prices) == 3272


def test_open_source():
    assert open_source("sample", "XNYS").name == "sample"
    assert open_source("yfinance", "XNYS").name == "yfinance"
    with pytest.raises(InputError, match="unknown source 'nowhere'"):
        open_source("nowhere", "XNYS")
