"""Error policy shared by the flows: one outcome per ticker, and a final state that
fails, naming every failed ticker, when any did."""

from dataclasses import dataclass
from typing import Any

from prefect.states import Failed, State
from tickercast.tasks.retries import failed_stage

from tickercast.errors import InputError
from tickercast.tickers import normalize_ticker


@dataclass(frozen=True)
class TickerOutcome:
    """One ticker's result in a flow run, or why it failed."""

    ticker: str
    result: Any = None
    error: str | None = None
    stage: str | None = None


def ticker_outcome(ticker: str, state: State) -> TickerOutcome:
    """The outcome of the task or subflow run that handled `ticker`."""
    if not state.is_final():  # e.g. its Dask worker died mid-run: the state stayed Running
        return TickerOutcome(ticker, error=f"ended {state.name}: its worker stopped first")
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        return TickerOutcome(ticker, result=result)
    if isinstance(result, BaseException):
        return TickerOutcome(
            ticker, error=f"{type(result).__name__}: {result}", stage=failed_stage(result)
        )
    return TickerOutcome(ticker, error=state.message or state.name)


def final_state(outcomes: list[TickerOutcome]) -> list[TickerOutcome] | State:
    """The outcomes when every ticker succeeded, else a Failed state that carries them."""
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    if not failed:
        return outcomes
    return Failed(
        message=f"{len(failed)} of {len(outcomes)} tickers failed: "
        + "; ".join(
            f"{outcome.ticker} ({f'in {outcome.stage}: ' if outcome.stage else ''}{outcome.error})"
            for outcome in failed
        ),
        data=outcomes,
    )


def summary_row(outcome: TickerOutcome) -> tuple[str, str, str]:
    """`(ticker, status, detail)` of a forecast outcome, for the run summary."""
    if outcome.error is not None:
        return outcome.ticker, f"failed in {outcome.stage or 'the flow'}", outcome.error
    published = outcome.result
    version = f" v{published.model_version}" if published.model_version else ""
    return (
        outcome.ticker,
        "published",
        f"{published.model}{version}: {published.forecast:.2f} for {published.target_date} "
        f"({published.reason})",
    )


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
    """One error line in the flow run's log per failed ticker: ticker, stage and error."""
    from prefect import get_run_logger

    for outcome in outcomes:
        if outcome.error is not None:
            get_run_logger().error(
                "%s failed in %s: %s", outcome.ticker, outcome.stage or "the flow", outcome.error
            )
