"""The daily pipeline: ingest -> windows -> train -> evaluate -> publish, per ticker."""

from datetime import date

from prefect import flow
from prefect.states import State

from flows.outcomes import TickerOutcome, final_state, ticker_outcome
from tasks.evaluate import evaluate_model
from tasks.ingest import ingest_prices
from tasks.publish import publish_forecast
from tasks.tracking import end_tracking_run, start_tracking_run
from tasks.train import train_model
from tasks.windows import build_windows
from tickercast.forecast import Published
from tickercast.model import ModelConfig
from tickercast.settings import Settings
from tickercast.tickers import normalize_ticker


@flow(name="forecast-ticker", flow_run_name="{ticker}")
def forecast_ticker(
    ticker: str,
    source: str = "yfinance",
    as_of: date | None = None,
    start: date | None = None,
    epochs: int = 10,
    window: int = 60,
) -> Published:
    """Ingest, window, train, evaluate and publish one ticker."""
    settings = Settings.from_env()
    ticker = normalize_ticker(ticker)
    ingested = ingest_prices(ticker, source, as_of, settings)
    windows = build_windows(ticker, start, as_of, window, settings)
    config = ModelConfig(epochs=epochs)
    run_id = start_tracking_run(windows, config, ingested, settings)
    try:
        trained = train_model(windows, config, run_id, settings)
        evaluation = evaluate_model(windows, trained, run_id, settings)
        published = publish_forecast(windows, trained, evaluation, run_id, settings)
    except BaseException:
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
) -> list[TickerOutcome] | State:
    """Forecast each ticker's next close: ingest, windows, train, evaluate, publish."""
    return final_state(
        [
            ticker_outcome(
                ticker,
                forecast_ticker(ticker, source, as_of, start, epochs, window, return_state=True),
            )
            for ticker in tickers
        ]
    )
