"""Yahoo's pace: a Prefect global rate limit shared by every process and Dask worker."""

from collections.abc import Callable
from contextlib import suppress

from prefect import get_client
from prefect.concurrency.sync import rate_limit
from prefect.exceptions import ObjectAlreadyExists

from tickercast.settings import Settings

YAHOO_RATE_LIMIT = "yahoo-requests"


def yahoo_rate_limit(settings: Settings) -> Callable[[], None]:
    """A function that blocks until the Prefect global rate limit lets one more request
    go to Yahoo.

    The limit is created, or updated to `settings.yahoo_requests_per_second`, on the
    Prefect server first, so that every process and Dask worker reporting to it shares
    it and a changed setting takes effect.
    """
    rate = settings.yahoo_requests_per_second
    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        # another worker may create it between upsert's read and its create
        client.upsert_global_concurrency_limit_by_name(
            YAHOO_RATE_LIMIT, limit=max(1, round(rate)), slot_decay_per_second=rate
        )
    return lambda: rate_limit(YAHOO_RATE_LIMIT, strict=True)
