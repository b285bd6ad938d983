import io
import json

import pandas as pd
import pytest

from tickercast.data.prices import normalize_prices
from tickercast.data.quality import DEFAULT_QUALITY, QualityConfig, clean_prices, report_markdown
from tickercast.data.sources import FolderSource
from tickercast.errors import PriceDataError

YAHOO_CSV = """Date,Open,High,Low,Close,Adj Close,Volume
2022-12-27,131.38,131.41,128.72,130.03,129.09,69007800
2022-12-28,129.67,131.03,125.87,126.04,125.11,85438400
2022-12-29,127.99,130.48,127.73,129.61,128.65,75703700
2022-12-30,128.41,129.95,127.43,129.93,128.97,77034200
"""


def _clean(text: str, config: QualityConfig = DEFAULT_QUALITY):
    raw = pd.read_csv(io.StringIO(text), dtype=str)
    frame = normalize_prices(raw, "AAPL", "AAPL.csv", line_offset=2)
    return clean_prices(frame, "AAPL", "AAPL.csv", "XNYS", config)


def test_clean_prices_pass_through_without_findings():
    prices, report = _clean(YAHOO_CSV)
    assert len(prices) == 4 and report.findings == []
    assert (report.first_session, report.last_session) == ("2022-12-27", "2022-12-30")
    assert "No findings." in report_markdown(report)


def test_hard_errors_name_the_dates_and_store_nothing():
    text = (
        YAHOO_CSV + "2023-01-03,130.28,130.90,124.17,,,112117500\n2023-01-04,1,1,1,-2.5,-2.5,10\n"
    )
    with pytest.raises(PriceDataError) as error:
        _clean(text)
    message = str(error.value)
    assert message.startswith("AAPL: AAPL.csv: ")
    assert "close missing on 2023-01-03" in message
    assert "close failing greater_than(0) on 2023-01-04" in message


def test_repeated_sessions_keep_the_later_row_and_say_so():
    text = YAHOO_CSV + "2022-12-30,128.41,129.95,127.43,129.95,128.99,80000000\n"
    prices, report = _clean(text)
    assert prices["session"].is_unique and len(prices) == 4
    assert prices["close"].iloc[-1] == 129.95
    (finding,) = report.findings
    assert (finding.kind, finding.sessions) == ("duplicate_sessions", ["2022-12-30"])
    assert "2022-12-30: kept close 129.95, volume 80000000; dropped close 129.93" in finding.detail


def test_rows_out_of_order_are_sorted_and_reported():
    lines = YAHOO_CSV.strip().splitlines()
    text = "\n".join([lines[0], lines[1], lines[3], lines[2], lines[4]]) + "\n"
    prices, report = _clean(text)
    assert prices["session"].is_monotonic_increasing
    assert report.counts() == {"out_of_order_rows": 1}
    assert report.findings[0].sessions == ["2022-12-28"]


def test_soft_findings_missing_sessions_ranges_jumps_and_zero_volume():
    text = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2022-12-23,130.92,132.42,129.64,131.86,130.90,63814900\n"
        "2022-12-27,131.38,131.41,128.72,130.03,129.09,0\n"  # zero volume
        "2022-12-28,129.67,125.00,125.87,126.04,125.11,85438400\n"  # high below open
        "2022-12-30,128.41,12995.0,127.43,12993.0,12897.0,77034200\n"  # 100x, 29th missing
        "2023-01-03,12993.0,12993.0,12993.0,12993.0,12897.0,100\n"  # no range
        "2023-01-04,129.0,131.0,128.0,130.0,129.0,5000\n"
        "2023-01-05,129.0,131.0,128.0,130.0,129.0,5000\n"  # stale: the 4th again
    )
    _, report = _clean(text)
    counts = report.counts()
    assert counts == {
        "missing_sessions": 1,
        "ohlc_inconsistent": 1,
        "zero_range": 1,
        "stale_bar": 1,
        "large_move": 2,
        "zero_volume": 1,
    }
    findings = {f.kind: f for f in report.findings}
    assert findings["missing_sessions"].sessions == ["2022-12-29"]
    assert findings["ohlc_inconsistent"].sessions == ["2022-12-28"]
    assert findings["large_move"].sessions == ["2022-12-30", "2023-01-04"]
    assert findings["zero_range"].sessions == ["2023-01-03"]
    assert findings["stale_bar"].sessions == ["2023-01-05"]
    assert "squared close-to-close return" in findings["stale_bar"].detail
    assert "takes max(open, high, close)" in findings["ohlc_inconsistent"].detail
    assert "126.04 -> 12993" in findings["large_move"].detail
    assert findings["zero_volume"].sessions == ["2022-12-27"]
    markdown = report_markdown(report)
    assert "| `large_move` | 2 | 2022-12-30, 2023-01-04 |" in markdown


def test_a_split_explains_a_raw_drop(tmp_path):
    text = (
        "timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient\n"
        "2020-08-28,504.05,505.77,498.31,499.23,124.81,46907479,0.0,1.0\n"
        "2020-08-31,127.58,131.00,126.00,129.04,129.04,223505733,0.0,4.0\n"
    )
    _, report = _clean(text)
    assert "large_move" not in report.counts()


def test_the_dirty_yahoo_file_is_cleaned_and_every_problem_named(shared_data):
    frame = FolderSource(shared_data / "dirty").fetch("AAPL", None, None)
    prices, report = clean_prices(frame, "AAPL", "dirty/AAPL.csv", "XNYS")
    findings = {f.kind: f for f in report.findings}
    assert findings["null_rows"].sessions == ["2022-01-27"]
    duplicates = findings["duplicate_sessions"]
    assert duplicates.count == 45 and duplicates.sessions[0] == "2022-01-31"
    assert (
        "2022-01-31: kept close 174.78, volume 115541590; dropped close 174.78, volume 115307800"
        in duplicates.detail
    )
    assert findings["missing_sessions"].sessions == ["2022-01-27", "2023-11-01", "2023-12-08"]
    assert prices["session"].is_unique and prices["session"].is_monotonic_increasing
    assert len(prices) == 6233 - 1 - 45  # 6233 rows less the null row and the earlier duplicates
    assert json.loads(json.dumps(report.as_dict()))["ticker"] == "AAPL"


def test_the_dirty_file_has_its_out_of_order_rows_reported_when_shuffled(shared_data):
    frame = FolderSource(shared_data / "dirty").fetch("AAPL", None, None)
    shuffled = pd.concat(
        [frame.iloc[:100], frame.iloc[150:200], frame.iloc[100:150], frame.iloc[200:]]
    )
    prices, report = clean_prices(shuffled.reset_index(drop=True), "AAPL", "dirty/AAPL.csv", "XNYS")
    assert report.counts()["out_of_order_rows"] == 50
    assert prices["session"].is_monotonic_increasing
