"""Error policy shared by the flows: one outcome per ticker, and a final state that
fails, naming every failed ticker, when any did."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from prefect.runtime import flow_run
from prefect.states import Failed, State

from tickercast.cli.console import SUMMARIZED
from tickercast.data.tickers import normalize_ticker, read_universe
from tickercast.errors import InputError
from tickercast.request import RunRequest, as_of_note, run_title
from tickercast.settings import Settings
from tickercast.tasks.retries import failed_stage
from tickercast.tracking.redaction import without_credentials
from tickercast.tracking.run_summary import SummaryRow


@dataclass(frozen=True)
class TickerOutcome:
    """One ticker's result in a flow run, or why it failed."""

    ticker: str
    result: Any = None
    error: str | None = None
    stage: str | None = None
    # the session a backfill replayed it as of (None: the run's own as_of)
    as_of: date | None = None


def ticker_outcome(ticker: str, state: State) -> TickerOutcome:
    """The outcome of the task or subflow run that handled `ticker`."""
    if not state.is_final():  # e.g. its Dask worker died mid-run: the state stayed Running
        return TickerOutcome(ticker, error=f"ended {state.name}: its worker stopped first")
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        return TickerOutcome(ticker, result=result)
    if isinstance(result, BaseException):
        error = without_credentials(f"{type(result).__name__}: {result}")
        return TickerOutcome(ticker, error=error, stage=failed_stage(result))
    return TickerOutcome(ticker, error=state.message or state.name)


def session_outcomes(session: date, tickers: list[str], state: State) -> list[TickerOutcome]:
    """Each ticker's outcome in a backfill's daily run as of `session`."""
    outcomes = state.result(raise_on_failure=False)
    if not isinstance(outcomes, list):  # the run itself crashed: every ticker failed
        failed = ticker_outcome(tickers[0], state)
        return [replace(failed, ticker=t, as_of=session) for t in tickers]
    return [replace(outcome, as_of=session) for outcome in outcomes]


def final_state(outcomes: list[TickerOutcome]) -> list[TickerOutcome] | State:
    """The outcomes when every ticker succeeded, else a Failed state that carries them."""
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    if not failed:
        return outcomes
    return Failed(
        message=f"{len(failed)} of {len(outcomes)} tickers failed: "
        + "; ".join(
            f"{outcome.ticker}{f' as of {outcome.as_of}' if outcome.as_of else ''} "
            f"({f'in {outcome.stage}: ' if outcome.stage else ''}{outcome.error})"
            for outcome in failed
        ),
        data=outcomes,
    )


def summary_row(outcome: TickerOutcome) -> SummaryRow:
    """A forecast outcome as the run summary shows it."""
    if outcome.error is not None:
        return SummaryRow.failure(outcome.ticker, outcome.stage, outcome.error)
    return SummaryRow.of(outcome.result)


def flow_run_title() -> str:
    """The running flow run's name: what it does, from its parameters (`run_title`)."""
    calendar_for = Settings.from_env().calendar_for
    return run_title(flow_run.get_flow_name(), flow_run.get_parameters(), calendar_for)


def final_title(outcomes: list[TickerOutcome], calendar_for: Callable[[str], str]) -> str:
    """The running flow run's name once its tickers ran: the sessions they forecast
    as of (a run without `as_of` is named by the latest stored session it used)."""
    sessions = [outcome.result.as_of for outcome in outcomes if outcome.result is not None]
    return run_title(flow_run.get_flow_name(), flow_run.get_parameters(), calendar_for, sessions)


def rename_flow_run(title: str) -> None:
    """Give the running flow run its final name, if it changed."""
    from prefect import get_client

    if title != flow_run.get_name():
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.get_id(), name=title)


def checked_request(parameters: dict[str, Any]) -> tuple[RunRequest, list[TickerOutcome]]:
    """A flow's parameters as a request of its valid tickers (the universe's, when one
    is given), and a failed outcome for each string that is not a ticker: one bad
    symbol never stops the others.

    A warning says when `as_of` is not a session (the run is as of the one before).

    Raises:
        InputError: any other bad parameter, named (the run fails before it starts).
    """
    from prefect import get_run_logger

    universe = parameters.get("universe")
    raw = read_universe(universe) if universe else parameters["tickers"]
    valid, rejected = checked_tickers(raw)
    request = RunRequest.from_parameters({**parameters, "tickers": valid, "universe": None})
    if note := as_of_note(request.as_of, request.tickers, Settings.from_env().calendar_for):
        get_run_logger().warning(note)  # on the console too: the run is not as asked
    return request, rejected


def checked_tickers(raw_tickers: list[str]) -> tuple[list[str], list[TickerOutcome]]:
    """Valid, normalized tickers, and a failed outcome for each string that is not one."""
    valid, rejected = [], []
    for raw in raw_tickers:
        try:
            valid.append(normalize_ticker(raw))
        except InputError as error:
            rejected.append(TickerOutcome(raw, error=f"{type(error).__name__}: {error}"))
    return valid, rejected


def log_failures(outcomes: list[TickerOutcome]) -> None:
    """One error line in the flow run's log per failed ticker: ticker, stage and error
    (a command's console leaves it to its own summary: `SUMMARIZED`)."""
    from prefect import get_run_logger

    for outcome in outcomes:
        if outcome.error is not None:
            get_run_logger().error(
                "%s failed in %s: %s",
                outcome.ticker,
                outcome.stage or "the flow",
                outcome.error,
                extra={SUMMARIZED: True},
            )
