"""A backfill's plan: each ticker's sessions in the range, those already published skipped."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickercast.data.calendar import calendar_for
from tickercast.data.prices import prices_sha256
from tickercast.data.sources import SampleSource
from tickercast.data.storage import Store
from tickercast.ledger.backfill import plan_backfill
from tickercast.ledger.forecasts import forecast_frame


def _calendar(ticker: str) -> str:
    """A ticker's exchange as a default home sets it: by its Yahoo suffix, else XNYS."""
    return calendar_for(ticker, "XNYS", {})


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    """Real AAPL and MSFT prices."""
    return {ticker: SampleSource().fetch(ticker, None, None) for ticker in ("AAPL", "MSFT")}


def _publish(store: Store, ticker: str, prices: pd.DataFrame, as_of: date) -> None:
    """Write a ticker's naive forecast as of `as_of` where a daily run writes it: the
    as_of close, with normal intervals of the last 20 sessions' volatility."""
    history = prices[prices["session"] <= pd.Timestamp(as_of)].reset_index(drop=True)
    adjusted = history["adjusted_close"].to_numpy("float64")
    volatility = np.std(np.diff(np.log(adjusted))[-20:], ddof=1)
    latest = pd.DataFrame({"horizon": [1], "forecast": [adjusted[-1]]})
    for level, z in ((80, 1.2816), (95, 1.96)):
        latest[f"lower_{level}"] = adjusted[-1] * np.exp(-z * volatility)
        latest[f"upper_{level}"] = adjusted[-1] * np.exp(z * volatility)
    frame = forecast_frame(
        ticker, history, latest, "XNYS", "naive", None, "backfill", "run", prices_sha256(history)
    )
    store.write_forecast(frame)
    assert store.forecast_file(ticker, as_of).is_file()


def test_each_ticker_replays_the_sessions_of_its_own_exchange(tmp_path):
    # 2013-02-11 was a Monday: New York traded, Tokyo kept National Foundation Day
    plan = plan_backfill(
        ["AAPL", "7203.T"], date(2013, 2, 8), date(2013, 2, 12), Store(tmp_path), _calendar
    )
    assert plan.to_run == {
        date(2013, 2, 8): ["AAPL", "7203.T"],
        date(2013, 2, 11): ["AAPL"],
        date(2013, 2, 12): ["AAPL", "7203.T"],
    }
    assert plan.published == {}


def test_weekends_and_exchange_holidays_are_not_replayed(tmp_path):
    # 2013-02-16 and 17: a weekend; 2013-02-18: Washington's Birthday, the NYSE closed
    plan = plan_backfill(["AAPL"], date(2013, 2, 14), date(2013, 2, 21), Store(tmp_path), _calendar)
    assert list(plan.to_run) == [
        date(2013, 2, 14),
        date(2013, 2, 15),
        date(2013, 2, 19),
        date(2013, 2, 20),
        date(2013, 2, 21),
    ]


def test_a_session_already_published_is_skipped_for_that_ticker_only(tmp_path, sample):
    store = Store(tmp_path)
    _publish(store, "AAPL", sample["AAPL"], date(2013, 2, 15))
    _publish(store, "MSFT", sample["MSFT"], date(2013, 2, 14))
    _publish(store, "MSFT", sample["MSFT"], date(2013, 2, 15))
    plan = plan_backfill(["AAPL", "MSFT"], date(2013, 2, 14), date(2013, 2, 19), store, _calendar)
    assert plan.to_run == {
        date(2013, 2, 14): ["AAPL"],
        date(2013, 2, 19): ["AAPL", "MSFT"],
    }  # 2013-02-15 is done for both: nothing left to run that day
    assert plan.published == {
        date(2013, 2, 14): ["MSFT"],
        date(2013, 2, 15): ["AAPL", "MSFT"],
    }


def test_an_interrupted_backfill_resumes_after_the_last_session_it_published(tmp_path, sample):
    store = Store(tmp_path)
    first, last = date(2013, 2, 25), date(2013, 3, 1)
    planned = plan_backfill(["AAPL"], first, last, store, _calendar)
    sessions = list(planned.to_run)
    assert sessions == [date(2013, 2, d) for d in (25, 26, 27, 28)] + [date(2013, 3, 1)]
    for session in sessions[:2]:  # stopped after two sessions
        _publish(store, "AAPL", sample["AAPL"], session)
    resumed = plan_backfill(["AAPL"], first, last, store, _calendar)
    assert list(resumed.to_run) == sessions[2:]
    assert list(resumed.published) == sessions[:2]
    # and a backfill that finished has nothing left to run
    for session in sessions[2:]:
        _publish(store, "AAPL", sample["AAPL"], session)
    done = plan_backfill(["AAPL"], first, last, store, _calendar)
    assert done.to_run == {} and list(done.published) == sessions


def test_a_range_without_a_session_plans_nothing(tmp_path):
    store = Store(tmp_path)
    weekend = plan_backfill(["AAPL"], date(2013, 2, 16), date(2013, 2, 17), store, _calendar)
    assert (weekend.to_run, weekend.published) == ({}, {})
    backwards = plan_backfill(["AAPL"], date(2013, 3, 1), date(2013, 2, 1), store, _calendar)
    assert (backwards.to_run, backwards.published) == ({}, {})
