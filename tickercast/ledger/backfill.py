"""Backfills: which (ticker, session) forecasts a replay over a range still has to make.

Each ticker replays its own exchange's sessions; a session whose forecast file exists
is already published and skipped, so an interrupted backfill resumes where it stopped.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tickercast.data.calendar import sessions_between
from tickercast.data.storage import Store


@dataclass(frozen=True)
class BackfillPlan:
    """The sessions of a backfill, in order.

    Attributes:
        to_run: session -> the tickers still to forecast as of it.
        published: session -> the tickers already published as of it (skipped).
    """

    to_run: dict[date, list[str]]
    published: dict[date, list[str]]


def plan_backfill(
    tickers: list[str],
    first_as_of: date,
    last_as_of: date,
    store: Store,
    calendar_for: Callable[[str], str],
) -> BackfillPlan:
    """What a backfill from `first_as_of` to `last_as_of` still has to do.

    Args:
        tickers: the symbols.
        first_as_of: the first session to replay.
        last_as_of: the last session to replay.
        store: where forecasts are published.
        calendar_for: a ticker's exchange calendar code.

    Returns:
        The plan, each dict ordered by session.
    """
    to_run: dict[date, list[str]] = {}
    published: dict[date, list[str]] = {}
    for ticker in tickers:
        for stamp in sessions_between(first_as_of, last_as_of, calendar_for(ticker)):
            session = stamp.date()
            done = store.forecast_file(ticker, session).is_file()
            (published if done else to_run).setdefault(session, []).append(ticker)
    return BackfillPlan(dict(sorted(to_run.items())), dict(sorted(published.items())))
