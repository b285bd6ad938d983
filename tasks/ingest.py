"""Stage 1: ingest daily prices into the Parquet store."""

from datetime import date

from prefect import get_run_logger

from tasks.retries import stage
from tickercast import ingest
from tickercast.settings import Settings
from tickercast.sources import open_source
from tickercast.storage import Store, UpsertResult


@stage(retries=4, backoff_seconds=10)
def ingest_prices(ticker: str, source: str, as_of: date | None, settings: Settings) -> UpsertResult:
    """Fetch a ticker's daily prices and upsert them into its Parquet partition."""
    result = ingest.ingest_prices(
        ticker, open_source(source, settings.calendar), Store(settings.home), as_of
    )
    get_run_logger().info(
        "%s: %d sessions stored (%s to %s), %d added, %d changed",
        ticker,
        result.rows_total,
        result.first_session,
        result.last_session,
        result.rows_added,
        result.rows_changed,
    )
    return result
