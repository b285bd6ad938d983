"""Ingest: fetch a ticker's daily bars from a source and upsert them into the store."""

from datetime import date

from tickercast.sources import PriceSource
from tickercast.storage import Store, UpsertResult


def ingest_prices(
    ticker: str, source: PriceSource, store: Store, as_of: date | None
) -> UpsertResult:
    """Fetch the ticker's history up to `as_of` and merge it into its partition.

    Args:
        ticker: a validated symbol.
        source: where the prices come from.
        store: where they go.
        as_of: the last session to fetch; None fetches everything final.

    Returns:
        What changed in the stored partition.

    Raises:
        NoPricesError, PriceDataError: the source has nothing usable; nothing is stored.
    """
    return store.upsert_prices(ticker, source.fetch(ticker, start=None, end=as_of))
