"""Walk-forward backtests of the LSTM against naive, drift and AR, per ticker."""

from datetime import date

from prefect import flow
from prefect.states import State
from tickercast.flows.outcomes import TickerOutcome, checked_tickers, final_state, ticker_outcome
from tickercast.tasks.backtest import backtest_ticker, write_backtest_report
from tickercast.tasks.ingest import ingest_prices

from tickercast.model import ModelConfig
from tickercast.settings import Settings
from tickercast.windows import WindowSpec


@flow(name="backtest")
def backtest(
    tickers: list[str] = ["AAPL"],  # noqa: B006 - Prefect shows the default in the UI
    source: str = "yfinance",
    start: date | None = None,
    end: date | None = None,
    folds: int = 5,
    epochs: int = 10,
    window: int = 60,
    horizons: int = 5,
    target: str = "returns",
    warm_start: bool = False,
) -> list[TickerOutcome] | State:
    """Backtest each ticker walk-forward and write reports/backtest/latest.json."""
    settings = Settings.from_env()
    spec = WindowSpec(window=window, horizons=horizons, target=target)
    config = ModelConfig(epochs=epochs)
    valid, outcomes = checked_tickers(tickers)
    for ticker in valid:
        ingested = ingest_prices(ticker, source, end, settings, return_state=True)
        if not ingested.is_completed():
            outcomes.append(ticker_outcome(ticker, ingested))
            continue
        state = backtest_ticker(
            ticker, start, end, spec, config, folds, warm_start, settings, return_state=True
        )
        outcomes.append(ticker_outcome(ticker, state))
    done = [outcome.result for outcome in outcomes if outcome.error is None]
    if done:
        write_backtest_report(done, settings)
    return final_state(outcomes)
