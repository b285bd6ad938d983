"""The daily pipeline: ingest -> windows -> train -> evaluate -> publish, per ticker."""

from contextlib import suppress
from datetime import date

from prefect import flow
from prefect.states import State

from flows.outcomes import (
    TickerOutcome,
    final_state,
    log_ticker_failure,
    summary_row,
    ticker_outcome,
)
from tasks.evaluate import evaluate_model
from tasks.ingest import ingest_prices
from tasks.publish import publish_forecast, publish_run_summary
from tasks.tracking import (
    end_parent_run,
    end_tracking_run,
    load_champion,
    start_parent_run,
    start_tracking_run,
)
from tasks.train import train_model
from tasks.windows import build_windows
from tickercast.forecast import Published
from tickercast.model import ModelConfig
from tickercast.settings import Settings
from tickercast.tickers import normalize_ticker
from tickercast.windows import WindowSpec


@flow(name="forecast-ticker", flow_run_name="{ticker}", on_failure=[log_ticker_failure])
def forecast_ticker(
    ticker: str,
    source: str = "yfinance",
    as_of: date | None = None,
    start: date | None = None,
    epochs: int = 10,
    window: int = 60,
    horizons: int = 5,
    target: str = "returns",
    parent_run_id: str | None = None,
) -> Published:
    """Ingest, window, train, evaluate and publish one ticker."""
    settings = Settings.from_env()
    ticker = normalize_ticker(ticker)
    spec = WindowSpec(window=window, horizons=horizons, target=target)
    ingested = ingest_prices(ticker, source, as_of, settings)
    training = build_windows(ticker, start, as_of, spec, settings)
    config = ModelConfig(epochs=epochs)
    run_id = start_tracking_run(training, config, ingested, settings, parent_run_id)
    try:
        champion = load_champion(ticker, settings)
        fitted = train_model(training, config, champion, run_id, settings)
        evaluation = evaluate_model(training, fitted, champion, run_id, settings)
        published = publish_forecast(training, fitted, evaluation, champion, run_id, settings)
    except BaseException:
        with suppress(Exception):  # the stage's own error is the one to report
            end_tracking_run(run_id, succeeded=False, settings=settings)
        raise
    end_tracking_run(run_id, succeeded=True, settings=settings)
    return published


@flow(name="daily-forecast")
def daily_forecast(
    tickers: list[str] = ["AAPL"],  # noqa: B006 - Prefect shows the default in the UI
    source: str = "yfinance",
    as_of: date | None = None,
    start: date | None = None,
    epochs: int = 10,
    window: int = 60,
    horizons: int = 5,
    target: str = "returns",
) -> list[TickerOutcome] | State:
    """Forecast each ticker's next closes: ingest, windows, train, evaluate, publish."""
    settings = Settings.from_env()
    parent = start_parent_run(tickers, as_of, settings)
    outcomes = [
        ticker_outcome(
            ticker,
            forecast_ticker(
                ticker,
                source,
                as_of,
                start,
                epochs,
                window,
                horizons,
                target,
                parent,
                return_state=True,
            ),
        )
        for ticker in tickers
    ]
    rows = [summary_row(outcome) for outcome in outcomes]
    try:
        publish_run_summary(rows, settings)
    finally:  # the parent run is closed whatever happened to the summary
        end_parent_run(parent, rows, settings)
    return final_state(outcomes)
