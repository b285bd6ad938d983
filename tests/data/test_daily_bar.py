"""The daily bar's range measure: the formula, the adjustment, and bars it cannot read."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import yahoo_history_frame
from tickercast.data.daily_bar import (
    MIN_BAR_SHARE,
    bar_share,
    inconsistent_bars,
    overnight_gap,
    range_measure,
    unreadable_bars,
)
from tickercast.data.prices import normalize_prices
from tickercast.data.quality import clean_prices
from tickercast.data.sources import FolderSource


def _bars(rows: list[tuple]) -> pd.DataFrame:
    """Canonical prices from (open, high, low, close, adjusted_close, volume) rows."""
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close", "adjusted_close", "volume"])
    frame.insert(0, "session", pd.bdate_range("2024-01-02", periods=len(rows)))
    return frame.assign(volume=frame["volume"].astype("Int64"))


def test_it_is_the_squared_gap_plus_garman_klass():
    prices = _bars([(99, 101, 98, 100, 100, 10), (102, 105, 100, 104, 104, 12)])
    gap = np.log(102 / 100)
    gk = 0.5 * np.log(105 / 100) ** 2 - (2 * np.log(2) - 1) * np.log(104 / 102) ** 2
    measure = range_measure(prices)
    assert np.isnan(measure[0])
    assert measure[1] == pytest.approx(gap**2 + gk, rel=1e-12)


def test_the_bar_is_adjusted_as_the_adjusted_close_across_a_split(shared_data):
    """Alpha Vantage's raw AAPL bar falls 7:1 on 2014-06-09; adjusted, that day's
    overnight gap is an ordinary one, not log(1/7)."""
    path = shared_data / "alphavantage" / "AAPL.csv"
    raw = pd.read_csv(path)
    prices, _ = clean_prices(normalize_prices(raw, "AAPL", str(path), 2), "AAPL", str(path), "XNYS")
    split = int(np.flatnonzero(prices["session"] == "2014-06-09")[0])
    assert prices["split_ratio"].iloc[split] == pytest.approx(7, rel=1e-5)
    measure = range_measure(prices)
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy()), prepend=np.nan)
    assert measure[split] < 0.001  # a log(7) gap would be 3.8
    # over the years the range measure and the squared return estimate one variance
    assert np.nanmean(measure) == pytest.approx(np.nanmean(returns**2), rel=0.35)


def test_a_bar_it_cannot_read_falls_back_to_the_squared_return():
    prices = _bars(
        [
            (99, 101, 98, 100, 100, 10),
            (np.nan, np.nan, np.nan, 102, 102, 11),  # a close-only row
            (103, 103, 103, 103, 103, 0),  # no range
            (103, 103, 103, 103, 103, 0),  # and then stale
            (104, 106, 102, 105, 105, 9),
        ]
    )
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy()), prepend=np.nan)
    measure = range_measure(prices)
    np.testing.assert_array_equal(unreadable_bars(prices), [False, True, True, True, False])
    np.testing.assert_allclose(measure[1:4], returns[1:4] ** 2)
    assert measure[4] != pytest.approx(returns[4] ** 2)
    assert bar_share(prices, 5) == pytest.approx(0.4) and bar_share(prices, 1) == 1


def test_a_high_below_the_close_is_repaired_not_dropped():
    prices = _bars([(99, 101, 98, 100, 100, 10), (101, 102, 100, 103, 103, 12)])
    assert inconsistent_bars(prices).tolist() == [False, True]
    repaired = prices.assign(high=[101, 103])
    assert range_measure(prices)[1] == range_measure(repaired)[1]


def test_a_close_only_file_has_no_bar_to_read():
    closes = pd.DataFrame({"Date": pd.bdate_range("2024-01-02", periods=30), "Close": range(1, 31)})
    prices = normalize_prices(closes, "XYZ", "closes.csv")
    assert bar_share(prices, 1000) == 0 < MIN_BAR_SHARE
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy()), prepend=np.nan)
    np.testing.assert_allclose(range_measure(prices)[1:], returns[1:] ** 2)


@pytest.mark.parametrize("folder", ["yahoo", "alphavantage", "sp500"])
def test_every_file_source_delivers_a_readable_adjusted_bar(shared_data, folder):
    """Yahoo's auto-adjusted files, Alpha Vantage's raw bars with an adjusted close, and
    the S&P 500 members: a readable bar on (nearly) every session, and on a split's day
    an ordinary overnight gap, not the split's log(7) or log(4)."""
    source = FolderSource(shared_data / folder)
    ticker = "ALK" if folder == "sp500" else "AAPL"  # ALK: 2-for-1 in 2012 and 2014
    prices, _ = clean_prices(source.fetch(ticker, None, None), ticker, source.name, "XNYS")
    assert bar_share(prices, 1000) > 0.99
    gaps = pd.Series(np.abs(overnight_gap(prices)), index=prices["session"].dt.date.astype(str))
    splits = ["2014-06-09", "2020-08-31"] if ticker == "AAPL" else []
    splits += list(prices.loc[prices["split_ratio"] != 1, "session"].dt.date.astype(str))
    assert splits
    for day in splits:
        if day in gaps.index:
            assert gaps[day] < 0.05, day


def test_the_sample_and_yfinance_frames_deliver_the_bar(sample_aapl):
    assert bar_share(sample_aapl, 1000) == 1
    fetched = normalize_prices(yahoo_history_frame(sample_aapl.tail(300)), "AAPL", "yfinance")
    np.testing.assert_array_equal(fetched["open"], sample_aapl["open"].tail(300))
    assert bar_share(fetched, 300) == 1
