"""Stage 1: ingest daily prices into the Parquet store, validated, with a quality report."""

from datetime import date, timedelta

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy

from tickercast.data import ingest
from tickercast.data.quality import report_markdown
from tickercast.data.sources import open_source
from tickercast.data.storage import Store
from tickercast.data.tickers import ticker_slug
from tickercast.settings import Settings
from tickercast.tasks.caching import ingest_cache_key
from tickercast.tasks.retries import retry_if_source_unavailable, stage
from tickercast.tasks.yahoo import yahoo_rate_limit


@stage(
    retries=4,
    backoff_seconds=30,
    cache_policy=CacheKeyFnPolicy(cache_key_fn=ingest_cache_key) + TASK_SOURCE,
    cache_expiration=timedelta(days=1),
    retry_condition=retry_if_source_unavailable,
)
def ingest_prices(
    ticker: str,
    source: str,
    as_of: date | None,
    settings: Settings,
    replace_source: bool = False,
) -> ingest.IngestResult:
    """Fetch what is new for a ticker, validate it and upsert it into its Parquet partition."""
    calendar = settings.calendar_for(ticker)
    paced = yahoo_rate_limit(settings) if source == "yfinance" else lambda: None
    result, report = ingest.ingest_prices(
        ticker,
        open_source(source, calendar, paced),
        Store(settings.home),
        as_of,
        calendar,
        source_timeout=settings.time_limits.source_call,
        replace_source=replace_source,
    )
    get_run_logger().info(result.summary())
    for warning in result.warnings():  # on the console too: it concerns their data
        get_run_logger().warning(warning)
    if result.findings:
        # An artifact only when the fetch found something: a clean ingest's report is
        # in reports/quality/ and the MLflow run, not one more of 480 keys an evening.
        create_markdown_artifact(
            key=f"quality-{ticker_slug(ticker)}",
            markdown=report_markdown(report, as_of),
            description=f"{ticker}: data quality of the latest ingest",
        )
    return result
