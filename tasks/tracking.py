"""Open and close the ticker's MLflow run that the stages log to; load its champion."""

from prefect import get_run_logger
from prefect.runtime import flow_run

from tickercast.data.ingest import IngestResult
from tickercast.data.storage import Store
from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Champion
from tickercast.models.network_config import ModelConfig
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.model_store import model_store_for
from tickercast.tracking.runs import runs_for


@stage(retries=3, backoff_seconds=5)
def start_tracking_run(
    training: TrainingSet,
    config: ModelConfig,
    ingested: IngestResult,
    settings: Settings,
    parent_run_id: str | None = None,
) -> str:
    """Open the ticker's MLflow run with its parameters, data lineage and quality report."""
    prices_file = Store(settings.home).prices_file(training.ticker)
    record = run_record.ticker_run(
        training, config, ingested, settings, prices_file, str(flow_run.get_id())
    )
    runs = runs_for(settings)
    run_id = runs.start_run(training.ticker, training.as_of, record, parent_run_id=parent_run_id)
    if ingested.quality_report is not None:
        runs.log_file(run_id, ingested.quality_report, "quality")
    return run_id


@stage(retries=3, backoff_seconds=5)
def end_tracking_run(run_id: str, succeeded: bool, settings: Settings) -> None:
    """Close the ticker's MLflow run as FINISHED or FAILED."""
    runs_for(settings).end_run(run_id, succeeded)


@stage(retries=3, backoff_seconds=5)
def load_champion(ticker: str, settings: Settings) -> Champion | None:
    """Load the ticker's registered champion (alias `champion`), if there is one."""
    champion = model_store_for(settings).load_champion(ticker)
    if champion is not None and champion.unreadable:  # e.g. registered by an older version
        get_run_logger().warning(
            "%s: champion v%s is not compared, and keeps the alias until a new model beats "
            "naive: %s",
            ticker,
            champion.version,
            champion.unreadable,
        )
    return champion
