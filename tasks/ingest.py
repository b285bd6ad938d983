"""Stage 1: ingest daily prices into the Parquet store, validated, with a quality report."""

from datetime import UTC, date, datetime, timedelta

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext

from tasks.retries import stage
from tickercast import ingest
from tickercast.calendar import last_closed_session
from tickercast.quality import report_markdown
from tickercast.settings import Settings
from tickercast.sources import open_source, source_version
from tickercast.storage import Store
from tickercast.tickers import ticker_slug


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


@stage(
    retries=4,
    backoff_seconds=10,
    cache_policy=CacheKeyFnPolicy(cache_key_fn=ingest_cache_key) + TASK_SOURCE,
    cache_expiration=timedelta(days=1),
)
def ingest_prices(
    ticker: str, source: str, as_of: date | None, settings: Settings
) -> ingest.IngestResult:
    """Fetch what is new for a ticker, validate it and upsert it into its Parquet partition."""
    calendar = settings.calendar_for(ticker)
    result, report = ingest.ingest_prices(
        ticker, open_source(source, calendar), Store(settings.home), as_of, calendar
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
