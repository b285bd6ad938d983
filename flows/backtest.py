"""Walk-forward backtests of the LSTM against naive, drift and AR, per ticker."""

from datetime import date

from prefect import flow
from prefect.states import State

from tickercast.flows.outcomes import (
    TickerOutcome,
    checked_request,
    final_state,
    flow_run_title,
    ticker_outcome,
)
from tickercast.request import DEFAULTS
from tickercast.settings import Settings
from tickercast.tasks.backtest import backtest_ticker, write_backtest_report
from tickercast.tasks.home import open_home
from tickercast.tasks.ingest import ingest_prices


@flow(name="backtest", flow_run_name=flow_run_title)
def backtest(
    tickers: list[str] = list(DEFAULTS.tickers),  # noqa: B006, B008 - shown in the UI
    universe: str | None = DEFAULTS.universe,
    source: str = DEFAULTS.source,
    start: date | None = DEFAULTS.start,
    end: date | None = DEFAULTS.end,
    folds: int = DEFAULTS.folds,
    epochs: int = DEFAULTS.epochs,
    window: int = DEFAULTS.window,
    horizons: int = DEFAULTS.horizons,
    target: str = DEFAULTS.target,
    warm_start: bool = DEFAULTS.warm_start,
) -> list[TickerOutcome] | State:
    """Backtest each ticker walk-forward and write reports/backtest/latest.json."""
    request, outcomes = checked_request(locals())
    settings = Settings.from_env()
    open_home(settings)
    for ticker in request.tickers:
        ingested = ingest_prices(ticker, request.source, request.end, settings, return_state=True)
        if not ingested.is_completed():
            outcomes.append(ticker_outcome(ticker, ingested))
            continue
        state = backtest_ticker(
            ticker,
            request.start,
            request.end,
            request.spec,
            request.config,
            request.folds,
            request.warm_start,
            settings,
            return_state=True,
        )
        outcomes.append(ticker_outcome(ticker, state))
    done = [outcome.result for outcome in outcomes if outcome.error is None]
    if done:
        write_backtest_report(done, settings)
    return final_state(outcomes)
