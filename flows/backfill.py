"""Backfill: replay the daily forecast as of every session of a range (resumable)."""

from datetime import date

from prefect import flow, get_run_logger
from prefect.states import State

from tickercast.data.storage import Store
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.flows.outcomes import (
    TickerOutcome,
    checked_request,
    final_state,
    flow_run_title,
    session_outcomes,
)
from tickercast.ledger.backfill import plan_backfill
from tickercast.request import COMMAND_PARAMETERS, DEFAULTS
from tickercast.settings import Settings


@flow(name="backfill", flow_run_name=flow_run_title)
def backfill(
    first_as_of: date,
    last_as_of: date,
    tickers: list[str] = list(DEFAULTS.tickers),  # noqa: B006, B008 - shown in the UI
    universe: str | None = DEFAULTS.universe,
    source: str = DEFAULTS.source,
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
    """Forecast as of each session from first_as_of to last_as_of not yet published."""
    request, outcomes = checked_request(locals())
    settings = Settings.from_env()
    plan = plan_backfill(
        list(request.tickers), first_as_of, last_as_of, Store(settings.home), settings.calendar_for
    )
    for session, skipped in plan.published.items():
        get_run_logger().info("%s: already published for %s, skipped", session, ", ".join(skipped))
    # each session's run takes the backfill's request (its universe already read), for
    # the tickers still to publish as of that session
    daily = {name: getattr(request, name) for name in COMMAND_PARAMETERS["run"]}
    for session, tickers in plan.to_run.items():
        state = daily_forecast(**daily | {"tickers": tickers, "as_of": session}, return_state=True)
        outcomes += session_outcomes(session, tickers, state)
    return final_state(outcomes)
