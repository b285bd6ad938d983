"""The daily pipeline: ingest -> windows -> train -> evaluate -> publish, per ticker."""

from contextlib import suppress
from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from prefect.transactions import CommitMode, transaction
from tickercast.flows import engines
from tickercast.flows.outcomes import (
    TickerOutcome,
    checked_tickers,
    final_state,
    log_failures,
    summary_row,
    ticker_outcome,
)
from tickercast.tasks.evaluate import evaluate_model
from tickercast.tasks.ingest import ingest_prices
from tickercast.tasks.publish import publish_forecast, publish_run_summary
from tickercast.tasks.retries import stages_of
from tickercast.tasks.tracking import (
    end_parent_run,
    end_tracking_run,
    load_champion,
    start_parent_run,
    start_tracking_run,
)
from tickercast.tasks.train import train_model
from tickercast.tasks.windows import build_windows

from tickercast.forecast import Published
from tickercast.model import ModelConfig, limit_threads
from tickercast.settings import Settings
from tickercast.tickers import read_universe
from tickercast.windows import WindowSpec


# Not cached and not retried itself: its stages are.
@task(name="forecast_ticker", task_run_name="forecast-{ticker}", cache_policy=NO_CACHE)
def forecast_ticker(
    ticker: str,
    source: str,
    as_of: date | None,
    start: date | None,
    spec: WindowSpec,
    config: ModelConfig,
    parent_run_id: str | None,
    settings: Settings,
) -> Published:
    """Ingest, window, train, evaluate and publish one ticker."""
    if threads := engines.worker_threads():
        limit_threads(threads)
    # Each stage's cached result is kept as soon as the stage ends, so that a rerun after
    # a failure resumes (nested task runs otherwise commit only if this one succeeds).
    with stages_of(ticker), transaction(commit_mode=CommitMode.EAGER):
        ingested = ingest_prices(ticker, source, as_of, settings)
        training = build_windows(ticker, start, as_of, spec, settings)
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
    universe: str | None = None,
    source: str = "yfinance",
    as_of: date | None = None,
    start: date | None = None,
    epochs: int = 10,
    window: int = 60,
    horizons: int = 5,
    target: str = "returns",
    task_runner: str = "serial",
    dask_address: str | None = None,
    dask_workers: int | None = None,
) -> list[TickerOutcome] | State:
    """Forecast each ticker's next closes: ingest, windows, train, evaluate, publish."""
    settings = Settings.from_env()
    spec = WindowSpec(window=window, horizons=horizons, target=target)
    config = ModelConfig(epochs=epochs)
    valid, outcomes = checked_tickers(read_universe(universe) if universe else tickers)
    parent = start_parent_run(valid, as_of, settings)
    shared = {"source": source, "as_of": as_of, "start": start, "spec": spec}
    shared |= {"config": config, "parent_run_id": parent, "settings": settings}
    with engines.task_runner(task_runner, dask_address, dask_workers) as runner:
        futures = {t: runner.submit(forecast_ticker, {"ticker": t, **shared}) for t in valid}
        for future in futures.values():
            future.wait()
        outcomes += [ticker_outcome(t, future.state) for t, future in futures.items()]
    log_failures(outcomes)
    rows = [summary_row(outcome) for outcome in outcomes]
    try:
        publish_run_summary(rows, settings)
    finally:  # the parent run is closed whatever happened to the summary
        end_parent_run(parent, rows, settings)
    return final_state(outcomes)
