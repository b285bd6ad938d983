"""Ingest and validation only: refresh the stored prices, e.g. for a data backfill."""

from datetime import date

from prefect import flow
from prefect.states import State
from tickercast.flows.outcomes import TickerOutcome, checked_tickers, final_state, ticker_outcome
from tickercast.tasks.ingest import ingest_prices

from tickercast.settings import Settings


@flow(name="ingest")
def ingest(
    tickers: list[str] = ["AAPL"],  # noqa: B006 - Prefect shows the default in the UI
    source: str = "yfinance",
    as_of: date | None = None,
) -> list[TickerOutcome] | State:
    """Fetch, validate and store each ticker's new prices, with a quality report."""
    settings = Settings.from_env()
    valid, outcomes = checked_tickers(tickers)
    # an explicit ingest always fetches: the cache is for resuming a failed daily run
    fetch = ingest_prices.with_options(refresh_cache=True)
    for ticker in valid:
        state = fetch(ticker, source, as_of, settings, return_state=True)
        outcomes.append(ticker_outcome(ticker, state))
    return final_state(outcomes)
