"""The daily pipeline, per ticker: ingest -> score the ledger -> windows -> train ->
evaluate -> publish (and ledger)."""

from contextlib import suppress
from datetime import date

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from prefect.transactions import CommitMode, transaction

from tickercast.flows import engines
from tickercast.flows.deadline import time_limit
from tickercast.flows.outcomes import (
    TickerOutcome,
    checked_request,
    final_state,
    final_title,
    flow_run_title,
    log_failures,
    rename_flow_run,
    summary_row,
    ticker_outcome,
)
from tickercast.ledger.forecasts import Published
from tickercast.models.network import limit_threads
from tickercast.request import DEFAULTS, RunRequest
from tickercast.settings import Settings
from tickercast.tasks.evaluate import evaluate_model
from tickercast.tasks.home import open_home
from tickercast.tasks.ingest import ingest_prices
from tickercast.tasks.parent_run import end_parent_run, publish_run_summary, start_parent_run
from tickercast.tasks.publish import publish_forecast
from tickercast.tasks.retries import LIMITS, stages_of
from tickercast.tasks.scoring import report_track_record, score_forecasts
from tickercast.tasks.tracking import end_tracking_run, load_champion, start_tracking_run
from tickercast.tasks.train import train_model
from tickercast.tasks.windows import build_windows

# The stages a ticker goes through, in order (the CLI's progress bars count them).
STAGES = (
    ingest_prices,
    score_forecasts,
    build_windows,
    train_model,
    evaluate_model,
    publish_forecast,
)


# Not cached and not retried itself: its stages are.
@task(name="forecast_ticker", task_run_name="forecast-{ticker}", cache_policy=NO_CACHE)
def forecast_ticker(
    ticker: str, request: RunRequest, parent_run_id: str | None, settings: Settings
) -> Published:
    """Ingest, score the ledger, window, train, evaluate and publish one ticker."""
    if threads := engines.worker_threads():
        limit_threads(threads)
    # Each stage's cached result is kept as soon as the stage ends, so that a rerun after
    # a failure resumes (nested task runs otherwise commit only if this one succeeds).
    with stages_of(ticker), transaction(commit_mode=CommitMode.EAGER):
        ingested = ingest_prices(ticker, request.source, request.as_of, settings)
        track = score_forecasts(ticker, request.as_of, settings)
        training = build_windows(ticker, request.start, request.as_of, request.spec, settings)
        run_id = start_tracking_run(training, request.config, ingested, settings, parent_run_id)
        try:
            report_track_record(track, run_id, settings)
            champion = load_champion(ticker, settings)
            fitted = train_model(training, request.config, request.model, run_id, settings)
            evaluation = evaluate_model(training, fitted, champion, track.live, run_id, settings)
            alarm = track.alarm.message() if track.alarm else None
            published = publish_forecast(
                training, fitted, evaluation, champion, alarm, run_id, settings
            )
        except BaseException:
            with suppress(Exception):  # the stage's own error is the one to report
                end_tracking_run(run_id, succeeded=False, settings=settings)
            raise
        end_tracking_run(run_id, succeeded=True, settings=settings)
    return published


@flow(name="daily-forecast", flow_run_name=flow_run_title)
def daily_forecast(
    tickers: list[str] = list(DEFAULTS.tickers),  # noqa: B006, B008 - shown in the UI
    universe: str | None = DEFAULTS.universe,
    source: str = DEFAULTS.source,
    as_of: date | None = DEFAULTS.as_of,
    start: date | None = DEFAULTS.start,
    epochs: int = DEFAULTS.epochs,
    window: int = DEFAULTS.window,
    horizons: int = DEFAULTS.horizons,
    target: str = DEFAULTS.target,
    model: str = DEFAULTS.model,
    task_runner: str = DEFAULTS.task_runner,
    dask_address: str | None = DEFAULTS.dask_address,
    dask_workers: int | None = DEFAULTS.dask_workers,
) -> list[TickerOutcome] | State:
    """Forecast each ticker's next closes: ingest, windows, train, evaluate, publish."""
    request, outcomes = checked_request(locals())
    settings = Settings.from_env()
    open_home(settings)
    tickers = list(request.tickers)
    parent = start_parent_run(settings)
    shared = {"request": request, "parent_run_id": parent, "settings": settings}
    with time_limit(LIMITS.flow) as limit:
        with engines.task_runner(task_runner, dask_address, dask_workers) as runner:
            futures = {t: runner.submit(forecast_ticker, {"ticker": t, **shared}) for t in tickers}
            for future in futures.values():
                future.wait(limit.remaining())
        outcomes += [ticker_outcome(t, future.state) for t, future in futures.items()]
    log_failures(outcomes)
    rows = [summary_row(outcome) for outcome in outcomes]
    title = final_title(outcomes, settings.calendar_for)
    rename_flow_run(title)
    try:
        publish_run_summary(rows, settings)
    finally:  # the parent run is closed whatever happened to the summary
        end_parent_run(parent, rows, title, settings)
    return limit.outcome(final_state(outcomes))
