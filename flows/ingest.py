"""Ingest and validation only: refresh the stored prices, e.g. for new tickers."""

from datetime import date

from prefect import flow
from prefect.states import State

from tickercast.flows.deadline import time_limit
from tickercast.flows.outcomes import (
    TickerOutcome,
    checked_request,
    final_state,
    flow_run_title,
    ticker_outcome,
)
from tickercast.request import DEFAULTS
from tickercast.settings import Settings
from tickercast.tasks.home import open_home
from tickercast.tasks.ingest import ingest_prices
from tickercast.tasks.retries import LIMITS


@flow(name="ingest", flow_run_name=flow_run_title)
def ingest(
    tickers: list[str] = list(DEFAULTS.tickers),  # noqa: B006, B008 - shown in the UI
    universe: str | None = DEFAULTS.universe,
    source: str = DEFAULTS.source,
    as_of: date | None = DEFAULTS.as_of,
    replace_source: bool = DEFAULTS.replace_source,
) -> list[TickerOutcome] | State:
    """Fetch, validate and store each ticker's new prices, with a quality report."""
    request, outcomes = checked_request(locals())
    settings = Settings.from_env()
    open_home(settings)
    # an explicit ingest always fetches: the cache is for resuming a failed daily run
    fetch = ingest_prices.with_options(refresh_cache=True)
    with time_limit(LIMITS.flow) as limit:
        for ticker in request.tickers:
            state = fetch(
                ticker,
                request.source,
                request.as_of,
                settings,
                request.replace_source,
                return_state=True,
            )
            outcomes.append(ticker_outcome(ticker, state))
    return limit.outcome(final_state(outcomes))
