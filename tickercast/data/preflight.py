"""What is wrong with a request that needs no server to tell, found before one starts.

A run's ingest finds the same faults, but only after the temporary Prefect server has
started (10-30 s) and the stage has logged them; a user who mistyped a folder or asked
a stored ticker from another source is told at once, once. The checks are the ones the
ingest itself makes (`replaced_source`, `PriceSource.check`), not copies of them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tickercast.data.ingest import replaced_source
from tickercast.data.sources import open_source
from tickercast.data.storage import Store
from tickercast.errors import InputError


@dataclass(frozen=True)
class Refusal:
    """A ticker the request cannot run, and why."""

    ticker: str
    error: InputError

    def line(self) -> str:
        """What the console prints of it: the ticker, the check and the error, once."""
        return f"{self.ticker:8} FAILED before the run: {type(self.error).__name__}: {self.error}"


def refusals(
    tickers: tuple[str, ...],
    source: str,
    store: Store,
    calendar_for: Callable[[str], str],
    replace_source: bool = False,
) -> list[Refusal]:
    """The tickers a request from `source` cannot run: stored from another source
    (unless it replaces them on purpose), not in the source, or in a file without a
    date or a close column.

    Args:
        tickers: the validated symbols.
        source: the request's source (`yfinance`, `sample` or a folder).
        store: the home whose stored prices and manifests are checked.
        calendar_for: each ticker's exchange calendar.
        replace_source: an ingest that replaces another source's prices on purpose.

    Returns:
        One refusal per ticker that cannot run, in the request's order.
    """
    found = []
    for ticker in tickers:
        opened = open_source(source, calendar_for(ticker))
        try:
            replaced_source(store, ticker, opened.name, replace_source)
            opened.check(ticker)
        except InputError as error:
            found.append(Refusal(ticker, error))
    return found
