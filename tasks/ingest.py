"""Stage 1: ingest daily prices into the Parquet store, validated, with a quality report."""

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta

from prefect import get_client, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy
from prefect.concurrency.sync import rate_limit
from prefect.context import TaskRunContext
from prefect.exceptions import ObjectAlreadyExists
from tickercast.tasks.retries import retry_if_source_unavailable, stage

from tickercast import ingest
from tickercast.calendar import last_closed_session
from tickercast.quality import report_markdown
from tickercast.settings import Settings
from tickercast.sources import open_source, source_version
from tickercast.storage import Store
from tickercast.tickers import ticker_slug

YAHOO_RATE_LIMIT = "yahoo-requests"


def ingest_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """Same ticker, source data, home and session to fetch up to: the same ingest. With no
    as_of, the session is the latest one closed now, so the next close makes a new key."""
    ticker, source, as_of, settings = (
        parameters[name] for name in ("ticker", "source", "as_of", "settings")
    )
    session = as_of or last_closed_session(datetime.now(UTC), settings.calendar_for(ticker))
    return "|".join(
        [ticker, source, source_version(source, ticker), str(session), str(settings.home)]
    )


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


@stage(
    retries=4,
    backoff_seconds=30,
    cache_policy=CacheKeyFnPolicy(cache_key_fn=ingest_cache_key) + TASK_SOURCE,
    cache_expiration=timedelta(days=1),
    retry_condition=retry_if_source_unavailable,
)
def ingest_prices(
    ticker: str, source: str, as_of: date | None, settings: Settings
) -> ingest.IngestResult:
    """Fetch what is new for a ticker, validate it and upsert it into its Parquet partition."""
    calendar = settings.calendar_for(ticker)
    paced = yahoo_rate_limit(settings) if source == "yfinance" else lambda: None
    result, report = ingest.ingest_prices(
        ticker, open_source(source, calendar, paced), Store(settings.home), as_of, calendar
    )
    if report is not None:  # None: a replay the store already covers, nothing fetched
        create_markdown_artifact(
            key=f"quality-{ticker_slug(ticker)}",
            markdown=report_markdown(report, as_of),
            description=f"{ticker}: data quality of the latest ingest",
        )
    get_run_logger().info(
        "%s: fetched %d sessions (%s to %s), %d added, %d changed, revision: %s; "
        "%d sessions stored to %s; findings %s",
        ticker,
        result.rows_fetched,
        result.fetched_start,
        result.fetched_end,
        result.rows_added,
        result.rows_changed,
        result.revision_reason or "no",
        result.sessions_stored,
        result.last_session,
        result.findings or "none",
    )
    return result
